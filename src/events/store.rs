//! The event store: every profile's events in time order, addressed by the dense profile
//! index, with a page-by-cursor query.

use rustc_hash::FxHashMap as HashMap;
use std::collections::hash_map::Entry;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use super::{Cursor, EventQuery, Order, PropertyFilter};
use crate::model::{Event, EventId, ProfileIndex, Timestamp};

/// An event name as the store numbers it ([`EventStore::name_id`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameId(u32);

/// One stored event and its arrival number, which breaks ties between equal times. Its time
/// and name are kept beside the shared event, so that scans over a profile's events (time
/// order, event conditions of segments, trait windows) read one contiguous list instead of
/// following a pointer per event; the name as the store's number for it, so that the
/// element is 32 bytes and a profile's list moves little when an event is stored among
/// its earlier ones.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    /// The event, shared with the change that recorded it.
    pub event: Rc<Event>,
    /// The order of arrival, unique across the store.
    pub sequence: u64,
    happened: Timestamp,
    name: NameId,
    /// Bit `n` set: the event passes the filters of mark `n` ([`EventStore::mark`]).
    marks: u32,
}

impl StoredEvent {
    fn key(&self) -> Cursor {
        Cursor {
            happened: self.happened.as_micros(),
            sequence: self.sequence,
        }
    }

    /// When the event happened (the event's own `happened`).
    pub fn happened(&self) -> Timestamp {
        self.happened
    }

    /// The event's name.
    pub fn name(&self) -> &str {
        &self.event.name
    }

    /// Whether the event's name is the one [`EventStore::name_id`] numbered `name`: a
    /// comparison of numbers, not of text.
    pub fn is_named(&self, name: NameId) -> bool {
        self.name == name
    }

    /// Whether the event is named as mark `mark` says and passes its filters.
    pub fn has_mark(&self, mark: Mark) -> bool {
        self.marks & (1 << mark.0) != 0
    }

    /// The event's name as the store numbers it, with the store's copy of the text.
    pub fn name_key(&self) -> NameKey {
        NameKey {
            id: self.name,
            text: Rc::clone(&self.event.name),
        }
    }
}

/// An event name as the store numbers it, with the text it numbers.
#[derive(Clone, Debug)]
pub struct NameKey {
    id: NameId,
    text: Rc<str>,
}

/// What a consumer of events works out per event name (which traits fold an event, which
/// segments read it), kept by the name's number: worked out once per name, then found by
/// an index and a pointer comparison instead of comparing or hashing the text of every
/// event's name. An entry is trusted only for the very text it was worked out for, so
/// numbers from another store (after a reload) can never give another name's answer; the
/// whole cache is dropped when `generation` (that of what the answers were derived from)
/// changes.
#[derive(Clone, Debug, Default)]
pub struct PerName<T> {
    generation: Option<u64>,
    entries: Vec<Option<(Rc<str>, T)>>,
}

impl<T> PerName<T> {
    /// The answer for `key` at `generation`, worked out by `make` from the name's text
    /// unless it is known.
    #[inline]
    pub fn get_or_insert_with(
        &mut self,
        generation: u64,
        key: &NameKey,
        make: impl FnOnce(&str) -> T,
    ) -> &T {
        if self.generation != Some(generation) {
            self.entries.clear();
            self.generation = Some(generation);
        }
        let index = key.id.0 as usize;
        if self.entries.len() <= index {
            self.entries.resize_with(index + 1, || None);
        }
        let entry = &mut self.entries[index];
        if !matches!(entry, Some((text, _)) if Rc::ptr_eq(text, &key.text)) {
            *entry = None;
        }
        &entry
            .get_or_insert_with(|| (Rc::clone(&key.text), make(&key.text)))
            .1
    }
}

/// An event name and property filters whose outcome every stored event carries as a bit,
/// worked out once as the event is stored: scans over a profile's events (segments' event
/// conditions) then test a bit of the contiguous list instead of reading each event's
/// properties. At most [`Marks::MAX`] at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark(u8);

/// The marks in use, by bit.
#[derive(Clone, Debug, Default, PartialEq)]
struct Marks {
    lists: Vec<Option<(String, Vec<PropertyFilter>)>>,
}

impl Marks {
    const MAX: usize = 32;

    fn find(&self, name: &str, filters: &[PropertyFilter]) -> Option<Mark> {
        self.lists
            .iter()
            .position(|list| {
                list.as_ref()
                    .is_some_and(|(marked, with)| marked == name && with == filters)
            })
            .and_then(|bit| u8::try_from(bit).ok())
            .map(Mark)
    }

    /// The bits of the marks `event` passes. The filters of a mark do not depend on time
    /// ([`EventStore::mark`] refuses those), so any time will do.
    fn of(&self, event: &Event) -> u32 {
        let mut bits = 0;
        for (bit, list) in self.lists.iter().enumerate() {
            if let Some((name, filters)) = list {
                if name.as_str() == &*event.name
                    && filters
                        .iter()
                        .all(|filter| filter.matches(&event.properties, Timestamp::EPOCH))
                {
                    bits |= 1 << bit;
                }
            }
        }
        bits
    }
}

