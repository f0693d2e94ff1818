//! What needs a real browser: the IndexedDB backend under the engine, in headless Chromium.
//! Run with `make test-browser` or `wasm-pack test --headless --chrome`.
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use cdp_engine::engine::{Command, Database, DatabaseOptions, Engine, Execution, SystemClock};
use cdp_engine::identity::IdentityConfig;
use cdp_engine::model::{Profile, ProfileId};
use cdp_engine::storage::indexeddb::{Durability, IndexedDbStorage};
use cdp_engine::storage::{Storage, StorageError};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Raw IndexedDB access, to build fixtures and damage records the way a crash or a foreign
/// writer would.
#[wasm_bindgen(inline_js = r#"
const request = (r) => new Promise((resolve, reject) => {
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});
export async function create_first_format_database(name, batches) {
  const open = indexedDB.open(name, 1);
  open.onupgradeneeded = () => open.result.createObjectStore('log');
  const db = await request(open);
  const tx = db.transaction('log', 'readwrite');
  let key = 0;
  for (const text of batches) {
    tx.objectStore('log').put(text, key);
    key += JSON.parse(text).changes.length;
  }
  await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onabort = () => reject(tx.error); });
  db.close();
}
export async function open_version_one_and_keep_it(name) {
  const open = indexedDB.open(name, 1);
  open.onupgradeneeded = () => open.result.createObjectStore('log');
  return request(open);
}
export async function flip_a_byte_in_newest_snapshot(name, chunk) {
  const db = await request(indexedDB.open(name));
  const tx = db.transaction('snapshots', 'readwrite');
  const store = tx.objectStore('snapshots');
  const keys = await request(store.getAllKeys());
  const newest = Math.max(...keys.map((key) => key[0]));
  const key = [newest, chunk];
  const bytes = new Uint8Array(await request(store.get(key)));
  bytes[bytes.length >> 1] ^= 0xff;
  store.put(bytes, key);
  await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onabort = () => reject(tx.error); });
  db.close();
  return newest;
}
export async function oldest_log_key(name) {
  const db = await request(indexedDB.open(name));
  const keys = await request(db.transaction('log').objectStore('log').getAllKeys());
  db.close();
  return keys.length === 0 ? -1 : Math.min(...keys);
}
export function delete_database(name) {
  return request(indexedDB.deleteDatabase(name));
}
const originalAdd = IDBObjectStore.prototype.add;
export function make_log_writes_fail_with(name) {
  IDBObjectStore.prototype.add = function () { throw new DOMException('simulated', name); };
}
export function restore_log_writes() {
  IDBObjectStore.prototype.add = originalAdd;
}
"#)]
extern "C" {
    async fn create_first_format_database(name: &str, batches: Vec<String>);
    async fn open_version_one_and_keep_it(name: &str) -> JsValue;
    async fn flip_a_byte_in_newest_snapshot(name: &str, chunk: u32) -> JsValue;
    async fn delete_database(name: &str) -> JsValue;
    async fn oldest_log_key(name: &str) -> JsValue;
    fn make_log_writes_fail_with(name: &str);
    fn restore_log_writes();
}

#[wasm_bindgen(module = "/js/idb-open.js")]
extern "C" {
    /// The package's opener, which owns the schema version and the upgrade.
    #[wasm_bindgen(js_name = openDatabase)]
    fn open_database(name: &str) -> js_sys::Promise;
}

/// Opens `name` as the package does: the opener's connection handed to the storage.
async fn open_storage(
    name: &str,
    durability: Durability,
) -> Result<IndexedDbStorage, StorageError> {
    IndexedDbStorage::opened(open_database(name), durability).await
}

fn fresh_name() -> String {
    format!("cdp-test-{}", ProfileId::random())
}

async fn open_with(name: &str, snapshot_min_changes: u64) -> Database<IndexedDbStorage> {
    let storage = open_storage(name, Durability::Strict).await.unwrap();
    Database::open_with(
        storage,
        IdentityConfig::default(),
        Rc::new(SystemClock),
        DatabaseOptions {
            snapshot_min_changes,
            ..DatabaseOptions::default()
        },
    )
    .await
    .unwrap()
}

async fn open(name: &str) -> Database<IndexedDbStorage> {
    open_with(name, 10_000).await
}

