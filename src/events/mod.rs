//! Events per profile, ordered by time, and the queries over them.

mod query;

pub use query::{EventQuery, Order, QueryError};
