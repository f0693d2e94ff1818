//! One path from every stored or received format into the model's serde code.
//!
//! serde's derived code is generic over the format it reads: called directly, each model type's
//! `Deserialize` is compiled once per format (MessagePack, JSON text, JSON values), and once
//! more per format for the buffered form that internally tagged enums go through. That
//! duplication was most of the wasm binary. Here a format is first read into a [`Tree`] (whose
//! own reader is small), and model types are read from the tree only, so their code is
//! compiled once. Reading a tree behaves as reading a `serde_json::Value` does (same errors,
//! same messages), and also carries MessagePack's binary strings, as uuids are stored. One
//! difference: a struct in a received document ([`Received`]) must be a JSON object, where
//! serde_json would also read an array by position; only stored records ([`Stored`]) write
//! structs as lists.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, Expected, MapAccess, SeqAccess, Unexpected,
    VariantAccess, Visitor,
};
use serde::Deserialize;
use serde_json::{Error, Map as JsonMap, Value as Json};

/// A document read from any format, before it is read into a model type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tree {
    /// JSON `null`, MessagePack `nil`, a unit.
    Null,
    /// A boolean.
    Bool(bool),
    /// A non-negative integer.
    Unsigned(u64),
    /// A negative integer.
    Signed(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Text(String),
    /// A binary string (MessagePack `bin`).
    Bytes(Vec<u8>),
    /// An array.
    List(Vec<Tree>),
    /// A map, its entries in the order they were read.
    Map(Vec<(Tree, Tree)>),
    /// A field the map of a stored struct lacks (made only by [`fields_in_order`], never
    /// read from a format): an optional field reads it as none, any other as the error of a
    /// missing field.
    Missing(&'static str),
}

/// How a document read through a [`Doc`] may write a struct.
pub(crate) trait Layout {
    /// Whether as the list of its fields (MessagePack writes structs so) as well as a map.
    const LISTS: bool;
}

/// Stored records: a struct is a list (MessagePack) or a map (JSON: the first log format,
/// export lines), the map read as the list of its fields ([`fields_in_order`]).
pub(crate) enum Stored {}

/// Documents received as JSON (requests, commands, configuration, JS objects): a struct is a
/// map of named fields. A type read only from received documents never needs the list form,
/// so that half of its reader is not compiled.
pub(crate) enum Received {}

impl Layout for Stored {
    const LISTS: bool = true;
}

impl Layout for Received {
    const LISTS: bool = false;
}

/// A tree read as a document of layout `L`: what the model's serde code reads from.
pub(crate) struct Doc<L>(Tree, PhantomData<L>);

impl<L> Doc<L> {
    pub(crate) fn new(tree: Tree) -> Self {
        Self(tree, PhantomData)
    }
}

/// A JSON object of `fields`, their values moved in. For values that are JSON already:
/// `serde_json::json!` copies each one by serializing it once more.
pub(crate) fn json_object<const N: usize>(fields: [(&str, Json); N]) -> Json {
    json_object_of(&mut fields.into_iter())
}

/// [`json_object`]'s work, once for every number of fields.
fn json_object_of(fields: &mut dyn Iterator<Item = (&str, Json)>) -> Json {
    Json::Object(json_map_of(
        &mut fields.map(|(key, value)| (key.to_owned(), value)),
    ))
}

/// A JSON object of `entries`, a later entry replacing an earlier one of the same key, as
/// collecting them into a map does. Collecting sorts the entries first, and that sort is
/// compiled again for every iterator type collected; this is one loop of inserts for all.
pub(crate) fn json_map(entries: impl IntoIterator<Item = (String, Json)>) -> JsonMap<String, Json> {
    json_map_of(&mut entries.into_iter())
}

fn json_map_of(entries: &mut dyn Iterator<Item = (String, Json)>) -> JsonMap<String, Json> {
    let mut map = JsonMap::new();
    for (key, value) in entries {
        map.insert(key, value);
    }
    map
}

/// Reads a stored `T` from MessagePack as `rmp_serde::from_slice` reads it; the error is a
/// message.
pub(crate) fn from_msgpack<T: de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    T::deserialize(Doc::<Stored>::new(msgpack_tree(bytes)?)).map_err(|error| error.to_string())
}

