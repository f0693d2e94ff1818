//! The segment rule tree, its JSON form, and its reference meaning on one profile.

use std::cell::Cell;
use std::collections::BTreeMap;

use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use crate::events::shape::Node;
use crate::events::{
    Comparison, EventStore, Mark, NameId, PropertyFilter, ShapeError, ShapeProblem, StoredEvent,
    COMPARISON_OPERATORS, MAX_DEPTH,
};
use crate::identity::Identifier;
use crate::model::{Profile, ProfileIndex, Timestamp, Value};

/// What a comparison reads from a profile.
#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Field {
    /// A typed attribute, its newest value across sources (`"attribute": "plan"`).
    Attribute(String),
    /// A computed trait (`"trait": "ltv"`).
    Trait(String),
    /// A consent by purpose (`"consent": "marketing"`).
    Consent(String),
    /// The set of identifier values of one type (`"identity": "email"`).
    Identity(String),
    /// The set of tags, automatic and manual (`"tags": true`).
    Tags,
}

impl Field {
    const SELECTORS: [&'static str; 5] = ["attribute", "trait", "consent", "identity", "tags"];

    /// The values of `kind` among the profile's identifiers.
    pub(crate) fn identity_values<'a>(
        profile: &'a Profile,
        kind: &'a str,
    ) -> impl Iterator<Item = &'a str> {
        profile
            .identities
            .iter()
            .filter(move |identifier: &&Identifier| identifier.kind() == kind)
            .map(Identifier::value)
    }

    /// The profile's tags, automatic then manual.
    pub(crate) fn tag_values(profile: &Profile) -> impl Iterator<Item = &str> {
        profile
            .tags
            .auto
            .iter()
            .chain(&profile.tags.manual)
            .map(String::as_str)
    }

    fn from_node(node: &Node<'_>) -> Result<(Self, &'static str), ShapeError> {
        let present: Vec<&'static str> = Self::SELECTORS
            .iter()
            .copied()
            .filter(|name| node.fields.contains_key(*name))
            .collect();
        let selector = match present.as_slice() {
            [one] => *one,
            [] => return Err(node.error("attribute", ShapeProblem::MissingField)),
            [_, second, ..] => {
                return Err(node.error(
                    second,
                    ShapeProblem::InvalidValue(
                        "only one of attribute, trait, consent, identity, tags may be given",
                    ),
                ))
            }
        };
        let field = match selector {
            "tags" => match node.optional_flag("tags")? {
                Some(true) => Self::Tags,
                _ => return Err(node.error("tags", ShapeProblem::InvalidValue("must be true"))),
            },
            "trait" => Self::Trait(node.text("trait")?.to_owned()),
            "consent" => Self::Consent(node.text("consent")?.to_owned()),
            "identity" => Self::Identity(node.text("identity")?.to_owned()),
            _ => Self::Attribute(node.text("attribute")?.to_owned()),
        };
        Ok((field, selector))
    }

    fn write_json(&self, into: &mut Map<String, Json>) {
        let (key, value) = match self {
            Self::Attribute(name) => ("attribute", json!(name)),
            Self::Trait(name) => ("trait", json!(name)),
            Self::Consent(purpose) => ("consent", json!(purpose)),
            Self::Identity(kind) => ("identity", json!(kind)),
            Self::Tags => ("tags", json!(true)),
        };
        into.insert(key.to_owned(), value);
    }
}

/// "Did (or did not) do event X at least N times within a window, with property filters."
#[derive(Clone, PartialEq, Debug)]
pub struct EventCondition {
    /// The reading last worked out, and the store generation it holds for.
    cache: ReadingCache,
    /// The event name.
    pub name: String,
    /// How many matching events are needed; at least 1.
    pub at_least: u32,
    /// Only events of the last this many seconds count.
    pub within_seconds: Option<i64>,
    /// Only events whose properties pass every filter count.
    pub filters: Vec<PropertyFilter>,
    /// `didNotEvent`: the condition holds when the count is not reached.
    pub negated: bool,
}

impl EventCondition {
    /// Whether the condition holds for a profile's events (oldest first) at `now`.
    pub fn holds(&self, events: &[StoredEvent], now: Timestamp) -> bool {
        self.holds_where(events, now, |stored| {
            stored.name() == self.name && self.passes_filters(stored, now)
        })
    }

