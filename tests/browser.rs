//! What needs a real browser: the IndexedDB backend under the engine, in headless Chromium.
//! Run with `make test-browser` or `wasm-pack test --headless --chrome`.
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use cdp_engine::engine::{Command, Database, SystemClock};
use cdp_engine::identity::IdentityConfig;
use cdp_engine::model::ProfileId;
use cdp_engine::storage::indexeddb::IndexedDbStorage;
use cdp_engine::storage::Storage;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn fresh_name() -> String {
    format!("cdp-test-{}", ProfileId::random())
}

async fn open(name: &str) -> Database<IndexedDbStorage> {
    let storage = IndexedDbStorage::open(name).await.unwrap();
    Database::open(storage, IdentityConfig::default(), Rc::new(SystemClock))
        .await
        .unwrap()
}

fn upsert(email: &str, name: &str) -> Command {
    let text = format!(
        r#"{{"upsertProfile":{{"identities":{{"email":"{email}"}},"attributes":{{"name":"{name}"}}}}}}"#
    );
    Command::from_json(&text, &IdentityConfig::default()).unwrap()
}

#[wasm_bindgen_test]
async fn new_database_opens_empty() {
    let database = open(&fresh_name()).await;
    assert_eq!(database.read(|engine| engine.profile_count()).unwrap(), 0);
    assert!(database.storage().load().await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn acknowledged_profiles_survive_closing_and_reopening() {
    let name = fresh_name();
    let database = open(&name).await;
    database
        .write(|engine| engine.execute(upsert("bib@bob.dk", "Bib")))
        .await
        .unwrap()
        .unwrap();
    database
        .write(|engine| engine.execute(upsert("BIB@bob.dk", "Bib Bobsen")))
        .await
        .unwrap()
        .unwrap();
    database
        .write(|engine| engine.execute(upsert("ann@bob.dk", "Ann")))
        .await
        .unwrap()
        .unwrap();
    let before: Vec<_> = database
        .read(|engine| engine.profiles().cloned().collect())
        .unwrap();
    database.storage().close();
    drop(database);

    let reopened = open(&name).await;
    let after: Vec<_> = reopened
        .read(|engine| engine.profiles().cloned().collect())
        .unwrap();
    assert_eq!(after.len(), 2);
    assert_eq!(after, before);
    assert_eq!(after[0].attribute("name").unwrap().to_json(), "Bib Bobsen");
}

#[wasm_bindgen_test]
async fn databases_with_different_names_are_separate() {
    let first = open(&fresh_name()).await;
    first
        .write(|engine| engine.execute(upsert("a@b.c", "A")))
        .await
        .unwrap()
        .unwrap();
    let second = open(&fresh_name()).await;
    assert_eq!(second.read(|engine| engine.profile_count()).unwrap(), 0);
}

#[wasm_bindgen_test]
async fn writes_after_close_fail_with_a_code_and_change_nothing() {
    let name = fresh_name();
    let database = open(&name).await;
    database
        .write(|engine| engine.execute(upsert("a@b.c", "A")))
        .await
        .unwrap()
        .unwrap();
    database.storage().close();
    let error = database
        .write(|engine| engine.execute(upsert("z@b.c", "Z")))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "storage.closed");
    drop(database);
    let reopened = open(&name).await;
    assert_eq!(reopened.read(|engine| engine.profile_count()).unwrap(), 1);
}
