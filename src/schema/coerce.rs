use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::SchemaError;
use crate::model::Value;

/// The declared type of an attribute.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeType {
    /// Text.
    String,
    /// A whole number within ±(2^63−1).
    Integer,
    /// A finite floating-point number.
    Number,
    /// True or false.
    Boolean,
    /// A calendar date.
    Date,
    /// A point in time.
    DateTime,
    /// A set of distinct strings.
    Set,
    /// Named values.
    Object,
    /// An ordered list.
    List,
}

/// Checks an attribute name: letters, digits and underscores, not empty.
pub fn validate_key(key: &str) -> Result<(), SchemaError> {
    if !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(SchemaError::InvalidKey {
            key: key.to_owned(),
        })
    }
}

/// Types a raw JSON value written to an undeclared attribute: strings stay text, whole numbers
/// become integers, other numbers numbers, arrays lists, objects objects. `null` means
/// "remove the value" and gives `None`.
pub fn infer_value(key: &str, raw: &Json) -> Result<Option<Value>, SchemaError> {
    Ok(match raw {
        Json::Null => None,
        Json::Bool(flag) => Some(Value::Boolean(*flag)),
        Json::Number(number) => Some(infer_number(key, number)?),
        Json::String(text) => Some(Value::String(text.clone())),
        Json::Array(items) => Some(Value::List(
            items
                .iter()
                .map(|item| {
                    infer_value(key, item).map(|value| value.unwrap_or(Value::List(Vec::new())))
                })
                .collect::<Result<_, _>>()?,
        )),
        Json::Object(fields) => {
            let mut typed = BTreeMap::new();
            for (name, item) in fields {
                if let Some(value) = infer_value(key, item)? {
                    typed.insert(name.clone(), value);
                }
            }
            Some(Value::Object(typed))
        }
    })
}

fn infer_number(key: &str, number: &serde_json::Number) -> Result<Value, SchemaError> {
    if let Some(whole) = number.as_i64() {
        return Ok(Value::Integer(whole));
    }
    match number.as_f64() {
        Some(float) if float.is_finite() && number.as_u64().is_none() => Ok(Value::Number(float)),
        _ => Err(SchemaError::TypeMismatch {
            key: key.to_owned(),
            reason: format!("{number} is outside ±(2^63−1)"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn attribute_names_are_letters_digits_and_underscores() {
        assert!(validate_key("subscription_id2").is_ok());
        assert_eq!(
            validate_key("first name"),
            Err(SchemaError::InvalidKey {
                key: "first name".into()
            })
        );
        assert!(validate_key("").is_err());
    }

    #[test]
    fn raw_json_is_typed_by_its_shape() {
        assert_eq!(
            infer_value("n", &json!(3)).unwrap(),
            Some(Value::Integer(3))
        );
        assert_eq!(
            infer_value("n", &json!(2.5)).unwrap(),
            Some(Value::Number(2.5))
        );
        assert_eq!(
            infer_value("n", &json!("x")).unwrap(),
            Some(Value::String("x".into()))
        );
        assert_eq!(infer_value("n", &json!(null)).unwrap(), None);
    }

    #[test]
    fn integers_beyond_i64_are_rejected_naming_the_key() {
        let error = infer_value("visits", &json!(u64::MAX)).unwrap_err();
        assert_eq!(error.key(), "visits");
        assert_eq!(error.code(), "schema.type_mismatch");
    }
}
