use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{AttributeDefinition, SchemaError, DEFAULT_STRING_LENGTH};
use crate::model::date_text::{parse_date, parse_naive_datetime_micros, TimeSeparator};
use crate::model::{Timestamp, Value};

/// The largest magnitude a number may have: 2^63 − 1 (FollowAnalytics). Among integers only
/// `i64::MIN` lies beyond it.
const NUMBER_LIMIT: i64 = i64::MAX;

/// The declared type of an attribute. JSON names it in lower case (`datetime`); the vendors'
/// spellings (`Boolean`, `DateTime`, `Timestamp`) are read too.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeType {
    /// Text.
    #[serde(alias = "String")]
    String,
    /// A whole number within ±(2^63−1).
    #[serde(alias = "Integer")]
    Integer,
    /// A finite floating-point number.
    #[serde(alias = "Number")]
    Number,
    /// True or false.
    #[serde(alias = "Boolean")]
    Boolean,
    /// A calendar date.
    #[serde(alias = "Date")]
    Date,
    /// A point in time.
    #[serde(alias = "DateTime", alias = "Timestamp", alias = "timestamp")]
    DateTime,
    /// A set of distinct strings.
    #[serde(alias = "Set")]
    Set,
    /// Named values.
    #[serde(alias = "Object")]
    Object,
    /// An ordered list.
    #[serde(alias = "List")]
    List,
}

impl AttributeType {
    /// The type a vendor names, case-insensitively: `String`, `Integer`, `Number`, `Boolean`,
    /// `Date`, `DateTime` or `Timestamp`, `Set`, `Object`, `List`.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "string" => Self::String,
            "integer" => Self::Integer,
            "number" => Self::Number,
            "boolean" => Self::Boolean,
            "date" => Self::Date,
            "datetime" | "timestamp" => Self::DateTime,
            "set" => Self::Set,
            "object" => Self::Object,
            "list" => Self::List,
            _ => return None,
        })
    }

    /// The type `name` names (as [`AttributeType::from_name`] reads it) when it is one of
    /// `accepted`, the types a vendor offers; otherwise [`SchemaError::TypeMismatch`] naming
    /// `key`, the attribute being declared.
    pub fn named_for(key: &str, name: &str, accepted: &[Self]) -> Result<Self, SchemaError> {
        Self::from_name(name)
            .filter(|named| accepted.contains(named))
            .ok_or_else(|| SchemaError::TypeMismatch {
                key: key.to_owned(),
                reason: format!("`{name}` is not a type: use one of {accepted:?}"),
            })
    }

    /// The types FollowAnalytics' customer attributes take (`String`, `Number`, `Boolean`,
    /// `Date`, `DateTime`, `Set`).
    pub const FOLLOWANALYTICS: [Self; 6] = [
        Self::String,
        Self::Number,
        Self::Boolean,
        Self::Date,
        Self::DateTime,
        Self::Set,
    ];

    /// The type's name as the vendors spell it (`String`, `DateTime`, `Set`): FollowAnalytics'
    /// `value_type`.
    pub fn vendor_name(self) -> &'static str {
        match self {
            Self::String => "String",
            Self::Integer => "Integer",
            Self::Number => "Number",
            Self::Boolean => "Boolean",
            Self::Date => "Date",
            Self::DateTime => "DateTime",
            Self::Set => "Set",
            Self::Object => "Object",
            Self::List => "List",
        }
    }

    /// The type of a value.
    pub fn of(value: &Value) -> Self {
        match value {
            Value::String(_) => Self::String,
            Value::Integer(_) => Self::Integer,
            Value::Number(_) => Self::Number,
            Value::Boolean(_) => Self::Boolean,
            Value::Date(_) => Self::Date,
            Value::DateTime(_) => Self::DateTime,
            Value::Set(_) => Self::Set,
            Value::Object(_) => Self::Object,
            Value::List(_) => Self::List,
        }
    }
}

