//! Computed traits (PrimeData's `p_trait`): aggregates over a profile's events, declared as
//! data and kept up to date as events arrive and as time passes.

mod accumulator;
mod error;
mod store;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

pub use error::TraitError;
pub use store::{TraitCells, TraitDeadlines, TraitStore};

use crate::events::shape::Node;
use crate::events::{PropertyFilter, ShapeError, ShapeProblem};

/// How a computed trait folds the matching events' property values.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Aggregate {
    /// How many events matched.
    Count,
    /// The sum of the numeric property.
    Sum,
    /// The smallest number or date-time of the property (numbers rank below date-times).
    Min,
    /// The largest number or date-time of the property (numbers rank below date-times).
    Max,
    /// The mean of the numeric property.
    Avg,
    /// The property of the earliest event.
    First,
    /// The property of the latest event.
    Last,
    /// How many distinct values the property took.
    DistinctCount,
}

impl Aggregate {
    const NAMES: [(&'static str, Self); 8] = [
        ("count", Self::Count),
        ("sum", Self::Sum),
        ("min", Self::Min),
        ("max", Self::Max),
        ("avg", Self::Avg),
        ("first", Self::First),
        ("last", Self::Last),
        ("distinctCount", Self::DistinctCount),
    ];

    /// The aggregate's JSON name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Count => "count",
            Self::Sum => "sum",
            Self::Min => "min",
            Self::Max => "max",
            Self::Avg => "avg",
            Self::First => "first",
            Self::Last => "last",
            Self::DistinctCount => "distinctCount",
        }
    }

    /// Whether the aggregate needs a property to read (the others fall back to the event's
    /// time, or count events).
    pub fn needs_property(self) -> bool {
        match self {
            Self::Sum | Self::Avg | Self::DistinctCount => true,
            Self::Count | Self::Min | Self::Max | Self::First | Self::Last => false,
        }
    }
}

/// A computed trait such as PrimeData's `ltv` or `last_time_purchased`:
/// `{"name": "ltv", "aggregate": "sum", "event": "purchase", "property": "amount",
///   "windowSeconds": 2592000, "where": [{"property": "currency", "op": "equals", "value": "EUR"}]}`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(try_from = "Json", into = "Json")]
pub struct TraitDefinition {
    /// The trait's name as profiles show it.
    pub name: String,
    /// The fold.
    pub aggregate: Aggregate,
    /// The event name it reads.
    pub event: String,
    /// The event property it folds; without one, `min`/`max`/`first`/`last` fold the event's
    /// time and `count` counts events.
    pub property: Option<String>,
    /// Only events of the last this many seconds count (a sliding window).
    pub window_seconds: Option<i64>,
    /// Only events whose properties pass every filter count.
    pub filters: Vec<PropertyFilter>,
}

impl TraitDefinition {
    const FIELDS: [&'static str; 7] = [
        "name",
        "aggregate",
        "event",
        "property",
        "windowSeconds",
        "windowDays",
        "where",
    ];

    /// Reads a definition from JSON, rejecting a bad node with its path under `path`.
    pub fn from_json(json: &Json, path: &str) -> Result<Self, TraitError> {
        Self::read(json, path).map_err(TraitError::InvalidDefinition)
    }

