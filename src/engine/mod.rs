//! The engine: applies commands atomically to the canonical model and records every effect as
//! numbered [`Change`]s. [`Database`] pairs it with a [`Storage`](crate::storage::Storage) so
//! a command is acknowledged only once its changes are durable.

mod change;
mod clock;
mod command;
mod database;
mod error;
mod snapshot;
mod transfer;

use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;

pub use change::{Change, Entity, Operation};
pub use clock::{Clock, ManualClock, SystemClock};
pub use command::{ChangeTags, Command, Outcome, UpsertProfile};
pub use database::{Database, DatabaseOptions, WRITE_ATTEMPTS};
pub use error::EngineError;
pub use snapshot::{SnapshotChunk, SnapshotHeader, RECORDS_PER_CHUNK, SNAPSHOT_FORMAT};
pub use transfer::{ImportBatch, ImportError, EXPORT_FORMAT};

use crate::identity::{Identifier, IdentityConfig, IdentityError, IdentityIndex};
use crate::model::{AttributeValue, Profile, ProfileId, ProfileIndex, Timestamp};

/// The in-memory state of one database and the rules that change it.
pub struct Engine {
    identity: IdentityConfig,
    clock: Rc<dyn Clock>,
    profiles: Vec<Profile>,
    slots: HashMap<ProfileId, ProfileIndex>,
    identities: IdentityIndex,
    next_offset: u64,
    unpersisted: Vec<Change>,
}

impl Engine {
    /// An empty engine with the given identity rules and clock.
    pub fn new(identity: IdentityConfig, clock: Rc<dyn Clock>) -> Self {
        Self {
            identity,
            clock,
            profiles: Vec::new(),
            slots: HashMap::new(),
            identities: IdentityIndex::default(),
            next_offset: 0,
            unpersisted: Vec::new(),
        }
    }

    /// Rebuilds an engine by applying a stored change log in order. The log must start at
    /// offset 0 and have no gaps; a change that does not apply is [`EngineError::CorruptLog`].
    pub fn replay(
        identity: IdentityConfig,
        clock: Rc<dyn Clock>,
        changes: impl IntoIterator<Item = Change>,
    ) -> Result<Self, EngineError> {
        let mut engine = Self::new(identity, clock);
        engine.apply_committed(changes)?;
        Ok(engine)
    }

    /// Applies changes committed elsewhere (the stored tail after a snapshot, another tab's
    /// writes) in order. They must continue this engine's log without a gap; a change that
    /// does not apply is [`EngineError::CorruptLog`], and the engine may then hold part of
    /// the batch, so a caller that gets an error discards the engine.
    pub fn apply_committed(
        &mut self,
        changes: impl IntoIterator<Item = Change>,
    ) -> Result<(), EngineError> {
        for change in changes {
            if change.offset != self.next_offset {
                return Err(EngineError::CorruptLog {
                    offset: change.offset,
                    reason: format!("expected offset {}", self.next_offset),
                });
            }
            // Owned here, so an imported profile moves in instead of being copied.
            if let Operation::ProfileImported { record } = change.operation {
                self.insert_profile(*record)
                    .map_err(|reason| EngineError::CorruptLog {
                        offset: change.offset,
                        reason,
                    })?;
            } else {
                self.apply(&change)?;
            }
            self.next_offset += 1;
        }
        Ok(())
    }