/// One page of an event query.
#[derive(Clone, Debug, PartialEq)]
pub struct EventPage<'a> {
    /// The events, in the query's order.
    pub events: Vec<&'a Event>,
    /// Where the next page starts, if there are more events.
    pub next: Option<Cursor>,
}

/// A generation number no store has had ([`EventStore::generation`],
/// [`crate::traits::TraitStore::generation`]); 0 is every empty store's.
pub(crate) fn next_generation() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, AtomicOrdering::Relaxed)
}

/// Where an event is stored: its profile, and its row in [`EventStore::rows`].
#[derive(Clone, Copy, Debug, PartialEq)]
struct Owner {
    slot: ProfileIndex,
    row: u32,
}

/// One event as a full scan over every event reads it: 16 bytes in a list of all events in
/// the order they were stored, so a scan reads memory front to back instead of following a
/// pointer to each profile's list.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Row {
    happened: Timestamp,
    /// The profile slot the event belongs to (changed by merges and unmerges).
    owner: u32,
    /// Its name's number.
    name: NameId,
}

/// One profile's events in key order (time happened, then arrival), after a gap. A long
/// list gets one when an event older than all of it arrives (a history recorded newest
/// first); while it has one, an event stored in its older half takes the gap's last entry
/// and moves the events before its place instead of every event after it, so such a
/// history moves little more than the new events. The gap's entries are copies of a live
/// event, never read.
#[derive(Clone, Debug, Default)]
struct EventList {
    events: Vec<StoredEvent>,
    /// How many entries at the front of `events` are gap.
    gap: usize,
}

impl EventList {
    /// The shortest list given a gap; shorter ones move their few later events.
    const GAP_FROM: usize = 64;

    #[inline]
    fn as_slice(&self) -> &[StoredEvent] {
        self.events.get(self.gap..).unwrap_or(&[])
    }

    fn as_mut_slice(&mut self) -> &mut [StoredEvent] {
        self.events.get_mut(self.gap..).unwrap_or(&mut [])
    }

    /// Puts `stored` after every event that happened at or before it (it arrived last);
    /// returns its index in [`EventList::as_slice`].
    fn insert(&mut self, stored: StoredEvent) -> usize {
        let live = self.as_slice();
        let len = live.len();
        let at = stored.happened;
        if live.last().is_none_or(|last| last.happened <= at) {
            self.events.push(stored);
            return len;
        }
        // Events of a live feed land near the end: scanned from there, in order, where a
        // bisection waits on one cache miss after another. A list being filled from its
        // front is bisected, since its new events land anywhere in it.
        let index = if live.first().is_some_and(|first| first.happened > at) {
            0
        } else if self.gap > 0 {
            live.partition_point(|existing| existing.happened <= at)
        } else {
            live.iter()
                .rposition(|existing| existing.happened <= at)
                .map_or(0, |before| before + 1)
        };
        // Events at random among many (a live feed's late arrivals) get no gap: opening one
        // copies the list, and their moves are short where they land near the end.
        if index >= len / 2 || (self.gap == 0 && (index > 0 || len < Self::GAP_FROM)) {
            self.events.insert(self.gap + index, stored);
            return index;
        }
        if self.gap == 0 {
            self.open_gap();
        }
        // The gap's last entry takes the new event, which then moves past the `index` events
        // before its place.
        let gap = self.gap;
        if let Some(place) = gap
            .checked_sub(1)
            .and_then(|last| self.events.get_mut(last..gap + index))
        {
            if let Some(entry) = place.first_mut() {
                *entry = stored;
                place.rotate_left(1);
                self.gap -= 1;
                return index;
            }
        }
        self.events.insert(gap + index, stored);
        index
    }

    /// Puts as much gap as there are events before the first (a live list is not empty here).
    fn open_gap(&mut self) {
        let Some(first) = self.as_slice().first().cloned() else {
            return;
        };
        let live = self.take();
        let mut events = Vec::with_capacity(2 * live.len() + 1);
        events.resize(live.len(), first);
        self.gap = events.len();
        events.extend(live);
        self.events = events;
    }

    fn push(&mut self, stored: StoredEvent) {
        self.events.push(stored);
    }

    /// The events, without the gap, leaving the list empty.
    fn take(&mut self) -> Vec<StoredEvent> {
        let mut events = std::mem::take(&mut self.events);
        events.drain(..self.gap.min(events.len()));
        self.gap = 0;
        events
    }

    /// Makes the list `events`, sorted into key order.
    fn set_sorted(&mut self, mut events: Vec<StoredEvent>) {
        events.sort_by_key(StoredEvent::key);
        self.events = events;
        self.gap = 0;
    }
}

