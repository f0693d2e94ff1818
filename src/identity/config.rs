use std::cell::RefCell;

use serde::{Deserialize, Serialize};

use super::{Identifier, IdentityError};

/// How raw values of an identifier type are brought to one canonical form.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Normalization {
    /// Trimmed and lower-cased.
    Email,
    /// Reduced to its digits, keeping one leading `+`.
    Phone,
    /// Trimmed and lower-cased, for case-insensitive custom ids.
    Lowercase,
    /// Taken as given (case-sensitive), only trimmed of surrounding white space.
    #[default]
    Verbatim,
}

/// What happens when a profile would get more values of a type than its limit allows.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LimitBehaviour {
    /// The oldest value of that type is dropped to make room.
    #[default]
    DropOldest,
    /// The write is rejected.
    Reject,
}

/// What happens when the identifiers of one write belong to different profiles.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConflictPolicy {
    /// The write fails, naming both profiles, and nothing changes (Arrigoo).
    #[default]
    Reject,
    /// The profiles merge into one (Contacthub's MERGE policy).
    Merge,
}

/// One identifier type and its rules.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentifierType {
    /// The type's name as the APIs spell it (`email`, `phone`, `crm_user_id`).
    pub name: String,
    /// How values are normalized.
    #[serde(default)]
    pub normalization: Normalization,
    /// Whether a value identifies one person: only unique types are indexed and resolve
    /// profiles; values of other types are kept on profiles but may repeat across them.
    #[serde(default = "yes")]
    pub unique: bool,
    /// Whether `Ab1` and `ab1` are different values; `false` lower-cases after normalization.
    #[serde(default = "yes")]
    pub case_sensitive: bool,
    /// The most values of this type one profile may hold.
    #[serde(default)]
    pub limit: Option<u32>,
    /// What happens over the limit.
    #[serde(default)]
    pub on_limit: LimitBehaviour,
    /// Higher wins when types disagree about which profile a write belongs to.
    #[serde(default)]
    pub priority: i32,
}

fn yes() -> bool {
    true
}

/// Identity resolution as data: the identifier types and the conflict policy.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentityConfig {
    /// Declared identifier types; undeclared types are unique and verbatim.
    #[serde(default = "IdentityConfig::default_types")]
    pub types: Vec<IdentifierType>,
    /// What happens when one write's identifiers match two profiles.
    #[serde(default)]
    pub policy: ConflictPolicy,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            types: Self::default_types(),
            policy: ConflictPolicy::default(),
        }
    }
}

impl IdentityConfig {
    fn default_types() -> Vec<IdentifierType> {
        let declared = |name: &str, normalization| IdentifierType {
            name: name.to_owned(),
            normalization,
            unique: true,
            case_sensitive: true,
            limit: None,
            on_limit: LimitBehaviour::default(),
            priority: 0,
        };
        vec![
            declared("email", Normalization::Email),
            declared("phone", Normalization::Phone),
        ]
    }

    /// The declared rules of `kind`, if it is declared.
    pub fn identifier_type(&self, kind: &str) -> Option<&IdentifierType> {
        self.types.iter().find(|declared| declared.name == kind)
    }

    /// Whether values of `kind` are unique (undeclared types are).
    pub fn is_unique(&self, kind: &str) -> bool {
        // Most configurations declare unique types only: then no name is compared (this is
        // asked for every identifier a snapshot loads and every one a write indexes).
        self.types.iter().all(|declared| declared.unique)
            || self
                .identifier_type(kind)
                .is_none_or(|declared| declared.unique)
    }

    /// Whether every type is unique and unlimited (as undeclared types are): then the identity
    /// index alone says which profile holds an identifier, and planning a write never needs
    /// to search a profile's list of identifiers.
    pub fn resolves_by_index_alone(&self) -> bool {
        self.types
            .iter()
            .all(|declared| declared.unique && declared.limit.is_none())
    }

    /// The priority of `kind` (0 when undeclared).
    pub fn priority(&self, kind: &str) -> i32 {
        self.identifier_type(kind)
            .map_or(0, |declared| declared.priority)
    }

    /// The most values of `kind` one profile may hold, and what happens beyond.
    pub fn limit(&self, kind: &str) -> Option<(usize, LimitBehaviour)> {
        self.identifier_type(kind).and_then(|declared| {
            declared.limit.map(|limit| {
                (
                    usize::try_from(limit).unwrap_or(usize::MAX),
                    declared.on_limit,
                )
            })
        })
    }

