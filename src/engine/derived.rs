//! The engine's derived state (events, computed traits, segments) and how commands about it
//! are planned and their changes applied. Profile changes reach it through one seam,
//! [`Engine::profile_touched`], called by `apply` after any change to a profile, so new
//! profile operations (merges included) keep columns and memberships right without code here.

use std::cell::Cell;
use std::rc::Rc;

use super::event_command::{EventSubject, NewEvent};
use super::{Change, Command, Engine, EngineError, Operation, Outcome, Planned, UpsertProfile};
use crate::events::{EventError, EventStore};
use crate::identity::Identifier;
use crate::model::{Event, EventId, ProfileId, ProfileIndex, SourceId, Timestamp};
use crate::segments::{EventCondition, Inputs, Rule, SegmentError, SegmentStore};
use crate::traits::{TraitError, TraitStore};

/// Events, computed traits and segments: state derived from the change log like profiles,
/// rebuilt identically by replay.
#[derive(Clone, Debug, Default)]
pub(crate) struct Derived {
    pub(crate) events: EventStore,
    pub(crate) traits: TraitStore,
    pub(crate) segments: SegmentStore,
    event_ids: EventIdSource,
    /// Reused for the traits one event folds into.
    folded_traits: Vec<usize>,
}

/// Draws event ids without a system call each: a xorshift128+ generator seeded once from the
/// operating system's (or the browser's) randomness. Ids need to be unique, not secret;
/// they are drawn when a command is planned and logged, so replay never draws.
#[derive(Clone, Debug)]
struct EventIdSource(Cell<[u64; 2]>);

impl Default for EventIdSource {
    fn default() -> Self {
        let seed = uuid::Uuid::new_v4().as_u64_pair();
        Self(Cell::new([seed.0 | 1, seed.1 | 1]))
    }
}

impl EventIdSource {
    fn next_word(&self) -> u64 {
        let [mut first, second] = self.0.get();
        let result = first.wrapping_add(second);
        first ^= first << 23;
        let next = first ^ second ^ (first >> 17) ^ (second >> 26);
        self.0.set([second, next]);
        result
    }

    fn draw(&self) -> EventId {
        let high = self.next_word().to_le_bytes();
        let low = self.next_word().to_le_bytes();
        let mut bytes = [0u8; 16];
        for (target, source) in bytes.iter_mut().zip(high.iter().chain(&low)) {
            *target = *source;
        }
        EventId::from_random_bytes(bytes)
    }
}

type Plan = (Vec<Operation>, Outcome);

impl Engine {
    /// Plans any command: the operations it would record and what it would report.
    /// Plans the commands about events, traits, segments and time: the operations each
    /// would record and what it would report.
    pub(super) fn plan_derived(
        &self,
        command: Command,
        at: Timestamp,
    ) -> Result<(Planned, Outcome), EngineError> {
        let plan: Result<Plan, EngineError> = match command {
            Command::RecordEvent(event) => return self.plan_event(event, at),
            Command::DefineTrait(definition) => Ok((
                vec![Operation::TraitDefined {
                    definition: Box::new(definition.clone()),
                }],
                Outcome::Definition {
                    name: definition.name,
                    changed: true,
                },
            )),
            Command::DeleteTrait { name } => {
                if self.derived.traits.definition(&name).is_none() {
                    return Err(TraitError::Unknown(name).into());
                }
                Ok((
                    vec![Operation::TraitDeleted { name: name.clone() }],
                    Outcome::Definition {
                        name,
                        changed: true,
                    },
                ))
            }
            Command::DefineSegment(definition) => Ok((
                vec![Operation::SegmentDefined {
                    definition: Box::new(definition.clone()),
                }],
                Outcome::Definition {
                    name: definition.system_title,
                    changed: true,
                },
            )),
            Command::SetSegmentActive {
                system_title,
                active,
            } => {
                let current = self
                    .derived
                    .segments
                    .definition(&system_title)
                    .ok_or_else(|| SegmentError::Unknown(system_title.clone()))?;
                let changed = current.active != active;
                let operations = if changed {
                    vec![Operation::SegmentActiveSet {
                        system_title: system_title.clone(),
                        active,
                    }]
                } else {
                    Vec::new()
                };
                Ok((
                    operations,
                    Outcome::Definition {
                        name: system_title,
                        changed,
                    },
                ))
            }
            Command::DeleteSegment { system_title } => {
                if self.derived.segments.definition(&system_title).is_none() {
                    return Err(SegmentError::Unknown(system_title).into());
                }
                Ok((
                    vec![Operation::SegmentDeleted {
                        system_title: system_title.clone(),
                    }],
                    Outcome::Definition {
                        name: system_title,
                        changed: true,
                    },
                ))
            }
            Command::Tick => {
                let now = self.now();
                let changed = self.derived.traits.has_expired(now)
                    || self.derived.segments.tick_would_change(self.inputs(), now);
                let operations = if changed {
                    vec![Operation::Ticked]
                } else {
                    Vec::new()
                };
                Ok((operations, Outcome::Ticked { changed }))
            }
            Command::UpsertProfile(_)
            | Command::ChangeTags(_)
            | Command::WriteAttributes(_)
            | Command::MergeProfiles { .. }
            | Command::UnmergeProfile { .. }
            | Command::DeclareSource(_)
            | Command::RenameSource { .. }
            | Command::DeleteSource { .. }
            | Command::DisableSource { .. }
            | Command::AddSourceKey { .. }
            | Command::DeclareAttribute { .. }
            | Command::UpdateAttribute { .. }
            | Command::DeleteAttribute { .. }
            | Command::DisableAttribute { .. }
            | Command::ShareAttribute { .. }
            | Command::UnshareAttribute { .. } => Err(EngineError::InvalidCommand(
                "not an event, trait, segment or clock command".to_owned(),
            )),
        };
        plan.map(|(operations, outcome)| (Planned::Many(operations), outcome))
    }

