//! Comparisons of typed values with literals: the leaves of segment rules and the property
//! filters of traits and event conditions. [`Comparison::matches`] is the reference meaning;
//! the segment columns compile the same comparisons for scans and are tested against it.

use chrono::NaiveDate;
use serde_json::{json, Map, Value as Json};

use super::shape::{Node, ShapeError, ShapeProblem};
use crate::model::{Timestamp, Value};

/// Microseconds in a day.
pub const DAY_MICROS: i64 = 86_400_000_000;

/// A literal a value is compared with.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// Text; `time` holds its meaning as a point in time when it parses as an ISO date or
    /// date-time, so dates compare with it.
    Text {
        /// The text.
        text: String,
        /// Microseconds since the epoch, if the text is a date or date-time.
        time: Option<i64>,
    },
    /// A number; integers and floating-point numbers compare by value.
    Number(f64),
    /// True or false.
    Boolean(bool),
}

/// One end of a range: a number or a point in time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    /// A number.
    Number(f64),
    /// Microseconds since the epoch.
    Time(i64),
}

/// How a value is tested.
#[derive(Clone, Debug, PartialEq)]
pub enum Comparison {
    /// The value is present.
    Exists,
    /// The value equals the literal (a set: holds it).
    Equals(Literal),
    /// The value equals one of the literals (a set: holds one of them).
    In(Vec<Literal>),
    /// Text contains the substring; a set holds the element.
    Contains(String),
    /// Text starts with the prefix (a set: one element does).
    StartsWith(String),
    /// A number or point in time (or text holding an ISO date) lies within the bounds, both
    /// inclusive.
    Range {
        /// The lower bound.
        min: Option<Bound>,
        /// The upper bound.
        max: Option<Bound>,
    },
    /// A date or date-time lies strictly before this time (microseconds).
    Before(i64),
    /// A date or date-time lies strictly after this time (microseconds).
    After(i64),
    /// A date or date-time lies within the last this many days, up to now.
    WithinDays(u32),
}

/// The operator names a comparison is written with, as `op` in JSON.
pub const COMPARISON_OPERATORS: [&str; 9] = [
    "exists",
    "equals",
    "in",
    "contains",
    "startsWith",
    "range",
    "before",
    "after",
    "within",
];

/// A value reduced to what comparisons look at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar<'a> {
    /// Text.
    Text(&'a str),
    /// A number.
    Number(f64),
    /// True or false.
    Boolean(bool),
    /// A date or date-time, in microseconds.
    Time(i64),
    /// A set, an object or a list: only `exists` and the set tests look at it.
    Composite,
}

/// Microseconds since the epoch of midnight UTC on `date`.
pub fn date_micros(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .map_or(0, |midnight| midnight.and_utc().timestamp_micros())
}

/// Parses an ISO date (`2025-03-21`, midnight UTC) or RFC 3339 date-time into microseconds.
pub fn parse_time(text: &str) -> Option<i64> {
    if let Ok(stamp) = Timestamp::parse(text) {
        return Some(stamp.as_micros());
    }
    crate::model::date_text::parse_date(text.trim()).map(date_micros)
}

impl<'a> Scalar<'a> {
    /// The scalar view of a typed value.
    pub fn of(value: &'a Value) -> Self {
        match value {
            Value::String(text) => Self::Text(text),
            Value::Integer(number) => Self::Number(*number as f64),
            Value::Number(number) => Self::Number(*number),
            Value::Boolean(flag) => Self::Boolean(*flag),
            Value::Date(date) => Self::Time(date_micros(*date)),
            Value::DateTime(stamp) => Self::Time(stamp.as_micros()),
            Value::Set(_) | Value::Object(_) | Value::List(_) => Self::Composite,
        }
    }

    /// The scalar as a point in time: a date or date-time, or text holding an ISO date or
    /// date-time (undeclared attributes keep dates as text).
    fn time(self) -> Option<i64> {
        match self {
            Self::Time(micros) => Some(micros),
            Self::Text(text) => parse_time(text),
            Self::Number(_) | Self::Boolean(_) | Self::Composite => None,
        }
    }
}

impl Literal {
    /// Whether a scalar equals the literal.
    pub fn equals(&self, scalar: Scalar<'_>) -> bool {
        match (self, scalar) {
            (Self::Text { text, .. }, Scalar::Text(found)) => text == found,
            (Self::Text { time: Some(at), .. }, Scalar::Time(found)) => *at == found,
            (Self::Number(number), Scalar::Number(found)) => *number == found,
            (Self::Boolean(flag), Scalar::Boolean(found)) => *flag == found,
            _ => false,
        }
    }

