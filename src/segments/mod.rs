//! Segments: a rule tree over profiles, serialized as JSON, with membership kept up to date
//! on every change as bitmaps over the dense profile index, entry/exit history, and the
//! typed columns that make a full evaluation a scan.

mod columns;
mod definition;
mod error;
mod evaluate;
mod membership;
mod rule;

pub use definition::SegmentDefinition;
pub use error::SegmentError;
pub use membership::{
    Inputs, MembershipChange, MembershipRecord, SegmentCounts, SegmentHistory, SegmentScope,
    SegmentStore, StoredSegment,
};
pub use rule::{EventCondition, Field, Rule, Subject};
