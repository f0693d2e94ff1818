use std::collections::{BTreeMap, BTreeSet};

use std::fmt;

use chrono::NaiveDate;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::Timestamp;
use crate::formats::{json_map, Doc, Stored};

/// A typed attribute value. What a key may hold is declared in the schema; the schema is the
/// only place that turns raw input into a `Value`.
///
/// Written as `{"type": …, "value": …}` (as a two-element list in MessagePack and the compact
/// encoding); read by [`ValueVisitor`], which reads what serde's adjacently tagged reader
/// reads without buffering the content in serde's private form of its own.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum Value {
    /// Text.
    String(String),
    /// A whole number within ±(2^63−1).
    Integer(i64),
    /// A finite floating-point number.
    Number(f64),
    /// True or false.
    Boolean(bool),
    /// A calendar date without a time of day.
    Date(NaiveDate),
    /// A point in time (ChartMogul's Timestamp, FollowAnalytics' DateTime).
    DateTime(Timestamp),
    /// An unordered set of distinct strings (FollowAnalytics' Set, tags).
    Set(BTreeSet<String>),
    /// Named values (Contacthub's address, a job).
    Object(BTreeMap<String, Value>),
    /// An ordered list of values (Contacthub's jobs, educations, likes).
    List(Vec<Value>),
}

/// A value's `type`, as [`Value`] is written.
#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    String,
    Integer,
    Number,
    Boolean,
    Date,
    DateTime,
    Set,
    Object,
    List,
}

/// Reads a value's content once its kind is known.
struct Content(Kind);

impl<'de> DeserializeSeed<'de> for Content {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Ok(match self.0 {
            Kind::String => Value::String(String::deserialize(deserializer)?),
            Kind::Integer => Value::Integer(i64::deserialize(deserializer)?),
            Kind::Number => Value::Number(f64::deserialize(deserializer)?),
            Kind::Boolean => Value::Boolean(bool::deserialize(deserializer)?),
            Kind::Date => Value::Date(super::date_text::deserialize_date(deserializer)?),
            Kind::DateTime => Value::DateTime(Timestamp::deserialize(deserializer)?),
            Kind::Set => Value::Set(BTreeSet::deserialize(deserializer)?),
            Kind::Object => Value::Object(BTreeMap::deserialize(deserializer)?),
            Kind::List => Value::List(Vec::deserialize(deserializer)?),
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct("Value", &["type", "value"], ValueVisitor)
    }
}

/// A key of a written value.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Field {
    Type,
    Value,
    #[serde(other)]
    Other,
}

/// Reads `[type, value]` or `{"type": …, "value": …}` with the keys in either order; a
/// content before its type is read into a [`Tree`](crate::formats::Tree) and then as its type.
struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("adjacently tagged enum Value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let kind: Kind = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        seq.next_element_seed(Content(kind))?
            .ok_or_else(|| de::Error::invalid_length(1, &self))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut kind: Option<Kind> = None;
        let mut early: Option<crate::formats::Tree> = None;
        let mut value: Option<Value> = None;
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Type if kind.is_some() => return Err(de::Error::duplicate_field("type")),
                Field::Type => kind = Some(map.next_value()?),
                Field::Value if value.is_some() || early.is_some() => {
                    return Err(de::Error::duplicate_field("value"))
                }
                Field::Value => match kind {
                    Some(kind) => value = Some(map.next_value_seed(Content(kind))?),
                    None => early = Some(map.next_value()?),
                },
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let kind = kind.ok_or_else(|| de::Error::missing_field("type"))?;
        match (value, early) {
            (Some(value), _) => Ok(value),
            (None, Some(tree)) => Content(kind)
                .deserialize(Doc::<Stored>::new(tree))
                .map_err(de::Error::custom),
            (None, None) => Err(de::Error::missing_field("value")),
        }
    }
}

