//! Arrigoo's `/v1/stat/segment`.

use crate::Engine;

/// One segment's counts. Arrigoo's sample splits each segment's `total` into `active` and
/// `inactive`; we read them as current members and former members (profiles that entered
/// and later left), so `total` is every profile that was ever a member.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SegmentStat {
    /// The system title.
    pub system_title: String,
    /// The display name (Arrigoo's `entry`).
    pub name: String,
    /// Whether the segment itself is active.
    pub segment_active: bool,
    /// Current plus former members.
    pub total: u64,
    /// Current members.
    pub active: u64,
    /// Former members.
    pub inactive: u64,
    /// How many times a profile entered.
    pub entries: u64,
}

/// Counts for every segment, in system-title order.
pub fn segment_stats(engine: &Engine) -> Vec<SegmentStat> {
    engine
        .segment_definitions()
        .filter_map(|definition| {
            let counts = engine.segment_counts(&definition.system_title)?;
            Some(SegmentStat {
                system_title: definition.system_title.clone(),
                name: definition.name.clone(),
                segment_active: definition.active,
                total: counts.members + counts.former_members,
                active: counts.members,
                inactive: counts.former_members,
                entries: counts.entries,
            })
        })
        .collect()
}
