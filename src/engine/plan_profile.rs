//! Planning an upsert: resolve the identifiers to at most one profile (rejecting or merging
//! when they name several), keep identifier types within their limits, and type every
//! attribute, tag and consent write against the schema.

use std::borrow::Cow;
use std::collections::hash_map::Entry;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::merge::{merge_delta, merge_into};
use super::{Engine, EngineError, Operation, Outcome, UpsertProfile, WriteAttributes};
use crate::identity::{ConflictPolicy, Identifier, IdentityError, LimitBehaviour};
use crate::model::{
    AttributeKey, Profile, ProfileId, ProfileIndex, SourceId, TagKind, Timestamp, Value,
};
use crate::schema::{check_length, total_length, Schema, SchemaError};

/// One source and key an upsert writes: its stored value and the value the writes leave
/// (`None` until the first write is typed).
struct Pending {
    source: SourceId,
    key: AttributeKey,
    stored: Option<Value>,
    result: Option<Option<Value>>,
}

impl Engine {
    pub(super) fn plan_upsert(
        &self,
        upsert: UpsertProfile,
        at: Timestamp,
    ) -> Result<(Vec<Operation>, Outcome), EngineError> {
        let identifiers = dedup(upsert.identifiers);
        if identifiers.is_empty() {
            return Err(IdentityError::Missing.into());
        }
        let mut operations = Vec::with_capacity(identifiers.len() + upsert.attributes.len() + 1);
        let mut merged = Vec::new();
        let (owners, owned) = self.owners_of(&identifiers);
        let (profile, created) = match owners.as_slice() {
            [] => {
                let id = ProfileId::random();
                operations.push(Operation::ProfileCreated { profile: id });
                (Cow::Owned(Profile::new(id, at)), true)
            }
            [(only, _)] => (Cow::Borrowed(self.live_or_corrupt(*only)?), false),
            [(first, _), (second, _), ..] => match self.identity.policy {
                ConflictPolicy::Reject => {
                    return Err(IdentityError::Conflict {
                        first: self.live_or_corrupt(*first)?.id,
                        second: self.live_or_corrupt(*second)?.id,
                    }
                    .into())
                }
                ConflictPolicy::Merge => {
                    let survivor =
                        self.plan_merges(&owners, &identifiers, &mut operations, &mut merged)?;
                    (Cow::Owned(survivor), false)
                }
            },
        };
        let id = profile.id;
        self.plan_identifiers(&profile, identifiers, &owned, &mut operations)?;
        self.plan_attributes(
            &self.schema,
            &profile,
            &upsert.source,
            upsert.attributes,
            &mut operations,
        )?;
        self.plan_tags(&profile, upsert.tags, &mut operations)?;
        for (purpose, value) in upsert.consents {
            match value {
                Some(value) if profile.consents.get(&purpose) != Some(&value) => {
                    operations.push(Operation::ConsentSet {
                        profile: id,
                        purpose,
                        value,
                    });
                }
                None if profile.consents.contains_key(&purpose) => {
                    operations.push(Operation::ConsentRemoved {
                        profile: id,
                        purpose,
                    });
                }
                Some(_) | None => {}
            }
        }
        Ok((
            operations,
            Outcome::Profile {
                id,
                created,
                merged,
            },
        ))
    }