    fn read(json: &Json, path: &str) -> Result<Self, ShapeError> {
        let node = Node::object(json, path.to_owned())?;
        node.only(&Self::FIELDS)?;
        let name = node.text("name")?.to_owned();
        let aggregate_name = node.text("aggregate")?;
        let aggregate = Aggregate::NAMES
            .iter()
            .find(|(known, _)| *known == aggregate_name)
            .map(|(_, aggregate)| *aggregate)
            .ok_or_else(|| node.error("aggregate", ShapeProblem::UnknownOperator))?;
        let event = node.text("event")?.to_owned();
        let property = node.optional_text("property")?.map(str::to_owned);
        if property.is_none() && aggregate.needs_property() {
            return Err(node.error("property", ShapeProblem::MissingField));
        }
        const MAX_WINDOW_DAYS: i64 = 36_500;
        let seconds = node.optional_integer("windowSeconds", 1, MAX_WINDOW_DAYS * 86_400)?;
        let days = node.optional_integer("windowDays", 1, MAX_WINDOW_DAYS)?;
        let window_seconds = match (seconds, days) {
            (Some(_), Some(_)) => {
                return Err(node.error(
                    "windowDays",
                    ShapeProblem::InvalidValue("cannot be given with windowSeconds"),
                ))
            }
            (Some(seconds), None) => Some(seconds),
            (None, Some(days)) => Some(days * 86_400),
            (None, None) => None,
        };
        let filters = match node.optional("where") {
            Some(list) => PropertyFilter::list_from_json(list, &node.field_path("where"))?,
            None => Vec::new(),
        };
        Ok(Self {
            name,
            aggregate,
            event,
            property,
            window_seconds,
            filters,
        })
    }

    /// The JSON form [`TraitDefinition::from_json`] reads.
    pub fn to_json(&self) -> Json {
        let mut fields = Map::new();
        fields.insert("name".into(), json!(self.name));
        fields.insert("aggregate".into(), json!(self.aggregate.name()));
        fields.insert("event".into(), json!(self.event));
        if let Some(property) = &self.property {
            fields.insert("property".into(), json!(property));
        }
        if let Some(seconds) = self.window_seconds {
            fields.insert("windowSeconds".into(), json!(seconds));
        }
        if !self.filters.is_empty() {
            fields.insert("where".into(), PropertyFilter::list_to_json(&self.filters));
        }
        Json::Object(fields)
    }
}

impl TryFrom<Json> for TraitDefinition {
    type Error = TraitError;

    fn try_from(json: Json) -> Result<Self, Self::Error> {
        Self::from_json(&json, "$")
    }
}

impl From<TraitDefinition> for Json {
    fn from(definition: TraitDefinition) -> Self {
        definition.to_json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_round_trips_through_json() {
        let text = r#"{"name":"ltv","aggregate":"sum","event":"purchase","property":"amount","windowSeconds":86400,"where":[{"property":"currency","op":"equals","value":"EUR"}]}"#;
        let json: Json = serde_json::from_str(text).unwrap();
        let definition = TraitDefinition::from_json(&json, "$").unwrap();
        assert_eq!(definition.to_json(), json);
        let logged = serde_json::to_string(&definition).unwrap();
        assert_eq!(
            serde_json::from_str::<TraitDefinition>(&logged).unwrap(),
            definition
        );
    }

    #[test]
    fn bad_definitions_are_rejected_at_their_path() {
        let cases = [
            (r#"[]"#, "$"),
            (r#"{"aggregate":"count","event":"e"}"#, "$.name"),
            (
                r#"{"name":"t","aggregate":"median","event":"e"}"#,
                "$.aggregate",
            ),
            (
                r#"{"name":"t","aggregate":"sum","event":"e"}"#,
                "$.property",
            ),
            (
                r#"{"name":"t","aggregate":"count","event":"e","windowSeconds":0}"#,
                "$.windowSeconds",
            ),
            (
                r#"{"name":"t","aggregate":"count","event":"e","colour":1}"#,
                "$.colour",
            ),
            (
                r#"{"name":"t","aggregate":"count","event":"e","where":[{"property":"p"}]}"#,
                "$.where[0].op",
            ),
        ];
        for (text, path) in cases {
            let json: Json = serde_json::from_str(text).unwrap();
            let TraitError::InvalidDefinition(error) =
                TraitDefinition::from_json(&json, "$").unwrap_err()
            else {
                panic!("{text} gave another error");
            };
            assert_eq!(error.path, path, "{text}");
        }
    }
}
