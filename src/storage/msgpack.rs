//! MessagePack, the format of stored records outside the hand-written layouts (snapshot
//! chunks and manifests, change-log operations of other kinds than the common ones).
//!
//! The writer writes the bytes `rmp_serde::to_vec` writes for the same value (structs as
//! arrays, enums as `{variant: content}`, unit variants as their name, integers in their
//! smallest form, byte strings as `bin`). It is one writer type appending to one `Vec<u8>`,
//! so every record type's `Serialize` code is compiled once for it (`rmp_serde`'s encoder
//! compiles each type once per writer it is used with, and once more for the buffer it
//! writes a sequence of unknown length into). A sequence or map of unknown length is written
//! in place and its header inserted before it when it ends.
//!
//! The reader reads a MessagePack document into a [`Tree`] as `rmp_serde` reading one
//! through `deserialize_any` does (a `str` that is not UTF-8 becomes a byte string, bytes
//! after the document are ignored), with nesting bounded as it bounds it and every length
//! checked against the bytes there are. An extension, which no record uses, reads as the
//! list of its type and data.

use serde::ser::{self, Serialize};

use super::StorageError;
use crate::formats::Tree;

/// The failure of encoding one value (a `Serialize` implementation's own error).
#[derive(Debug)]
pub(super) struct EncodeError(String);

impl std::fmt::Display for EncodeError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for EncodeError {}

impl ser::Error for EncodeError {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        Self(message.to_string())
    }
}

impl From<EncodeError> for StorageError {
    fn from(error: EncodeError) -> Self {
        Self::Failed(format!("encoding failed: {}", error.0))
    }
}

type Result<T> = std::result::Result<T, EncodeError>;

/// Appends the MessagePack encoding of `value` to `bytes`.
pub(super) fn encode_into<T: Serialize + ?Sized>(bytes: &mut Vec<u8>, value: &T) -> Result<()> {
    value.serialize(&mut Writer { bytes })
}

/// The MessagePack encoding of `value`.
pub(super) fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(128);
    encode_into(&mut bytes, value)?;
    Ok(bytes)
}

struct Writer<'a> {
    bytes: &'a mut Vec<u8>,
}

const NIL: u8 = 0xc0;
const FALSE: u8 = 0xc2;
const TRUE: u8 = 0xc3;
const F32: u8 = 0xca;
const F64: u8 = 0xcb;
const U8: u8 = 0xcc;
const I8: u8 = 0xd0;
const BIN8: u8 = 0xc4;
const STR8: u8 = 0xd9;
const FIX_STR: u8 = 0xa0;
const FIX_ARRAY: u8 = 0x90;
const ARRAY16: u8 = 0xdc;
const FIX_MAP: u8 = 0x80;
const MAP16: u8 = 0xde;

/// The markers of one kind of header, for lengths that fit 8, 16 and 32 bits.
struct Sized3 {
    fix: Option<(u8, u32)>,
    wide: [u8; 3],
    /// Whether items come in key-value pairs (a map's length counts pairs).
    pairs: bool,
}

const STR: Sized3 = Sized3 {
    fix: Some((FIX_STR, 32)),
    wide: [STR8, STR8 + 1, STR8 + 2],
    pairs: false,
};
const BIN: Sized3 = Sized3 {
    fix: None,
    wide: [BIN8, BIN8 + 1, BIN8 + 2],
    pairs: false,
};
const ARRAY: Sized3 = Sized3 {
    fix: Some((FIX_ARRAY, 16)),
    wide: [0, ARRAY16, ARRAY16 + 1],
    pairs: false,
};
const MAP: Sized3 = Sized3 {
    fix: Some((FIX_MAP, 16)),
    wide: [0, MAP16, MAP16 + 1],
    pairs: true,
};

