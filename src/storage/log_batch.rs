//! The payload of a change-log batch frame of format 3: the changes of one write, written and
//! read by hand. A batch of upserts is mostly profile creations, identifiers and attribute
//! values, and one of events mostly recorded events; MessagePack spelled each as a list
//! with the operation's name, 16-byte ids and every source, key and name in full; here they
//! take a tag byte and references into tables the batch builds as it goes. Every other
//! operation is stored as MessagePack, as format 2 stores it.
//!
//! Layout: the change count (LEB128), then per change
//!
//! * the offset, as its zig-zag distance from the previous change's offset plus one (0 for
//!   consecutive changes; the first is measured from 0);
//! * the time, as its zig-zag distance in microseconds from the previous change's (from 0
//!   for the first);
//! * a tag byte and the operation's fields:
//!   - [`CREATED`]: the profile;
//!   - [`IDENTIFIER`]: the profile, the identifier type (a text reference) and its value
//!     (length and UTF-8 bytes);
//!   - [`ATTRIBUTE`]: the profile, the source and the key (text references), and the value in
//!     the packed form of attribute values (`crate::model::packed::append_value`);
//!   - [`EVENT`]: the event's profile, its id (16 bytes), its name (a text reference), its
//!     context and mode (a byte each), the zig-zag distances in microseconds from the
//!     change's time to its `happened` and `received`, a flags byte (1: the distance to
//!     `sent` follows; 2: the schema version follows, as a text reference), then the number
//!     of its properties and per property its name (a text reference) and value (packed);
//!   - [`OTHER`]: the length of the operation's MessagePack encoding and that encoding.
//!     Batches written before [`EVENT`] existed store recorded events this way, and still
//!     read.
//!
//! A profile is 0 when it is the one the previous change of the batch named, otherwise 1
//! and its id's 16 bytes. A text reference is the position of the text among those the
//! batch has named so far; the position one past the last is followed by a new text's length
//! and bytes. Reading checks every length and reference,
//! so a damaged payload is an error, never a panic (the frame's checksum catches it first).

use rustc_hash::FxHashMap;
use uuid::Uuid;

use std::rc::Rc;

use super::StorageError;
use crate::engine::{Change, Operation};
use crate::identity::Identifier;
use crate::leb128;
use crate::model::{
    packed, Event, EventContext, EventId, EventMode, ProfileId, SourceId, Timestamp,
};

const OTHER: u8 = 0;
const CREATED: u8 = 1;
const IDENTIFIER: u8 = 2;
const ATTRIBUTE: u8 = 3;
const EVENT: u8 = 4;

/// The [`EVENT`] flag: the distance to `sent` follows.
const SENT: u8 = 1;
/// The [`EVENT`] flag: the schema version follows.
const SCHEMA_VERSION: u8 = 2;

fn context_code(context: EventContext) -> u8 {
    match context {
        EventContext::Web => 0,
        EventContext::Mobile => 1,
        EventContext::Ecommerce => 2,
        EventContext::Retail => 3,
        EventContext::Social => 4,
        EventContext::DigitalCampaign => 5,
        EventContext::ContactCenter => 6,
        EventContext::Iot => 7,
        EventContext::Other => 8,
    }
}

fn context_of(code: u8) -> Option<EventContext> {
    Some(match code {
        0 => EventContext::Web,
        1 => EventContext::Mobile,
        2 => EventContext::Ecommerce,
        3 => EventContext::Retail,
        4 => EventContext::Social,
        5 => EventContext::DigitalCampaign,
        6 => EventContext::ContactCenter,
        7 => EventContext::Iot,
        8 => EventContext::Other,
        _ => return None,
    })
}

fn mode_code(mode: EventMode) -> u8 {
    match mode {
        EventMode::Active => 0,
        EventMode::Passive => 1,
    }
}

fn mode_of(code: u8) -> Option<EventMode> {
    match code {
        0 => Some(EventMode::Active),
        1 => Some(EventMode::Passive),
        _ => None,
    }
}

