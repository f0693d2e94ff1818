//! Persistence invariants, as properties: snapshot plus replay equals the live engine
//! (profiles, events, trait values, segment members and history), and
//! a damaged stored record is always detected, never decoded into different data or a panic.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::rc::Rc;
use support::block_on;

use cdp_engine::engine::{Command, Database, DatabaseOptions, Engine, SnapshotChunk, SystemClock};
use cdp_engine::identity::IdentityConfig;
use cdp_engine::model::Profile;
use cdp_engine::storage::codec::{decode_batch, decode_frame, encode_batch, CHUNK_MAGIC};
use cdp_engine::storage::compact;
use cdp_engine::storage::{MemoryStorage, Storage};
use proptest::prelude::*;

fn open(storage: &MemoryStorage, snapshot_min_changes: u64) -> Database<&MemoryStorage> {
    block_on(Database::open_with(
        storage,
        IdentityConfig::default(),
        Rc::new(SystemClock),
        DatabaseOptions {
            snapshot_min_changes,
            ..DatabaseOptions::default()
        },
    ))
    .unwrap()
}

fn profiles<S: Storage>(database: &Database<S>) -> Vec<Profile> {
    database
        .read(|engine| engine.profiles().cloned().collect())
        .unwrap()
}

/// Events, trait values and segment members and history, as readers see them.
fn derived<S: Storage>(database: &Database<S>) -> String {
    database
        .read(|engine| {
            let profiles: Vec<_> = engine
                .profiles()
                .map(|profile| {
                    let events: Vec<_> = engine
                        .events_of(profile.id)
                        .unwrap_or_default()
                        .iter()
                        .map(|stored| (stored.sequence, stored.event.id))
                        .collect();
                    (events, engine.trait_values(profile.id))
                })
                .collect();
            format!(
                "{profiles:?} {:?} {:?}",
                engine.segment_members("spenders"),
                engine.segment_history("spenders")
            )
        })
        .unwrap()
}

/// One write: which person (a small range, so writes update as well as create), which
/// attribute and value (`None` removes it).
fn write_strategy() -> impl Strategy<Value = (u8, u8, Option<i64>)> {
    (0u8..12, 0u8..3, proptest::option::of(-5i64..5))
}

#[test]
fn an_average_past_the_largest_sum_comes_back_from_a_snapshot() {
    // Two purchases of 1.7e308 sum past f64: the trait keeps a scaled sum, which the snapshot
    // stores and the reopened engine reads back with the same average.
    let storage = MemoryStorage::new();
    let live = open(&storage, 1);
    for text in [
        r#"{"defineTrait":{"name":"mean","aggregate":"avg","event":"buy","property":"amount"}}"#,
        r#"{"recordEvent":{"identities":{"email":"a@x.dk"},"name":"buy","properties":{"amount":1.7e308}}}"#,
        r#"{"recordEvent":{"identities":{"email":"a@x.dk"},"name":"buy","properties":{"amount":1.7e308}}}"#,
    ] {
        let command = Command::from_json(text, &IdentityConfig::default()).unwrap();
        block_on(live.write(|engine| engine.execute(command)))
            .unwrap()
            .unwrap();
    }
    block_on(live.write_snapshot()).unwrap();
    let mean = |database: &Database<&MemoryStorage>| {
        database
            .read(|engine| {
                let profile = engine.profiles().next().unwrap().id;
                engine.trait_values(profile)
            })
            .unwrap()
    };
    let values = mean(&live);
    assert_eq!(
        values.get("mean"),
        Some(&cdp_engine::model::Value::Number(1.7e308))
    );
    let reopened = open(&storage, 1);
    assert!(reopened.skipped_snapshots().is_empty());
    assert_eq!(reopened.snapshot_offset(), live.snapshot_offset());
    assert_eq!(mean(&reopened), values);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn snapshot_plus_replay_equals_the_live_engine(
        writes in proptest::collection::vec(write_strategy(), 1..80),
        snapshot_min_changes in 1u64..25,
        reopen_every in 5usize..40,
    ) {
        let storage = MemoryStorage::new();
        let mut live = open(&storage, snapshot_min_changes);
        for definition in [
            r#"{"defineTrait":{"name":"spent","aggregate":"sum","event":"buy","property":"amount"}}"#,
            r#"{"defineSegment":{"systemTitle":"spenders","rule":{"op":"range","trait":"spent","min":1}}}"#,
        ] {
            let command = Command::from_json(definition, &IdentityConfig::default()).unwrap();
            block_on(live.write(|engine| engine.execute(command))).unwrap().unwrap();
        }
        for (index, (person, key, value)) in writes.iter().enumerate() {
            let text = match (key, value) {
                // Purchases of ±n/10, so the sum leaves and enters the segment.
                (2, Some(number)) => format!(
                    r#"{{"recordEvent":{{"identities":{{"email":"p{person}@x.dk"}},"name":"buy","properties":{{"amount":{}}}}}}}"#,
                    *number as f64 / 10.0
                ),
                _ => {
                    let value = value.map_or_else(|| "null".to_owned(), |number| number.to_string());
                    format!(
                        r#"{{"upsertProfile":{{"identities":{{"email":"p{person}@x.dk"}},"attributes":{{"a{key}":{value}}}}}}}"#
                    )
                }
            };
            let command = Command::from_json(&text, &IdentityConfig::default()).unwrap();
            block_on(live.write(|engine| engine.execute(command))).unwrap().unwrap();
            if index % reopen_every == reopen_every - 1 {
                let reopened = open(&storage, snapshot_min_changes);
                prop_assert_eq!(profiles(&reopened), profiles(&live));
                prop_assert_eq!(derived(&reopened), derived(&live));
                live = reopened;
            }
        }
        let reopened = open(&storage, snapshot_min_changes);
        prop_assert!(reopened.skipped_snapshots().is_empty());
        prop_assert_eq!(profiles(&reopened), profiles(&live));
        prop_assert_eq!(derived(&reopened), derived(&live));
        prop_assert_eq!(
            reopened.read(Engine::next_offset).unwrap(),
            live.read(Engine::next_offset).unwrap()
        );
    }

    #[test]
    fn any_single_byte_change_of_a_stored_batch_is_detected(
        position in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let mut engine = Engine::new(IdentityConfig::default(), Rc::new(SystemClock));
        let command = Command::from_json(
            r#"{"upsertProfile":{"identities":{"email":"a@b.c"},"attributes":{"n":1}}}"#,
            &IdentityConfig::default(),
        )
        .unwrap();
        engine.execute(command).unwrap();
        let mut bytes = encode_batch(&engine.take_unpersisted()).unwrap();
        let at = position.index(bytes.len());
        bytes[at] ^= flip;
        prop_assert_eq!(decode_batch(&bytes).unwrap_err().code(), "storage.corrupt");
    }

    #[test]
    fn arbitrary_bytes_never_decode_into_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_batch(&bytes);
        let _ = decode_frame::<SnapshotChunk<'static>>(CHUNK_MAGIC, &bytes);
        let _ = compact::decode::<Vec<Option<Profile>>>(&bytes);
    }
}
