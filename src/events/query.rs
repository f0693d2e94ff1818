use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::model::{ProfileId, Timestamp};

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
}

/// Why an event query is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum QueryError {
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
}

impl QueryError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::LimitOutOfRange { .. } => "events.limit_out_of_range",
            Self::EmptyWindow => "events.empty_window",
        }
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

    /// Whether an event at `at` named `name` is inside the query's filters.
    pub fn matches(&self, name: &str, at: Timestamp) -> bool {
        (self.names.is_empty() || self.names.iter().any(|wanted| wanted == name))
            && self.start.is_none_or(|start| at > start)
            && self.end.is_none_or(|end| at < end)
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
