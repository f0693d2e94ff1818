//! Profile ids to slots. A live profile's own id is filed in a [`SlotTable`] (8 bytes an
//! entry, the id itself read from the profile); the ids of profiles merged away, few, sit in
//! a map to the slot of the profile that absorbed them.

use std::cell::Cell;

use rustc_hash::FxHashMap;

use crate::model::{slot_hash, Profile, ProfileId, ProfileIndex, SlotTable};

#[derive(Clone, Debug, Default)]
pub(super) struct ProfileSlots {
    own: SlotTable,
    aliases: FxHashMap<ProfileId, ProfileIndex>,
    /// The last own id found and its slot: the changes of one command name the same
    /// profile one after another, and a hit checked against the profile at the slot skips
    /// a probe that is most of the time a cache miss.
    last: Cell<Option<(ProfileId, ProfileIndex)>>,
}

fn id_at(profiles: &[Option<Profile>], slot: ProfileIndex) -> Option<ProfileId> {
    profiles
        .get(slot.slot())
        .and_then(Option::as_ref)
        .map(|profile| profile.id)
}

impl ProfileSlots {
    /// The slot `id` resolves to: its own, or that of the profile that absorbed it.
    pub(super) fn get(&self, id: ProfileId, profiles: &[Option<Profile>]) -> Option<ProfileIndex> {
        // A live profile's own id is always filed, so the profile at a slot having `id`
        // means the table would answer that slot too.
        if let Some((last, slot)) = self.last.get() {
            if last == id && id_at(profiles, slot) == Some(id) {
                return Some(slot);
            }
        }
        match self
            .own
            .find(slot_hash(&id), |slot| id_at(profiles, slot) == Some(id))
        {
            Some(slot) => {
                self.last.set(Some((id, slot)));
                Some(slot)
            }
            None => self.aliases.get(&id).copied(),
        }
    }

    /// Points `id` at `slot`: as the profile's own id when the profile at `slot` is `id`,
    /// otherwise as an alias.
    pub(super) fn insert(
        &mut self,
        id: ProfileId,
        slot: ProfileIndex,
        profiles: &[Option<Profile>],
    ) {
        if id_at(profiles, slot) == Some(id) {
            self.aliases.remove(&id);
            let hash = slot_hash(&id);
            if self.own.find(hash, |filed| filed == slot).is_none() {
                self.own.insert(hash, slot);
            }
        } else {
            self.aliases.insert(id, slot);
        }
    }

    /// Files the own id of the profile at `slot`, which is `id`, unless `id` resolves
    /// already; returns the slot it resolves to then.
    pub(super) fn insert_new(
        &mut self,
        id: ProfileId,
        slot: ProfileIndex,
        profiles: &[Option<Profile>],
    ) -> Option<ProfileIndex> {
        if let Some(absorbed_into) = self.aliases.get(&id) {
            return Some(*absorbed_into);
        }
        let found = self.own.insert_new(slot_hash(&id), slot, |filed| {
            id_at(profiles, filed) == Some(id)
        });
        if found.is_none() {
            // The changes right after a profile's creation name it (its identifiers, its
            // values): they find it here without a probe.
            self.last.set(Some((id, slot)));
        }
        found
    }

    /// Room for `additional` more profiles.
    pub(super) fn reserve(&mut self, additional: usize) {
        self.own.reserve(additional);
    }
}
