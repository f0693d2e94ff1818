//! A compact, positional binary encoding of serde values, for the bulk of a snapshot
//! (profile slots, events): no type markers and no field names, so decoding reads each field
//! straight into place instead of interpreting self-describing MessagePack.
//!
//! * integers: unsigned LEB128, signed zig-zag LEB128 (`src/leb128.rs`; `u8`/`i8` one
//!   byte); floats little endian; `bool` one byte (0 or 1);
//! * strings and bytes: length (LEB128) then the bytes;
//! * `Option`: 0, or 1 then the value; sequences and maps: their length as 4 bytes little
//!   endian (so one of unknown length is patched after it is written) then the elements;
//! * structs: their field count (LEB128) then the fields in order, so a field appended
//!   last with `#[serde(default)]` still reads older records, as with MessagePack arrays;
//!   tuples: the elements in order; enums: the variant index (LEB128) then its content.
//!
//! It is not self-describing: a type whose `Deserialize` needs `deserialize_any` (untagged
//! or internally tagged enums, `serde_json::Value`) cannot use it; such records stay
//! MessagePack. A value decodes only as the type it was encoded from; every read is bounds
//! checked, so damaged bytes are an error, never a panic.

use serde::de::{
    self, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, VariantAccess,
    Visitor,
};
use serde::ser::{self, Serialize};

use super::StorageError;
use crate::leb128;

/// The failure of encoding or decoding one value.
#[derive(Debug)]
pub struct CompactError(String);

impl std::fmt::Display for CompactError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for CompactError {}

impl ser::Error for CompactError {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        Self(message.to_string())
    }
}

impl de::Error for CompactError {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        Self(message.to_string())
    }
}

impl From<CompactError> for StorageError {
    fn from(error: CompactError) -> Self {
        Self::Corrupt(error.0)
    }
}

type Result<T> = std::result::Result<T, CompactError>;

fn error<T>(message: &str) -> Result<T> {
    Err(CompactError(message.to_owned()))
}

/// Appends the compact encoding of `value` to `bytes`.
pub fn encode_into<T: Serialize + ?Sized>(bytes: &mut Vec<u8>, value: &T) -> Result<()> {
    value.serialize(&mut Encoder { bytes })
}

/// Decodes a value of type `T` that takes all of `bytes`.
pub fn decode<'de, T: de::Deserialize<'de>>(bytes: &'de [u8]) -> Result<T> {
    let mut decoder = Decoder { bytes };
    let value = T::deserialize(&mut decoder)?;
    if decoder.bytes.is_empty() {
        Ok(value)
    } else {
        error("bytes left over after the value")
    }
}

struct Encoder<'a> {
    bytes: &'a mut Vec<u8>,
}

impl<'a> Encoder<'a> {
    fn unsigned(&mut self, value: u64) {
        leb128::write_unsigned(value, |byte| self.bytes.push(byte));
    }

    fn signed(&mut self, value: i64) {
        self.unsigned(leb128::zigzag(value));
    }

    fn text(&mut self, bytes: &[u8]) {
        self.unsigned(bytes.len() as u64);
        self.bytes.extend_from_slice(bytes);
    }

    /// Starts a sequence or map: a 4-byte count, patched by [`Compound::end`].
    fn counted(&mut self) -> Compound<'_, 'a> {
        let at = self.bytes.len();
        self.bytes.extend_from_slice(&[0; 4]);
        Compound {
            encoder: self,
            count_at: Some(at),
            count: 0,
        }
    }

    fn fixed(&mut self) -> Compound<'_, 'a> {
        Compound {
            encoder: self,
            count_at: None,
            count: 0,
        }
    }

    /// Starts a struct: its field count (LEB128), so a field appended later with
    /// `#[serde(default)]` still reads records written without it.
    fn fields(&mut self, len: usize) -> Compound<'_, 'a> {
        self.unsigned(len as u64);
        self.fixed()
    }
}

struct Compound<'e, 'a> {
    encoder: &'e mut Encoder<'a>,
    count_at: Option<usize>,
    count: u32,
}

impl Compound<'_, '_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.count = self
            .count
            .checked_add(1)
            .ok_or_else(|| CompactError("too many elements".to_owned()))?;
        value.serialize(&mut *self.encoder)
    }

    /// A map's value: not counted, the count being of entries.
    fn map_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        value.serialize(&mut *self.encoder)
    }

    fn skip(&mut self, _key: &'static str) -> Result<()> {
        error("a positional record cannot skip a field")
    }

    fn finish(self) -> Result<()> {
        if let Some(at) = self.count_at {
            match self.encoder.bytes.get_mut(at..at + 4) {
                Some(slot) => slot.copy_from_slice(&self.count.to_le_bytes()),
                None => return error("lost the place of a count"),
            }
        }
        Ok(())
    }
}

