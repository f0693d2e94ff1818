//! Events per profile, ordered by time; the queries over them; and the comparisons and
//! property filters that traits and segment rules share.

mod error;
mod filter;
mod query;
pub(crate) mod shape;
mod store;

pub use error::EventError;
pub use filter::{
    date_micros, parse_time, Bound, Comparison, Literal, PropertyFilter, Scalar,
    COMPARISON_OPERATORS, DAY_MICROS,
};
pub use query::{Cursor, EventQuery, Order};
pub use shape::{ShapeError, ShapeProblem, MAX_DEPTH};
pub(crate) use store::next_generation;
pub use store::{EventPage, EventStore, Mark, NameId, NameKey, PerName, StoredEvent};
