use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::ModelError;

/// A point in time: microseconds since the Unix epoch, UTC.
///
/// Microseconds match the precision vendors print (`2025-03-21T11:32:22.503163Z`) and keep
/// the value an `i64` that sorts and compares cheaply.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Self = Self(0);

    /// The current time of the host clock (the system's, through chrono).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn now() -> Self {
        Self(Utc::now().timestamp_micros())
    }

    /// The current time of the host clock: `Date.now()`, one call into JS (chrono's clock on
    /// wasm makes a JS `Date` object and asks it for its time, two calls and an object per
    /// reading, and every write reads the clock).
    #[cfg(target_arch = "wasm32")]
    pub fn now() -> Self {
        // A whole number of milliseconds since the epoch, far below 2^53: exact as an f64.
        #[allow(clippy::cast_possible_truncation)]
        Self::from_millis(js_sys::Date::now() as i64)
    }

    /// A timestamp from microseconds since the epoch.
    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// A timestamp from milliseconds since the epoch, saturating at the ends of the range.
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis.saturating_mul(1_000))
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// This timestamp moved by a number of seconds, saturating at the ends of the range.
    pub const fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds.saturating_mul(1_000_000)))
    }

    /// Parses an RFC 3339 / ISO 8601 date-time with an offset (`2025-03-21T10:35:24+01:00`).
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        DateTime::parse_from_rfc3339(text.trim())
            .map(|parsed| Self(parsed.timestamp_micros()))
            .map_err(|_| ModelError::InvalidTimestamp(text.to_owned()))
    }

    /// The timestamp as chrono's UTC date-time, if it lies in chrono's range.
    pub fn to_datetime(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_micros(self.0)
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with microseconds: `2025-03-21T11:32:22.503163Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_datetime() {
            Some(datetime) => f.write_str(&datetime.to_rfc3339_opts(SecondsFormat::Micros, true)),
            None => write!(f, "{}us", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_prints_as_rfc3339_with_microseconds() {
        let stamp = Timestamp::parse("2025-03-21T11:32:22.503163Z").unwrap();
        assert_eq!(stamp.to_string(), "2025-03-21T11:32:22.503163Z");
    }

    #[test]
    fn timestamp_with_offset_is_normalized_to_utc() {
        let stamp = Timestamp::parse("2025-03-21T10:35:24+01:00").unwrap();
        assert_eq!(stamp.to_string(), "2025-03-21T09:35:24.000000Z");
    }

    #[test]
    fn non_timestamp_text_is_rejected() {
        assert_eq!(
            Timestamp::parse("yesterday"),
            Err(ModelError::InvalidTimestamp("yesterday".into()))
        );
    }
}
