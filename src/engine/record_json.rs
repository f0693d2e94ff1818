//! A command record (or its body) read straight from its JSON text, for the shapes nearly
//! every record of a batch has: an upsert (`{"upsertProfile": {...}}`: identities,
//! attributes that are scalars or lists of strings, a source) and an event
//! (`{"recordEvent": {...}}`, or an item of `POST /cdp/v1/events`). The ordinary way reads
//! text into a tree and the tree into JSON values or the command, allocating each string
//! more than once and freeing the tree after; this reads the command from the text,
//! borrowing what it only looks at. Anything else, and anything the ordinary way might refuse
//! or read otherwise, is `None`: the caller then reads the record the ordinary way, so
//! answers and errors do not depend on which way read it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::{Command, EventSubject, NewEvent, UpsertProfile};
use crate::formats::{Doc, Received, Tree};
use crate::identity::{Identifier, IdentityConfig};
use crate::model::{
    AttributeKey, EventContext, EventMode, SortedEntries, SourceId, Timestamp, Value,
};
use crate::schema::{validate_key, AttributeChange};

/// Reads all of `text` with `read`, or `None` when `read` refuses it or text is left after
/// what it read.
pub(super) fn read_whole<'de, T>(
    text: &'de str,
    read: impl FnOnce(&mut JsonReader<'de>) -> serde_json::Result<T>,
) -> Option<T> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = read(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    Some(value)
}

/// A JSON reader standing in a text.
pub(super) type JsonReader<'de> = serde_json::Deserializer<serde_json::de::StrRead<'de>>;

/// Reads `text` as one record, `{"upsertProfile": {...}}` or `{"recordEvent": {...}}`, or
/// `None` (see the module).
pub(super) fn command_from_text(text: &str, identity: &IdentityConfig) -> Option<Command> {
    read_whole(text, |reader| reader.deserialize_map(Record { identity }))
}

/// Reads `text` as the body of an upsert record, the object under `upsertProfile`, or `None`.
pub(super) fn upsert_from_body(text: &str, identity: &IdentityConfig) -> Option<UpsertProfile> {
    read_whole(text, |reader| UpsertSeed { identity }.deserialize(reader))
}

/// Reads `text` as one event, the object under `recordEvent` (or the body of
/// `POST /cdp/v1/events`), or `None`.
pub(crate) fn event_from_body(text: &str, identity: &IdentityConfig) -> Option<NewEvent> {
    read_whole(text, |reader| EventSeed { identity }.deserialize(reader))
}

/// Reads `text` as an array of events, or `None` if any of them is not read this way.
pub(crate) fn events_from_list(text: &str, identity: &IdentityConfig) -> Option<Vec<NewEvent>> {
    read_whole(text, |reader| {
        reader.deserialize_seq(EventList { identity })
    })
}

/// Any refusal here only means "not read this way".
fn other<E: de::Error>() -> E {
    E::custom("left to the ordinary reader")
}

/// The parts of an upsert as the text has them, borrowed where it can.
#[derive(Default)]
struct RawParts<'de> {
    identities: Option<Vec<(Text<'de>, Item<'de>)>>,
    attributes: Vec<(AttributeKey, AttributeChange)>,
    source: Option<Item<'de>>,
}

impl RawParts<'_> {
    /// The command, as `RawUpsert::into_upsert` makes it: identifiers by kind (the JSON
    /// object's order), attributes by key with the last value of a repeated one.
    fn into_upsert(self, identity: &IdentityConfig) -> Option<UpsertProfile> {
        let identifiers = identifiers(self.identities?, identity)?;
        let source = match self.source {
            None | Some(Item::Null) => SourceId::default_source(),
            Some(Item::Text(name)) => SourceId::new(name.0.into_owned()),
            Some(_) => return None,
        };
        let mut upsert = UpsertProfile::new(identifiers, source);
        upsert.attributes = SortedEntries::from(self.attributes).0;
        Some(upsert)
    }
}

