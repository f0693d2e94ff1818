//! The `recordEvent` command's payload and its JSON form.

use serde_json::Value as Json;

use super::EngineError;
use crate::events::shape::Node;
use crate::events::{EventError, ShapeError, ShapeProblem};
use crate::identity::{Identifier, IdentityConfig};
use crate::model::{EventContext, EventId, EventMode, ProfileId, Properties, Timestamp};
use crate::schema::infer_value;

/// Whose event it is.
#[derive(Clone, Debug, PartialEq)]
pub enum EventSubject {
    /// A profile by id (aliases of merged profiles resolve to the survivor).
    Profile(ProfileId),
    /// Normalized identifiers, resolved like a profile upsert: the profile they belong to,
    /// or a new one holding them.
    Identifiers(Vec<Identifier>),
}

/// An event to record, before it is given an id, a profile and a time received.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    /// The sender's id for the event; a fresh one is made when absent.
    pub id: Option<EventId>,
    /// Whose event it is.
    pub subject: EventSubject,
    /// The event's name or type (`purchase`, `completedOrder`).
    pub name: String,
    /// Where it happened (default `OTHER`).
    pub context: EventContext,
    /// Active or passive (default `ACTIVE`).
    pub mode: EventMode,
    /// When it happened; the engine's time when absent.
    pub happened: Option<Timestamp>,
    /// When the sender sent it.
    pub sent: Option<Timestamp>,
    /// Typed properties (JSON typed like undeclared attributes; `null` dropped).
    pub properties: Properties,
    /// The version of the event's schema.
    pub schema_version: Option<String>,
}

impl NewEvent {
    /// An event named `name` for a profile, with default context and mode and no properties.
    pub fn new(subject: EventSubject, name: impl Into<String>) -> Self {
        Self {
            id: None,
            subject,
            name: name.into(),
            context: EventContext::Other,
            mode: EventMode::Active,
            happened: None,
            sent: None,
            properties: Properties::new(),
            schema_version: None,
        }
    }

    /// Reads an event at `path`: `{"profileId" | "identities", "name", "context", "mode",
    /// "happened", "sent", "properties", "schemaVersion", "id"}`.
    pub fn from_json(
        json: &Json,
        path: &str,
        identity: &IdentityConfig,
    ) -> Result<Self, EngineError> {
        let shape = |error: ShapeError| EngineError::Event(EventError::InvalidEvent(error));
        let node = Node::object(json, path.to_owned()).map_err(shape)?;
        node.only(&[
            "id",
            "profileId",
            "identities",
            "name",
            "context",
            "mode",
            "happened",
            "sent",
            "properties",
            "schemaVersion",
        ])
        .map_err(shape)?;
        let subject = if let Some(id) = node.optional_text("profileId").map_err(shape)? {
            EventSubject::Profile(id.parse()?)
        } else if let Some(raw) = node.optional("identities") {
            EventSubject::Identifiers(read_identities(&node, raw, identity)?)
        } else {
            return Err(EventError::NoSubject.into());
        };
        let mut event = Self::new(subject, node.text("name").map_err(shape)?);
        if let Some(id) = node.optional_text("id").map_err(shape)? {
            event.id = Some(id.parse()?);
        }
        if let Some(context) = node.optional("context") {
            event.context = crate::formats::from_json_value(context).map_err(|_| {
                shape(node.error(
                    "context",
                    ShapeProblem::InvalidValue("is not a known context"),
                ))
            })?;
        }
        if let Some(mode) = node.optional("mode") {
            event.mode = crate::formats::from_json_value(mode).map_err(|_| {
                shape(node.error(
                    "mode",
                    ShapeProblem::InvalidValue("must be ACTIVE or PASSIVE"),
                ))
            })?;
        }
        if let Some(text) = node.optional_text("happened").map_err(shape)? {
            event.happened = Some(Timestamp::parse(text)?);
        }
        if let Some(text) = node.optional_text("sent").map_err(shape)? {
            event.sent = Some(Timestamp::parse(text)?);
        }
        event.schema_version = node
            .optional_text("schemaVersion")
            .map_err(shape)?
            .map(str::to_owned);
        match node.optional("properties") {
            None => {}
            Some(Json::Object(properties)) => {
                for (key, raw) in properties {
                    if let Some(value) = infer_value(key, raw)? {
                        event.properties.insert(key.clone(), value);
                    }
                }
            }
            Some(_) => {
                return Err(shape(
                    node.error("properties", ShapeProblem::WrongType("an object")),
                ));
            }
        }
        Ok(event)
    }
}

fn read_identities(
    node: &Node<'_>,
    raw: &Json,
    identity: &IdentityConfig,
) -> Result<Vec<Identifier>, EngineError> {
    let shape = |error: ShapeError| EngineError::Event(EventError::InvalidEvent(error));
    let Json::Object(by_kind) = raw else {
        return Err(shape(
            node.error("identities", ShapeProblem::WrongType("an object")),
        ));
    };
    let mut identifiers = Vec::new();
    for (kind, values) in by_kind {
        let values = match values {
            Json::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        for value in values {
            let Json::String(text) = value else {
                return Err(shape(node.error(
                    &format!("identities.{kind}"),
                    ShapeProblem::WrongType("a string or an array of strings"),
                )));
            };
            identifiers.push(identity.normalize(kind, text)?);
        }
    }
    if identifiers.is_empty() {
        return Err(EventError::NoSubject.into());
    }
    Ok(identifiers)
}
