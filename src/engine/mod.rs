//! The engine: applies commands atomically to the canonical model and records every effect as
//! numbered [`Change`]s. [`Database`] pairs it with a [`Storage`](crate::storage::Storage) so
//! a command is acknowledged only once its changes are durable.
//!
//! Every command is first planned against the current state into [`Operation`]s without
//! mutating anything; only a fully valid plan is applied. Applying is also what replay does,
//! so a replayed log equals the live state by construction.

mod apply;
mod batch;
mod change;
mod clock;
mod command;
mod command_json;
mod database;
mod derived;
mod error;
mod event_command;
mod merge;
mod plan_profile;
mod plan_schema;
mod queries;
mod record_json;
mod slots;
mod snapshot;
mod snapshot_profiles;
mod transfer;

use std::rc::Rc;

use rustc_hash::FxHashMap;

pub use batch::{BatchError, ExecuteError, Execution};
pub use change::{Change, Entity, Operation};
pub use clock::{Clock, ManualClock, SystemClock};
pub use command::{ChangeTags, Command, Outcome, TagWrite, UpsertProfile, WriteAttributes};
pub use database::{Database, DatabaseOptions, WRITE_ATTEMPTS};
pub use error::EngineError;
pub use event_command::{EventSubject, NewEvent};
pub use merge::{AttributeMove, MergeDelta, MergeRecord, UnmergeDelta};
pub use queries::MembershipEvent;
pub(crate) use record_json::{event_from_body, events_from_list};
pub use snapshot::{
    EventRecord, Packed, SnapshotChunk, SnapshotHeader, READABLE_SNAPSHOT_FORMATS,
    RECORDS_PER_CHUNK, SNAPSHOT_FORMAT,
};
pub use transfer::{ImportBatch, ImportError, EXPORT_FORMAT};

use apply::{attribute_run, attribute_write_to};
use derived::Derived;
use slots::ProfileSlots;

