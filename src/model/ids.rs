use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ModelError;

/// The public, stable id of a profile: a UUID v4.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProfileId(Uuid);

impl ProfileId {
    /// A fresh random id (v4), from the operating system's or the browser's randomness.
    pub fn random() -> Self {
        Self(Uuid::new_v4())
    }

    /// The id as a UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl From<Uuid> for ProfileId {
    fn from(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

impl FromStr for ProfileId {
    type Err = ModelError;

    /// Parses the hyphenated, simple or braced forms of a UUID; anything else is rejected.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(text)
            .map(Self)
            .map_err(|_| ModelError::InvalidId(text.to_owned()))
    }
}

impl fmt::Display for ProfileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// The public id of an event: a UUID v4.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(Uuid);

impl EventId {
    /// A fresh random id (v4).
    pub fn random() -> Self {
        Self(Uuid::new_v4())
    }

    /// A v4 id from 16 random bytes (the version and variant bits are set here), for
    /// callers that draw ids in bulk from their own generator.
    pub fn from_random_bytes(bytes: [u8; 16]) -> Self {
        Self(uuid::Builder::from_random_bytes(bytes).into_uuid())
    }
}

impl FromStr for EventId {
    type Err = ModelError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(text)
            .map(Self)
            .map_err(|_| ModelError::InvalidId(text.to_owned()))
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// The dense internal position of a profile in the engine's arrays. Never leaves the engine.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub struct ProfileIndex(pub(crate) u32);

impl ProfileIndex {
    /// The position as a `usize`, for indexing the engine's arrays.
    pub(crate) fn slot(self) -> usize {
        self.0 as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_id_round_trips_through_text() {
        let id = ProfileId::random();
        let parsed: ProfileId = id.to_string().parse().unwrap();
        assert_eq!(parsed, id);
    }

    #[test]
    fn malformed_profile_id_is_rejected_with_its_text() {
        let error = "not-a-uuid".parse::<ProfileId>().unwrap_err();
        assert_eq!(error, ModelError::InvalidId("not-a-uuid".into()));
        assert_eq!(error.code(), "model.invalid_id");
    }
}