/// The identifiers of an `identities` object, as the ordinary way reads them: by identity
/// type in name order (as a JSON object's map iterates them), each type's values in the
/// text's order. `None` for a repeated type, a value that is not a string or a list of
/// strings, one that does not normalize, or no identifier at all.
fn identifiers(
    mut by_kind: Vec<(Text<'_>, Item<'_>)>,
    identity: &IdentityConfig,
) -> Option<Vec<Identifier>> {
    // A few identity types, sorted by insertion (no sort routine of its own in the wasm);
    // more are left to the ordinary reader.
    if by_kind.len() > 16 {
        return None;
    }
    for next in 1..by_kind.len() {
        let mut at = next;
        while at > 0 && kind_at(&by_kind, at - 1) > kind_at(&by_kind, at) {
            by_kind.swap(at - 1, at);
            at -= 1;
        }
    }
    if (1..by_kind.len()).any(|at| kind_at(&by_kind, at - 1) == kind_at(&by_kind, at)) {
        return None;
    }
    let mut identifiers = Vec::with_capacity(by_kind.len());
    for (kind, values) in by_kind {
        let values = match values {
            Item::Text(value) => vec![value],
            Item::Texts(values) => values,
            _ => return None,
        };
        for value in values {
            identifiers.push(identity.normalize(&kind.0, &value.0).ok()?);
        }
    }
    (!identifiers.is_empty()).then_some(identifiers)
}

/// The identity type at `at`.
fn kind_at<'a>(by_kind: &'a [(Text<'_>, Item<'_>)], at: usize) -> Option<&'a str> {
    by_kind.get(at).map(|(kind, _)| kind.0.as_ref())
}

/// A string of the text: borrowed unless it has escapes.
pub(super) struct Text<'de>(pub(super) Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Borrowed(text)))
    }

    fn visit_str<E>(self, text: &str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(text.to_owned())))
    }

    fn visit_string<E>(self, text: String) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(text)))
    }
}

/// A value of an identity type, an attribute or the source: a scalar, or a list of strings.
/// Numbers beyond ±(2^63−1), other lists and objects are left to the ordinary reader.
enum Item<'de> {
    Null,
    Flag(bool),
    Whole(i64),
    Fraction(f64),
    Text(Text<'de>),
    Texts(Vec<Text<'de>>),
}

impl<'de> Item<'de> {
    /// The value, typed by its shape as `infer_value` types it; `None` for `null`.
    fn into_value(self) -> Option<Value> {
        Some(match self {
            Self::Null => return None,
            Self::Flag(flag) => Value::Boolean(flag),
            Self::Whole(whole) => Value::Integer(whole),
            Self::Fraction(fraction) => Value::Number(fraction),
            Self::Text(text) => Value::String(text.0.into_owned()),
            Self::Texts(texts) => Value::List(
                texts
                    .into_iter()
                    .map(|text| Value::String(text.0.into_owned()))
                    .collect(),
            ),
        })
    }

    /// The attribute write this value asks for: `null` removes it.
    fn into_change(self) -> AttributeChange {
        self.into_value()
            .map_or(AttributeChange::Remove, AttributeChange::Set)
    }
}

impl<'de> de::Deserialize<'de> for Item<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ItemVisitor)
    }
}

struct ItemVisitor;

impl<'de> Visitor<'de> for ItemVisitor {
    type Value = Item<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a scalar or a list of strings")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Item::Null)
    }

    fn visit_bool<E>(self, flag: bool) -> Result<Self::Value, E> {
        Ok(Item::Flag(flag))
    }

    fn visit_i64<E>(self, whole: i64) -> Result<Self::Value, E> {
        Ok(Item::Whole(whole))
    }

    fn visit_u64<E: de::Error>(self, whole: u64) -> Result<Self::Value, E> {
        i64::try_from(whole).map(Item::Whole).map_err(|_| other())
    }

    fn visit_f64<E: de::Error>(self, fraction: f64) -> Result<Self::Value, E> {
        if fraction.is_finite() {
            Ok(Item::Fraction(fraction))
        } else {
            Err(other())
        }
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        TextVisitor.visit_borrowed_str(text).map(Item::Text)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        TextVisitor.visit_str(text).map(Item::Text)
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
        TextVisitor.visit_string(text).map(Item::Text)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut texts = Vec::with_capacity(seq.size_hint().unwrap_or(1).min(64));
        while let Some(text) = seq.next_element::<Text<'de>>()? {
            texts.push(text);
        }
        Ok(Item::Texts(texts))
    }
}

