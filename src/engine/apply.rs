//! Applying one change to the state. Planned changes always apply; a stored one that does
//! not is reported as a corrupt log. Replay runs exactly this code.

use super::merge::{merge_into, unmerge_from, MergeRecord};
use super::{Change, Engine, EngineError, Entity, Operation};
use crate::identity::Identifier;
use crate::model::{Profile, ProfileId, ProfileIndex, Timestamp};

impl Engine {
    pub(super) fn apply(&mut self, change: &Change) -> Result<(), EngineError> {
        let corrupt = |reason: &str| EngineError::CorruptLog {
            offset: change.offset,
            reason: reason.to_owned(),
        };
        let at = change.at;
        match &change.operation {
            Operation::ProfileCreated { profile } => {
                let slot =
                    u32::try_from(self.profiles.len()).map_err(|_| corrupt("too many profiles"))?;
                self.profiles.push(Some(Profile::new(*profile, at)));
                // One probe files the id and finds it taken, by a profile or an alias.
                if self
                    .slots
                    .insert_new(*profile, ProfileIndex(slot), &self.profiles)
                    .is_some()
                {
                    self.profiles.pop();
                    return Err(corrupt("the profile exists already"));
                }
                self.live_profiles += 1;
            }
            Operation::ProfileImported { record } => {
                self.insert_profile(record.as_ref().clone())
                    .map_err(|reason| corrupt(&reason))?;
            }
            Operation::IdentifierAdded {
                profile,
                identifier,
            } => {
                let slot = self
                    .slot_of(*profile)
                    .ok_or_else(|| corrupt("unknown profile"))?;
                if self.identity.is_unique(identifier.kind()) {
                    if self.identities.owner(identifier, &self.profiles).is_some() {
                        return Err(corrupt("the identifier belongs to a profile already"));
                    }
                    self.identities.assign(identifier, slot, &self.profiles);
                }
                let target = self
                    .touch(slot, at)
                    .ok_or_else(|| corrupt("unknown profile"))?;
                target.identities.push(identifier.clone());
            }
            Operation::IdentifierRemoved {
                profile,
                identifier,
            } => {
                let slot = self
                    .slot_of(*profile)
                    .ok_or_else(|| corrupt("unknown profile"))?;
                self.identities.release(identifier, slot);
                let target = self
                    .touch(slot, at)
                    .ok_or_else(|| corrupt("unknown profile"))?;
                target.identities.retain(|held| held != identifier);
            }
            Operation::AttributeSet {
                profile,
                source,
                key,
                value,
            } => {
                let mut names = std::mem::take(&mut self.attribute_names);
                let target = self.touch_profile(*profile, at);
                let applied =
                    target.map(|target| target.attributes.set(source, key, value, at, &mut names));
                self.attribute_names = names;
                applied.ok_or_else(|| corrupt("unknown profile"))?;
            }
            Operation::AttributeRemoved {
                profile,
                source,
                key,
            } => {
                let mut names = std::mem::take(&mut self.attribute_names);
                let target = self.touch_profile(*profile, at);
                let applied = target.map(|target| target.attributes.unset(source, key, &mut names));
                self.attribute_names = names;
                applied.ok_or_else(|| corrupt("unknown profile"))?;
            }
            Operation::TagAdded { profile, kind, tag } => {
                let target = self
                    .touch_profile(*profile, at)
                    .ok_or_else(|| corrupt("unknown profile"))?;
                target.tags.of_mut(*kind).insert(tag.clone());
            }
            Operation::TagRemoved { profile, kind, tag } => {
                let target = self
                    .touch_profile(*profile, at)
                    .ok_or_else(|| corrupt("unknown profile"))?;
                target.tags.of_mut(*kind).remove(tag);
            }
            Operation::ConsentSet {
                profile,
                purpose,
                value,
            } => {
                let target = self
                    .touch_profile(*profile, at)
                    .ok_or_else(|| corrupt("unknown profile"))?;
                target.consents.insert(purpose.clone(), value.clone());
            }
            Operation::ConsentRemoved { profile, purpose } => {
                let target = self
                    .touch_profile(*profile, at)
                    .ok_or_else(|| corrupt("unknown profile"))?;
                target.consents.remove(purpose);
            }
            Operation::ProfileMerged {
                survivor,
                absorbed,
                moved,
                because,
            } => {
                let survivor_slot = self
                    .slot_of(*survivor)
                    .ok_or_else(|| corrupt("unknown survivor"))?;
                let absorbed_slot = self
                    .slot_of(absorbed.id)
                    .filter(|slot| *slot != survivor_slot)
                    .ok_or_else(|| corrupt("unknown absorbed profile"))?;
                let retired = self
                    .profiles
                    .get_mut(absorbed_slot.slot())
                    .and_then(Option::take)
                    .ok_or_else(|| corrupt("unknown absorbed profile"))?;
                self.live_profiles = self.live_profiles.saturating_sub(1);
                for identifier in &retired.identities {
                    self.identities.release(identifier, absorbed_slot);
                }
                for identifier in &moved.dropped {
                    self.identities.release(identifier, survivor_slot);
                }
                self.index_unique(&moved.identifiers, survivor_slot);
                let mut names = std::mem::take(&mut self.attribute_names);
                let target = self.touch(survivor_slot, at);
                let applied =
                    target.map(|target| merge_into(target, absorbed, moved, Some(&mut names)));
                self.attribute_names = names;
                applied.ok_or_else(|| corrupt("unknown survivor"))?;
                for id in std::iter::once(absorbed.id).chain(absorbed.aliases.iter().copied()) {
                    self.slots.insert(id, survivor_slot, &self.profiles);
                }
                self.merges.insert(
                    absorbed.id,
                    Box::new(MergeRecord {
                        survivor: *survivor,
                        absorbed: retired,
                        moved: (**moved).clone(),
                        because: because.clone(),
                        at,
                        slot: absorbed_slot,
                    }),
                );
                self.profile_merged(absorbed_slot, survivor_slot, at);
            }
            Operation::ProfileUnmerged {
                survivor,
                restored,
                reverted,
            } => {
                let survivor_slot = self
                    .slot_of(*survivor)
                    .ok_or_else(|| corrupt("unknown survivor"))?;
                let record = self
                    .merges
                    .remove(&restored.id)
                    .ok_or_else(|| corrupt("the profile was not merged"))?;
                let slot = record.slot;
                for identifier in &reverted.identifiers {
                    self.identities.release(identifier, survivor_slot);
                }
                self.index_unique(&reverted.regained, survivor_slot);
                let mut names = std::mem::take(&mut self.attribute_names);
                let target = self.touch(survivor_slot, at);
                let applied = target.map(|target| unmerge_from(target, reverted, &mut names));
                self.attribute_names = names;
                applied.ok_or_else(|| corrupt("unknown survivor"))?;
                let tombstone = self
                    .profiles
                    .get_mut(slot.slot())
                    .filter(|tombstone| tombstone.is_none())
                    .ok_or_else(|| corrupt("the restored profile's slot is taken"))?;
                let mut restored_profile = (**restored).clone();
                restored_profile
                    .attributes
                    .intern_names(&mut self.attribute_names);
                *tombstone = Some(restored_profile);
                self.live_profiles += 1;
                self.index_unique(&restored.identities, slot);
                let owners: Vec<ProfileId> = std::iter::once(restored.id)
                    .chain(restored.aliases.iter().copied())
                    .collect();
                for id in &owners {
                    self.slots.insert(*id, slot, &self.profiles);
                }
                self.profile_unmerged(survivor_slot, slot, &owners, at);
            }
            Operation::SourceDeclared { definition } => {
                self.schema.declare_source(definition.clone());
            }
            Operation::SourceRenamed { source, name } => self.schema.rename_source(source, name),
            Operation::SourceDeleted { source } => self.schema.delete_source(source),
            Operation::SourceDisabled { source, disabled } => {
                self.schema.set_source_disabled(source, *disabled);
            }
            Operation::SourceKeyAdded { source, digest } => {
                self.schema.add_source_key(source, *digest);
            }
            Operation::AttributeDeclared { source, definition } => {
                self.schema
                    .declare_attribute(source, (**definition).clone());
            }
            Operation::AttributeDeleted { source, key } => {
                self.schema.delete_attribute(source, key);
            }
            Operation::AttributeDisabled {
                source,
                key,
                disabled,
            } => self.schema.set_attribute_disabled(source, key, *disabled),
            Operation::AttributeShared { definition } => {
                self.schema.share((**definition).clone());
            }
            Operation::AttributeUnshared { key } => self.schema.unshare(key),
            Operation::EventRecorded { .. }
            | Operation::TraitDefined { .. }
            | Operation::TraitDeleted { .. }
            | Operation::SegmentDefined { .. }
            | Operation::SegmentActiveSet { .. }
            | Operation::SegmentDeleted { .. }
            | Operation::Ticked => return self.apply_derived(change),
        }
        // The seam to derived state: a changed profile re-indexes its columns and segment
        // memberships.
        if let Entity::Profile(profile) = change.operation.entity() {
            if let Some(slot) = self.slots.get(profile, &self.profiles) {
                self.profile_touched(slot, at);
            }
        }
        Ok(())
    }

