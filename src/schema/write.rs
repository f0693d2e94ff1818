//! One attribute write and the value it leaves behind.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use super::{check_limits, coerce, infer_value, AttributeDefinition, AttributeType, SchemaError};
use crate::model::Value;

/// What a write does to one attribute.
#[derive(Clone, Debug, PartialEq)]
pub enum AttributeChange {
    /// Gives the attribute this value (coerced to its declared type).
    Set(Value),
    /// Removes the value (`null` in every dialect).
    Remove,
    /// Adds members to a set (FollowAnalytics `ADD`).
    AddToSet(Value),
    /// Removes members from a set (FollowAnalytics `REMOVE`).
    RemoveFromSet(Value),
    /// Empties a set (FollowAnalytics `DEL`).
    ClearSet,
}

impl AttributeChange {
    /// The change a Set action asks for, by its vendor name: `ADD` and `REMOVE` a member
    /// (the value typed by its shape), `DEL` empties the set whatever the value
    /// (FollowAnalytics `action_type`). Another name, or `ADD`/`REMOVE` without a value, is
    /// refused.
    pub fn set_action(key: &str, action: &str, raw: &Json) -> Result<Self, SchemaError> {
        let value = infer_value(key, raw)?;
        match (action, value) {
            ("ADD", Some(value)) => Ok(Self::AddToSet(value)),
            ("REMOVE", Some(value)) => Ok(Self::RemoveFromSet(value)),
            ("DEL", _) => Ok(Self::ClearSet),
            ("ADD" | "REMOVE", None) => Err(SchemaError::TypeMismatch {
                key: key.to_owned(),
                reason: format!("{action} needs a value"),
            }),
            (other, _) => Err(SchemaError::TypeMismatch {
                key: key.to_owned(),
                reason: format!("action `{other}` is not ADD, REMOVE or DEL"),
            }),
        }
    }

    /// The change a raw JSON value asks for: [`AttributeChange::Set`] the value typed by its
    /// shape ([`infer_value`]; the declared type is applied when the write is planned), or
    /// [`AttributeChange::Remove`] for `null`. Refuses a number beyond ±(2^63−1).
    pub fn from_json(key: &str, raw: &Json) -> Result<Self, SchemaError> {
        Ok(match infer_value(key, raw)? {
            Some(value) => Self::Set(value),
            None => Self::Remove,
        })
    }

    /// The value `key` has after this change, given its declaration (`None` when undeclared)
    /// and its current value; `None` means no value. Refuses a value that does not fit the
    /// declared type or its limits, any change to an immutable value, and set actions on an
    /// attribute that is not a set.
    pub fn resulting_value(
        self,
        key: &str,
        definition: Option<&AttributeDefinition>,
        current: Option<&Value>,
    ) -> Result<Option<Value>, SchemaError> {
        let result = match self {
            Self::Set(value) => Some(match definition {
                Some(definition) => coerce(definition, value)?,
                None => value,
            }),
            Self::Remove => None,
            Self::AddToSet(value) => {
                let mut members = current_members(key, definition, current)?;
                members.extend(set_members(key, definition, value)?);
                Some(Value::Set(members))
            }
            Self::RemoveFromSet(value) => {
                let mut members = current_members(key, definition, current)?;
                for member in set_members(key, definition, value)? {
                    members.remove(&member);
                }
                Some(Value::Set(members))
            }
            Self::ClearSet => {
                current_members(key, definition, current)?;
                None
            }
        };
        if let Some(definition) = definition {
            if definition.immutable && current.is_some() && result.as_ref() != current {
                return Err(SchemaError::Immutable {
                    key: key.to_owned(),
                });
            }
            if let Some(value) = &result {
                check_limits(definition, value)?;
            }
        }
        Ok(result)
    }
}

fn current_members(
    key: &str,
    definition: Option<&AttributeDefinition>,
    current: Option<&Value>,
) -> Result<BTreeSet<String>, SchemaError> {
    let not_a_set = || SchemaError::NotASet {
        key: key.to_owned(),
    };
    if definition.is_some_and(|definition| definition.value_type != AttributeType::Set) {
        return Err(not_a_set());
    }
    match current {
        None => Ok(BTreeSet::new()),
        Some(Value::Set(members)) => Ok(members.clone()),
        Some(_) => Err(not_a_set()),
    }
}

fn set_members(
    key: &str,
    definition: Option<&AttributeDefinition>,
    value: Value,
) -> Result<BTreeSet<String>, SchemaError> {
    let as_set = AttributeDefinition::new(key, AttributeType::Set);
    let as_set = AttributeDefinition {
        max_length: None,
        ..definition.cloned().unwrap_or(as_set)
    };
    match coerce(&as_set, value)? {
        Value::Set(members) => Ok(members),
        Value::String(_)
        | Value::Integer(_)
        | Value::Number(_)
        | Value::Boolean(_)
        | Value::Date(_)
        | Value::DateTime(_)
        | Value::Object(_)
        | Value::List(_) => Err(SchemaError::NotASet {
            key: key.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(key: &str, value_type: AttributeType) -> AttributeDefinition {
        AttributeDefinition::new(key, value_type)
    }

    #[test]
    fn set_actions_add_remove_and_clear_members() {
        let hobbies = declared("hobbies", AttributeType::Set);
        let added = AttributeChange::AddToSet(Value::String("Sport".into()))
            .resulting_value("hobbies", Some(&hobbies), None)
            .unwrap();
        let added = AttributeChange::AddToSet(Value::String("Reading".into()))
            .resulting_value("hobbies", Some(&hobbies), added.as_ref())
            .unwrap();
        let removed = AttributeChange::RemoveFromSet(Value::String("Reading".into()))
            .resulting_value("hobbies", Some(&hobbies), added.as_ref())
            .unwrap();
        assert_eq!(
            removed,
            Some(Value::Set(BTreeSet::from(["Sport".to_owned()])))
        );
        let cleared = AttributeChange::ClearSet
            .resulting_value("hobbies", Some(&hobbies), removed.as_ref())
            .unwrap();
        assert_eq!(cleared, None);
    }

    #[test]
    fn set_actions_on_a_scalar_are_refused() {
        let name = declared("name", AttributeType::String);
        let error = AttributeChange::AddToSet(Value::String("x".into()))
            .resulting_value("name", Some(&name), None)
            .unwrap_err();
        assert_eq!(error.code(), "schema.not_a_set");
    }

    #[test]
    fn immutable_values_can_be_set_once_but_not_changed_or_removed() {
        let mut id = declared("external_id", AttributeType::String);
        id.immutable = true;
        let first = AttributeChange::Set(Value::String("A".into()))
            .resulting_value("external_id", Some(&id), None)
            .unwrap();
        let same = AttributeChange::Set(Value::String("A".into())).resulting_value(
            "external_id",
            Some(&id),
            first.as_ref(),
        );
        assert_eq!(same, Ok(first.clone()));
        for change in [
            AttributeChange::Set(Value::String("B".into())),
            AttributeChange::Remove,
        ] {
            let error = change
                .resulting_value("external_id", Some(&id), first.as_ref())
                .unwrap_err();
            assert_eq!(error.code(), "schema.immutable");
        }
    }

    #[test]
    fn set_members_add_up_to_the_declared_total_length() {
        let mut tags = declared("tags", AttributeType::Set);
        tags.max_length = Some(5);
        let error = AttributeChange::Set(Value::List(vec![
            Value::String("abc".into()),
            Value::String("def".into()),
        ]))
        .resulting_value("tags", Some(&tags), None)
        .unwrap_err();
        assert_eq!(error.code(), "schema.too_long");
    }
}