/// Reads a received `T` from JSON text; a syntax error is `Err` of the message
/// `serde_json::from_str` gives (with its position), a document of another shape the message
/// `serde_json::from_value` gives.
pub(crate) fn from_json_str<T: de::DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    from_json_tree(json_text_tree(text)?)
}

/// Reads a stored `T` (a record of the first stored format, an exported line) from JSON
/// text, as [`from_json_str`] reads a received one.
pub(crate) fn from_stored_json<T: de::DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    T::deserialize(Doc::<Stored>::new(json_text_tree(text)?)).map_err(JsonError::Shape)
}

/// JSON text as the tree [`from_json_str`] reads a type from; a syntax error as it reports it.
pub(crate) fn json_text_tree(text: &str) -> Result<Tree, JsonError> {
    json_tree(text).map_err(JsonError::Syntax)
}

/// Reads `T` from the tree of JSON text ([`json_text_tree`]), as [`from_json_str`] does.
pub(crate) fn from_json_tree<T: de::DeserializeOwned>(tree: Tree) -> Result<T, JsonError> {
    T::deserialize(Doc::<Received>::new(tree)).map_err(JsonError::Shape)
}

/// Reads `T` from a JSON value, as `serde_json::from_value` does.
pub(crate) fn from_json_value<T: de::DeserializeOwned>(value: &Json) -> Result<T, Error> {
    T::deserialize(Doc::<Received>::new(json_value_tree(value)?))
}

/// Reads `T` from any other serde data format (a JS object through serde-wasm-bindgen), by
/// way of the tree; the error is a message.
pub(crate) fn from_deserializer<'de, T: de::DeserializeOwned, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, String> {
    let received = TreeVisitor {
        levels: RECEIVED_MAX_DEPTH,
    };
    let tree = received
        .deserialize(deserializer)
        .map_err(|error| error.to_string())?;
    T::deserialize(Doc::<Received>::new(tree)).map_err(|error| error.to_string())
}

// The readers of each format are kept out of line: inlined, they would be compiled again into
// every caller of the generic functions above.

#[inline(never)]
fn msgpack_tree(bytes: &[u8]) -> Result<Tree, String> {
    crate::storage::msgpack::read_tree(bytes)
}

#[inline(never)]
fn json_tree(text: &str) -> Result<Tree, Error> {
    serde_json::from_str(text)
}

#[inline(never)]
fn json_value_tree(value: &Json) -> Result<Tree, Error> {
    Tree::deserialize(value)
}

/// Turns an internally tagged document into the externally tagged form `{tag: rest}`: the
/// tag is the map entry named `tag` (JSON) or the first element of a list (MessagePack
/// writes structs as lists). A missing, repeated or non-string tag is an error, as it is for
/// serde's internally tagged reader.
pub(crate) fn untag(tree: Tree, tag: &'static str) -> Result<Tree, Error> {
    let (found, rest) = match tree {
        Tree::Map(entries) => {
            let mut found = None;
            let mut rest = Vec::with_capacity(entries.len());
            for (key, value) in entries {
                if matches!(&key, Tree::Text(name) if name == tag) {
                    if found.replace(value).is_some() {
                        return Err(de::Error::duplicate_field(tag));
                    }
                } else {
                    rest.push((key, value));
                }
            }
            (
                found.ok_or_else(|| de::Error::missing_field(tag))?,
                Tree::Map(rest),
            )
        }
        Tree::List(items) => {
            let mut items = items.into_iter();
            let found = items
                .next()
                .ok_or_else(|| de::Error::invalid_length(0, &"a tagged list"))?;
            (found, Tree::List(items.collect()))
        }
        other => return Err(other.invalid_type(&"an internally tagged map or list")),
    };
    match found {
        Tree::Text(_) => Ok(Tree::Map(vec![(found, rest)])),
        other => Err(other.invalid_type(&"a variant name")),
    }
}