/// `{"upsertProfile": {...}}` or `{"recordEvent": {...}}`, and nothing beside it.
struct Record<'a> {
    identity: &'a IdentityConfig,
}

impl<'de> Visitor<'de> for Record<'_> {
    type Value = Command;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an upsert or event record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let command = match map.next_key::<Text<'de>>()? {
            Some(tag) if tag.0 == "upsertProfile" => {
                Command::UpsertProfile(map.next_value_seed(UpsertSeed {
                    identity: self.identity,
                })?)
            }
            Some(tag) if tag.0 == "recordEvent" => {
                Command::RecordEvent(map.next_value_seed(EventSeed {
                    identity: self.identity,
                })?)
            }
            _ => return Err(other()),
        };
        match map.next_key::<Text<'de>>()? {
            None => Ok(command),
            Some(_) => Err(other()),
        }
    }
}

/// An upsert's body read where the deserializer stands (the body of an upsert record of a
/// batch): an error wherever [`upsert_from_body`] would be `None`.
#[derive(Clone, Copy)]
pub(super) struct UpsertSeed<'a> {
    pub(super) identity: &'a IdentityConfig,
}

impl<'de> DeserializeSeed<'de> for UpsertSeed<'_> {
    type Value = UpsertProfile;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        Upsert
            .deserialize(deserializer)?
            .into_upsert(self.identity)
            .ok_or_else(other)
    }
}

/// The upsert's fields: identities, attributes and source, each at most once.
struct Upsert;

impl<'de> DeserializeSeed<'de> for Upsert {
    type Value = RawParts<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Upsert {
    type Value = RawParts<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an upsert")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut parts = RawParts::default();
        let mut attributes_read = false;
        while let Some(field) = map.next_key::<Text<'de>>()? {
            match field.0.as_ref() {
                "identities" if parts.identities.is_none() => {
                    parts.identities = Some(map.next_value_seed(Entries)?);
                }
                "attributes" if !attributes_read => {
                    attributes_read = true;
                    for (key, value) in map.next_value_seed(Entries)? {
                        if validate_key(&key.0).is_err() {
                            return Err(other());
                        }
                        parts
                            .attributes
                            .push((key.0.into_owned(), value.into_change()));
                    }
                }
                "source" if parts.source.is_none() => {
                    parts.source = Some(map.next_value::<Item<'de>>()?);
                }
                _ => return Err(other()),
            }
        }
        Ok(parts)
    }
}

/// An object's entries, in the text's order: `{"name": item, ...}`.
struct Entries;

impl<'de> DeserializeSeed<'de> for Entries {
    type Value = Vec<(Text<'de>, Item<'de>)>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Entries {
    type Value = Vec<(Text<'de>, Item<'de>)>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
        while let Some(entry) = map.next_entry::<Text<'de>, Item<'de>>()? {
            entries.push(entry);
        }
        Ok(entries)
    }
}

/// The fields of an event as the text has them, each at most once, borrowed where it can.
#[derive(Default)]
struct RawEvent<'de> {
    id: Option<Item<'de>>,
    profile_id: Option<Item<'de>>,
    identities: Option<Vec<(Text<'de>, Item<'de>)>>,
    name: Option<Item<'de>>,
    context: Option<Item<'de>>,
    mode: Option<Item<'de>>,
    happened: Option<Item<'de>>,
    sent: Option<Item<'de>>,
    properties: Option<Option<PropertyList>>,
    schema_version: Option<Item<'de>>,
}

