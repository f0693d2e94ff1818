//! Readers of the date and date-time texts the engine accepts, fixed to their formats.
//!
//! They accept exactly what chrono's format-string parser accepts for `%Y-%m-%d`,
//! `%Y-%m-%dT%H:%M:%S%.f` and `%Y-%m-%d %H:%M:%S%.f`, and what `NaiveDate`'s `FromStr` accepts
//! (whitespace before each number, years of one to four digits or signed of any length, one
//! or two digits for the other fields, a leap second), with chrono's error messages; chrono's
//! general parser is a format-string interpreter that is much larger in the wasm. chrono
//! still checks the calendar.

use std::fmt;

use chrono::NaiveDate;
use serde::de::{self, Deserializer, Visitor};

/// Why a text is not a date: chrono's `ParseError` kinds, with its messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DateTextError {
    /// A field is out of its range, or the date does not exist.
    OutOfRange,
    /// A character that does not belong there.
    Invalid,
    /// The text ends early.
    TooShort,
    /// Text is left over.
    TooLong,
}

impl fmt::Display for DateTextError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Self::OutOfRange => "input is out of range",
            Self::Invalid => "input contains invalid characters",
            Self::TooShort => "premature end of input",
            Self::TooLong => "trailing input",
        })
    }
}

type Scan<T> = Result<T, DateTextError>;

/// The text still to read.
struct Scanner<'a>(&'a str);

impl Scanner<'_> {
    /// One to `max` ASCII digits, after any whitespace.
    fn number(&mut self, max: usize) -> Scan<i64> {
        self.0 = self.0.trim_start();
        self.digits(max)
    }

    fn digits(&mut self, max: usize) -> Scan<i64> {
        let bytes = self.0.as_bytes();
        if bytes.is_empty() {
            return Err(DateTextError::TooShort);
        }
        let count = bytes
            .iter()
            .take(max)
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        if count == 0 {
            return Err(DateTextError::Invalid);
        }
        let (digits, rest) = self.0.split_at(count);
        let mut number = 0i64;
        for byte in digits.bytes() {
            number = number
                .checked_mul(10)
                .and_then(|number| number.checked_add(i64::from(byte - b'0')))
                .ok_or(DateTextError::OutOfRange)?;
        }
        self.0 = rest;
        Ok(number)
    }

    /// A number in `range`, of one to `max` digits.
    fn field(&mut self, max: usize, range: std::ops::RangeInclusive<i64>) -> Scan<u32> {
        let number = self.number(max)?;
        if range.contains(&number) {
            u32::try_from(number).map_err(|_| DateTextError::OutOfRange)
        } else {
            Err(DateTextError::OutOfRange)
        }
    }

    /// A year: signed with any number of digits, or one to four digits.
    fn year(&mut self) -> Scan<i32> {
        self.0 = self.0.trim_start();
        let year = if let Some(rest) = self.0.strip_prefix('-') {
            self.0 = rest;
            0i64.checked_sub(self.digits(usize::MAX)?)
                .ok_or(DateTextError::OutOfRange)?
        } else if let Some(rest) = self.0.strip_prefix('+') {
            self.0 = rest;
            self.digits(usize::MAX)?
        } else {
            self.digits(4)?
        };
        i32::try_from(year).map_err(|_| DateTextError::OutOfRange)
    }

    fn literal(&mut self, literal: char) -> Scan<()> {
        match self.0.strip_prefix(literal) {
            Some(rest) => {
                self.0 = rest;
                Ok(())
            }
            None if self.0.is_empty() => Err(DateTextError::TooShort),
            None => Err(DateTextError::Invalid),
        }
    }

    /// Whitespace, if any (a space in a chrono format).
    fn space(&mut self) {
        self.0 = self.0.trim_start();
    }

    fn end(&self) -> Scan<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DateTextError::TooLong)
        }
    }

    /// `year-month-day`, with whitespace allowed around the dashes when `spaced`.
    fn date(&mut self, spaced: bool) -> Scan<(i32, u32, u32)> {
        let year = self.year()?;
        for_spaced(self, spaced);
        self.literal('-')?;
        let month = self.field(2, 1..=12)?;
        for_spaced(self, spaced);
        self.literal('-')?;
        let day = self.field(2, 1..=31)?;
        for_spaced(self, spaced);
        Ok((year, month, day))
    }
}

fn for_spaced(scanner: &mut Scanner<'_>, spaced: bool) {
    if spaced {
        scanner.space();
    }
}

fn calendar_date((year, month, day): (i32, u32, u32)) -> Scan<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day).ok_or(DateTextError::OutOfRange)
}

/// A date as `NaiveDate::parse_from_str(text, "%Y-%m-%d")` reads it.
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    let mut scanner = Scanner(text);
    let date = scanner.date(false).ok()?;
    scanner.end().ok()?;
    calendar_date(date).ok()
}

/// How a date-time text separates its date from its time of day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeSeparator {
    /// The letter `T` (`%Y-%m-%dT%H:%M:%S%.f`).
    Letter,
    /// Whitespace, or none (`%Y-%m-%d %H:%M:%S%.f`).
    Space,
}