    /// The literal's text, if it is text.
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Text { text, .. } => Some(text),
            Self::Number(_) | Self::Boolean(_) => None,
        }
    }

    fn from_json(json: &Json, node: &Node<'_>, name: &str) -> Result<Self, ShapeError> {
        match json {
            Json::String(text) => Ok(Self::Text {
                time: parse_time(text),
                text: text.clone(),
            }),
            Json::Number(number) => number
                .as_f64()
                .map(Self::Number)
                .ok_or_else(|| node.error(name, ShapeProblem::InvalidValue("is not finite"))),
            Json::Bool(flag) => Ok(Self::Boolean(*flag)),
            _ => Err(node.error(name, ShapeProblem::WrongType("a string, number or boolean"))),
        }
    }

    fn to_json(&self) -> Json {
        match self {
            Self::Text { text, .. } => Json::String(text.clone()),
            Self::Number(number) => json!(number),
            Self::Boolean(flag) => Json::Bool(*flag),
        }
    }
}

impl Bound {
    /// Whether a scalar lies on the allowed side of this bound (`lower` for a minimum).
    fn admits(self, scalar: Scalar<'_>, lower: bool) -> bool {
        let ordering = match (self, scalar) {
            (Self::Number(bound), Scalar::Number(found)) => found.partial_cmp(&bound),
            (Self::Time(bound), scalar) => scalar.time().map(|found| found.cmp(&bound)),
            (Self::Number(_), _) => None,
        };
        match ordering {
            Some(std::cmp::Ordering::Equal) => true,
            Some(std::cmp::Ordering::Greater) => lower,
            Some(std::cmp::Ordering::Less) => !lower,
            None => false,
        }
    }

    fn from_json(node: &Node<'_>, name: &str) -> Result<Option<Self>, ShapeError> {
        match node.optional(name) {
            None => Ok(None),
            Some(Json::Number(number)) => number
                .as_f64()
                .map(|found| Some(Self::Number(found)))
                .ok_or_else(|| node.error(name, ShapeProblem::InvalidValue("is not finite"))),
            Some(Json::String(text)) => parse_time(text)
                .map(|at| Some(Self::Time(at)))
                .ok_or_else(|| node.error(name, ShapeProblem::InvalidValue("is not an ISO date"))),
            Some(_) => Err(node.error(name, ShapeProblem::WrongType("a number or an ISO date"))),
        }
    }

    fn to_json(self) -> Json {
        match self {
            Self::Number(number) => json!(number),
            Self::Time(micros) => Json::String(Timestamp::from_micros(micros).to_string()),
        }
    }
}

impl Comparison {
    /// Whether `value` passes the comparison at time `now`. This is the reference meaning
    /// that every faster evaluation must agree with.
    pub fn matches(&self, value: &Value, now: Timestamp) -> bool {
        if let Value::Set(items) = value {
            return self.matches_set(items.iter().map(String::as_str));
        }
        self.matches_scalar(Scalar::of(value), now)
    }