    /// [`EventCondition::holds`] for events of `store`: names are compared by the store's
    /// copy ([`EventStore::name`]), not by their text, and filters the store
    /// [marks](EventStore::mark) are a bit of each stored event.
    pub fn holds_in(&self, store: &EventStore, slot: ProfileIndex, now: Timestamp) -> bool {
        self.holds_among(store.of_profile(slot), &self.reading(store), now)
    }

    /// How [`EventCondition::holds_in`] tells the events that count in `store`, worked out
    /// once for a scan over many profiles.
    pub(crate) fn reading(&self, store: &EventStore) -> Reading {
        let generation = store.generation();
        if let Some((at, reading)) = self.cache.0.get() {
            if at == generation {
                return reading;
            }
        }
        let reading = self.read_names_and_marks(store);
        self.cache.0.set(Some((generation, reading)));
        reading
    }

    fn read_names_and_marks(&self, store: &EventStore) -> Reading {
        match store.name_id(&self.name) {
            None => Reading::NoneStored,
            Some(name) if self.filters.is_empty() => Reading::Named(name),
            Some(name) => match store.marked(&self.name, &self.filters) {
                Some(mark) => Reading::Marked(mark),
                None => Reading::Filtered(name),
            },
        }
    }

    /// Whether the condition holds for `events`, read as `reading` says.
    pub(crate) fn holds_among(
        &self,
        events: &[StoredEvent],
        reading: &Reading,
        now: Timestamp,
    ) -> bool {
        match reading {
            Reading::NoneStored => self.holds_where(&[], now, |_| false),
            Reading::Named(name) => self.holds_where(events, now, |stored| stored.is_named(*name)),
            Reading::Marked(mark) => self.holds_where(events, now, |stored| stored.has_mark(*mark)),
            Reading::Filtered(name) => self.holds_where(events, now, |stored| {
                stored.is_named(*name) && self.passes_filters(stored, now)
            }),
        }
    }

    /// Whether the condition holds for a profile slot below `len`, for every slot at once,
    /// when one pass over all stored events can tell ([`EventStore::count_named`]): for a
    /// condition without filters that needs at most 255 events. `None` otherwise.
    pub(crate) fn holds_for_all(
        &self,
        store: &EventStore,
        reading: &Reading,
        now: Timestamp,
        len: usize,
    ) -> Option<impl Fn(usize) -> bool> {
        let Reading::Named(name) = reading else {
            return None;
        };
        let needed = u8::try_from(self.at_least).ok()?;
        let since = self.within_seconds.map(|window| now.plus_seconds(-window));
        let counts = store.count_named(*name, since, len);
        let negated = self.negated;
        Some(move |slot: usize| (counts.get(slot).copied().unwrap_or(0) >= needed) != negated)
    }

    fn passes_filters(&self, stored: &StoredEvent, now: Timestamp) -> bool {
        self.filters
            .iter()
            .all(|filter| filter.matches(&stored.event.properties, now))
    }

    fn holds_where(
        &self,
        events: &[StoredEvent],
        now: Timestamp,
        counts: impl Fn(&StoredEvent) -> bool,
    ) -> bool {
        let since = self.within_seconds.map(|window| now.plus_seconds(-window));
        let needed = self.at_least as usize;
        let mut count = 0;
        for stored in events.iter().rev() {
            if since.is_some_and(|since| stored.happened() <= since) {
                break;
            }
            if counts(stored) {
                count += 1;
                if count >= needed {
                    break;
                }
            }
        }
        (count >= needed) != self.negated
    }
}

/// The last [`Reading`] of an [`EventCondition`]: worked out once per store generation
/// ([`EventStore::generation`]) rather than by two lookups per profile evaluated as events
/// arrive. Not part of the condition's value: two conditions compare equal whatever they
/// cached, and it prints as nothing in particular.
#[derive(Clone, Default)]
struct ReadingCache(Cell<Option<(u64, Reading)>>);

impl PartialEq for ReadingCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for ReadingCache {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ReadingCache")
    }
}

