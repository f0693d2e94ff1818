//! Merging two profiles and undoing a logged merge (Contacthub's MERGE policy).
//!
//! A merge moves the absorbed profile's identifiers to the survivor, appends and
//! de-duplicates collections (sets, lists, tags), fills consents the survivor lacks, and
//! resolves a scalar conflict on one source and key by recency (the survivor wins ties).
//! Values of different sources never conflict: they are kept side by side. What moved is
//! logged, with the absorbed profile as it was, so an unmerge restores both.

use serde::{Deserialize, Serialize};

use super::{Engine, EngineError, Operation, Outcome};
use crate::identity::{Identifier, IdentityConfig, IdentityError, LimitBehaviour};
use crate::model::{
    AttributeKey, AttributeNames, AttributeValue, Profile, ProfileId, ProfileIndex, SourceId,
    TagKind, Timestamp, Value,
};

/// What a merge gave the survivor and took from it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MergeDelta {
    /// Identifiers moved from the absorbed profile to the survivor.
    pub identifiers: Vec<Identifier>,
    /// The survivor's own identifiers dropped to keep within their type's limit.
    pub dropped: Vec<Identifier>,
    /// Attribute values the survivor took over.
    pub attributes: Vec<AttributeMove>,
    /// Tags the survivor gained.
    pub tags: Vec<(TagKind, String)>,
    /// Consents the survivor lacked and gained.
    pub consents: Vec<(String, Value)>,
}

/// One attribute value a merge gave the survivor, with the value it replaced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttributeMove {
    /// The source of record.
    pub source: SourceId,
    /// The attribute name.
    pub key: AttributeKey,
    /// The value the survivor now has.
    pub value: AttributeValue,
    /// The survivor's value before, if it had one.
    pub previous: Option<AttributeValue>,
}

/// What an unmerge takes back from the survivor.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UnmergeDelta {
    /// Identifiers the survivor gives back to the restored profile.
    pub identifiers: Vec<Identifier>,
    /// Identifiers the merge had dropped from the survivor and it gets back.
    pub regained: Vec<Identifier>,
    /// Attribute values the survivor returns to: `None` removes the value.
    pub attributes: Vec<(SourceId, AttributeKey, Option<AttributeValue>)>,
    /// Tags the survivor loses again.
    pub tags: Vec<(TagKind, String)>,
    /// Consent purposes the survivor loses again.
    pub consents: Vec<String>,
    /// Aliases the survivor loses: the restored profile's id and its own aliases.
    pub aliases: Vec<ProfileId>,
}

/// A merge in force, as the engine remembers it for explanation and unmerge. Snapshots
/// keep it whole, so an unmerge works after a reload too.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MergeRecord {
    /// The profile that absorbed the other.
    pub survivor: ProfileId,
    /// The absorbed profile exactly as it was.
    pub absorbed: Profile,
    /// What moved.
    pub moved: MergeDelta,
    /// The identifiers that made the profiles meet; empty for an explicit merge.
    pub because: Vec<Identifier>,
    /// When the merge was committed.
    pub at: Timestamp,
    pub(super) slot: ProfileIndex,
}

/// Works out what merging `absorbed` into `survivor` moves, under the identity rules' limits.
pub(super) fn merge_delta(
    identity: &IdentityConfig,
    survivor: &Profile,
    absorbed: &Profile,
) -> Result<MergeDelta, IdentityError> {
    let mut delta = MergeDelta::default();
    // An identifier of a unique type has one owner, so the survivor never holds the absorbed
    // profile's: only the others are searched for (a survivor may hold tens of thousands).
    let incoming: Vec<&Identifier> = absorbed
        .identities
        .iter()
        .filter(|identifier| {
            identity.is_unique(identifier.kind()) || !survivor.identities.contains(identifier)
        })
        .collect();
    for identifier in &incoming {
        let kind = identifier.kind();
        let Some((limit, behaviour)) = identity.limit(kind) else {
            delta.identifiers.push((*identifier).clone());
            continue;
        };
        let held = survivor
            .identities
            .iter()
            .filter(|held| held.kind() == kind)
            .filter(|held| !delta.dropped.contains(held))
            .count()
            + delta
                .identifiers
                .iter()
                .filter(|moved| moved.kind() == kind)
                .count();
        if held < limit {
            delta.identifiers.push((*identifier).clone());
            continue;
        }
        match behaviour {
            LimitBehaviour::Reject => {
                return Err(IdentityError::LimitExceeded {
                    kind: kind.to_owned(),
                    limit,
                })
            }
            LimitBehaviour::DropOldest => {
                let oldest = survivor
                    .identities
                    .iter()
                    .find(|held| held.kind() == kind && !delta.dropped.contains(held));
                match oldest {
                    Some(oldest) => {
                        delta.dropped.push(oldest.clone());
                        delta.identifiers.push((*identifier).clone());
                    }
                    None => {
                        if let Some(position) = delta
                            .identifiers
                            .iter()
                            .position(|moved| moved.kind() == kind)
                        {
                            delta.identifiers.remove(position);
                            delta.identifiers.push((*identifier).clone());
                        }
                    }
                }
            }
        }
    }
    for (source, key, theirs) in absorbed.attributes.iter() {
        let ours = survivor.source_attribute(source, key);
        if let Some(value) = merged_value(ours.as_ref(), &theirs) {
            delta.attributes.push(AttributeMove {
                source: source.clone(),
                key: key.clone(),
                value,
                previous: ours,
            });
        }
    }
    for kind in [TagKind::Auto, TagKind::Manual] {
        for tag in absorbed.tags.of(kind) {
            if !survivor.tags.of(kind).contains(tag) {
                delta.tags.push((kind, tag.clone()));
            }
        }
    }
    for (purpose, value) in &absorbed.consents {
        if !survivor.consents.contains_key(purpose) {
            delta.consents.push((purpose.clone(), value.clone()));
        }
    }
    Ok(delta)
}

