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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Both ways of reading `text`'s event: straight from the text, and through the JSON
    /// value as every error is reported.
    fn both(text: &str) -> (Option<NewEvent>, Result<NewEvent, String>) {
        let identity = IdentityConfig::default();
        let quick = crate::engine::event_from_body(text, &identity);
        let slow = serde_json::from_str::<Json>(text)
            .map_err(|error| error.to_string())
            .and_then(|json| {
                NewEvent::from_json(&json, "$", &identity).map_err(|error| error.to_string())
            });
        (quick, slow)
    }

    #[test]
    fn the_common_shapes_read_straight_from_the_text_as_from_json() {
        for text in [
            r#"{"identities":{"email":["S1@Example.com"]},"name":"viewedPage","happened":"2026-11-01T10:00:00.000Z","properties":{"sequence":1}}"#,
            r#"{"identities":{"phone":"+4512345678","email":"a@b.dk"},"name":"buy","context":"ECOMMERCE","mode":"PASSIVE","sent":"2026-11-01T10:00:01Z","schemaVersion":"2"}"#,
            r#"{"profileId":"6f1c2a4e-3b5d-4e7f-9a0b-1c2d3e4f5a6b","identities":{"email":"ignored@x.dk"},"name":"login","id":"7f1c2a4e-3b5d-4e7f-9a0b-1c2d3e4f5a6b"}"#,
            r#"{"identities":{"email":"a@b.dk"},"name":"x","context":null,"mode":null,"happened":null,"properties":null}"#,
            r#"{"identities":{"email":"a@b.dk"},"name":"x","properties":{"z":-3,"a":2.5,"n":null,"t":true,"s":"text","l":[1,"a",null],"o":{"k":{"j":1}},"big":9223372036854775807}}"#,
            r#"{"name":"x","identities":{"email":["a@b.dk","c@d.dk"]}}"#,
            r#" { "n\u0061me" : "\u00e6ble" , "identities" : { "email" : "\u00c5se@b.dk" } , "context" : "W\u0045B" , "properties" : { "o" : { "k" : 1 , "k" : null , "j" : [ { "x" : null } , [ ] ] } , "q" : "\"\n" } } "#,
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
            r#"{"identities":{"email":"a@b.dk"},"name":"x","properties":{"a":1,"a":null}}"#,
            r#"{"identities":{"email":"a@b.dk"},"name":"x","properties":{"a":null,"a":1}}"#,
            r#"{"identities":{"email":"a@b.dk"},"name":"x","identities":{"email":"a@b.dk"}}"#,
            r#"{"identities":{"email":"a@b.dk"},"name":"x","properties":{},"properties":{}}"#,
            r#"{"identities":{"email":"a@b.dk"},"name":"x"} trailing"#,
            r#"{"identities":{"email":"a@b.dk"},"name":"x","properties":[1]}"#,
        ] {
            assert_eq!(both(text).0, None, "left to from_json: {text}");
        }
    }

    #[test]
    fn many_properties_read_straight_and_a_repeated_one_is_left_to_from_json() {
        // A key repeated with `null` too: a JSON value keeps the last word, dropping it.
        for (count, repeat) in [
            (17, None),
            (40, Some((3, "7"))),
            (40, Some((39, "null"))),
            (2_000, Some((1_000, "null"))),
            (2_000, Some((1_999, "7"))),
        ] {
            let mut properties: Vec<String> = (0..count)
                .map(|index| format!(r#""p{index}":{index}"#))
                .collect();
            if let Some((at, value)) = repeat {
                properties.push(format!(r#""p{at}":{value}"#));
            }
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
                Some((at, value)) => {
                    assert_eq!(quick, None, "{count} properties, p{at} again as {value}");
                }
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
