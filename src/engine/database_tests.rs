use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use super::*;
use crate::engine::{Command, SystemClock};
use crate::schema::SchemaConfig;
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

/// Memory storage whose appends fail while `failing` is set, which counts its log and
/// manifest reads and says it was just created while `created` is set.
#[derive(Default)]
struct FlakyStorage {
    inner: MemoryStorage,
    failing: Cell<bool>,
    created: Cell<bool>,
    reads: Cell<usize>,
    /// While set, a snapshot's commit waits (as IndexedDB's transaction does, in the page).
    holding_commits: Cell<bool>,
}

impl Storage for FlakyStorage {
    async fn snapshots(&self) -> Result<Vec<SnapshotManifest>, StorageError> {
        self.reads.set(self.reads.get() + 1);
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
        self.reads.set(self.reads.get() + 1);
        self.inner.read_log(from).await
    }

    async fn append(&self, changes: &[Change]) -> Result<(), StorageError> {
        if self.failing.get() {
            return Err(StorageError::QuotaExceeded);
        }
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
        std::future::poll_fn(|_| {
            if self.holding_commits.get() {
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await;
        self.inner.commit_snapshot(writer).await
    }

    fn take_created(&self) -> bool {
        self.created.replace(false)
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
fn writes_go_on_while_a_snapshot_commits_and_no_second_snapshot_starts() {
    let database = block_on(Database::open_with(
        FlakyStorage::default(),
        IdentityConfig::default(),
        Rc::new(SystemClock),
        DatabaseOptions {
            snapshot_min_changes: 1,
            snapshot_after_write: false,
        },
    ))
    .unwrap();
    write_profiles(&database, "before", 3);
    assert!(database.snapshot_due());
    let taken = database.read(Engine::next_offset).unwrap();
    database.storage.holding_commits.set(true);
    let mut snapshot = pin!(database.write_snapshot());
    let mut context = Context::from_waker(Waker::noop());
    assert!(snapshot.as_mut().poll(&mut context).is_pending());
    // The state is taken; writes go on and are durable while the snapshot commits.
    write_profiles(&database, "during", 2);
    assert!(!database.snapshot_due(), "one snapshot at a time");
    assert_eq!(block_on(database.write_snapshot()), Ok(()));
    assert_eq!(database.snapshot_offset(), None);
    database.storage.holding_commits.set(false);
    assert_eq!(snapshot.as_mut().poll(&mut context), Poll::Ready(Ok(())));
    assert_eq!(database.snapshot_offset(), Some(taken));
    assert!(database.snapshot_due(), "the writes during it are past it");
    write_profiles(&database, "after", 1);

    // Reopened: the snapshot holds the state it was taken at, the log replays the rest.
    let reopened = open(&database.storage.inner, 1);
    assert_eq!(reopened.snapshot_offset(), Some(taken));
    assert_eq!(profiles(&reopened), profiles(&database));
    assert_eq!(profiles(&reopened).len(), 6);
}

#[test]
fn a_database_its_open_created_is_not_read_until_it_reloads() {
    let storage = FlakyStorage::default();
    write_profiles(&open(&storage, 10_000), "stored", 2);
    storage.created.set(true);
    storage.reads.set(0);
    let database = open(&storage, 10_000);
    assert_eq!(storage.reads.get(), 0);
    assert_eq!(database.read(Engine::profile_count).unwrap(), 0);
    // A failed write reloads from storage, which now reads what is there.
    storage.failing.set(true);
    block_on(database.write(|engine| engine.execute(upsert("lost@example.com")))).unwrap_err();
    assert!(storage.reads.get() > 0);
    assert_eq!(database.read(Engine::profile_count).unwrap(), 2);
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

/// Everything a reader can see of an engine's events, traits and segments, by profile id.
fn derived_state(engine: &Engine) -> String {
    use std::fmt::Write;
    let mut text = format!("offset {}\n", engine.next_offset());
    for profile in engine.profiles() {
        let events: Vec<_> = engine
            .events_of(profile.id)
            .unwrap_or_default()
            .iter()
            .map(|stored| (stored.sequence, stored.event.id, stored.event.happened))
            .collect();
        let segments = engine.segments_of(profile.id);
        writeln!(
            text,
            "{} {:?} {:?} {segments:?}",
            profile.id,
            events,
            engine.trait_values(profile.id)
        )
        .unwrap();
    }
    for definition in engine.trait_definitions() {
        writeln!(text, "trait {definition:?}").unwrap();
    }
    for definition in engine.segment_definitions() {
        let title = &definition.system_title;
        writeln!(
            text,
            "segment {definition:?} {:?} {:?} {:?}",
            engine.segment_members(title),
            engine.segment_counts(title),
            engine.segment_history(title)
        )
        .unwrap();
    }
    text
}

fn run<S: Storage>(database: &Database<S>, text: &str) -> crate::engine::Outcome {
    let command = Command::from_json(text, &IdentityConfig::default()).unwrap();
    block_on(database.write(|engine| engine.execute(command)))
        .unwrap()
        .unwrap()
}

fn open_at<S: Storage>(storage: S, clock: &crate::engine::ManualClock) -> Database<S> {
    block_on(Database::open_with(
        storage,
        IdentityConfig::default(),
        Rc::new(clock.clone()),
        DatabaseOptions {
            snapshot_min_changes: 5,
            ..DatabaseOptions::default()
        },
    ))
    .unwrap()
}

/// A database with events arriving out of time order (so a refold would sum in another
/// order), a windowed and a plain trait, segments on a trait, on recent events and on an
/// attribute, a merge, and entries and exits as the clock moves on.
fn busy_database<S: Storage>(storage: S, clock: &crate::engine::ManualClock) -> Database<S> {
    let database = open_at(storage, clock);
    run(
        &database,
        r#"{"defineTrait":{"name":"spent","aggregate":"sum","event":"buy","property":"amount"}}"#,
    );
    run(
        &database,
        r#"{"defineTrait":{"name":"recent","aggregate":"sum","event":"buy","property":"amount","windowDays":2}}"#,
    );
    run(
        &database,
        r#"{"defineSegment":{"systemTitle":"spenders","rule":{"op":"range","trait":"recent","min":0.5}}}"#,
    );
    run(
        &database,
        r#"{"defineSegment":{"systemTitle":"active","rule":{"op":"didEvent","name":"buy","withinDays":1}}}"#,
    );
    run(
        &database,
        r#"{"defineSegment":{"systemTitle":"named","rule":{"op":"equals","attribute":"name","value":"N"}}}"#,
    );
    write_profiles(&database, "p", 6);
    let amounts = [0.1, 0.7, 0.2, 0.3, 1e-9, 0.6];
    for (index, amount) in amounts.iter().enumerate() {
        for (profile, hours) in [(index % 3, 30 - index), (index % 3, 2 * index)] {
            let text = format!(
                r#"{{"recordEvent":{{"identities":{{"email":"p{profile}@x.dk"}},"name":"buy","happened":"{}","properties":{{"amount":{amount}}}}}}}"#,
                clock.now().plus_seconds(-3_600 * hours as i64)
            );
            run(&database, &text);
        }
        clock.advance_seconds(3_600);
    }
    let survivor = database
        .read(|engine| engine.profiles().next().map(|profile| profile.id))
        .unwrap()
        .unwrap();
    let absorbed = database
        .read(|engine| engine.profiles().nth(1).map(|profile| profile.id))
        .unwrap()
        .unwrap();
    run(
        &database,
        &format!(r#"{{"mergeProfiles":{{"survivor":"{survivor}","absorbed":"{absorbed}"}}}}"#),
    );
    clock.advance_seconds(86_400);
    run(&database, r#"{"tick":{}}"#);
    run(
        &database,
        r#"{"upsertProfile":{"identities":{"email":"p5@x.dk"},"attributes":{"name":"M"}}}"#,
    );
    database
}

#[test]
fn snapshot_and_reopen_keep_events_traits_segments_and_history() {
    let storage = MemoryStorage::new();
    let clock = crate::engine::ManualClock::starting_at(crate::model::Timestamp::from_millis(
        1_700_000_000_000,
    ));
    let database = busy_database(&storage, &clock);
    block_on(database.write_snapshot()).unwrap();
    let covered = database.read(Engine::next_offset).unwrap();
    assert_eq!(
        database.snapshot_offset(),
        Some(covered),
        "events are snapshotted"
    );
    let before = database.read(derived_state).unwrap();
    for needle in ["spenders", "active", "named", "Exited", "Entered", "Number"] {
        assert!(
            before.contains(needle),
            "the state holds {needle}: {before}"
        );
    }
    // A copy of the stored records, so the reopened database can write on its own.
    let reopened = open_at(storage.clone(), &clock);
    assert_eq!(reopened.snapshot_offset(), Some(covered));
    assert!(reopened.skipped_snapshots().is_empty());
    assert_eq!(reopened.read(derived_state).unwrap(), before);
    assert_eq!(profiles(&reopened), profiles(&database));

    // Both go on identically: windows expire, events arrive, a tick is recorded or not.
    let text = r#"{"recordEvent":{"id":"0b1e4a6c-5f7d-4c1e-9a2b-3c4d5e6f7a8b","identities":{"email":"p3@x.dk"},"name":"buy","properties":{"amount":0.25}}}"#;
    run(&database, text);
    run(&reopened, text);
    clock.advance_seconds(86_400);
    run(&database, r#"{"tick":{}}"#);
    run(&reopened, r#"{"tick":{}}"#);
    assert_eq!(
        reopened.read(derived_state).unwrap(),
        database.read(derived_state).unwrap()
    );
}

#[test]
fn engine_with_events_compacts_its_log_and_replays_only_the_tail() {
    let storage = MemoryStorage::new();
    let clock = crate::engine::ManualClock::starting_at(crate::model::Timestamp::from_millis(
        1_700_000_000_000,
    ));
    let database = busy_database(&storage, &clock);
    let manifests = block_on(storage.snapshots()).unwrap();
    assert_eq!(
        manifests.len(),
        2,
        "snapshots follow the writes: {manifests:?}"
    );
    let error = block_on(database.changes_since(0, 1)).unwrap_err();
    assert_eq!(
        error.code(),
        "storage.offset_expired",
        "the log was compacted"
    );
    let newest = manifests[0].offset;
    assert!(
        newest < database.read(Engine::next_offset).unwrap(),
        "a tail follows"
    );
    let reopened = open_at(&storage, &clock);
    assert_eq!(reopened.snapshot_offset(), Some(newest));
    assert_eq!(
        reopened.read(derived_state).unwrap(),
        database.read(derived_state).unwrap()
    );
}

#[test]
fn snapshot_whose_segment_history_is_short_is_corrupt() {
    let storage = MemoryStorage::new();
    let clock = crate::engine::ManualClock::starting_at(crate::model::Timestamp::from_millis(
        1_700_000_000_000,
    ));
    let database = busy_database(&storage, &clock);
    let chunks: Vec<_> = database
        .read(|engine| {
            engine
                .snapshot_chunks()
                .unwrap()
                .into_iter()
                .filter(|chunk| !matches!(chunk, SnapshotChunk::SegmentHistory(_)))
                .map(|chunk| encode_frame(CHUNK_MAGIC, &chunk).unwrap())
                .collect()
        })
        .unwrap();
    let decoded = chunks
        .iter()
        .map(|bytes| decode_frame::<SnapshotChunk<'static>>(CHUNK_MAGIC, bytes).unwrap());
    let error = Engine::from_snapshot(
        IdentityConfig::default(),
        SchemaConfig::default(),
        Rc::new(clock.clone()),
        decoded,
    )
    .err()
    .unwrap();
    assert_eq!(error.code(), "storage.corrupt");
}

/// Memory storage holding one snapshot, given as hex lines (one chunk each), at `offset`.
fn storage_with_snapshot(hex: &str, offset: u64) -> MemoryStorage {
    let chunks: Vec<Vec<u8>> = hex
        .lines()
        .map(|line| {
            (0..line.len())
                .step_by(2)
                .map(|at| u8::from_str_radix(&line[at..at + 2], 16).unwrap())
                .collect()
        })
        .collect();
    let storage = MemoryStorage::new();
    let mut writer = storage.begin_snapshot(offset, 0).unwrap();
    for chunk in chunks {
        storage.put_chunk(&mut writer, chunk).unwrap();
    }
    block_on(storage.commit_snapshot(writer)).unwrap();
    storage
}

#[test]
fn snapshot_written_by_the_second_format_still_loads() {
    let storage = storage_with_snapshot(
        include_str!("../../tests/fixtures/snapshot-format-2.hex"),
        38,
    );
    assert_busy_database_loads(&storage);
}

#[test]
fn snapshot_written_by_the_third_format_still_loads() {
    let storage = storage_with_snapshot(
        include_str!("../../tests/fixtures/snapshot-format-3.hex"),
        38,
    );
    assert_busy_database_loads(&storage);
}

/// Opens `storage`, holding a snapshot of [`busy_database`] at offset 38 written by an
/// earlier build, and checks what it restored.
fn assert_busy_database_loads(storage: &MemoryStorage) {
    let database = open(storage, 10_000);
    assert_eq!(database.snapshot_offset(), Some(38));
    let (events, counts, traits) = database
        .read(|engine| {
            let counts: Vec<_> = ["spenders", "active", "named"]
                .iter()
                .map(|title| {
                    let counts = engine.segment_counts(title).unwrap();
                    (
                        counts.members,
                        counts.former_members,
                        counts.entries,
                        counts.exits,
                    )
                })
                .collect();
            let traits: Vec<_> = engine
                .profiles()
                .map(|profile| engine.trait_values(profile.id))
                .collect();
            (engine.event_store().len(), counts, traits)
        })
        .unwrap();
    assert_eq!(events, 12);
    assert_eq!(counts, [(2, 1, 3, 1), (0, 3, 3, 3), (4, 2, 6, 2)]);
    let number = |value: f64| crate::model::Value::Number(value);
    assert_eq!(traits.len(), 5);
    assert_eq!(
        traits[0]["recent"],
        number(1.1000000010000002),
        "summed as folded"
    );
    assert_eq!(traits[0]["spent"], number(2.200000002));
    assert_eq!(traits[1]["recent"], number(0.8));
    assert!(traits[2..].iter().all(std::collections::BTreeMap::is_empty));
    let people = database
        .read(|engine| {
            engine
                .profiles()
                .map(|profile| {
                    let emails: Vec<String> =
                        profile.identities.iter().map(ToString::to_string).collect();
                    let name = profile.attribute("name");
                    (emails, name, profile.aliases.len())
                })
                .collect::<Vec<_>>()
        })
        .unwrap();
    let name = |text: &str| Some(crate::model::Value::String(text.to_owned()));
    let email = |index: usize| format!("email:p{index}@x.dk");
    assert_eq!(
        people,
        [
            (vec![email(0), email(1)], name("N"), 1),
            (vec![email(2)], name("N"), 0),
            (vec![email(3)], name("N"), 0),
            (vec![email(4)], name("N"), 0),
            (vec![email(5)], name("M"), 0),
        ]
    );
    let (found, first) = database
        .read(|engine| {
            let identifier = engine
                .identity_config()
                .normalize("email", " P1@x.dk")
                .unwrap();
            let found = engine.resolve(&identifier).map(|profile| profile.id);
            (found, engine.profiles().next().map(|profile| profile.id))
        })
        .unwrap();
    assert_eq!(
        found, first,
        "the absorbed profile's email resolves to the survivor"
    );
}

#[test]
fn snapshot_written_by_the_first_format_still_loads() {
    let storage = storage_with_snapshot(
        include_str!("../../tests/fixtures/snapshot-format-1.hex"),
        14,
    );
    let database = open(&storage, 10_000);
    assert_eq!(database.snapshot_offset(), Some(14));
    assert_eq!(database.read(Engine::next_offset).unwrap(), 14);
    let emails = |engine: &Engine| -> Vec<Vec<String>> {
        engine
            .profiles()
            .map(|profile| profile.identities.iter().map(ToString::to_string).collect())
            .collect()
    };
    assert_eq!(
        database.read(emails).unwrap(),
        [
            vec!["email:ann@x.dk", "email:bob@x.dk", "phone:+4512345678"],
            vec!["email:cy@x.dk"]
        ]
    );
    let (merged, declared) = database
        .read(|engine| (engine.merges().count(), format!("{:?}", engine.schema())))
        .unwrap();
    assert_eq!(merged, 1);
    assert!(declared.contains("plan"), "{declared}");
    run(
        &database,
        r#"{"recordEvent":{"identities":{"email":"cy@x.dk"},"name":"visit"}}"#,
    );
    block_on(database.write_snapshot()).unwrap();
    let reopened = open(&storage, 10_000);
    assert_eq!(
        reopened.read(derived_state).unwrap(),
        database.read(derived_state).unwrap()
    );
}
