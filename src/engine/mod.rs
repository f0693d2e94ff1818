//! The engine: applies commands atomically to the canonical model and records every effect as
//! numbered [`Change`]s. [`Database`] pairs it with a [`Storage`](crate::storage::Storage) so
//! a command is acknowledged only once its changes are durable.

mod change;
mod clock;
mod command;
mod database;
mod derived;
mod error;
mod event_command;
mod queries;

use std::collections::HashMap;
use std::rc::Rc;

pub use change::{Change, Entity, Operation};
pub use clock::{Clock, ManualClock, SystemClock};
pub use command::{Command, Outcome, UpsertProfile};
pub use database::Database;
pub use error::EngineError;
pub use event_command::{EventSubject, NewEvent};
pub use queries::MembershipEvent;

use derived::Derived;

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
    derived: Derived,
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
            derived: Derived::default(),
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
        for change in changes {
            if change.offset != engine.next_offset {
                return Err(EngineError::CorruptLog {
                    offset: change.offset,
                    reason: format!("expected offset {}", engine.next_offset),
                });
            }
            engine.apply(&change)?;
            engine.next_offset += 1;
        }
        Ok(engine)
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
        let (operations, outcome) = self.plan(command)?;
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
            Operation::EventRecorded { .. }
            | Operation::TraitDefined { .. }
            | Operation::TraitDeleted { .. }
            | Operation::SegmentDefined { .. }
            | Operation::SegmentActiveSet { .. }
            | Operation::SegmentDeleted { .. }
            | Operation::Ticked => return self.apply_derived(change),
        }
        if let Entity::Profile(profile) = change.operation.entity() {
            if let Some(slot) = self.slots.get(&profile).copied() {
                self.profile_touched(slot, at);
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
