//! Reading declarative JSON (rules, trait definitions, events) with the JSON path of every
//! node, so a rejection can point at the exact bad node (`$.rule.rules[1].value`).

use std::fmt;

use serde_json::{Map, Value as Json};
use thiserror::Error;

/// What is wrong with one node of a declarative JSON document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShapeProblem {
    /// The node must be a JSON object.
    NotAnObject,
    /// A required field is absent.
    MissingField,
    /// The object has a field this node does not take.
    UnknownField,
    /// The node has the wrong JSON type; the text says what was expected.
    WrongType(&'static str),
    /// The `op` names no known operator.
    UnknownOperator,
    /// The value has the right type but is not acceptable; the text says why.
    InvalidValue(&'static str),
    /// The document nests deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl fmt::Display for ShapeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAnObject => f.write_str("must be an object"),
            Self::MissingField => f.write_str("is required"),
            Self::UnknownField => f.write_str("is not a known field"),
            Self::WrongType(expected) => write!(f, "must be {expected}"),
            Self::UnknownOperator => f.write_str("is not a known operator"),
            Self::InvalidValue(reason) => f.write_str(reason),
            Self::TooDeep => write!(f, "nests deeper than {MAX_DEPTH} levels"),
        }
    }
}

/// A declarative JSON document rejected at one node, named by its JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{path} {problem}")]
pub struct ShapeError {
    /// The JSON path of the bad node, rooted at `$` (`$.rule.rules[1].value`).
    pub path: String,
    /// What is wrong with it.
    pub problem: ShapeProblem,
}

/// How deep a rule or filter may nest.
pub const MAX_DEPTH: usize = 32;

/// A JSON object being read, with its path and the fields it accepts.
pub(crate) struct Node<'a> {
    pub(crate) path: String,
    pub(crate) fields: &'a Map<String, Json>,
}

impl<'a> Node<'a> {
    /// Reads `json` at `path` as an object.
    pub(crate) fn object(json: &'a Json, path: String) -> Result<Self, ShapeError> {
        match json {
            Json::Object(fields) => Ok(Self { path, fields }),
            _ => Err(ShapeError {
                path,
                problem: ShapeProblem::NotAnObject,
            }),
        }
    }

    /// The path of a field of this node.
    pub(crate) fn field_path(&self, name: &str) -> String {
        format!("{}.{name}", self.path)
    }

    /// An error at a field of this node.
    pub(crate) fn error(&self, name: &str, problem: ShapeProblem) -> ShapeError {
        ShapeError {
            path: self.field_path(name),
            problem,
        }
    }

    /// Rejects any field not in `allowed`.
    pub(crate) fn only(&self, allowed: &[&str]) -> Result<(), ShapeError> {
        match self
            .fields
            .keys()
            .find(|key| !allowed.contains(&key.as_str()))
        {
            Some(unknown) => Err(self.error(unknown, ShapeProblem::UnknownField)),
            None => Ok(()),
        }
    }

    /// A field that must be present.
    pub(crate) fn required(&self, name: &str) -> Result<&'a Json, ShapeError> {
        self.fields
            .get(name)
            .ok_or_else(|| self.error(name, ShapeProblem::MissingField))
    }

    /// A field that may be absent (`null` counts as absent).
    pub(crate) fn optional(&self, name: &str) -> Option<&'a Json> {
        self.fields.get(name).filter(|value| !value.is_null())
    }

    /// A required, non-empty string field.
    pub(crate) fn text(&self, name: &str) -> Result<&'a str, ShapeError> {
        match self.required(name)? {
            Json::String(text) if !text.trim().is_empty() => Ok(text),
            Json::String(_) => {
                Err(self.error(name, ShapeProblem::InvalidValue("must not be empty")))
            }
            _ => Err(self.error(name, ShapeProblem::WrongType("a string"))),
        }
    }

    /// An optional, non-empty string field.
    pub(crate) fn optional_text(&self, name: &str) -> Result<Option<&'a str>, ShapeError> {
        match self.optional(name) {
            None => Ok(None),
            Some(_) => self.text(name).map(Some),
        }
    }

    /// An optional whole number in `min..=max`.
    pub(crate) fn optional_integer(
        &self,
        name: &str,
        min: i64,
        max: i64,
    ) -> Result<Option<i64>, ShapeError> {
        let Some(value) = self.optional(name) else {
            return Ok(None);
        };
        match value.as_i64() {
            Some(number) if (min..=max).contains(&number) => Ok(Some(number)),
            Some(_) => Err(self.error(name, ShapeProblem::InvalidValue("is out of range"))),
            None => Err(self.error(name, ShapeProblem::WrongType("a whole number"))),
        }
    }

    /// An optional boolean field.
    pub(crate) fn optional_flag(&self, name: &str) -> Result<Option<bool>, ShapeError> {
        match self.optional(name) {
            None => Ok(None),
            Some(Json::Bool(flag)) => Ok(Some(*flag)),
            Some(_) => Err(self.error(name, ShapeProblem::WrongType("true or false"))),
        }
    }
}