/// Every profile's events, each profile's list sorted by (time happened, arrival), and the
/// same events as rows for scans over all of them.
#[derive(Clone, Debug, Default)]
pub struct EventStore {
    by_profile: Vec<EventList>,
    owners: HashMap<EventId, Owner>,
    rows: Vec<Row>,
    /// Every name an event stored had, once each, with its number. Events recorded live
    /// share these copies ([`EventStore::shared_name`]).
    names: HashMap<Rc<str>, NameId>,
    /// Changes whenever a name is first stored or the marks change ([`EventStore::generation`]).
    generation: u64,
    next_sequence: u64,
    marks: Marks,
}

impl EventStore {
    /// Stores an event of the profile at `slot` unless an event with its id is stored
    /// already, keeping the profile's list in time order. Returns the stored event, or
    /// `None` (and changes nothing) for a known id.
    pub fn insert(&mut self, slot: ProfileIndex, event: Rc<Event>) -> Option<&StoredEvent> {
        let row = u32::try_from(self.rows.len()).ok()?;
        match self.owners.entry(event.id) {
            Entry::Occupied(_) => None,
            Entry::Vacant(vacant) => {
                vacant.insert(Owner { slot, row });
                self.store(slot, event)
            }
        }
    }

    fn store(&mut self, slot: ProfileIndex, event: Rc<Event>) -> Option<&StoredEvent> {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        let stored = self.stored_event(slot, event, sequence);
        let list = self.list_mut(slot)?;
        let index = list.insert(stored);
        list.as_slice().get(index)
    }

    /// The list of the profile at `slot`, made (with those of the slots before it) if the
    /// store has none yet.
    fn list_mut(&mut self, slot: ProfileIndex) -> Option<&mut EventList> {
        let position = slot.slot();
        if self.by_profile.len() <= position {
            self.by_profile
                .resize_with(position + 1, EventList::default);
        }
        self.by_profile.get_mut(position)
    }

    /// The event as stored, its name the store's copy, and its row added. An event read
    /// back from storage brings its own copy of the name, which is swapped for the store's
    /// while nothing else holds the event.
    fn stored_event(
        &mut self,
        slot: ProfileIndex,
        mut event: Rc<Event>,
        sequence: u64,
    ) -> StoredEvent {
        let name = match self.names.get_key_value(&*event.name) {
            Some((shared, name)) => {
                if !Rc::ptr_eq(shared, &event.name) {
                    if let Some(own) = Rc::get_mut(&mut event) {
                        own.name = Rc::clone(shared);
                    }
                }
                *name
            }
            None => {
                let name = NameId(u32::try_from(self.names.len()).unwrap_or(u32::MAX));
                self.names.insert(Rc::clone(&event.name), name);
                self.generation = next_generation();
                name
            }
        };
        self.rows.push(Row {
            happened: event.happened,
            owner: slot.0,
            name,
        });
        StoredEvent {
            happened: event.happened,
            name,
            marks: self.marks.of(&event),
            event,
            sequence,
        }
    }

    /// The mark of events named `name` passing `filters`, made now if there is none (every
    /// stored event gets its bit): `None` when the filters depend on the time they are read
    /// at, or every mark is in use.
    pub fn mark(&mut self, name: &str, filters: &[PropertyFilter]) -> Option<Mark> {
        if let Some(mark) = self.marks.find(name, filters) {
            return Some(mark);
        }
        if filters
            .iter()
            .any(|filter| filter.comparison.depends_on_time())
        {
            return None;
        }
        let free = match self.marks.lists.iter().position(Option::is_none) {
            Some(free) => free,
            None if self.marks.lists.len() < Marks::MAX => {
                self.marks.lists.push(None);
                self.marks.lists.len() - 1
            }
            None => return None,
        };
        let bit = u8::try_from(free).ok()?;
        let mut only = Marks::default();
        only.lists.push(Some((name.to_owned(), filters.to_vec())));
        for stored in self.by_profile.iter_mut().flat_map(EventList::as_mut_slice) {
            let passes = only.of(&stored.event) != 0;
            stored.marks = (stored.marks & !(1 << bit)) | (u32::from(passes) << bit);
        }
        if let Some(list) = self.marks.lists.get_mut(free) {
            *list = Some((name.to_owned(), filters.to_vec()));
        }
        self.generation = next_generation();
        Some(Mark(bit))
    }

    /// The mark of events named `name` passing `filters`, if one is kept.
    pub fn marked(&self, name: &str, filters: &[PropertyFilter]) -> Option<Mark> {
        self.marks.find(name, filters)
    }

    /// Drops the marks `wanted` does not keep; their bits are free for new marks.
    pub fn keep_marks(&mut self, wanted: impl Fn(&str, &[PropertyFilter]) -> bool) {
        for list in &mut self.marks.lists {
            if list
                .as_ref()
                .is_some_and(|(name, filters)| !wanted(name, filters))
            {
                *list = None;
                self.generation = next_generation();
            }
        }
    }

    /// The arrival number the next stored event gets.
    pub fn next_sequence(&self) -> u64 {
        self.next_sequence
    }