    /// The engine's whole state as snapshot chunks: a header, then the profiles in chunks of
    /// at most [`RECORDS_PER_CHUNK`]. Borrowed, so taking a snapshot copies nothing until the
    /// chunks are encoded. Pending unpersisted changes must have been taken first.
    pub fn snapshot_chunks(&self) -> Vec<SnapshotChunk<'_>> {
        let mut chunks = vec![SnapshotChunk::Header(SnapshotHeader {
            format: SNAPSHOT_FORMAT,
            next_offset: self.next_offset,
            profiles: self.profiles.len() as u64,
        })];
        chunks.extend(
            self.profiles
                .chunks(RECORDS_PER_CHUNK)
                .map(|profiles| SnapshotChunk::Profiles(Cow::Borrowed(profiles))),
        );
        chunks
    }

    /// Rebuilds an engine from the chunks [`Engine::snapshot_chunks`] produced, header first,
    /// and rebuilds the derived indexes (id → slot, identity index). Chunks that do not add up
    /// to their header are [`EngineError::CorruptSnapshot`].
    pub fn from_snapshot<'a>(
        identity: IdentityConfig,
        clock: Rc<dyn Clock>,
        chunks: impl IntoIterator<Item = SnapshotChunk<'a>>,
    ) -> Result<Self, EngineError> {
        let corrupt = |reason: &str| EngineError::CorruptSnapshot(reason.to_owned());
        let mut chunks = chunks.into_iter();
        let Some(SnapshotChunk::Header(header)) = chunks.next() else {
            return Err(corrupt("the snapshot does not start with its header"));
        };
        if header.format != SNAPSHOT_FORMAT {
            return Err(EngineError::CorruptSnapshot(format!(
                "unknown snapshot format {}",
                header.format
            )));
        }
        let mut engine = Self::new(identity, clock);
        engine.next_offset = header.next_offset;
        let expected = usize::try_from(header.profiles).unwrap_or(0).min(1 << 24);
        engine.profiles.reserve(expected);
        engine.slots.reserve(expected);
        for chunk in chunks {
            match chunk {
                SnapshotChunk::Header(_) => return Err(corrupt("a second header")),
                SnapshotChunk::Profiles(profiles) => {
                    for profile in profiles.into_owned() {
                        engine
                            .insert_profile(profile)
                            .map_err(|reason| corrupt(&reason))?;
                    }
                }
            }
        }
        if engine.profiles.len() as u64 != header.profiles {
            return Err(EngineError::CorruptSnapshot(format!(
                "the header counts {} profiles, the chunks hold {}",
                header.profiles,
                engine.profiles.len()
            )));
        }
        Ok(engine)
    }

    /// Adds a whole profile and indexes it; refuses a known id or an identifier already owned.
    fn insert_profile(&mut self, profile: Profile) -> Result<(), String> {
        if self.slots.contains_key(&profile.id) {
            return Err(format!("profile {} appears twice", profile.id));
        }
        if let Some(taken) = profile
            .identities
            .iter()
            .find(|identifier| self.identities.owner(identifier).is_some())
        {
            return Err(format!("identifier {taken} belongs to two profiles"));
        }
        let slot = u32::try_from(self.profiles.len()).map_err(|_| "too many profiles")?;
        for identifier in &profile.identities {
            self.identities
                .assign(identifier.clone(), ProfileIndex(slot));
        }
        for alias in &profile.aliases {
            self.slots.insert(*alias, ProfileIndex(slot));
        }
        self.slots.insert(profile.id, ProfileIndex(slot));
        self.profiles.push(profile);
        Ok(())
    }

    /// The identity rules in force.
    pub fn identity_config(&self) -> &IdentityConfig {
        &self.identity
    }

    /// The current time of the engine's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Validates `command` against the current state and, if it is valid, applies all of it.
    /// A rejected command leaves the state and the change log exactly as they were.
    pub fn execute(&mut self, command: Command) -> Result<Outcome, EngineError> {
        let (operations, outcome) = match command {
            Command::UpsertProfile(upsert) => self.plan_upsert(upsert)?,
            Command::ChangeTags(change) => self.plan_tags(change)?,
        };
        let at = self.clock.now();
        for operation in operations {
            let change = Change {
                offset: self.next_offset,
                at,
                operation,
            };
            self.apply(&change)?;
            self.next_offset += 1;
            self.unpersisted.push(change);
        }
        Ok(outcome)
    }

    /// Hands over the changes committed since the last call, for persistence.
    pub fn take_unpersisted(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.unpersisted)
    }

    /// The offset the next change will get: the length of the change log.
    pub fn next_offset(&self) -> u64 {
        self.next_offset
    }

    /// The profile with this id, following the ids of profiles merged into others.
    pub fn profile(&self, id: ProfileId) -> Option<&Profile> {
        self.slots
            .get(&id)
            .and_then(|slot| self.profiles.get(slot.slot()))
    }

    /// The profile a normalized identifier belongs to.
    pub fn resolve(&self, identifier: &Identifier) -> Option<&Profile> {
        self.identities
            .owner(identifier)
            .and_then(|slot| self.profiles.get(slot.slot()))
    }

    /// Live profiles, in creation order.
    pub fn profiles(&self) -> impl ExactSizeIterator<Item = &Profile> {
        self.profiles.iter()
    }

    /// How many live profiles there are.
    pub fn profile_count(&self) -> usize {
        self.profiles.len()
    }

    /// How many identifiers the identity index holds.
    pub fn identifier_count(&self) -> usize {
        self.identities.len()
    }

    fn plan_upsert(&self, upsert: UpsertProfile) -> Result<(Vec<Operation>, Outcome), EngineError> {
        if upsert.identifiers.is_empty() {
            return Err(IdentityError::Missing.into());
        }
        let mut owner: Option<ProfileIndex> = None;
        for identifier in &upsert.identifiers {
            let Some(found) = self.identities.owner(identifier) else {
                continue;
            };
            match owner {
                Some(first) if first != found => {
                    let id_at = |slot: ProfileIndex| {
                        self.profiles.get(slot.slot()).map(|profile| profile.id)
                    };
                    if let (Some(first), Some(second)) = (id_at(first), id_at(found)) {
                        return Err(IdentityError::Conflict { first, second }.into());
                    }
                }
                _ => owner = Some(found),
            }
        }
        let existing = owner.and_then(|slot| self.profiles.get(slot.slot()));
        let profile = existing.map_or_else(ProfileId::random, |found| found.id);
        let mut operations = Vec::new();
        if existing.is_none() {
            operations.push(Operation::ProfileCreated { profile });
        }
        for identifier in dedup(upsert.identifiers) {
            if self.identities.owner(&identifier).is_none() {
                operations.push(Operation::IdentifierAdded {
                    profile,
                    identifier,
                });
            }
        }
        for (key, value) in upsert.attributes {
            let current = existing
                .and_then(|found| found.attributes.get(&upsert.source))
                .and_then(|by_key| by_key.get(&key))
                .map(|written| &written.value);
            match value {
                Some(value) if current != Some(&value) => {
                    operations.push(Operation::AttributeSet {
                        profile,
                        source: upsert.source.clone(),
                        key,
                        value,
                    });
                }
                None if current.is_some() => {
                    operations.push(Operation::AttributeRemoved {
                        profile,
                        source: upsert.source.clone(),
                        key,
                    });
                }
                _ => {}
            }
        }
        Ok((
            operations,
            Outcome::Profile {
                id: profile,
                created: existing.is_none(),
            },
        ))
    }

    fn plan_tags(&self, change: ChangeTags) -> Result<(Vec<Operation>, Outcome), EngineError> {
        let profile = self
            .profile(change.profile)
            .ok_or(EngineError::UnknownProfile(change.profile))?;
        if change
            .add
            .iter()
            .chain(&change.remove)
            .any(String::is_empty)
        {
            return Err(EngineError::InvalidCommand("a tag is empty".to_owned()));
        }
        let mut operations = Vec::new();
        let mut added: Vec<&String> = Vec::new();
        for tag in &change.add {
            if !profile.tags.manual.contains(tag) && !added.contains(&tag) {
                added.push(tag);
                operations.push(Operation::TagAdded {
                    profile: profile.id,
                    tag: tag.clone(),
                });
            }
        }
        let mut removed: Vec<&String> = Vec::new();
        for tag in &change.remove {
            if profile.tags.manual.contains(tag)
                && !change.add.contains(tag)
                && !removed.contains(&tag)
            {
                removed.push(tag);
                operations.push(Operation::TagRemoved {
                    profile: profile.id,
                    tag: tag.clone(),
                });
            }
        }
        Ok((
            operations,
            Outcome::Profile {
                id: profile.id,
                created: false,
            },
        ))
    }

    /// Applies one change. Planned changes always apply; a stored one that does not is
    /// reported as a corrupt log.
    fn apply(&mut self, change: &Change) -> Result<(), EngineError> {
        let corrupt = |reason: &str| EngineError::CorruptLog {
            offset: change.offset,
            reason: reason.to_owned(),
        };
        let at = change.at;
        match &change.operation {
            Operation::ProfileCreated { profile } => {
                if self.slots.contains_key(profile) {
                    return Err(corrupt("the profile exists already"));
                }
                let slot =
                    u32::try_from(self.profiles.len()).map_err(|_| corrupt("too many profiles"))?;
                self.slots.insert(*profile, ProfileIndex(slot));
                self.profiles.push(Profile::new(*profile, at));
            }
            Operation::ProfileImported { record } => {
                self.insert_profile(record.as_ref().clone())
                    .map_err(|reason| corrupt(&reason))?;
            }
            Operation::IdentifierAdded {
                profile,
                identifier,
            } => {
                let slot = *self
                    .slots
                    .get(profile)
                    .ok_or_else(|| corrupt("unknown profile"))?;
                if self.identities.owner(identifier).is_some() {
                    return Err(corrupt("the identifier belongs to a profile already"));
                }
                self.identities.assign(identifier.clone(), slot);
                let target = self
                    .touch(slot, at)
                    .ok_or_else(|| corrupt("unknown profile"))?;
                target.identities.push(identifier.clone());
            }
            Operation::AttributeSet {
                profile,
                source,
                key,
                value,
            } => {
                let slot = *self
                    .slots
                    .get(profile)
                    .ok_or_else(|| corrupt("unknown profile"))?;
                let target = self
                    .touch(slot, at)
                    .ok_or_else(|| corrupt("unknown profile"))?;
                let written = AttributeValue {
                    value: value.clone(),
                    updated: at,
                };
                target
                    .attributes
                    .entry(source.clone())
                    .or_default()
                    .insert(key.clone(), written);
            }
            Operation::AttributeRemoved {
                profile,
                source,
                key,
            } => {
                let slot = *self
                    .slots
                    .get(profile)
                    .ok_or_else(|| corrupt("unknown profile"))?;
                let target = self
                    .touch(slot, at)
                    .ok_or_else(|| corrupt("unknown profile"))?;
                if let Some(by_key) = target.attributes.get_mut(source) {
                    by_key.remove(key);
                    if by_key.is_empty() {
                        target.attributes.remove(source);
                    }
                }
            }
            Operation::TagAdded { profile, tag } => {
                let slot = *self
                    .slots
                    .get(profile)
                    .ok_or_else(|| corrupt("unknown profile"))?;
                let target = self
                    .touch(slot, at)
                    .ok_or_else(|| corrupt("unknown profile"))?;
                target.tags.manual.insert(tag.clone());
            }
            Operation::TagRemoved { profile, tag } => {
                let slot = *self
                    .slots
                    .get(profile)
                    .ok_or_else(|| corrupt("unknown profile"))?;
                let target = self
                    .touch(slot, at)
                    .ok_or_else(|| corrupt("unknown profile"))?;
                target.tags.manual.remove(tag);
            }
        }
        Ok(())
    }

    /// The profile at `slot`, marked as changed at `at`.
    fn touch(&mut self, slot: ProfileIndex, at: Timestamp) -> Option<&mut Profile> {
        let profile = self.profiles.get_mut(slot.slot())?;
        profile.updated = profile.updated.max(at);
        profile.version += 1;
        Some(profile)
    }
}

