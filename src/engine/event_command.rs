//! The `recordEvent` command's payload and its JSON form.

use serde::Deserialize;
use serde_json::Value as Json;

use super::EngineError;
use crate::events::shape::Node;
use crate::events::{EventError, ShapeError, ShapeProblem};
use crate::formats::{Doc, Received, Tree};
use crate::identity::{Identifier, IdentityConfig};
use crate::model::{EventContext, EventId, EventMode, ProfileId, Properties, Timestamp, Value};
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

/// The fields of an event read straight from its tree ([`NewEvent::from_tree`]), each at
/// most once.
#[derive(Default)]
struct EventFields<'a> {
    id: Option<&'a Tree>,
    profile_id: Option<&'a Tree>,
    identities: Option<&'a Tree>,
    name: Option<&'a Tree>,
    context: Option<&'a Tree>,
    mode: Option<&'a Tree>,
    happened: Option<&'a Tree>,
    sent: Option<&'a Tree>,
    properties: Option<&'a Tree>,
    schema_version: Option<&'a Tree>,
}

impl<'a> EventFields<'a> {
    /// The fields of `tree`; `None` for anything but an object of known fields, each given
    /// once (a JSON value would keep the last of a repeated one).
    fn of(tree: &'a Tree) -> Option<Self> {
        let Tree::Map(entries) = tree else {
            return None;
        };
        let mut fields = Self::default();
        for (key, value) in entries {
            let Tree::Text(key) = key else {
                return None;
            };
            let slot = match key.as_str() {
                "id" => &mut fields.id,
                "profileId" => &mut fields.profile_id,
                "identities" => &mut fields.identities,
                "name" => &mut fields.name,
                "context" => &mut fields.context,
                "mode" => &mut fields.mode,
                "happened" => &mut fields.happened,
                "sent" => &mut fields.sent,
                "properties" => &mut fields.properties,
                "schemaVersion" => &mut fields.schema_version,
                _ => return None,
            };
            if slot.replace(value).is_some() {
                return None;
            }
        }
        Some(fields)
    }
}

/// A field `null` or absent as `None`, as [`Node::optional`] reads it.
fn present(field: Option<&Tree>) -> Option<&Tree> {
    field.filter(|value| !matches!(value, Tree::Null))
}

/// A non-empty string, as [`Node::text`] accepts it; `Err` for anything else.
fn text(field: &Tree) -> Result<&str, ()> {
    match field {
        Tree::Text(text) if !text.trim().is_empty() => Ok(text),
        _ => Err(()),
    }
}

/// An optional non-empty string, as [`Node::optional_text`] reads it.
fn optional_text(field: Option<&Tree>) -> Result<Option<&str>, ()> {
    present(field).map(text).transpose()
}

impl NewEvent {
    /// The common shape of an event read straight from its tree, without the JSON value
    /// [`NewEvent::from_json`] reads: `None` for anything `from_json` might refuse or read
    /// otherwise (an unknown, repeated or mistyped field, an identifier or time that does not
    /// parse, a number out of range), which the caller then reads with `from_json` for its
    /// answer or its error. Tests hold the two to the same results. Reading a batch of
    /// events this way skips building and dropping a B-tree map per object.
    pub(crate) fn from_tree(tree: &Tree, identity: &IdentityConfig) -> Option<Self> {
        let fields = EventFields::of(tree)?;
        let subject = if let Some(id) = optional_text(fields.profile_id).ok()? {
            EventSubject::Profile(id.parse().ok()?)
        } else {
            EventSubject::Identifiers(identifiers_from_tree(
                present(fields.identities)?,
                identity,
            )?)
        };
        let mut event = Self::new(subject, text(fields.name?).ok()?);
        if let Some(id) = optional_text(fields.id).ok()? {
            event.id = Some(id.parse().ok()?);
        }
        if let Some(context) = present(fields.context) {
            event.context =
                EventContext::deserialize(Doc::<Received>::new(context.clone())).ok()?;
        }
        if let Some(mode) = present(fields.mode) {
            event.mode = EventMode::deserialize(Doc::<Received>::new(mode.clone())).ok()?;
        }
        if let Some(happened) = optional_text(fields.happened).ok()? {
            event.happened = Some(Timestamp::parse(happened).ok()?);
        }
        if let Some(sent) = optional_text(fields.sent).ok()? {
            event.sent = Some(Timestamp::parse(sent).ok()?);
        }
        event.schema_version = optional_text(fields.schema_version)
            .ok()?
            .map(str::to_owned);
        match present(fields.properties) {
            None => {}
            Some(Tree::Map(entries)) => {
                let mut properties: Vec<(String, Value)> = Vec::with_capacity(entries.len());
                // A few keys are compared with each other as they come; more are sorted once
                // at the end, so an event with thousands of properties stays fast.
                let compare_each = entries.len() <= 16;
                for (key, raw) in entries {
                    let Tree::Text(key) = key else {
                        return None;
                    };
                    if compare_each && properties.iter().any(|(seen, _)| seen == key) {
                        return None;
                    }
                    if let Some(value) = value_from_tree(key, raw)? {
                        properties.push((key.clone(), value));
                    }
                }
                if !compare_each {
                    let mut keys: Vec<&str> =
                        properties.iter().map(|(key, _)| key.as_str()).collect();
                    keys.sort_unstable();
                    if keys.windows(2).any(|pair| pair.first() == pair.last()) {
                        return None;
                    }
                }
                event.properties = properties.into_iter().collect();
            }
            Some(_) => return None,
        }
        Some(event)
    }
}