/// Brings a value typed by its JSON shape (see [`infer_value`]) to the declared type of
/// `definition` and checks its limits. The spellings accepted:
/// - `boolean`: `true`/`false`, the strings `TRUE`, `true`, `t`, `1`, `FALSE`, `false`, `f`,
///   `0` (ChartMogul) and the integers 1 and 0;
/// - `integer`: whole numbers or their decimal text within ±(2^63−1);
/// - `number`: finite numbers or their text within ±(2^63−1);
/// - `date`: `YYYY-MM-DD`; `datetime`: ISO 8601 with an offset, or a date (midnight UTC);
/// - `set`: a list of texts (duplicates collapse) or one text;
/// - `string`: text only, at most `max_length` characters (256 when undeclared).
///
/// Anything else is a [`SchemaError`] naming the key and the reason.
pub fn coerce(definition: &AttributeDefinition, value: Value) -> Result<Value, SchemaError> {
    let key = definition.key.as_str();
    let mismatch = |reason: String| SchemaError::TypeMismatch {
        key: key.to_owned(),
        reason,
    };
    let expected = definition.value_type;
    let coerced = match (expected, value) {
        (AttributeType::String, Value::String(text)) => Value::String(text),
        (AttributeType::Integer, Value::Integer(number)) => Value::Integer(number),
        (AttributeType::Integer, Value::String(text)) => Value::Integer(
            text.trim()
                .parse::<i64>()
                .map_err(|_| mismatch(format!("`{text}` is not a whole number")))?,
        ),
        (AttributeType::Number, Value::Number(number)) => Value::Number(number),
        (AttributeType::Number, Value::Integer(number)) => Value::Integer(number),
        (AttributeType::Number, Value::String(text)) => match text.trim().parse::<i64>() {
            Ok(whole) => Value::Integer(whole),
            Err(_) => Value::Number(
                text.trim()
                    .parse::<f64>()
                    .map_err(|_| mismatch(format!("`{text}` is not a number")))?,
            ),
        },
        (AttributeType::Boolean, Value::Boolean(flag)) => Value::Boolean(flag),
        (AttributeType::Boolean, Value::Integer(1)) => Value::Boolean(true),
        (AttributeType::Boolean, Value::Integer(0)) => Value::Boolean(false),
        (AttributeType::Boolean, Value::String(text)) => match text.as_str() {
            "TRUE" | "true" | "t" | "1" => Value::Boolean(true),
            "FALSE" | "false" | "f" | "0" => Value::Boolean(false),
            _ => {
                return Err(mismatch(format!(
                    "`{text}` is not a boolean: use TRUE, true, t, 1, FALSE, false, f or 0"
                )))
            }
        },
        (AttributeType::Date, Value::Date(date)) => Value::Date(date),
        (AttributeType::Date, Value::String(text)) => Value::Date(
            parse_date(text.trim())
                .ok_or_else(|| mismatch(format!("`{text}` is not a date (YYYY-MM-DD)")))?,
        ),
        (AttributeType::DateTime, Value::DateTime(stamp)) => Value::DateTime(stamp),
        (AttributeType::DateTime, Value::String(text)) => Value::DateTime(
            parse_datetime(&text)
                .ok_or_else(|| mismatch(format!("`{text}` is not an ISO 8601 timestamp")))?,
        ),
        (AttributeType::Set, Value::Set(items)) => Value::Set(items),
        (AttributeType::Set, Value::String(text)) => Value::Set(BTreeSet::from([text])),
        (AttributeType::Set, Value::List(items)) => {
            let mut members = BTreeSet::new();
            for item in items {
                let Value::String(text) = item else {
                    return Err(mismatch("set members must be texts".to_owned()));
                };
                members.insert(text);
            }
            Value::Set(members)
        }
        (AttributeType::Object, Value::Object(fields)) => Value::Object(fields),
        (AttributeType::List, Value::List(items)) => Value::List(items),
        (expected, other) => {
            return Err(mismatch(format!(
                "a {:?} value does not fit the declared type {expected:?}",
                AttributeType::of(&other)
            )))
        }
    };
    check_limits(definition, &coerced)?;
    Ok(coerced)
}

