//! An upsert record (or its body) read straight from its JSON text: `{"upsertProfile": {...}}` with
//! identities, attributes (scalars or lists of strings) and a source, the shape nearly every
//! upsert of a batch has. The ordinary way reads text into a tree, the tree into JSON values
//! and those into the command, allocating each string three times and freeing the tree
//! after; this reads the command from the text, borrowing what it only looks at. Anything
//! else, and anything the ordinary way might refuse or read otherwise, is `None`: the caller
//! then reads the record the ordinary way, so answers and errors do not depend on which way
//! read it.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::UpsertProfile;
use crate::identity::IdentityConfig;
use crate::model::{AttributeKey, SortedEntries, SourceId, Value};
use crate::schema::{validate_key, AttributeChange};

/// Reads `text` as one upsert record, `{"upsertProfile": {...}}`, or `None` (see the module).
pub(super) fn upsert_from_text(text: &str, identity: &IdentityConfig) -> Option<UpsertProfile> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let raw = deserializer.deserialize_map(Record).ok()?;
    deserializer.end().ok()?;
    raw.into_upsert(identity)
}

/// Reads `text` as the body of an upsert record, the object under `upsertProfile`, or `None`.
pub(super) fn upsert_from_body(text: &str, identity: &IdentityConfig) -> Option<UpsertProfile> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let raw = deserializer.deserialize_map(Upsert).ok()?;
    deserializer.end().ok()?;
    raw.into_upsert(identity)
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
        let mut by_kind = self.identities?;
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
        if identifiers.is_empty() {
            return None;
        }
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

/// The identity type at `at`.
fn kind_at<'a>(by_kind: &'a [(Text<'_>, Item<'_>)], at: usize) -> Option<&'a str> {
    by_kind.get(at).map(|(kind, _)| kind.0.as_ref())
}

/// A string of the text: borrowed unless it has escapes.
struct Text<'de>(Cow<'de, str>);

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
    /// The attribute write this value asks for, typed by its shape as `infer_value` types it.
    fn into_change(self) -> AttributeChange {
        let value = match self {
            Self::Null => return AttributeChange::Remove,
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
        };
        AttributeChange::Set(value)
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

/// `{"upsertProfile": {...}}`, and nothing beside it.
struct Record;

impl<'de> Visitor<'de> for Record {
    type Value = RawParts<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an upsert record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        match map.next_key::<Text<'de>>()? {
            Some(tag) if tag.0 == "upsertProfile" => {}
            _ => return Err(other()),
        }
        let parts = map.next_value_seed(Upsert)?;
        match map.next_key::<Text<'de>>()? {
            None => Ok(parts),
            Some(_) => Err(other()),
        }
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