/// [`read_identities`] of a tree: `None` where it would refuse or read otherwise.
fn identifiers_from_tree(tree: &Tree, identity: &IdentityConfig) -> Option<Vec<Identifier>> {
    let Tree::Map(entries) = tree else {
        return None;
    };
    // In kind order, as the JSON object's map iterates.
    let mut by_kind: Vec<(&str, &Tree)> = Vec::with_capacity(entries.len());
    for (kind, values) in entries {
        let Tree::Text(kind) = kind else {
            return None;
        };
        if by_kind.iter().any(|(seen, _)| *seen == kind.as_str()) {
            return None;
        }
        by_kind.push((kind, values));
    }
    by_kind.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut identifiers = Vec::new();
    for (kind, values) in by_kind {
        let values = match values {
            Tree::List(items) => items.iter().collect(),
            single => vec![single],
        };
        for value in values {
            let Tree::Text(text) = value else {
                return None;
            };
            identifiers.push(identity.normalize(kind, text).ok()?);
        }
    }
    (!identifiers.is_empty()).then_some(identifiers)
}

/// [`infer_value`] of a tree: `Some(None)` for `null`, `None` where it would refuse. Numbers
/// and nested values go through `infer_value` itself, as the JSON value the tree reads as.
fn value_from_tree(key: &str, tree: &Tree) -> Option<Option<Value>> {
    let json = match tree {
        Tree::Null => return Some(None),
        Tree::Bool(flag) => return Some(Some(Value::Boolean(*flag))),
        Tree::Text(text) => return Some(Some(Value::String(text.clone()))),
        Tree::Bytes(_) | Tree::Missing(_) => return None,
        Tree::Unsigned(whole) => Json::from(*whole),
        Tree::Signed(whole) => Json::from(*whole),
        Tree::Float(float) => Json::from(*float),
        Tree::List(_) | Tree::Map(_) => {
            Json::deserialize(Doc::<Received>::new(tree.clone())).ok()?
        }
    };
    infer_value(key, &json).ok()
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Both ways of reading `text`'s event: straight from the tree, and through the JSON
    /// value as every other caller reads it.
    fn both(text: &str) -> (Option<NewEvent>, Result<NewEvent, EngineError>) {
        let identity = IdentityConfig::default();
        let tree: Tree = serde_json::from_str(text).unwrap();
        let quick = NewEvent::from_tree(&tree, &identity);
        let json = Json::deserialize(Doc::<Received>::new(tree)).unwrap();
        (quick, NewEvent::from_json(&json, "$", &identity))
    }

    #[test]
    fn the_common_shapes_read_straight_from_the_tree_as_from_json() {
        for text in [
            r#"{"identities":{"email":["S1@Example.com"]},"name":"viewedPage","happened":"2026-11-01T10:00:00.000Z","properties":{"sequence":1}}"#,
            r#"{"identities":{"phone":"+4512345678","email":"a@b.dk"},"name":"buy","context":"ECOMMERCE","mode":"PASSIVE","sent":"2026-11-01T10:00:01Z","schemaVersion":"2"}"#,
            r#"{"profileId":"6f1c2a4e-3b5d-4e7f-9a0b-1c2d3e4f5a6b","identities":{"email":"ignored@x.dk"},"name":"login","id":"7f1c2a4e-3b5d-4e7f-9a0b-1c2d3e4f5a6b"}"#,
            r#"{"identities":{"email":"a@b.dk"},"name":"x","context":null,"mode":null,"happened":null,"properties":null}"#,
            r#"{"identities":{"email":"a@b.dk"},"name":"x","properties":{"z":-3,"a":2.5,"n":null,"t":true,"s":"text","l":[1,"a",null],"o":{"k":{"j":1}},"big":9223372036854775807}}"#,
            r#"{"name":"x","identities":{"email":["a@b.dk","c@d.dk"]}}"#,
        ] {
            let (quick, slow) = both(text);
            assert!(quick.is_some(), "read straight: {text}");
            assert_eq!(quick, Some(slow.unwrap()), "{text}");
        }
    }

    #[test]
    fn anything_from_json_might_refuse_or_read_otherwise_is_left_to_it() {
        for text in [
            r#"[]"#,
            r#"{"identities":{"email":"a@b.dk"}}"#,
            r#"{"identities":{"email":"a@b.dk"},"name":"  "}"#,
            r#"{"identities":{"email":"a@b.dk"},"name":"x","bogus":1}"#,
            r#"{"identities":{"email":"a@b.dk"},"name":"x","name":"y"}"#,
            r#"{"identities":{"email":"a@b.dk","email":"c@d.dk"},"name":"x"}"#,
            r#"{"identities":{},"name":"x"}"#,
            r#"{"identities":{"email":[1]},"name":"x"}"#,
            r#"{"name":"x"}"#,
            r#"{"profileId":"nope","name":"x"}"#,
            r#"{"identities":{"email":"a@b.dk"},"name":"x","context":"MOON"}"#,
            r#"{"identities":{"email":"a@b.dk"},"name":"x","happened":"yesterday"}"#,
            r#"{"identities":{"email":"a@b.dk"},"name":"x","properties":{"n":18446744073709551615}}"#,
            r#"{"identities":{"email":"a@b.dk"},"name":"x","properties":{"a":1,"a":2}}"#,
            r#"{"identities":{"email":"a@b.dk"},"name":"x","properties":[1]}"#,
        ] {
            assert_eq!(both(text).0, None, "left to from_json: {text}");
        }
    }

    #[test]
    fn many_properties_read_straight_and_a_repeated_one_is_left_to_from_json() {
        for (count, repeat) in [
            (17, None),
            (40, Some(3)),
            (40, Some(39)),
            (2_000, Some(1_000)),
        ] {
            let mut keys: Vec<String> = (0..count).map(|index| format!("p{index}")).collect();
            if let Some(at) = repeat {
                keys.push(format!("p{at}"));
            }
            let properties: Vec<String> = keys
                .iter()
                .enumerate()
                .map(|(value, key)| format!(r#""{key}":{value}"#))
                .collect();
            let text = format!(
                r#"{{"identities":{{"email":"a@b.dk"}},"name":"x","properties":{{{}}}}}"#,
                properties.join(",")
            );
            let (quick, slow) = both(&text);
            match repeat {
                None => {
                    let read = quick.expect("read straight");
                    assert_eq!(read.properties.len(), count);
                    assert_eq!(Some(read), slow.ok());
                }
                Some(at) => assert_eq!(quick, None, "{count} properties, p{at} twice"),
            }
        }
    }

    fn field() -> impl Strategy<Value = String> {
        let scalar = prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("\"\"".to_owned()),
            Just("\" \"".to_owned()),
            Just("\"WEB\"".to_owned()),
            Just("\"PASSIVE\"".to_owned()),
            Just("\"2026-11-01T10:00:00Z\"".to_owned()),
            Just("\"6f1c2a4e-3b5d-4e7f-9a0b-1c2d3e4f5a6b\"".to_owned()),
            Just("\"a@b.dk\"".to_owned()),
            (-5i64..5).prop_map(|n| n.to_string()),
            Just("1.5".to_owned()),
            Just("18446744073709551615".to_owned()),
            Just("[\"a@b.dk\", \"C@D.dk\"]".to_owned()),
            Just("{\"email\": \"a@b.dk\"}".to_owned()),
            Just("{\"email\": [\"a@b.dk\", 3]}".to_owned()),
            Just("{\"x\": 1, \"y\": [true, null], \"z\": {\"w\": \"v\"}}".to_owned()),
        ];
        let key = prop_oneof![
            Just("id"),
            Just("profileId"),
            Just("identities"),
            Just("name"),
            Just("context"),
            Just("mode"),
            Just("happened"),
            Just("sent"),
            Just("properties"),
            Just("schemaVersion"),
            Just("other"),
        ];
        (key, scalar).prop_map(|(key, value)| format!("\"{key}\": {value}"))
    }

    proptest! {
        #[test]
        fn whatever_is_read_straight_reads_as_from_json_reads_it(
            fields in proptest::collection::vec(field(), 0..8),
        ) {
            let text = format!(
                r#"{{"identities": {{"email": "base@x.dk"}}, "name": "base", {}}}"#,
                fields.join(", ")
            ).replace(", }", "}");
            let (quick, slow) = both(&text);
            if let Some(quick) = quick {
                prop_assert_eq!(Ok(quick), slow.map_err(|error| error.to_string()));
            }
        }
    }
}