impl Value {
    /// The value as plain JSON, as the dialects print it: dates as `YYYY-MM-DD`, date-times
    /// as RFC 3339 in UTC, sets as arrays in sorted order.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as Json;
        match self {
            Self::String(text) => Json::String(text.clone()),
            Self::Integer(number) => Json::from(*number),
            Self::Number(number) => {
                serde_json::Number::from_f64(*number).map_or(Json::Null, Json::Number)
            }
            Self::Boolean(flag) => Json::Bool(*flag),
            Self::Date(date) => Json::String(date.to_string()),
            Self::DateTime(stamp) => Json::String(stamp.to_string()),
            Self::Set(items) => Json::Array(items.iter().cloned().map(Json::String).collect()),
            Self::Object(fields) => Json::Object(json_map(
                fields
                    .iter()
                    .map(|(key, value)| (key.clone(), value.to_json())),
            )),
            Self::List(items) => Json::Array(items.iter().map(Self::to_json).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_print_as_plain_json() {
        let date = NaiveDate::from_ymd_opt(2025, 3, 21).unwrap();
        let object = Value::Object(BTreeMap::from([
            ("city".to_owned(), Value::String("Aarhus".into())),
            ("since".to_owned(), Value::Date(date)),
        ]));
        assert_eq!(
            object.to_json(),
            serde_json::json!({"city": "Aarhus", "since": "2025-03-21"})
        );
        let set = Value::Set(BTreeSet::from(["b".to_owned(), "a".to_owned()]));
        assert_eq!(set.to_json(), serde_json::json!(["a", "b"]));
    }

    /// What serde's derived reader of the same shape reads, to hold [`ValueVisitor`] to it.
    #[derive(Debug, Serialize, Deserialize)]
    #[serde(tag = "type", content = "value", rename_all = "lowercase")]
    enum Derived {
        String(String),
        Integer(i64),
        Number(f64),
        Boolean(bool),
        #[serde(deserialize_with = "crate::model::date_text::deserialize_date")]
        Date(NaiveDate),
        DateTime(Timestamp),
        Set(BTreeSet<String>),
        Object(BTreeMap<String, Derived>),
        List(Vec<Derived>),
    }

    #[test]
    fn values_read_as_serde_reads_adjacently_tagged_enums() {
        let documents = [
            r#"{"type":"string","value":"x"}"#,
            r#"{"value":"x","type":"string"}"#,
            r#"{"value":5,"type":"integer"}"#,
            r#"{"type":"number","value":1.5}"#,
            r#"{"value":true,"other":[1],"type":"boolean"}"#,
            r#"{"type":"date","value":"2025-03-21"}"#,
            r#"{"value":"2025-03-21","type":"date"}"#,
            r#"{"value":"2025-13-01","type":"date"}"#,
            r#"{"type":"datetime","value":1742556742503163}"#,
            r#"{"type":"set","value":["b","a","b"]}"#,
            r#"{"type":"object","value":{"a":{"value":[{"type":"boolean","value":true}],"type":"list"}}}"#,
            r#"{"type":"nope","value":1}"#,
            r#"{"type":"integer","value":"5"}"#,
            r#"{"value":"5","type":"integer"}"#,
            r#"{"type":"string"}"#,
            r#"{"value":1}"#,
            r#"{"type":"string","type":"string","value":"x"}"#,
            r#"{"type":"string","value":"x","value":"y"}"#,
            r#"["string","x"]"#,
            r#"["integer"]"#,
            r#"[]"#,
            r#""string""#,
        ];
        for text in documents {
            let ours = crate::formats::from_json_str::<Value>(text)
                .map(|value| serde_json::to_string(&value).unwrap());
            let derived = crate::formats::from_json_str::<Derived>(text)
                .map(|value| serde_json::to_string(&value).unwrap());
            match (&ours, &derived) {
                (Ok(ours), Ok(derived)) => assert_eq!(ours, derived, "{text}"),
                (Err(_), Err(_)) => {}
                _ => panic!("{text}: {ours:?} against {derived:?}"),
            }
        }
        let missing = crate::formats::from_json_str::<Value>(r#"{"type":"string"}"#);
        assert_eq!(missing.unwrap_err().to_string(), "missing field `value`");
        let unknown = crate::formats::from_json_str::<Value>(r#"{"type":"nope","value":1}"#);
        assert!(unknown
            .unwrap_err()
            .to_string()
            .starts_with("unknown variant `nope`, expected one of `string`"));
    }

    #[test]
    fn values_round_trip_through_every_stored_encoding() {
        let date = NaiveDate::from_ymd_opt(2025, 3, 21).unwrap();
        let value = Value::List(vec![
            Value::Object(BTreeMap::from([
                ("since".to_owned(), Value::Date(date)),
                ("n".to_owned(), Value::Integer(-3)),
            ])),
            Value::Set(BTreeSet::from(["a".to_owned()])),
            Value::DateTime(Timestamp::from_micros(1_742_556_742_503_163)),
            Value::Number(2.5),
            Value::Boolean(false),
            Value::String("x".to_owned()),
        ]);
        let msgpack = rmp_serde::to_vec(&value).unwrap();
        assert_eq!(
            crate::formats::from_msgpack::<Value>(&msgpack),
            Ok(value.clone())
        );
        let mut compact = Vec::new();
        crate::storage::compact::encode_into(&mut compact, &value).unwrap();
        assert_eq!(
            crate::storage::compact::decode::<Value>(&compact).unwrap(),
            value
        );
    }

    #[test]
    fn values_keep_their_type_through_serialization() {
        let value = Value::DateTime(Timestamp::from_micros(1_742_556_742_503_163));
        let text = serde_json::to_string(&value).unwrap();
        assert_eq!(text, r#"{"type":"datetime","value":1742556742503163}"#);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
    }
}