impl<'e, 'a> ser::Serializer for &'e mut Encoder<'a> {
    type Ok = ();
    type Error = CompactError;
    type SerializeSeq = Compound<'e, 'a>;
    type SerializeTuple = Compound<'e, 'a>;
    type SerializeTupleStruct = Compound<'e, 'a>;
    type SerializeTupleVariant = Compound<'e, 'a>;
    type SerializeMap = Compound<'e, 'a>;
    type SerializeStruct = Compound<'e, 'a>;
    type SerializeStructVariant = Compound<'e, 'a>;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_bool(self, value: bool) -> Result<()> {
        self.bytes.push(u8::from(value));
        Ok(())
    }
    fn serialize_i8(self, value: i8) -> Result<()> {
        self.bytes.extend_from_slice(&value.to_le_bytes());
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
    fn serialize_u8(self, value: u8) -> Result<()> {
        self.bytes.push(value);
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
    fn serialize_f32(self, value: f32) -> Result<()> {
        self.bytes.extend_from_slice(&value.to_le_bytes());
        Ok(())
    }
    fn serialize_f64(self, value: f64) -> Result<()> {
        self.bytes.extend_from_slice(&value.to_le_bytes());
        Ok(())
    }
    fn serialize_char(self, value: char) -> Result<()> {
        self.unsigned(u64::from(u32::from(value)));
        Ok(())
    }
    fn serialize_str(self, value: &str) -> Result<()> {
        self.text(value.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, value: &[u8]) -> Result<()> {
        self.text(value);
        Ok(())
    }
    fn serialize_none(self) -> Result<()> {
        self.bytes.push(0);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        self.bytes.push(1);
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
    ) -> Result<()> {
        self.unsigned(index.into());
        Ok(())
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
        index: u32,
        _variant: &'static str,
        value: &T,
    ) -> Result<()> {
        self.unsigned(index.into());
        value.serialize(self)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Ok(self.counted())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Ok(self.fixed())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Ok(self.fixed())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        self.unsigned(index.into());
        Ok(self.fixed())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Ok(self.counted())
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Self::SerializeStruct> {
        Ok(self.fields(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        self.unsigned(index.into());
        Ok(self.fields(len))
    }
}

serialize_compound!(Compound<'_, '_>, CompactError);

struct Decoder<'de> {
    bytes: &'de [u8],
}

impl<'de> Decoder<'de> {
    fn take(&mut self, count: usize) -> Result<&'de [u8]> {
        match self.bytes.split_at_checked(count) {
            Some((taken, rest)) => {
                self.bytes = rest;
                Ok(taken)
            }
            None => error("the record ends early"),
        }
    }

    fn byte(&mut self) -> Result<u8> {
        match self.bytes.split_first() {
            Some((first, rest)) => {
                self.bytes = rest;
                Ok(*first)
            }
            None => error("the record ends early"),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut array = [0; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    fn unsigned(&mut self) -> Result<u64> {
        leb128::read_unsigned(&mut self.bytes).or_else(|failure| match failure {
            leb128::ReadError::Short => error("the record ends early"),
            leb128::ReadError::TooLong => error("an integer is too long"),
        })
    }

    fn signed(&mut self) -> Result<i64> {
        self.unsigned().map(leb128::unzigzag)
    }

    fn narrow<T: TryFrom<u64>>(&mut self) -> Result<T> {
        T::try_from(self.unsigned()?)
            .map_err(|_| CompactError("an integer is out of range".to_owned()))
    }

    fn narrow_signed<T: TryFrom<i64>>(&mut self) -> Result<T> {
        T::try_from(self.signed()?)
            .map_err(|_| CompactError("an integer is out of range".to_owned()))
    }

    fn text(&mut self) -> Result<&'de [u8]> {
        let len = self.narrow::<usize>()?;
        self.take(len)
    }

    fn str(&mut self) -> Result<&'de str> {
        std::str::from_utf8(self.text()?)
            .map_err(|_| CompactError("a string is not UTF-8".to_owned()))
    }

    /// Reads a struct of at most `known` fields: a record with fewer (written before a field
    /// was appended) leaves the rest to their defaults; one with more is refused.
    fn fields<V: Visitor<'de>>(&mut self, known: usize, visitor: V) -> Result<V::Value> {
        let stored = self.narrow::<usize>()?;
        if stored > known {
            return error("a record has fields this build does not know");
        }
        let mut elements = Elements {
            decoder: self,
            remaining: stored,
        };
        let value = visitor.visit_seq(&mut elements)?;
        if elements.remaining == 0 {
            Ok(value)
        } else {
            error("a record has fields its type did not read")
        }
    }

    fn count(&mut self) -> Result<usize> {
        let count = u32::from_le_bytes(self.array::<4>()?);
        let count =
            usize::try_from(count).map_err(|_| CompactError("too many elements".to_owned()))?;
        // Every element takes at least one byte, except units; refuse absurd counts early.
        if count > self.bytes.len().saturating_mul(8).saturating_add(64) {
            return error("a count exceeds the record");
        }
        Ok(count)
    }
}

impl<'de> de::Deserializer<'de> for &mut Decoder<'de> {
    type Error = CompactError;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value> {
        error("the compact encoding is not self-describing")
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value> {
        error("the compact encoding cannot skip a value")
    }
    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.byte()? {
            0 => visitor.visit_bool(false),
            1 => visitor.visit_bool(true),
            _ => error("a boolean is neither 0 nor 1"),
        }
    }
    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_i8(i8::from_le_bytes([self.byte()?]))
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_i16(self.narrow_signed()?)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_i32(self.narrow_signed()?)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_i64(self.signed()?)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_u8(self.byte()?)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_u16(self.narrow()?)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_u32(self.narrow()?)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_u64(self.unsigned()?)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_f32(f32::from_le_bytes(self.array()?))
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_f64(f64::from_le_bytes(self.array()?))
    }
    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let code = self.narrow::<u32>()?;
        visitor.visit_char(
            char::from_u32(code).ok_or_else(|| CompactError("not a character".to_owned()))?,
        )
    }
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_str(self.str()?)
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_str(self.str()?)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_bytes(self.text()?)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_bytes(self.text()?)
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.byte()? {
            0 => visitor.visit_none(),
            1 => visitor.visit_some(self),
            _ => error("an option is neither 0 nor 1"),
        }
    }
    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_unit()
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let remaining = self.count()?;
        visitor.visit_seq(Elements {
            decoder: self,
            remaining,
        })
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        visitor.visit_seq(Elements {
            decoder: self,
            remaining: len,
        })
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_seq(Elements {
            decoder: self,
            remaining: len,
        })
    }
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let remaining = self.count()?;
        visitor.visit_map(Elements {
            decoder: self,
            remaining,
        })
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.fields(fields.len(), visitor)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_enum(self)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_u32(self.narrow()?)
    }
}

