//! Profile ids to slots. A live profile's own id is filed in a [`SlotTable`] (8 bytes an
//! entry, the id itself read from the profile); the ids of profiles merged away, few, sit in
//! a map to the slot of the profile that absorbed them.

use rustc_hash::FxHashMap;

use crate::model::{slot_hash, Profile, ProfileId, ProfileIndex, SlotTable};

#[derive(Clone, Debug, Default)]
pub(super) struct ProfileSlots {
    own: SlotTable,
    aliases: FxHashMap<ProfileId, ProfileIndex>,
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
        self.own
            .find(slot_hash(&id), |slot| id_at(profiles, slot) == Some(id))
            .or_else(|| self.aliases.get(&id).copied())
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
        self.own.insert_new(slot_hash(&id), slot, |filed| {
            id_at(profiles, filed) == Some(id)
        })
    }

    /// Room for `additional` more profiles.
    pub(super) fn reserve(&mut self, additional: usize) {
        self.own.reserve(additional);
    }
}