/// How a scan tells the events an [`EventCondition`] counts.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Reading {
    /// No stored event has the condition's name.
    NoneStored,
    /// By the store's copy of the name; the condition has no filters.
    Named(NameId),
    /// By a bit of each event: the store marks the condition's name and filters.
    Marked(Mark),
    /// By the name's copy and the filters read from each event.
    Filtered(NameId),
}

/// A node of a segment rule.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(try_from = "Json", into = "Json")]
pub enum Rule {
    /// Every child holds (`{"op": "and", "rules": [...]}`).
    And(Vec<Rule>),
    /// At least one child holds (`{"op": "or", "rules": [...]}`).
    Or(Vec<Rule>),
    /// The child does not hold (`{"op": "not", "rule": {...}}`).
    Not(Box<Rule>),
    /// A field passes a comparison (`{"op": "equals", "attribute": "plan", "value": "gold"}`).
    Compare {
        /// What is read.
        field: Field,
        /// How it is tested; an absent value fails every test.
        comparison: Comparison,
    },
    /// An event condition (`{"op": "didEvent", "name": "purchase", "atLeast": 2,
    /// "withinDays": 30, "where": [...]}`, or `didNotEvent`).
    Event(EventCondition),
}

/// What a rule reads from a profile besides its own fields: computed trait values and
/// events. The reference evaluation gets them here; the columns get them from the stores.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    /// The profile.
    pub profile: &'a Profile,
    /// Its computed trait values by name.
    pub traits: &'a BTreeMap<String, Value>,
    /// Its events, oldest first.
    pub events: &'a [StoredEvent],
}

impl Rule {
    /// Reads a rule at `path` (`$.rule`), rejecting a bad node with its JSON path.
    pub fn from_json(json: &Json, path: &str) -> Result<Self, ShapeError> {
        Self::read(json, path.to_owned(), 0)
    }

