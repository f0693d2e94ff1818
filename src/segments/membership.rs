//! Segment membership as bitmaps over the dense profile index, kept up to date one profile
//! at a time as changes are applied, with entry/exit history.

use roaring::RoaringBitmap;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::columns::{ColumnNumber, ColumnStore};
use super::evaluate::{held_by_profile, DenseBits, RowRule, Sources};
use super::rule::Field;
use super::{SegmentDefinition, SegmentError};
use crate::events::{next_generation, EventStore, NameKey, PerName};
use crate::model::{Profile, ProfileIndex, Timestamp};
use crate::parts::in_parts;
use crate::traits::TraitStore;

/// Whether a profile entered or left a segment.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MembershipChange {
    /// It now satisfies the rule.
    Entered,
    /// It no longer does.
    Exited,
}

/// One entry or exit, in a segment's history.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MembershipRecord {
    /// When (the time of the change that caused it).
    pub at: Timestamp,
    /// Who.
    pub profile: ProfileIndex,
    /// Entered or exited.
    pub change: MembershipChange,
}

/// What the store reads besides its own columns.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    /// Profiles by slot; `None` is the tombstone of a profile merged away.
    pub profiles: &'a [Option<Profile>],
    /// Computed trait values.
    pub traits: &'a TraitStore,
    /// Events.
    pub events: &'a EventStore,
}

#[derive(Clone, Debug)]
struct SegmentState {
    definition: SegmentDefinition,
    members: RoaringBitmap,
    ever: RoaringBitmap,
    history: Vec<MembershipRecord>,
    event_names: Vec<String>,
    trait_names: Vec<String>,
    time_dependent: bool,
    /// The rule compiled for one profile at a time, with the column count it was compiled
    /// at; `None` until first needed and after the rule changes.
    row: Option<(usize, RowRule)>,
}

/// Counts of one segment for statistics.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SegmentCounts {
    /// Current members.
    pub members: u64,
    /// Profiles that entered at some time and are no longer members.
    pub former_members: u64,
    /// How many entries the history holds.
    pub entries: u64,
    /// How many exits the history holds.
    pub exits: u64,
}

/// One segment's state as a snapshot stores it beside its definition: its members, every
/// profile that ever entered, and how many history records follow it in [`SegmentHistory`]
/// parts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredSegment {
    members: RoaringBitmap,
    ever: RoaringBitmap,
    history: u64,
}

impl StoredSegment {
    /// How many history records belong to it.
    pub fn history_len(&self) -> u64 {
        self.history
    }
}

/// Part of one segment's entry/exit history (time, profile slot, entered or exited), oldest
/// first, as a snapshot keeps it: history cannot be recomputed from the profiles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentHistory(Vec<(Timestamp, u32, MembershipChange)>);

impl SegmentHistory {
    /// How many records the part holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the part holds no record.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What every segment scan shares, as a snapshot keeps it: the slots of profiles merged
/// away (never scanned, even once an unmerge fills the slot again) and the scanned length.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentScope {
    retired: RoaringBitmap,
    len: u64,
}

/// Every segment with its members, history and the columns its rules scan.
#[derive(Clone, Debug, Default)]
pub struct SegmentStore {
    /// In system-title order, so a reader's position indexes it directly.
    segments: Vec<SegmentState>,
    columns: ColumnStore,
    retired: RoaringBitmap,
    len: usize,
    watching: bool,
    pending: Vec<(String, MembershipRecord)>,
    /// Per event name: the positions (in system-title order) of the segments reading it,
    /// worked out at the generation `readers_generation` of the segments.
    event_readers: PerName<Vec<usize>>,
    readers_generation: u64,
    /// Positions (in system-title order) of the segments reading each trait.
    trait_readers: FxHashMap<String, Vec<usize>>,
    /// Reused for the positions one event affects, so ingest does not allocate for it.
    scratch: Vec<usize>,
    /// Per trait position, what a change of that trait touches here.
    trait_hooks: TraitHooks,
}