fn upsert(email: &str, name: &str) -> Command {
    let text = format!(
        r#"{{"upsertProfile":{{"identities":{{"email":"{email}"}},"attributes":{{"name":"{name}"}}}}}}"#
    );
    Command::from_json(&text, &IdentityConfig::default()).unwrap()
}

async fn write(database: &Database<IndexedDbStorage>, email: &str, name: &str) {
    database
        .write(|engine| engine.execute(upsert(email, name)))
        .await
        .unwrap()
        .unwrap();
}

fn profiles(database: &Database<IndexedDbStorage>) -> Vec<Profile> {
    database
        .read(|engine| engine.profiles().cloned().collect())
        .unwrap()
}

/// What `executeObject` takes, a command as a JS object, reads as its JSON text does, and a
/// command of the wrong shape fails with the same error.
#[wasm_bindgen_test]
fn js_object_commands_read_as_their_json_text() {
    let identity = IdentityConfig::default();
    let (profile, event) = (ProfileId::random(), ProfileId::random());
    let texts = [
        r#"{"upsertProfile": {"identities": {"email": [" A@B.c "]},
            "attributes": {"visits": 3, "ratio": 0.5, "name": "A", "vip": true, "gone": null},
            "tags": {"manual": ["x"]}}}"#
            .to_owned(),
        format!(
            r#"{{"batch": [{{"recordEvent": {{"profileId": "{profile}", "name": "viewed",
                "id": "{event}", "happened": "2025-03-21T10:35:24+01:00", "properties": {{"count": -2, "items": [1, 2.5, "three"]}}}}}},
                {{"changeTags": {{"profile": "{profile}", "add": ["a"], "remove": ["b"]}}}},
                {{"tick": {{}}}}]}}"#
        ),
        r#"{"tick": {"extra": 1}}"#.to_owned(),
        r#"{"setSegmentActive": {"systemTitle": "buyers", "active": "yes"}}"#.to_owned(),
        r#"{"changeTags": {"profile": "not-an-id"}}"#.to_owned(),
    ];
    let mut parsed = 0;
    for text in &texts {
        let object = js_sys::JSON::parse(text).unwrap();
        let from_object =
            Execution::from_serde(serde_wasm_bindgen::Deserializer::from(object), &identity);
        let from_text = Execution::from_json(text, &identity);
        parsed += usize::from(from_text.is_ok());
        assert_eq!(from_object, from_text, "{text}");
    }
    assert_eq!(parsed, 2);
}

/// A JS object command nested deeper than JSON text may nest is refused as its text is, and a
/// cyclic one is refused instead of exhausting the stack.
#[wasm_bindgen_test]
fn js_object_commands_nest_no_deeper_than_their_json_text() {
    let identity = IdentityConfig::default();
    let command = |value: &str| {
        format!(
            r#"{{"upsertProfile": {{"identities": {{"email": ["a@b.c"]}}, "attributes": {{"v": {value}}}}}}}"#
        )
    };
    let refused = |text: &str| {
        let object = js_sys::JSON::parse(text).unwrap();
        let from_object =
            Execution::from_serde(serde_wasm_bindgen::Deserializer::from(object), &identity);
        let from_text = Execution::from_json(text, &identity);
        assert_eq!(from_object.is_err(), from_text.is_err(), "{text}");
        from_object
            .err()
            .map(|error| (error.code(), error.to_string()))
    };
    // The value sits three levels down: with 124 levels of its own, the document has 127.
    for (levels, fits) in [(120, true), (124, true), (125, false), (300, false)] {
        let text = command(&format!("{}1{}", "[".repeat(levels), "]".repeat(levels)));
        match refused(&text) {
            None => assert!(fits, "{levels} levels read"),
            Some((code, message)) => {
                assert!(!fits, "{levels} levels refused: {message}");
                assert_eq!(code, "engine.invalid_command");
                assert!(message.contains("recursion limit exceeded"), "{message}");
            }
        }
    }
    let cyclic = js_sys::Object::new();
    js_sys::Reflect::set(&cyclic, &"self".into(), &cyclic).unwrap();
    let object = js_sys::JSON::parse(&command("{}")).unwrap();
    let attributes = js_sys::Reflect::get(
        &js_sys::Reflect::get(&object, &"upsertProfile".into()).unwrap(),
        &"attributes".into(),
    )
    .unwrap();
    js_sys::Reflect::set(&attributes, &"v".into(), &cyclic).unwrap();
    let from_object =
        Execution::from_serde(serde_wasm_bindgen::Deserializer::from(object), &identity);
    let error = from_object.expect_err("a cyclic object is refused");
    assert!(error.to_string().contains("recursion limit exceeded"));
}