struct Elements<'a, 'de> {
    decoder: &'a mut Decoder<'de>,
    remaining: usize,
}

impl<'de> SeqAccess<'de> for Elements<'_, 'de> {
    type Error = CompactError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.remaining == 0 {
            return Ok(None);
        }
        self.remaining -= 1;
        seed.deserialize(&mut *self.decoder).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.remaining.min(4_096))
    }
}

impl<'de> MapAccess<'de> for Elements<'_, 'de> {
    type Error = CompactError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.remaining == 0 {
            return Ok(None);
        }
        self.remaining -= 1;
        seed.deserialize(&mut *self.decoder).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(&mut *self.decoder)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.remaining.min(4_096))
    }
}

impl<'de> EnumAccess<'de> for &mut Decoder<'de> {
    type Error = CompactError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self)> {
        let index = self.narrow::<u32>()?;
        let variant = seed.deserialize(index.into_deserializer())?;
        Ok((variant, self))
    }
}

impl<'de> VariantAccess<'de> for &mut Decoder<'de> {
    type Error = CompactError;

    fn unit_variant(self) -> Result<()> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        visitor.visit_seq(Elements {
            decoder: self,
            remaining: len,
        })
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.fields(fields.len(), visitor)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::{Profile, ProfileId, Timestamp, Value};

    #[test]
    fn profiles_round_trip_with_every_kind_of_value() {
        let mut profile = Profile::new(ProfileId::random(), Timestamp::from_millis(5));
        let values = [
            Value::String("å ø".to_owned()),
            Value::Integer(-(1 << 62)),
            Value::Number(0.1),
            Value::Boolean(true),
            Value::DateTime(Timestamp::from_millis(-7)),
            Value::Set(["a".to_owned(), "b".to_owned()].into()),
            Value::List(vec![Value::Integer(1), Value::Object(BTreeMap::new())]),
        ];
        for (index, value) in values.into_iter().enumerate() {
            profile.consents.insert(format!("c{index}"), value);
        }
        profile.tags.manual.insert("vip".to_owned());
        profile.aliases.push(ProfileId::random());
        let slots = vec![Some(profile), None];
        let mut bytes = Vec::new();
        encode_into(&mut bytes, &slots).unwrap();
        assert_eq!(decode::<Vec<Option<Profile>>>(&bytes).unwrap(), slots);
        assert!(decode::<Vec<Option<Profile>>>(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode::<Vec<Option<Profile>>>(&longer).is_err());
    }

    #[test]
    fn field_appended_with_a_default_reads_older_records() {
        #[derive(serde::Serialize)]
        struct Before {
            name: String,
        }
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct After {
            name: String,
            #[serde(default)]
            added: u32,
        }
        let mut bytes = Vec::new();
        encode_into(
            &mut bytes,
            &vec![Before {
                name: "a".to_owned(),
            }],
        )
        .unwrap();
        let after: Vec<After> = decode(&bytes).unwrap();
        assert_eq!(
            after,
            [After {
                name: "a".to_owned(),
                added: 0
            }]
        );
        #[derive(serde::Deserialize, Debug)]
        struct Fewer {}
        assert!(
            decode::<Vec<Fewer>>(&bytes).is_err(),
            "unknown fields are refused"
        );
    }

    #[test]
    fn integers_keep_their_extremes() {
        let numbers = (i64::MIN, i64::MAX, u64::MAX, -1i32, u16::MAX, i8::MIN);
        let mut bytes = Vec::new();
        encode_into(&mut bytes, &numbers).unwrap();
        assert_eq!(
            decode::<(i64, i64, u64, i32, u16, i8)>(&bytes).unwrap(),
            numbers
        );
    }
}
