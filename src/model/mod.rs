//! Canonical types shared by every layer: ids, time, typed values, profiles and events.
//!
//! Every dialect translates onto these types; nothing here knows about JSON shapes of a
//! particular vendor.

mod attributes;
pub(crate) mod date_text;
mod error;
mod event;
mod identities;
mod ids;
pub(crate) mod packed;
mod profile;
mod properties;
mod rare;
mod running_sum;
mod slot_table;
mod time;
mod value;

pub use attributes::{AttributeName, Attributes, SourceAttributes, SourceValues};
pub(crate) use attributes::{AttributeNames, Shape};
pub use error::ModelError;
pub use event::{Event, EventContext, EventMode};
pub use identities::Identities;
pub use ids::{EventId, ProfileId, ProfileIndex};
pub use profile::{AttributeKey, AttributeValue, Profile, SourceId, TagKind, Tags};
pub use properties::Properties;
pub(crate) use properties::SortedEntries;
pub use rare::{Empty, Rare};
pub use running_sum::RunningSum;
pub(crate) use slot_table::{slot_hash, SlotTable};
pub use time::Timestamp;
pub use value::Value;