    /// Declares what the write needs and is not declared yet, then types the writes against
    /// the schema as it will be. A key declared with another type refuses the whole write.
    pub(super) fn plan_write_attributes(
        &self,
        write: WriteAttributes,
    ) -> Result<(Vec<Operation>, Outcome), EngineError> {
        let profile = self
            .profile(write.profile)
            .ok_or(EngineError::UnknownProfile(write.profile))?;
        let mut schema = Cow::Borrowed(&self.schema);
        let mut operations = Vec::with_capacity(write.declare.len() + write.attributes.len());
        for definition in write.declare {
            match schema.attribute(&write.source, &definition.key) {
                Some(declared) if declared.definition.value_type == definition.value_type => {}
                Some(_) => {
                    return Err(SchemaError::AttributeExists {
                        key: definition.key,
                        source_id: write.source,
                    }
                    .into())
                }
                None => {
                    schema.check_new_attribute(&write.source, &definition)?;
                    schema
                        .to_mut()
                        .declare_attribute(&write.source, definition.clone());
                    operations.push(Operation::AttributeDeclared {
                        source: write.source.clone(),
                        definition: Box::new(definition),
                    });
                }
            }
        }
        self.plan_attributes(
            &schema,
            profile,
            &write.source,
            write.attributes,
            &mut operations,
        )?;
        Ok((
            operations,
            Outcome::Profile {
                id: profile.id,
                created: false,
                merged: Vec::new(),
            },
        ))
    }

    /// The distinct profiles the identifiers of unique types belong to, each with the highest
    /// priority of the identifier types that matched it, in the order first matched.
    fn owners_of(&self, identifiers: &[Identifier]) -> (Vec<(ProfileIndex, i32)>, Vec<bool>) {
        let mut owners: Vec<(ProfileIndex, i32)> = Vec::new();
        let mut owned = Vec::with_capacity(identifiers.len());
        for identifier in identifiers {
            let owner = self.identities.owner(identifier, &self.profiles);
            owned.push(owner.is_some());
            let Some(slot) = owner else {
                continue;
            };
            let priority = self.identity.priority(identifier.kind());
            match owners.iter_mut().find(|(owner, _)| *owner == slot) {
                Some(owner) => owner.1 = owner.1.max(priority),
                None => owners.push((slot, priority)),
            }
        }
        (owners, owned)
    }

    /// Merges every matched profile into one survivor: the one matched by the identifier type
    /// of highest priority, the oldest on a tie. Returns the survivor as it will be.
    fn plan_merges(
        &self,
        owners: &[(ProfileIndex, i32)],
        identifiers: &[Identifier],
        operations: &mut Vec<Operation>,
        merged: &mut Vec<ProfileId>,
    ) -> Result<Profile, EngineError> {
        let mut ranked = owners.to_vec();
        ranked.sort_by(|(slot_a, priority_a), (slot_b, priority_b)| {
            priority_b.cmp(priority_a).then(slot_a.cmp(slot_b))
        });
        let mut ranked = ranked.into_iter();
        let Some((survivor_slot, _)) = ranked.next() else {
            return Err(IdentityError::Missing.into());
        };
        let survivor = self.live_or_corrupt(survivor_slot)?;
        // The survivor as it will be, for the rest of the plan. When the index alone answers
        // which profile holds an identifier, nothing in the plan reads the survivor's list of
        // identifiers, so the copy leaves it out: a survivor may hold tens of thousands.
        let mut survivor = if self.identity.resolves_by_index_alone() {
            survivor.clone_without_identities()
        } else {
            survivor.clone()
        };
        for (slot, _) in ranked {
            let absorbed = self.live_or_corrupt(slot)?;
            let moved = merge_delta(&self.identity, &survivor, absorbed)?;
            merge_into(&mut survivor, absorbed, &moved, None);
            let because = identifiers
                .iter()
                .filter(|identifier| {
                    self.identities.owner(identifier, &self.profiles) == Some(slot)
                })
                .cloned()
                .collect();
            merged.push(absorbed.id);
            operations.push(Operation::ProfileMerged {
                survivor: survivor.id,
                absorbed: Box::new(absorbed.clone()),
                moved: Box::new(moved),
                because,
            });
        }
        Ok(survivor)
    }