/// Why JSON text did not read as the type asked for.
#[derive(Debug)]
pub(crate) enum JsonError {
    /// The text is not JSON.
    Syntax(Error),
    /// The JSON does not have the type's shape.
    Shape(Error),
}

impl fmt::Display for JsonError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax(error) | Self::Shape(error) => error.fmt(formatter),
        }
    }
}

/// How deeply lists and maps may nest in a document received through
/// [`from_deserializer`]: as deeply as serde_json lets JSON text nest (it refuses the 128th
/// level), so a command reads the same from a JS object as from its text (serde-wasm-bindgen
/// has no bound of its own, and a cyclic object would recurse until the stack ran out). Trees
/// read from stored records and from other trees are not bounded here: a stored value nests
/// deeper than the document it came from, and their formats bound their own depth.
const RECEIVED_MAX_DEPTH: usize = 127;

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        TreeVisitor { levels: usize::MAX }.deserialize(deserializer)
    }
}

/// Reads a tree in which `levels` more levels of lists and maps may open.
#[derive(Clone, Copy)]
struct TreeVisitor {
    levels: usize,
}

impl TreeVisitor {
    /// The reader of the items of a list or map being opened here.
    fn inner<E: de::Error>(self) -> Result<Self, E> {
        let levels = self.levels.checked_sub(1);
        levels
            .map(|levels| Self { levels })
            .ok_or_else(|| E::custom("recursion limit exceeded"))
    }
}

