use super::Identifier;
use crate::model::{slot_hash, Profile, ProfileIndex, SlotTable};

/// Each normalized identifier of a unique type maps to exactly one live profile. The index
/// keeps no copy of the identifier: an entry is the owner's slot and the identifier's hash,
/// confirmed against the identifiers the profile holds, so the text lives once, in the
/// profile.
#[derive(Clone, Debug, Default)]
pub(crate) struct IdentityIndex {
    owners: SlotTable,
}

/// Whether the live profile at `slot` holds `identifier`.
fn holds(profiles: &[Option<Profile>], slot: ProfileIndex, identifier: &Identifier) -> bool {
    profiles
        .get(slot.slot())
        .and_then(Option::as_ref)
        .is_some_and(|profile| profile.identities.contains(identifier))
}

impl IdentityIndex {
    /// The profile that owns `identifier`, if any, among `profiles` (by slot).
    pub(crate) fn owner(
        &self,
        identifier: &Identifier,
        profiles: &[Option<Profile>],
    ) -> Option<ProfileIndex> {
        self.owners.find(slot_hash(identifier), |slot| {
            holds(profiles, slot, identifier)
        })
    }

    /// Records that `identifier` belongs to `profile` (which need not hold it yet); returns
    /// the previous owner among `profiles`, if any.
    pub(crate) fn assign(
        &mut self,
        identifier: &Identifier,
        profile: ProfileIndex,
        profiles: &[Option<Profile>],
    ) -> Option<ProfileIndex> {
        let hash = slot_hash(identifier);
        let previous = self
            .owners
            .find(hash, |slot| holds(profiles, slot, identifier));
        if let Some(previous) = previous {
            self.owners.remove(hash, previous);
        }
        self.owners.insert(hash, profile);
        previous
    }

    /// Records that `identifier` belongs to `profile`, which holds it, unless another live
    /// profile among `profiles` owns it; returns that owner then, changing nothing.
    pub(crate) fn claim(
        &mut self,
        identifier: &Identifier,
        profile: ProfileIndex,
        profiles: &[Option<Profile>],
    ) -> Option<ProfileIndex> {
        self.owners
            .insert_new(slot_hash(identifier), profile, |slot| {
                holds(profiles, slot, identifier)
            })
            .filter(|owner| *owner != profile)
    }

    /// Forgets `identifier` if `profile` owns it (whether or not the profile still holds it).
    pub(crate) fn release(&mut self, identifier: &Identifier, profile: ProfileIndex) {
        self.owners.remove(slot_hash(identifier), profile);
    }

    /// Makes room for `additional` more identifiers without growing on the way.
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.owners.reserve(additional);
    }

    /// How many identifiers are indexed.
    pub(crate) fn len(&self) -> usize {
        self.owners.len()
    }
}