impl RawEvent<'_> {
    /// The event, as `NewEvent::from_json` reads it: `None` where that might refuse it or
    /// read it otherwise.
    fn into_event(self, identity: &IdentityConfig) -> Option<NewEvent> {
        let subject = match optional_text(self.profile_id)? {
            Some(id) => EventSubject::Profile(id.parse().ok()?),
            None => EventSubject::Identifiers(identifiers(self.identities?, identity)?),
        };
        let mut event = NewEvent::new(subject, optional_text(self.name)??.into_owned());
        if let Some(id) = optional_text(self.id)? {
            event.id = Some(id.parse().ok()?);
        }
        if let Some(context) = optional_text(self.context)? {
            event.context = EventContext::deserialize(named(context.into_owned())).ok()?;
        }
        if let Some(mode) = optional_text(self.mode)? {
            event.mode = EventMode::deserialize(named(mode.into_owned())).ok()?;
        }
        if let Some(happened) = optional_text(self.happened)? {
            event.happened = Some(Timestamp::parse(&happened).ok()?);
        }
        if let Some(sent) = optional_text(self.sent)? {
            event.sent = Some(Timestamp::parse(&sent).ok()?);
        }
        event.schema_version = optional_text(self.schema_version)?.map(Cow::into_owned);
        if let Some(properties) = self.properties.flatten() {
            event.properties = properties
                .into_iter()
                .filter_map(|(key, value)| Some((key, value?)))
                .collect();
        }
        Some(event)
    }
}

/// An optional text field as the ordinary way reads it: absent or `null` is `Some(None)`, a
/// string with more than blanks `Some(Some(text))`; anything else `None`.
#[allow(clippy::option_option)]
fn optional_text(field: Option<Item<'_>>) -> Option<Option<Cow<'_, str>>> {
    match field {
        None | Some(Item::Null) => Some(None),
        Some(Item::Text(text)) if !text.0.trim().is_empty() => Some(Some(text.0)),
        Some(_) => None,
    }
}

/// A name of an enum (a context, a mode), read by the model's own reader of it.
fn named(name: String) -> Doc<Received> {
    Doc::new(Tree::Text(name))
}

/// An event's fields, each at most once; any other field leaves it to the ordinary reader.
struct EventBody;

impl<'de> DeserializeSeed<'de> for EventBody {
    type Value = RawEvent<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EventBody {
    type Value = RawEvent<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an event")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut event = RawEvent::default();
        while let Some(field) = map.next_key::<Text<'de>>()? {
            let item = match field.0.as_ref() {
                "identities" if event.identities.is_none() => {
                    event.identities = Some(map.next_value_seed(Entries)?);
                    continue;
                }
                "properties" if event.properties.is_none() => {
                    event.properties = Some(map.next_value_seed(PropertiesSeed)?);
                    continue;
                }
                "id" => &mut event.id,
                "profileId" => &mut event.profile_id,
                "name" => &mut event.name,
                "context" => &mut event.context,
                "mode" => &mut event.mode,
                "happened" => &mut event.happened,
                "sent" => &mut event.sent,
                "schemaVersion" => &mut event.schema_version,
                _ => return Err(other()),
            };
            if item.replace(map.next_value()?).is_some() {
                return Err(other());
            }
        }
        Ok(event)
    }
}

/// An event read straight where a deserializer stands on its body (an item of an array, a
/// record of a batch): an error wherever [`event_from_body`] would be `None`.
#[derive(Clone, Copy)]
pub(super) struct EventSeed<'a> {
    pub(super) identity: &'a IdentityConfig,
}

impl<'de> DeserializeSeed<'de> for EventSeed<'_> {
    type Value = NewEvent;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        EventBody
            .deserialize(deserializer)?
            .into_event(self.identity)
            .ok_or_else(other)
    }
}

