use thiserror::Error;

use crate::events::EventError;
use crate::identity::IdentityError;
use crate::model::{ModelError, ProfileId};
use crate::schema::SchemaError;
use crate::segments::SegmentError;
use crate::storage::StorageError;
use crate::traits::TraitError;

/// Why the engine refused or could not complete a command.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The command's identifiers could not be resolved.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The command's attributes do not fit the schema.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// A raw id or timestamp in the command is malformed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// An event or event query is not acceptable.
    #[error(transparent)]
    Event(#[from] EventError),
    /// A computed trait definition is not acceptable or names no trait.
    #[error(transparent)]
    Trait(#[from] TraitError),
    /// A segment definition or rule is not acceptable or names no segment.
    #[error(transparent)]
    Segment(#[from] SegmentError),
    /// The command is not valid JSON of a known command shape.
    #[error("invalid command: {0}")]
    InvalidCommand(String),
    /// The command names a profile that does not exist.
    #[error("profile `{0}` does not exist")]
    UnknownProfile(ProfileId),
    /// The stored change log does not replay: it names an unknown profile or repeats one.
    #[error("the change log is inconsistent at offset {offset}: {reason}")]
    CorruptLog {
        /// The offset of the change that does not apply.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// A stored snapshot does not load: its chunks do not add up or repeat a profile.
    #[error("the snapshot is inconsistent: {0}")]
    CorruptSnapshot(String),
    /// An import document was refused; nothing of it was applied.
    #[error(transparent)]
    Import(#[from] super::ImportError),
    /// Persisting or loading failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl EngineError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Identity(inner) => inner.code(),
            Self::Schema(inner) => inner.code(),
            Self::Model(inner) => inner.code(),
            Self::Event(inner) => inner.code(),
            Self::Trait(inner) => inner.code(),
            Self::Segment(inner) => inner.code(),
            Self::InvalidCommand(_) => "engine.invalid_command",
            Self::UnknownProfile(_) => "engine.unknown_profile",
            Self::CorruptLog { .. } => "engine.corrupt_log",
            Self::CorruptSnapshot(_) => "storage.corrupt",
            Self::Import(inner) => inner.code(),
            Self::Storage(inner) => inner.code(),
        }
    }
}
