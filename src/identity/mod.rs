//! Identity resolution: identifier types and their normalization, the index from a normalized
//! identifier to exactly one live profile, and the policies applied when identifiers meet.

mod config;
mod error;
mod identifier;
mod index;

pub use config::{ConflictPolicy, IdentifierType, IdentityConfig, LimitBehaviour, Normalization};
pub use error::IdentityError;
pub use identifier::Identifier;
pub(crate) use index::IdentityIndex;
