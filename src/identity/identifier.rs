use std::fmt;

use serde::{Deserialize, Serialize};

/// A normalized identifier: its type (`email`, `phone`, `foreignId1`) and value.
///
/// Only [`IdentityConfig::normalize`](super::IdentityConfig::normalize) builds one from raw
/// input, so two identifiers that denote the same person compare equal.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub struct Identifier {
    kind: String,
    value: String,
}

impl Identifier {
    /// Built by normalization only.
    pub(super) fn normalized(kind: String, value: String) -> Self {
        Self { kind, value }
    }

    /// The identifier type.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The normalized value.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}
