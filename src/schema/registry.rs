//! The schema as engine state: declared sources of record and attributes, and the rules a
//! write must pass. The engine changes it only by applying logged operations.

use std::collections::BTreeMap;

use super::{
    validate_key, AttributeDefinition, AttributeType, DeclaredAttribute, KeyDigest, SchemaConfig,
    SchemaError, SourceDefinition, SourceKind,
};
use crate::model::{AttributeKey, SourceId};

/// The identifier of the global source of record, which always exists.
pub const GLOBAL_SOURCE: &str = "global";

/// A declared source, whether it is disabled and the upload keys issued for it.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct DeclaredSource {
    /// What was declared.
    pub definition: SourceDefinition,
    /// Values from a disabled source are refused.
    pub disabled: bool,
    /// Digests of the upload keys issued for the source, oldest first. They go with it when
    /// it is deleted. (Last and defaulted, so snapshots stored before it still read.)
    #[serde(default)]
    pub keys: Vec<KeyDigest>,
}

/// Where a write to `(source, key)` lands and the declaration it must fit.
#[derive(Clone, Copy, Debug)]
pub struct WriteTarget<'a> {
    /// The source the value is stored on: the global one for shared keys.
    pub source: &'a SourceId,
    /// The declaration, or `None` for an undeclared key (typed by inference).
    pub definition: Option<&'a AttributeDefinition>,
}

/// Declared sources and attributes. Serialized whole into snapshots.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct Schema {
    global: SourceId,
    sources: BTreeMap<SourceId, DeclaredSource>,
    attributes: BTreeMap<SourceId, BTreeMap<AttributeKey, DeclaredAttribute>>,
    tags_max_length: Option<u32>,
}

impl Default for Schema {
    fn default() -> Self {
        let global = SourceId::new(GLOBAL_SOURCE);
        let declared = DeclaredSource {
            definition: SourceDefinition {
                id: global.clone(),
                name: "Global".to_owned(),
                kind: SourceKind::Global,
            },
            disabled: false,
            keys: Vec::new(),
        };
        Self {
            sources: BTreeMap::from([(global.clone(), declared)]),
            global,
            attributes: BTreeMap::new(),
            tags_max_length: None,
        }
    }
}

impl Schema {
    /// The schema the configuration declares; a declaration that is not valid is refused.
    pub fn from_config(config: &SchemaConfig) -> Result<Self, SchemaError> {
        let mut schema = Self {
            tags_max_length: config.tags_max_length,
            ..Self::default()
        };
        for source in &config.sources {
            schema.check_new_source(&source.id)?;
            schema.declare_source(source.clone());
        }
        for (source, definitions) in &config.attributes {
            for definition in definitions {
                schema.check_new_attribute(source, definition)?;
                schema.declare_attribute(source, definition.clone());
            }
        }
        Ok(schema)
    }

    /// The global source's id.
    pub fn global_source(&self) -> &SourceId {
        &self.global
    }

    /// The most characters each kind of tag of a profile may add up to.
    pub fn tags_max_length(&self) -> Option<u32> {
        self.tags_max_length
    }

    /// Declared sources, in id order.
    pub fn sources(&self) -> impl Iterator<Item = &DeclaredSource> {
        self.sources.values()
    }

    /// The declared source `id`.
    pub fn source(&self, id: &SourceId) -> Option<&DeclaredSource> {
        self.sources.get(id)
    }

    /// The declaration of `key` on `source`.
    pub fn attribute(&self, source: &SourceId, key: &str) -> Option<&DeclaredAttribute> {
        self.attributes
            .get(source)
            .and_then(|by_key| by_key.get(key))
    }

    /// Every declaration on `source`, in key order.
    pub fn attributes_of(
        &self,
        source: &SourceId,
    ) -> impl Iterator<Item = (&AttributeKey, &DeclaredAttribute)> {
        self.attributes.get(source).into_iter().flatten()
    }