    fn read(json: &Json, path: String, depth: usize) -> Result<Self, ShapeError> {
        if depth >= MAX_DEPTH {
            return Err(ShapeError {
                path,
                problem: ShapeProblem::TooDeep,
            });
        }
        let node = Node::object(json, path)?;
        let op = node.text("op")?;
        match op {
            "and" | "or" => {
                node.only(&["op", "rules"])?;
                let Json::Array(items) = node.required("rules")? else {
                    return Err(node.error("rules", ShapeProblem::WrongType("an array")));
                };
                if items.is_empty() {
                    return Err(
                        node.error("rules", ShapeProblem::InvalidValue("must not be empty"))
                    );
                }
                let rules = items
                    .iter()
                    .enumerate()
                    .map(|(position, item)| {
                        Self::read(
                            item,
                            node.field_path(&format!("rules[{position}]")),
                            depth + 1,
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if op == "and" {
                    Self::And(rules)
                } else {
                    Self::Or(rules)
                })
            }
            "not" => {
                node.only(&["op", "rule"])?;
                let child = Self::read(node.required("rule")?, node.field_path("rule"), depth + 1)?;
                Ok(Self::Not(Box::new(child)))
            }
            "didEvent" | "didNotEvent" => Self::read_event(&node, op == "didNotEvent"),
            "hasTag" => {
                node.only(&["op", "tag"])?;
                Ok(Self::Compare {
                    field: Field::Tags,
                    comparison: Comparison::Contains(node.text("tag")?.to_owned()),
                })
            }
            "hasIdentity" => {
                node.only(&["op", "kind", "value"])?;
                let field = Field::Identity(node.text("kind")?.to_owned());
                let comparison = match node.optional_text("value")? {
                    Some(value) => Comparison::Contains(value.to_owned()),
                    None => Comparison::Exists,
                };
                Ok(Self::Compare { field, comparison })
            }
            _ if COMPARISON_OPERATORS.contains(&op) => {
                let (field, selector) = Field::from_node(&node)?;
                let mut allowed = vec!["op", selector];
                allowed.extend_from_slice(Comparison::operand_fields(op));
                node.only(&allowed)?;
                let comparison = Comparison::from_node(op, &node)?
                    .ok_or_else(|| node.error("op", ShapeProblem::UnknownOperator))?;
                Ok(Self::Compare { field, comparison })
            }
            _ => Err(node.error("op", ShapeProblem::UnknownOperator)),
        }
    }

    fn read_event(node: &Node<'_>, negated: bool) -> Result<Self, ShapeError> {
        node.only(&[
            "op",
            "name",
            "atLeast",
            "withinDays",
            "withinSeconds",
            "where",
        ])?;
        let name = node.text("name")?.to_owned();
        let at_least = node.optional_integer("atLeast", 1, 1_000_000)?.unwrap_or(1);
        let seconds = node.optional_integer("withinSeconds", 1, 36_500 * 86_400)?;
        let days = node.optional_integer("withinDays", 1, 36_500)?;
        let within_seconds = match (seconds, days) {
            (Some(_), Some(_)) => {
                return Err(node.error(
                    "withinDays",
                    ShapeProblem::InvalidValue("cannot be given with withinSeconds"),
                ))
            }
            (Some(seconds), None) => Some(seconds),
            (None, Some(days)) => Some(days * 86_400),
            (None, None) => None,
        };
        let filters = match node.optional("where") {
            Some(list) => PropertyFilter::list_from_json(list, &node.field_path("where"))?,
            None => Vec::new(),
        };
        Ok(Self::Event(EventCondition {
            cache: ReadingCache::default(),
            name,
            at_least: u32::try_from(at_least).unwrap_or(1),
            within_seconds,
            filters,
            negated,
        }))
    }

    /// The JSON form [`Rule::from_json`] reads.
    pub fn to_json(&self) -> Json {
        match self {
            Self::And(rules) => {
                json!({"op": "and", "rules": rules.iter().map(Self::to_json).collect::<Vec<_>>()})
            }
            Self::Or(rules) => {
                json!({"op": "or", "rules": rules.iter().map(Self::to_json).collect::<Vec<_>>()})
            }
            Self::Not(rule) => json!({"op": "not", "rule": rule.to_json()}),
            Self::Compare { field, comparison } => {
                let mut fields = Map::new();
                comparison.write_json(&mut fields);
                field.write_json(&mut fields);
                Json::Object(fields)
            }
            Self::Event(condition) => {
                let mut fields = Map::new();
                let op = if condition.negated {
                    "didNotEvent"
                } else {
                    "didEvent"
                };
                fields.insert("op".into(), json!(op));
                fields.insert("name".into(), json!(condition.name));
                fields.insert("atLeast".into(), json!(condition.at_least));
                if let Some(seconds) = condition.within_seconds {
                    fields.insert("withinSeconds".into(), json!(seconds));
                }
                if !condition.filters.is_empty() {
                    fields.insert(
                        "where".into(),
                        PropertyFilter::list_to_json(&condition.filters),
                    );
                }
                Json::Object(fields)
            }
        }
    }

    /// Whether the profile satisfies the rule at `now`. This is the reference meaning: a
    /// plain walk over the profile, which the column scans and incremental membership are
    /// tested against.
    pub fn matches(&self, subject: &Subject<'_>, now: Timestamp) -> bool {
        match self {
            Self::And(rules) => rules.iter().all(|rule| rule.matches(subject, now)),
            Self::Or(rules) => rules.iter().any(|rule| rule.matches(subject, now)),
            Self::Not(rule) => !rule.matches(subject, now),
            Self::Event(condition) => condition.holds(subject.events, now),
            Self::Compare { field, comparison } => {
                let profile = subject.profile;
                match field {
                    Field::Attribute(key) => profile
                        .attribute(key)
                        .is_some_and(|value| comparison.matches(&value, now)),
                    Field::Trait(name) => subject
                        .traits
                        .get(name)
                        .is_some_and(|value| comparison.matches(value, now)),
                    Field::Consent(purpose) => profile
                        .consents
                        .get(purpose)
                        .is_some_and(|value| comparison.matches(value, now)),
                    Field::Identity(kind) => {
                        let mut values = Field::identity_values(profile, kind).peekable();
                        values.peek().is_some() && comparison.matches_set(values)
                    }
                    Field::Tags => {
                        let mut tags = Field::tag_values(profile).peekable();
                        tags.peek().is_some() && comparison.matches_set(tags)
                    }
                }
            }
        }
    }

    /// Every field the rule reads, each once, in tree order.
    pub fn fields(&self) -> Vec<Field> {
        let mut seen = FxHashSet::default();
        let mut fields = Vec::new();
        self.visit(&mut |rule| {
            if let Self::Compare { field, .. } = rule {
                if seen.insert(field) {
                    fields.push(field.clone());
                }
            }
        });
        fields
    }

    /// Every event name the rule's event conditions read, each once, in tree order.
    pub fn event_names(&self) -> Vec<String> {
        let mut seen = FxHashSet::default();
        let mut names = Vec::new();
        self.visit(&mut |rule| {
            if let Self::Event(condition) = rule {
                if seen.insert(condition.name.as_str()) {
                    names.push(condition.name.clone());
                }
            }
        });
        names
    }

    /// Every event condition of the rule, in tree order.
    pub fn event_conditions(&self) -> Vec<&EventCondition> {
        let mut conditions = Vec::new();
        self.visit(&mut |rule| {
            if let Self::Event(condition) = rule {
                conditions.push(condition);
            }
        });
        conditions
    }

    /// Whether the rule's outcome can change by time passing alone.
    pub fn depends_on_time(&self) -> bool {
        let mut timed = false;
        self.visit(&mut |rule| match rule {
            Self::Compare { comparison, .. } => timed |= comparison.depends_on_time(),
            Self::Event(condition) => {
                timed |= condition.within_seconds.is_some()
                    || condition
                        .filters
                        .iter()
                        .any(|filter| filter.comparison.depends_on_time());
            }
            Self::And(_) | Self::Or(_) | Self::Not(_) => {}
        });
        timed
    }

    fn visit<'a>(&'a self, visitor: &mut impl FnMut(&'a Self)) {
        visitor(self);
        match self {
            Self::And(rules) | Self::Or(rules) => {
                for rule in rules {
                    rule.visit(visitor);
                }
            }
            Self::Not(rule) => rule.visit(visitor),
            Self::Compare { .. } | Self::Event(_) => {}
        }
    }
}

impl TryFrom<Json> for Rule {
    type Error = ShapeError;

    fn try_from(json: Json) -> Result<Self, Self::Error> {
        Self::from_json(&json, "$")
    }
}

impl From<Rule> for Json {
    fn from(rule: Rule) -> Self {
        rule.to_json()
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;
    use crate::model::{Event, EventContext, EventId, EventMode, ProfileId, Properties};

    fn buy(amount: f64) -> Rc<Event> {
        Rc::new(Event {
            id: EventId::random(),
            profile: ProfileId::random(),
            name: "buy".into(),
            context: EventContext::Ecommerce,
            mode: EventMode::Active,
            happened: Timestamp::from_millis(1_000),
            sent: None,
            received: Timestamp::from_millis(1_000),
            properties: Properties::from([("amount".to_owned(), Value::Number(amount))]),
            schema_version: None,
        })
    }

    /// The cached reading is worked out again whenever the store's names or marks change,
    /// and a store that never had them reads as having none.
    #[test]
    fn a_cached_reading_follows_new_names_and_marks() {
        let json = json!({"op": "didEvent", "name": "buy",
            "where": [{"property": "amount", "op": "range", "min": 5}]});
        let Ok(Rule::Event(condition)) = Rule::from_json(&json, "$") else {
            unreachable!("a valid event condition")
        };
        let mut store = EventStore::default();
        assert!(matches!(condition.reading(&store), Reading::NoneStored));
        store.insert(ProfileIndex(0), buy(10.0));
        assert!(matches!(condition.reading(&store), Reading::Filtered(_)));
        let mark = store.mark("buy", &condition.filters);
        assert!(mark.is_some());
        assert!(matches!(condition.reading(&store), Reading::Marked(found) if Some(found) == mark));
        let copy = store.clone();
        assert!(matches!(condition.reading(&copy), Reading::Marked(_)));
        store.keep_marks(|_, _| false);
        assert!(matches!(condition.reading(&store), Reading::Filtered(_)));
        assert!(condition.holds_in(&store, ProfileIndex(0), Timestamp::from_millis(2_000)));
        assert!(matches!(
            condition.reading(&EventStore::default()),
            Reading::NoneStored
        ));
    }
}