    /// Every stored event with its arrival number, profile by profile, each profile's
    /// events in time order: what a snapshot keeps, in the order
    /// [`EventStore::restore`] takes them back.
    pub fn stored(&self) -> impl Iterator<Item = (ProfileIndex, &StoredEvent)> {
        self.by_profile
            .iter()
            .enumerate()
            .flat_map(|(position, list)| {
                let slot = ProfileIndex(u32::try_from(position).unwrap_or(u32::MAX));
                list.as_slice().iter().map(move |stored| (slot, stored))
            })
    }

    /// Puts back one event [`EventStore::stored`] listed, in that order, with its arrival
    /// number. Refuses an event out of order or one whose id is known.
    pub fn restore(
        &mut self,
        slot: ProfileIndex,
        event: Rc<Event>,
        sequence: u64,
    ) -> Result<(), String> {
        let position = slot.slot();
        if self.by_profile.len() > position + 1 {
            return Err(format!("events of profile slot {} out of order", slot.0));
        }
        let row = u32::try_from(self.rows.len()).map_err(|_| "too many events".to_owned())?;
        if self.owners.insert(event.id, Owner { slot, row }).is_some() {
            return Err(format!("event {} appears twice", event.id));
        }
        let stored = self.stored_event(slot, event, sequence);
        let next_sequence = self.next_sequence.max(stored.sequence.saturating_add(1));
        let list = self
            .list_mut(slot)
            .ok_or_else(|| "no list for the profile".to_owned())?;
        if list
            .as_slice()
            .last()
            .is_some_and(|last| last.key() >= stored.key())
        {
            return Err(format!("event {} is out of time order", stored.event.id));
        }
        list.push(stored);
        self.next_sequence = next_sequence;
        Ok(())
    }

    /// After [`EventStore::restore`]: numbers the next arrival `next`, which must follow
    /// every restored one.
    pub fn resume_numbering(&mut self, next: u64) -> Result<(), String> {
        if next < self.next_sequence {
            return Err(format!(
                "events are numbered up to {}, past {next}",
                self.next_sequence
            ));
        }
        self.next_sequence = next;
        Ok(())
    }

    /// Whether an event with this id is stored.
    pub fn contains(&self, id: EventId) -> bool {
        self.owners.contains_key(&id)
    }

    /// What the store's names and marks are at: a number that changes whenever either does,
    /// unique across every store of the process (a copy shares it until either changes). A
    /// reading of names and marks worked out at one generation holds while it lasts.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The store's number for an event name, if an event stored had it.
    pub fn name_id(&self, name: &str) -> Option<NameId> {
        self.names.get(name).copied()
    }

    /// The store's copy of an event name, if an event stored had it: a new event of a known
    /// name shares it instead of carrying its own.
    pub fn shared_name(&self, name: &str) -> Option<Rc<str>> {
        self.names
            .get_key_value(name)
            .map(|(shared, _)| Rc::clone(shared))
    }

    /// Whether at least one stored event, of any profile, has this name.
    pub fn has_name(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    /// For each profile slot below `len`, how many of its events are named `name` and
    /// happened after `since` (all of them without), counted up to 255. One pass over every
    /// stored event in storage order: a segment scan over many profiles reads this instead
    /// of each profile's list.
    pub fn count_named(&self, name: NameId, since: Option<Timestamp>, len: usize) -> Vec<u8> {
        let mut counts = vec![0u8; len];
        for row in &self.rows {
            if row.name == name && since.is_none_or(|since| row.happened > since) {
                if let Some(count) = counts.get_mut(row.owner as usize) {
                    *count = count.saturating_add(1);
                }
            }
        }
        counts
    }

    /// The event with this id and the profile it belongs to.
    pub fn get(&self, id: EventId) -> Option<(ProfileIndex, &Event)> {
        let slot = self.owners.get(&id)?.slot;
        let event = self
            .of_profile(slot)
            .iter()
            .find(|stored| stored.event.id == id)?;
        Some((slot, &*event.event))
    }

    /// The events of the profile at `slot`, oldest first.
    pub fn of_profile(&self, slot: ProfileIndex) -> &[StoredEvent] {
        self.by_profile
            .get(slot.slot())
            .map_or(&[], EventList::as_slice)
    }

    /// Every stored event, profile by profile.
    pub fn iter(&self) -> impl Iterator<Item = (ProfileIndex, &Event)> {
        self.by_profile
            .iter()
            .enumerate()
            .flat_map(|(position, list)| {
                let slot = ProfileIndex(u32::try_from(position).unwrap_or(u32::MAX));
                list.as_slice()
                    .iter()
                    .map(move |stored| (slot, &*stored.event))
            })
    }

    /// How many events are stored.
    pub fn len(&self) -> usize {
        self.owners.len()
    }

    /// Whether no event is stored.
    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }

    /// Records that `moved` now belong to `into`.
    fn move_owners(&mut self, moved: &[StoredEvent], into: ProfileIndex) {
        for stored in moved {
            if let Some(owner) = self.owners.get_mut(&stored.event.id) {
                owner.slot = into;
                if let Some(row) = self.rows.get_mut(owner.row as usize) {
                    row.owner = into.0;
                }
            }
        }
    }