    fn plan_event(
        &self,
        event: NewEvent,
        at: Timestamp,
    ) -> Result<(Planned, Outcome), EngineError> {
        let (mut operations, profile, created) = self.event_subject(&event, at)?;
        let id = match event.id {
            Some(id) => id,
            None => self.unstored(self.derived.event_ids.draw())?,
        };
        // The command's time, read once by `execute`: received is when the change commits,
        // and the clock (`Date.now` across the wasm boundary) is not read again per event.
        let now = at;
        let recorded = Operation::EventRecorded {
            event: Rc::new(Event {
                id,
                profile,
                name: self
                    .derived
                    .events
                    .shared_name(&event.name)
                    .unwrap_or_else(|| event.name.into()),
                context: event.context,
                mode: event.mode,
                happened: event.happened.unwrap_or(now),
                sent: event.sent,
                received: now,
                properties: event.properties,
                schema_version: event.schema_version,
            }),
        };
        let planned = if operations.is_empty() {
            Planned::One([recorded])
        } else {
            operations.push(recorded);
            Planned::Many(operations)
        };
        Ok((
            planned,
            Outcome::Event {
                id,
                profile,
                profile_created: created,
            },
        ))
    }

    /// Whether recording `event` now would be accepted, without planning it (its properties
    /// are never looked at, so nothing of it is copied).
    pub(super) fn check_event(&self, event: &NewEvent, at: Timestamp) -> Result<(), EngineError> {
        self.event_subject(event, at).map(drop)
    }

    /// Every refusal recording `event` can meet: an id already stored, a profile that does not
    /// exist, identifiers the identity policy refuses to resolve. Gives the operations that
    /// resolve its identifiers (none for a known customer), the profile the event is about
    /// and whether that profile is created for it.
    fn event_subject(
        &self,
        event: &NewEvent,
        at: Timestamp,
    ) -> Result<(Vec<Operation>, ProfileId, bool), EngineError> {
        if let Some(id) = event.id {
            self.unstored(id)?;
        }
        match &event.subject {
            EventSubject::Profile(wanted) => {
                let found = self
                    .profile(*wanted)
                    .ok_or(EventError::UnknownProfile(*wanted))?;
                Ok((Vec::new(), found.id, false))
            }
            EventSubject::Identifiers(identifiers) => match self.sole_owner(identifiers) {
                Some(owner) => Ok((Vec::new(), owner, false)),
                None => {
                    let (operations, outcome) = self.plan_upsert(
                        UpsertProfile::new(identifiers.clone(), SourceId::default_source()),
                        at,
                    )?;
                    let Outcome::Profile { id, created, .. } = outcome else {
                        return Err(EngineError::InvalidCommand(
                            "identity resolution did not name a profile".to_owned(),
                        ));
                    };
                    Ok((operations, id, created))
                }
            },
        }
    }