    /// Adds the identifiers the profile lacks, keeping every type within its limit. `owned`
    /// says which identifiers the index gave an owner: every such owner is the profile or was
    /// merged into it, so an identifier of a unique type without a limit is new exactly when
    /// it has none, without searching the profile's identifiers (a profile may hold tens of
    /// thousands).
    fn plan_identifiers(
        &self,
        profile: &Profile,
        identifiers: Vec<Identifier>,
        owned: &[bool],
        operations: &mut Vec<Operation>,
    ) -> Result<(), EngineError> {
        let all_without_limit = identifiers
            .iter()
            .all(|identifier| self.identity.limit(identifier.kind()).is_none());
        let held = |(identifier, owned): &(Identifier, &bool)| {
            let kind = identifier.kind();
            if self.identity.is_unique(kind) && self.identity.limit(kind).is_none() {
                **owned
            } else {
                profile.identities.contains(identifier)
            }
        };
        let mut new = identifiers
            .into_iter()
            .zip(owned)
            .filter(|pair| !held(pair))
            .map(|(identifier, _)| identifier);
        if all_without_limit {
            operations.extend(new.map(|identifier| Operation::IdentifierAdded {
                profile: profile.id,
                identifier,
            }));
            return Ok(());
        }
        let new: Vec<Identifier> = new.by_ref().collect();
        let mut skipped: Vec<usize> = Vec::new();
        for (position, identifier) in new.iter().enumerate() {
            let kind = identifier.kind();
            let first_of_kind = new.iter().position(|other| other.kind() == kind);
            if first_of_kind != Some(position) {
                continue;
            }
            let Some((limit, behaviour)) = self.identity.limit(kind) else {
                continue;
            };
            let held: Vec<&Identifier> = profile
                .identities
                .iter()
                .filter(|held| held.kind() == kind)
                .collect();
            let adding: Vec<usize> = new
                .iter()
                .enumerate()
                .filter(|(_, other)| other.kind() == kind)
                .map(|(index, _)| index)
                .collect();
            let excess = (held.len() + adding.len()).saturating_sub(limit);
            if excess == 0 {
                continue;
            }
            if behaviour == LimitBehaviour::Reject {
                return Err(IdentityError::LimitExceeded {
                    kind: kind.to_owned(),
                    limit,
                }
                .into());
            }
            for oldest in held.iter().take(excess) {
                operations.push(Operation::IdentifierRemoved {
                    profile: profile.id,
                    identifier: (*oldest).clone(),
                });
            }
            skipped.extend(adding.iter().take(excess.saturating_sub(held.len())));
        }
        for (position, identifier) in new.into_iter().enumerate() {
            if !skipped.contains(&position) {
                operations.push(Operation::IdentifierAdded {
                    profile: profile.id,
                    identifier,
                });
            }
        }
        Ok(())
    }

