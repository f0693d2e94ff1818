use thiserror::Error;

/// Why the change log could not be stored or read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StorageError {
    /// This environment has no such storage (no IndexedDB in Node).
    #[error("storage is not available here: {0}")]
    Unavailable(String),
    /// The browser refused the write for lack of space.
    #[error("the storage quota is exceeded")]
    QuotaExceeded,
    /// Another tab holds the database open with an older version.
    #[error("the database is blocked by another open connection")]
    Blocked,
    /// The database was closed or deleted under the engine.
    #[error("the database was closed")]
    Closed,
    /// A stored record does not decode.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
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
            Self::Failed(_) => "storage.failed",
        }
    }
}
