use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A normalized identifier: its type (`email`, `phone`, `foreignId1`) and value.
///
/// Only [`IdentityConfig::normalize`](super::IdentityConfig::normalize) builds one from raw
/// input, so two identifiers that denote the same person compare equal. Type and value share
/// one shared allocation: the profile, the identity index and the change log hold the same
/// text, and cloning an identifier only counts a reference.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Identifier {
    /// The type followed directly by the value.
    text: Arc<str>,
    /// Where the type ends in `text`.
    kind_len: usize,
}

#[derive(Serialize, Deserialize)]
struct IdentifierParts<'a> {
    #[serde(borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    value: std::borrow::Cow<'a, str>,
}

impl Identifier {
    /// From a type and a value already normalized: by normalization, or as stored.
    pub(crate) fn normalized(kind: &str, value: &str) -> Self {
        // Joined on the stack when short (most are), so the shared text is the only
        // allocation.
        let mut joined = [0; 64];
        let len = kind.len() + value.len();
        if let Some(bytes) = joined.get_mut(..len) {
            let (head, tail) = bytes.split_at_mut(kind.len());
            head.copy_from_slice(kind.as_bytes());
            tail.copy_from_slice(value.as_bytes());
            if let Ok(text) = std::str::from_utf8(bytes) {
                return Self::from_text(text, kind.len());
            }
        }
        let mut text = String::with_capacity(len);
        text.push_str(kind);
        text.push_str(value);
        Self::from_text(&text, kind.len())
    }

    /// From a type and the bytes of a value as stored, or `None` when the value is not UTF-8:
    /// the text is checked once, joined, instead of the value and then the joined text.
    pub(crate) fn stored(kind: &str, value: &[u8]) -> Option<Self> {
        let mut joined = [0; 64];
        let len = kind.len() + value.len();
        if let Some(bytes) = joined.get_mut(..len) {
            let (head, tail) = bytes.split_at_mut(kind.len());
            head.copy_from_slice(kind.as_bytes());
            tail.copy_from_slice(value);
            return match std::str::from_utf8(bytes) {
                Ok(text) => Some(Self::from_text(text, kind.len())),
                Err(_) => None,
            };
        }
        Some(Self::normalized(kind, std::str::from_utf8(value).ok()?))
    }

    /// An identifier from its type followed by its value, the type `kind_len` bytes long.
    pub(super) fn from_text(text: &str, kind_len: usize) -> Self {
        Self {
            text: Arc::from(text),
            kind_len,
        }
    }

    /// The identifier type.
    pub fn kind(&self) -> &str {
        self.text.get(..self.kind_len).unwrap_or_default()
    }

    /// The normalized value.
    pub fn value(&self) -> &str {
        self.text.get(self.kind_len..).unwrap_or_default()
    }
}

impl Ord for Identifier {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.kind(), self.value()).cmp(&(other.kind(), other.value()))
    }
}

impl PartialOrd for Identifier {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identifier")
            .field("kind", &self.kind())
            .field("value", &self.value())
            .finish()
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.value())
    }
}

/// Serialized as `{"kind": …, "value": …}`, as the change log has always stored it.
impl Serialize for Identifier {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        IdentifierParts {
            kind: self.kind().into(),
            value: self.value().into(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Identifier {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let parts = IdentifierParts::deserialize(deserializer)?;
        Ok(Self::normalized(&parts.kind, &parts.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_identifiers_keep_their_text() {
        for value in [
            "",
            "a@b.c",
            &"x".repeat(59),
            &"x".repeat(60),
            &"é".repeat(40),
        ] {
            let identifier = Identifier::normalized("email", value);
            assert_eq!((identifier.kind(), identifier.value()), ("email", value));
        }
    }

    #[test]
    fn stored_identifiers_are_their_normalized_ones_or_none_when_not_utf8() {
        let long = "é".repeat(40);
        for value in ["a@b.c", "", "é", long.as_str()] {
            assert_eq!(
                Identifier::stored("email", value.as_bytes()),
                Some(Identifier::normalized("email", value))
            );
        }
        let mut long_bad = long.into_bytes();
        long_bad.push(0xff);
        for value in [&[0xff][..], &[0x80, b'a'], &[b'a', 0xc3], &long_bad] {
            assert_eq!(Identifier::stored("email", value), None, "{value:?}");
            assert_eq!(Identifier::stored("é", value), None, "{value:?}");
        }
    }

    #[test]
    fn identifier_keeps_type_and_value_apart() {
        let first = Identifier::normalized("ab", "c");
        let second = Identifier::normalized("a", "bc");
        assert_ne!(first, second);
        assert_eq!((first.kind(), first.value()), ("ab", "c"));
        assert!(second < first);
    }

    #[test]
    fn identifier_serializes_as_kind_and_value() {
        let identifier = Identifier::normalized("email", "a@b.c");
        let text = serde_json::to_string(&identifier).unwrap();
        assert_eq!(text, r#"{"kind":"email","value":"a@b.c"}"#);
        assert_eq!(
            serde_json::from_str::<Identifier>(&text).unwrap(),
            identifier
        );
    }
}