    /// Indexes the identifiers of unique types as belonging to `slot`; identifiers of other
    /// types resolve no profile and stay out of the index.
    pub(super) fn index_unique(&mut self, identifiers: &[Identifier], slot: ProfileIndex) {
        for identifier in identifiers {
            if self.identity.is_unique(identifier.kind()) {
                self.identities.assign(identifier, slot, &self.profiles);
            }
        }
    }

    /// Room in the new profile `profile` for the identifiers the operations right after its
    /// creation add to it, so its list is allocated once rather than once per identifier.
    pub(super) fn reserve_identifiers(&mut self, profile: ProfileId, following: &[Operation]) {
        let count = following
            .iter()
            .take_while(|operation| {
                matches!(operation, Operation::IdentifierAdded { profile: of, .. } if *of == profile)
            })
            .count();
        if let Some(created) = self
            .slot_of(profile)
            .and_then(|slot| self.profiles.get_mut(slot.slot()))
            .and_then(Option::as_mut)
        {
            created.identities.reserve_exact(count);
        }
    }

    /// Applies consecutive attribute writes to one profile at one time (a run that
    /// [`attribute_run`] finds) to the same state as applying them one by one, in time
    /// proportional to the run and the profile's values instead of to their product. Writes to
    /// a key no segment reads change no membership, so each stretch of them is written in one
    /// pass and re-evaluated once; a write to a key a segment reads is applied and
    /// re-evaluated alone, since a profile may enter a segment and leave it within the run.
    pub(super) fn apply_attribute_run(&mut self, run: &[Change]) -> Result<(), EngineError> {
        let mut rest = run;
        while !rest.is_empty() {
            let read = rest.iter().position(|change| {
                attribute_key(&change.operation)
                    .is_some_and(|key| self.derived.segments.reads_attribute(key))
            });
            let (unread, after) = rest.split_at(read.unwrap_or(rest.len()));
            match unread {
                [] => {}
                [one] => self.apply(one)?,
                _ => self.write_attributes_at_once(unread)?,
            }
            let Some((read, after)) = after.split_first() else {
                break;
            };
            self.apply(read)?;
            rest = after;
        }
        Ok(())
    }

