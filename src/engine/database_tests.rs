use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use super::*;
use crate::engine::{Command, SystemClock};
use crate::storage::MemoryStorage;

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("in-memory storage never waits"),
    }
}

/// Memory storage whose appends fail while `failing` is set.
#[derive(Default)]
struct FlakyStorage {
    inner: MemoryStorage,
    failing: Cell<bool>,
}

impl Storage for FlakyStorage {
    async fn snapshots(&self) -> Result<Vec<SnapshotManifest>, StorageError> {
        self.inner.snapshots().await
    }

    async fn read_snapshot(
        &self,
        manifest: &SnapshotManifest,
    ) -> Result<Vec<Vec<u8>>, StorageError> {
        self.inner.read_snapshot(manifest).await
    }

    async fn read_log(&self, from: u64) -> Result<Vec<Change>, StorageError> {
        self.inner.read_log(from).await
    }

    async fn append(&self, changes: &[Change]) -> Result<(), StorageError> {
        if self.failing.get() {
            return Err(StorageError::QuotaExceeded);
        }
        self.inner.append(changes).await
    }

    async fn write_snapshot(
        &self,
        manifest: &SnapshotManifest,
        chunks: &[Vec<u8>],
    ) -> Result<(), StorageError> {
        self.inner.write_snapshot(manifest, chunks).await
    }
}

fn upsert(email: &str) -> Command {
    let text = format!(
        r#"{{"upsertProfile":{{"identities":{{"email":"{email}"}},"attributes":{{"name":"N"}}}}}}"#
    );
    Command::from_json(&text, &IdentityConfig::default()).unwrap()
}

