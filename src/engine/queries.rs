//! Reading events, trait values and segments from the engine, by public ids only.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Engine;
use crate::events::{EventError, EventPage, EventQuery, EventStore, StoredEvent};
use crate::model::{Event, EventId, ProfileId, ProfileIndex, Timestamp, Value};
use crate::segments::{
    MembershipChange, MembershipRecord, Rule, SegmentCounts, SegmentDefinition, Subject,
};
use crate::traits::TraitDefinition;

/// A profile entering or leaving a segment, as subscribers and histories see it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MembershipEvent {
    /// The segment's system title.
    pub segment: String,
    /// The profile.
    pub profile: ProfileId,
    /// Entered or exited.
    pub change: MembershipChange,
    /// When.
    pub at: Timestamp,
}

impl MembershipEvent {
    /// The event as subscribers and `/cdp/v1` histories see it:
    /// `{"type": "enter" | "exit", "segment", "profile", "at"}`.
    pub fn to_json(&self) -> serde_json::Value {
        let kind = match self.change {
            MembershipChange::Entered => "enter",
            MembershipChange::Exited => "exit",
        };
        serde_json::json!({
            "type": kind,
            "segment": self.segment,
            "profile": self.profile.to_string(),
            "at": self.at.to_string(),
        })
    }
}

impl Engine {
    fn resolved_slot(&self, profile: ProfileId) -> Option<ProfileIndex> {
        self.slots.get(profile, &self.profiles)
    }

    fn id_at(&self, slot: ProfileIndex) -> Option<ProfileId> {
        self.profiles
            .get(slot.slot())
            .and_then(Option::as_ref)
            .map(|profile| profile.id)
    }

    fn membership_event(
        &self,
        segment: String,
        record: MembershipRecord,
    ) -> Option<MembershipEvent> {
        Some(MembershipEvent {
            segment,
            profile: self.id_at(record.profile)?,
            change: record.change,
            at: record.at,
        })
    }