/// The header of a string, byte string, array or map of `len` items, as MessagePack writes
/// it in the fewest bytes (arrays and maps have no 8-bit form): its bytes and how many of
/// them are used.
fn header(kind: &Sized3, len: u32) -> ([u8; 5], usize) {
    if let (Some((fix, below)), Ok(small)) = (kind.fix, u8::try_from(len)) {
        if u32::from(small) < below {
            return ([fix | small, 0, 0, 0, 0], 1);
        }
    }
    if let (Ok(byte), true) = (u8::try_from(len), kind.wide[0] != 0) {
        return ([kind.wide[0], byte, 0, 0, 0], 2);
    }
    if let Ok(short) = u16::try_from(len) {
        let [high, low] = short.to_be_bytes();
        return ([kind.wide[1], high, low, 0, 0], 3);
    }
    let [first, second, third, fourth] = len.to_be_bytes();
    ([kind.wide[2], first, second, third, fourth], 5)
}

fn length(len: usize) -> Result<u32> {
    u32::try_from(len).map_err(|_| EncodeError("too long for MessagePack".to_owned()))
}

impl<'a> Writer<'a> {
    fn head(&mut self, kind: &Sized3, len: usize) -> Result<()> {
        let (bytes, used) = header(kind, length(len)?);
        self.bytes.extend(bytes.iter().take(used));
        Ok(())
    }

    fn data(&mut self, kind: &Sized3, data: &[u8]) -> Result<()> {
        self.head(kind, data.len())?;
        self.bytes.extend_from_slice(data);
        Ok(())
    }

    /// A marker followed by a big-endian number.
    fn number(&mut self, marker: u8, be_bytes: &[u8]) {
        self.bytes.push(marker);
        self.bytes.extend_from_slice(be_bytes);
    }

    fn unsigned(&mut self, value: u64) {
        if let Ok(small @ 0..=0x7f) = u8::try_from(value) {
            self.bytes.push(small);
        } else if let Ok(value) = u8::try_from(value) {
            self.number(U8, &[value]);
        } else if let Ok(value) = u16::try_from(value) {
            self.number(U8 + 1, &value.to_be_bytes());
        } else if let Ok(value) = u32::try_from(value) {
            self.number(U8 + 2, &value.to_be_bytes());
        } else {
            self.number(U8 + 3, &value.to_be_bytes());
        }
    }

    fn signed(&mut self, value: i64) {
        if let Ok(value) = u64::try_from(value) {
            self.unsigned(value);
        } else if let Ok(small @ -32..=-1) = i8::try_from(value) {
            self.bytes.extend_from_slice(&small.to_be_bytes());
        } else if let Ok(value) = i8::try_from(value) {
            self.number(I8, &value.to_be_bytes());
        } else if let Ok(value) = i16::try_from(value) {
            self.number(I8 + 1, &value.to_be_bytes());
        } else if let Ok(value) = i32::try_from(value) {
            self.number(I8 + 2, &value.to_be_bytes());
        } else {
            self.number(I8 + 3, &value.to_be_bytes());
        }
    }

    /// An enum's `{variant: …}` wrapper, before its content.
    fn variant(&mut self, variant: &str) -> Result<()> {
        self.bytes.push(FIX_MAP | 1);
        self.data(&STR, variant.as_bytes())
    }

    /// A sequence or map: its header now when its length is known, else when it ends.
    fn compound<'w>(
        &'w mut self,
        kind: &'static Sized3,
        len: Option<usize>,
    ) -> Result<Compound<'w, 'a>> {
        let pending = match len {
            Some(len) => {
                self.head(kind, len)?;
                None
            }
            None => Some((kind, self.bytes.len())),
        };
        Ok(Compound {
            writer: self,
            pending,
            count: 0,
        })
    }
}

struct Compound<'w, 'a> {
    writer: &'w mut Writer<'a>,
    /// For a length unknown at the start: the header's kind and where it goes.
    pending: Option<(&'static Sized3, usize)>,
    count: usize,
}

impl Compound<'_, '_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.count = self.count.saturating_add(1);
        value.serialize(&mut *self.writer)
    }

    /// A map's value, counted like its key (the header's count is halved).
    fn map_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }

    /// A struct field left out: nothing is written, as `rmp_serde` writes nothing.
    fn skip(&mut self, _key: &'static str) -> Result<()> {
        Ok(())
    }

    fn finish(self) -> Result<()> {
        if let Some((kind, at)) = self.pending {
            let items = if kind.pairs {
                self.count / 2
            } else {
                self.count
            };
            let (bytes, used) = header(kind, length(items)?);
            self.writer
                .bytes
                .splice(at..at, bytes[..used].iter().copied());
        }
        Ok(())
    }
}