    /// Every declaration of `key`, on whichever source, with its source.
    pub fn declarations_of<'a>(
        &'a self,
        key: &'a str,
    ) -> impl Iterator<Item = (&'a SourceId, &'a DeclaredAttribute)> + 'a {
        self.attributes
            .iter()
            .filter_map(move |(source, by_key)| by_key.get(key).map(|declared| (source, declared)))
    }

    /// Where a value written from `source` to `key` lands, or why it is refused: the source
    /// or the attribute is disabled, or the key is not a valid name.
    pub fn write_target<'a>(
        &'a self,
        source: &'a SourceId,
        key: &str,
    ) -> Result<WriteTarget<'a>, SchemaError> {
        validate_key(key)?;
        if self
            .sources
            .get(source)
            .is_some_and(|declared| declared.disabled)
        {
            return Err(SchemaError::SourceDisabled {
                source_id: source.clone(),
            });
        }
        let local = self.attribute(source, key);
        if let Some(local) = local.filter(|local| local.disabled) {
            return Err(SchemaError::AttributeDisabled {
                key: local.definition.key.clone(),
                source_id: source.clone(),
            });
        }
        if let Some(global) = self
            .attribute(&self.global, key)
            .filter(|global| global.shared || source == &self.global)
        {
            if global.disabled {
                return Err(SchemaError::AttributeDisabled {
                    key: key.to_owned(),
                    source_id: self.global.clone(),
                });
            }
            return Ok(WriteTarget {
                source: &self.global,
                definition: Some(&global.definition),
            });
        }
        Ok(WriteTarget {
            source,
            definition: local.map(|local| &local.definition),
        })
    }

    /// Checks that a source `id` may be created.
    pub fn check_new_source(&self, id: &SourceId) -> Result<(), SchemaError> {
        if id == &self.global {
            Err(SchemaError::GlobalSourceFixed)
        } else if self.sources.contains_key(id) {
            Err(SchemaError::SourceExists {
                source_id: id.clone(),
            })
        } else {
            Ok(())
        }
    }

    /// Checks that `source` exists and is not the global one (for delete, disable, rename).
    pub fn check_changeable_source(&self, id: &SourceId) -> Result<(), SchemaError> {
        if id == &self.global {
            Err(SchemaError::GlobalSourceFixed)
        } else if self.sources.contains_key(id) {
            Ok(())
        } else {
            Err(SchemaError::UnknownSource {
                source_id: id.clone(),
            })
        }
    }

    /// Checks that `definition` may be declared on `source`: a valid key, a declared source
    /// (or the default one), and no declaration of the key there yet. A key shared already
    /// must keep the shared type.
    pub fn check_new_attribute(
        &self,
        source: &SourceId,
        definition: &AttributeDefinition,
    ) -> Result<(), SchemaError> {
        validate_key(&definition.key)?;
        if !self.sources.contains_key(source) && source.as_str() != SourceId::DEFAULT {
            return Err(SchemaError::UnknownSource {
                source_id: source.clone(),
            });
        }
        if self.attribute(source, &definition.key).is_some() {
            return Err(SchemaError::AttributeExists {
                key: definition.key.clone(),
                source_id: source.clone(),
            });
        }
        if let Some(global) = self.attribute(&self.global, &definition.key) {
            same_type(
                &definition.key,
                global.definition.value_type,
                definition.value_type,
            )?;
        }
        Ok(())
    }

    /// The declaration of `key` on `source`, or [`SchemaError::UnknownAttribute`].
    pub fn declared(
        &self,
        source: &SourceId,
        key: &str,
    ) -> Result<&DeclaredAttribute, SchemaError> {
        self.attribute(source, key)
            .ok_or_else(|| SchemaError::UnknownAttribute {
                key: key.to_owned(),
                source_id: source.clone(),
            })
    }

    /// The type every declaration of `key` agrees on, for sharing it; refuses a key whose
    /// declarations disagree, one that is shared already, or one not declared at all.
    pub fn shareable_type<'a>(
        &'a self,
        key: &'a str,
    ) -> Result<&'a AttributeDefinition, SchemaError> {
        if self.attribute(&self.global, key).is_some() {
            return Err(SchemaError::SharingState {
                key: key.to_owned(),
                state: "shared already",
            });
        }
        let mut declarations = self.declarations_of(key).map(|(_, declared)| declared);
        let first = declarations
            .next()
            .ok_or_else(|| SchemaError::UnknownAttribute {
                key: key.to_owned(),
                source_id: self.global.clone(),
            })?;
        for other in declarations {
            same_type(
                key,
                first.definition.value_type,
                other.definition.value_type,
            )?;
        }
        Ok(&first.definition)
    }

    /// Adds a source (applying a logged operation).
    pub fn declare_source(&mut self, definition: SourceDefinition) {
        self.sources.insert(
            definition.id.clone(),
            DeclaredSource {
                definition,
                disabled: false,
                keys: Vec::new(),
            },
        );
    }

    /// Records the digest of an upload key issued for a source.
    pub fn add_source_key(&mut self, id: &SourceId, key: KeyDigest) {
        if let Some(declared) = self.sources.get_mut(id) {
            declared.keys.push(key);
        }
    }

    /// Renames a source.
    pub fn rename_source(&mut self, id: &SourceId, name: &str) {
        if let Some(declared) = self.sources.get_mut(id) {
            name.clone_into(&mut declared.definition.name);
        }
    }

    /// Removes a source and its declarations.
    pub fn delete_source(&mut self, id: &SourceId) {
        self.sources.remove(id);
        self.attributes.remove(id);
    }

    /// Disables or enables a source.
    pub fn set_source_disabled(&mut self, id: &SourceId, disabled: bool) {
        if let Some(declared) = self.sources.get_mut(id) {
            declared.disabled = disabled;
        }
    }

    /// Declares (or redeclares) an attribute on a source; a redeclaration keeps its state.
    pub fn declare_attribute(&mut self, source: &SourceId, definition: AttributeDefinition) {
        let shared = self
            .attribute(&self.global, &definition.key)
            .is_some_and(|global| global.shared);
        let by_key = self.attributes.entry(source.clone()).or_default();
        match by_key.get_mut(&definition.key) {
            Some(existing) => existing.definition = definition,
            None => {
                by_key.insert(
                    definition.key.clone(),
                    DeclaredAttribute {
                        definition,
                        disabled: false,
                        shared,
                    },
                );
            }
        }
    }

    /// Removes the declaration of `key` on `source`.
    pub fn delete_attribute(&mut self, source: &SourceId, key: &str) {
        if let Some(by_key) = self.attributes.get_mut(source) {
            by_key.remove(key);
            if by_key.is_empty() {
                self.attributes.remove(source);
            }
        }
    }

    /// Disables or enables the declaration of `key` on `source`.
    pub fn set_attribute_disabled(&mut self, source: &SourceId, key: &str, disabled: bool) {
        if let Some(declared) = self
            .attributes
            .get_mut(source)
            .and_then(|by_key| by_key.get_mut(key))
        {
            declared.disabled = disabled;
        }
    }

    /// Shares `key`: every declaration becomes shared and the global source declares it.
    pub fn share(&mut self, definition: AttributeDefinition) {
        let key = definition.key.clone();
        for by_key in self.attributes.values_mut() {
            if let Some(declared) = by_key.get_mut(&key) {
                declared.shared = true;
            }
        }
        self.attributes
            .entry(self.global.clone())
            .or_default()
            .insert(
                key,
                DeclaredAttribute {
                    definition,
                    disabled: false,
                    shared: true,
                },
            );
    }

    /// Unshares `key`: the global declaration goes, the local ones are no longer shared.
    pub fn unshare(&mut self, key: &str) {
        let global = self.global.clone();
        self.delete_attribute(&global, key);
        for by_key in self.attributes.values_mut() {
            if let Some(declared) = by_key.get_mut(key) {
                declared.shared = false;
            }
        }
    }
}

fn same_type(key: &str, first: AttributeType, second: AttributeType) -> Result<(), SchemaError> {
    if first == second {
        Ok(())
    } else {
        Err(SchemaError::ShareConflict {
            key: key.to_owned(),
            first,
            second,
        })
    }
}