/// Checks a typed value against the limits of its declaration: number range and text lengths.
pub fn check_limits(definition: &AttributeDefinition, value: &Value) -> Result<(), SchemaError> {
    let key = definition.key.as_str();
    match value {
        Value::Integer(number) if *number == i64::MIN => Err(SchemaError::TypeMismatch {
            key: key.to_owned(),
            reason: format!("{number} is outside ±(2^63−1)"),
        }),
        #[allow(clippy::cast_precision_loss)]
        Value::Number(number) if !number.is_finite() || number.abs() > NUMBER_LIMIT as f64 => {
            Err(SchemaError::TypeMismatch {
                key: key.to_owned(),
                reason: format!("{number} is not a finite number within ±(2^63−1)"),
            })
        }
        Value::String(text) => check_length(
            key,
            text.chars().count(),
            definition.max_length.unwrap_or(DEFAULT_STRING_LENGTH),
        ),
        Value::Set(members) => {
            for member in members {
                check_length(key, member.chars().count(), DEFAULT_STRING_LENGTH)?;
            }
            match definition.max_length {
                Some(limit) => check_length(key, total_length(members), limit),
                None => Ok(()),
            }
        }
        Value::Object(fields) => check_object(definition, key, fields),
        Value::Integer(_)
        | Value::Number(_)
        | Value::Boolean(_)
        | Value::Date(_)
        | Value::DateTime(_)
        | Value::List(_) => Ok(()),
    }
}

fn check_object(
    definition: &AttributeDefinition,
    key: &str,
    fields: &BTreeMap<String, Value>,
) -> Result<(), SchemaError> {
    for (name, field) in fields {
        let limit = definition
            .field_max_lengths
            .get(name)
            .copied()
            .or(definition.max_length);
        if let (Value::String(text), Some(limit)) = (field, limit) {
            check_length(&format!("{key}.{name}"), text.chars().count(), limit)?;
        }
    }
    Ok(())
}

/// The characters of a collection of texts added up (Contacthub's limit on tags).
pub fn total_length<'a>(texts: impl IntoIterator<Item = &'a String>) -> usize {
    texts.into_iter().map(|text| text.chars().count()).sum()
}

/// `Ok` when `length` is within `limit`, else [`SchemaError::TooLong`] naming `key`.
pub fn check_length(key: &str, length: usize, limit: u32) -> Result<(), SchemaError> {
    if u32::try_from(length).is_ok_and(|length| length <= limit) {
        Ok(())
    } else {
        Err(SchemaError::TooLong {
            key: key.to_owned(),
            length,
            limit,
        })
    }
}

fn parse_datetime(text: &str) -> Option<Timestamp> {
    if let Ok(stamp) = Timestamp::parse(text) {
        return Some(stamp);
    }
    let trimmed = text.trim();
    for separator in [TimeSeparator::Letter, TimeSeparator::Space] {
        if let Some(micros) = parse_naive_datetime_micros(trimmed, separator) {
            return Some(Timestamp::from_micros(micros));
        }
    }
    parse_date(trimmed)
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|naive| Timestamp::from_micros(naive.and_utc().timestamp_micros()))
}

/// The longest attribute name, in characters.
pub(super) const MAX_KEY_CHARS: usize = 255;

/// Checks an attribute name as the engine takes it: not empty, at most `MAX_KEY_CHARS`
/// characters, no control characters and no leading or trailing whitespace. Vendors name
/// attributes freely (FollowAnalytics documents `My Attr` and `profit-focused-…`); a dialect
/// with a narrower rule checks it itself ([`validate_word_key`]).
pub fn validate_key(key: &str) -> Result<(), SchemaError> {
    let fits = if key.is_ascii() {
        // Every key is checked on each write, so ASCII ones (nearly all) are checked by
        // byte: the only ASCII whitespace that is not a control character is the space.
        let bytes = key.as_bytes();
        (1..=MAX_KEY_CHARS).contains(&bytes.len())
            && !bytes.iter().any(u8::is_ascii_control)
            && bytes.first() != Some(&b' ')
            && bytes.last() != Some(&b' ')
    } else {
        // A key of at most MAX_KEY_CHARS bytes has at most as many characters; the ends are
        // what `trim` would remove.
        (key.len() <= MAX_KEY_CHARS || key.chars().count() <= MAX_KEY_CHARS)
            && !key.chars().any(char::is_control)
            && !key.starts_with(char::is_whitespace)
            && !key.ends_with(char::is_whitespace)
    };
    if fits {
        Ok(())
    } else {
        Err(SchemaError::InvalidKey {
            key: key.to_owned(),
            rule:
                "not empty, at most 255 characters, no control characters or surrounding whitespace",
        })
    }
}