fn open<S: Storage>(storage: S, snapshot_min_changes: u64) -> Database<S> {
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

fn write_profiles<S: Storage>(database: &Database<S>, prefix: &str, count: usize) {
    for index in 0..count {
        block_on(database.write(|engine| engine.execute(upsert(&format!("{prefix}{index}@x.dk")))))
            .unwrap()
            .unwrap();
    }
}

fn profiles<S: Storage>(database: &Database<S>) -> Vec<crate::model::Profile> {
    database
        .read(|engine| engine.profiles().cloned().collect())
        .unwrap()
}

#[test]
fn write_that_cannot_be_persisted_leaves_no_trace_in_memory() {
    let database = open(FlakyStorage::default(), 10_000);
    write_profiles(&database, "kept", 1);
    database.storage.failing.set(true);
    let error =
        block_on(database.write(|engine| engine.execute(upsert("lost@example.com")))).unwrap_err();
    assert_eq!(error.code(), "storage.quota_exceeded");
    assert_eq!(database.read(Engine::profile_count).unwrap(), 1);
    assert_eq!(database.read(Engine::next_offset).unwrap(), 3);
}

#[test]
fn reopening_replays_every_acknowledged_write() {
    let database = open(MemoryStorage::new(), 10_000);
    write_profiles(&database, "a", 2);
    let before = profiles(&database);
    let Database { storage, .. } = database;
    assert_eq!(profiles(&open(storage, 10_000)), before);
}

#[test]
fn snapshot_plus_replay_equals_live_engine() {
    let storage = MemoryStorage::new();
    let database = open(&storage, 5);
    write_profiles(&database, "p", 40);
    assert!(
        database.snapshot_offset().is_some(),
        "snapshots were written"
    );
    assert_ne!(
        database.snapshot_offset(),
        Some(database.read(Engine::next_offset).unwrap()),
        "a tail follows the newest snapshot"
    );
    let reopened = open(&storage, 5);
    assert!(reopened.skipped_snapshots().is_empty());
    assert_eq!(profiles(&reopened), profiles(&database));
    assert_eq!(
        reopened.read(Engine::next_offset).unwrap(),
        database.read(Engine::next_offset).unwrap()
    );
}

#[test]
fn compaction_keeps_two_snapshots_and_says_which_offsets_expired() {
    let storage = MemoryStorage::new();
    let database = open(&storage, 5);
    write_profiles(&database, "c", 40);
    let manifests = block_on(storage.snapshots()).unwrap();
    assert_eq!(manifests.len(), 2, "{manifests:?}");
    let oldest = manifests[1].offset;
    assert_eq!(manifests[0].log_start, oldest);
    let error = block_on(database.changes_since(0, 10)).unwrap_err();
    assert_eq!(error.code(), "storage.offset_expired");
    let served = block_on(database.changes_since(oldest, 3)).unwrap();
    assert_eq!(served.first().map(|change| change.offset), Some(oldest));
    assert_eq!(served.len(), 3);
}

#[test]
fn corrupt_newest_snapshot_falls_back_to_the_previous_one_plus_log() {
    let storage = MemoryStorage::new();
    let database = open(&storage, 5);
    write_profiles(&database, "f", 40);
    let newest = block_on(storage.snapshots()).unwrap()[0];
    let mut chunk = block_on(storage.read_snapshot(&newest)).unwrap()[1].clone();
    let middle = chunk.len() / 2;
    chunk[middle] ^= 0xff;
    storage.overwrite_chunk(newest.offset, 1, chunk);
    let reopened = open(&storage, 5);
    let skipped: Vec<_> = reopened
        .skipped_snapshots()
        .iter()
        .map(EngineError::code)
        .collect();
    assert_eq!(skipped, ["storage.corrupt"]);
    assert_eq!(profiles(&reopened), profiles(&database));
}

#[test]
fn truncated_snapshot_missing_a_chunk_is_skipped_too() {
    let storage = MemoryStorage::new();
    let database = open(&storage, 5);
    write_profiles(&database, "t", 40);
    let newest = block_on(storage.snapshots()).unwrap()[0];
    storage.overwrite_chunk(newest.offset, 0, b"CDPS".to_vec());
    let reopened = open(&storage, 5);
    assert_eq!(reopened.skipped_snapshots().len(), 1);
    assert_eq!(profiles(&reopened), profiles(&database));
}

#[test]
fn every_snapshot_corrupt_after_compaction_fails_instead_of_starting_empty() {
    let storage = MemoryStorage::new();
    let database = open(&storage, 5);
    write_profiles(&database, "e", 40);
    for manifest in block_on(storage.snapshots()).unwrap() {
        storage.overwrite_chunk(manifest.offset, 0, Vec::new());
    }
    let error = block_on(Database::open(
        &storage,
        IdentityConfig::default(),
        Rc::new(SystemClock),
    ))
    .err()
    .unwrap();
    assert_eq!(error.code(), "storage.corrupt");
}

#[test]
fn catch_up_applies_what_another_writer_committed() {
    let storage = MemoryStorage::new();
    let first = open(&storage, 10_000);
    let second = open(&storage, 10_000);
    write_profiles(&first, "one", 3);
    assert_eq!(second.read(Engine::profile_count).unwrap(), 0);
    assert_eq!(block_on(second.catch_up()).unwrap(), 9);
    assert_eq!(profiles(&second), profiles(&first));
    write_profiles(&second, "two", 1);
    block_on(first.catch_up()).unwrap();
    assert_eq!(first.read(Engine::profile_count).unwrap(), 4);
}

#[test]
fn catch_up_past_compaction_reloads_from_the_snapshot() {
    let storage = MemoryStorage::new();
    let first = open(&storage, 5);
    let second = open(&storage, 5);
    write_profiles(&first, "far", 40);
    block_on(second.catch_up()).unwrap();
    assert_eq!(profiles(&second), profiles(&first));
}

#[test]
fn announced_changes_apply_in_order_and_gaps_are_filled_from_storage() {
    let storage = MemoryStorage::new();
    let writer = open(&storage, 10_000);
    let reader = open(&storage, 10_000);
    let mut batches = Vec::new();
    for email in ["a@x.dk", "b@x.dk", "c@x.dk"] {
        let (_, changes) =
            block_on(writer.write_with_changes(|engine| engine.execute(upsert(email)))).unwrap();
        batches.push(changes);
    }
    block_on(reader.apply_remote(batches[0].clone())).unwrap();
    block_on(reader.apply_remote(batches[0].clone())).unwrap();
    assert_eq!(reader.read(Engine::profile_count).unwrap(), 1);
    block_on(reader.apply_remote(batches[2].clone())).unwrap();
    assert_eq!(profiles(&reader), profiles(&writer));
}

#[test]
fn write_that_lost_the_race_for_its_offset_runs_again_on_fresh_state() {
    let storage = MemoryStorage::new();
    let first = open(&storage, 10_000);
    let second = open(&storage, 10_000);
    write_profiles(&first, "first", 1);
    let mut runs = 0;
    let (outcome, changes) = block_on(second.write_fresh(|engine| {
        runs += 1;
        engine.execute(upsert("first0@x.dk"))
    }))
    .unwrap();
    assert_eq!(
        runs, 2,
        "the stale attempt was refused, the fresh one stored"
    );
    let crate::engine::Outcome::Profile { created, .. } = outcome.unwrap() else {
        panic!("an upsert lands on a profile");
    };
    assert!(!created, "the second run saw the first writer's profile");
    assert!(changes.is_empty());
    assert_eq!(profiles(&second), profiles(&first));
}

#[test]
fn events_keep_the_whole_log_so_a_reload_loses_none_of_them() {
    let storage = MemoryStorage::new();
    let database = open(&storage, 5);
    write_profiles(&database, "p", 10);
    let covered = database.snapshot_offset();
    assert!(covered.is_some(), "profiles alone are snapshotted");
    for index in 0..20 {
        let text = format!(
            r#"{{"recordEvent":{{"identities":{{"email":"p{}@x.dk"}},"name":"visit"}}}}"#,
            index % 10
        );
        let command = Command::from_json(&text, &IdentityConfig::default()).unwrap();
        block_on(database.write(|engine| engine.execute(command)))
            .unwrap()
            .unwrap();
    }
    assert!(!database.snapshot_due());
    block_on(database.write_snapshot()).unwrap();
    assert_eq!(
        database.snapshot_offset(),
        covered,
        "no snapshot covers the events"
    );
    let reopened = open(&storage, 5);
    let events = |database: &Database<&MemoryStorage>| {
        database
            .read(|engine| {
                engine
                    .profiles()
                    .map(|profile| engine.events_of(profile.id).map_or(0, <[_]>::len))
                    .sum::<usize>()
            })
            .unwrap()
    };
    assert_eq!(events(&reopened), 20);
    assert_eq!(profiles(&reopened), profiles(&database));
}