    /// Applies attribute writes to one profile at one time in one pass over its values, then
    /// re-evaluates the profile once.
    fn write_attributes_at_once(&mut self, run: &[Change]) -> Result<(), EngineError> {
        let Some(first) = run.first() else {
            return Ok(());
        };
        let corrupt = || EngineError::CorruptLog {
            offset: first.offset,
            reason: "unknown profile".to_owned(),
        };
        let (profile, at) = attribute_run(first).ok_or_else(corrupt)?;
        let slot = self.slot_of(profile).ok_or_else(corrupt)?;
        let mut writes = Vec::with_capacity(run.len());
        for change in run {
            let write = match &change.operation {
                _ if attribute_run(change) != Some((profile, at)) => return Err(corrupt()),
                Operation::AttributeSet {
                    source, key, value, ..
                } => (source, key.as_str(), Some((value, at))),
                Operation::AttributeRemoved { source, key, .. } => (source, key.as_str(), None),
                _ => return Err(corrupt()),
            };
            writes.push(write);
            self.touch(slot, at).ok_or_else(corrupt)?;
        }
        let mut names = std::mem::take(&mut self.attribute_names);
        if let Some(target) = self.profiles.get_mut(slot.slot()).and_then(Option::as_mut) {
            target.attributes.write_all(writes, &mut names);
        }
        self.attribute_names = names;
        self.profile_touched(slot, at);
        Ok(())
    }