    /// Moves every event of `from` to `into` (a merge), keeping time order.
    pub fn reassign(&mut self, from: ProfileIndex, into: ProfileIndex) {
        let Some(moved) = self.by_profile.get_mut(from.slot()).map(EventList::take) else {
            return;
        };
        self.add_moved(moved, into);
    }

    /// Adds events taken from another profile to the list of `into`, in key order.
    fn add_moved(&mut self, moved: Vec<StoredEvent>, into: ProfileIndex) {
        self.move_owners(&moved, into);
        if let Some(list) = self.list_mut(into) {
            let mut events = list.take();
            events.extend(moved);
            list.set_sorted(events);
        }
    }

    /// Moves the events of `from` that `belongs` picks to `into` (an unmerge giving a
    /// profile back the events it recorded), keeping both lists in time order. Returns how
    /// many moved.
    pub fn reclaim(
        &mut self,
        from: ProfileIndex,
        into: ProfileIndex,
        belongs: impl Fn(&Event) -> bool,
    ) -> usize {
        let Some(list) = self.by_profile.get_mut(from.slot()) else {
            return 0;
        };
        let (moved, kept): (Vec<StoredEvent>, Vec<StoredEvent>) = list
            .take()
            .into_iter()
            .partition(|stored| belongs(&stored.event));
        list.set_sorted(kept);
        let count = moved.len();
        if count > 0 {
            self.add_moved(moved, into);
        }
        count
    }

    /// One page of the events of the profile at `slot` that pass `query`, starting after
    /// its cursor.
    pub fn query(&self, slot: ProfileIndex, query: &EventQuery) -> EventPage<'_> {
        let list = self.of_profile(slot);
        let low = query.start.map_or(0, |start| {
            list.partition_point(|stored| stored.happened <= start)
        });
        let high = query.end.map_or(list.len(), |end| {
            list.partition_point(|stored| stored.happened < end)
        });
        let window = list.get(low..high.max(low)).unwrap_or(&[]);
        // The list is in key order, so the cursor is found by bisection: a page deep in a
        // long list costs what the page reads, not what comes before it.
        let window = match (query.order, query.cursor) {
            (_, None) => window,
            (Order::Asc, Some(cursor)) => {
                let after = window.partition_point(|stored| stored.key() <= cursor);
                window.get(after..).unwrap_or(&[])
            }
            (Order::Desc, Some(cursor)) => {
                let before = window.partition_point(|stored| stored.key() < cursor);
                window.get(..before).unwrap_or(&[])
            }
        };
        let passes = |stored: &&StoredEvent| query.matches_event(&stored.event);
        let mut picked: Vec<&StoredEvent> = match query.order {
            Order::Asc => window.iter().filter(passes).take(query.limit + 1).collect(),
            Order::Desc => window
                .iter()
                .rev()
                .filter(passes)
                .take(query.limit + 1)
                .collect(),
        };
        let more = picked.len() > query.limit;
        picked.truncate(query.limit);
        EventPage {
            next: if more {
                picked.last().map(|stored| stored.key())
            } else {
                None
            },
            events: picked.into_iter().map(|stored| &*stored.event).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EventContext, EventMode, ProfileId, Properties, Timestamp};

    #[test]
    fn per_name_answers_are_worked_out_once_per_name_and_generation() {
        let key = |id, text: &Rc<str>| NameKey {
            id: NameId(id),
            text: Rc::clone(text),
        };
        let visit: Rc<str> = Rc::from("visit");
        let buy: Rc<str> = Rc::from("buy");
        let mut cache = PerName::default();
        let mut made = Vec::new();
        let mut answer = |cache: &mut PerName<String>, generation, key: &NameKey| {
            cache
                .get_or_insert_with(generation, key, |name| {
                    made.push(name.to_owned());
                    name.to_uppercase()
                })
                .clone()
        };
        assert_eq!(answer(&mut cache, 1, &key(3, &visit)), "VISIT");
        assert_eq!(answer(&mut cache, 1, &key(3, &visit)), "VISIT");
        assert_eq!(answer(&mut cache, 1, &key(0, &buy)), "BUY");
        // The same number for another text (another store's numbering): worked out again.
        assert_eq!(answer(&mut cache, 1, &key(3, &buy)), "BUY");
        // An equal text in another copy is not trusted either.
        assert_eq!(answer(&mut cache, 1, &key(0, &Rc::from("buy"))), "BUY");
        // A new generation drops everything.
        assert_eq!(answer(&mut cache, 2, &key(0, &buy)), "BUY");
        assert_eq!(made, ["visit", "buy", "buy", "buy", "buy"]);
    }

    fn event(profile: ProfileId, name: &str, second: i64) -> Event {
        Event {
            id: EventId::random(),
            profile,
            name: name.into(),
            context: EventContext::Web,
            mode: EventMode::Active,
            happened: Timestamp::from_millis(second * 1_000),
            sent: None,
            received: Timestamp::EPOCH,
            properties: Properties::new(),
            schema_version: None,
        }
    }

