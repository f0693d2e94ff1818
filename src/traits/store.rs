//! Every computed trait's values per profile, folded incrementally as events arrive and
//! refolded from the event store when events leave a trait's window.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

use super::accumulator::Accumulator;
use super::TraitDefinition;
use crate::events::{next_generation, EventStore, PerName, StoredEvent};
use crate::model::{ProfileIndex, Timestamp, Value};
use crate::parts::in_parts;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct TraitCell {
    accumulator: Accumulator,
    /// The earliest event folded, for windowed traits: when it leaves the window the cell
    /// is refolded.
    oldest: Option<Timestamp>,
}

#[derive(Clone, Debug)]
struct TraitState {
    definition: TraitDefinition,
    cells: HashMap<u32, TraitCell>,
    /// (when the oldest folded event leaves the window, profile), soonest first.
    deadlines: BinaryHeap<Reverse<(Timestamp, u32)>>,
}

impl TraitState {
    fn new(definition: TraitDefinition) -> Self {
        Self {
            definition,
            cells: HashMap::default(),
            deadlines: BinaryHeap::new(),
        }
    }

    /// Whether an event of the trait's event name counts at `now`: inside the window, and
    /// passing the filters. The caller compares the name.
    fn counts(&self, stored: &StoredEvent, now: Timestamp) -> bool {
        self.definition
            .window_seconds
            .is_none_or(|window| stored.happened() > now.plus_seconds(-window))
            && self
                .definition
                .filters
                .iter()
                .all(|filter| filter.matches(&stored.event.properties, now))
    }

    fn fold(&mut self, slot: ProfileIndex, stored: &StoredEvent) {
        let time = Value::DateTime(stored.happened());
        let input = match &self.definition.property {
            Some(property) => stored.event.properties.get(property),
            None => Some(&time),
        };
        let aggregate = self.definition.aggregate;
        let cell = self.cells.entry(slot.0).or_insert_with(|| TraitCell {
            accumulator: Accumulator::new(aggregate),
            oldest: None,
        });
        cell.accumulator
            .fold((stored.happened(), stored.sequence), input);
        if let Some(window) = self.definition.window_seconds {
            let at = stored.happened();
            if cell.oldest.is_none_or(|oldest| at < oldest) {
                cell.oldest = Some(at);
                self.deadlines
                    .push(Reverse((at.plus_seconds(window), slot.0)));
            }
        }
    }

    fn refold(&mut self, slot: ProfileIndex, events: &EventStore, now: Timestamp) {
        self.cells.remove(&slot.0);
        let Some(name) = events.name_id(&self.definition.event) else {
            return;
        };
        for stored in events.of_profile(slot) {
            if stored.is_named(name) && self.counts(stored, now) {
                self.fold(slot, stored);
            }
        }
    }

    fn value(&self, slot: ProfileIndex) -> Option<Value> {
        self.cells
            .get(&slot.0)
            .and_then(|cell| cell.accumulator.value(self.definition.aggregate))
    }
}

/// Part of one computed trait's folded values (profile slot, running fold), as a snapshot
/// keeps them: restored as they were, so floating-point sums and sliding windows come back
/// exactly as folded, not refolded at load time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraitCells(Vec<(u32, TraitCell)>);

/// Part of one windowed trait's pending refolds (when, profile slot), as a snapshot keeps
/// them, stale ones included, so a restored store ticks exactly like the live one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraitDeadlines(Vec<(Timestamp, u32)>);

/// The computed traits and their values, in name order.
#[derive(Clone, Debug, Default)]
pub struct TraitStore {
    traits: Vec<TraitState>,
    /// Changes whenever a trait is added or removed ([`TraitStore::generation`]).
    generation: u64,
    /// Per event name: the positions of the traits over events of that name.
    by_event: PerName<Vec<usize>>,
}

