//! The stored forms of change-log batches and snapshot records, versioned so every earlier
//! format still loads.
//!
//! * Format 1 (the first stored format): a batch is JSON text `{"format":1,"changes":[…]}`.
//!   It is read, never written: a database written by format 1 opens and its batches replay.
//! * Format 2 (this build): every record is a binary frame
//!   `magic (4 bytes) | format (1 byte) | CRC-32 of the payload (4 bytes LE) | payload`,
//!   the payload being MessagePack with structs as arrays (compact: no field names per
//!   record; self-describing, so serde shapes such as internally tagged enums round-trip; a
//!   field appended at the end of a struct with `#[serde(default)]` still reads old records).
//!   The checksum makes a torn or corrupted record an error, never silently different data.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::StorageError;
use crate::engine::Change;

/// The format version this build writes.
pub const FORMAT: u8 = 2;
/// The first stored format: JSON text batches.
pub const LEGACY_JSON_FORMAT: u32 = 1;

/// Magic of a change-log batch frame.
pub const BATCH_MAGIC: [u8; 4] = *b"CDPL";
/// Magic of a snapshot chunk frame.
pub const CHUNK_MAGIC: [u8; 4] = *b"CDPS";
/// Magic of a snapshot manifest frame.
pub const MANIFEST_MAGIC: [u8; 4] = *b"CDPM";

const HEADER_LEN: usize = 9;

#[derive(Deserialize)]
struct JsonBatch {
    format: u32,
    changes: Vec<Change>,
}

/// Encodes a batch of changes as a format-2 frame.
pub fn encode_batch(changes: &[Change]) -> Result<Vec<u8>, StorageError> {
    // About 80 bytes a change: sized up front, the frame is not copied as it grows.
    encode_frame_sized(BATCH_MAGIC, &changes, changes.len().saturating_mul(80))
}

/// Decodes a format-2 batch frame.
pub fn decode_batch(bytes: &[u8]) -> Result<Vec<Change>, StorageError> {
    decode_frame(BATCH_MAGIC, bytes)
}

/// Decodes a batch of the first stored format (JSON text written by format 1).
pub fn decode_legacy_batch(text: &str) -> Result<Vec<Change>, StorageError> {
    let batch: JsonBatch = crate::formats::from_json_str(text)
        .map_err(|error| StorageError::Corrupt(error.to_string()))?;
    if batch.format != LEGACY_JSON_FORMAT {
        return Err(StorageError::Corrupt(format!(
            "unknown batch format {}",
            batch.format
        )));
    }
    Ok(batch.changes)
}

/// Frames `value` with `magic`, the format and a checksum.
pub fn encode_frame<T: Serialize + ?Sized>(
    magic: [u8; 4],
    value: &T,
) -> Result<Vec<u8>, StorageError> {
    encode_frame_sized(magic, value, 256)
}

/// [`encode_frame`] into a buffer of `capacity` bytes to start with.
fn encode_frame_sized<T: Serialize + ?Sized>(
    magic: [u8; 4],
    value: &T,
    capacity: usize,
) -> Result<Vec<u8>, StorageError> {
    let mut bytes = Vec::with_capacity(capacity.max(HEADER_LEN + 1));
    bytes.extend_from_slice(&magic);
    bytes.push(FORMAT);
    bytes.extend_from_slice(&[0; 4]);
    rmp_serde::encode::write(&mut bytes, value)
        .map_err(|error| StorageError::Failed(format!("encoding failed: {error}")))?;
    let checksum = crc32fast::hash(bytes.get(HEADER_LEN..).unwrap_or_default());
    if let Some(slot) = bytes.get_mut(5..HEADER_LEN) {
        slot.copy_from_slice(&checksum.to_le_bytes());
    }
    Ok(bytes)
}

