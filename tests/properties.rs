//! Property tests of the identity invariants, replay (through stored change-log batches),
//! snapshots and the command parser.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeSet, HashSet};
use std::rc::Rc;

use cdp_engine::engine::{Command, Engine, ManualClock};
use cdp_engine::identity::IdentityConfig;
use cdp_engine::model::{Profile, ProfileId, Timestamp, Value};
use cdp_engine::schema::SchemaConfig;
use cdp_engine::storage::codec::{
    decode_batch, decode_frame, encode_batch, encode_frame, CHUNK_MAGIC,
};
use proptest::prelude::*;
use serde_json::{json, Value as Json};

#[derive(Clone, Debug)]
enum Step {
    Upsert {
        emails: Vec<u8>,
        crms: Vec<u8>,
        source: u8,
        number: Option<i64>,
        hobby: Option<u8>,
    },
    Merge(usize, usize),
    Unmerge(usize),
    Event(usize),
    Tick,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (
            prop::collection::vec(0u8..8, 0..3),
            prop::collection::vec(0u8..6, 0..2),
            0u8..2,
            prop::option::of(-5i64..5),
            prop::option::of(0u8..4),
        )
            .prop_map(|(emails, crms, source, number, hobby)| Step::Upsert {
                emails,
                crms,
                source,
                number,
                hobby
            }),
        1 => (0usize..16, 0usize..16).prop_map(|(a, b)| Step::Merge(a, b)),
        1 => (0usize..16).prop_map(Step::Unmerge),
        1 => (0usize..16).prop_map(Step::Event),
        1 => Just(Step::Tick),
    ]
}

fn command_json(step: &Step, known: &[ProfileId]) -> Option<String> {
    let pick = |index: usize| known.get(index % known.len().max(1)).copied();
    match step {
        Step::Upsert {
            emails,
            crms,
            source,
            number,
            hobby,
        } => {
            let emails: Vec<String> = emails.iter().map(|n| format!("U{n}@X.dk ")).collect();
            let crms: Vec<String> = crms.iter().map(|n| format!("c{n}")).collect();
            let mut attributes = serde_json::Map::new();
            if let Some(number) = number {
                attributes.insert("n".into(), json!(number));
            }
            let set_actions: Vec<Json> = hobby
                .iter()
                .map(|hobby| json!({"key": "hobbies", "action": "ADD", "value": format!("h{hobby}")}))
                .collect();
            Some(
                json!({"upsertProfile": {
                    "identities": {"email": emails, "crm": crms},
                    "source": format!("s{source}"),
                    "attributes": attributes,
                    "setActions": set_actions,
                }})
                .to_string(),
            )
        }
        Step::Merge(a, b) => Some(
            json!({"mergeProfiles": {"survivor": pick(*a)?.to_string(), "absorbed": pick(*b)?.to_string()}})
                .to_string(),
        ),
        Step::Unmerge(a) => {
            Some(json!({"unmergeProfile": {"absorbed": pick(*a)?.to_string()}}).to_string())
        }
        Step::Event(a) => Some(
            json!({"recordEvent": {"profileId": pick(*a)?.to_string(), "name": "buy"}})
                .to_string(),
        ),
        Step::Tick => None,
    }
}

fn engine(policy: &str, clock: &ManualClock) -> Engine {
    let identity: IdentityConfig = serde_json::from_str(&format!(
        r#"{{"policy":"{policy}","types":[{{"name":"email","normalization":"email"}},{{"name":"crm","priority":1}}]}}"#
    ))
    .unwrap();
    Engine::new(identity, Rc::new(clock.clone()))
}

/// Identity rules with limits: at most one crm id (the oldest is dropped) and two emails
/// (more are refused).
fn limited_engine(policy: &str, clock: &ManualClock) -> Engine {
    let identity: IdentityConfig = serde_json::from_str(&format!(
        r#"{{"policy":"{policy}","types":[{{"name":"email","normalization":"email","limit":2,"onLimit":"reject"}},{{"name":"crm","limit":1}}]}}"#
    ))
    .unwrap();
    Engine::new(identity, Rc::new(clock.clone()))
}