/// Texts a batch looks up by scanning its list rather than hashing, while it has no more.
const SCANNED_TEXTS: usize = 16;

/// Writes a batch, building its table of texts.
#[derive(Default)]
struct Writer<'a> {
    out: leb128::Writer,
    /// The profile the previous change named.
    last_profile: Option<ProfileId>,
    /// The texts named so far, in order.
    texts: Vec<&'a str>,
    /// Their positions, once there are more than [`SCANNED_TEXTS`].
    positions: FxHashMap<&'a str, u64>,
}

impl<'a> Writer<'a> {
    fn profile(&mut self, id: ProfileId) {
        if self.last_profile == Some(id) {
            self.out.bytes.push(0);
        } else {
            self.out.bytes.push(1);
            self.out.bytes.extend_from_slice(id.as_uuid().as_bytes());
            self.last_profile = Some(id);
        }
    }

    fn text_ref(&mut self, text: &'a str) {
        let found = if self.texts.len() <= SCANNED_TEXTS {
            self.texts
                .iter()
                .position(|listed| *listed == text)
                .map(|position| position as u64)
        } else {
            self.positions.get(text).copied()
        };
        if let Some(position) = found {
            return self.out.unsigned(position);
        }
        let position = self.texts.len() as u64;
        self.out.unsigned(position);
        self.out.bytes(text.as_bytes());
        self.texts.push(text);
        if self.texts.len() > SCANNED_TEXTS {
            if self.positions.is_empty() {
                self.positions.extend(
                    self.texts
                        .iter()
                        .enumerate()
                        .map(|(at, listed)| (*listed, at as u64)),
                );
            } else {
                self.positions.insert(text, position);
            }
        }
    }

    /// Writes `operation`, committed at `at` (microseconds).
    fn operation(&mut self, operation: &'a Operation, at: i64) -> Result<(), StorageError> {
        match operation {
            Operation::ProfileCreated { profile } => {
                self.out.bytes.push(CREATED);
                self.profile(*profile);
            }
            Operation::IdentifierAdded {
                profile,
                identifier,
            } => {
                self.out.bytes.push(IDENTIFIER);
                self.profile(*profile);
                self.text_ref(identifier.kind());
                self.out.bytes(identifier.value().as_bytes());
            }
            Operation::AttributeSet {
                profile,
                source,
                key,
                value,
            } => {
                self.out.bytes.push(ATTRIBUTE);
                self.profile(*profile);
                self.text_ref(source.as_str());
                self.text_ref(key);
                packed::append_value(&mut self.out.bytes, value);
            }
            Operation::EventRecorded { event } => self.event(event, at),
            other => {
                self.out.bytes.push(OTHER);
                let encoded = super::msgpack::to_vec(other)?;
                self.out.unsigned(encoded.len() as u64);
                self.out.bytes.extend_from_slice(&encoded);
            }
        }
        Ok(())
    }

    fn event(&mut self, event: &'a Event, at: i64) {
        self.out.bytes.push(EVENT);
        self.profile(event.profile);
        self.out
            .bytes
            .extend_from_slice(event.id.as_uuid().as_bytes());
        self.text_ref(&event.name);
        self.out.bytes.push(context_code(event.context));
        self.out.bytes.push(mode_code(event.mode));
        self.out.signed(event.happened.as_micros().wrapping_sub(at));
        self.out.signed(event.received.as_micros().wrapping_sub(at));
        let mut flags = 0;
        if event.sent.is_some() {
            flags |= SENT;
        }
        if event.schema_version.is_some() {
            flags |= SCHEMA_VERSION;
        }
        self.out.bytes.push(flags);
        if let Some(sent) = event.sent {
            self.out.signed(sent.as_micros().wrapping_sub(at));
        }
        if let Some(version) = &event.schema_version {
            self.text_ref(version);
        }
        self.out.unsigned(event.properties.len() as u64);
        for (name, value) in event.properties.iter() {
            self.text_ref(name);
            packed::append_value(&mut self.out.bytes, value);
        }
    }
}

