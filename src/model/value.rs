use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::Timestamp;
use crate::formats::json_map;

/// A typed attribute value. What a key may hold is declared in the schema; the schema is the
/// only place that turns raw input into a `Value`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    #[serde(deserialize_with = "super::date_text::deserialize_date")]
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

    #[test]
    fn values_keep_their_type_through_serialization() {
        let value = Value::DateTime(Timestamp::from_micros(1_742_556_742_503_163));
        let text = serde_json::to_string(&value).unwrap();
        assert_eq!(text, r#"{"type":"datetime","value":1742556742503163}"#);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
    }
}
