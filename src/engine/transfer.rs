//! Export of all data as NDJSON, and import of it back.
//!
//! The document is one JSON object per line, each with a `type` tag:
//!
//! ```text
//! {"type":"header","format":1,"profiles":2,"offset":7}
//! {"type":"profile","id":"…","identities":[{"kind":"email","value":"a@b.c"}],"attributes":{…},…}
//! ```
//!
//! The header comes first; later kinds (events, segments) add their own `type`. Profiles keep
//! everything: identifiers, attributes per source with the time each was written, tags,
//! consents, timestamps, version and aliases, so an import restores them exactly, and a
//! warehouse can load the same lines.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{Change, Engine, EngineError, Operation};
use crate::model::Profile;

/// The version of the export document this build writes and reads.
pub const EXPORT_FORMAT: u32 = 1;

/// How a profile line of an export starts.
const PROFILE_LINE_START: &str = r#"{"type":"profile","#;

/// One line of an export document.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line<'a> {
    Header {
        format: u32,
        profiles: u64,
        offset: u64,
    },
    Profile(std::borrow::Cow<'a, Profile>),
}

/// A [`Line`] as read: its tag is taken off the tree and the rest read as an externally
/// tagged [`LineRead`] (serde's internally tagged reader would compile the profile's reader
/// once more, for its own buffered form).
struct TaggedLine(LineRead);

/// [`Line`]'s variants as read once the `type` tag is taken off.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum LineRead {
    Header {
        format: u32,
        #[serde(rename = "profiles")]
        _profiles: u64,
        #[serde(rename = "offset")]
        _offset: u64,
    },
    Profile(Profile),
}

impl<'de> Deserialize<'de> for TaggedLine {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let tree = crate::formats::Tree::deserialize(deserializer)?;
        crate::formats::untag(tree, "type")
            .and_then(|tree| {
                LineRead::deserialize(crate::formats::Doc::<crate::formats::Stored>::new(tree))
            })
            .map(Self)
            .map_err(serde::de::Error::custom)
    }
}

/// Why an import document was refused. Nothing of a refused document is applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ImportError {
    /// A line is not JSON, or not an object of a known shape.
    #[error("line {line}: {reason}")]
    MalformedLine {
        /// The line number, from 1.
        line: u64,
        /// What was wrong.
        reason: String,
    },
    /// The header names an export format this build cannot read.
    #[error("line {line}: unsupported export format {format}")]
    UnsupportedFormat {
        /// The line number, from 1.
        line: u64,
        /// The format found.
        format: u32,
    },
    /// A profile's id or identifier is already taken, in the database or earlier in the
    /// document.
    #[error("line {line}: {reason}")]
    Conflict {
        /// The line number, from 1.
        line: u64,
        /// What collides.
        reason: String,
    },
}

impl ImportError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedLine { .. } => "import.malformed_line",
            Self::UnsupportedFormat { .. } => "import.unsupported_format",
            Self::Conflict { .. } => "import.conflict",
        }
    }

    /// The line of the document the error is about.
    pub fn line(&self) -> u64 {
        match self {
            Self::MalformedLine { line, .. }
            | Self::UnsupportedFormat { line, .. }
            | Self::Conflict { line, .. } => *line,
        }
    }
}

/// An import document being read, line by line, before anything is applied.
#[derive(Debug, Default)]
pub struct ImportBatch {
    profiles: Vec<(u64, Profile)>,
    lines: u64,
}

impl ImportBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the next lines of the document (whole lines; blank lines are skipped). On a
    /// malformed line the error names its number and the batch should be dropped.
    pub fn read_lines(&mut self, text: &str) -> Result<(), ImportError> {
        for raw in text.lines() {
            self.lines += 1;
            let line = self.lines;
            if raw.trim().is_empty() {
                continue;
            }
            // Lines as `export` writes them start with their tag: read the profile directly
            // (its `type` key is ignored) instead of through the tagged enum, which buffers
            // the whole line once more to find the tag.
            if raw.trim_start().starts_with(PROFILE_LINE_START) {
                let profile: Profile = crate::formats::from_stored_json(raw).map_err(|error| {
                    ImportError::MalformedLine {
                        line,
                        reason: error.to_string(),
                    }
                })?;
                self.profiles.push((line, profile));
                continue;
            }
            let TaggedLine(parsed) = crate::formats::from_stored_json(raw).map_err(|error| {
                ImportError::MalformedLine {
                    line,
                    reason: error.to_string(),
                }
            })?;
            match parsed {
                LineRead::Header { format, .. } if format != EXPORT_FORMAT => {
                    return Err(ImportError::UnsupportedFormat { line, format })
                }
                LineRead::Header { .. } => {}
                LineRead::Profile(profile) => self.profiles.push((line, profile)),
            }
        }
        Ok(())
    }

    /// How many profiles the batch holds.
    pub fn profile_count(&self) -> usize {
        self.profiles.len()
    }
}