    /// The slot of the live profile `id` names exactly (not through an alias).
    fn slot_of(&self, id: ProfileId) -> Option<ProfileIndex> {
        self.slots
            .get(id, &self.profiles)
            .filter(|slot| self.live(*slot).is_some_and(|profile| profile.id == id))
    }

    fn touch_profile(&mut self, id: ProfileId, at: Timestamp) -> Option<&mut Profile> {
        let slot = self.slot_of(id)?;
        self.touch(slot, at)
    }

    /// The live profile at `slot`, marked as changed at `at`.
    fn touch(&mut self, slot: ProfileIndex, at: Timestamp) -> Option<&mut Profile> {
        let profile = self.profiles.get_mut(slot.slot())?.as_mut()?;
        profile.updated = profile.updated.max(at);
        profile.version += 1;
        Some(profile)
    }
}

/// The profile and time of an attribute write: consecutive changes with the same ones form a
/// run that [`Engine::apply_attribute_run`] applies at once.
pub(super) fn attribute_run(change: &Change) -> Option<(ProfileId, Timestamp)> {
    Some((attribute_write_to(&change.operation)?, change.at))
}

/// The profile `operation` sets or removes an attribute value of, if it does.
pub(super) fn attribute_write_to(operation: &Operation) -> Option<ProfileId> {
    match operation {
        Operation::AttributeSet { profile, .. } | Operation::AttributeRemoved { profile, .. } => {
            Some(*profile)
        }
        _ => None,
    }
}

/// The key an operation writes, if it writes an attribute value.
fn attribute_key(operation: &Operation) -> Option<&str> {
    match operation {
        Operation::AttributeSet { key, .. } | Operation::AttributeRemoved { key, .. } => {
            Some(key.as_str())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::super::{Change, Command, Engine, EngineError, Operation, SystemClock};
    use crate::identity::IdentityConfig;
    use crate::model::Timestamp;

    fn upsert(engine: &mut Engine, email: &str) -> crate::model::ProfileId {
        let text = format!(r#"{{"upsertProfile":{{"identities":{{"email":"{email}"}}}}}}"#);
        let command = Command::from_json(&text, engine.identity_config()).unwrap();
        engine.execute(command).unwrap().profile_id().unwrap()
    }

    #[test]
    fn a_log_creating_a_profile_whose_id_is_taken_is_corrupt() {
        let mut engine = Engine::new(IdentityConfig::default(), Rc::new(SystemClock));
        let first = upsert(&mut engine, "a@b.c");
        let second = upsert(&mut engine, "d@e.f");
        engine
            .execute(Command::MergeProfiles {
                survivor: first,
                absorbed: second,
            })
            .unwrap();
        let log = engine.take_unpersisted();
        let next = log.len() as u64;
        let replay_with = |profile| {
            let mut changes = log.clone();
            changes.push(Change {
                offset: next,
                at: Timestamp::from_millis(1),
                operation: Operation::ProfileCreated { profile },
            });
            Engine::replay(IdentityConfig::default(), Rc::new(SystemClock), changes)
        };
        // A live profile's own id, and the id of one merged away into it.
        for taken in [first, second] {
            match replay_with(taken) {
                Err(EngineError::CorruptLog { offset, .. }) => assert_eq!(offset, next),
                Err(other) => panic!("{other}"),
                Ok(_) => panic!("a second profile {taken} was created"),
            }
        }
        let replayed = replay_with(crate::model::ProfileId::random()).unwrap();
        assert_eq!(replayed.profile_count(), 2);
    }
}
