//! Batches: many commands applied as one write, all or nothing, with the refused record
//! named by its index, and replaying to the same state as the live engine.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::cell::Cell;
use std::rc::Rc;
use support::block_on;

use cdp_engine::engine::{Change, Database, Engine, ExecuteError, Execution, Outcome, SystemClock};
use cdp_engine::identity::IdentityConfig;
use cdp_engine::model::Profile;
use cdp_engine::storage::{MemoryStorage, SnapshotManifest, Storage, StorageError};
use serde_json::json;

/// Memory storage that counts the appends it was asked for.
#[derive(Default)]
struct CountingStorage {
    inner: MemoryStorage,
    appends: Cell<usize>,
}

impl Storage for CountingStorage {
    async fn snapshots(&self) -> Result<Vec<SnapshotManifest>, StorageError> {
        self.inner.snapshots().await
    }

    async fn read_snapshot(
        &self,
        manifest: &SnapshotManifest,
    ) -> Result<Vec<Vec<u8>>, StorageError> {
        self.inner.read_snapshot(manifest).await
    }

    async fn read_snapshot_each<E: From<StorageError>>(
        &self,
        manifest: &SnapshotManifest,
        each: impl FnMut(Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.inner.read_snapshot_each(manifest, each).await
    }

    async fn read_log(&self, from: u64) -> Result<Vec<Change>, StorageError> {
        self.inner.read_log(from).await
    }

    async fn append(&self, changes: &[Change]) -> Result<(), StorageError> {
        self.appends.set(self.appends.get() + 1);
        self.inner.append(changes).await
    }

    type SnapshotWriter = <MemoryStorage as Storage>::SnapshotWriter;

    fn begin_snapshot(
        &self,
        offset: u64,
        log_start: u64,
    ) -> Result<Self::SnapshotWriter, StorageError> {
        self.inner.begin_snapshot(offset, log_start)
    }

    fn put_chunk(
        &self,
        writer: &mut Self::SnapshotWriter,
        chunk: Vec<u8>,
    ) -> Result<(), StorageError> {
        self.inner.put_chunk(writer, chunk)
    }

    async fn commit_snapshot(&self, writer: Self::SnapshotWriter) -> Result<(), StorageError> {
        self.inner.commit_snapshot(writer).await
    }
}

fn open<S: Storage>(storage: S) -> Database<S> {
    block_on(Database::open(
        storage,
        IdentityConfig::default(),
        Rc::new(SystemClock),
    ))
    .unwrap()
}

/// Parses and runs `command` (JSON) the way `cdp.execute` does.
fn execute<S: Storage>(
    database: &Database<S>,
    command: &serde_json::Value,
) -> Result<serde_json::Value, ExecuteError> {
    let text = command.to_string();
    block_on(database.write(|engine| {
        Execution::from_json(&text, engine.identity_config())
            .and_then(|execution| execution.run(engine))
    }))
    .unwrap()
    .map(|outcome| {
        let json = outcome.to_json();
        let text: serde_json::Value = serde_json::from_str(&outcome.to_json_text()).unwrap();
        assert_eq!(text, json, "the outcome's text is its JSON");
        if let Outcome::Batch(outcomes) = &outcome {
            let listed = Outcome::list_json_text("data", outcomes);
            let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
            assert_eq!(listed, json!({"data": json["results"]}), "a list's text");
        }
        json
    })
}

fn upsert(email: &str, plan: &str) -> serde_json::Value {
    json!({"upsertProfile": {"identities": {"email": email}, "attributes": {"plan": plan}}})
}

fn profiles<S: Storage>(database: &Database<S>) -> Vec<Profile> {
    database
        .read(|engine| engine.profiles().cloned().collect())
        .unwrap()
}

#[test]
fn batch_applies_in_order_and_is_persisted_as_one_append() {
    let storage = CountingStorage::default();
    let database = open(&storage);
    let records: Vec<_> = (0..3_000)
        .map(|i| upsert(&format!("user{}@example.com", i % 2_000), "free"))
        .collect();
    let outcome = execute(&database, &json!({ "batch": records })).unwrap();
    let results = outcome["results"].as_array().unwrap();
    assert_eq!(results.len(), 3_000);
    assert_eq!(results[0]["created"], true);
    assert_eq!(
        results[2_000]["created"], false,
        "record 2000 updates the profile record 0 created"
    );
    assert_eq!(results[2_000]["profile"], results[0]["profile"]);
    assert_eq!(database.read(Engine::profile_count).unwrap(), 2_000);
    assert_eq!(storage.appends.get(), 1, "one write for the whole batch");
    assert!(
        storage.inner.log_records() > 1,
        "more than 4,096 changes are split into several log records"
    );
}

#[test]
fn refused_record_refuses_the_whole_batch_with_its_index() {
    let storage = CountingStorage::default();
    let database = open(&storage);
    execute(
        &database,
        &json!({"upsertProfile": {"identities": {"email": "a@example.com", "phone": "+4511111111"}}}),
    )
    .unwrap();
    let before = (
        profiles(&database),
        database.read(Engine::next_offset).unwrap(),
    );
    let log_before = block_on(storage.read_log(0)).unwrap();
    let error = execute(
        &database,
        &json!({"batch": [
            upsert("b@example.com", "pro"),
            upsert("a@example.com", "pro"),
            // Names a@ (the first profile) and b@ (created by record 0): a conflict under the
            // reject policy, found only because record 0 was applied first.
            {"upsertProfile": {"identities": {"email": ["a@example.com", "b@example.com"]}}},
            upsert("c@example.com", "pro"),
        ]}),
    )
    .unwrap_err();
    assert_eq!(error.record(), Some(2));
    assert_eq!(error.code(), "identity.conflict");
    assert!(error.to_string().starts_with("batch record 2: "), "{error}");
    let after = (
        profiles(&database),
        database.read(Engine::next_offset).unwrap(),
    );
    assert_eq!(after, before, "nothing of the batch is kept in memory");
    assert_eq!(block_on(storage.read_log(0)).unwrap(), log_before);
    assert_eq!(storage.appends.get(), 1, "the refused batch wrote nothing");
    let outcome = execute(&database, &json!({"batch": [upsert("b@example.com", "x")]})).unwrap();
    assert_eq!(outcome["results"][0]["created"], true, "b@ was never kept");
}

#[test]
fn refused_first_record_leaves_the_engine_untouched() {
    let mut engine = Engine::new(IdentityConfig::default(), Rc::new(SystemClock));
    let text = json!({"batch": [
        {"upsertProfile": {"identities": {"email": "a@b.c"}, "attributes": {" padded": 1}}},
        upsert("b@example.com", "pro"),
    ]})
    .to_string();
    let error = Execution::from_json(&text, engine.identity_config()).unwrap_err();
    assert_eq!(
        (error.record(), error.code()),
        (Some(0), "schema.invalid_key")
    );
    let execution =
        Execution::from_json(&json!({"batch": []}).to_string(), engine.identity_config()).unwrap();
    execution.run(&mut engine).unwrap();
    assert!(!engine.needs_reload());
    assert_eq!(engine.next_offset(), 0);
}

#[test]
fn malformed_records_are_named_by_index() {
    let identity = IdentityConfig::default();
    for (batch, index, code) in [
        (
            json!([upsert("a@b.c", "x"), {"upsertProfile": {"identities": {"email": [1]}}}]),
            1,
            "engine.invalid_command",
        ),
        (
            json!([upsert("a@b.c", "x"), upsert("b@b.c", "y"), {"dropAll": {}}]),
            2,
            "engine.invalid_command",
        ),
        (
            json!([{"batch": [upsert("a@b.c", "x")]}]),
            0,
            "engine.invalid_command",
        ),
        (
            json!([upsert("a@b.c", "x"), {"upsertProfile": {"identities": {"email": " "}}}]),
            1,
            "identity.empty",
        ),
    ] {
        let text = json!({ "batch": batch }).to_string();
        let error = Execution::from_json(&text, &identity).unwrap_err();
        assert_eq!(
            (error.record(), error.code()),
            (Some(index), code),
            "{text}"
        );
    }
    let error = Execution::from_json(r#"{"batch": 3}"#, &identity).unwrap_err();
    assert_eq!(
        (error.record(), error.code()),
        (None, "engine.invalid_command")
    );
}

#[test]
fn batch_with_events_replays_to_the_live_state() {
    let storage = MemoryStorage::new();
    let database = open(&storage);
    let mut batch = Vec::new();
    for i in 0..50 {
        let email = format!("user{}@example.com", i % 20);
        batch.push(upsert(&email, if i % 3 == 0 { "pro" } else { "free" }));
        batch.push(json!({"recordEvent": {
            "identities": {"email": email},
            "name": "purchase",
            "happened": "2026-11-01T10:00:00Z",
            "properties": {"amount": i},
        }}));
    }
    execute(&database, &json!({ "batch": batch })).unwrap();
    let live = profiles(&database);
    let live_events = database.read(|engine| engine.event_store().len()).unwrap();
    let reopened = open(&storage);
    assert_eq!(profiles(&reopened), live);
    assert_eq!(
        reopened.read(|engine| engine.event_store().len()).unwrap(),
        live_events
    );
    assert_eq!(live_events, 50);
}
