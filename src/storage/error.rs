use thiserror::Error;

/// Why the change log could not be stored or read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StorageError {
    /// This environment has no such storage (no IndexedDB in Node).
    #[error("storage is not available here: {0}")]
    Unavailable(String),
    /// The browser (or the disk) refused the write for lack of space; nothing was kept.
    #[error("the storage quota is exceeded")]
    QuotaExceeded,
    /// Another tab holds the database open with an older version, so it cannot be upgraded;
    /// close the other tabs (or reload them) and open again.
    #[error("the database is blocked by another open connection")]
    Blocked,
    /// The database was closed or deleted under the engine (another tab deleted or upgraded
    /// it, or the browser closed it); open it again.
    #[error("the database was closed")]
    Closed,
    /// A stored record does not decode (torn, corrupted, or of an unknown format).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The change log no longer holds the offsets asked for: a snapshot replaced them.
    #[error("changes before offset {oldest} were compacted away; offset {requested} has expired")]
    Expired {
        /// The offset asked for.
        requested: u64,
        /// The oldest offset still served.
        oldest: u64,
    },
    /// Another writer stored changes at the same offsets first (two tabs wrote at once
    /// without the writer lock); nothing of this write was kept. Catch up and retry.
    #[error("another writer stored these offsets first")]
    Conflict,
    /// Any other failure of the backend, with the backend's words.
    #[error("storage failed: {0}")]
    Failed(String),
}

impl StorageError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "storage.unavailable",
            Self::QuotaExceeded => "storage.quota_exceeded",
            Self::Blocked => "storage.blocked",
            Self::Closed => "storage.closed",
            Self::Corrupt(_) => "storage.corrupt",
            Self::Expired { .. } => "storage.offset_expired",
            Self::Conflict => "storage.conflict",
            Self::Failed(_) => "storage.failed",
        }
    }
}