impl Engine {
    /// The first line of an export: format, profile count and the log offset it reflects.
    pub fn export_header(&self) -> String {
        let header = Line::Header {
            format: EXPORT_FORMAT,
            profiles: self.profiles.len() as u64,
            offset: self.next_offset,
        };
        let mut text = serde_json::to_string(&header).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Export lines for up to `limit` profiles from position `start` in creation order; an
    /// empty string past the end.
    pub fn export_profiles(&self, start: usize, limit: usize) -> String {
        let mut text = String::new();
        let chosen = self.profiles().skip(start).take(limit);
        for profile in chosen {
            if let Ok(line) =
                serde_json::to_string(&Line::Profile(std::borrow::Cow::Borrowed(profile)))
            {
                text.push_str(&line);
                text.push('\n');
            }
        }
        text
    }

    /// Applies a whole import document: every profile is checked against the database and
    /// the rest of the document first, then all are added as `ProfileImported` changes.
    /// Resolves to the number of profiles imported; a refused document changes nothing.
    pub fn import(&mut self, batch: ImportBatch) -> Result<usize, EngineError> {
        let mut ids = std::collections::HashSet::new();
        let mut identifiers = std::collections::HashSet::new();
        for (line, profile) in &batch.profiles {
            let conflict = |reason: String| ImportError::Conflict {
                line: *line,
                reason,
            };
            if self.profile(profile.id).is_some() || !ids.insert(profile.id) {
                return Err(conflict(format!("profile {} exists already", profile.id)).into());
            }
            for alias in &profile.aliases {
                if self.profile(*alias).is_some() || !ids.insert(*alias) {
                    return Err(conflict(format!("profile id {alias} exists already")).into());
                }
            }
            for identifier in &profile.identities {
                if self.resolve(identifier).is_some() || !identifiers.insert(identifier) {
                    return Err(conflict(format!(
                        "identifier {identifier} belongs to another profile"
                    ))
                    .into());
                }
            }
        }
        let count = batch.profiles.len();
        let at = self.clock.now();
        for (_, profile) in batch.profiles {
            let change = Change {
                offset: self.next_offset,
                at,
                operation: Operation::ProfileImported {
                    record: Box::new(profile),
                },
            };
            self.apply(&change)?;
            self.next_offset += 1;
            self.unpersisted.push(change);
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;
    use crate::engine::{Command, SystemClock};
    use crate::identity::IdentityConfig;

    fn engine_with(emails: &[&str]) -> Engine {
        let mut engine = Engine::new(IdentityConfig::default(), Rc::new(SystemClock));
        for email in emails {
            let text = format!(
                r#"{{"upsertProfile":{{"identities":{{"email":"{email}"}},"attributes":{{"n":1}}}}}}"#
            );
            let command = Command::from_json(&text, &IdentityConfig::default()).unwrap();
            engine.execute(command).unwrap();
        }
        engine.take_unpersisted();
        engine
    }

    fn export(engine: &Engine) -> String {
        engine.export_header() + &engine.export_profiles(0, usize::MAX)
    }

    #[test]
    fn export_then_import_restores_every_profile_exactly() {
        let source = engine_with(&["a@b.c", "d@e.f"]);
        let document = export(&source);
        assert_eq!(document.lines().count(), 3);
        let mut batch = ImportBatch::new();
        batch.read_lines(&document).unwrap();
        let mut target = engine_with(&[]);
        assert_eq!(target.import(batch).unwrap(), 2);
        let before: Vec<_> = source.profiles().collect();
        let after: Vec<_> = target.profiles().collect();
        assert_eq!(after, before);
        assert_eq!(target.take_unpersisted().len(), 2);
    }

    #[test]
    fn malformed_line_is_refused_with_its_number() {
        let mut batch = ImportBatch::new();
        let error = batch
            .read_lines("{\"type\":\"header\",\"format\":1,\"profiles\":0,\"offset\":0}\n\n{nope\n")
            .unwrap_err();
        assert_eq!(error.code(), "import.malformed_line");
        assert_eq!(error.line(), 3);
        let error = ImportBatch::new()
            .read_lines("{\"type\":\"planet\"}")
            .unwrap_err();
        assert_eq!(error.line(), 1);
    }

    #[test]
    fn lines_need_a_known_type_and_their_fields_wherever_the_type_stands() {
        let header_last = r#"{"format":2,"profiles":0,"offset":0,"type":"header"}"#;
        let error = ImportBatch::new().read_lines(header_last).unwrap_err();
        assert_eq!(error, ImportError::UnsupportedFormat { line: 1, format: 2 });
        let profile = export(&engine_with(&["a@b.c"]))
            .lines()
            .nth(1)
            .unwrap()
            .replacen(r#""type":"profile","#, "", 1);
        let moved = format!(
            "{}{}",
            profile.trim_end_matches('}'),
            r#","type":"profile"}"#
        );
        let mut batch = ImportBatch::new();
        batch.read_lines(&moved).unwrap();
        assert_eq!(batch.profile_count(), 1);
        for (text, reason) in [
            (r#"{"type":"planet"}"#, "unknown variant `planet`"),
            (r#"{"format":1}"#, "missing field `type`"),
            (
                r#"{"type":"header","format":1}"#,
                "missing field `profiles`",
            ),
            (profile.as_str(), "missing field `type`"),
        ] {
            match ImportBatch::new().read_lines(text) {
                Err(ImportError::MalformedLine {
                    line: 1,
                    reason: found,
                }) => {
                    assert!(found.contains(reason), "{text}: {found}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn import_colliding_with_existing_data_changes_nothing() {
        let source = engine_with(&["new@b.c", "a@b.c"]);
        let mut batch = ImportBatch::new();
        batch.read_lines(&export(&source)).unwrap();
        let mut target = engine_with(&["a@b.c"]);
        let error = target.import(batch).unwrap_err();
        assert_eq!(error.code(), "import.conflict");
        assert_eq!(target.profile_count(), 1);
        assert_eq!(target.next_offset(), 3);
        assert!(target.take_unpersisted().is_empty());
    }
}
