//! Contacthub's customer counts: total, by creation date, by update date, by channel.

use super::{check_points, count_into, Period, Resolution, Series, StatsError};
use crate::Engine;

/// Which changes a "by update date" count looks at (Contacthub's `type`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ChangeKind {
    /// Created in the range.
    Added,
    /// Last changed in the range, after their creation.
    Updated,
    /// Deleted in the range (the engine deletes nothing yet: always empty).
    Deleted,
}

/// Customers by the channels they can be reached on.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct ChannelCounts {
    /// With an email and a phone identifier.
    pub email_mobile: u64,
    /// With an email identifier only.
    pub email_only: u64,
    /// With a phone identifier only.
    pub mobile_only: u64,
    /// With neither.
    pub not_reachable: u64,
}

/// How many live customers there are.
pub fn customer_count(engine: &Engine) -> u64 {
    engine.profile_count() as u64
}

/// Customers created in the range, bucketed by `resolution` (`addedCustomers`).
pub fn customers_created(
    engine: &Engine,
    period: &Period,
    resolution: Resolution,
) -> Result<Series, StatsError> {
    check_points(period, resolution, 1)?;
    Ok(Series {
        category: "addedCustomers".to_owned(),
        context: None,
        points: count_into(
            period,
            resolution,
            engine.profiles().map(|profile| profile.created),
        ),
    })
}

/// Customers added, updated or deleted in the range, daily (`customers`).
pub fn customers_changed(
    engine: &Engine,
    kind: ChangeKind,
    period: &Period,
) -> Result<Series, StatsError> {
    check_points(period, Resolution::Daily, 1)?;
    let times: Vec<_> = match kind {
        ChangeKind::Added => engine.profiles().map(|profile| profile.created).collect(),
        ChangeKind::Updated => engine
            .profiles()
            .filter(|profile| profile.updated > profile.created)
            .map(|profile| profile.updated)
            .collect(),
        ChangeKind::Deleted => Vec::new(),
    };
    Ok(Series {
        category: "customers".to_owned(),
        context: None,
        points: count_into(period, Resolution::Daily, times.into_iter()),
    })
}

/// Customers by available channel: an `email` identifier, a `phone` identifier, both or
/// neither.
pub fn communication_channels(engine: &Engine) -> ChannelCounts {
    let mut counts = ChannelCounts::default();
    for profile in engine.profiles() {
        let has = |kind: &str| {
            profile
                .identities
                .iter()
                .any(|identifier| identifier.kind() == kind)
        };
        match (has("email"), has("phone")) {
            (true, true) => counts.email_mobile += 1,
            (true, false) => counts.email_only += 1,
            (false, true) => counts.mobile_only += 1,
            (false, false) => counts.not_reachable += 1,
        }
    }
    counts
}