use crate::identity::{Identifier, IdentityConfig, IdentityError, IdentityIndex};
use crate::model::{AttributeNames, Profile, ProfileId, ProfileIndex, TagKind, Timestamp};
use crate::parts::in_parts;
use crate::schema::{Schema, SchemaConfig};
use crate::segments;

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
    slots: ProfileSlots,
    identities: IdentityIndex,
    /// Boxed: a record holds a whole profile, and growing the table moves every entry.
    merges: FxHashMap<ProfileId, Box<MergeRecord>>,
    next_offset: u64,
    unpersisted: Vec<Change>,
    /// Set when a refused batch left effects in memory that are not in the log.
    needs_reload: bool,
    derived: Derived,
    /// The attribute names the profiles share.
    attribute_names: AttributeNames,
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
            slots: ProfileSlots::default(),
            identities: IdentityIndex::default(),
            merges: FxHashMap::default(),
            next_offset: 0,
            unpersisted: Vec::new(),
            needs_reload: false,
            derived: Derived::default(),
            attribute_names: AttributeNames::default(),
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
        let mut changes = changes.into_iter().peekable();
        while let Some(change) = changes.next() {
            if change.offset != self.next_offset {
                return Err(EngineError::CorruptLog {
                    offset: change.offset,
                    reason: format!("expected offset {}", self.next_offset),
                });
            }
            // Attribute writes to one profile at one time apply as a run, as they did live.
            let run_of = attribute_run(&change);
            let continues = |next: &Change, run: &[Change]| {
                run_of.is_some()
                    && attribute_run(next) == run_of
                    && run
                        .last()
                        .is_some_and(|last| next.offset == last.offset + 1)
            };
            if changes
                .peek()
                .is_some_and(|next| continues(next, std::slice::from_ref(&change)))
            {
                let mut run = vec![change];
                while let Some(next) = changes.next_if(|next| continues(next, &run)) {
                    run.push(next);
                }
                self.apply_attribute_run(&run)?;
                self.next_offset += run.len() as u64;
                continue;
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

    /// The engine's whole state as snapshot chunks: a header, the schema, the profile slots
    /// in chunks of at most [`RECORDS_PER_CHUNK`], the merges in force, the events, each
    /// computed trait with its values, then the segments with their history. Profiles are
    /// encoded here, chunk by chunk (a record that cannot be encoded is an error). Pending
    /// unpersisted changes must have been taken first.
    pub fn snapshot_chunks(&self) -> Result<Vec<SnapshotChunk<'_>>, EngineError> {
        let mut chunks = Vec::new();
        self.for_each_snapshot_chunk(|chunk| {
            chunks.push(chunk);
            Ok(())
        })?;
        Ok(chunks)
    }

    /// Hands the chunks of [`Engine::snapshot_chunks`] to `each` as they are made, in order,
    /// stopping at the first error: a writer that stores (or copies out) each chunk before
    /// the next is made never holds the whole snapshot.
    pub fn for_each_snapshot_chunk<'a>(
        &'a self,
        mut each: impl FnMut(SnapshotChunk<'a>) -> Result<(), EngineError>,
    ) -> Result<(), EngineError> {
        let events = &self.derived.events;
        each(SnapshotChunk::Header(SnapshotHeader {
            format: SNAPSHOT_FORMAT,
            next_offset: self.next_offset,
            profiles: self.profiles.len() as u64,
            merges: self.merges.len() as u64,
            events: events.len() as u64,
            event_sequence: events.next_sequence(),
            traits: self.derived.traits.definitions().count() as u64,
            segments: self.derived.segments.definitions().count() as u64,
        }))?;
        each(SnapshotChunk::Schema(self.schema.clone()))?;
        for profiles in self.profiles.chunks(RECORDS_PER_CHUNK) {
            each(SnapshotChunk::ProfileSlots(Packed::from_bytes(
                snapshot_profiles::encode(profiles)?,
            )))?;
        }
        let merges = self.merges.values().map(|record| (**record).clone());
        for records in in_parts(merges, RECORDS_PER_CHUNK) {
            each(SnapshotChunk::Merges(records))?;
        }
        let mut part = Vec::with_capacity(RECORDS_PER_CHUNK.min(events.len()));
        for (slot, stored) in events.stored() {
            part.push(EventRecord {
                slot: slot.0,
                sequence: stored.sequence,
                event: Rc::clone(&stored.event),
            });
            if part.len() == RECORDS_PER_CHUNK {
                each(SnapshotChunk::Events(Packed::encode(&part)?))?;
                part.clear();
            }
        }
        if !part.is_empty() {
            each(SnapshotChunk::Events(Packed::encode(&part)?))?;
        }
        for (definition, cells, deadlines) in self.derived.traits.stored(RECORDS_PER_CHUNK) {
            each(SnapshotChunk::Trait(definition.clone()))?;
            for part in cells {
                each(SnapshotChunk::TraitCells(Packed::encode(&part)?))?;
            }
            for part in deadlines {
                each(SnapshotChunk::TraitDeadlines(Packed::encode(&part)?))?;
            }
        }
        let (scope, segments) = self.derived.segments.stored(RECORDS_PER_CHUNK);
        each(SnapshotChunk::SegmentScope(Packed::encode(&scope)?))?;
        for (definition, segment, history) in segments {
            each(SnapshotChunk::Segment(
                definition.clone(),
                Packed::encode(&segment)?,
            ))?;
            for part in history {
                each(SnapshotChunk::SegmentHistory(Packed::encode(&part)?))?;
            }
        }
        Ok(())
    }

    /// Rebuilds an engine from the chunks [`Engine::snapshot_chunks`] produced (this format
    /// or an earlier one), header first, and rebuilds the derived indexes (id → slot,
    /// identity index, event indexes, segment columns). Chunks that do not add up to their
    /// header are [`EngineError::CorruptSnapshot`]. [`SnapshotLoader`] takes them one at a
    /// time.
    pub fn from_snapshot<'a>(
        identity: IdentityConfig,
        schema: SchemaConfig,
        clock: Rc<dyn Clock>,
        chunks: impl IntoIterator<Item = SnapshotChunk<'a>>,
    ) -> Result<Self, EngineError> {
        let mut chunks = chunks.into_iter();
        let header = chunks.next().ok_or_else(|| {
            EngineError::CorruptSnapshot("the snapshot does not start with its header".to_owned())
        })?;
        let mut loader = SnapshotLoader::start(identity, schema, clock, header)?;
        for chunk in chunks {
            loader.add(chunk)?;
        }
        loader.finish()
    }

    /// Adds a whole live profile in the next slot and indexes it; refuses a known id or a
    /// unique identifier already owned, leaving the engine partly changed (its callers,
    /// loading a snapshot or applying committed changes, discard it then).
    fn insert_profile(&mut self, mut profile: Profile) -> Result<(), String> {
        profile.attributes.intern_names(&mut self.attribute_names);
        self.insert_interned_profile(profile)
    }

    /// [`Engine::insert_profile`] of a profile whose attribute names are the engine's shared
    /// ones already.
    fn insert_interned_profile(&mut self, profile: Profile) -> Result<(), String> {
        self.profiles.push(Some(profile));
        self.index_last_slot()
    }

    /// Files the profile in the last slot (nothing for a tombstone) under its id, its
    /// unique identifiers and its aliases; an error if another slot holds any of them. A
    /// loaded profile goes straight into its slot and is indexed there, not moved again.
    fn index_last_slot(&mut self) -> Result<(), String> {
        let Some(Some(profile)) = self.profiles.last() else {
            return Ok(());
        };
        let Ok(slot) = u32::try_from(self.profiles.len() - 1) else {
            return Err("too many profiles".to_owned());
        };
        let (slot, id) = (ProfileIndex(slot), profile.id);
        self.live_profiles += 1;
        if self.slots.insert_new(id, slot, &self.profiles).is_some() {
            return Err(format!("profile {id} appears twice"));
        }
        for identifier in profile.identities.iter() {
            if self.identity.is_unique(identifier.kind())
                && self
                    .identities
                    .claim(identifier, slot, &self.profiles)
                    .is_some()
            {
                return Err(format!("identifier {identifier} belongs to two profiles"));
            }
        }
        for alias in profile.aliases.iter() {
            self.slots.insert(*alias, slot, &self.profiles);
        }
        Ok(())
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
        self.execute_at(command, at)
    }

    /// [`Engine::execute`] committed at `at` (a batch commits all its records at one time).
    fn execute_at(&mut self, command: Command, at: Timestamp) -> Result<Outcome, EngineError> {
        let (operations, outcome) = self.plan(command, at)?;
        let mut operations = operations.into_iter();
        while let Some(operation) = operations.next() {
            // A body of many attributes applies as one run, not one write at a time.
            if let Some(profile) = attribute_write_to(&operation) {
                let more = operations
                    .as_slice()
                    .iter()
                    .take_while(|next| attribute_write_to(next) == Some(profile))
                    .count();
                if more > 0 {
                    // The run's changes go straight into the unpersisted log and are applied
                    // from there (taken out of the engine meanwhile), not gathered apart first.
                    let first = self.next_offset;
                    let mut log = std::mem::take(&mut self.unpersisted);
                    let start = log.len();
                    log.extend(
                        std::iter::once(operation)
                            .chain(operations.by_ref().take(more))
                            .zip(first..)
                            .map(|(operation, offset)| Change {
                                offset,
                                at,
                                operation,
                            }),
                    );
                    let applied = self.apply_attribute_run(log.get(start..).unwrap_or_default());
                    if applied.is_err() {
                        log.truncate(start);
                    }
                    self.unpersisted = log;
                    applied?;
                    self.next_offset += (more + 1) as u64;
                    continue;
                }
            }
            let created = match operation {
                Operation::ProfileCreated { profile } => Some(profile),
                _ => None,
            };
            let change = Change {
                offset: self.next_offset,
                at,
                operation,
            };
            self.apply(&change)?;
            if let Some(profile) = created {
                self.reserve_identifiers(profile, operations.as_slice());
            }
            self.next_offset += 1;
            self.unpersisted.push(change);
        }
        Ok(outcome)
    }

    /// Whether [`Engine::execute`] would accept `command` now, without applying anything: for
    /// a request made of several commands that must all be accepted before any is run.
    pub fn check(&self, command: &Command) -> Result<(), EngineError> {
        match command {
            // Checked without planning a copy of the event and its properties.
            Command::RecordEvent(event) => self.check_event(event, self.clock.now()),
            _ => self.plan(command.clone(), self.clock.now()).map(drop),
        }
    }

    fn plan(&self, command: Command, at: Timestamp) -> Result<(Planned, Outcome), EngineError> {
        let plan = match command {
            Command::UpsertProfile(upsert) => self.plan_upsert(upsert, at),
            Command::ChangeTags(change) => self.plan_change_tags(change),
            Command::WriteAttributes(write) => self.plan_write_attributes(write),
            Command::MergeProfiles { survivor, absorbed } => {
                self.plan_explicit_merge(survivor, absorbed)
            }
            Command::UnmergeProfile { absorbed } => self.plan_unmerge(absorbed, at),
            Command::RecordEvent(_)
            | Command::DefineTrait(_)
            | Command::DeleteTrait { .. }
            | Command::DefineSegment(_)
            | Command::SetSegmentActive { .. }
            | Command::DeleteSegment { .. }
            | Command::Tick => return self.plan_derived(command, at),
            Command::DeclareSource(_)
            | Command::RenameSource { .. }
            | Command::DeleteSource { .. }
            | Command::DisableSource { .. }
            | Command::AddSourceKey { .. }
            | Command::DeclareAttribute { .. }
            | Command::UpdateAttribute { .. }
            | Command::DeleteAttribute { .. }
            | Command::DisableAttribute { .. }
            | Command::ShareAttribute { .. }
            | Command::UnshareAttribute { .. } => {
                Ok((self.plan_schema_change(command)?, Outcome::SchemaChanged))
            }
        };
        plan.map(|(operations, outcome)| (Planned::Many(operations), outcome))
    }

    /// Hands over the changes committed since the last call, for persistence.
    pub fn take_unpersisted(&mut self) -> Vec<Change> {
        // The next batch is likely as long as this one: one allocation instead of a chain
        // of doublings (bounded, so a large import leaves no large buffer behind).
        let capacity = self.unpersisted.len().min(4096);
        std::mem::replace(&mut self.unpersisted, Vec::with_capacity(capacity))
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
        self.slots
            .get(id, &self.profiles)
            .and_then(|slot| self.live(slot))
    }

    /// The profile a normalized identifier belongs to (unique identifier types only).
    pub fn resolve(&self, identifier: &Identifier) -> Option<&Profile> {
        self.identities
            .owner(identifier, &self.profiles)
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
        self.merges.get(&absorbed).map(Box::as_ref)
    }

    fn plan_change_tags(
        &self,
        change: ChangeTags,
    ) -> Result<(Vec<Operation>, Outcome), EngineError> {
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
                    kind: TagKind::Manual,
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
                    kind: TagKind::Manual,
                    tag: tag.clone(),
                });
            }
        }
        Ok((
            operations,
            Outcome::Profile {
                id: profile.id,
                created: false,
                merged: Vec::new(),
            },
        ))
    }

    /// Every merge in force, in no particular order.
    pub fn merges(&self) -> impl Iterator<Item = &MergeRecord> {
        self.merges.values().map(Box::as_ref)
    }

    fn live(&self, slot: ProfileIndex) -> Option<&Profile> {
        self.profiles.get(slot.slot()).and_then(Option::as_ref)
    }

    /// The slot of the live profile `id` resolves to, or [`IdentityError::UnknownProfile`].
    fn live_slot(&self, id: ProfileId) -> Result<ProfileIndex, IdentityError> {
        self.slots
            .get(id, &self.profiles)
            .filter(|slot| self.live(*slot).is_some())
            .ok_or(IdentityError::UnknownProfile { profile: id })
    }
}

