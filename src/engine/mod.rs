//! The engine: applies commands atomically to the canonical model and records every effect as
//! numbered [`Change`]s. [`Database`] pairs it with a [`Storage`](crate::storage::Storage) so
//! a command is acknowledged only once its changes are durable.
//!
//! Every command is first planned against the current state into [`Operation`]s without
//! mutating anything; only a fully valid plan is applied. Applying is also what replay does,
//! so a replayed log equals the live state by construction.

mod apply;
mod change;
mod clock;
mod command;
mod command_json;
mod database;
mod error;
mod merge;
mod plan_profile;
mod plan_schema;

use std::collections::HashMap;

use rustc_hash::FxHashMap;
use std::rc::Rc;

pub use change::{Change, Entity, Operation};
pub use clock::{Clock, ManualClock, SystemClock};
pub use command::{Command, Outcome, TagWrite, UpsertProfile};
pub use database::Database;
pub use error::EngineError;
pub use merge::{AttributeMove, MergeDelta, MergeRecord, UnmergeDelta};

use crate::identity::{Identifier, IdentityConfig, IdentityError, IdentityIndex};
use crate::model::{Profile, ProfileId, ProfileIndex, Timestamp};
use crate::schema::{Schema, SchemaConfig};

/// The in-memory state of one database and the rules that change it.
pub struct Engine {
    identity: IdentityConfig,
    schema_config: SchemaConfig,
    schema: Schema,
    clock: Rc<dyn Clock>,
    /// Profiles by slot; a profile merged away leaves a tombstone (`None`) that an unmerge
    /// fills again.
    profiles: Vec<Option<Profile>>,
    live_profiles: usize,
    /// Every profile id, including those merged away (pointing at their survivor's slot).
    slots: FxHashMap<ProfileId, ProfileIndex>,
    identities: IdentityIndex,
    merges: HashMap<ProfileId, MergeRecord>,
    next_offset: u64,
    unpersisted: Vec<Change>,
}

/// The live profiles of an engine, in creation order.
pub struct LiveProfiles<'a> {
    slots: std::slice::Iter<'a, Option<Profile>>,
    remaining: usize,
}

impl<'a> Iterator for LiveProfiles<'a> {
    type Item = &'a Profile;

