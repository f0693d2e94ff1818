//! Planning schema commands: sources of record and attribute declarations, with
//! FollowAnalytics' rules for disabling, sharing and unsharing.

use super::{Command, Engine, EngineError, Operation};
use crate::model::{AttributeValue, SourceId};
use crate::schema::{SchemaError, SourceKind};

impl Engine {
    pub(super) fn plan_schema_change(
        &self,
        command: Command,
    ) -> Result<Vec<Operation>, EngineError> {
        let schema = &self.schema;
        let mut operations = Vec::new();
        match command {
            Command::DeclareSource(definition) => {
                if definition.kind == SourceKind::Global {
                    return Err(SchemaError::GlobalSourceFixed.into());
                }
                schema.check_new_source(&definition.id)?;
                operations.push(Operation::SourceDeclared { definition });
            }
            Command::RenameSource { source, name } => {
                schema.check_changeable_source(&source)?;
                operations.push(Operation::SourceRenamed { source, name });
            }
            Command::DeleteSource { source } => {
                schema.check_changeable_source(&source)?;
                for profile in self.profiles() {
                    for key in profile
                        .attributes
                        .get(&source)
                        .into_iter()
                        .flatten()
                        .map(|(key, _)| key)
                    {
                        operations.push(Operation::AttributeRemoved {
                            profile: profile.id,
                            source: source.clone(),
                            key: key.clone(),
                        });
                    }
                }
                operations.push(Operation::SourceDeleted { source });
            }
            Command::DisableSource { source, disabled } => {
                schema.check_changeable_source(&source)?;
                operations.push(Operation::SourceDisabled { source, disabled });
            }
            Command::AddSourceKey { source, digest } => {
                schema.check_changeable_source(&source)?;
                operations.push(Operation::SourceKeyAdded { source, digest });
            }
            Command::DeclareAttribute { source, definition } => {
                schema.check_new_attribute(&source, &definition)?;
                operations.push(Operation::AttributeDeclared {
                    source,
                    definition: Box::new(definition),
                });
            }
            Command::UpdateAttribute { source, definition } => {
                let declared = schema.declared(&source, &definition.key)?;
                if declared.definition.value_type != definition.value_type {
                    return Err(SchemaError::TypeMismatch {
                        key: definition.key,
                        reason: "the type of a declared attribute cannot change".to_owned(),
                    }
                    .into());
                }
                operations.push(Operation::AttributeDeclared {
                    source,
                    definition: Box::new(definition),
                });
            }
            Command::DeleteAttribute { source, key } => {
                let declared = schema.declared(&source, &key)?;
                if declared.shared && &source == schema.global_source() {
                    return Err(SchemaError::SharingState {
                        key,
                        state: "shared; unshare it instead",
                    }
                    .into());
                }
                self.remove_values(&source, &key, &mut operations);
                operations.push(Operation::AttributeDeleted { source, key });
            }
            Command::DisableAttribute {
                source,
                key,
                disabled,
            } => {
                let declared = schema.declared(&source, &key)?;
                if disabled && declared.definition.predefined {
                    return Err(SchemaError::Predefined { key }.into());
                }
                let global = schema.global_source();
                let enable_global = !disabled
                    && declared.shared
                    && &source != global
                    && schema
                        .attribute(global, &key)
                        .is_some_and(|shared| shared.disabled);
                if enable_global {
                    operations.push(Operation::AttributeDisabled {
                        source: global.clone(),
                        key: key.clone(),
                        disabled: false,
                    });
                }
                operations.push(Operation::AttributeDisabled {
                    source,
                    key,
                    disabled,
                });
            }
            Command::ShareAttribute { key } => {
                let mut definition = schema.shareable_type(&key)?.clone();
                definition.predefined = false;
                operations.push(Operation::AttributeShared {
                    definition: Box::new(definition),
                });
                self.plan_shared_values(&key, &mut operations);
            }
            Command::UnshareAttribute { key } => {
                let global = schema.global_source();
                let declared = schema.declared(global, &key)?;
                if !declared.shared {
                    return Err(SchemaError::SharingState {
                        key,
                        state: "not shared",
                    }
                    .into());
                }
                if declared.definition.predefined {
                    return Err(SchemaError::Predefined { key }.into());
                }
                self.plan_unshared_values(&key, &mut operations);
                operations.push(Operation::AttributeUnshared { key });
            }
            Command::UpsertProfile(_)
            | Command::ChangeTags(_)
            | Command::WriteAttributes(_)
            | Command::RecordEvent(_)
            | Command::DefineTrait(_)
            | Command::DeleteTrait { .. }
            | Command::DefineSegment(_)
            | Command::SetSegmentActive { .. }
            | Command::DeleteSegment { .. }
            | Command::Tick
            | Command::MergeProfiles { .. }
            | Command::UnmergeProfile { .. } => {
                return Err(EngineError::InvalidCommand(
                    "not a schema command".to_owned(),
                ))
            }
        }
        Ok(operations)
    }

    /// Every profile's value of `key` on `source` is removed.
    fn remove_values(&self, source: &SourceId, key: &str, operations: &mut Vec<Operation>) {
        for profile in self.profiles() {
            if profile.source_attribute(source, key).is_some() {
                operations.push(Operation::AttributeRemoved {
                    profile: profile.id,
                    source: source.clone(),
                    key: key.to_owned(),
                });
            }
        }
    }

    /// On sharing, each profile's global value becomes the most recent of its values of the
    /// key on sources where the key is declared and not disabled (none if all are disabled).
    fn plan_shared_values(&self, key: &str, operations: &mut Vec<Operation>) {
        let enabled: Vec<&SourceId> = self
            .schema
            .declarations_of(key)
            .filter(|(_, declared)| !declared.disabled)
            .map(|(source, _)| source)
            .collect();
        let global = self.schema.global_source();
        for profile in self.profiles() {
            let newest = enabled
                .iter()
                .filter_map(|source| profile.source_attribute(source, key))
                .max_by_key(|written| written.updated);
            if let Some(AttributeValue { value, .. }) = newest {
                operations.push(Operation::AttributeSet {
                    profile: profile.id,
                    source: global.clone(),
                    key: key.to_owned(),
                    value: value.clone(),
                });
            }
        }
    }

    /// On unsharing, each profile's global value goes back to every source that declares the
    /// key, and the global value is removed.
    fn plan_unshared_values(&self, key: &str, operations: &mut Vec<Operation>) {
        let global = self.schema.global_source();
        let users: Vec<&SourceId> = self
            .schema
            .declarations_of(key)
            .map(|(source, _)| source)
            .filter(|source| *source != global)
            .collect();
        for profile in self.profiles() {
            let Some(shared) = profile.source_attribute(global, key) else {
                continue;
            };
            for source in &users {
                operations.push(Operation::AttributeSet {
                    profile: profile.id,
                    source: (*source).clone(),
                    key: key.to_owned(),
                    value: shared.value.clone(),
                });
            }
            operations.push(Operation::AttributeRemoved {
                profile: profile.id,
                source: global.clone(),
                key: key.to_owned(),
            });
        }
    }
}
