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
//!   Snapshot chunks and manifests are written in this format; change-log batches of format 2
//!   still load.
//! * Format 3 (this build's change-log batches): the same frame around the compact payload of
//!   the `log_batch` module, written and read by hand (for upserts of one email and six
//!   attributes, 117 bytes a profile against MessagePack's 531, and faster to write;
//!   recorded events about 50 bytes against 125).
//!
//! The checksum: frames this build writes set the high bit of the format byte
//! ([`FAST_CHECKSUM`]) and carry the low 32 bits of XXH64 (seed 0) of the payload; frames
//! without that bit, as earlier builds wrote them, carry the CRC-32 (IEEE) of the payload and
//! still load. XXH64 takes 8 bytes a step, where CRC-32 in wasm (no CRC instructions) takes
//! one byte a table lookup: checking a reload's 10 MB of snapshot chunks was several
//! percent of opening a database.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::StorageError;
use crate::engine::Change;

/// The format version of the snapshot chunks and manifests this build writes.
pub const FORMAT: u8 = 2;
/// The format version of the change-log batches this build writes.
pub const BATCH_FORMAT: u8 = 3;
/// The first stored format: JSON text batches.
pub const LEGACY_JSON_FORMAT: u32 = 1;

/// Magic of a change-log batch frame.
pub const BATCH_MAGIC: [u8; 4] = *b"CDPL";
/// Magic of a snapshot chunk frame.
pub const CHUNK_MAGIC: [u8; 4] = *b"CDPS";
/// Magic of a snapshot manifest frame.
pub const MANIFEST_MAGIC: [u8; 4] = *b"CDPM";

/// Set in the format byte of a frame whose checksum is XXH64's (see the module docs).
pub const FAST_CHECKSUM: u8 = 0x80;

const HEADER_LEN: usize = 9;

#[derive(Deserialize)]
struct JsonBatch {
    format: u32,
    changes: Vec<Change>,
}

/// Encodes a batch of changes as a format-3 frame.
pub fn encode_batch(changes: &[Change]) -> Result<Vec<u8>, StorageError> {
    // About 16 bytes a change in a batch of upserts: sized up front, the frame is rarely
    // copied as it grows.
    let bytes = start_frame(
        BATCH_MAGIC,
        BATCH_FORMAT | FAST_CHECKSUM,
        changes.len().saturating_mul(16),
    );
    let mut bytes = super::log_batch::encode_into(bytes, changes)?;
    seal(&mut bytes);
    Ok(bytes)
}

/// Decodes a batch frame of format 3, or of format 2 as earlier builds wrote them.
pub fn decode_batch(bytes: &[u8]) -> Result<Vec<Change>, StorageError> {
    match open_frame(BATCH_MAGIC, bytes)? {
        (BATCH_FORMAT, payload) => super::log_batch::decode(payload),
        (format, payload) => decode_messagepack(format, payload),
    }
}

/// Decodes a batch of the first stored format (JSON text written by format 1).
pub fn decode_legacy_batch(text: &str) -> Result<Vec<Change>, StorageError> {
    let batch: JsonBatch = crate::formats::from_stored_json(text)
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
    let mut bytes = start_frame(magic, FORMAT | FAST_CHECKSUM, 256);
    super::msgpack::encode_into(&mut bytes, value)?;
    seal(&mut bytes);
    Ok(bytes)
}

/// A frame's header, its checksum left for [`seal`], with room for `payload` bytes after it.
fn start_frame(magic: [u8; 4], format: u8, payload: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_LEN.saturating_add(payload));
    bytes.extend_from_slice(&magic);
    bytes.push(format);
    bytes.extend_from_slice(&[0; 4]);
    bytes
}

/// Writes the checksum of a frame's payload into its header.
fn seal(bytes: &mut [u8]) {
    let checksum = fast_checksum(bytes.get(HEADER_LEN..).unwrap_or_default());
    if let Some(slot) = bytes.get_mut(5..HEADER_LEN) {
        slot.copy_from_slice(&checksum.to_le_bytes());
    }
}

/// The checksum of frames marked [`FAST_CHECKSUM`].
fn fast_checksum(payload: &[u8]) -> u32 {
    xxhash_rust::xxh64::xxh64(payload, 0) as u32
}