    fn seconds(page: &EventPage<'_>) -> Vec<i64> {
        page.events
            .iter()
            .map(|event| event.happened.as_micros() / 1_000_000)
            .collect()
    }

    fn filters(json: serde_json::Value) -> Vec<PropertyFilter> {
        PropertyFilter::list_from_json(&json, "$").unwrap()
    }

    fn marked(store: &EventStore, mark: Mark) -> Vec<i64> {
        store
            .of_profile(ProfileIndex(0))
            .iter()
            .filter(|stored| stored.has_mark(mark))
            .map(|stored| stored.happened.as_micros() / 1_000_000)
            .collect()
    }

    #[test]
    fn marks_follow_their_filters_for_stored_and_later_events_and_bits_are_reused() {
        let mut store = EventStore::default();
        let profile = ProfileId::random();
        let buy = |second: i64, amount: f64| {
            let mut event = event(profile, "buy", second);
            event.properties =
                Properties::from([("amount".to_owned(), crate::model::Value::Number(amount))]);
            Rc::new(event)
        };
        store.insert(ProfileIndex(0), buy(1, 5.0));
        store.insert(ProfileIndex(0), buy(2, 50.0));
        store.insert(ProfileIndex(0), Rc::new(event(profile, "view", 3)));
        let big = filters(serde_json::json!([{"property": "amount", "op": "range", "min": 10}]));
        let small = filters(serde_json::json!([{"property": "amount", "op": "range", "max": 10}]));
        let first = store.mark("buy", &big).unwrap();
        assert_eq!(store.mark("buy", &big), Some(first));
        assert_eq!(marked(&store, first), [2]);
        store.insert(ProfileIndex(0), buy(4, 70.0));
        assert_eq!(marked(&store, first), [2, 4]);
        // Freed, its bit is taken by the next mark and set anew for every event.
        store.keep_marks(|_, _| false);
        assert_eq!(store.marked("buy", &big), None);
        let second = store.mark("buy", &small).unwrap();
        assert_eq!(second, first);
        assert_eq!(marked(&store, second), [1]);
        // Filters that change with time cannot be a bit; nor can a 33rd mark.
        let recent = filters(serde_json::json!([{"property": "at", "op": "within", "days": 3}]));
        assert_eq!(store.mark("buy", &recent), None);
        for min in 0..31 {
            let some =
                filters(serde_json::json!([{"property": "amount", "op": "range", "min": min}]));
            assert!(store.mark("buy", &some).is_some());
        }
        let last = filters(serde_json::json!([{"property": "amount", "op": "equals", "value": 1}]));
        assert_eq!(store.mark("buy", &last), None);
    }

    #[test]
    fn names_are_known_once_any_profile_records_them() {
        let mut store = EventStore::default();
        let (first, second) = (ProfileId::random(), ProfileId::random());
        assert!(!store.has_name("buy"));
        store.insert(ProfileIndex(0), Rc::new(event(first, "buy", 1)));
        store.insert(ProfileIndex(1), Rc::new(event(second, "view", 1)));
        store.reassign(ProfileIndex(1), ProfileIndex(0));
        assert!(store.has_name("buy") && store.has_name("view"));
        assert!(!store.has_name("Buy") && !store.has_name(""));
    }

    /// A profile's list moves its later elements when an event arrives out of time order:
    /// they stay 32 bytes.
    #[test]
    fn a_stored_event_is_32_bytes() {
        assert_eq!(std::mem::size_of::<StoredEvent>(), 32);
    }

    /// The pass over all rows counts what a walk over each profile's list would, after
    /// merges and unmerges moved events, with the window's start excluded.
    #[test]
    fn counts_by_name_follow_merges_and_unmerges() {
        let mut store = EventStore::default();
        let (first, second) = (ProfileId::random(), ProfileId::random());
        for (slot, profile, name, second_of) in [
            (0, first, "buy", 10),
            (1, second, "buy", 5),
            (0, first, "view", 15),
            (0, first, "buy", 30),
            (0, first, "buy", 20),
        ] {
            store.insert(ProfileIndex(slot), Rc::new(event(profile, name, second_of)));
        }
        let since = |second: i64| Some(Timestamp::from_millis(second * 1_000));
        let count = |store: &EventStore, name: &str, since, len| {
            store
                .name_id(name)
                .map_or(vec![0; len], |name| store.count_named(name, since, len))
        };
        assert_eq!(count(&store, "buy", None, 3), [3, 1, 0]);
        assert_eq!(count(&store, "buy", since(20), 3), [1, 0, 0]);
        assert_eq!(count(&store, "buy", since(4), 3), [3, 1, 0]);
        assert_eq!(count(&store, "view", None, 1), [1]);
        assert_eq!(count(&store, "nothing", None, 2), [0, 0]);
        store.reassign(ProfileIndex(1), ProfileIndex(0));
        assert_eq!(count(&store, "buy", None, 2), [4, 0]);
        store.reclaim(ProfileIndex(0), ProfileIndex(1), |event| {
            event.profile == second
        });
        assert_eq!(count(&store, "buy", None, 2), [3, 1]);
        for second_of in 0..300 {
            store.insert(
                ProfileIndex(2),
                Rc::new(event(first, "buy", 100 + second_of)),
            );
        }
        assert_eq!(count(&store, "buy", None, 3), [3, 1, 255]);
    }