    /// The comparison applied to a set of strings (identities, tags, set attributes).
    pub fn matches_set<'a>(&self, mut items: impl Iterator<Item = &'a str>) -> bool {
        match self {
            Self::Exists => true,
            Self::Equals(literal) => items.any(|item| literal.equals(Scalar::Text(item))),
            Self::In(literals) => {
                items.any(|item| literals.iter().any(|one| one.equals(Scalar::Text(item))))
            }
            Self::Contains(wanted) => items.any(|item| item == wanted),
            Self::StartsWith(prefix) => items.any(|item| item.starts_with(prefix.as_str())),
            Self::Range { .. } | Self::Before(_) | Self::After(_) | Self::WithinDays(_) => false,
        }
    }

    /// The comparison applied to a scalar at time `now`.
    pub fn matches_scalar(&self, scalar: Scalar<'_>, now: Timestamp) -> bool {
        match self {
            Self::Exists => true,
            Self::Equals(literal) => literal.equals(scalar),
            Self::In(literals) => literals.iter().any(|literal| literal.equals(scalar)),
            Self::Contains(part) => {
                matches!(scalar, Scalar::Text(text) if text.contains(part.as_str()))
            }
            Self::StartsWith(prefix) => {
                matches!(scalar, Scalar::Text(text) if text.starts_with(prefix.as_str()))
            }
            Self::Range { min, max } => {
                min.is_none_or(|bound| bound.admits(scalar, true))
                    && max.is_none_or(|bound| bound.admits(scalar, false))
            }
            Self::Before(at) => scalar.time().is_some_and(|found| found < *at),
            Self::After(at) => scalar.time().is_some_and(|found| found > *at),
            Self::WithinDays(days) => scalar.time().is_some_and(|found| {
                let now = now.as_micros();
                found <= now && found >= now.saturating_sub(i64::from(*days) * DAY_MICROS)
            }),
        }
    }

    /// Whether the comparison's outcome depends on the current time.
    pub fn depends_on_time(&self) -> bool {
        matches!(self, Self::WithinDays(_))
    }

    /// The fields a comparison with operator `op` reads besides `op`.
    pub fn operand_fields(op: &str) -> &'static [&'static str] {
        match op {
            "equals" | "contains" | "startsWith" | "before" | "after" => &["value"],
            "in" => &["values"],
            "range" => &["min", "max"],
            "within" => &["days"],
            _ => &[],
        }
    }

    /// Reads the operands of operator `op` from `node`; `None` if `op` is no comparison.
    pub(crate) fn from_node(op: &str, node: &Node<'_>) -> Result<Option<Self>, ShapeError> {
        let text = |name: &str| -> Result<String, ShapeError> {
            match node.required(name)? {
                Json::String(text) => Ok(text.clone()),
                _ => Err(node.error(name, ShapeProblem::WrongType("a string"))),
            }
        };
        let time = |name: &str| -> Result<i64, ShapeError> {
            parse_time(&text(name)?)
                .ok_or_else(|| node.error(name, ShapeProblem::InvalidValue("is not an ISO date")))
        };
        Ok(Some(match op {
            "exists" => Self::Exists,
            "equals" => Self::Equals(Literal::from_json(node.required("value")?, node, "value")?),
            "in" => {
                let Json::Array(items) = node.required("values")? else {
                    return Err(node.error("values", ShapeProblem::WrongType("an array")));
                };
                if items.is_empty() {
                    return Err(
                        node.error("values", ShapeProblem::InvalidValue("must not be empty"))
                    );
                }
                let mut literals = Vec::with_capacity(items.len());
                for (position, item) in items.iter().enumerate() {
                    literals.push(Literal::from_json(
                        item,
                        node,
                        &format!("values[{position}]"),
                    )?);
                }
                Self::In(literals)
            }
            "contains" => Self::Contains(text("value")?),
            "startsWith" => Self::StartsWith(text("value")?),
            "range" => {
                let min = Bound::from_json(node, "min")?;
                let max = Bound::from_json(node, "max")?;
                if min.is_none() && max.is_none() {
                    return Err(node.error("min", ShapeProblem::MissingField));
                }
                Self::Range { min, max }
            }
            "before" => Self::Before(time("value")?),
            "after" => Self::After(time("value")?),
            "within" => {
                let days = node
                    .optional_integer("days", 0, 36_500)?
                    .ok_or_else(|| node.error("days", ShapeProblem::MissingField))?;
                Self::WithinDays(u32::try_from(days).unwrap_or(u32::MAX))
            }
            _ => return Ok(None),
        }))
    }

    /// The JSON form: `op` and its operands, merged into `into`.
    pub(crate) fn write_json(&self, into: &mut Map<String, Json>) {
        let mut put = |key: &str, value: Json| {
            into.insert(key.to_owned(), value);
        };
        match self {
            Self::Exists => put("op", json!("exists")),
            Self::Equals(literal) => {
                put("op", json!("equals"));
                put("value", literal.to_json());
            }
            Self::In(literals) => {
                put("op", json!("in"));
                put(
                    "values",
                    Json::Array(literals.iter().map(Literal::to_json).collect()),
                );
            }
            Self::Contains(part) => {
                put("op", json!("contains"));
                put("value", json!(part));
            }
            Self::StartsWith(prefix) => {
                put("op", json!("startsWith"));
                put("value", json!(prefix));
            }
            Self::Range { min, max } => {
                put("op", json!("range"));
                if let Some(bound) = min {
                    put("min", bound.to_json());
                }
                if let Some(bound) = max {
                    put("max", bound.to_json());
                }
            }
            Self::Before(at) => {
                put("op", json!("before"));
                put("value", json!(Timestamp::from_micros(*at).to_string()));
            }
            Self::After(at) => {
                put("op", json!("after"));
                put("value", json!(Timestamp::from_micros(*at).to_string()));
            }
            Self::WithinDays(days) => {
                put("op", json!("within"));
                put("days", json!(days));
            }
        }
    }
}

/// A test on one property of an event: `{"property": "amount", "op": "range", "min": 10}`.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyFilter {
    /// The property's name.
    pub property: String,
    /// The test its value must pass; an absent property fails every test.
    pub comparison: Comparison,
}

impl PropertyFilter {
    /// Whether the event properties pass the filter at `now`.
    pub fn matches(&self, properties: &crate::model::Properties, now: Timestamp) -> bool {
        properties
            .get(&self.property)
            .is_some_and(|value| self.comparison.matches(value, now))
    }