/// Appends the payload of `changes` to `bytes`.
pub(super) fn encode_into(bytes: Vec<u8>, changes: &[Change]) -> Result<Vec<u8>, StorageError> {
    let mut writer = Writer {
        out: leb128::Writer { bytes },
        ..Writer::default()
    };
    writer.out.unsigned(changes.len() as u64);
    let (mut expected, mut previous_at) = (0u64, 0i64);
    for change in changes {
        writer
            .out
            .signed(change.offset.wrapping_sub(expected) as i64);
        expected = change.offset.wrapping_add(1);
        let at = change.at.as_micros();
        writer.out.signed(at.wrapping_sub(previous_at));
        previous_at = at;
        writer.operation(&change.operation, at)?;
    }
    Ok(writer.out.bytes)
}

/// Reads a batch, rebuilding its table of texts as they are named.
struct Reader<'a> {
    input: leb128::Reader<'a>,
    last_profile: Option<ProfileId>,
    /// The texts named so far, each with what was made of it once needed.
    texts: Vec<Listed<'a>>,
}

type Read<T> = Result<T, String>;

/// A text of a batch's table, and what was made of it, made once per batch and text.
struct Listed<'a> {
    text: &'a str,
    /// The source it names.
    source: Option<SourceId>,
    /// The event name it is: one copy shared by the batch's events.
    name: Option<Rc<str>>,
}

impl<'a> Reader<'a> {
    fn position(&mut self, listed: usize, what: &str) -> Read<Option<usize>> {
        let position = usize::try_from(self.input.unsigned()?).unwrap_or(usize::MAX);
        match position.cmp(&listed) {
            std::cmp::Ordering::Less => Ok(Some(position)),
            std::cmp::Ordering::Equal => Ok(None),
            std::cmp::Ordering::Greater => Err(format!("a change names an unlisted {what}")),
        }
    }

    fn profile(&mut self) -> Read<ProfileId> {
        match self.input.byte()? {
            0 => self
                .last_profile
                .ok_or_else(|| "a batch's first profile is not named".to_owned()),
            1 => {
                let bytes: [u8; 16] = self
                    .input
                    .take(16)?
                    .try_into()
                    .map_err(|_| "a profile id is truncated".to_owned())?;
                let id = ProfileId::from(Uuid::from_bytes(bytes));
                self.last_profile = Some(id);
                Ok(id)
            }
            _ => Err("a profile reference is damaged".to_owned()),
        }
    }

    /// The position of the text a reference names, listing a new one.
    fn text_position(&mut self) -> Read<usize> {
        match self.position(self.texts.len(), "text")? {
            Some(position) => Ok(position),
            None => {
                let text = self.input.text()?;
                self.texts.push(Listed {
                    text,
                    source: None,
                    name: None,
                });
                Ok(self.texts.len() - 1)
            }
        }
    }