/// The value the survivor takes for one source and key, or `None` when it keeps its own.
fn merged_value(ours: Option<&AttributeValue>, theirs: &AttributeValue) -> Option<AttributeValue> {
    let Some(ours) = ours else {
        return Some(theirs.clone());
    };
    let updated = ours.updated.max(theirs.updated);
    let value = if let (Value::Set(mine), Value::Set(other)) = (&ours.value, &theirs.value) {
        Value::Set(mine.union(other).cloned().collect())
    } else if let (Value::List(mine), Value::List(other)) = (&ours.value, &theirs.value) {
        let mut items = mine.clone();
        for item in other {
            if !items.contains(item) {
                items.push(item.clone());
            }
        }
        Value::List(items)
    } else if theirs.updated > ours.updated {
        // A scalar (or a change of shape): the more recent write wins, the survivor on a tie.
        return Some(theirs.clone());
    } else {
        return None;
    };
    (value != ours.value).then_some(AttributeValue { value, updated })
}

/// Applies a merge to the survivor's record (the index and slots are the engine's concern),
/// sharing attribute names and shapes through the engine's `names` when it is given (a
/// plan's scratch copy of the survivor needs none).
pub(super) fn merge_into(
    survivor: &mut Profile,
    absorbed: &Profile,
    delta: &MergeDelta,
    names: Option<&mut AttributeNames>,
) {
    if !delta.dropped.is_empty() {
        survivor
            .identities
            .retain(|identifier| !delta.dropped.contains(identifier));
    }
    survivor
        .identities
        .extend(delta.identifiers.iter().cloned());
    if !delta.attributes.is_empty() {
        let writes = delta
            .attributes
            .iter()
            .map(|moved| {
                let written = (&moved.value.value, moved.value.updated);
                (&moved.source, moved.key.as_str(), Some(written))
            })
            .collect();
        // A plan's scratch copy shares nothing with the engine's names.
        let mut scratch = AttributeNames::default();
        let names = names.unwrap_or(&mut scratch);
        survivor.attributes.write_all(writes, names);
    }
    for (kind, tag) in &delta.tags {
        survivor.tags.of_mut(*kind).insert(tag.clone());
    }
    for (purpose, value) in &delta.consents {
        survivor.consents.insert(purpose.clone(), value.clone());
    }
    survivor.aliases.push(absorbed.id);
    survivor.aliases.extend(absorbed.aliases.iter().copied());
}

/// Gives back what an unmerge takes from the survivor's record, sharing attribute names and
/// shapes through the engine's `names`.
pub(super) fn unmerge_from(
    survivor: &mut Profile,
    delta: &UnmergeDelta,
    names: &mut AttributeNames,
) {
    survivor
        .identities
        .retain(|identifier| !delta.identifiers.contains(identifier));
    survivor.identities.extend(delta.regained.iter().cloned());
    if !delta.attributes.is_empty() {
        let writes = delta
            .attributes
            .iter()
            .map(|(source, key, value)| {
                let written = value
                    .as_ref()
                    .map(|written| (&written.value, written.updated));
                (source, key.as_str(), written)
            })
            .collect();
        survivor.attributes.write_all(writes, names);
    }
    for (kind, tag) in &delta.tags {
        survivor.tags.of_mut(*kind).remove(tag);
    }
    for purpose in &delta.consents {
        survivor.consents.remove(purpose);
    }
    survivor
        .aliases
        .retain(|alias| !delta.aliases.contains(alias));
}

