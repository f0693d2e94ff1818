use serde::{Deserialize, Serialize};

use super::EventError as QueryError;
use crate::model::{EventContext, EventMode, ProfileId, Timestamp};

/// Sort order of an event query.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Oldest first.
    Asc,
    /// Newest first.
    #[default]
    Desc,
}

/// A query over one profile's events: names, a time window with exclusive ends, order and a
/// page size.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct EventQuery {
    /// Whose events.
    pub profile: ProfileId,
    /// Only these event names; empty means all.
    pub names: Vec<String>,
    /// Only events after this time (exclusive).
    pub start: Option<Timestamp>,
    /// Only events before this time (exclusive).
    pub end: Option<Timestamp>,
    /// Sort order.
    pub order: Order,
    /// How many events a page holds.
    pub limit: usize,
    /// Only events in these contexts; empty means all (Contacthub's `context`).
    pub contexts: Vec<EventContext>,
    /// Only events of these modes; empty means both (Contacthub's `mode`).
    pub modes: Vec<EventMode>,
    /// Where the page starts: after the last event of the previous page.
    pub cursor: Option<Cursor>,
}

/// An opaque position in a profile's event order: the (time, arrival) key of the last event
/// a page returned. It names a position, not an offset, so it stays valid while new events
/// arrive: they land before or after it and never shift it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Cursor {
    pub(crate) happened: i64,
    pub(crate) sequence: u64,
}

impl Cursor {
    /// The cursor as the opaque text APIs hand out.
    pub fn encode(&self) -> String {
        format!("e{:016x}{:016x}", self.happened as u64, self.sequence)
    }

    /// Reads a cursor made by [`Cursor::encode`]; anything else is [`QueryError::InvalidCursor`].
    pub fn parse(text: &str) -> Result<Self, QueryError> {
        let digits = text.strip_prefix('e').ok_or(QueryError::InvalidCursor)?;
        if digits.len() != 32 || !digits.is_ascii() {
            return Err(QueryError::InvalidCursor);
        }
        let (high, low) = digits.split_at(16);
        let happened = u64::from_str_radix(high, 16).map_err(|_| QueryError::InvalidCursor)?;
        let sequence = u64::from_str_radix(low, 16).map_err(|_| QueryError::InvalidCursor)?;
        Ok(Self {
            happened: happened as i64,
            sequence,
        })
    }
}

impl EventQuery {
    /// The page size used when a query names none.
    pub const DEFAULT_LIMIT: usize = 25;
    /// The largest page size.
    pub const MAX_LIMIT: usize = 100;

    /// A query for all of `profile`'s events, newest first, with the default page size.
    pub fn for_profile(profile: ProfileId) -> Self {
        Self {
            profile,
            names: Vec::new(),
            start: None,
            end: None,
            order: Order::default(),
            limit: Self::DEFAULT_LIMIT,
            contexts: Vec::new(),
            modes: Vec::new(),
            cursor: None,
        }
    }

    /// Sets the page size from untrusted input, checking the documented range.
    pub fn with_limit(mut self, limit: i64) -> Result<Self, QueryError> {
        match usize::try_from(limit) {
            Ok(size @ 1..=Self::MAX_LIMIT) => {
                self.limit = size;
                Ok(self)
            }
            _ => Err(QueryError::LimitOutOfRange {
                max: Self::MAX_LIMIT,
                given: limit,
            }),
        }
    }

    /// Sets the time window (both ends exclusive), rejecting one that ends before it starts.
    pub fn within(
        mut self,
        start: Option<Timestamp>,
        end: Option<Timestamp>,
    ) -> Result<Self, QueryError> {
        if let (Some(from), Some(to)) = (start, end) {
            if to <= from {
                return Err(QueryError::EmptyWindow);
            }
        }
        self.start = start;
        self.end = end;
        Ok(self)
    }

    /// Whether an event at `at` named `name` is inside the query's name and time filters.
    pub fn matches(&self, name: &str, at: Timestamp) -> bool {
        (self.names.is_empty() || self.names.iter().any(|wanted| wanted == name))
            && self.start.is_none_or(|start| at > start)
            && self.end.is_none_or(|end| at < end)
    }

    /// Whether an event passes every filter of the query (not the cursor).
    pub fn matches_event(&self, event: &crate::model::Event) -> bool {
        self.matches(&event.name, event.happened)
            && (self.contexts.is_empty() || self.contexts.contains(&event.context))
            && (self.modes.is_empty() || self.modes.contains(&event.mode))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_defaults_to_25_and_stops_at_100() {
        let query = EventQuery::for_profile(ProfileId::random());
        assert_eq!(query.limit, 25);
        assert_eq!(query.clone().with_limit(100).unwrap().limit, 100);
        assert_eq!(
            query.clone().with_limit(101),
            Err(QueryError::LimitOutOfRange {
                max: 100,
                given: 101
            })
        );
        assert!(query.with_limit(0).is_err());
    }

    #[test]
    fn cursor_round_trips_and_rejects_foreign_text() {
        let cursor = Cursor {
            happened: -5,
            sequence: 42,
        };
        assert_eq!(Cursor::parse(&cursor.encode()), Ok(cursor));
        for text in ["", "e", "x0000000000000000000000000000002a", "eé", "e0000"] {
            assert_eq!(
                Cursor::parse(text),
                Err(QueryError::InvalidCursor),
                "{text}"
            );
        }
    }

    #[test]
    fn window_ends_are_exclusive() {
        let start = Timestamp::from_millis(1_000);
        let end = Timestamp::from_millis(2_000);
        let query = EventQuery::for_profile(ProfileId::random())
            .within(Some(start), Some(end))
            .unwrap();
        assert!(!query.matches("x", start));
        assert!(query.matches("x", Timestamp::from_millis(1_500)));
        assert!(!query.matches("x", end));
    }
}
