//! The stored form of one batch of changes, versioned so later formats can migrate it.

use serde::{Deserialize, Serialize};

use super::StorageError;
use crate::engine::Change;

/// The format version this build writes.
pub const FORMAT: u32 = 1;

#[derive(Serialize)]
struct BatchOut<'a> {
    format: u32,
    changes: &'a [Change],
}

#[derive(Deserialize)]
struct BatchIn {
    format: u32,
    changes: Vec<Change>,
}

/// Encodes a batch of changes.
pub fn encode_batch(changes: &[Change]) -> Result<String, StorageError> {
    serde_json::to_string(&BatchOut {
        format: FORMAT,
        changes,
    })
    .map_err(|error| StorageError::Corrupt(error.to_string()))
}

/// Decodes a batch written by [`encode_batch`] of this or an earlier format.
pub fn decode_batch(text: &str) -> Result<Vec<Change>, StorageError> {
    let batch: BatchIn =
        serde_json::from_str(text).map_err(|error| StorageError::Corrupt(error.to_string()))?;
    if batch.format != FORMAT {
        return Err(StorageError::Corrupt(format!(
            "unknown batch format {}",
            batch.format
        )));
    }
    Ok(batch.changes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Operation;
    use crate::model::{ProfileId, Timestamp};

    #[test]
    fn batch_round_trips() {
        let changes = vec![Change {
            offset: 7,
            at: Timestamp::from_millis(42),
            operation: Operation::ProfileCreated {
                profile: ProfileId::random(),
            },
        }];
        assert_eq!(
            decode_batch(&encode_batch(&changes).unwrap()).unwrap(),
            changes
        );
    }

    #[test]
    fn truncated_or_foreign_batches_are_corrupt() {
        let text = encode_batch(&[]).unwrap();
        assert_eq!(
            decode_batch(&text[..text.len() - 1]).unwrap_err().code(),
            "storage.corrupt"
        );
        assert_eq!(
            decode_batch(r#"{"format":99,"changes":[]}"#)
                .unwrap_err()
                .code(),
            "storage.corrupt"
        );
    }
}