    /// Types every attribute write against `schema`, in order, and logs the values that
    /// end up different from the profile's.
    fn plan_attributes(
        &self,
        schema: &Schema,
        profile: &Profile,
        source: &SourceId,
        writes: Vec<(AttributeKey, crate::schema::AttributeChange)>,
        operations: &mut Vec<Operation>,
    ) -> Result<(), EngineError> {
        // Per source and key: the stored value (read once) and the value the writes leave, in
        // the order first written. A few writes are compared with each other; more are found
        // by a table (a body may write tens of thousands of keys: a scan per write would make
        // it quadratic).
        const COMPARED: usize = 16;
        let mut pending: Vec<Pending> = Vec::with_capacity(writes.len());
        let mut staged_at: Option<HashMap<(SourceId, AttributeKey), usize>> =
            (writes.len() > COMPARED).then(HashMap::default);
        for (key, change) in writes {
            let target = schema.write_target(source, &key)?;
            let seen = match &mut staged_at {
                Some(staged_at) => match staged_at.entry((target.source.clone(), key)) {
                    Entry::Occupied(found) => Ok(*found.get()),
                    Entry::Vacant(vacant) => {
                        let key = vacant.key().1.clone();
                        vacant.insert(pending.len());
                        Err(key)
                    }
                },
                None => pending
                    .iter()
                    .position(|staged| staged.key == key && staged.source == *target.source)
                    .ok_or(key),
            };
            let index = match seen {
                Ok(index) => index,
                Err(key) => {
                    let stored = profile
                        .source_attribute(target.source, &key)
                        .map(|written| written.value);
                    pending.push(Pending {
                        source: target.source.clone(),
                        key,
                        stored,
                        result: None,
                    });
                    pending.len() - 1
                }
            };
            let Some(staged) = pending.get_mut(index) else {
                continue;
            };
            let current = match &staged.result {
                Some(written) => written.as_ref(),
                None => staged.stored.as_ref(),
            };
            let result = change.resulting_value(&staged.key, target.definition, current)?;
            staged.result = Some(result);
        }
        for staged in pending {
            match staged.result.flatten() {
                Some(value) if staged.stored.as_ref() != Some(&value) => {
                    operations.push(Operation::AttributeSet {
                        profile: profile.id,
                        source: staged.source,
                        key: staged.key,
                        value,
                    })
                }
                None if staged.stored.is_some() => operations.push(Operation::AttributeRemoved {
                    profile: profile.id,
                    source: staged.source,
                    key: staged.key,
                }),
                Some(_) | None => {}
            }
        }
        Ok(())
    }

    /// Adds and removes tags, keeping each kind within the configured total length.
    fn plan_tags(
        &self,
        profile: &Profile,
        writes: Vec<super::TagWrite>,
        operations: &mut Vec<Operation>,
    ) -> Result<(), EngineError> {
        if writes.is_empty() {
            return Ok(());
        }
        for kind in [TagKind::Auto, TagKind::Manual] {
            let before = profile.tags.of(kind);
            let mut after = before.clone();
            for write in writes.iter().filter(|write| write.kind == kind) {
                if write.present {
                    after.insert(write.tag.clone());
                } else {
                    after.remove(&write.tag);
                }
            }
            if let Some(limit) = self.schema.tags_max_length() {
                let name = match kind {
                    TagKind::Auto => "tags.auto",
                    TagKind::Manual => "tags.manual",
                };
                check_length(name, total_length(&after), limit)?;
            }
            for tag in before.difference(&after) {
                operations.push(Operation::TagRemoved {
                    profile: profile.id,
                    kind,
                    tag: tag.clone(),
                });
            }
            for tag in after.difference(before) {
                operations.push(Operation::TagAdded {
                    profile: profile.id,
                    kind,
                    tag: tag.clone(),
                });
            }
        }
        Ok(())
    }

    pub(super) fn live_or_corrupt(&self, slot: ProfileIndex) -> Result<&Profile, EngineError> {
        self.live(slot).ok_or_else(|| EngineError::CorruptLog {
            offset: self.next_offset,
            reason: "the identity index names a retired profile".to_owned(),
        })
    }
}