    /// Reads a list of filters at `path`.
    pub(crate) fn list_from_json(json: &Json, path: &str) -> Result<Vec<Self>, ShapeError> {
        let Json::Array(items) = json else {
            return Err(ShapeError {
                path: path.to_owned(),
                problem: ShapeProblem::WrongType("an array"),
            });
        };
        items
            .iter()
            .enumerate()
            .map(|(position, item)| Self::from_json(item, format!("{path}[{position}]")))
            .collect()
    }

    fn from_json(json: &Json, path: String) -> Result<Self, ShapeError> {
        let node = Node::object(json, path)?;
        let property = node.text("property")?.to_owned();
        let op = node.text("op")?;
        let comparison = Comparison::from_node(op, &node)?
            .ok_or_else(|| node.error("op", ShapeProblem::UnknownOperator))?;
        let mut allowed = vec!["property", "op"];
        allowed.extend_from_slice(Comparison::operand_fields(op));
        node.only(&allowed)?;
        Ok(Self {
            property,
            comparison,
        })
    }

    /// The JSON form of a list of filters.
    pub(crate) fn list_to_json(filters: &[Self]) -> Json {
        Json::Array(
            filters
                .iter()
                .map(|filter| {
                    let mut fields = Map::new();
                    fields.insert("property".to_owned(), json!(filter.property));
                    filter.comparison.write_json(&mut fields);
                    Json::Object(fields)
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<PropertyFilter>, ShapeError> {
        PropertyFilter::list_from_json(&serde_json::from_str(text).unwrap(), "$.where")
    }

    #[test]
    fn integers_and_numbers_compare_by_value() {
        let equals = Comparison::Equals(Literal::Number(3.0));
        assert!(equals.matches(&Value::Integer(3), Timestamp::EPOCH));
        assert!(equals.matches(&Value::Number(3.0), Timestamp::EPOCH));
        assert!(!equals.matches(&Value::String("3".into()), Timestamp::EPOCH));
    }

    #[test]
    fn dates_compare_with_iso_literals() {
        let date = Value::Date(NaiveDate::from_ymd_opt(2025, 3, 21).unwrap());
        let before = Comparison::Before(parse_time("2025-03-22").unwrap());
        assert!(before.matches(&date, Timestamp::EPOCH));
        let equals = Comparison::Equals(Literal::Text {
            text: "2025-03-21".into(),
            time: parse_time("2025-03-21"),
        });
        assert!(equals.matches(&date, Timestamp::EPOCH));
    }

    #[test]
    fn within_days_counts_back_from_now() {
        let now = Timestamp::parse("2025-03-21T12:00:00Z").unwrap();
        let within = Comparison::WithinDays(2);
        let yesterday = Value::DateTime(now.plus_seconds(-86_400));
        let last_week = Value::DateTime(now.plus_seconds(-7 * 86_400));
        let tomorrow = Value::DateTime(now.plus_seconds(86_400));
        assert!(within.matches(&yesterday, now));
        assert!(!within.matches(&last_week, now));
        assert!(!within.matches(&tomorrow, now));
    }

    #[test]
    fn filters_round_trip_through_json() {
        let text = r#"[{"property":"amount","op":"range","min":10.0},{"property":"sku","op":"in","values":["a","b"]}]"#;
        let filters = parse(text).unwrap();
        assert_eq!(
            PropertyFilter::list_to_json(&filters),
            serde_json::from_str::<Json>(text).unwrap()
        );
    }

    #[test]
    fn bad_filters_are_rejected_at_their_path() {
        let cases = [
            (r#"{}"#, "$.where", ShapeProblem::WrongType("an array")),
            (r#"[1]"#, "$.where[0]", ShapeProblem::NotAnObject),
            (
                r#"[{"op":"exists"}]"#,
                "$.where[0].property",
                ShapeProblem::MissingField,
            ),
            (
                r#"[{"property":"a","op":"near"}]"#,
                "$.where[0].op",
                ShapeProblem::UnknownOperator,
            ),
            (
                r#"[{"property":"a","op":"in","values":[[]]}]"#,
                "$.where[0].values[0]",
                ShapeProblem::WrongType("a string, number or boolean"),
            ),
            (
                r#"[{"property":"a","op":"range"}]"#,
                "$.where[0].min",
                ShapeProblem::MissingField,
            ),
            (
                r#"[{"property":"a","op":"exists","value":1}]"#,
                "$.where[0].value",
                ShapeProblem::UnknownField,
            ),
        ];
        for (text, path, problem) in cases {
            let error = parse(text).unwrap_err();
            assert_eq!(
                (error.path.as_str(), error.problem),
                (path, problem),
                "{text}"
            );
        }
    }
}