    fn text_ref(&mut self) -> Read<&'a str> {
        let position = self.text_position()?;
        self.texts
            .get(position)
            .map(|listed| listed.text)
            .ok_or_else(|| "a change names an unlisted text".to_owned())
    }

    /// The event name a text reference names, made once per batch and text.
    fn event_name(&mut self) -> Read<Rc<str>> {
        let position = self.text_position()?;
        let listed = self
            .texts
            .get_mut(position)
            .ok_or_else(|| "a change names an unlisted text".to_owned())?;
        Ok(Rc::clone(
            listed.name.get_or_insert_with(|| Rc::from(listed.text)),
        ))
    }

    /// The source a text reference names, made once per batch and text.
    fn source(&mut self) -> Read<SourceId> {
        let position = self.text_position()?;
        let listed = self
            .texts
            .get_mut(position)
            .ok_or_else(|| "a change names an unlisted text".to_owned())?;
        Ok(listed
            .source
            .get_or_insert_with(|| SourceId::new(listed.text))
            .clone())
    }

    /// Reads an operation committed at `at` (microseconds).
    fn operation(&mut self, at: i64) -> Read<Operation> {
        Ok(match self.input.byte()? {
            CREATED => Operation::ProfileCreated {
                profile: self.profile()?,
            },
            IDENTIFIER => {
                let profile = self.profile()?;
                let kind = self.text_ref()?;
                let value = self.input.text()?;
                Operation::IdentifierAdded {
                    profile,
                    identifier: Identifier::normalized(kind, value),
                }
            }
            ATTRIBUTE => Operation::AttributeSet {
                profile: self.profile()?,
                source: self.source()?,
                key: self.text_ref()?.to_owned(),
                value: packed::read_value(&mut self.input.rest).ok_or("a value does not read")?,
            },
            EVENT => Operation::EventRecorded {
                event: Rc::new(self.event(at)?),
            },
            OTHER => crate::formats::from_msgpack(self.input.bytes()?)?,
            tag => return Err(format!("unknown change tag {tag}")),
        })
    }

    fn event(&mut self, at: i64) -> Read<Event> {
        let profile = self.profile()?;
        let id: [u8; 16] = self
            .input
            .take(16)?
            .try_into()
            .map_err(|_| "an event id is truncated".to_owned())?;
        let name = self.event_name()?;
        let context = context_of(self.input.byte()?).ok_or("an unknown event context")?;
        let mode = mode_of(self.input.byte()?).ok_or("an unknown event mode")?;
        let happened = Timestamp::from_micros(at.wrapping_add(self.input.signed()?));
        let received = Timestamp::from_micros(at.wrapping_add(self.input.signed()?));
        let flags = self.input.byte()?;
        if flags & !(SENT | SCHEMA_VERSION) != 0 {
            return Err("an event's flags are damaged".to_owned());
        }
        let sent = if flags & SENT == 0 {
            None
        } else {
            Some(Timestamp::from_micros(
                at.wrapping_add(self.input.signed()?),
            ))
        };
        let schema_version = if flags & SCHEMA_VERSION == 0 {
            None
        } else {
            Some(self.text_ref()?.to_owned())
        };
        // Each property takes at least two bytes: a damaged count cannot reserve much.
        let count = self.input.count()?;
        let mut properties = Vec::with_capacity(count / 2);
        for _ in 0..count {
            let name = self.text_ref()?.to_owned();
            let value = packed::read_value(&mut self.input.rest).ok_or("a value does not read")?;
            properties.push((name, value));
        }
        Ok(Event {
            id: EventId::from(Uuid::from_bytes(id)),
            profile,
            name,
            context,
            mode,
            happened,
            sent,
            received,
            properties: properties.into_iter().collect(),
            schema_version,
        })
    }
}

/// Reads the changes of a payload written by [`encode_into`].
pub(super) fn decode(payload: &[u8]) -> Result<Vec<Change>, StorageError> {
    let mut reader = Reader {
        input: leb128::Reader { rest: payload },
        last_profile: None,
        texts: Vec::new(),
    };
    read_changes(&mut reader).map_err(StorageError::Corrupt)
}

fn read_changes(reader: &mut Reader<'_>) -> Read<Vec<Change>> {
    let count = reader.input.count()?;
    // Each change takes at least three bytes: a damaged count cannot reserve much.
    let mut changes = Vec::with_capacity(count.min(reader.input.rest.len() / 3));
    let (mut expected, mut previous_at) = (0u64, 0i64);
    for _ in 0..count {
        let offset = expected.wrapping_add(reader.input.signed()? as u64);
        expected = offset.wrapping_add(1);
        previous_at = previous_at.wrapping_add(reader.input.signed()?);
        changes.push(Change {
            offset,
            at: Timestamp::from_micros(previous_at),
            operation: reader.operation(previous_at)?,
        });
    }
    if !reader.input.rest.is_empty() {
        return Err("a change-log batch has bytes past its last change".to_owned());
    }
    Ok(changes)
}