#[wasm_bindgen_test]
async fn new_database_opens_empty() {
    let database = open(&fresh_name()).await;
    assert_eq!(database.read(Engine::profile_count).unwrap(), 0);
    assert!(database.storage().read_log(0).await.unwrap().is_empty());
    assert!(database.storage().snapshots().await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn only_the_open_that_creates_a_database_says_it_created_it() {
    let name = fresh_name();
    let created = open_storage(&name, Durability::Strict).await.unwrap();
    assert!(created.take_created());
    assert!(!created.take_created(), "said once, for the first load");
    created.close();
    let reopened = open_storage(&name, Durability::Strict).await.unwrap();
    assert!(!reopened.take_created());
}

#[wasm_bindgen_test]
async fn acknowledged_profiles_survive_closing_and_reopening() {
    let name = fresh_name();
    let database = open(&name).await;
    write(&database, "bib@bob.dk", "Bib").await;
    write(&database, "BIB@bob.dk", "Bib Bobsen").await;
    write(&database, "ann@bob.dk", "Ann").await;
    let before = profiles(&database);
    database.storage().close();
    drop(database);

    let reopened = open(&name).await;
    let after = profiles(&reopened);
    assert_eq!(after.len(), 2);
    assert_eq!(after, before);
    assert_eq!(after[0].attribute("name").unwrap().to_json(), "Bib Bobsen");
}

#[wasm_bindgen_test]
async fn relaxed_durability_is_an_explicit_option_that_still_persists() {
    let name = fresh_name();
    let storage = open_storage(&name, Durability::Relaxed).await.unwrap();
    let database = Database::open(storage, IdentityConfig::default(), Rc::new(SystemClock))
        .await
        .unwrap();
    write(&database, "fast@bob.dk", "Fast").await;
    database.storage().close();
    assert_eq!(open(&name).await.read(Engine::profile_count).unwrap(), 1);
}

#[wasm_bindgen_test]
async fn databases_with_different_names_are_separate() {
    let first = open(&fresh_name()).await;
    write(&first, "a@b.c", "A").await;
    let second = open(&fresh_name()).await;
    assert_eq!(second.read(Engine::profile_count).unwrap(), 0);
}

#[wasm_bindgen_test]
async fn writes_after_close_fail_with_a_code_and_change_nothing() {
    let name = fresh_name();
    let database = open(&name).await;
    write(&database, "a@b.c", "A").await;
    database.storage().close();
    let error = database
        .write(|engine| engine.execute(upsert("z@b.c", "Z")))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "storage.closed");
    drop(database);
    let reopened = open(&name).await;
    assert_eq!(reopened.read(Engine::profile_count).unwrap(), 1);
}

#[wasm_bindgen_test]
async fn database_written_in_the_first_format_opens_and_upgrades() {
    let name = fresh_name();
    let batches = include_str!("fixtures/log-format-1.jsonl")
        .lines()
        .map(str::to_owned)
        .collect();
    create_first_format_database(&name, batches).await;
    let database = open(&name).await;
    let found = profiles(&database);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].attribute("name").unwrap().to_json(), "Bib");
    assert_eq!(found[0].attribute("visits").unwrap().to_json(), 3);
    write(&database, "new@bob.dk", "New").await;
    database.storage().close();
    let reopened = open(&name).await;
    assert_eq!(reopened.read(Engine::profile_count).unwrap(), 2);
    assert_eq!(reopened.read(Engine::next_offset).unwrap(), 7);
}

#[wasm_bindgen_test]
async fn snapshots_and_tail_reload_to_the_same_state_and_compact_the_log() {
    let name = fresh_name();
    let database = open_with(&name, 5).await;
    for index in 0..30 {
        write(&database, &format!("p{index}@x.dk"), "P").await;
    }
    let manifests = database.storage().snapshots().await.unwrap();
    assert_eq!(manifests.len(), 2, "two snapshots are kept");
    let expired = database.storage().read_log(0).await.unwrap_err();
    assert_eq!(expired.code(), "storage.offset_expired");
    // The log below the older snapshot kept is dropped, after the snapshot's own commit.
    let oldest = oldest_log_key(&name).await.as_f64().unwrap();
    assert_eq!(oldest, manifests[1].offset as f64, "{manifests:?}");
    let before = profiles(&database);
    database.storage().close();
    let reopened = open_with(&name, 5).await;
    assert!(reopened.skipped_snapshots().is_empty());
    assert_eq!(profiles(&reopened), before);
}