/// What a change of each trait touches, by trait position ([`TraitStore::name`]), worked
/// out from the names once per generation of the traits and of the segments, so recording
/// an event looks no trait name up.
#[derive(Clone, Debug, Default)]
struct TraitHooks {
    /// The traits' generation these hooks were worked out for; `None` once the segments or
    /// the columns changed.
    generation: Option<u64>,
    hooks: Vec<TraitHook>,
}

#[derive(Clone, Debug, Default)]
struct TraitHook {
    /// The number of the trait's column ([`ColumnStore::trait_number`]), if a rule reads it.
    column: Option<ColumnNumber>,
    /// The positions of the segments reading the trait.
    readers: Vec<usize>,
}

fn record(
    state: &mut SegmentState,
    pending: Option<&mut Vec<(String, MembershipRecord)>>,
    slot: u32,
    change: MembershipChange,
    at: Timestamp,
) {
    match change {
        MembershipChange::Entered => {
            state.members.insert(slot);
            state.ever.insert(slot);
        }
        MembershipChange::Exited => {
            state.members.remove(slot);
        }
    }
    log(state, pending, slot, change, at);
}

/// Appends one entry or exit to the segment's history, and for watchers to `pending`.
fn log(
    state: &mut SegmentState,
    pending: Option<&mut Vec<(String, MembershipRecord)>>,
    slot: u32,
    change: MembershipChange,
    at: Timestamp,
) {
    let entry = MembershipRecord {
        at,
        profile: ProfileIndex(slot),
        change,
    };
    state.history.push(entry);
    if let Some(pending) = pending {
        pending.push((state.definition.system_title.clone(), entry));
    }
}

/// The traits a segment's rule reads.
fn trait_names(definition: &SegmentDefinition) -> Vec<String> {
    definition
        .rule
        .fields()
        .into_iter()
        .filter_map(|field| match field {
            Field::Trait(name) => Some(name),
            Field::Attribute(_) | Field::Consent(_) | Field::Identity(_) | Field::Tags => None,
        })
        .collect()
}

/// Moves `state`'s members to `next`, recording exits and then entries in slot order. The
/// bitmaps change by whole-bitmap operations, not one insertion per profile: a rule defined
/// over a million profiles can let hundreds of thousands in at once. `next_bits`, the same
/// slots as a bitset, lets a segment without members log its entries without iterating
/// the compressed bitmap. The history is left to grow by doubling: room reserved to the
/// exact length would make the next single entry copy the whole history.
fn replace_members(
    state: &mut SegmentState,
    mut pending: Option<&mut Vec<(String, MembershipRecord)>>,
    next: &RoaringBitmap,
    next_bits: Option<&DenseBits>,
    at: Timestamp,
) {
    if let (true, Some(bits)) = (state.members.is_empty(), next_bits) {
        for slot in bits.slots() {
            log(
                state,
                pending.as_deref_mut(),
                slot,
                MembershipChange::Entered,
                at,
            );
        }
        state.members.clone_from(next);
        state.ever |= next;
        return;
    }
    let exited = &state.members - next;
    let entered = next - &state.members;
    for (slots, change) in [
        (&exited, MembershipChange::Exited),
        (&entered, MembershipChange::Entered),
    ] {
        for slot in slots {
            log(state, pending.as_deref_mut(), slot, change, at);
        }
    }
    state.members.clone_from(next);
    state.ever |= entered;
}