/// The operations a command plans. Most plan a list; recording an event of a known profile
/// plans one, kept inline, so that the commonest command allocates no list.
pub(crate) enum Planned {
    One([Operation; 1]),
    Many(Vec<Operation>),
}

impl IntoIterator for Planned {
    type Item = Operation;
    type IntoIter = PlannedIter;

    fn into_iter(self) -> PlannedIter {
        match self {
            Self::One(one) => PlannedIter::One(one.into_iter()),
            Self::Many(many) => PlannedIter::Many(many.into_iter()),
        }
    }
}

/// The planned operations in order, and those not taken yet ([`PlannedIter::as_slice`]).
pub(crate) enum PlannedIter {
    One(std::array::IntoIter<Operation, 1>),
    Many(std::vec::IntoIter<Operation>),
}

impl PlannedIter {
    /// The operations not taken yet.
    fn as_slice(&self) -> &[Operation] {
        match self {
            Self::One(one) => one.as_slice(),
            Self::Many(many) => many.as_slice(),
        }
    }
}

impl Iterator for PlannedIter {
    type Item = Operation;

    fn next(&mut self) -> Option<Operation> {
        match self {
            Self::One(one) => one.next(),
            Self::Many(many) => many.next(),
        }
    }
}

/// An engine being rebuilt from snapshot chunks handed over one at a time, as storage reads
/// them (see [`Engine::from_snapshot`]).
pub struct SnapshotLoader {
    engine: Engine,
    header: SnapshotHeader,
    /// Per segment so far: the history entries its state counts, and those restored.
    segment_history: Vec<(u64, u64)>,
}