/// Checks and decodes a frame written by [`encode_frame`] with the same `magic`.
pub fn decode_frame<T: DeserializeOwned>(magic: [u8; 4], bytes: &[u8]) -> Result<T, StorageError> {
    let corrupt = |reason: &str| StorageError::Corrupt(reason.to_owned());
    let (header, payload) = bytes
        .split_at_checked(HEADER_LEN)
        .ok_or_else(|| corrupt("a stored record is truncated"))?;
    let (found_magic, rest) = header.split_at(4);
    if found_magic != magic {
        return Err(corrupt("a stored record has the wrong kind"));
    }
    let (format, stored) = rest.split_at(1);
    if format != [FORMAT] {
        return Err(StorageError::Corrupt(format!(
            "unknown record format {format:?}"
        )));
    }
    let mut checksum = [0; 4];
    checksum.copy_from_slice(stored);
    if crc32fast::hash(payload) != u32::from_le_bytes(checksum) {
        return Err(corrupt("a stored record fails its checksum"));
    }
    crate::formats::from_msgpack(payload).map_err(StorageError::Corrupt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Operation;
    use crate::model::{ProfileId, Timestamp, Value};

    fn changes() -> Vec<Change> {
        let profile = ProfileId::random();
        vec![
            Change {
                offset: 7,
                at: Timestamp::from_millis(42),
                operation: Operation::ProfileCreated { profile },
            },
            Change {
                offset: 8,
                at: Timestamp::from_millis(42),
                operation: Operation::AttributeSet {
                    profile,
                    source: crate::model::SourceId::default_source(),
                    key: "visits".to_owned(),
                    value: Value::Integer(3),
                },
            },
        ]
    }

    #[test]
    fn binary_batch_round_trips() {
        let changes = changes();
        assert_eq!(
            decode_batch(&encode_batch(&changes).unwrap()).unwrap(),
            changes
        );
    }

    #[test]
    fn declared_attributes_round_trip_with_and_without_optional_fields() {
        let plain =
            crate::schema::AttributeDefinition::new("plan", crate::schema::AttributeType::String);
        let mut full = plain.clone();
        full.field_max_lengths.insert("street".to_owned(), 500);
        full.label = Some("Plan".to_owned());
        full.immutable = true;
        for definition in [plain, full] {
            let changes = vec![Change {
                offset: 0,
                at: Timestamp::from_millis(1),
                operation: Operation::AttributeDeclared {
                    source: crate::model::SourceId::default_source(),
                    definition: Box::new(definition),
                },
            }];
            assert_eq!(
                decode_batch(&encode_batch(&changes).unwrap()).unwrap(),
                changes
            );
        }
    }

    #[test]
    fn binary_batch_is_smaller_than_its_json() {
        let changes = changes();
        let json = serde_json::to_string(&changes).unwrap();
        assert!(encode_batch(&changes).unwrap().len() < json.len());
    }

    #[test]
    fn first_format_json_batches_still_decode() {
        let changes = changes();
        let text = format!(
            r#"{{"format":1,"changes":{}}}"#,
            serde_json::to_string(&changes).unwrap()
        );
        assert_eq!(decode_legacy_batch(&text).unwrap(), changes);
    }

    #[test]
    fn log_written_by_the_first_format_replays() {
        let changes: Vec<Change> = include_str!("../../tests/fixtures/log-format-1.jsonl")
            .lines()
            .flat_map(|line| decode_legacy_batch(line).unwrap())
            .collect();
        let engine = crate::engine::Engine::replay(
            crate::identity::IdentityConfig::default(),
            std::rc::Rc::new(crate::engine::SystemClock),
            changes,
        )
        .unwrap();
        assert_eq!(engine.profile_count(), 1);
        assert_eq!(engine.next_offset(), 4);
    }

    #[test]
    fn truncated_flipped_or_foreign_records_are_corrupt() {
        let bytes = encode_batch(&changes()).unwrap();
        let truncated = bytes.get(..bytes.len() - 1).unwrap();
        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        for bad in [truncated, &flipped, &bytes[..3], b"CDPS\x02\0\0\0\0"] {
            assert_eq!(decode_batch(bad).unwrap_err().code(), "storage.corrupt");
        }
        assert_eq!(
            decode_legacy_batch(r#"{"format":99,"changes":[]}"#)
                .unwrap_err()
                .code(),
            "storage.corrupt"
        );
    }
}
