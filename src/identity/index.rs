use rustc_hash::FxHashMap;

use super::Identifier;
use crate::model::ProfileIndex;

/// Each normalized identifier of a unique type maps to exactly one live profile. Hashed with
/// FxHash: identifiers are the hot key and a local engine has no hash-flooding adversary.
#[derive(Clone, Debug, Default)]
pub(crate) struct IdentityIndex {
    owners: FxHashMap<Identifier, ProfileIndex>,
}

impl IdentityIndex {
    /// The profile that owns `identifier`, if any.
    pub(crate) fn owner(&self, identifier: &Identifier) -> Option<ProfileIndex> {
        self.owners.get(identifier).copied()
    }

    /// Records that `identifier` belongs to `profile`; returns the previous owner, if any.
    pub(crate) fn assign(
        &mut self,
        identifier: Identifier,
        profile: ProfileIndex,
    ) -> Option<ProfileIndex> {
        self.owners.insert(identifier, profile)
    }

    /// Forgets `identifier` if `profile` owns it.
    pub(crate) fn release(&mut self, identifier: &Identifier, profile: ProfileIndex) {
        if self.owner(identifier) == Some(profile) {
            self.owners.remove(identifier);
        }
    }

    /// How many identifiers are indexed.
    pub(crate) fn len(&self) -> usize {
        self.owners.len()
    }
}
