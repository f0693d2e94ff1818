use thiserror::Error;

use super::shape::ShapeError;
use crate::model::{EventId, ProfileId};

/// Why an event or an event query is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EventError {
    /// The page size is outside 1..=100.
    #[error("limit must be between 1 and {max}, not {given}")]
    LimitOutOfRange {
        /// The largest page size.
        max: usize,
        /// The page size asked for.
        given: i64,
    },
    /// The window ends before it starts.
    #[error("the time window ends before it starts")]
    EmptyWindow,
    /// The cursor was not made by this engine's event queries.
    #[error("the cursor is not valid")]
    InvalidCursor,
    /// The event's JSON is malformed at one node.
    #[error("invalid event: {0}")]
    InvalidEvent(ShapeError),
    /// An event with this id was recorded already.
    #[error("event {0} exists already")]
    DuplicateId(EventId),
    /// No profile has this id.
    #[error("no profile has the id {0}")]
    UnknownProfile(ProfileId),
    /// A query names an event no profile has recorded.
    #[error("no event named `{0}` has been recorded")]
    UnknownName(String),
    /// The event names neither a profile nor identifiers.
    #[error("the event names neither a profile id nor identities")]
    NoSubject,
}

impl EventError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::LimitOutOfRange { .. } => "events.limit_out_of_range",
            Self::EmptyWindow => "events.empty_window",
            Self::InvalidCursor => "events.invalid_cursor",
            Self::InvalidEvent(_) => "events.invalid_event",
            Self::DuplicateId(_) => "events.duplicate_id",
            Self::NoSubject => "events.no_subject",
            Self::UnknownProfile(_) => "events.unknown_profile",
            Self::UnknownName(_) => "events.unknown_name",
        }
    }
}