impl Engine {
    /// `MergeProfiles`: merge `absorbed` into `survivor` whatever the conflict policy.
    pub(super) fn plan_explicit_merge(
        &self,
        survivor: ProfileId,
        absorbed: ProfileId,
    ) -> Result<(Vec<Operation>, Outcome), EngineError> {
        let survivor_slot = self.live_slot(survivor)?;
        let absorbed_slot = self.live_slot(absorbed)?;
        if survivor_slot == absorbed_slot {
            return Err(IdentityError::SameProfile { profile: absorbed }.into());
        }
        let (Some(kept), Some(gone)) = (self.live(survivor_slot), self.live(absorbed_slot)) else {
            return Err(IdentityError::UnknownProfile { profile: absorbed }.into());
        };
        let moved = merge_delta(&self.identity, kept, gone)?;
        Ok((
            vec![Operation::ProfileMerged {
                survivor: kept.id,
                absorbed: Box::new(gone.clone()),
                moved: Box::new(moved),
                because: Vec::new(),
            }],
            Outcome::Profile {
                id: kept.id,
                created: false,
                merged: vec![gone.id],
            },
        ))
    }

    /// `UnmergeProfile`: restore the profile a logged merge absorbed, and take back from the
    /// survivor what that merge gave it and has not changed since.
    pub(super) fn plan_unmerge(
        &self,
        absorbed: ProfileId,
        at: Timestamp,
    ) -> Result<(Vec<Operation>, Outcome), EngineError> {
        let record = self
            .merges
            .get(&absorbed)
            .ok_or(IdentityError::NotMerged { profile: absorbed })?;
        let survivor_slot = self.slots.get(record.survivor, &self.profiles).ok_or(
            IdentityError::UnknownProfile {
                profile: record.survivor,
            },
        )?;
        let survivor = self
            .live(survivor_slot)
            .filter(|live| live.id == record.survivor)
            .ok_or(IdentityError::SurvivorMerged {
                survivor: record.survivor,
            })?;
        let mut reverted = UnmergeDelta::default();
        let mut restored = record.absorbed.clone();
        restored.identities.clear();
        for identifier in &record.absorbed.identities {
            let moved_here = record.moved.identifiers.contains(identifier)
                && survivor.identities.contains(identifier);
            let free = if self.identity.is_unique(identifier.kind()) {
                moved_here || self.identities.owner(identifier, &self.profiles).is_none()
            } else {
                true
            };
            if free {
                restored.identities.push(identifier.clone());
            }
            if moved_here {
                reverted.identifiers.push(identifier.clone());
            }
        }
        for identifier in &record.moved.dropped {
            let kind = identifier.kind();
            let held = survivor
                .identities
                .iter()
                .filter(|held| held.kind() == kind && !reverted.identifiers.contains(held))
                .count()
                + reverted
                    .regained
                    .iter()
                    .filter(|held| held.kind() == kind)
                    .count();
            let room = self
                .identity
                .limit(kind)
                .is_none_or(|(limit, _)| held < limit);
            let free = !self.identity.is_unique(kind)
                || self.identities.owner(identifier, &self.profiles).is_none();
            if room && free && !survivor.identities.contains(identifier) {
                reverted.regained.push(identifier.clone());
            }
        }
        for moved in &record.moved.attributes {
            if survivor
                .source_attribute(&moved.source, &moved.key)
                .as_ref()
                == Some(&moved.value)
            {
                reverted.attributes.push((
                    moved.source.clone(),
                    moved.key.clone(),
                    moved.previous.clone(),
                ));
            }
        }
        for (kind, tag) in &record.moved.tags {
            if survivor.tags.of(*kind).contains(tag) {
                reverted.tags.push((*kind, tag.clone()));
            }
        }
        for (purpose, value) in &record.moved.consents {
            if survivor.consents.get(purpose) == Some(value) {
                reverted.consents.push(purpose.clone());
            }
        }
        reverted.aliases.push(record.absorbed.id);
        reverted
            .aliases
            .extend(record.absorbed.aliases.iter().copied());
        restored.version = restored.version.saturating_add(1);
        restored.updated = restored.updated.max(at);
        Ok((
            vec![Operation::ProfileUnmerged {
                survivor: survivor.id,
                restored: Box::new(restored),
                reverted: Box::new(reverted),
            }],
            Outcome::Unmerged {
                survivor: survivor.id,
                restored: absorbed,
            },
        ))
    }
}
