use std::fmt;
use std::str::FromStr;

use chacha20::rand_core::{Rng, SeedableRng};
use chacha20::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ModelError;

/// The public, stable id of a profile: a UUID v4.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProfileId(Uuid);

impl ProfileId {
    /// A fresh random id (v4), unguessable: drawn from a stream keyed once per thread with
    /// the operating system's or the browser's randomness (`random_id_bytes`), so creating
    /// many profiles does not cost a call into the browser each.
    pub fn random() -> Self {
        Self(uuid::Builder::from_random_bytes(random_id_bytes()).into_uuid())
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

    /// The id as a UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }

    /// A v4 id from 16 random bytes (the version and variant bits are set here), for
    /// callers that draw ids in bulk from their own generator.
    pub fn from_random_bytes(bytes: [u8; 16]) -> Self {
        Self(uuid::Builder::from_random_bytes(bytes).into_uuid())
    }
}

impl From<Uuid> for EventId {
    fn from(uuid: Uuid) -> Self {
        Self(uuid)
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

/// A stream of random id bytes: ChaCha20 keyed with 256 bits of system randomness (two v4
/// UUIDs' worth, drawn once per thread). Ids stay unpredictable without the key, and one
/// 64-byte block (four ids) costs far less than a call into the browser's
/// `crypto.getRandomValues`.
struct IdStream(ChaCha20Rng);

impl IdStream {
    fn new() -> Self {
        let mut key = [0u8; 32];
        let (first, second) = key.split_at_mut(16);
        first.copy_from_slice(Uuid::new_v4().as_bytes());
        second.copy_from_slice(Uuid::new_v4().as_bytes());
        Self(ChaCha20Rng::from_seed(key))
    }

    fn next(&mut self) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        self.0.fill_bytes(&mut bytes);
        bytes
    }
}

thread_local! {
    static ID_STREAM: std::cell::RefCell<IdStream> = std::cell::RefCell::new(IdStream::new());
}

/// 16 random bytes for a v4 id, from this thread's [`IdStream`].
fn random_id_bytes() -> [u8; 16] {
    ID_STREAM.with(|stream| stream.borrow_mut().next())
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
    fn random_profile_ids_are_distinct_v4_ids() {
        let ids: std::collections::HashSet<ProfileId> =
            (0..10_000).map(|_| ProfileId::random()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|id| id.as_uuid().get_version_num() == 4));
    }

    #[test]
    fn each_thread_draws_ids_from_its_own_randomly_keyed_stream() {
        // A fixed key would give every thread (every page, in the browser) the same ids.
        let first = || (0..4).map(|_| ProfileId::random()).collect::<Vec<_>>();
        let here = first();
        let there = std::thread::spawn(first).join().unwrap();
        assert!(here.iter().all(|id| !there.contains(id)));
    }

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