/// The identifiers without repeats, first occurrences kept in order. A few are compared
/// with each other; more go through a set, so an upsert naming thousands stays linear.
fn dedup(identifiers: Vec<Identifier>) -> Vec<Identifier> {
    const COMPARED: usize = 16;
    let keep: Vec<bool> = if identifiers.len() <= COMPARED {
        let first = |(position, identifier): (usize, &Identifier)| {
            !identifiers
                .iter()
                .take(position)
                .any(|seen| seen == identifier)
        };
        // The common case (a few, none repeated) allocates nothing.
        if identifiers.iter().enumerate().all(first) {
            return identifiers;
        }
        identifiers.iter().enumerate().map(first).collect()
    } else {
        // Owned entries, the set type the profile's identities use: one less in the code.
        let mut seen = HashSet::default();
        identifiers
            .iter()
            .map(|identifier| seen.insert(identifier.clone()))
            .collect()
    };
    if keep.iter().all(|kept| *kept) {
        return identifiers;
    }
    identifiers
        .into_iter()
        .zip(keep)
        .filter_map(|(identifier, kept)| kept.then_some(identifier))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;
    use crate::engine::{Command, SystemClock};
    use crate::identity::IdentityConfig;
    use crate::schema::{AttributeChange, AttributeDefinition, AttributeType};

    #[test]
    fn dedup_keeps_first_occurrences_in_order_for_few_and_many() {
        for count in [0, 1, 5, 16, 17, 200] {
            let identifiers: Vec<Identifier> = (0..count)
                .map(|index| Identifier::normalized("email", &format!("e{}", index * 7 % 11)))
                .collect();
            let mut expected: Vec<Identifier> = Vec::new();
            for identifier in &identifiers {
                if !expected.contains(identifier) {
                    expected.push(identifier.clone());
                }
            }
            assert_eq!(dedup(identifiers), expected, "{count} identifiers");
        }
    }

    fn engine_with_profile() -> (Engine, ProfileId) {
        let mut engine = Engine::new(IdentityConfig::default(), Rc::new(SystemClock));
        let email = engine
            .identity_config()
            .normalize("email", "a@b.c")
            .unwrap();
        let upsert = UpsertProfile::new(vec![email], SourceId::default_source());
        let id = engine
            .execute(Command::UpsertProfile(upsert))
            .unwrap()
            .profile_id()
            .unwrap();
        (engine, id)
    }

    fn write(
        profile: ProfileId,
        declare: &[(&str, AttributeType)],
        values: Vec<(&str, Value)>,
    ) -> Command {
        Command::WriteAttributes(WriteAttributes {
            profile,
            source: SourceId::default_source(),
            declare: declare
                .iter()
                .map(|(key, value_type)| AttributeDefinition::new(*key, *value_type))
                .collect(),
            attributes: values
                .into_iter()
                .map(|(key, value)| (key.to_owned(), AttributeChange::Set(value)))
                .collect(),
        })
    }

    #[test]
    fn write_attributes_declares_then_writes_typed_values_in_one_command() {
        let (mut engine, id) = engine_with_profile();
        engine.take_unpersisted();
        let command = write(
            id,
            &[("age", AttributeType::Integer)],
            vec![("age", Value::String("8".into()))],
        );
        engine.execute(command).unwrap();
        assert_eq!(
            engine.profile(id).unwrap().attribute("age"),
            Some(Value::Integer(8))
        );
        let names: Vec<_> = engine
            .take_unpersisted()
            .iter()
            .map(|change| change.operation.name())
            .collect();
        assert_eq!(names, ["attribute_declared", "attribute_set"]);
    }

    #[test]
    fn rejected_write_attributes_leaves_no_declaration_state_or_log_behind() {
        let (mut engine, id) = engine_with_profile();
        let before = (
            engine.profile(id).cloned(),
            engine.schema().clone(),
            engine.next_offset(),
        );
        let bad_value = write(
            id,
            &[
                ("pro", AttributeType::Boolean),
                ("age", AttributeType::Integer),
            ],
            vec![
                ("pro", Value::Boolean(true)),
                ("age", Value::String("eight".into())),
            ],
        );
        let error = engine.execute(bad_value).unwrap_err();
        assert_eq!(error.code(), "schema.type_mismatch");
        let two_types = write(
            id,
            &[
                ("age", AttributeType::Integer),
                ("age", AttributeType::String),
            ],
            Vec::new(),
        );
        let error = engine.execute(two_types).unwrap_err();
        assert_eq!(error.code(), "schema.attribute_exists");
        let unknown = ProfileId::random();
        let error = engine.execute(write(unknown, &[], Vec::new())).unwrap_err();
        assert_eq!(error, EngineError::UnknownProfile(unknown));
        assert_eq!(
            (
                engine.profile(id).cloned(),
                engine.schema().clone(),
                engine.next_offset()
            ),
            before
        );
    }
}