fn corrupt(reason: &str) -> EngineError {
    EngineError::CorruptSnapshot(reason.to_owned())
}

/// Restores one profile slot of a snapshot of the first two formats: a live profile (its
/// attribute names interned into the engine's), or the tombstone of one merged away.
fn restore_slot(engine: &mut Engine, slot: Option<Profile>) -> Result<(), EngineError> {
    let Some(profile) = slot else {
        engine.profiles.push(None);
        return Ok(());
    };
    engine
        .insert_profile(profile)
        .map_err(|reason| corrupt(&reason))
}

impl SnapshotLoader {
    /// Starts from the snapshot's first chunk, its header.
    pub fn start(
        identity: IdentityConfig,
        schema: SchemaConfig,
        clock: Rc<dyn Clock>,
        first: SnapshotChunk<'_>,
    ) -> Result<Self, EngineError> {
        let SnapshotChunk::Header(header) = first else {
            return Err(corrupt("the snapshot does not start with its header"));
        };
        if !READABLE_SNAPSHOT_FORMATS.contains(&header.format) {
            return Err(EngineError::CorruptSnapshot(format!(
                "unknown snapshot format {}",
                header.format
            )));
        }
        let mut engine = Engine::with_schema(identity, schema, clock)?;
        engine.next_offset = header.next_offset;
        let expected = usize::try_from(header.profiles).unwrap_or(0).min(1 << 24);
        engine.profiles.reserve(expected);
        engine.slots.reserve(expected);
        // At least one identifier a profile, as a profile is created by its first one.
        engine.identities.reserve(expected);
        Ok(Self {
            engine,
            header,
            segment_history: Vec::new(),
        })
    }