/// Checks an attribute name made only of letters, digits and underscores (ChartMogul's rule
/// for custom attribute keys).
pub fn validate_word_key(key: &str) -> Result<(), SchemaError> {
    validate_key(key)?;
    if key.chars().all(|c| c.is_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(SchemaError::InvalidKey {
            key: key.to_owned(),
            rule: "use letters, digits and underscores",
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
    fn attribute_names_are_free_text_without_control_characters_or_padding() {
        for good in [
            "subscription_id2",
            "My Attr",
            "profit-focused-client-driven-standardization",
            "prénom",
        ] {
            assert_eq!(validate_key(good), Ok(()), "{good}");
        }
        let too_long = "k".repeat(MAX_KEY_CHARS + 1);
        let too_many_chars = "é".repeat(MAX_KEY_CHARS + 1);
        for bad in [
            "",
            " padded",
            "padded ",
            "\u{3000}ideographic space",
            "no-break space\u{a0}",
            too_many_chars.as_str(),
            "tab\tbed",
            "new\nline",
            too_long.as_str(),
        ] {
            assert!(
                matches!(validate_key(bad), Err(SchemaError::InvalidKey { ref key, .. }) if key == bad),
                "{bad:?}"
            );
        }
        assert_eq!(validate_key(&"k".repeat(MAX_KEY_CHARS)), Ok(()));
        assert_eq!(
            validate_key(&"é".repeat(MAX_KEY_CHARS)),
            Ok(()),
            "counted in characters, not bytes"
        );
    }

    /// Keys mostly of letters, `_`, `-` and spaces (so valid ones come up), some with ASCII
    /// control characters, half of them with non-ASCII letters and spaces too.
    fn keys() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        any::<bool>().prop_flat_map(|ascii_only| {
            let mut rare = vec!['\t', '\n', '\u{b}', '\u{c}', '\r', '\u{7f}', '\0'];
            if !ascii_only {
                rare.extend(['é', '\u{a0}', '\u{3000}']);
            }
            let chars = prop_oneof![
                8 => prop::sample::select(vec!['a', 'Z', '_', '-', ' ']),
                1 => prop::sample::select(rare),
            ];
            prop::collection::vec(chars, 0..(MAX_KEY_CHARS + 3))
                .prop_map(|chars| chars.into_iter().collect())
        })
    }

    proptest::proptest! {
        #[test]
        fn the_byte_check_of_ascii_keys_agrees_with_the_character_rule(key in keys()) {
            let by_characters = !key.is_empty()
                && key.chars().count() <= MAX_KEY_CHARS
                && !key.chars().any(char::is_control)
                && !key.starts_with(char::is_whitespace)
                && !key.ends_with(char::is_whitespace);
            proptest::prop_assert_eq!(validate_key(&key).is_ok(), by_characters, "{:?}", key);
        }
    }

    #[test]
    fn word_keys_are_letters_digits_and_underscores() {
        assert_eq!(validate_word_key("subscription_id2"), Ok(()));
        for bad in ["first name", "a-b", ""] {
            assert!(
                matches!(validate_word_key(bad), Err(SchemaError::InvalidKey { ref key, .. }) if key == bad),
                "{bad:?}"
            );
        }
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

#[cfg(test)]
mod coercion_tests {
    use super::*;

    fn coerce_to(value_type: AttributeType, value: Value) -> Result<Value, SchemaError> {
        coerce(&AttributeDefinition::new("field", value_type), value)
    }

    #[test]
    fn chartmogul_boolean_spellings_are_accepted() {
        for (text, expected) in [
            ("TRUE", true),
            ("true", true),
            ("t", true),
            ("1", true),
            ("FALSE", false),
            ("false", false),
            ("f", false),
            ("0", false),
        ] {
            assert_eq!(
                coerce_to(AttributeType::Boolean, Value::String(text.into())),
                Ok(Value::Boolean(expected)),
                "{text}"
            );
        }
        let error = coerce_to(AttributeType::Boolean, Value::String("yes".into())).unwrap_err();
        assert_eq!(
            (error.code(), error.key()),
            ("schema.type_mismatch", "field")
        );
    }

    #[test]
    fn strings_are_limited_to_256_characters_unless_declared_otherwise() {
        let long = "é".repeat(257);
        let error = coerce_to(AttributeType::String, Value::String(long.clone())).unwrap_err();
        assert_eq!(error.code(), "schema.too_long");
        assert!(coerce_to(AttributeType::String, Value::String("é".repeat(256))).is_ok());
        let mut wide = AttributeDefinition::new("bio", AttributeType::String);
        wide.max_length = Some(1000);
        assert!(coerce(&wide, Value::String(long)).is_ok());
    }

    #[test]
    fn numbers_must_lie_within_plus_minus_two_to_the_63_minus_one() {
        assert!(coerce_to(AttributeType::Integer, Value::Integer(i64::MAX)).is_ok());
        assert!(coerce_to(AttributeType::Integer, Value::Integer(-i64::MAX)).is_ok());
        assert!(coerce_to(AttributeType::Integer, Value::Integer(i64::MIN)).is_err());
        assert!(coerce_to(AttributeType::Number, Value::Number(1e19)).is_err());
        assert_eq!(
            coerce_to(AttributeType::Number, Value::Number(-1420.2)),
            Ok(Value::Number(-1420.2))
        );
        assert_eq!(
            coerce_to(AttributeType::Integer, Value::String("42".into())),
            Ok(Value::Integer(42))
        );
    }

    #[test]
    fn dates_and_timestamps_are_iso_8601() {
        assert_eq!(
            coerce_to(
                AttributeType::DateTime,
                Value::String("2016-12-22T13:02:53Z".into())
            ),
            Ok(Value::DateTime(
                Timestamp::parse("2016-12-22T13:02:53Z").unwrap()
            ))
        );
        assert_eq!(
            coerce_to(
                AttributeType::DateTime,
                Value::String("2015-09-08 00:00:00".into())
            ),
            Ok(Value::DateTime(
                Timestamp::parse("2015-09-08T00:00:00Z").unwrap()
            )),
            "the space-separated form ChartMogul shows, read as UTC"
        );
        assert!(coerce_to(AttributeType::Date, Value::String("2016-12-22".into())).is_ok());
        assert!(coerce_to(AttributeType::Date, Value::String("22/12/2016".into())).is_err());
        assert!(coerce_to(AttributeType::DateTime, Value::String("soon".into())).is_err());
        assert!(coerce_to(AttributeType::DateTime, Value::Integer(5)).is_err());
    }

    #[test]
    fn object_fields_have_their_own_limits() {
        let mut address = AttributeDefinition::new("address", AttributeType::Object);
        address.max_length = Some(255);
        address.field_max_lengths.insert("street".into(), 500);
        let object = |street: usize, city: usize| {
            Value::Object(BTreeMap::from([
                ("street".to_owned(), Value::String("s".repeat(street))),
                ("city".to_owned(), Value::String("c".repeat(city))),
            ]))
        };
        assert!(coerce(&address, object(500, 255)).is_ok());
        let error = coerce(&address, object(501, 1)).unwrap_err();
        assert_eq!(error.key(), "address.street");
        assert!(coerce(&address, object(1, 256)).is_err());
    }

    #[test]
    fn vendor_type_names_are_read_case_insensitively() {
        assert_eq!(
            AttributeType::from_name("Timestamp"),
            Some(AttributeType::DateTime)
        );
        assert_eq!(
            AttributeType::from_name("DateTime"),
            Some(AttributeType::DateTime)
        );
        assert_eq!(AttributeType::from_name("Set"), Some(AttributeType::Set));
        assert_eq!(AttributeType::from_name("Blob"), None);
        let chartmogul = [AttributeType::String, AttributeType::DateTime];
        assert_eq!(
            AttributeType::named_for("at", "Timestamp", &chartmogul),
            Ok(AttributeType::DateTime)
        );
        let error = AttributeType::named_for("tags", "Set", &chartmogul).unwrap_err();
        assert_eq!(
            (error.code(), error.key()),
            ("schema.type_mismatch", "tags")
        );
    }
}