impl<'de> DeserializeSeed<'de> for TreeVisitor {
    type Value = Tree;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Tree, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Tree, E> {
        Ok(Tree::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Tree, E> {
        Ok(u64::try_from(value).map_or(Tree::Signed(value), Tree::Unsigned))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Tree, E> {
        Ok(Tree::Unsigned(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Tree, E> {
        Ok(Tree::Float(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Tree, E> {
        Ok(Tree::Text(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Tree, E> {
        Ok(Tree::Text(value))
    }

    fn visit_bytes<E>(self, value: &[u8]) -> Result<Tree, E> {
        Ok(Tree::Bytes(value.to_vec()))
    }

    fn visit_byte_buf<E>(self, value: Vec<u8>) -> Result<Tree, E> {
        Ok(Tree::Bytes(value))
    }

    fn visit_none<E>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }

    fn visit_unit<E>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Tree, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<Tree, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
        let inner = self.inner()?;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Tree::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let inner = self.inner()?;
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some(key) = map.next_key_seed(inner)? {
            entries.push((key, map.next_value_seed(inner)?));
        }
        Ok(Tree::Map(entries))
    }
}

impl Tree {
    fn unexpected(&self) -> Unexpected<'_> {
        match self {
            Self::Null => Unexpected::Unit,
            Self::Bool(value) => Unexpected::Bool(*value),
            Self::Unsigned(value) => Unexpected::Unsigned(*value),
            Self::Signed(value) => Unexpected::Signed(*value),
            Self::Float(value) => Unexpected::Float(*value),
            Self::Text(value) => Unexpected::Str(value),
            Self::Bytes(value) => Unexpected::Bytes(value),
            Self::List(_) => Unexpected::Seq,
            Self::Map(_) => Unexpected::Map,
            Self::Missing(_) => Unexpected::Other("a missing field"),
        }
    }

    fn invalid_type(&self, expected: &dyn Expected) -> Error {
        match self {
            Self::Missing(field) => de::Error::missing_field(field),
            _ => de::Error::invalid_type(self.unexpected(), expected),
        }
    }
}

fn visit_list<'de, L: Layout, V: Visitor<'de>>(
    items: Vec<Tree>,
    visitor: V,
) -> Result<V::Value, Error> {
    let len = items.len();
    let mut access = ListAccess::<L> {
        items: items.into_iter(),
        layout: PhantomData,
    };
    let value = visitor.visit_seq(&mut access)?;
    if access.items.len() == 0 {
        Ok(value)
    } else {
        Err(de::Error::invalid_length(len, &"fewer elements in array"))
    }
}

fn visit_map<'de, L: Layout, V: Visitor<'de>>(
    entries: Vec<(Tree, Tree)>,
    visitor: V,
) -> Result<V::Value, Error> {
    let len = entries.len();
    let mut access = EntryAccess::<L> {
        entries: entries.into_iter(),
        value: None,
        layout: PhantomData,
    };
    let value = visitor.visit_map(&mut access)?;
    if access.entries.len() == 0 {
        Ok(value)
    } else {
        Err(de::Error::invalid_length(len, &"fewer elements in map"))
    }
}

macro_rules! number {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                match self.0 {
                    Tree::Unsigned(value) => visitor.visit_u64(value),
                    Tree::Signed(value) => visitor.visit_i64(value),
                    Tree::Float(value) => visitor.visit_f64(value),
                    other => Err(other.invalid_type(&visitor)),
                }
            }
        )*
    };
}

impl<'de, L: Layout> Deserializer<'de> for Doc<L> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Tree::Null => visitor.visit_unit(),
            Tree::Bool(value) => visitor.visit_bool(value),
            Tree::Unsigned(value) => visitor.visit_u64(value),
            Tree::Signed(value) => visitor.visit_i64(value),
            Tree::Float(value) => visitor.visit_f64(value),
            Tree::Text(value) => visitor.visit_string(value),
            Tree::Bytes(value) => visitor.visit_byte_buf(value),
            Tree::List(items) => visit_list::<L, _>(items, visitor),
            Tree::Map(entries) => visit_map::<L, _>(entries, visitor),
            missing @ Tree::Missing(_) => Err(missing.invalid_type(&visitor)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Tree::Null | Tree::Missing(_) => visitor.visit_none(),
            other => visitor.visit_some(Self::new(other)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Tree::Text(variant) => visitor.visit_enum(Variant::<L> {
                variant,
                value: None,
                layout: PhantomData,
            }),
            Tree::Map(entries) => {
                let mut entries = entries.into_iter();
                match (entries.next(), entries.next()) {
                    (Some((Tree::Text(variant), value)), None) => {
                        visitor.visit_enum(Variant::<L> {
                            variant,
                            value: Some(value),
                            layout: PhantomData,
                        })
                    }
                    (Some((key, _)), None) => Err(key.invalid_type(&"a string")),
                    _ => Err(de::Error::invalid_value(
                        Unexpected::Map,
                        &"map with a single key",
                    )),
                }
            }
            other => Err(other.invalid_type(&"string or map")),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        // MessagePack writes a unit struct as an empty array.
        match self.0 {
            Tree::Null => visitor.visit_unit(),
            Tree::List(items) if items.is_empty() => visitor.visit_unit(),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    // A reader asking for one type gets that type or the error, as from a `serde_json::Value`,
    // rather than every kind of value `deserialize_any` may hand it (smaller code per type).

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Tree::Bool(value) => visitor.visit_bool(value),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    number! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    /// Binary strings too: a uuid reads from its text in JSON and its bytes in MessagePack.
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Tree::Text(value) => visitor.visit_string(value),
            Tree::Bytes(value) => visitor.visit_byte_buf(value),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Tree::Text(value) => visitor.visit_string(value),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_byte_buf(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Tree::Bytes(value) => visitor.visit_byte_buf(value),
            Tree::Text(value) => visitor.visit_string(value),
            Tree::List(items) => visit_list::<L, _>(items, visitor),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Tree::Null => visitor.visit_unit(),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Tree::List(items) => visit_list::<L, _>(items, visitor),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Tree::Map(entries) => visit_map::<L, _>(entries, visitor),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    /// A map of fields, or (where the layout allows) a list of them.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Tree::List(items) if L::LISTS => visit_list::<L, _>(items, visitor),
            Tree::Map(entries) if L::LISTS => {
                visit_list::<L, _>(fields_in_order(entries, fields)?, visitor)
            }
            Tree::Map(entries) => visit_map::<L, _>(entries, visitor),
            other => Err(other.invalid_type(&visitor)),
        }
    }
}

/// The values of a stored struct written as a map (the first log format, export lines) in
/// the order of its fields, so it is read as the list MessagePack writes: every stored type
/// then has one reader, its map half never compiled. As serde's map reader: keys the struct
/// does not name are ignored, a key given twice is refused, and a field the map lacks reads
/// as none if optional and is missing otherwise. Unlike it, a `#[serde(default)]` field the
/// map lacks is missing too: a field added to a type read from maps must be optional.
fn fields_in_order(
    mut entries: Vec<(Tree, Tree)>,
    fields: &'static [&'static str],
) -> Result<Vec<Tree>, Error> {
    let mut values = Vec::with_capacity(fields.len());
    for field in fields {
        let mut found = entries
            .iter_mut()
            .filter(|(key, _)| matches!(key, Tree::Text(name) if name == field));
        let value = match (found.next(), found.next()) {
            (Some((_, value)), None) => std::mem::replace(value, Tree::Null),
            (Some(_), Some(_)) => return Err(de::Error::duplicate_field(field)),
            (None, _) => Tree::Missing(field),
        };
        values.push(value);
    }
    Ok(values)
}

struct ListAccess<L> {
    items: std::vec::IntoIter<Tree>,
    layout: PhantomData<L>,
}

impl<'de, L: Layout> SeqAccess<'de> for ListAccess<L> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.items
            .next()
            .map(|item| seed.deserialize(Doc::<L>::new(item)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct EntryAccess<L> {
    entries: std::vec::IntoIter<(Tree, Tree)>,
    value: Option<Tree>,
    layout: PhantomData<L>,
}

impl<'de, L: Layout> MapAccess<'de> for EntryAccess<L> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(Doc::<L>::new(key)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(Doc::<L>::new(value)),
            None => Err(de::Error::custom("value is missing")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// An enum's variant name and, unless it was written as a bare name, its content.
struct Variant<L> {
    variant: String,
    value: Option<Tree>,
    layout: PhantomData<L>,
}

impl<'de, L: Layout> EnumAccess<'de> for Variant<L> {
    type Error = Error;
    type Variant = VariantContent<L>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, VariantContent<L>), Error> {
        let variant = seed.deserialize(Doc::<L>::new(Tree::Text(self.variant)))?;
        Ok((variant, VariantContent(self.value, PhantomData)))
    }
}

struct VariantContent<L>(Option<Tree>, PhantomData<L>);

impl<'de, L: Layout> VariantAccess<'de> for VariantContent<L> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.0 {
            Some(value) => Deserialize::deserialize(Doc::<L>::new(value)),
            None => Ok(()),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        match self.0 {
            Some(value) => seed.deserialize(Doc::<L>::new(value)),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"newtype variant",
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Some(Tree::List(items)) if items.is_empty() => visitor.visit_unit(),
            Some(Tree::List(items)) => visit_list::<L, _>(items, visitor),
            Some(other) => Err(other.invalid_type(&"tuple variant")),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"tuple variant",
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Some(Tree::Map(entries)) if L::LISTS => {
                visit_list::<L, _>(fields_in_order(entries, fields)?, visitor)
            }
            Some(Tree::Map(entries)) => visit_map::<L, _>(entries, visitor),
            Some(Tree::List(items)) if L::LISTS => visit_list::<L, _>(items, visitor),
            Some(other) => Err(other.invalid_type(&"struct variant")),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"struct variant",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProfileId;
    use serde::Serialize;

    /// A document received from a reader without a depth bound of its own (as a JS object
    /// through serde-wasm-bindgen is) nests exactly as deeply as JSON text may.
    #[test]
    fn received_documents_nest_as_deeply_as_json_text() {
        for levels in 120..=136 {
            let text = format!("{}{}", "[".repeat(levels), "]".repeat(levels));
            let mut value = Json::Array(Vec::new());
            for _ in 1..levels {
                value = Json::Array(vec![value]);
            }
            let from_text = serde_json::from_str::<Json>(&text).map_err(|error| error.to_string());
            let from_value = from_deserializer::<Tree, _>(&value);
            assert_eq!(from_value.is_ok(), from_text.is_ok(), "{levels} levels");
            if let (Err(value), Err(text)) = (from_value, from_text) {
                assert_eq!(value, "recursion limit exceeded");
                assert!(text.starts_with("recursion limit exceeded"), "{text}");
            }
        }
        let mut deep = Json::Null;
        for _ in 0..1_000 {
            deep = Json::Object(JsonMap::from_iter([("a".to_owned(), deep)]));
        }
        assert!(from_deserializer::<Tree, _>(&deep).is_err());
        assert!(
            Tree::deserialize(&deep).is_ok(),
            "stored trees are not bounded here"
        );
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        count: u32,
        name: String,
        #[serde(default)]
        ratio: Option<f64>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Unit;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Plain {
        Bare,
        Wrapped(Inner),
        Pair(i64, bool),
        Fields { id: ProfileId, unit: Unit },
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "op", rename_all = "snake_case")]
    enum Tagged {
        One { inner: Inner },
        Two { values: Vec<Plain> },
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Outer {
        plain: Vec<Plain>,
        tagged: Vec<Tagged>,
        id: ProfileId,
        json: Json,
        negative: i64,
    }

    fn sample() -> Outer {
        let inner = |count| Inner {
            count,
            name: format!("n{count}"),
            ratio: Some(0.5),
        };
        let id = ProfileId::random();
        Outer {
            plain: vec![
                Plain::Bare,
                Plain::Wrapped(inner(1)),
                Plain::Pair(-3, true),
                Plain::Fields { id, unit: Unit },
            ],
            tagged: vec![
                Tagged::One { inner: inner(2) },
                Tagged::Two {
                    values: vec![Plain::Bare, Plain::Wrapped(inner(3))],
                },
            ],
            id,
            json: serde_json::json!({"a": [1, -2, 2.5, null, "x"], "b": {"c": true}}),
            negative: -42,
        }
    }

    #[test]
    fn msgpack_reads_as_rmp_serde_reads_it() {
        let value = sample();
        let bytes = rmp_serde::to_vec(&value).unwrap();
        assert_eq!(from_msgpack::<Outer>(&bytes), Ok(value));
        let truncated = bytes.get(..bytes.len() - 3).unwrap();
        assert!(from_msgpack::<Outer>(truncated).is_err());
        assert!(rmp_serde::from_slice::<Outer>(truncated).is_err());
    }

    #[test]
    fn json_reads_as_serde_json_reads_it() {
        let value = sample();
        let text = serde_json::to_string(&value).unwrap();
        assert_eq!(from_json_str::<Outer>(&text).unwrap(), value);
        let json: Json = serde_json::from_str(&text).unwrap();
        assert_eq!(from_json_value::<Outer>(&json).unwrap(), value);
    }

    /// A stored struct without `deny_unknown_fields` or defaults, as export lines are.
    #[derive(Debug, PartialEq, Deserialize)]
    struct Record {
        id: ProfileId,
        count: u32,
        note: Option<String>,
        plain: Plain,
    }

    #[test]
    fn a_stored_struct_written_as_a_map_reads_as_serde_json_reads_it() {
        let id = ProfileId::random();
        let cases = [
            format!(r#"{{"id":"{id}","count":1,"note":"n","plain":"Bare"}}"#),
            format!(
                r#"{{"plain":{{"Fields":{{"unit":null,"id":"{id}"}}}},"count":2,"id":"{id}"}}"#
            ),
            format!(r#"{{"count":3,"extra":[1],"id":"{id}","plain":{{"Pair":[1,true]}}}}"#),
            format!(r#"{{"id":"{id}","note":null,"plain":"Bare"}}"#),
            format!(r#"{{"id":"{id}","count":"4","plain":"Bare"}}"#),
            format!(r#"{{"id":"{id}","count":5,"plain":{{"Fields":{{"id":"{id}"}}}}}}"#),
            format!(
                r#"{{"id":"{id}","count":6,"plain":{{"Fields":{{"id":"{id}","unit":null,"x":1}}}}}}"#
            ),
            format!(r#"{{"id":"{id}","count":7,"plain":{{"Wrapped":{{"count":1}}}}}}"#),
        ];
        for text in &cases {
            let json: Json = serde_json::from_str(text).unwrap();
            let expected =
                serde_json::from_value::<Record>(json).map_err(|error| error.to_string());
            let found = from_stored_json::<Record>(text).map_err(|error| error.to_string());
            assert_eq!(found, expected, "{text}");
        }
        let twice = format!(r#"{{"id":"{id}","count":1,"count":2,"plain":"Bare"}}"#);
        assert_eq!(
            from_stored_json::<Record>(&twice).unwrap_err().to_string(),
            "duplicate field `count`"
        );
    }

    #[test]
    fn json_of_another_shape_fails_with_serde_json_value_messages() {
        let cases = [
            r#"{"count": "1", "name": "x"}"#,
            r#"{"count": 1, "name": "x", "extra": 2}"#,
            r#"{"count": 1}"#,
            r#"{"count": -1, "name": "x"}"#,
            r#"{"count": 1.5, "name": "x"}"#,
            r#"{"count": null, "name": "x"}"#,
            r#""text""#,
        ];
        for text in cases {
            let json: Json = serde_json::from_str(text).unwrap();
            let expected = serde_json::from_value::<Inner>(json.clone())
                .unwrap_err()
                .to_string();
            assert_eq!(
                from_json_value::<Inner>(&json).unwrap_err().to_string(),
                expected,
                "{text}"
            );
            match from_json_str::<Inner>(text) {
                Err(JsonError::Shape(error)) => assert_eq!(error.to_string(), expected, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        // A received struct is an object (serde_json would read an array by position); a
        // stored one may be a list, as MessagePack writes it.
        let list = r#"[1, "x", null]"#;
        assert_eq!(
            from_json_str::<Inner>(list).unwrap_err().to_string(),
            "invalid type: sequence, expected struct Inner"
        );
        assert_eq!(
            from_stored_json::<Inner>(list).unwrap(),
            Inner {
                count: 1,
                name: "x".to_owned(),
                ratio: None
            }
        );
        assert_eq!(
            from_stored_json::<Inner>(r#"[1, "x", null, 4]"#)
                .unwrap_err()
                .to_string(),
            "invalid length 4, expected fewer elements in array"
        );
        for text in [
            r#"{"Wrapped": {"count": 1, "name": "x"}, "Bare": null}"#,
            r#"{"Unknown": 1}"#,
            r#""Wrapped""#,
            r#"{"Bare": 1}"#,
            r#"7"#,
        ] {
            let json: Json = serde_json::from_str(text).unwrap();
            assert_eq!(
                from_json_value::<Plain>(&json).unwrap_err().to_string(),
                serde_json::from_value::<Plain>(json)
                    .unwrap_err()
                    .to_string(),
                "{text}"
            );
        }
    }

    #[test]
    fn other_formats_read_through_the_tree_as_json_values_do() {
        let value = sample();
        let json = serde_json::to_value(&value).unwrap();
        assert_eq!(from_deserializer::<Outer, _>(json), Ok(value));
        let wrong = serde_json::json!({"count": "1", "name": "x"});
        assert_eq!(
            from_deserializer::<Inner, _>(wrong.clone()),
            Err(serde_json::from_value::<Inner>(wrong)
                .unwrap_err()
                .to_string())
        );
    }

    #[test]
    fn text_that_is_not_json_is_a_syntax_error_with_its_position() {
        let text = r#"{"count": 1,, "name": "x"}"#;
        match from_json_str::<Inner>(text) {
            Err(JsonError::Syntax(error)) => assert_eq!(
                error.to_string(),
                serde_json::from_str::<Json>(text).unwrap_err().to_string()
            ),
            other => panic!("{other:?}"),
        }
    }
}