    /// Restores the next chunk.
    pub fn add(&mut self, chunk: SnapshotChunk<'_>) -> Result<(), EngineError> {
        let Self {
            engine,
            segment_history,
            ..
        } = self;
        let derived = &mut engine.derived;
        match chunk {
            SnapshotChunk::Header(_) => return Err(corrupt("a second header")),
            SnapshotChunk::Schema(schema) => engine.schema = schema,
            SnapshotChunk::Profiles(profiles) => {
                for slot in profiles.into_owned() {
                    restore_slot(engine, slot)?;
                }
            }
            SnapshotChunk::PackedProfiles(packed) => {
                for slot in packed.decode::<Vec<Option<Profile>>>()? {
                    restore_slot(engine, slot)?;
                }
            }
            SnapshotChunk::ProfileSlots(packed) => {
                let slots =
                    snapshot_profiles::SlotReader::new(packed.bytes(), &mut engine.attribute_names)
                        .map_err(|reason| corrupt(&reason))?;
                // Each slot is read straight into place, then indexed there.
                for slot in slots {
                    match slot {
                        Ok(slot) => engine.profiles.push(slot),
                        Err(reason) => return Err(corrupt(&reason)),
                    }
                    if let Err(reason) = engine.index_last_slot() {
                        return Err(corrupt(&reason));
                    }
                }
            }
            SnapshotChunk::Merges(records) => {
                for record in records {
                    engine.merges.insert(record.absorbed.id, Box::new(record));
                }
            }
            SnapshotChunk::Events(packed) => {
                for record in packed.decode::<Vec<EventRecord>>()? {
                    derived
                        .events
                        .restore(ProfileIndex(record.slot), record.event, record.sequence)
                        .map_err(|reason| corrupt(&reason))?;
                }
            }
            SnapshotChunk::Trait(definition) => derived
                .traits
                .restore_definition(definition)
                .map_err(|reason| corrupt(&reason))?,
            SnapshotChunk::TraitCells(packed) => derived
                .traits
                .restore_cells(packed.decode()?)
                .map_err(|reason| corrupt(&reason))?,
            SnapshotChunk::TraitDeadlines(packed) => derived
                .traits
                .restore_deadlines(packed.decode()?)
                .map_err(|reason| corrupt(&reason))?,
            SnapshotChunk::SegmentScope(packed) => derived
                .segments
                .restore_scope(packed.decode()?)
                .map_err(|reason| corrupt(&reason))?,
            SnapshotChunk::Segment(definition, packed) => {
                let segment: segments::StoredSegment = packed.decode()?;
                segment_history.push((segment.history_len(), 0));
                derived
                    .segments
                    .restore_segment(definition, segment)
                    .map_err(|reason| corrupt(&reason))?;
            }
            SnapshotChunk::SegmentHistory(packed) => {
                let part: segments::SegmentHistory = packed.decode()?;
                let (_, restored) = segment_history
                    .last_mut()
                    .ok_or_else(|| corrupt("segment history before any segment"))?;
                *restored += part.len() as u64;
                derived
                    .segments
                    .restore_history(part)
                    .map_err(|reason| corrupt(&reason))?;
            }
        }
        Ok(())
    }