#[wasm_bindgen_test]
async fn a_snapshot_given_up_before_its_commit_leaves_nothing_stored() {
    let storage = open_storage(&fresh_name(), Durability::Strict)
        .await
        .unwrap();
    let mut writer = storage.begin_snapshot(10, 0).unwrap();
    storage.put_chunk(&mut writer, vec![1, 2, 3]).unwrap();
    drop(writer);
    assert!(storage.snapshots().await.unwrap().is_empty());
    // Its chunk was never stored either: the snapshot's chunks at offset 10 are none.
    let manifest = cdp_engine::storage::manifest_of(10, 0, 1).unwrap();
    assert!(storage.read_snapshot(&manifest).await.unwrap().is_empty());
    // A snapshot at the same offset, committed, reads back exactly its own chunks.
    let mut writer = storage.begin_snapshot(10, 0).unwrap();
    for chunk in [vec![4], vec![5, 6]] {
        storage.put_chunk(&mut writer, chunk).unwrap();
    }
    storage.commit_snapshot(writer).await.unwrap();
    let manifests = storage.snapshots().await.unwrap();
    assert_eq!(
        manifests,
        [cdp_engine::storage::manifest_of(10, 0, 2).unwrap()]
    );
    assert_eq!(
        storage.read_snapshot(&manifests[0]).await.unwrap(),
        [vec![4], vec![5, 6]]
    );
}

#[wasm_bindgen_test]
async fn corrupted_snapshot_chunk_is_detected_and_recovered_from() {
    let name = fresh_name();
    let database = open_with(&name, 5).await;
    for index in 0..30 {
        write(&database, &format!("c{index}@x.dk"), "C").await;
    }
    let before = profiles(&database);
    database.storage().close();
    flip_a_byte_in_newest_snapshot(&name, 1).await;
    let reopened = open_with(&name, 5).await;
    let skipped: Vec<_> = reopened
        .skipped_snapshots()
        .iter()
        .map(|error| error.code())
        .collect();
    assert_eq!(skipped, ["storage.corrupt"]);
    assert_eq!(profiles(&reopened), before);
}

#[wasm_bindgen_test]
async fn two_writers_never_store_the_same_offset() {
    let name = fresh_name();
    let first = open(&name).await;
    let second = open(&name).await;
    write(&first, "one@x.dk", "One").await;
    let error = second
        .write(|engine| engine.execute(upsert("two@x.dk", "Two")))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "storage.conflict");
    assert_eq!(profiles(&second), profiles(&first), "the loser reloaded");
    write(&second, "two@x.dk", "Two").await;
    first.catch_up().await.unwrap();
    assert_eq!(first.read(Engine::profile_count).unwrap(), 2);
}

#[wasm_bindgen_test]
async fn upgrade_blocked_by_an_old_connection_fails_with_a_code() {
    let name = fresh_name();
    let _old = open_version_one_and_keep_it(&name).await;
    let error = open_storage(&name, Durability::Strict).await.unwrap_err();
    assert_eq!(error.code(), "storage.blocked");
}

#[wasm_bindgen_test]
async fn database_deleted_under_the_engine_closes_it_with_a_code() {
    let name = fresh_name();
    let database = open(&name).await;
    write(&database, "a@b.c", "A").await;
    delete_database(&name).await;
    let error = database
        .write(|engine| engine.execute(upsert("z@b.c", "Z")))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "storage.closed");
}

#[wasm_bindgen_test]
async fn quota_exceeded_is_a_clear_error_and_leaves_no_trace() {
    let name = fresh_name();
    let database = open(&name).await;
    write(&database, "kept@x.dk", "Kept").await;
    make_log_writes_fail_with("QuotaExceededError");
    let refused = database
        .write(|engine| engine.execute(upsert("lost@x.dk", "Lost")))
        .await;
    restore_log_writes();
    assert_eq!(refused.unwrap_err().code(), "storage.quota_exceeded");
    assert_eq!(database.read(Engine::profile_count).unwrap(), 1);
    database.storage().close();
    assert_eq!(open(&name).await.read(Engine::profile_count).unwrap(), 1);
}