    #[test]
    fn reclaim_moves_back_only_the_picked_events_in_time_order() {
        let mut store = EventStore::default();
        let (first, second) = (ProfileId::random(), ProfileId::random());
        for (slot, profile, second_of) in
            [(0, first, 1), (1, second, 2), (0, first, 3), (1, second, 4)]
        {
            store.insert(ProfileIndex(slot), Rc::new(event(profile, "a", second_of)));
        }
        store.reassign(ProfileIndex(1), ProfileIndex(0));
        assert_eq!(store.of_profile(ProfileIndex(0)).len(), 4);
        let moved = store.reclaim(ProfileIndex(0), ProfileIndex(1), |event| {
            event.profile == second
        });
        assert_eq!(moved, 2);
        let times = |slot| {
            store
                .of_profile(ProfileIndex(slot))
                .iter()
                .map(|stored| stored.happened.as_micros() / 1_000_000)
                .collect::<Vec<_>>()
        };
        assert_eq!((times(0), times(1)), (vec![1, 3], vec![2, 4]));
        for stored in store.of_profile(ProfileIndex(1)) {
            assert_eq!(
                store.get(stored.event.id).map(|(slot, _)| slot),
                Some(ProfileIndex(1))
            );
        }
    }

    #[test]
    fn a_known_id_is_not_stored_twice() {
        let mut store = EventStore::default();
        let first = Rc::new(event(ProfileId::random(), "a", 1));
        assert!(store.insert(ProfileIndex(0), Rc::clone(&first)).is_some());
        assert!(store.insert(ProfileIndex(1), first).is_none());
        assert_eq!(store.len(), 1);
        assert!(store.of_profile(ProfileIndex(1)).is_empty());
    }

    #[test]
    fn out_of_order_events_are_kept_in_time_order() {
        let mut store = EventStore::default();
        let profile = ProfileId::random();
        for second in [5, 1, 3] {
            store.insert(ProfileIndex(0), Rc::new(event(profile, "a", second)));
        }
        let mut query = EventQuery::for_profile(profile);
        query.order = Order::Asc;
        assert_eq!(seconds(&store.query(ProfileIndex(0), &query)), [1, 3, 5]);
    }

    /// (second, arrival) of the stored events of `slot`, in stored order.
    fn keys_of(store: &EventStore, slot: u32) -> Vec<(i64, u64)> {
        store
            .of_profile(ProfileIndex(slot))
            .iter()
            .map(|stored| (stored.happened.as_micros() / 1_000_000, stored.sequence))
            .collect()
    }