    /// Checks that the chunks added up to the header and rebuilds what is derived.
    pub fn finish(self) -> Result<Engine, EngineError> {
        let Self {
            mut engine,
            header,
            segment_history,
        } = self;
        let derived = &engine.derived;
        let counted = [
            ("slots", header.profiles, engine.profiles.len() as u64),
            ("merges", header.merges, engine.merges.len() as u64),
            ("events", header.events, derived.events.len() as u64),
            (
                "traits",
                header.traits,
                derived.traits.definitions().count() as u64,
            ),
            ("segments", header.segments, segment_history.len() as u64),
        ];
        if let Some((what, expected, found)) = counted
            .iter()
            .find(|(_, expected, found)| expected != found)
        {
            return Err(EngineError::CorruptSnapshot(format!(
                "the header counts {expected} {what}, the chunks hold {found}"
            )));
        }
        if segment_history
            .iter()
            .any(|(expected, restored)| expected != restored)
        {
            return Err(corrupt("a segment's history does not add up to its count"));
        }
        engine
            .derived
            .events
            .resume_numbering(header.event_sequence)
            .map_err(|reason| corrupt(&reason))?;
        let Engine {
            profiles, derived, ..
        } = &mut engine;
        let rules: Vec<&segments::Rule> = derived
            .segments
            .definitions()
            .map(|defined| &defined.rule)
            .collect();
        derived::mark_event_filters(&mut derived.events, &rules);
        let inputs = segments::Inputs {
            profiles,
            traits: &derived.traits,
            events: &derived.events,
        };
        derived.segments.finish_restore(inputs);
        Ok(engine)
    }
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
        let id = engine.execute(command).unwrap().profile_id().unwrap();
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