/// The events of an array, each read as [`EventSeed`].
struct EventList<'a> {
    identity: &'a IdentityConfig,
}

impl<'de> Visitor<'de> for EventList<'_> {
    type Value = Vec<NewEvent>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an array of events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut events = Vec::with_capacity(seq.size_hint().unwrap_or(16).min(1_024));
        let each = EventSeed {
            identity: self.identity,
        };
        while let Some(event) = seq.next_element_seed(each)? {
            events.push(event);
        }
        Ok(events)
    }
}

/// An event's properties in the text's order, a `null` one as `None`.
type PropertyList = Vec<(String, Option<Value>)>;

/// An event's `properties`: `null` (none), or an object whose values are typed as
/// `infer_value` types them (`null` values kept as `None`, to be dropped once every key is
/// known). A repeated key leaves the event to the ordinary reader (a JSON value keeps the last).
struct PropertiesSeed;

impl<'de> DeserializeSeed<'de> for PropertiesSeed {
    type Value = Option<PropertyList>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PropertiesSeed {
    type Value = Option<PropertyList>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an object or null")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut properties: PropertyList = Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
        while let Some((key, value)) = map.next_entry::<Text<'de>, Inferred>()? {
            // A few keys are compared with each other as they come; more are sorted once at
            // the end, so an event with thousands of properties stays fast.
            if properties.len() < 16 && properties.iter().any(|(seen, _)| *seen == key.0) {
                return Err(other());
            }
            properties.push((key.0.into_owned(), value.0));
        }
        if properties.len() > 16 {
            let mut keys: Vec<&str> = properties.iter().map(|(key, _)| key.as_str()).collect();
            keys.sort_unstable();
            if keys.windows(2).any(|pair| pair.first() == pair.last()) {
                return Err(other());
            }
        }
        Ok(Some(properties))
    }
}

/// A JSON value typed as `infer_value` types it: `null` is `None` (inside an array, an empty
/// list); whole numbers within ±(2^63−1) are integers, other numbers floating-point; an
/// object keeps the last value of a repeated key and drops `null` ones. A whole number
/// beyond that range is left to the ordinary reader (which refuses it).
struct Inferred(Option<Value>);

impl<'de> de::Deserialize<'de> for Inferred {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(InferredVisitor).map(Inferred)
    }
}

struct InferredVisitor;

impl<'de> Visitor<'de> for InferredVisitor {
    type Value = Option<Value>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    // Scalars are typed as an upsert's attribute values are ([`Item::into_value`]).
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        ItemVisitor.visit_unit().map(Item::into_value)
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<Self::Value, E> {
        ItemVisitor.visit_bool(flag).map(Item::into_value)
    }

    fn visit_i64<E: de::Error>(self, whole: i64) -> Result<Self::Value, E> {
        ItemVisitor.visit_i64(whole).map(Item::into_value)
    }

    fn visit_u64<E: de::Error>(self, whole: u64) -> Result<Self::Value, E> {
        ItemVisitor.visit_u64(whole).map(Item::into_value)
    }

    fn visit_f64<E: de::Error>(self, fraction: f64) -> Result<Self::Value, E> {
        ItemVisitor.visit_f64(fraction).map(Item::into_value)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        ItemVisitor.visit_str(text).map(Item::into_value)
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
        ItemVisitor.visit_string(text).map(Item::into_value)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4).min(64));
        while let Some(item) = seq.next_element::<Inferred>()? {
            items.push(item.0.unwrap_or(Value::List(Vec::new())));
        }
        Ok(Some(Value::List(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = BTreeMap::new();
        while let Some((name, item)) = map.next_entry::<Text<'de>, Inferred>()? {
            match item.0 {
                Some(value) => fields.insert(name.0.into_owned(), value),
                None => fields.remove(name.0.as_ref()),
            };
        }
        Ok(Some(Value::Object(fields)))
    }
}
