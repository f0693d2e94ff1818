//! Date ranges, their defaults, and the DAILY / WEEKLY / MONTHLY buckets of time series.

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::StatsError;
use crate::model::Timestamp;

/// How a time series is bucketed (Contacthub's `mode`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Resolution {
    /// One bucket per UTC day.
    Daily,
    /// One bucket per ISO week, starting on Monday.
    Weekly,
    /// One bucket per calendar month.
    Monthly,
}

/// How far back a range reaches when the caller gives no start.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DefaultSpan {
    /// One calendar month before the end.
    LastMonth,
    /// One calendar year before the end.
    LastYear,
}

/// A time range, start inclusive and end exclusive.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Period {
    /// The first instant counted.
    pub start: Timestamp,
    /// The first instant not counted.
    pub end: Timestamp,
}

impl Period {
    /// The range the caller asked for, with the endpoint's default filling what it left
    /// out: the end defaults to just after `now` (so what happened now counts), the start to
    /// `span` before the given end or `now`. A range that
    /// ends before it starts is [`StatsError::EmptyRange`].
    pub fn resolve(
        start: Option<Timestamp>,
        end: Option<Timestamp>,
        span: DefaultSpan,
        now: Timestamp,
    ) -> Result<Self, StatsError> {
        let anchor = end.unwrap_or(now);
        let end = end.unwrap_or(Timestamp::from_micros(now.as_micros().saturating_add(1)));
        let start = match start {
            Some(start) => start,
            None => {
                let months = match span {
                    DefaultSpan::LastMonth => 1,
                    DefaultSpan::LastYear => 12,
                };
                anchor
                    .to_datetime()
                    .and_then(|at| at.checked_sub_months(Months::new(months)))
                    .map_or(Timestamp::EPOCH, |at| {
                        Timestamp::from_micros(at.timestamp_micros())
                    })
            }
        };
        if end <= start {
            return Err(StatsError::EmptyRange);
        }
        Ok(Self { start, end })
    }

    /// Whether `at` lies in the range.
    pub fn contains(&self, at: Timestamp) -> bool {
        at >= self.start && at < self.end
    }

    /// How many buckets overlap the range, counted without listing them.
    pub fn bucket_count(&self, resolution: Resolution) -> u64 {
        let Some((first, last)) = self.bucket_bounds(resolution) else {
            return 0;
        };
        let days = u64::try_from((last - first).num_days()).unwrap_or(0);
        let steps = match resolution {
            Resolution::Daily => days,
            Resolution::Weekly => days / 7,
            Resolution::Monthly => {
                let months =
                    |date: NaiveDate| i64::from(date.year()) * 12 + i64::from(date.month0());
                u64::try_from(months(last) - months(first)).unwrap_or(0)
            }
        };
        steps + 1
    }

    /// The first and the last bucket overlapping the range.
    fn bucket_bounds(&self, resolution: Resolution) -> Option<(NaiveDate, NaiveDate)> {
        let last_instant = Timestamp::from_micros(self.end.as_micros().saturating_sub(1));
        let first = bucket_of(self.start, resolution)?;
        let last = bucket_of(last_instant, resolution)?;
        (first <= last).then_some((first, last))
    }

    /// The start of every bucket overlapping the range, in order: [`Period::bucket_count`]
    /// of them, at most [`super::MAX_POINTS`] (series bound their size first with
    /// `check_points`).
    pub fn buckets(&self, resolution: Resolution) -> Vec<NaiveDate> {
        let Some((first, last)) = self.bucket_bounds(resolution) else {
            return Vec::new();
        };
        let mut buckets = Vec::new();
        let mut current = first;
        // Bounded whatever the caller checked: no list longer than an answer may be.
        while current <= last && (buckets.len() as u64) < super::MAX_POINTS {
            buckets.push(current);
            let Some(next) = next_bucket(current, resolution) else {
                break;
            };
            current = next;
        }
        buckets
    }
}

/// The start of the bucket holding `at`.
pub fn bucket_of(at: Timestamp, resolution: Resolution) -> Option<NaiveDate> {
    let date = at.to_datetime()?.date_naive();
    match resolution {
        Resolution::Daily => Some(date),
        Resolution::Weekly => {
            date.checked_sub_days(Days::new(u64::from(date.weekday().num_days_from_monday())))
        }
        Resolution::Monthly => date.with_day(1),
    }
}

fn next_bucket(date: NaiveDate, resolution: Resolution) -> Option<NaiveDate> {
    match resolution {
        Resolution::Daily => date.checked_add_days(Days::new(1)),
        Resolution::Weekly => date.checked_add_days(Days::new(7)),
        Resolution::Monthly => date.checked_add_months(Months::new(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn default_spans_reach_back_a_calendar_month_or_year() {
        let now = at("2025-03-31T10:00:00Z");
        let month = Period::resolve(None, None, DefaultSpan::LastMonth, now).unwrap();
        assert_eq!(month.start, at("2025-02-28T10:00:00Z"));
        let year = Period::resolve(None, None, DefaultSpan::LastYear, now).unwrap();
        assert_eq!(year.start, at("2024-03-31T10:00:00Z"));
        assert_eq!(
            Period::resolve(Some(now), Some(now), DefaultSpan::LastMonth, now),
            Err(StatsError::EmptyRange)
        );
    }

    #[test]
    fn bucket_counts_are_the_number_of_buckets_listed() {
        let ends = [
            "2024-02-29T00:00:00Z",
            "2024-02-29T00:00:00.000001Z",
            "2024-03-04T23:59:59Z",
            "2024-12-31T12:00:00Z",
            "2025-01-01T00:00:00Z",
            "2027-06-15T08:00:00Z",
        ];
        for start in [
            "2023-12-31T23:00:00Z",
            "2024-01-01T00:00:00Z",
            "2024-02-28T12:00:00Z",
        ] {
            for end in ends {
                let period = Period {
                    start: at(start),
                    end: at(end),
                };
                for resolution in [Resolution::Daily, Resolution::Weekly, Resolution::Monthly] {
                    assert_eq!(
                        period.bucket_count(resolution),
                        period.buckets(resolution).len() as u64,
                        "{start} to {end} {resolution:?}"
                    );
                }
            }
        }
        let ages = Period {
            start: at("0001-01-01T00:00:00Z"),
            end: at("9999-12-31T00:00:00Z"),
        };
        assert_eq!(ages.bucket_count(Resolution::Monthly), 9999 * 12);
        assert_eq!(ages.bucket_count(Resolution::Daily), 3_652_058);
        assert_eq!(
            ages.buckets(Resolution::Daily).len() as u64,
            super::super::MAX_POINTS
        );
    }

    #[test]
    fn buckets_cover_the_range_at_each_resolution() {
        let period = Period {
            start: at("2025-02-26T12:00:00Z"),
            end: at("2025-03-03T00:00:00Z"),
        };
        let days: Vec<String> = period
            .buckets(Resolution::Daily)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            days,
            [
                "2025-02-26",
                "2025-02-27",
                "2025-02-28",
                "2025-03-01",
                "2025-03-02"
            ]
        );
        let weeks = period.buckets(Resolution::Weekly);
        assert_eq!(
            weeks.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["2025-02-24"]
        );
        let months = period.buckets(Resolution::Monthly);
        assert_eq!(
            months.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["2025-02-01", "2025-03-01"]
        );
    }
}