impl TraitStore {
    /// A number that changes whenever the traits' positions ([`TraitStore::name`]) may
    /// have: what is worked out per position at one generation holds while it lasts.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The definitions, in name order.
    pub fn definitions(&self) -> impl Iterator<Item = &TraitDefinition> {
        self.traits.iter().map(|state| &state.definition)
    }

    /// The definition named `name`.
    pub fn definition(&self, name: &str) -> Option<&TraitDefinition> {
        self.position(name)
            .and_then(|position| self.traits.get(position))
            .map(|state| &state.definition)
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.traits
            .binary_search_by(|state| state.definition.name.as_str().cmp(name))
            .ok()
    }

    /// Adds or replaces a trait and folds every stored event into it. Returns the profiles
    /// whose value of the trait may have changed.
    pub fn define(
        &mut self,
        definition: TraitDefinition,
        events: &EventStore,
        profile_count: usize,
        now: Timestamp,
    ) -> Vec<ProfileIndex> {
        let mut touched: Vec<u32> = self
            .remove(&definition.name)
            .into_iter()
            .map(|slot| slot.0)
            .collect();
        let mut state = TraitState::new(definition);
        for position in 0..profile_count {
            let slot = ProfileIndex(u32::try_from(position).unwrap_or(u32::MAX));
            state.refold(slot, events, now);
        }
        touched.extend(state.cells.keys().copied());
        touched.sort_unstable();
        touched.dedup();
        let index = self
            .traits
            .partition_point(|existing| existing.definition.name < state.definition.name);
        self.traits.insert(index, state);
        self.generation = next_generation();
        touched.into_iter().map(ProfileIndex).collect()
    }

    /// Removes a trait; returns the profiles that had a value of it (empty if unknown).
    pub fn remove(&mut self, name: &str) -> Vec<ProfileIndex> {
        let Some(position) = self.position(name) else {
            return Vec::new();
        };
        let state = self.traits.remove(position);
        self.generation = next_generation();
        let mut slots: Vec<ProfileIndex> = state.cells.keys().copied().map(ProfileIndex).collect();
        slots.sort_unstable();
        slots
    }