/// A date-time without offset, read as chrono's `NaiveDateTime::parse_from_str` reads it
/// with `%Y-%m-%dT%H:%M:%S%.f` or `%Y-%m-%d %H:%M:%S%.f`, as microseconds since the epoch
/// in UTC (a leap second counts as the next second).
pub(crate) fn parse_naive_datetime_micros(text: &str, separator: TimeSeparator) -> Option<i64> {
    let mut scanner = Scanner(text);
    let date = scanner.date(false).ok()?;
    match separator {
        TimeSeparator::Letter => scanner.literal('T').ok()?,
        TimeSeparator::Space => scanner.space(),
    }
    let hour = scanner.field(2, 0..=23).ok()?;
    scanner.literal(':').ok()?;
    let minute = scanner.field(2, 0..=59).ok()?;
    scanner.literal(':').ok()?;
    let second = scanner.field(2, 0..=60).ok()?;
    let mut nanos = 0;
    if let Some(rest) = scanner.0.strip_prefix('.') {
        scanner.0 = rest;
        let before = rest.len();
        let digits = scanner.digits(9).ok()?;
        let scale = [
            0,
            100_000_000,
            10_000_000,
            1_000_000,
            100_000,
            10_000,
            1_000,
            100,
            10,
            1,
        ];
        nanos = digits.checked_mul(*scale.get(before - scanner.0.len())?)?;
        scanner.0 = scanner.0.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    scanner.end().ok()?;
    let days = calendar_date(date)
        .ok()?
        .signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1)?)
        .num_days();
    let seconds = days * 86_400 + i64::from(hour * 3_600 + minute * 60 + second);
    Some(seconds * 1_000_000 + nanos / 1_000)
}

/// A date's month as `date.format("%Y-%m")` prints it (`2025-03`; years past 9999 or before
/// 0 signed, as chrono prints them).
pub(crate) fn month_text(date: NaiveDate) -> String {
    let mut text = date.to_string();
    text.truncate(text.len().saturating_sub(3));
    text
}

/// Reads a `NaiveDate` from its text as chrono's own `Deserialize` does (`NaiveDate`'s
/// `FromStr`: whitespace allowed around the dashes and after the day), with its messages.
pub(crate) fn deserialize_date<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<NaiveDate, D::Error> {
    deserializer.deserialize_str(DateVisitor)
}

struct DateVisitor;

impl Visitor<'_> for DateVisitor {
    type Value = NaiveDate;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a formatted date string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<NaiveDate, E> {
        let mut scanner = Scanner(text);
        scanner
            .date(true)
            .and_then(|date| scanner.end().and_then(|()| calendar_date(date)))
            .map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    const TEXTS: &[&str] = &[
        "2025-03-21",
        "2025-3-1",
        " 2025-03-21",
        "2025 -03-21",
        "2025- 03 - 21 ",
        "2025-03-21 ",
        "+2025-03-21",
        "-0044-03-15",
        "+12345-01-01",
        "12345-01-01",
        "0000-01-01",
        "7-01-01",
        "2025-02-29",
        "2024-02-29",
        "2025-13-01",
        "2025-00-10",
        "2025-01-32",
        "2025-001-01",
        "2025/03/21",
        "2025-03",
        "2025-03-",
        "",
        "-",
        "+99999999999-01-01",
        "-99999999999999999999-01-01",
        "２０２５-03-21",
        "2025-03-21T10:35:24",
        "2025-03-21T10:35:24.5",
        "2025-03-21T10:35:24.123456789",
        "2025-03-21T10:35:24.1234567891234",
        "2025-03-21T10:35:24.",
        "2025-03-21T10:35:24.x",
        "2025-03-21T10:35",
        "2025-03-21T1:2:3",
        "2025-03-21T 10: 35: 24",
        "2025-03-21T24:00:00",
        "2025-03-21T23:60:00",
        "2025-03-21T23:59:60",
        "2025-03-21T23:59:60.25",
        "2025-03-21T23:59:61",
        "2025-03-21T10:35:24Z",
        "2025-03-21T10:35:24+01:00",
        "2025-03-21 10:35:24",
        "2025-03-21   10:35:24.75",
        "2025-03-2110:35:24",
        "2025-03-21t10:35:24",
        "1969-12-31T23:59:59.999999",
        "-0001-12-31T00:00:00",
    ];

    #[test]
    fn dates_read_as_chrono_reads_them_with_its_format() {
        for text in TEXTS {
            assert_eq!(
                parse_date(text),
                NaiveDate::parse_from_str(text, "%Y-%m-%d").ok(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn date_times_read_as_chrono_reads_them_with_its_formats() {
        for text in TEXTS {
            for (separator, format) in [
                (TimeSeparator::Letter, "%Y-%m-%dT%H:%M:%S%.f"),
                (TimeSeparator::Space, "%Y-%m-%d %H:%M:%S%.f"),
            ] {
                assert_eq!(
                    parse_naive_datetime_micros(text, separator),
                    NaiveDateTime::parse_from_str(text, format)
                        .ok()
                        .map(|naive| naive.and_utc().timestamp_micros()),
                    "{text:?} {format}"
                );
            }
        }
    }

    #[test]
    fn dates_print_as_chrono_formats_them() {
        for (year, month, day) in [(2025, 3, 21), (7, 12, 1), (-44, 3, 15), (12345, 1, 31)] {
            let date = NaiveDate::from_ymd_opt(year, month, day).unwrap();
            assert_eq!(month_text(date), date.format("%Y-%m").to_string());
            assert_eq!(date.to_string(), date.format("%Y-%m-%d").to_string());
        }
    }

    #[test]
    fn stored_dates_read_as_chrono_deserializes_them_with_its_messages() {
        for text in TEXTS {
            let json = serde_json::Value::String((*text).to_owned());
            let ours = deserialize_date(json.clone()).map_err(|error| error.to_string());
            let chrono = serde_json::from_value::<NaiveDate>(json).map_err(|e| e.to_string());
            assert_eq!(ours, chrono, "{text:?}");
        }
        assert!(deserialize_date(serde_json::json!(20250321)).is_err());
    }
}