    /// Brings a raw identifier to its canonical form, or says why it cannot be one.
    pub fn normalize(&self, kind: &str, raw: &str) -> Result<Identifier, IdentityError> {
        let kind = kind.trim();
        if kind.is_empty() {
            return Err(IdentityError::EmptyKind);
        }
        let declared = self.identifier_type(kind);
        let normalization = declared.map(|declared| declared.normalization);
        let case_sensitive = declared.is_none_or(|declared| declared.case_sensitive);
        let write = |text: &mut String| -> Result<Identifier, IdentityError> {
            let trimmed = raw.trim();
            text.push_str(kind);
            match normalization.unwrap_or_default() {
                Normalization::Email | Normalization::Lowercase => push_lowercase(text, trimmed),
                Normalization::Verbatim if case_sensitive => text.push_str(trimmed),
                Normalization::Verbatim => push_lowercase(text, trimmed),
                Normalization::Phone => push_phone(text, kind, raw)?,
            }
            if text.len() == kind.len() {
                return Err(IdentityError::Empty {
                    kind: kind.to_owned(),
                });
            }
            Ok(Identifier::from_text(text, kind.len()))
        };
        // Type and value are written into one reused buffer, then copied into the
        // identifier's shared text: one allocation per identifier.
        NORMALIZED
            .try_with(|buffer| {
                let mut text = buffer.try_borrow_mut().ok()?;
                text.clear();
                Some(write(&mut text))
            })
            .ok()
            .flatten()
            .unwrap_or_else(|| write(&mut String::new()))
    }
}

thread_local! {
    /// The buffer [`IdentityConfig::normalize`] writes into.
    static NORMALIZED: RefCell<String> = const { RefCell::new(String::new()) };
}

fn push_lowercase(text: &mut String, value: &str) {
    if value.is_ascii() {
        let start = text.len();
        text.push_str(value);
        if let Some(pushed) = text.get_mut(start..) {
            pushed.make_ascii_lowercase();
        }
    } else {
        text.push_str(&value.to_lowercase());
    }
}

/// Appends the digits of a phone number, keeping one leading `+`.
fn push_phone(text: &mut String, kind: &str, raw: &str) -> Result<(), IdentityError> {
    let trimmed = raw.trim();
    let start = text.len();
    if trimmed.starts_with('+') {
        text.push('+');
    }
    text.extend(trimmed.chars().filter(char::is_ascii_digit));
    let digits = text.len() - start - usize::from(trimmed.starts_with('+'));
    if digits > 0 {
        return Ok(());
    }
    Err(if trimmed.is_empty() {
        IdentityError::Empty {
            kind: kind.to_owned(),
        }
    } else {
        IdentityError::Invalid {
            kind: kind.to_owned(),
            value: raw.to_owned(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lower_cased() {
        let config = IdentityConfig::default();
        let identifier = config.normalize("email", "  Bib@Bob.DK ").unwrap();
        assert_eq!(
            (identifier.kind(), identifier.value()),
            ("email", "bib@bob.dk")
        );
    }

    #[test]
    fn phone_keeps_digits_and_one_leading_plus() {
        let config = IdentityConfig::default();
        assert_eq!(
            config
                .normalize("phone", "+45 (20) 30-40-50")
                .unwrap()
                .value(),
            "+4520304050"
        );
        assert_eq!(
            config.normalize("phone", "020 304 050").unwrap().value(),
            "020304050"
        );
        assert_eq!(
            config.normalize("phone", "call me"),
            Err(IdentityError::Invalid {
                kind: "phone".into(),
                value: "call me".into()
            })
        );
    }

    #[test]
    fn custom_types_are_case_sensitive() {
        let config = IdentityConfig::default();
        assert_eq!(
            config.normalize("foreignId1", " ByRe35 ").unwrap().value(),
            "ByRe35"
        );
    }

    #[test]
    fn case_insensitive_custom_types_are_lower_cased() {
        let config: IdentityConfig = serde_json::from_str(
            r#"{"types":[{"name":"crm","caseSensitive":false,"unique":false,"priority":3}]}"#,
        )
        .unwrap();
        assert_eq!(
            config.normalize("crm", " ByRe35 ").unwrap().value(),
            "byre35"
        );
        assert!(!config.is_unique("crm"));
        assert!(config.is_unique("undeclared"));
        assert_eq!(config.priority("crm"), 3);
    }

    #[test]
    fn empty_values_and_kinds_are_rejected() {
        let config = IdentityConfig::default();
        assert_eq!(
            config.normalize("email", "   "),
            Err(IdentityError::Empty {
                kind: "email".into()
            })
        );
        assert_eq!(config.normalize(" ", "x"), Err(IdentityError::EmptyKind));
    }

    #[test]
    fn identity_config_reads_declared_types_from_json() {
        let config: IdentityConfig = serde_json::from_str(
            r#"{"types":[{"name":"crm_user_id","normalization":"lowercase","limit":1,"onLimit":"reject"}],"policy":"merge"}"#,
        )
        .unwrap();
        assert_eq!(config.policy, ConflictPolicy::Merge);
        assert_eq!(
            config.identifier_type("crm_user_id").unwrap().on_limit,
            LimitBehaviour::Reject
        );
        assert_eq!(
            config.normalize("crm_user_id", "AbC").unwrap().value(),
            "abc"
        );
    }
}