    /// One page of a profile's events (PrimeData's events search, Contacthub's customer
    /// events): names, contexts, modes, exclusive window, order, limit and cursor as the
    /// query says. An unknown profile is [`EventError::UnknownProfile`].
    pub fn events(&self, query: &EventQuery) -> Result<EventPage<'_>, EventError> {
        let slot = self
            .resolved_slot(query.profile)
            .ok_or(EventError::UnknownProfile(query.profile))?;
        Ok(self.derived.events.query(slot, query))
    }

    /// Checks that every name in `names` is an event name in the system: at least one event
    /// of that name has been recorded, for any profile. The first that is not is
    /// [`EventError::UnknownName`].
    pub fn check_event_names(&self, names: &[String]) -> Result<(), EventError> {
        match names
            .iter()
            .find(|name| !self.derived.events.has_name(name))
        {
            Some(unknown) => Err(EventError::UnknownName(unknown.clone())),
            None => Ok(()),
        }
    }

    /// All of a profile's events, oldest first; `None` for an unknown profile.
    pub fn events_of(&self, profile: ProfileId) -> Option<&[StoredEvent]> {
        self.resolved_slot(profile)
            .map(|slot| self.derived.events.of_profile(slot))
    }

    /// The event with this id.
    pub fn event(&self, id: EventId) -> Option<&Event> {
        self.derived.events.get(id).map(|(_, event)| event)
    }

    /// Every stored event, for statistics and export.
    pub fn event_store(&self) -> &EventStore {
        &self.derived.events
    }

    /// The computed trait definitions, in name order.
    pub fn trait_definitions(&self) -> impl Iterator<Item = &TraitDefinition> {
        self.derived.traits.definitions()
    }

    /// A profile's computed trait values by name (PrimeData's `p_trait`); empty for an
    /// unknown profile.
    pub fn trait_values(&self, profile: ProfileId) -> BTreeMap<String, Value> {
        self.resolved_slot(profile)
            .map(|slot| self.derived.traits.values_of(slot))
            .unwrap_or_default()
    }

    /// The segment definitions, in system-title order.
    pub fn segment_definitions(&self) -> impl Iterator<Item = &SegmentDefinition> {
        self.derived.segments.definitions()
    }

    /// The definition of the segment with this system title.
    pub fn segment(&self, system_title: &str) -> Option<&SegmentDefinition> {
        self.derived.segments.definition(system_title)
    }

    /// The members of a segment, in profile creation order.
    pub fn segment_members(&self, system_title: &str) -> Option<Vec<ProfileId>> {
        self.segment_members_page(system_title, 0, usize::MAX)
    }

    /// At most `len` members of a segment from position `start` of
    /// [`Engine::segment_members`]: only those are looked up, so a page deep in a large
    /// segment costs its own size.
    pub fn segment_members_page(
        &self,
        system_title: &str,
        start: usize,
        len: usize,
    ) -> Option<Vec<ProfileId>> {
        let members = self.derived.segments.members(system_title)?;
        Some(
            members
                .iter()
                .skip(start)
                .take(len)
                .filter_map(|slot| self.id_at(ProfileIndex(slot)))
                .collect(),
        )
    }

    /// How many members a segment has.
    pub fn segment_size(&self, system_title: &str) -> Option<u64> {
        self.derived
            .segments
            .members(system_title)
            .map(|members| members.len())
    }

    /// Member and history counts of a segment.
    pub fn segment_counts(&self, system_title: &str) -> Option<SegmentCounts> {
        self.derived.segments.counts(system_title)
    }

    /// The system titles of the segments a profile belongs to.
    pub fn segments_of(&self, profile: ProfileId) -> Vec<&str> {
        self.resolved_slot(profile)
            .map(|slot| self.derived.segments.segments_of(slot))
            .unwrap_or_default()
    }

    /// A segment's entry/exit history, oldest first.
    pub fn segment_history(&self, system_title: &str) -> Option<Vec<MembershipEvent>> {
        self.segment_history_page(system_title, 0, usize::MAX)
    }

    /// At most `len` records of [`Engine::segment_history`] from position `start`: only
    /// those are built.
    pub fn segment_history_page(
        &self,
        system_title: &str,
        start: usize,
        len: usize,
    ) -> Option<Vec<MembershipEvent>> {
        let history = self.derived.segments.history(system_title)?;
        Some(
            history
                .iter()
                .skip(start)
                .take(len)
                .filter_map(|record| self.membership_event(system_title.to_owned(), *record))
                .collect(),
        )
    }

    /// How many entries and exits a segment's history holds.
    pub fn segment_history_len(&self, system_title: &str) -> Option<usize> {
        self.derived.segments.history(system_title).map(<[_]>::len)
    }

    /// Starts or stops collecting entries and exits for
    /// [`Engine::take_membership_events`] (the enter/exit subscription).
    pub fn watch_membership(&mut self, watching: bool) {
        self.derived.segments.watch(watching);
    }

    /// Hands over the entries and exits committed since the last call, while watching.
    pub fn take_membership_events(&mut self) -> Vec<MembershipEvent> {
        let pending = self.derived.segments.take_pending();
        pending
            .into_iter()
            .filter_map(|(segment, record)| self.membership_event(segment, record))
            .collect()
    }

    /// Every live profile satisfying `rule` now, by a full column scan, without defining a
    /// segment (a preview). Builds any column the rule needs.
    pub fn matching_profiles(&mut self, rule: &Rule) -> Vec<ProfileId> {
        let now = self.now();
        let Self {
            profiles, derived, ..
        } = self;
        let inputs = crate::segments::Inputs {
            profiles,
            traits: &derived.traits,
            events: &derived.events,
        };
        let matching = derived.segments.evaluate(rule, inputs, now);
        matching
            .iter()
            .filter_map(|slot| {
                profiles
                    .get(slot as usize)
                    .and_then(Option::as_ref)
                    .map(|profile| profile.id)
            })
            .collect()
    }

    /// How many live profiles satisfy `rule` now, by a full column scan.
    pub fn count_matching(&mut self, rule: &Rule) -> u64 {
        let now = self.now();
        let Self {
            profiles, derived, ..
        } = self;
        let inputs = crate::segments::Inputs {
            profiles,
            traits: &derived.traits,
            events: &derived.events,
        };
        derived.segments.evaluate(rule, inputs, now).len()
    }

    /// Whether one profile satisfies `rule` at `now`, by the reference walk over the profile
    /// object (no columns): what the scans are checked against.
    pub fn profile_matches(&self, profile: ProfileId, rule: &Rule, now: Timestamp) -> bool {
        let Some(slot) = self.resolved_slot(profile) else {
            return false;
        };
        let Some(found) = self.profiles.get(slot.slot()).and_then(Option::as_ref) else {
            return false;
        };
        let traits = self.derived.traits.values_of(slot);
        let subject = Subject {
            profile: found,
            traits: &traits,
            events: self.derived.events.of_profile(slot),
        };
        rule.matches(&subject, now)
    }
}