/// Every normalized identifier belongs to exactly one live profile, and resolves to it.
fn assert_identifiers_resolve_uniquely(engine: &Engine) {
    let mut seen = HashSet::new();
    for profile in engine.profiles() {
        for identifier in &profile.identities {
            assert!(
                seen.insert(identifier.clone()),
                "{identifier} on two profiles"
            );
            assert_eq!(engine.resolve(identifier).map(|p| p.id), Some(profile.id));
        }
    }
    assert_eq!(seen.len(), engine.identifier_count());
}

/// The identity index and the id lookup find exactly the owner: every identifier the steps can
/// name resolves to the live profile that holds it, and to none when no live profile does
/// (released by a limit, moved by a merge, taken back by an unmerge); every profile id ever
/// returned resolves to the profile that is it or holds it as an alias.
fn assert_lookups_find_exactly_the_owner(engine: &Engine, known: &[ProfileId]) {
    let config = engine.identity_config();
    let names = (0..8)
        .map(|n| ("email", format!("U{n}@X.dk ")))
        .chain((0..6).map(|n| ("crm", format!("c{n}"))));
    for (kind, raw) in names {
        let identifier = config.normalize(kind, &raw).unwrap();
        let holders: Vec<ProfileId> = engine
            .profiles()
            .filter(|profile| profile.identities.contains(&identifier))
            .map(|profile| profile.id)
            .collect();
        let expected = holders.first().copied().filter(|_| config.is_unique(kind));
        assert!(holders.len() <= 1, "{identifier} held by {holders:?}");
        assert_eq!(
            engine.resolve(&identifier).map(|profile| profile.id),
            expected,
            "{identifier}"
        );
    }
    for id in known {
        let found = engine.profile(*id).unwrap();
        assert!(found.id == *id || found.aliases.contains(id), "{id}");
        let owners = engine
            .profiles()
            .filter(|profile| profile.id == *id || profile.aliases.contains(id))
            .count();
        assert_eq!(owners, 1, "{id}");
    }
    assert!(engine.profile(ProfileId::random()).is_none());
}

/// A merge keeps every identifier and every value of both profiles (no limits configured):
/// identifiers all move, sets unite, and a scalar keeps one of the two values.
fn assert_merge_lost_nothing(before: &[Profile], survivor: &Profile) {
    for profile in before {
        for identifier in &profile.identities {
            assert!(
                survivor.identities.contains(identifier),
                "{identifier} lost"
            );
        }
        for (source, by_key) in &profile.attributes {
            for (key, written) in by_key {
                let kept = survivor
                    .source_attribute(source, key)
                    .map(|kept| kept.value);
                match (&written.value, kept.as_ref()) {
                    (Value::Set(members), Some(Value::Set(united))) => {
                        assert!(members.is_subset(united), "{key} members lost")
                    }
                    (_, Some(kept)) => assert!(
                        before.iter().any(|p| p
                            .source_attribute(source, key)
                            .map(|w| w.value)
                            .as_ref()
                            == Some(kept)),
                        "{key} took a value neither profile had"
                    ),
                    (_, None) => panic!("{key} lost"),
                }
            }
        }
    }
}

/// Every event sits with the live profile its recording profile now resolves to (merges
/// move events to the survivor, unmerges give them back), none is lost, and the count trait
/// and the segment of profiles with events follow.
fn assert_events_follow_their_profiles(engine: &Engine, recorded: usize) {
    let mut total = 0;
    for profile in engine.profiles() {
        let events = engine.events_of(profile.id).unwrap();
        total += events.len();
        for stored in events {
            assert_eq!(
                engine.profile(stored.event.profile).map(|owner| owner.id),
                Some(profile.id),
                "an event of {} sits with {}",
                stored.event.profile,
                profile.id
            );
        }
        let expected = (!events.is_empty()).then_some(Value::Integer(events.len() as i64));
        assert_eq!(
            engine.trait_values(profile.id).get("buys"),
            expected.as_ref()
        );
        assert_eq!(
            engine.segments_of(profile.id).contains(&"buyers"),
            !events.is_empty()
        );
    }
    assert_eq!(total, recorded);
}