impl<'w, 'a> ser::Serializer for &'w mut Writer<'a> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = Compound<'w, 'a>;
    type SerializeTuple = Compound<'w, 'a>;
    type SerializeTupleStruct = Compound<'w, 'a>;
    type SerializeTupleVariant = Compound<'w, 'a>;
    type SerializeMap = Compound<'w, 'a>;
    type SerializeStruct = Compound<'w, 'a>;
    type SerializeStructVariant = Compound<'w, 'a>;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_bool(self, value: bool) -> Result<()> {
        self.bytes.push(if value { TRUE } else { FALSE });
        Ok(())
    }
    fn serialize_i8(self, value: i8) -> Result<()> {
        self.signed(value.into());
        Ok(())
    }
    fn serialize_i16(self, value: i16) -> Result<()> {
        self.signed(value.into());
        Ok(())
    }
    fn serialize_i32(self, value: i32) -> Result<()> {
        self.signed(value.into());
        Ok(())
    }
    fn serialize_i64(self, value: i64) -> Result<()> {
        self.signed(value);
        Ok(())
    }
    fn serialize_i128(self, value: i128) -> Result<()> {
        self.data(&BIN, &value.to_be_bytes())
    }
    fn serialize_u8(self, value: u8) -> Result<()> {
        self.unsigned(value.into());
        Ok(())
    }
    fn serialize_u16(self, value: u16) -> Result<()> {
        self.unsigned(value.into());
        Ok(())
    }
    fn serialize_u32(self, value: u32) -> Result<()> {
        self.unsigned(value.into());
        Ok(())
    }
    fn serialize_u64(self, value: u64) -> Result<()> {
        self.unsigned(value);
        Ok(())
    }
    fn serialize_u128(self, value: u128) -> Result<()> {
        self.data(&BIN, &value.to_be_bytes())
    }
    fn serialize_f32(self, value: f32) -> Result<()> {
        self.number(F32, &value.to_be_bytes());
        Ok(())
    }
    fn serialize_f64(self, value: f64) -> Result<()> {
        self.number(F64, &value.to_be_bytes());
        Ok(())
    }
    fn serialize_char(self, value: char) -> Result<()> {
        self.data(&STR, value.encode_utf8(&mut [0; 4]).as_bytes())
    }
    fn serialize_str(self, value: &str) -> Result<()> {
        self.data(&STR, value.as_bytes())
    }
    fn serialize_bytes(self, value: &[u8]) -> Result<()> {
        self.data(&BIN, value)
    }
    fn serialize_none(self) -> Result<()> {
        self.bytes.push(NIL);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        self.bytes.push(NIL);
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        self.bytes.push(FIX_ARRAY);
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<()> {
        self.data(&STR, variant.as_bytes())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        self.variant(variant)?;
        value.serialize(self)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq> {
        self.compound(&ARRAY, len)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple> {
        self.compound(&ARRAY, Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        self.compound(&ARRAY, Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        self.variant(variant)?;
        self.compound(&ARRAY, Some(len))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap> {
        self.compound(&MAP, len)
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Self::SerializeStruct> {
        self.compound(&ARRAY, Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        self.variant(variant)?;
        self.compound(&ARRAY, Some(len))
    }
}

serialize_compound!(Compound<'_, '_>, EncodeError);

/// How deeply arrays and maps may nest, as `rmp_serde` bounds it (the stack a level takes
/// is small: 1,024 levels fit easily in wasm's 1 MiB).
const MAX_DEPTH: usize = 1024;

/// Reads the MessagePack document at the start of `bytes` into a tree; damaged or truncated
/// bytes are an error, never a panic.
pub(crate) fn read_tree(bytes: &[u8]) -> std::result::Result<Tree, String> {
    Reader { bytes }.value(MAX_DEPTH)
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> std::result::Result<&'a [u8], String> {
        if len > self.bytes.len() {
            return Err("MessagePack data ends early".to_owned());
        }
        let (taken, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> std::result::Result<[u8; N], String> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn byte(&mut self) -> std::result::Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }

    /// A big-endian length of `width` bytes (1, 2 or 4).
    fn length(&mut self, width: u8) -> std::result::Result<usize, String> {
        Ok(match width {
            1 => usize::from(self.byte()?),
            2 => usize::from(u16::from_be_bytes(self.array()?)),
            _ => u32::from_be_bytes(self.array()?) as usize,
        })
    }

    fn text(&mut self, len: usize) -> std::result::Result<Tree, String> {
        let bytes = self.take(len)?;
        Ok(match std::str::from_utf8(bytes) {
            Ok(text) => Tree::Text(text.to_owned()),
            Err(_) => Tree::Bytes(bytes.to_vec()),
        })
    }

    fn list(&mut self, len: usize, depth: usize) -> std::result::Result<Tree, String> {
        let depth = depth.checked_sub(1).ok_or("MessagePack nests too deeply")?;
        // Each item takes a byte at least: a length beyond the bytes left cannot be met.
        let mut items = Vec::with_capacity(len.min(self.bytes.len()));
        for _ in 0..len {
            items.push(self.value(depth)?);
        }
        Ok(Tree::List(items))
    }

    fn map(&mut self, len: usize, depth: usize) -> std::result::Result<Tree, String> {
        let depth = depth.checked_sub(1).ok_or("MessagePack nests too deeply")?;
        let mut entries = Vec::with_capacity(len.min(self.bytes.len() / 2));
        for _ in 0..len {
            let key = self.value(depth)?;
            entries.push((key, self.value(depth)?));
        }
        Ok(Tree::Map(entries))
    }

    /// An extension: its type and data, as a list of the two.
    fn extension(&mut self, len: usize) -> std::result::Result<Tree, String> {
        let kind = i8::from_be_bytes(self.array()?);
        let data = self.take(len)?.to_vec();
        Ok(Tree::List(vec![signed(kind.into()), Tree::Bytes(data)]))
    }

    fn value(&mut self, depth: usize) -> std::result::Result<Tree, String> {
        let marker = self.byte()?;
        Ok(match marker {
            0x00..=0x7f => Tree::Unsigned(marker.into()),
            0x80..=0x8f => return self.map(usize::from(marker & 0x0f), depth),
            0x90..=0x9f => return self.list(usize::from(marker & 0x0f), depth),
            0xa0..=0xbf => return self.text(usize::from(marker & 0x1f)),
            NIL => Tree::Null,
            FALSE => Tree::Bool(false),
            TRUE => Tree::Bool(true),
            0xc4..=0xc6 => {
                let len = self.length(1 << (marker - BIN8))?;
                Tree::Bytes(self.take(len)?.to_vec())
            }
            0xc7..=0xc9 => {
                let len = self.length(1 << (marker - 0xc7))?;
                return self.extension(len);
            }
            F32 => Tree::Float(f32::from_be_bytes(self.array()?).into()),
            F64 => Tree::Float(f64::from_be_bytes(self.array()?)),
            U8 => Tree::Unsigned(self.byte()?.into()),
            0xcd => Tree::Unsigned(u16::from_be_bytes(self.array()?).into()),
            0xce => Tree::Unsigned(u32::from_be_bytes(self.array()?).into()),
            0xcf => Tree::Unsigned(u64::from_be_bytes(self.array()?)),
            I8 => signed(i8::from_be_bytes(self.array()?).into()),
            0xd1 => signed(i16::from_be_bytes(self.array()?).into()),
            0xd2 => signed(i32::from_be_bytes(self.array()?).into()),
            0xd3 => signed(i64::from_be_bytes(self.array()?)),
            0xd4..=0xd8 => return self.extension(1 << (marker - 0xd4)),
            STR8..=0xdb => {
                let len = self.length(1 << (marker - STR8))?;
                return self.text(len);
            }
            0xdc | 0xdd => {
                let len = self.length(2 << (marker - ARRAY16))?;
                return self.list(len, depth);
            }
            0xde | 0xdf => {
                let len = self.length(2 << (marker - MAP16))?;
                return self.map(len, depth);
            }
            0xe0..=0xff => Tree::Signed(i8::from_be_bytes([marker]).into()),
            _ => return Err(format!("reserved MessagePack marker {marker:#04x}")),
        })
    }
}

/// An integer as the tree holds one: non-negative ones are unsigned.
fn signed(value: i64) -> Tree {
    u64::try_from(value).map_or(Tree::Signed(value), Tree::Unsigned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::{Serialize, Serializer};
    use std::collections::BTreeMap;

    /// A value of every shape serde has, to compare with `rmp_serde`'s bytes.
    #[derive(Debug, Clone, Serialize)]
    enum Shape {
        Unit,
        Newtype(i64),
        Tuple(u8, String),
        Struct { a: Option<u32>, b: Vec<bool> },
    }

    #[derive(Debug, Clone, Serialize)]
    struct Record {
        signed: Vec<i64>,
        unsigned: Vec<u64>,
        small: (i8, i16, i32, u16, u32),
        floats: (f32, f64),
        text: String,
        letter: char,
        #[serde(with = "serde_bytes_like")]
        bytes: Vec<u8>,
        map: BTreeMap<String, Option<String>>,
        shapes: Vec<Shape>,
        unit: (),
        nothing: Nothing,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        wide: (i128, u128),
    }

    #[derive(Debug, Clone, Serialize)]
    struct Nothing;

    mod serde_bytes_like {
        pub(super) fn serialize<S: serde::Serializer>(
            bytes: &[u8],
            s: S,
        ) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(bytes)
        }
    }

    fn shape() -> impl Strategy<Value = Shape> {
        prop_oneof![
            Just(Shape::Unit),
            any::<i64>().prop_map(Shape::Newtype),
            (any::<u8>(), ".{0,40}").prop_map(|(a, b)| Shape::Tuple(a, b)),
            (
                any::<Option<u32>>(),
                prop::collection::vec(any::<bool>(), 0..20)
            )
                .prop_map(|(a, b)| Shape::Struct { a, b }),
        ]
    }

    /// Integers near every boundary of MessagePack's forms, and any others.
    fn signed() -> impl Strategy<Value = i64> {
        prop_oneof![
            prop::sample::select(vec![
                i64::MIN,
                -2_147_483_649,
                -2_147_483_648,
                -32_769,
                -32_768,
                -129,
                -128,
                -33,
                -32,
                -1,
                0,
                127,
                128,
                255,
                256,
                65_535,
                65_536,
                4_294_967_295,
                4_294_967_296,
                i64::MAX,
            ]),
            any::<i64>(),
        ]
    }

    fn record() -> impl Strategy<Value = Record> {
        (
            prop::collection::vec(signed(), 0..40),
            prop::collection::vec(signed().prop_map(|v| v as u64), 0..20),
            any::<(i8, i16, i32, u16, u32)>(),
            any::<(f32, f64)>(),
            prop_oneof![".{0,40}", ".{30,300}"],
            any::<char>(),
            prop::collection::vec(any::<u8>(), 0..300),
            prop::collection::btree_map(".{0,8}", any::<Option<String>>(), 0..20),
            prop::collection::vec(shape(), 0..20),
            any::<Option<u8>>(),
            any::<(i128, u128)>(),
        )
            .prop_map(
                |(
                    signed,
                    unsigned,
                    small,
                    floats,
                    text,
                    letter,
                    bytes,
                    map,
                    shapes,
                    skipped,
                    wide,
                )| Record {
                    signed,
                    unsigned,
                    small,
                    floats,
                    text,
                    letter,
                    bytes,
                    map,
                    shapes,
                    unit: (),
                    nothing: Nothing,
                    skipped,
                    wide,
                },
            )
    }

    proptest! {
        #[test]
        fn writes_the_bytes_rmp_serde_writes(record in record()) {
            prop_assert_eq!(to_vec(&record).unwrap(), rmp_serde::to_vec(&record).unwrap());
        }
    }

    /// Sequences and maps whose length is known only at their end.
    struct Unsized(Vec<u32>, usize);

    impl Serialize for Unsized {
        fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
            use serde::ser::SerializeTuple;
            let mut outer = serializer.serialize_tuple(2)?;
            outer.serialize_element(&UnsizedSeq(&self.0))?;
            outer.serialize_element(&UnsizedMap(self.1))?;
            outer.end()
        }
    }

    struct UnsizedSeq<'a>(&'a [u32]);

    impl Serialize for UnsizedSeq<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
            serializer.collect_seq(self.0.iter().filter(|_| true))
        }
    }

    struct UnsizedMap(usize);

    impl Serialize for UnsizedMap {
        fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
            serializer.collect_map((0..self.0).filter(|_| true).map(|n| (n, n.to_string())))
        }
    }

    #[test]
    fn sequences_and_maps_of_unknown_length_get_the_header_of_their_count() {
        for len in [0, 1, 15, 16, 255, 256, 65_535, 65_536, 70_000] {
            let value = Unsized((0..len as u32).collect(), len);
            assert_eq!(
                to_vec(&value).unwrap(),
                rmp_serde::to_vec(&value).unwrap(),
                "{len} items"
            );
        }
    }

    proptest! {
        #[test]
        fn reads_the_tree_rmp_serde_reads(record in record()) {
            let bytes = rmp_serde::to_vec(&record).unwrap();
            let expected: Tree = rmp_serde::from_slice(&bytes).unwrap();
            prop_assert_eq!(read_tree(&bytes), Ok(expected));
            for end in 0..bytes.len() {
                prop_assert!(read_tree(&bytes[..end]).is_err(), "{} of {} bytes", end, bytes.len());
            }
        }

        #[test]
        fn any_bytes_read_without_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = read_tree(&bytes);
        }
    }

    #[test]
    fn odd_documents_read_as_rmp_serde_reads_them() {
        let documents: [&[u8]; 6] = [
            // A str that is not UTF-8, then bytes after the document.
            &[0xa2, 0xff, 0xfe, 0x01],
            // Integers written wider than they need, of either sign.
            &[0x93, 0xd0, 0x05, 0xd1, 0xff, 0x7f, 0xcd, 0x00, 0x01],
            // An f32, an empty bin and str of the widest forms, a map16.
            &[
                0x94, 0xca, 0x3f, 0xc0, 0x00, 0x00, 0xc6, 0, 0, 0, 0, 0xdb, 0, 0, 0, 0, 0xde, 0, 0,
            ],
            &[0xdd, 0, 0, 0, 1, 0xc0],
            &[0xdf, 0, 0, 0, 1, 0xc3, 0xc2],
            &[0xe0],
        ];
        for bytes in documents {
            let expected: Tree = rmp_serde::from_slice(bytes).unwrap();
            assert_eq!(read_tree(bytes), Ok(expected), "{bytes:02x?}");
        }
    }

    #[test]
    fn lengths_beyond_the_bytes_and_deep_nesting_are_errors() {
        // Unoptimized test builds take far more stack a level than release builds.
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(bounds_are_errors)
            .unwrap()
            .join()
            .unwrap();
    }

    fn bounds_are_errors() {
        assert!(read_tree(&[0xdd, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(read_tree(&[0xc6, 0xff, 0xff, 0xff, 0xff, 0x00]).is_err());
        assert!(read_tree(&[0xc1]).is_err());
        assert!(read_tree(&[]).is_err());
        let mut deep = vec![0x91; MAX_DEPTH];
        deep.push(0xc0);
        assert!(read_tree(&deep).is_ok());
        let mut deeper = vec![0x91; MAX_DEPTH + 1];
        deeper.push(0xc0);
        assert!(read_tree(&deeper).is_err());
        assert!(read_tree(&vec![0x91; 100_000]).is_err());
    }

    #[test]
    fn a_serialize_error_is_an_error() {
        struct Refuses;
        impl Serialize for Refuses {
            fn serialize<S: Serializer>(&self, _: S) -> std::result::Result<S::Ok, S::Error> {
                Err(ser::Error::custom("no"))
            }
        }
        let error = to_vec(&vec![Refuses]).unwrap_err();
        assert_eq!(
            StorageError::from(error).to_string(),
            StorageError::Failed("encoding failed: no".to_owned()).to_string()
        );
    }
}
