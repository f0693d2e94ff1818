//! A segment's definition as data: system title, name, state and rule.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::{Rule, SegmentError};
use crate::events::shape::Node;
use crate::events::ShapeProblem;

/// A named segment: Arrigoo's `segment_system_title`, a display name, whether it is active,
/// and its rule:
/// `{"systemTitle": "big_spenders", "name": "Big spenders", "active": true,
///   "rule": {"op": "range", "trait": "ltv", "min": 1000}}`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(try_from = "Json", into = "Json")]
pub struct SegmentDefinition {
    /// The stable system title: letters, digits, `_`, `-` and `.`.
    pub system_title: String,
    /// The display name.
    pub name: String,
    /// A longer description.
    pub description: String,
    /// Whether membership is maintained; an inactive segment has no members.
    pub active: bool,
    /// The rule profiles must satisfy.
    pub rule: Rule,
}

impl SegmentDefinition {
    /// Reads a definition at `path`; a bad rule node is [`SegmentError::InvalidRule`] with
    /// its JSON path, any other bad field [`SegmentError::InvalidDefinition`].
    pub fn from_json(json: &Json, path: &str) -> Result<Self, SegmentError> {
        let node = Node::object(json, path.to_owned()).map_err(SegmentError::InvalidDefinition)?;
        let read = || {
            node.only(&["systemTitle", "name", "description", "active", "rule"])?;
            let system_title = node.text("systemTitle")?;
            if !system_title
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
            {
                return Err(node.error(
                    "systemTitle",
                    ShapeProblem::InvalidValue("may hold only letters, digits, _, - and ."),
                ));
            }
            let name = node.optional_text("name")?.unwrap_or(system_title);
            let description = match node.optional("description") {
                None => String::new(),
                Some(Json::String(text)) => text.clone(),
                Some(_) => {
                    return Err(node.error("description", ShapeProblem::WrongType("a string")))
                }
            };
            let active = node.optional_flag("active")?.unwrap_or(true);
            node.required("rule")?;
            Ok((
                system_title.to_owned(),
                name.to_owned(),
                description,
                active,
            ))
        };
        let (system_title, name, description, active) =
            read().map_err(SegmentError::InvalidDefinition)?;
        let rule = node
            .required("rule")
            .and_then(|rule| Rule::from_json(rule, &node.field_path("rule")))
            .map_err(SegmentError::InvalidRule)?;
        Ok(Self {
            system_title,
            name,
            description,
            active,
            rule,
        })
    }

    /// The JSON form [`SegmentDefinition::from_json`] reads.
    pub fn to_json(&self) -> Json {
        json!({
            "systemTitle": self.system_title,
            "name": self.name,
            "description": self.description,
            "active": self.active,
            "rule": self.rule.to_json(),
        })
    }
}

impl TryFrom<Json> for SegmentDefinition {
    type Error = SegmentError;

    fn try_from(json: Json) -> Result<Self, Self::Error> {
        Self::from_json(&json, "$")
    }
}

impl From<SegmentDefinition> for Json {
    fn from(definition: SegmentDefinition) -> Self {
        definition.to_json()
    }
}