fn run_steps(policy: &str, steps: &[Step]) {
    run_steps_on(engine, policy, steps, true);
}

fn run_steps_on(
    make: fn(&str, &ManualClock) -> Engine,
    policy: &str,
    steps: &[Step],
    limits_absent: bool,
) {
    let clock = ManualClock::starting_at(Timestamp::from_millis(1_700_000_000_000));
    let mut engine = make(policy, &clock);
    let mut known: Vec<ProfileId> = Vec::new();
    let mut recorded = 0;
    for definition in [
        r#"{"defineTrait":{"name":"buys","aggregate":"count","event":"buy"}}"#,
        r#"{"defineSegment":{"systemTitle":"buyers","rule":{"op":"didEvent","name":"buy"}}}"#,
    ] {
        let command = Command::from_json(definition, engine.identity_config()).unwrap();
        engine.execute(command).unwrap();
    }
    for step in steps {
        if matches!(step, Step::Tick) {
            clock.advance_seconds(1);
            continue;
        }
        let Some(text) = command_json(step, &known) else {
            continue;
        };
        let command = Command::from_json(&text, engine.identity_config());
        let Ok(command) = command else {
            continue;
        };
        let merging = match &command {
            Command::MergeProfiles { survivor, absorbed } => {
                match (engine.profile(*survivor), engine.profile(*absorbed)) {
                    (Some(a), Some(b)) if a.id != b.id => Some(vec![a.clone(), b.clone()]),
                    _ => None,
                }
            }
            _ => None,
        };
        let offset = engine.next_offset();
        let pending = engine.unpersisted().len();
        match engine.execute(command) {
            Ok(outcome) => {
                recorded += usize::from(matches!(step, Step::Event(_)));
                if let Some(id) = outcome.profile_id() {
                    if !known.contains(&id) {
                        known.push(id);
                    }
                    if let Some(before) = merging.filter(|_| limits_absent) {
                        assert_merge_lost_nothing(&before, engine.profile(id).unwrap());
                    }
                }
            }
            Err(_) => {
                assert_eq!(engine.next_offset(), offset);
                assert_eq!(engine.unpersisted().len(), pending);
            }
        }
        assert_identifiers_resolve_uniquely(&engine);
        assert_lookups_find_exactly_the_owner(&engine, &known);
        assert_events_follow_their_profiles(&engine, recorded);
        for profile in engine.profiles() {
            for identifier in &profile.identities {
                if let Some((limit, _)) = engine.identity_config().limit(identifier.kind()) {
                    let held = profile
                        .identities
                        .iter()
                        .filter(|other| other.kind() == identifier.kind())
                        .count();
                    assert!(
                        held <= limit,
                        "{} holds {held} {}",
                        profile.id,
                        identifier.kind()
                    );
                }
            }
        }
        for id in &known {
            assert!(engine.profile(*id).is_some(), "{id} stopped resolving");
        }
    }
    let changes = engine.take_unpersisted();
    // Through stored change-log batches, cut at odd places, as storage would keep them.
    let stored: Vec<Vec<u8>> = changes
        .chunks(7)
        .map(|part| encode_batch(part).unwrap())
        .collect();
    let read: Vec<_> = stored
        .iter()
        .flat_map(|bytes| decode_batch(bytes).unwrap())
        .collect();
    assert_eq!(read, changes);
    let replay = Engine::replay(
        engine.identity_config().clone(),
        Rc::new(clock.clone()),
        read,
    )
    .unwrap();
    assert_same_state(&replay, &engine);
    let stored: Vec<Vec<u8>> = engine
        .snapshot_chunks()
        .unwrap()
        .iter()
        .map(|chunk| encode_frame(CHUNK_MAGIC, chunk).unwrap())
        .collect();
    let restored = Engine::from_snapshot(
        engine.identity_config().clone(),
        SchemaConfig::default(),
        Rc::new(clock.clone()),
        stored
            .iter()
            .map(|bytes| decode_frame(CHUNK_MAGIC, bytes).unwrap()),
    )
    .unwrap();
    assert_same_state(&restored, &engine);
}