    #[test]
    fn a_history_stored_newest_first_fills_a_gap_before_the_first_event() {
        let mut store = EventStore::default();
        let profile = ProfileId::random();
        let mut ids = Vec::new();
        for second in (0..1_000).rev() {
            let event = event(profile, "view", second);
            ids.push(event.id);
            store.insert(ProfileIndex(0), Rc::new(event));
        }
        // The older half of a long list was stored into through its gap.
        assert!(store.by_profile[0].gap > 0);
        let seconds: Vec<i64> = keys_of(&store, 0).iter().map(|key| key.0).collect();
        assert_eq!(seconds, (0..1_000).collect::<Vec<_>>());
        // Stored in the newer half, between two events, and at the very front.
        for second in [700, 0] {
            store.insert(ProfileIndex(0), Rc::new(event(profile, "late", second)));
        }
        let keys = keys_of(&store, 0);
        assert_eq!(keys.len(), 1_002);
        assert!(keys.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(&keys[..2], [(0, 999), (0, 1_001)]);
        // Every reader sees the events only.
        for id in &ids {
            assert_eq!(
                store.get(*id).map(|(slot, event)| (slot, event.id)),
                Some((ProfileIndex(0), *id))
            );
        }
        assert_eq!(store.stored().count(), 1_002);
        assert_eq!(store.iter().count(), 1_002);
        let mark = store.mark("late", &[]).unwrap();
        assert_eq!(marked(&store, mark), [0, 700]);
        // Moved whole to another profile, the gap is left behind.
        store.reassign(ProfileIndex(0), ProfileIndex(1));
        assert_eq!(keys_of(&store, 1), keys);
        assert!(store.of_profile(ProfileIndex(0)).is_empty());
        assert_eq!(store.by_profile[1].gap, 0);
    }

    proptest::proptest! {
        #[test]
        fn every_profile_list_is_in_key_order_whatever_the_order_of_arrival(
            steps in proptest::collection::vec((0u32..3, 0i64..200, 0u8..40), 0..600)
        ) {
            let mut store = EventStore::default();
            let profile = ProfileId::random();
            // What each slot must hold: (second, arrival), sorted.
            let mut expected: Vec<Vec<(i64, u64)>> = vec![Vec::new(); 3];
            let mut arrival = 0;
            for (slot, second, what) in steps {
                match what {
                    0 => {
                        let into = (slot + 1) % 3;
                        store.reassign(ProfileIndex(slot), ProfileIndex(into));
                        let moved = std::mem::take(&mut expected[slot as usize]);
                        expected[into as usize].extend(moved);
                        expected[into as usize].sort_unstable();
                    }
                    1 => {
                        let into = (slot + 2) % 3;
                        let odd = |event: &Event| event.happened.as_micros() / 1_000_000 % 2 == 1;
                        store.reclaim(ProfileIndex(slot), ProfileIndex(into), odd);
                        let (moved, kept) = std::mem::take(&mut expected[slot as usize])
                            .into_iter()
                            .partition(|key: &(i64, u64)| key.0 % 2 == 1);
                        expected[slot as usize] = kept;
                        let moved: Vec<(i64, u64)> = moved;
                        expected[into as usize].extend(moved);
                        expected[into as usize].sort_unstable();
                    }
                    _ => {
                        // Mostly newest first, with ties and strays.
                        let second = if what < 30 { 10_000 - i64::from(arrival as u32) } else { second };
                        store.insert(ProfileIndex(slot), Rc::new(event(profile, "a", second)));
                        expected[slot as usize].push((second, arrival));
                        expected[slot as usize].sort_unstable();
                        arrival += 1;
                    }
                }
            }
            for slot in 0..3 {
                proptest::prop_assert_eq!(&keys_of(&store, slot), &expected[slot as usize]);
            }
            proptest::prop_assert_eq!(store.stored().count(), store.len());
        }
    }

    #[test]
    fn events_of_a_known_name_share_the_stores_copy_of_it() {
        let mut store = EventStore::default();
        let profile = ProfileId::random();
        for second in [1, 2] {
            store.insert(ProfileIndex(0), Rc::new(event(profile, "visit", second)));
        }
        // Held elsewhere too (as a change waiting to be stored is): left as it is.
        let held = Rc::new(event(profile, "visit", 3));
        store.insert(ProfileIndex(0), Rc::clone(&held));
        let names: Vec<&Rc<str>> = store
            .of_profile(ProfileIndex(0))
            .iter()
            .map(|stored| &stored.event.name)
            .collect();
        assert!(Rc::ptr_eq(names[0], names[1]));
        assert!(!Rc::ptr_eq(names[0], names[2]));
        let shared = store.shared_name("visit").unwrap();
        assert!(Rc::ptr_eq(&shared, names[0]));
        assert_eq!(store.shared_name("purchase"), None);
    }

    #[test]
    fn events_at_the_same_time_keep_their_arrival_order() {
        let mut store = EventStore::default();
        let profile = ProfileId::random();
        for (arrival, second) in [5, 1, 3, 3, 1, 0].into_iter().enumerate() {
            let name = format!("e{arrival}");
            store.insert(ProfileIndex(0), Rc::new(event(profile, &name, second)));
        }
        let stored: Vec<(i64, &str)> = store
            .of_profile(ProfileIndex(0))
            .iter()
            .map(|stored| (stored.happened.as_micros() / 1_000_000, &*stored.event.name))
            .collect();
        assert_eq!(
            stored,
            [
                (0, "e5"),
                (1, "e1"),
                (1, "e4"),
                (3, "e2"),
                (3, "e3"),
                (5, "e0")
            ]
        );
    }

    #[test]
    fn cursor_stays_valid_while_new_events_arrive() {
        let mut store = EventStore::default();
        let profile = ProfileId::random();
        for second in 1..=5 {
            store.insert(ProfileIndex(0), Rc::new(event(profile, "a", second)));
        }
        let mut query = EventQuery::for_profile(profile).with_limit(2).unwrap();
        let first = store.query(ProfileIndex(0), &query);
        assert_eq!(seconds(&first), [5, 4]);
        let cursor = first.next.unwrap();
        store.insert(ProfileIndex(0), Rc::new(event(profile, "a", 6)));
        store.insert(ProfileIndex(0), Rc::new(event(profile, "a", 0)));
        query.cursor = Some(cursor);
        let second = store.query(ProfileIndex(0), &query);
        assert_eq!(seconds(&second), [3, 2]);
        query.cursor = second.next;
        let third = store.query(ProfileIndex(0), &query);
        assert_eq!(seconds(&third), [1, 0]);
        assert_eq!(third.next, None);
    }

    #[test]
    fn query_filters_by_name_and_exclusive_window() {
        let mut store = EventStore::default();
        let profile = ProfileId::random();
        for (second, name) in [(1, "a"), (2, "b"), (3, "a"), (4, "a")] {
            store.insert(ProfileIndex(0), Rc::new(event(profile, name, second)));
        }
        let mut query = EventQuery::for_profile(profile)
            .within(
                Some(Timestamp::from_millis(1_000)),
                Some(Timestamp::from_millis(4_000)),
            )
            .unwrap();
        query.names = vec!["a".to_owned()];
        assert_eq!(seconds(&store.query(ProfileIndex(0), &query)), [3]);
    }
}