    fn next(&mut self) -> Option<Self::Item> {
        let next = self.slots.by_ref().flatten().next();
        if next.is_some() {
            self.remaining = self.remaining.saturating_sub(1);
        }
        next
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for LiveProfiles<'_> {}

impl Engine {
    /// An empty engine with the given identity rules and clock, and no declared attributes.
    pub fn new(identity: IdentityConfig, clock: Rc<dyn Clock>) -> Self {
        Self {
            identity,
            schema_config: SchemaConfig::default(),
            schema: Schema::default(),
            clock,
            profiles: Vec::new(),
            live_profiles: 0,
            slots: FxHashMap::default(),
            identities: IdentityIndex::default(),
            merges: HashMap::new(),
            next_offset: 0,
            unpersisted: Vec::new(),
        }
    }

    /// An empty engine whose schema starts with the sources and attributes `schema`
    /// declares; a declaration that is not valid is refused.
    pub fn with_schema(
        identity: IdentityConfig,
        schema: SchemaConfig,
        clock: Rc<dyn Clock>,
    ) -> Result<Self, EngineError> {
        let mut engine = Self::new(identity, clock);
        engine.schema = Schema::from_config(&schema)?;
        engine.schema_config = schema;
        Ok(engine)
    }

    /// Rebuilds an engine by applying a stored change log in order. The log must start at
    /// offset 0 and have no gaps; a change that does not apply is [`EngineError::CorruptLog`].
    pub fn replay(
        identity: IdentityConfig,
        clock: Rc<dyn Clock>,
        changes: impl IntoIterator<Item = Change>,
    ) -> Result<Self, EngineError> {
        Self::replay_with_schema(identity, SchemaConfig::default(), clock, changes)
    }

    /// [`Engine::replay`] onto the schema `schema` declares.
    pub fn replay_with_schema(
        identity: IdentityConfig,
        schema: SchemaConfig,
        clock: Rc<dyn Clock>,
        changes: impl IntoIterator<Item = Change>,
    ) -> Result<Self, EngineError> {
        let mut engine = Self::with_schema(identity, schema, clock)?;
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

    /// The schema configuration the engine started from.
    pub fn schema_config(&self) -> &SchemaConfig {
        &self.schema_config
    }

    /// The declared sources and attributes as they are now.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The current time of the engine's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Validates `command` against the current state and, if it is valid, applies all of it.
    /// A rejected command leaves the state, the change log and the unpersisted changes
    /// exactly as they were.
    pub fn execute(&mut self, command: Command) -> Result<Outcome, EngineError> {
        let at = self.clock.now();
        let (operations, outcome) = self.plan(command, at)?;
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

    fn plan(
        &self,
        command: Command,
        at: Timestamp,
    ) -> Result<(Vec<Operation>, Outcome), EngineError> {
        match command {
            Command::UpsertProfile(upsert) => self.plan_upsert(upsert, at),
            Command::MergeProfiles { survivor, absorbed } => {
                self.plan_explicit_merge(survivor, absorbed)
            }
            Command::UnmergeProfile { absorbed } => self.plan_unmerge(absorbed, at),
            Command::DeclareSource(_)
            | Command::RenameSource { .. }
            | Command::DeleteSource { .. }
            | Command::DisableSource { .. }
            | Command::DeclareAttribute { .. }
            | Command::UpdateAttribute { .. }
            | Command::DeleteAttribute { .. }
            | Command::DisableAttribute { .. }
            | Command::ShareAttribute { .. }
            | Command::UnshareAttribute { .. } => {
                Ok((self.plan_schema_change(command)?, Outcome::SchemaChanged))
            }
        }
    }

    /// Hands over the changes committed since the last call, for persistence.
    pub fn take_unpersisted(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.unpersisted)
    }

    /// The changes committed since the last [`Engine::take_unpersisted`], without taking them.
    pub fn unpersisted(&self) -> &[Change] {
        &self.unpersisted
    }

    /// The offset the next change will get: the length of the change log.
    pub fn next_offset(&self) -> u64 {
        self.next_offset
    }

    /// The profile with this id, following the ids of profiles merged into others.
    pub fn profile(&self, id: ProfileId) -> Option<&Profile> {
        self.slots.get(&id).and_then(|slot| self.live(*slot))
    }

    /// The profile a normalized identifier belongs to (unique identifier types only).
    pub fn resolve(&self, identifier: &Identifier) -> Option<&Profile> {
        self.identities
            .owner(identifier)
            .and_then(|slot| self.live(slot))
    }

    /// Live profiles, in creation order; profiles merged away are not among them.
    pub fn profiles(&self) -> LiveProfiles<'_> {
        LiveProfiles {
            slots: self.profiles.iter(),
            remaining: self.live_profiles,
        }
    }

    /// How many live profiles there are.
    pub fn profile_count(&self) -> usize {
        self.live_profiles
    }

    /// How many identifiers the identity index holds.
    pub fn identifier_count(&self) -> usize {
        self.identities.len()
    }

    /// The logged merge that absorbed the profile `absorbed`, if it is still in force: who
    /// absorbed it, what it was, what moved and which identifiers made the profiles meet.
    pub fn merge_of(&self, absorbed: ProfileId) -> Option<&MergeRecord> {
        self.merges.get(&absorbed)
    }

    /// Every merge in force, in no particular order.
    pub fn merges(&self) -> impl Iterator<Item = &MergeRecord> {
        self.merges.values()
    }

    fn live(&self, slot: ProfileIndex) -> Option<&Profile> {
        self.profiles.get(slot.slot()).and_then(Option::as_ref)
    }

    /// The slot of the live profile `id` resolves to, or [`IdentityError::UnknownProfile`].
    fn live_slot(&self, id: ProfileId) -> Result<ProfileIndex, IdentityError> {
        self.slots
            .get(&id)
            .copied()
            .filter(|slot| self.live(*slot).is_some())
            .ok_or(IdentityError::UnknownProfile { profile: id })
    }
}