/// Asserts that `rebuilt` (by replay, or from a snapshot) holds what `engine` holds.
fn assert_same_state(rebuilt: &Engine, engine: &Engine) {
    let live: Vec<_> = engine.profiles().collect();
    let copies: Vec<_> = rebuilt.profiles().collect();
    assert_eq!(copies, live);
    for profile in live {
        assert_eq!(rebuilt.events_of(profile.id), engine.events_of(profile.id));
        assert_eq!(
            rebuilt.trait_values(profile.id),
            engine.trait_values(profile.id)
        );
        for identifier in &profile.identities {
            assert_eq!(
                rebuilt.resolve(identifier).map(|found| found.id),
                Some(profile.id)
            );
        }
    }
    assert_eq!(rebuilt.identifier_count(), engine.identifier_count());
    let merges = |engine: &Engine| {
        engine
            .merges()
            .map(|record| (record.absorbed.id, record.survivor, record.moved.clone()))
            .map(|(a, s, m)| format!("{a}{s}{m:?}"))
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(merges(rebuilt), merges(engine));
}

fn arbitrary_json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        any::<u64>().prop_map(Json::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)),
        "[a-zA-Z0-9 @+._-]{0,12}".prop_map(Json::String),
        prop_oneof![
            Just("ADD"),
            Just("REMOVE"),
            Just("DEL"),
            Just("email"),
            Just("global"),
            Just("string"),
            Just("Boolean"),
            Just("set"),
            Just("t"),
            Just("2016-12-22"),
        ]
        .prop_map(|text| Json::String(text.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        "[a-z]{1,6}".boxed(),
                        prop_oneof![
                            Just("identities"),
                            Just("attributes"),
                            Just("setActions"),
                            Just("key"),
                            Just("action"),
                            Just("value"),
                            Just("source"),
                            Just("definition"),
                            Just("type"),
                            Just("tags"),
                            Just("manual"),
                            Just("consents"),
                            Just("survivor"),
                            Just("absorbed"),
                            Just("id"),
                        ]
                        .prop_map(str::to_owned)
                        .boxed(),
                    ],
                    inner
                ),
                0..5
            )
            .prop_map(|fields| Json::Object(fields.into_iter().collect())),
        ]
    })
}

fn command_tag() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("upsertProfile"),
        Just("mergeProfiles"),
        Just("unmergeProfile"),
        Just("declareSource"),
        Just("renameSource"),
        Just("deleteSource"),
        Just("disableSource"),
        Just("enableSource"),
        Just("declareAttribute"),
        Just("updateAttribute"),
        Just("deleteAttribute"),
        Just("disableAttribute"),
        Just("enableAttribute"),
        Just("shareAttribute"),
        Just("unshareAttribute"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn merge_policy_keeps_identities_unique_and_replay_equal(steps in prop::collection::vec(step(), 1..40)) {
        run_steps("merge", &steps);
    }

    #[test]
    fn reject_policy_keeps_identities_unique_and_replay_equal(steps in prop::collection::vec(step(), 1..40)) {
        run_steps("reject", &steps);
    }

    #[test]
    fn limits_keep_identities_unique_and_replay_equal(steps in prop::collection::vec(step(), 1..40)) {
        run_steps_on(limited_engine, "merge", &steps, false);
        run_steps_on(limited_engine, "reject", &steps, false);
    }

    #[test]
    fn arbitrary_json_never_panics_the_parser_or_the_engine(tag in command_tag(), body in arbitrary_json()) {
        let clock = ManualClock::starting_at(Timestamp::from_millis(0));
        let mut engine = engine("merge", &clock);
        for text in [json!({tag: body.clone()}).to_string(), body.to_string()] {
            if let Ok(command) = Command::from_json(&text, engine.identity_config()) {
                let before = engine.next_offset();
                if engine.execute(command).is_err() {
                    prop_assert_eq!(engine.next_offset(), before);
                }
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics_the_parser(text in "\\PC{0,64}") {
        if let Err(error) = Command::from_json(&text, &IdentityConfig::default()) {
            let layer = error.code().split('.').next().unwrap_or_default();
            prop_assert!(["engine", "schema", "identity", "model"].contains(&layer), "{}", error.code());
        }
    }
}