/// CRC-32 (IEEE, reflected, as zlib computes it): the checksum of frames earlier builds
/// wrote, read a byte at a time through a table built at compile time.
fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut index = 0;
        while index < 256 {
            let mut value = index as u32;
            let mut bit = 0;
            while bit < 8 {
                value = if value & 1 == 1 {
                    (value >> 1) ^ 0xEDB8_8320
                } else {
                    value >> 1
                };
                bit += 1;
            }
            table[index] = value;
            index += 1;
        }
        table
    };
    !bytes.iter().fold(!0u32, |crc, byte| {
        TABLE[usize::from((crc as u8) ^ byte)] ^ (crc >> 8)
    })
}

/// Checks a frame's kind and checksum; gives its format and payload.
fn open_frame(magic: [u8; 4], bytes: &[u8]) -> Result<(u8, &[u8]), StorageError> {
    let corrupt = |reason: &str| StorageError::Corrupt(reason.to_owned());
    let (header, payload) = bytes
        .split_at_checked(HEADER_LEN)
        .ok_or_else(|| corrupt("a stored record is truncated"))?;
    let (found_magic, rest) = header.split_at(4);
    if found_magic != magic {
        return Err(corrupt("a stored record has the wrong kind"));
    }
    let (format, stored) = rest.split_at(1);
    let format = format.first().copied().unwrap_or_default();
    let mut checksum = [0; 4];
    checksum.copy_from_slice(stored);
    let computed = if format & FAST_CHECKSUM != 0 {
        fast_checksum(payload)
    } else {
        crc32(payload)
    };
    if computed != u32::from_le_bytes(checksum) {
        return Err(corrupt("a stored record fails its checksum"));
    }
    Ok((format & !FAST_CHECKSUM, payload))
}

/// Checks and decodes a frame written by [`encode_frame`] with the same `magic`.
pub fn decode_frame<T: DeserializeOwned>(magic: [u8; 4], bytes: &[u8]) -> Result<T, StorageError> {
    let (format, payload) = open_frame(magic, bytes)?;
    decode_messagepack(format, payload)
}

/// The snapshot manifests among stored manifest frames, newest first; a frame that does not
/// decode is left out (its snapshot cannot be trusted anyway).
pub fn manifests_newest_first<'a>(
    frames: impl Iterator<Item = &'a [u8]>,
) -> Vec<super::SnapshotManifest> {
    let mut manifests: Vec<super::SnapshotManifest> = frames
        .filter_map(|bytes| decode_frame(MANIFEST_MAGIC, bytes).ok())
        .collect();
    manifests.sort_by_key(|manifest| std::cmp::Reverse(manifest.offset));
    manifests
}

