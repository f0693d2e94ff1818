//! Segments: a rule tree over profiles, serialized as JSON, with membership kept up to date.

use serde::{Deserialize, Serialize};

/// A node of a segment rule.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "op")]
pub enum Rule {
    /// Every child holds.
    And {
        /// The children.
        rules: Vec<Rule>,
    },
    /// At least one child holds.
    Or {
        /// The children.
        rules: Vec<Rule>,
    },
    /// The child does not hold.
    Not {
        /// The child.
        rule: Box<Rule>,
    },
    /// The attribute exists.
    Exists {
        /// The attribute name.
        attribute: String,
    },
    /// The attribute equals the JSON value.
    Equals {
        /// The attribute name.
        attribute: String,
        /// The value compared with.
        value: serde_json::Value,
    },
    /// The profile carries the tag.
    HasTag {
        /// The tag.
        tag: String,
    },
}

/// A named segment: Arrigoo's system title, its display name and its rule.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SegmentDefinition {
    /// The stable system title (`segment_system_title`).
    pub system_title: String,
    /// The display name.
    pub title: String,
    /// A longer description.
    #[serde(default)]
    pub description: String,
    /// Whether the segment is active.
    #[serde(default = "active")]
    pub active: bool,
    /// The rule profiles must satisfy.
    pub rule: Rule,
}

fn active() -> bool {
    true
}