fn dedup(identifiers: Vec<Identifier>) -> Vec<Identifier> {
    let mut seen = Vec::with_capacity(identifiers.len());
    for identifier in identifiers {
        if !seen.contains(&identifier) {
            seen.push(identifier);
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine_with_profile() -> (Engine, ProfileId) {
        let mut engine = Engine::new(IdentityConfig::default(), Rc::new(SystemClock));
        let command = Command::from_json(
            r#"{"upsertProfile":{"identities":{"email":"a@b.c"}}}"#,
            &IdentityConfig::default(),
        )
        .unwrap();
        let Outcome::Profile { id, .. } = engine.execute(command).unwrap();
        (engine, id)
    }

    fn tags(profile: ProfileId, add: &[&str], remove: &[&str]) -> Command {
        let owned = |tags: &[&str]| tags.iter().map(|tag| (*tag).to_owned()).collect();
        Command::ChangeTags(ChangeTags {
            profile,
            add: owned(add),
            remove: owned(remove),
        })
    }

    #[test]
    fn tags_are_added_and_removed_once_each() {
        let (mut engine, id) = engine_with_profile();
        engine.execute(tags(id, &["b", "a", "b"], &[])).unwrap();
        engine.execute(tags(id, &["c"], &["a", "c", "zz"])).unwrap();
        let manual: Vec<_> = engine.profile(id).unwrap().tags.manual.iter().collect();
        assert_eq!(manual, ["b", "c"], "a tag both added and removed is kept");
        let names: Vec<_> = engine
            .take_unpersisted()
            .iter()
            .map(|change| change.operation.name())
            .collect();
        assert_eq!(
            names,
            [
                "profile_created",
                "identifier_added",
                "tag_added",
                "tag_added",
                "tag_added",
                "tag_removed"
            ]
        );
    }

    #[test]
    fn rejected_tag_change_leaves_state_and_log_as_they_were() {
        let (mut engine, id) = engine_with_profile();
        let before = (engine.profile(id).cloned(), engine.next_offset());
        let error = engine.execute(tags(id, &["ok", ""], &[])).unwrap_err();
        assert_eq!(error.code(), "engine.invalid_command");
        let unknown = ProfileId::random();
        let error = engine.execute(tags(unknown, &["ok"], &[])).unwrap_err();
        assert_eq!(error, EngineError::UnknownProfile(unknown));
        assert_eq!(error.code(), "engine.unknown_profile");
        assert_eq!((engine.profile(id).cloned(), engine.next_offset()), before);
    }
}
