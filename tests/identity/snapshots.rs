//! A snapshot taken after merges and schema changes restores an engine that is the same and
//! behaves the same: merges explain and unmerge, declarations keep typing writes.

use std::rc::Rc;

use cdp_engine::engine::{Engine, SnapshotChunk};
use cdp_engine::storage::codec::{decode_frame, encode_frame, CHUNK_MAGIC};

use crate::support::{clock, engine_with, profile_of, run, run_error, snapshot};

/// The engine rebuilt from its own snapshot chunks, as storage would after encoding them.
fn restored(engine: &Engine) -> Engine {
    let chunks: Vec<SnapshotChunk<'static>> = engine
        .snapshot_chunks()
        .unwrap()
        .iter()
        .map(|chunk| decode_frame(CHUNK_MAGIC, &encode_frame(CHUNK_MAGIC, chunk).unwrap()).unwrap())
        .collect();
    Engine::from_snapshot(
        engine.identity_config().clone(),
        engine.schema_config().clone(),
        Rc::new(clock()),
        chunks,
    )
    .unwrap()
}

#[test]
fn snapshot_after_merges_and_declarations_restores_the_same_engine() {
    let (mut engine, _clock) = engine_with(r#"{"policy":"merge"}"#, "{}");
    run(
        &mut engine,
        r#"{"declareSource":{"id":"crm","name":"CRM","kind":"custom"}}"#,
    );
    run(
        &mut engine,
        r#"{"declareAttribute":{"source":"crm","definition":{"key":"vip","type":"boolean"}}}"#,
    );
    let first = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk"},"source":"crm","attributes":{"vip":"true"}}}"#,
    ));
    run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"phone":"+45 11 22 33 44"}}}"#,
    );
    let merged = run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk","phone":"+4511223344"}}}"#,
    );
    assert_eq!(profile_of(&merged), first);
    engine.take_unpersisted();

    let mut copy = restored(&engine);
    assert_eq!(snapshot(&copy), snapshot(&engine));
    assert_eq!(copy.profile_count(), 1);

    let absorbed = engine.merges().next().unwrap().absorbed.id;
    assert_eq!(
        copy.profile(absorbed).map(|profile| profile.id),
        Some(first)
    );
    let unmerge = format!(r#"{{"unmergeProfile":{{"absorbed":"{absorbed}"}}}}"#);
    run(&mut engine, &unmerge);
    run(&mut copy, &unmerge);
    assert_eq!(snapshot(&copy), snapshot(&engine));
    assert_eq!(copy.profile_count(), 2);

    let bad = r#"{"upsertProfile":{"identities":{"email":"a@x.dk"},"source":"crm","attributes":{"vip":"maybe"}}}"#;
    assert_eq!(run_error(&mut copy, bad), "schema.type_mismatch");
}