    /// `id`, unless an event with it is stored already.
    fn unstored(&self, id: EventId) -> Result<EventId, EngineError> {
        if self.derived.events.contains(id) {
            return Err(EventError::DuplicateId(id).into());
        }
        Ok(id)
    }

    /// The profile every identifier already belongs to, if they all belong to one: the
    /// common case of an event from a known customer, which needs no identity changes.
    /// Anything else goes through the upsert planning and its identity policy.
    fn sole_owner(&self, identifiers: &[Identifier]) -> Option<ProfileId> {
        let (first, rest) = identifiers.split_first()?;
        let owner = self.resolve(first)?.id;
        rest.iter()
            .all(|identifier| self.resolve(identifier).map(|found| found.id) == Some(owner))
            .then_some(owner)
    }

    pub(super) fn inputs(&self) -> Inputs<'_> {
        Inputs {
            profiles: &self.profiles,
            traits: &self.derived.traits,
            events: &self.derived.events,
        }
    }

    /// The seam from profile changes to derived state: the profile at `slot` changed at
    /// `at`; its columns and segment memberships are brought up to date.
    pub(super) fn profile_touched(&mut self, slot: ProfileIndex, at: Timestamp) {
        let Self {
            profiles, derived, ..
        } = self;
        let inputs = Inputs {
            profiles,
            traits: &derived.traits,
            events: &derived.events,
        };
        derived.segments.profile_changed(slot, inputs, at);
    }

    /// For merges: the profile at `from` was merged into `into` at `at`. Moves its events,
    /// refolds the survivor's traits, and takes `from` out of every segment. The merge
    /// operation's `apply` calls this, then [`Engine::profile_touched`] for `into`.
    pub(super) fn profile_merged(&mut self, from: ProfileIndex, into: ProfileIndex, at: Timestamp) {
        let Self {
            profiles, derived, ..
        } = self;
        derived.events.reassign(from, into);
        derived.traits.refold_profile(from, &derived.events, at);
        derived.traits.refold_profile(into, &derived.events, at);
        let names: Vec<String> = derived
            .traits
            .definitions()
            .map(|found| found.name.clone())
            .collect();
        let inputs = Inputs {
            profiles,
            traits: &derived.traits,
            events: &derived.events,
        };
        for name in &names {
            derived
                .segments
                .trait_changed(name, &[from, into], inputs, at);
        }
        derived.segments.profile_retired(from, inputs, at);
    }

    /// For unmerges: the profile at `restored` was split off `survivor` again at `at`. The
    /// events recorded for `owners` (the restored profile's id and the ids it had absorbed)
    /// go back to it, both profiles' traits are refolded, and it re-enters the scans. The
    /// unmerge operation's `apply` calls this, then [`Engine::profile_touched`] for
    /// `survivor`.
    pub(super) fn profile_unmerged(
        &mut self,
        survivor: ProfileIndex,
        restored: ProfileIndex,
        owners: &[ProfileId],
        at: Timestamp,
    ) {
        let Self {
            profiles, derived, ..
        } = self;
        let moved = derived
            .events
            .reclaim(survivor, restored, |event| owners.contains(&event.profile));
        if moved > 0 {
            derived.traits.refold_profile(survivor, &derived.events, at);
            derived.traits.refold_profile(restored, &derived.events, at);
        }
        let inputs = Inputs {
            profiles,
            traits: &derived.traits,
            events: &derived.events,
        };
        derived.segments.profile_restored(restored, inputs, at);
        if moved > 0 {
            let names: Vec<&str> = derived
                .traits
                .definitions()
                .map(|found| found.name.as_str())
                .collect();
            for name in names {
                derived
                    .segments
                    .trait_changed(name, &[survivor], inputs, at);
            }
        }
    }

    /// Applies a change to derived state (events, traits, segments, time).
    pub(super) fn apply_derived(&mut self, change: &Change) -> Result<(), EngineError> {
        let corrupt = |reason: &str| EngineError::CorruptLog {
            offset: change.offset,
            reason: reason.to_owned(),
        };
        let at = change.at;
        let Self {
            profiles,
            slots,
            derived,
            ..
        } = self;
        let Derived {
            events,
            traits,
            segments,
            folded_traits: folded,
            ..
        } = derived;
        match &change.operation {
            Operation::EventRecorded { event } => {
                let slot = slots
                    .get(event.profile, profiles)
                    .ok_or_else(|| corrupt("unknown profile"))?;
                let stored = events
                    .insert(slot, Rc::clone(event))
                    .ok_or_else(|| corrupt("the event exists already"))?;
                traits.on_event(slot, stored, at, folded);
                let name = stored.name_key();
                let inputs = Inputs {
                    profiles,
                    traits,
                    events,
                };
                segments.event_recorded(slot, &name, folded, inputs, at);
            }
            Operation::TraitDefined { definition } => {
                let touched = traits.define((**definition).clone(), events, profiles.len(), at);
                let inputs = Inputs {
                    profiles,
                    traits,
                    events,
                };
                segments.trait_changed(&definition.name, &touched, inputs, at);
            }
            Operation::TraitDeleted { name } => {
                let touched = traits.remove(name);
                let inputs = Inputs {
                    profiles,
                    traits,
                    events,
                };
                segments.trait_changed(name, &touched, inputs, at);
            }
            Operation::SegmentDefined { definition } => {
                // Before the define's scan, which then reads the new rule's marks. A rule
                // this one replaces keeps its marks until the next define or delete.
                let rules = segments.definitions().map(|defined| &defined.rule);
                mark_event_filters(events, &rules.chain([&definition.rule]).collect::<Vec<_>>());
                let inputs = Inputs {
                    profiles,
                    traits,
                    events,
                };
                segments.define((**definition).clone(), inputs, at);
            }
            Operation::SegmentActiveSet {
                system_title,
                active,
            } => {
                let inputs = Inputs {
                    profiles,
                    traits,
                    events,
                };
                segments
                    .set_active(system_title, *active, inputs, at)
                    .map_err(|_| corrupt("unknown segment"))?;
            }
            Operation::SegmentDeleted { system_title } => {
                segments
                    .delete(system_title, at)
                    .map_err(|_| corrupt("unknown segment"))?;
                let rules: Vec<&Rule> = segments.definitions().map(|kept| &kept.rule).collect();
                mark_event_filters(events, &rules);
            }
            Operation::Ticked => {
                let refolded = traits.expire(events, at);
                let inputs = Inputs {
                    profiles,
                    traits,
                    events,
                };
                for (name, slot) in &refolded {
                    segments.trait_changed(name, &[*slot], inputs, at);
                }
                segments.tick(inputs, at);
            }
            Operation::ProfileCreated { .. }
            | Operation::ProfileImported { .. }
            | Operation::IdentifierAdded { .. }
            | Operation::IdentifierRemoved { .. }
            | Operation::AttributeSet { .. }
            | Operation::AttributeRemoved { .. }
            | Operation::TagAdded { .. }
            | Operation::TagRemoved { .. }
            | Operation::ConsentSet { .. }
            | Operation::ConsentRemoved { .. }
            | Operation::ProfileMerged { .. }
            | Operation::ProfileUnmerged { .. }
            | Operation::SourceDeclared { .. }
            | Operation::SourceRenamed { .. }
            | Operation::SourceDeleted { .. }
            | Operation::SourceDisabled { .. }
            | Operation::SourceKeyAdded { .. }
            | Operation::AttributeDeclared { .. }
            | Operation::AttributeDeleted { .. }
            | Operation::AttributeDisabled { .. }
            | Operation::AttributeShared { .. }
            | Operation::AttributeUnshared { .. } => {
                return Err(corrupt(
                    "a profile or schema change reached the derived state",
                ));
            }
        }
        Ok(())
    }
}

/// Has `events` mark exactly the event names and property filters of the event conditions of
/// `rules` (as many as it can), so scans over a profile's events test a bit instead of
/// reading properties. (A slice, not an iterator: one copy of the function in the wasm.)
pub(super) fn mark_event_filters(events: &mut EventStore, rules: &[&Rule]) {
    let wanted: Vec<&EventCondition> = rules
        .iter()
        .flat_map(|rule| rule.event_conditions())
        .filter(|condition| !condition.filters.is_empty())
        .collect();
    events.keep_marks(|name, filters| {
        wanted
            .iter()
            .any(|condition| condition.name == name && condition.filters == filters)
    });
    for condition in wanted {
        events.mark(&condition.name, &condition.filters);
    }
}