    /// Every trait for a snapshot, in name order: its definition, then its values and its
    /// pending refolds in parts of at most `per_part` entries, each part copied as it is read.
    pub fn stored(
        &self,
        per_part: usize,
    ) -> impl Iterator<
        Item = (
            &TraitDefinition,
            impl Iterator<Item = TraitCells> + '_,
            impl Iterator<Item = TraitDeadlines> + '_,
        ),
    > + '_ {
        self.traits.iter().map(move |state| {
            let cells = state.cells.iter().map(|(slot, cell)| (*slot, cell.clone()));
            let deadlines = state.deadlines.iter().map(|Reverse(deadline)| *deadline);
            (
                &state.definition,
                in_parts(cells, per_part).map(TraitCells),
                in_parts(deadlines, per_part).map(TraitDeadlines),
            )
        })
    }

    /// Puts back a trait [`TraitStore::stored`] listed, in name order, with no values yet;
    /// its values and deadlines follow. Refuses a name out of order.
    pub fn restore_definition(&mut self, definition: TraitDefinition) -> Result<(), String> {
        if self
            .traits
            .last()
            .is_some_and(|last| last.definition.name >= definition.name)
        {
            return Err(format!("trait {} is out of order", definition.name));
        }
        self.traits.push(TraitState::new(definition));
        self.generation = next_generation();
        Ok(())
    }

    /// Puts back values of the trait restored last; refuses a profile given twice.
    pub fn restore_cells(&mut self, cells: TraitCells) -> Result<(), String> {
        let state = self
            .traits
            .last_mut()
            .ok_or_else(|| "trait values before any trait".to_owned())?;
        for (slot, cell) in cells.0 {
            if state.cells.insert(slot, cell).is_some() {
                return Err(format!(
                    "trait {} has two values for one profile",
                    state.definition.name
                ));
            }
        }
        Ok(())
    }

    /// Puts back pending refolds of the trait restored last.
    pub fn restore_deadlines(&mut self, deadlines: TraitDeadlines) -> Result<(), String> {
        let state = self
            .traits
            .last_mut()
            .ok_or_else(|| "trait deadlines before any trait".to_owned())?;
        state.deadlines.extend(deadlines.0.into_iter().map(Reverse));
        Ok(())
    }

    /// Folds a newly stored event of the profile at `slot` into every trait it counts for,
    /// and puts the positions of those traits (see [`TraitStore::name`]) into `folded`
    /// (cleared first; a buffer the caller reuses, so ingest does not allocate for it).
    pub fn on_event(
        &mut self,
        slot: ProfileIndex,
        stored: &StoredEvent,
        now: Timestamp,
        folded: &mut Vec<usize>,
    ) {
        folded.clear();
        let traits = &mut self.traits;
        let positions =
            self.by_event
                .get_or_insert_with(self.generation, &stored.name_key(), |name| {
                    traits
                        .iter()
                        .enumerate()
                        .filter(|(_, state)| state.definition.event == name)
                        .map(|(position, _)| position)
                        .collect()
                });
        for &position in positions {
            if let Some(state) = traits.get_mut(position) {
                if state.counts(stored, now) {
                    state.fold(slot, stored);
                    folded.push(position);
                }
            }
        }
    }

    /// The name of the trait at `position` in name order.
    pub fn name(&self, position: usize) -> Option<&str> {
        self.traits
            .get(position)
            .map(|state| state.definition.name.as_str())
    }

    /// The value of the trait at `position` (see [`TraitStore::name`]) for the profile at
    /// `slot`: what [`TraitStore::value`] gives, without looking the name up.
    pub fn value_at(&self, position: usize, slot: ProfileIndex) -> Option<Value> {
        self.traits
            .get(position)
            .and_then(|state| state.value(slot))
    }

    /// Refolds every profile whose oldest windowed event left its window by `now`. Returns
    /// the (trait, profile) pairs refolded.
    pub fn expire(&mut self, events: &EventStore, now: Timestamp) -> Vec<(String, ProfileIndex)> {
        let mut refolded = Vec::new();
        for state in &mut self.traits {
            let Some(window) = state.definition.window_seconds else {
                continue;
            };
            while let Some(Reverse((deadline, slot))) = state.deadlines.peek().copied() {
                if deadline > now {
                    break;
                }
                state.deadlines.pop();
                let current = state
                    .cells
                    .get(&slot)
                    .and_then(|cell| cell.oldest)
                    .map(|oldest| oldest.plus_seconds(window));
                if current == Some(deadline) {
                    state.refold(ProfileIndex(slot), events, now);
                    refolded.push((state.definition.name.clone(), ProfileIndex(slot)));
                }
            }
        }
        refolded
    }

    /// Whether some windowed value is due to be refolded at `now`.
    pub fn has_expired(&self, now: Timestamp) -> bool {
        self.traits.iter().any(|state| {
            state
                .deadlines
                .peek()
                .is_some_and(|Reverse((deadline, _))| *deadline <= now)
        })
    }

    /// Refolds the profile at `slot` in every trait (after a merge moved events to it).
    pub fn refold_profile(&mut self, slot: ProfileIndex, events: &EventStore, now: Timestamp) {
        for state in &mut self.traits {
            state.refold(slot, events, now);
        }
    }

    /// The value of trait `name` for the profile at `slot`.
    pub fn value(&self, name: &str, slot: ProfileIndex) -> Option<Value> {
        self.position(name)
            .and_then(|position| self.traits.get(position))
            .and_then(|state| state.value(slot))
    }

    /// Every trait value of the profile at `slot`, by trait name (PrimeData's `p_trait`).
    pub fn values_of(&self, slot: ProfileIndex) -> BTreeMap<String, Value> {
        // Inserted one by one: collecting would compile a sort of the entries just for this.
        let mut values = BTreeMap::new();
        for state in &self.traits {
            if let Some(value) = state.value(slot) {
                values.insert(state.definition.name.clone(), value);
            }
        }
        values
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{Event, EventContext, EventId, EventMode, ProfileId, Properties};

    fn definition(json: serde_json::Value) -> TraitDefinition {
        TraitDefinition::from_json(&json, "$").unwrap()
    }

    fn purchase(second: i64, amount: f64) -> Event {
        Event {
            id: EventId::random(),
            profile: ProfileId::random(),
            name: "purchase".into(),
            context: EventContext::Ecommerce,
            mode: EventMode::Active,
            happened: Timestamp::from_millis(second * 1_000),
            sent: None,
            received: Timestamp::EPOCH,
            properties: Properties::from([("amount".to_owned(), Value::Number(amount))]),
            schema_version: None,
        }
    }

    fn record(store: &mut TraitStore, events: &mut EventStore, event: Event, now: Timestamp) {
        let slot = ProfileIndex(0);
        let stored = events
            .insert(slot, std::rc::Rc::new(event))
            .unwrap()
            .clone();
        store.on_event(slot, &stored, now, &mut Vec::new());
    }

    #[test]
    fn aggregates_fold_incrementally() {
        let mut store = TraitStore::default();
        let mut events = EventStore::default();
        for (name, aggregate) in [
            ("n", "count"),
            ("ltv", "sum"),
            ("avg", "avg"),
            ("top", "max"),
            ("kinds", "distinctCount"),
        ] {
            let property = if aggregate == "count" {
                json!(null)
            } else {
                json!("amount")
            };
            store.define(
                definition(json!({"name": name, "aggregate": aggregate, "event": "purchase", "property": property})),
                &events,
                0,
                Timestamp::EPOCH,
            );
        }
        store.define(
            definition(json!({"name": "lastTime", "aggregate": "last", "event": "purchase"})),
            &events,
            0,
            Timestamp::EPOCH,
        );
        let now = Timestamp::from_millis(100_000);
        for (second, amount) in [(1, 10.0), (3, 30.0), (2, 10.0)] {
            record(&mut store, &mut events, purchase(second, amount), now);
        }
        let values = store.values_of(ProfileIndex(0));
        assert_eq!(values["n"], Value::Integer(3));
        assert_eq!(values["ltv"], Value::Number(50.0));
        assert_eq!(values["avg"], Value::Number(50.0 / 3.0));
        assert_eq!(values["top"], Value::Number(30.0));
        assert_eq!(values["kinds"], Value::Integer(2));
        assert_eq!(
            values["lastTime"],
            Value::DateTime(Timestamp::from_millis(3_000))
        );
    }

    #[test]
    fn windowed_values_expire_as_time_passes() {
        let mut store = TraitStore::default();
        let mut events = EventStore::default();
        store.define(
            definition(json!({"name": "recent", "aggregate": "sum", "event": "purchase", "property": "amount", "windowSeconds": 10})),
            &events,
            0,
            Timestamp::EPOCH,
        );
        record(
            &mut store,
            &mut events,
            purchase(1, 5.0),
            Timestamp::from_millis(1_000),
        );
        record(
            &mut store,
            &mut events,
            purchase(6, 7.0),
            Timestamp::from_millis(6_000),
        );
        assert_eq!(
            store.value("recent", ProfileIndex(0)),
            Some(Value::Number(12.0))
        );
        assert!(!store.has_expired(Timestamp::from_millis(10_999)));
        assert!(store.has_expired(Timestamp::from_millis(11_000)));
        let refolded = store.expire(&events, Timestamp::from_millis(11_000));
        assert_eq!(refolded, [("recent".to_owned(), ProfileIndex(0))]);
        assert_eq!(
            store.value("recent", ProfileIndex(0)),
            Some(Value::Number(7.0))
        );
        store.expire(&events, Timestamp::from_millis(16_000));
        assert_eq!(store.value("recent", ProfileIndex(0)), None);
    }
}