impl SegmentStore {
    fn sources<'a>(
        columns: &'a ColumnStore,
        retired: &'a RoaringBitmap,
        len: usize,
        inputs: Inputs<'a>,
        now: Timestamp,
    ) -> Sources<'a> {
        Sources {
            columns,
            events: inputs.events,
            now,
            len,
            retired,
        }
    }

    /// The segments for a snapshot: the shared scope, then every segment in system-title
    /// order with its state and its history in parts of at most `per_part` records, each part
    /// copied as it is read. Columns and reader indexes are not stored: they are rebuilt from
    /// the profiles and traits by [`SegmentStore::finish_restore`].
    pub fn stored(
        &self,
        per_part: usize,
    ) -> (
        SegmentScope,
        impl Iterator<
                Item = (
                    &SegmentDefinition,
                    StoredSegment,
                    impl Iterator<Item = SegmentHistory> + '_,
                ),
            > + '_,
    ) {
        let scope = SegmentScope {
            retired: self.retired.clone(),
            len: self.len as u64,
        };
        let segments = self.segments.iter().map(move |state| {
            let history = state
                .history
                .iter()
                .map(|record| (record.at, record.profile.0, record.change));
            (
                &state.definition,
                StoredSegment {
                    members: state.members.clone(),
                    ever: state.ever.clone(),
                    history: state.history.len() as u64,
                },
                in_parts(history, per_part).map(SegmentHistory),
            )
        });
        (scope, segments)
    }

    /// Puts back the scope [`SegmentStore::stored`] listed.
    pub fn restore_scope(&mut self, scope: SegmentScope) -> Result<(), String> {
        self.retired = scope.retired;
        self.len = usize::try_from(scope.len).map_err(|_| "segment scope too long")?;
        Ok(())
    }

    /// Puts back a segment [`SegmentStore::stored`] listed, in system-title order; its
    /// history parts follow.
    pub fn restore_segment(
        &mut self,
        definition: SegmentDefinition,
        stored: StoredSegment,
    ) -> Result<(), String> {
        let title = definition.system_title.clone();
        if self
            .segments
            .last()
            .is_some_and(|last| last.definition.system_title >= title)
        {
            return Err(format!("segment {title} is out of order"));
        }
        let state = SegmentState {
            event_names: definition.rule.event_names(),
            trait_names: trait_names(&definition),
            time_dependent: definition.rule.depends_on_time(),
            definition,
            members: stored.members,
            ever: stored.ever,
            history: Vec::with_capacity(usize::try_from(stored.history).unwrap_or(0).min(1 << 20)),
            row: None,
        };
        self.segments.push(state);
        Ok(())
    }

    /// Puts back history records of the segment restored last.
    pub fn restore_history(&mut self, part: SegmentHistory) -> Result<(), String> {
        let last = self
            .segments
            .last_mut()
            .ok_or_else(|| "segment history before any segment".to_owned())?;
        last.history.extend(
            part.0
                .into_iter()
                .map(|(at, slot, change)| MembershipRecord {
                    at,
                    profile: ProfileIndex(slot),
                    change,
                }),
        );
        Ok(())
    }

    /// After the last [`SegmentStore::restore_segment`]: rebuilds the columns every rule
    /// scans (from the profiles and trait values) and which segments read which events and
    /// traits.
    pub fn finish_restore(&mut self, inputs: Inputs<'_>) {
        let fields: Vec<Field> = self
            .segments
            .iter()
            .flat_map(|state| state.definition.rule.fields())
            .collect();
        for field in fields {
            self.ensure_column(field, inputs);
        }
        self.index_readers();
    }

    /// Starts or stops collecting entries and exits for [`SegmentStore::take_pending`].
    pub fn watch(&mut self, watching: bool) {
        self.watching = watching;
        if !watching {
            self.pending.clear();
        }
    }

    /// Hands over the entries and exits since the last call, while watching.
    pub fn take_pending(&mut self) -> Vec<(String, MembershipRecord)> {
        std::mem::take(&mut self.pending)
    }

    /// Adds or replaces a segment and evaluates it over every profile.
    pub fn define(&mut self, definition: SegmentDefinition, inputs: Inputs<'_>, now: Timestamp) {
        self.len = self.len.max(inputs.profiles.len());
        for field in definition.rule.fields() {
            self.ensure_column(field, inputs);
        }
        let existing = self.position(&definition.system_title).ok();
        let mut state = existing
            .map(|position| self.segments.remove(position))
            .unwrap_or_else(|| SegmentState {
                definition: definition.clone(),
                members: RoaringBitmap::new(),
                ever: RoaringBitmap::new(),
                history: Vec::new(),
                event_names: Vec::new(),
                trait_names: Vec::new(),
                time_dependent: false,
                row: None,
            });
        state.row = None;
        state.event_names = definition.rule.event_names();
        state.trait_names = trait_names(&definition);
        state.time_dependent = definition.rule.depends_on_time();
        state.definition = definition;
        let next_bits = state.definition.active.then(|| {
            Self::sources(&self.columns, &self.retired, self.len, inputs, now)
                .scan_bits(&state.definition.rule)
        });
        let next = next_bits
            .as_ref()
            .map_or_else(RoaringBitmap::new, DenseBits::to_bitmap);
        let pending = self.watching.then_some(&mut self.pending);
        replace_members(&mut state, pending, &next, next_bits.as_ref(), now);
        let position = self.segments.partition_point(|existing| {
            existing.definition.system_title < state.definition.system_title
        });
        self.segments.insert(position, state);
        self.index_readers();
    }

    /// Where the segment titled `title` is, or would be, in title order.
    fn position(&self, title: &str) -> Result<usize, usize> {
        self.segments
            .binary_search_by(|state| state.definition.system_title.as_str().cmp(title))
    }

    fn state(&self, title: &str) -> Option<&SegmentState> {
        self.position(title)
            .ok()
            .and_then(|position| self.segments.get(position))
    }

    fn ensure_column(&mut self, field: Field, inputs: Inputs<'_>) {
        if self.columns.has(&field) {
            return;
        }
        let number = self.columns.create(field.clone());
        self.trait_hooks.generation = None;
        if held_by_profile(&field) {
            for (position, profile) in inputs
                .profiles
                .iter()
                .enumerate()
                .filter_map(|(position, profile)| profile.as_ref().map(|found| (position, found)))
            {
                let slot = ProfileIndex(u32::try_from(position).unwrap_or(u32::MAX));
                if !self.retired.contains(slot.0) {
                    self.columns.index_at(number, slot, Some(profile));
                }
            }
        } else if let Field::Trait(name) = &field {
            for position in 0..inputs.profiles.len() {
                let slot = ProfileIndex(u32::try_from(position).unwrap_or(u32::MAX));
                let value = inputs.traits.value(name, slot);
                if value.is_some() {
                    self.columns.set_at(number, slot, value.as_ref());
                }
            }
        }
    }

    /// Turns a segment on (evaluating it over every profile) or off (every member exits).
    pub fn set_active(
        &mut self,
        title: &str,
        active: bool,
        inputs: Inputs<'_>,
        now: Timestamp,
    ) -> Result<(), SegmentError> {
        let mut definition = self
            .definition(title)
            .cloned()
            .ok_or_else(|| SegmentError::Unknown(title.to_owned()))?;
        definition.active = active;
        self.define(definition, inputs, now);
        Ok(())
    }

    /// Removes a segment; its members exit (seen by watchers) and its history goes with it.
    pub fn delete(&mut self, title: &str, now: Timestamp) -> Result<(), SegmentError> {
        let position = self
            .position(title)
            .map_err(|_| SegmentError::Unknown(title.to_owned()))?;
        let mut state = self.segments.remove(position);
        let pending = self.watching.then_some(&mut self.pending);
        replace_members(&mut state, pending, &RoaringBitmap::new(), None, now);
        self.index_readers();
        Ok(())
    }

    /// Rebuilds which segments read which event names and traits.
    fn index_readers(&mut self) {
        self.trait_hooks.generation = None;
        self.readers_generation = next_generation();
        self.trait_readers.clear();
        for (position, state) in self.segments.iter().enumerate() {
            for name in &state.trait_names {
                self.trait_readers
                    .entry(name.clone())
                    .or_default()
                    .push(position);
            }
        }
    }

    /// Whether some segment reads attribute `key`: writing another changes no membership.
    pub fn reads_attribute(&self, key: &str) -> bool {
        self.columns.reads_attribute(key)
    }

    /// Re-reads one profile's fields and re-evaluates every active segment for it.
    pub fn profile_changed(&mut self, slot: ProfileIndex, inputs: Inputs<'_>, now: Timestamp) {
        self.len = self.len.max(slot.slot() + 1).max(inputs.profiles.len());
        self.columns.index_profile(
            slot,
            inputs.profiles.get(slot.slot()).and_then(Option::as_ref),
        );
        self.reevaluate(slot, inputs, now, 0..self.segments.len());
    }

    /// Takes a profile out of every segment and every scan (it was merged away).
    pub fn profile_retired(&mut self, slot: ProfileIndex, inputs: Inputs<'_>, now: Timestamp) {
        self.retired.insert(slot.0);
        self.columns.index_profile(slot, None);
        self.reevaluate(slot, inputs, now, 0..self.segments.len());
    }

    /// Brings a profile merged away back into the scans (an unmerge restored it) and
    /// re-evaluates every active segment for it. Trait columns are refreshed for it first
    /// from `inputs`.
    pub fn profile_restored(&mut self, slot: ProfileIndex, inputs: Inputs<'_>, now: Timestamp) {
        self.retired.remove(slot.0);
        for name in inputs.traits.definitions().map(|found| found.name.as_str()) {
            self.refresh_trait(name, slot, inputs);
        }
        self.profile_changed(slot, inputs, now);
    }

    /// After an event of `name` was stored for the profile and folded into the traits at
    /// positions `changed_traits` (see [`TraitStore::name`]): updates those trait columns and re-evaluates the segments that read
    /// the event or one of the traits.
    pub fn event_recorded(
        &mut self,
        slot: ProfileIndex,
        name: &NameKey,
        changed_traits: &[usize],
        inputs: Inputs<'_>,
        now: Timestamp,
    ) {
        self.len = self.len.max(slot.slot() + 1);
        let mut readers = std::mem::take(&mut self.scratch);
        readers.clear();
        let segments = &self.segments;
        readers.extend_from_slice(self.event_readers.get_or_insert_with(
            self.readers_generation,
            name,
            |name| {
                segments
                    .iter()
                    .enumerate()
                    .filter(|(_, state)| state.event_names.iter().any(|read| read == name))
                    .map(|(position, _)| position)
                    .collect()
            },
        ));
        if !changed_traits.is_empty() {
            self.hook_traits(inputs.traits);
        }
        for position in changed_traits {
            let Some(hook) = self.trait_hooks.hooks.get(*position) else {
                continue;
            };
            if let Some(column) = hook.column {
                let value = inputs.traits.value_at(*position, slot);
                self.columns.set_at(column, slot, value.as_ref());
            }
            readers.extend_from_slice(&hook.readers);
        }
        if !readers.is_empty() {
            readers.sort_unstable();
            readers.dedup();
            self.reevaluate(slot, inputs, now, readers.iter().copied());
        }
        self.scratch = readers;
    }

    /// Works the trait hooks out again if the traits or the segments changed since.
    fn hook_traits(&mut self, traits: &TraitStore) {
        if self.trait_hooks.generation == Some(traits.generation()) {
            return;
        }
        self.trait_hooks.hooks = traits
            .definitions()
            .map(|definition| TraitHook {
                column: self.columns.trait_number(&definition.name),
                readers: self
                    .trait_readers
                    .get(&definition.name)
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect();
        self.trait_hooks.generation = Some(traits.generation());
    }

    /// After trait `name` was redefined or removed: refreshes its column for `slots` and
    /// re-evaluates the segments that read it.
    pub fn trait_changed(
        &mut self,
        name: &str,
        slots: &[ProfileIndex],
        inputs: Inputs<'_>,
        now: Timestamp,
    ) {
        let readers = self.trait_readers.get(name).cloned().unwrap_or_default();
        for slot in slots {
            self.refresh_trait(name, *slot, inputs);
            self.reevaluate(*slot, inputs, now, readers.iter().copied());
        }
    }

    fn refresh_trait(&mut self, name: &str, slot: ProfileIndex, inputs: Inputs<'_>) {
        if let Some(column) = self.columns.trait_number(name) {
            self.columns
                .set_at(column, slot, inputs.traits.value(name, slot).as_ref());
        }
    }

    /// Re-evaluates, at `now`, every active segment whose outcome can change with time alone.
    pub fn tick(&mut self, inputs: Inputs<'_>, now: Timestamp) {
        let Self {
            segments,
            columns,
            retired,
            len,
            watching,
            pending,
            ..
        } = self;
        let sources = Self::sources(columns, retired, *len, inputs, now);
        for state in segments.iter_mut() {
            if state.definition.active && state.time_dependent {
                let next = sources.scan(&state.definition.rule);
                replace_members(state, watching.then_some(&mut *pending), &next, None, now);
            }
        }
    }

    /// Whether [`SegmentStore::tick`] at `now` would change some membership.
    pub fn tick_would_change(&self, inputs: Inputs<'_>, now: Timestamp) -> bool {
        let sources = Self::sources(&self.columns, &self.retired, self.len, inputs, now);
        self.segments.iter().any(|state| {
            state.definition.active
                && state.time_dependent
                && sources.scan(&state.definition.rule) != state.members
        })
    }

    /// Re-evaluates, for the profile at `slot`, the active segments at `positions`.
    fn reevaluate(
        &mut self,
        slot: ProfileIndex,
        inputs: Inputs<'_>,
        now: Timestamp,
        positions: impl IntoIterator<Item = usize>,
    ) {
        let Self {
            segments,
            columns,
            retired,
            len,
            watching,
            pending,
            ..
        } = self;
        let sources = Self::sources(columns, retired, *len, inputs, now);
        for position in positions {
            let Some(state) = segments.get_mut(position) else {
                continue;
            };
            if !state.definition.active {
                continue;
            }
            let count = columns.count();
            let row = match &mut state.row {
                Some((compiled_at, row)) if *compiled_at == count => row,
                stale => {
                    &mut stale
                        .insert((count, RowRule::new(&state.definition.rule, columns)))
                        .1
                }
            };
            let member = sources.row(row, slot);
            if member != state.members.contains(slot.0) {
                let change = if member {
                    MembershipChange::Entered
                } else {
                    MembershipChange::Exited
                };
                record(
                    state,
                    watching.then_some(&mut *pending),
                    slot.0,
                    change,
                    now,
                );
            }
        }
    }

    /// Every live profile satisfying `definition`'s rule now, by a full scan (the
    /// reference for incremental membership; also a preview before defining).
    pub fn evaluate(
        &mut self,
        rule: &super::Rule,
        inputs: Inputs<'_>,
        now: Timestamp,
    ) -> RoaringBitmap {
        self.len = self.len.max(inputs.profiles.len());
        for field in rule.fields() {
            self.ensure_column(field, inputs);
        }
        Self::sources(&self.columns, &self.retired, self.len, inputs, now).scan(rule)
    }

    /// The definition of the segment with this system title.
    pub fn definition(&self, title: &str) -> Option<&SegmentDefinition> {
        self.state(title).map(|state| &state.definition)
    }

    /// Every definition, in system-title order.
    pub fn definitions(&self) -> impl Iterator<Item = &SegmentDefinition> {
        self.segments.iter().map(|state| &state.definition)
    }

    /// The members of the segment with this system title.
    pub fn members(&self, title: &str) -> Option<&RoaringBitmap> {
        self.state(title).map(|state| &state.members)
    }

    /// The entry/exit history of the segment, oldest first.
    pub fn history(&self, title: &str) -> Option<&[MembershipRecord]> {
        self.state(title).map(|state| state.history.as_slice())
    }

    /// The system titles of the segments the profile belongs to.
    pub fn segments_of(&self, slot: ProfileIndex) -> Vec<&str> {
        self.segments
            .iter()
            .filter(|state| state.members.contains(slot.0))
            .map(|state| state.definition.system_title.as_str())
            .collect()
    }

    /// Member and history counts of the segment.
    pub fn counts(&self, title: &str) -> Option<SegmentCounts> {
        let state = self.state(title)?;
        let entries = state
            .history
            .iter()
            .filter(|entry| entry.change == MembershipChange::Entered)
            .count() as u64;
        Some(SegmentCounts {
            members: state.members.len(),
            former_members: (&state.ever - &state.members).len(),
            entries,
            exits: state.history.len() as u64 - entries,
        })
    }
}