/// Decodes the MessagePack payload of a format-2 frame; any other format is unknown here.
fn decode_messagepack<T: DeserializeOwned>(format: u8, payload: &[u8]) -> Result<T, StorageError> {
    if format != FORMAT {
        return Err(StorageError::Corrupt(format!(
            "unknown record format [{format}]"
        )));
    }
    crate::formats::from_msgpack(payload).map_err(StorageError::Corrupt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Operation;
    use crate::model::{ProfileId, Timestamp, Value};

    /// A batch touching every operation the compact payload writes by hand, and some it
    /// stores as MessagePack, with fixed ids: the content of the batch fixtures.
    fn fixture_changes() -> Vec<Change> {
        use crate::identity::Identifier;
        use crate::model::{SourceId, TagKind};
        use std::collections::{BTreeMap, BTreeSet};
        let first = ProfileId::from(uuid::Uuid::from_u128(
            0x0123_4567_89ab_4def_8123_4567_89ab_cdef,
        ));
        let second = ProfileId::from(uuid::Uuid::from_u128(
            0xfedc_ba98_7654_4321_8fed_cba9_8765_4321,
        ));
        let crm = SourceId::new("crm");
        let values = [
            Value::String("Zoë, København".to_owned()),
            Value::Integer(-9_223_372_036_854_775_807),
            Value::Number(12.5),
            Value::Boolean(true),
            Value::Boolean(false),
            Value::Date(chrono::NaiveDate::from_ymd_opt(1987, 6, 5).unwrap()),
            Value::DateTime(Timestamp::from_micros(1_700_000_000_123_456)),
            Value::Set(BTreeSet::from(["a".to_owned(), "b".to_owned()])),
            Value::List(vec![Value::Integer(1), Value::String(String::new())]),
            Value::Object(BTreeMap::from([(
                "street".to_owned(),
                Value::Object(BTreeMap::from([("no".to_owned(), Value::Integer(7))])),
            )])),
        ];
        let mut operations = vec![
            Operation::ProfileCreated { profile: first },
            Operation::IdentifierAdded {
                profile: first,
                identifier: Identifier::normalized("email", "zoe@example.com"),
            },
            Operation::IdentifierAdded {
                profile: first,
                identifier: Identifier::normalized("phone", "+4512345678"),
            },
            Operation::ProfileCreated { profile: second },
            Operation::IdentifierAdded {
                profile: second,
                identifier: Identifier::normalized("email", "ann@example.com"),
            },
        ];
        for (n, value) in values.into_iter().enumerate() {
            operations.push(Operation::AttributeSet {
                profile: if n % 3 == 2 { second } else { first },
                source: if n % 2 == 0 {
                    SourceId::default_source()
                } else {
                    crm.clone()
                },
                key: format!("key_{}", n % 4),
                value,
            });
        }
        operations.extend([
            Operation::TagAdded {
                profile: first,
                kind: TagKind::Manual,
                tag: "vip".to_owned(),
            },
            Operation::ConsentSet {
                profile: second,
                purpose: "email".to_owned(),
                value: Value::Boolean(true),
            },
            Operation::AttributeRemoved {
                profile: first,
                source: crm,
                key: "key_1".to_owned(),
            },
            Operation::IdentifierRemoved {
                profile: first,
                identifier: Identifier::normalized("phone", "+4512345678"),
            },
            Operation::Ticked,
        ]);
        operations
            .into_iter()
            .enumerate()
            .map(|(n, operation)| Change {
                offset: 1_000 + n as u64 + u64::from(n == 7) * 5,
                at: Timestamp::from_micros(1_700_000_000_000_000 + [0, 0, 3, -2][n % 4] * 1_000),
                operation,
            })
            .collect()
    }

    /// Recorded events of two profiles with every optional field present and absent, fixed
    /// ids and times: the content of `tests/fixtures/log-format-3-events.hex`, written by
    /// the build that stored events as MessagePack inside format-3 batches.
    fn event_changes() -> Vec<Change> {
        use crate::model::{Event, EventContext, EventId, EventMode, Properties};
        use std::rc::Rc;
        let profiles = [
            ProfileId::from(uuid::Uuid::from_u128(
                0x0123_4567_89ab_4def_8123_4567_89ab_cdef,
            )),
            ProfileId::from(uuid::Uuid::from_u128(
                0xfedc_ba98_7654_4321_8fed_cba9_8765_4321,
            )),
        ];
        let contexts = [
            EventContext::Web,
            EventContext::Ecommerce,
            EventContext::Iot,
        ];
        let at = 1_700_000_000_000_000;
        (0..6u64)
            .map(|n| {
                let i = n as usize;
                let mut properties = Properties::new();
                if n % 3 != 2 {
                    properties.insert("page".to_owned(), Value::String(format!("/shop/{n}")));
                    properties.insert("amount".to_owned(), Value::Number(n as f64 * 2.5));
                }
                if n == 4 {
                    properties.insert("items".to_owned(), Value::List(vec![Value::Integer(1)]));
                }
                let event = Event {
                    id: "6f1c2a4e-3b5d-4e7f-9a0b-1c2d3e4f5a6b"
                        .replacen('6', &n.to_string(), 1)
                        .parse::<EventId>()
                        .unwrap(),
                    profile: profiles[i % 2],
                    name: ["purchase", "visit"][i % 2].into(),
                    context: contexts[i % 3],
                    mode: if n == 3 {
                        EventMode::Passive
                    } else {
                        EventMode::Active
                    },
                    happened: Timestamp::from_micros(at - n as i64 * 86_400_000_000),
                    sent: (n % 2 == 0).then(|| Timestamp::from_micros(at - 1_000)),
                    received: Timestamp::from_micros(at + n as i64),
                    properties,
                    schema_version: (n == 1).then(|| "2.1".to_owned()),
                };
                Change {
                    offset: 40 + n,
                    at: Timestamp::from_micros(at + n as i64),
                    operation: Operation::EventRecorded {
                        event: Rc::new(event),
                    },
                }
            })
            .collect()
    }

    fn from_hex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
            .collect()
    }

    #[test]
    fn batches_written_by_format_2_still_decode() {
        let bytes = from_hex(include_str!("../../tests/fixtures/log-format-2.hex"));
        assert_eq!(bytes[4], 2);
        assert_eq!(decode_batch(&bytes).unwrap(), fixture_changes());
    }

    /// The MessagePack writer of stored records writes, for every operation, the payload
    /// `rmp_serde` wrote into the format-2 fixture.
    #[test]
    fn messagepack_frames_carry_the_bytes_earlier_builds_wrote() {
        let stored = from_hex(include_str!("../../tests/fixtures/log-format-2.hex"));
        let written = encode_frame(BATCH_MAGIC, &fixture_changes()).unwrap();
        assert_eq!(written[HEADER_LEN..], stored[HEADER_LEN..]);
        assert_eq!(
            decode_frame::<Vec<Change>>(BATCH_MAGIC, &written).unwrap(),
            fixture_changes()
        );
    }

    #[test]
    fn manifests_come_newest_first_without_the_ones_that_do_not_decode() {
        let manifest = |offset| super::super::SnapshotManifest {
            offset,
            chunks: 1,
            log_start: 0,
        };
        let mut torn = encode_frame(MANIFEST_MAGIC, &manifest(9)).unwrap();
        torn.truncate(torn.len() - 1);
        let frames = [
            encode_frame(MANIFEST_MAGIC, &manifest(4)).unwrap(),
            torn,
            encode_frame(MANIFEST_MAGIC, &manifest(7)).unwrap(),
            encode_frame(CHUNK_MAGIC, &manifest(8)).unwrap(),
            encode_frame(MANIFEST_MAGIC, &manifest(1)).unwrap(),
        ];
        let offsets: Vec<u64> = manifests_newest_first(frames.iter().map(Vec::as_slice))
            .iter()
            .map(|manifest| manifest.offset)
            .collect();
        assert_eq!(offsets, [7, 4, 1]);
    }

    #[test]
    fn events_written_as_messagepack_inside_format_3_batches_still_decode() {
        let bytes = from_hex(include_str!("../../tests/fixtures/log-format-3-events.hex"));
        assert_eq!(bytes[4], BATCH_FORMAT);
        assert_eq!(decode_batch(&bytes).unwrap(), event_changes());
    }

    #[test]
    fn events_round_trip() {
        let changes = event_changes();
        assert_eq!(
            decode_batch(&encode_batch(&changes).unwrap()).unwrap(),
            changes
        );
    }

    /// About 50 bytes an event against MessagePack's 125, most of it the event's and its
    /// profile's ids.
    #[test]
    fn a_batch_of_events_is_a_fraction_of_its_messagepack() {
        use crate::model::{Event, EventContext, EventId, EventMode, Properties};
        let profiles: Vec<ProfileId> = (0..20).map(|_| ProfileId::random()).collect();
        let at = 1_700_000_000_000_000;
        let changes: Vec<Change> = (0..200u64)
            .map(|n| {
                let event = Event {
                    id: EventId::random(),
                    profile: profiles[(n % 20) as usize],
                    name: if n % 5 == 0 { "purchase" } else { "page_view" }.into(),
                    context: EventContext::Web,
                    mode: EventMode::Active,
                    happened: Timestamp::from_micros(at - n as i64 * 1_000_000),
                    sent: None,
                    received: Timestamp::from_micros(at),
                    properties: Properties::from([(
                        "sequence".to_owned(),
                        Value::Integer(n as i64),
                    )]),
                    schema_version: None,
                };
                Change {
                    offset: n,
                    at: Timestamp::from_micros(at),
                    operation: Operation::EventRecorded {
                        event: std::rc::Rc::new(event),
                    },
                }
            })
            .collect();
        let compact = encode_batch(&changes).unwrap();
        let messagepack = encode_frame(BATCH_MAGIC, &changes).unwrap();
        assert!(
            compact.len() * 2 < messagepack.len(),
            "{} against {}",
            compact.len(),
            messagepack.len()
        );
        assert_eq!(decode_batch(&compact).unwrap(), changes);
    }

    /// The fixture was written with a CRC-32: it still reads, and this build writes the same
    /// payload behind the XXH64 checksum.
    #[test]
    fn format_3_batches_are_written_and_read_as_the_fixture_says() {
        let bytes = from_hex(include_str!("../../tests/fixtures/log-format-3.hex"));
        assert_eq!(bytes[4], BATCH_FORMAT);
        assert_eq!(decode_batch(&bytes).unwrap(), fixture_changes());
        let written = encode_batch(&fixture_changes()).unwrap();
        assert_eq!(written[4], BATCH_FORMAT | FAST_CHECKSUM);
        assert_eq!(written[HEADER_LEN..], bytes[HEADER_LEN..]);
        assert_eq!(
            written[5..HEADER_LEN],
            fast_checksum(&bytes[HEADER_LEN..]).to_le_bytes()
        );
        assert_eq!(decode_batch(&written).unwrap(), fixture_changes());
    }

    /// Both checksums against published values: CRC-32 of "123456789" and XXH64 of the
    /// empty input, and a frame with either checksum fails when one bit of it flips.
    #[test]
    fn checksums_match_their_published_values_and_catch_a_flipped_bit() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(xxhash_rust::xxh64::xxh64(b"", 0), 0xEF46_DB37_51D8_E999);
        let fast = encode_batch(&fixture_changes()).unwrap();
        let legacy = from_hex(include_str!("../../tests/fixtures/log-format-3.hex"));
        for frame in [fast, legacy] {
            for bit in [0, 7] {
                let mut flipped = frame.clone();
                let last = flipped.len() - 1;
                flipped[last] ^= 1 << bit;
                assert_eq!(
                    decode_batch(&flipped).unwrap_err().code(),
                    "storage.corrupt"
                );
            }
            let mut checksum_kind = frame.clone();
            checksum_kind[4] ^= FAST_CHECKSUM;
            assert!(decode_batch(&checksum_kind).is_err());
        }
    }

    #[test]
    fn a_batch_of_upserts_is_a_fraction_of_its_messagepack() {
        let changes: Vec<Change> = (0..100u64)
            .flat_map(|n| {
                let profile = ProfileId::random();
                let at = Timestamp::from_millis(1_000);
                [
                    Operation::ProfileCreated { profile },
                    Operation::IdentifierAdded {
                        profile,
                        identifier: crate::identity::Identifier::normalized(
                            "email",
                            &format!("profile{n}@example.com"),
                        ),
                    },
                    Operation::AttributeSet {
                        profile,
                        source: crate::model::SourceId::default_source(),
                        key: "plan".to_owned(),
                        value: Value::String("pro".to_owned()),
                    },
                ]
                .map(|operation| (at, operation))
            })
            .enumerate()
            .map(|(offset, (at, operation))| Change {
                offset: offset as u64,
                at,
                operation,
            })
            .collect();
        let compact = encode_batch(&changes).unwrap();
        let messagepack = encode_frame(BATCH_MAGIC, &changes).unwrap();
        assert!(
            compact.len() * 3 < messagepack.len(),
            "{} against {}",
            compact.len(),
            messagepack.len()
        );
        assert_eq!(decode_batch(&compact).unwrap(), changes);
    }

    #[test]
    fn batches_naming_many_texts_and_profiles_round_trip() {
        let profiles: Vec<ProfileId> = (0..5).map(|_| ProfileId::random()).collect();
        let changes: Vec<Change> = (0..200u64)
            .map(|n| Change {
                offset: n,
                at: Timestamp::from_millis(n as i64),
                operation: Operation::AttributeSet {
                    profile: profiles[(n % 5) as usize],
                    source: crate::model::SourceId::new(format!("source_{}", n % 7)),
                    key: format!("key_{}", n % 40),
                    value: Value::Integer(n as i64),
                },
            })
            .collect();
        assert_eq!(
            decode_batch(&encode_batch(&changes).unwrap()).unwrap(),
            changes
        );
    }

    #[test]
    fn damaged_format_3_payloads_are_errors_never_panics() {
        for changes in [fixture_changes(), event_changes()] {
            damaged_payloads_are_errors(&encode_batch(&changes).unwrap());
        }
    }

    fn damaged_payloads_are_errors(bytes: &[u8]) {
        let resealed = |mut bytes: Vec<u8>| {
            seal(&mut bytes);
            bytes
        };
        for end in HEADER_LEN..bytes.len() {
            let truncated = resealed(bytes[..end].to_vec());
            assert_eq!(
                decode_batch(&truncated).unwrap_err().code(),
                "storage.corrupt"
            );
        }
        for at in HEADER_LEN..bytes.len() {
            for bit in [0x01, 0x10, 0x80] {
                let mut flipped = bytes.to_vec();
                flipped[at] ^= bit;
                // Read as far as it goes: an error, or changes that differ; never a panic.
                let _ = decode_batch(&resealed(flipped));
            }
        }
        let mut extra = bytes.to_vec();
        extra.push(0);
        assert_eq!(
            decode_batch(&resealed(extra)).unwrap_err().code(),
            "storage.corrupt"
        );
    }

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
