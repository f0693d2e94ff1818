//! FollowAnalytics' sources of record: local attributes, sharing to the global source,
//! disabling and enabling, unsharing.

use cdp_engine::model::{SourceId, Value};

use crate::support::*;

const SOURCES: &str = r#"{"sources":[{"id":"app","name":"App","kind":"app"},{"id":"crm","name":"CRM"}],
    "attributes":{"app":[{"key":"team","type":"string"}],"crm":[{"key":"team","type":"string"},{"key":"score","type":"integer"}]}}"#;

fn value_on(engine: &cdp_engine::Engine, email: &str, source: &str, key: &str) -> Option<Value> {
    engine
        .resolve(&identifier(engine, "email", email))
        .and_then(|profile| profile.source_attribute(&SourceId::new(source), key))
        .map(|written| written.value.clone())
}

fn write(engine: &mut cdp_engine::Engine, source: &str, key: &str, value: &str) {
    run(
        engine,
        &format!(
            r#"{{"upsertProfile":{{"identities":{{"email":"a@x.dk"}},"source":"{source}","attributes":{{"{key}":"{value}"}}}}}}"#
        ),
    );
}

#[test]
fn attributes_are_local_to_their_source() {
    let (mut engine, _) = engine_with("{}", SOURCES);
    write(&mut engine, "app", "team", "PSG");
    write(&mut engine, "crm", "team", "OL");
    assert_eq!(
        value_on(&engine, "a@x.dk", "app", "team"),
        Some(Value::String("PSG".into()))
    );
    assert_eq!(
        value_on(&engine, "a@x.dk", "crm", "team"),
        Some(Value::String("OL".into()))
    );
}

#[test]
fn sharing_takes_the_most_recent_enabled_value_and_redirects_writes() {
    let (mut engine, clock) = engine_with("{}", SOURCES);
    write(&mut engine, "app", "team", "PSG");
    clock.advance_seconds(1);
    write(&mut engine, "crm", "team", "OL");
    run(
        &mut engine,
        r#"{"disableAttribute":{"source":"crm","key":"team"}}"#,
    );
    run(&mut engine, r#"{"shareAttribute":{"key":"team"}}"#);
    assert_eq!(
        value_on(&engine, "a@x.dk", "global", "team"),
        Some(Value::String("PSG".into()))
    );
    write(&mut engine, "app", "team", "Real");
    assert_eq!(
        value_on(&engine, "a@x.dk", "global", "team"),
        Some(Value::String("Real".into()))
    );
    assert_eq!(
        value_on(&engine, "a@x.dk", "app", "team"),
        Some(Value::String("PSG".into()))
    );
    let command = command(
        &engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk"},"source":"crm","attributes":{"team":"X"}}}"#,
    );
    assert_eq!(
        engine.execute(command).unwrap_err().code(),
        "schema.attribute_disabled"
    );
    run(
        &mut engine,
        r#"{"enableAttribute":{"source":"crm","key":"team"}}"#,
    );
    write(&mut engine, "crm", "team", "X");
    assert_eq!(
        value_on(&engine, "a@x.dk", "global", "team"),
        Some(Value::String("X".into()))
    );
}

#[test]
fn sharing_refuses_keys_declared_with_different_types() {
    let (mut engine, _) = engine_with("{}", SOURCES);
    run(
        &mut engine,
        r#"{"declareAttribute":{"source":"app","definition":{"key":"score","type":"string"}}}"#,
    );
    assert_eq!(
        run_error(&mut engine, r#"{"shareAttribute":{"key":"score"}}"#),
        "schema.share_conflict"
    );
}

#[test]
fn unsharing_hands_the_global_value_back_to_the_sources() {
    let (mut engine, _) = engine_with("{}", SOURCES);
    write(&mut engine, "app", "team", "PSG");
    run(&mut engine, r#"{"shareAttribute":{"key":"team"}}"#);
    write(&mut engine, "crm", "team", "OL");
    run(&mut engine, r#"{"unshareAttribute":{"key":"team"}}"#);
    assert_eq!(value_on(&engine, "a@x.dk", "global", "team"), None);
    assert_eq!(
        value_on(&engine, "a@x.dk", "app", "team"),
        Some(Value::String("OL".into()))
    );
    assert_eq!(
        value_on(&engine, "a@x.dk", "crm", "team"),
        Some(Value::String("OL".into()))
    );
    assert_eq!(
        run_error(&mut engine, r#"{"unshareAttribute":{"key":"team"}}"#),
        "schema.unknown_attribute"
    );
}

#[test]
fn enabling_a_local_shared_attribute_enables_the_global_one() {
    let (mut engine, _) = engine_with("{}", SOURCES);
    run(&mut engine, r#"{"shareAttribute":{"key":"team"}}"#);
    run(
        &mut engine,
        r#"{"disableAttribute":{"source":"global","key":"team"}}"#,
    );
    run(
        &mut engine,
        r#"{"disableAttribute":{"source":"app","key":"team"}}"#,
    );
    let global = engine
        .schema()
        .attribute(&SourceId::new("global"), "team")
        .unwrap();
    assert!(global.disabled);
    run(
        &mut engine,
        r#"{"enableAttribute":{"source":"app","key":"team"}}"#,
    );
    let global = engine
        .schema()
        .attribute(&SourceId::new("global"), "team")
        .unwrap();
    assert!(!global.disabled);
    let crm = engine
        .schema()
        .attribute(&SourceId::new("crm"), "team")
        .unwrap();
    assert!(!crm.disabled && crm.shared);
}

#[test]
fn disabled_sources_refuse_values_and_deleted_ones_lose_them() {
    let (mut engine, _) = engine_with("{}", SOURCES);
    write(&mut engine, "crm", "score", "5");
    run(&mut engine, r#"{"disableSource":{"source":"crm"}}"#);
    let command = command(
        &engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk"},"source":"crm","attributes":{"score":6}}}"#,
    );
    assert_eq!(
        engine.execute(command).unwrap_err().code(),
        "schema.source_disabled"
    );
    run(&mut engine, r#"{"enableSource":{"source":"crm"}}"#);
    run(&mut engine, r#"{"deleteSource":{"source":"crm"}}"#);
    assert_eq!(value_on(&engine, "a@x.dk", "crm", "score"), None);
    assert!(engine.schema().source(&SourceId::new("crm")).is_none());
    assert_eq!(
        run_error(&mut engine, r#"{"deleteSource":{"source":"global"}}"#),
        "schema.global_source_fixed"
    );
}

#[test]
fn deleting_an_attribute_removes_its_values() {
    let (mut engine, _) = engine_with("{}", SOURCES);
    write(&mut engine, "crm", "score", "5");
    assert_eq!(
        value_on(&engine, "a@x.dk", "crm", "score"),
        Some(Value::Integer(5))
    );
    run(
        &mut engine,
        r#"{"deleteAttribute":{"source":"crm","key":"score"}}"#,
    );
    assert_eq!(value_on(&engine, "a@x.dk", "crm", "score"), None);
    assert!(engine
        .schema()
        .attribute(&SourceId::new("crm"), "score")
        .is_none());
}

#[test]
fn replay_of_schema_changes_equals_the_live_state() {
    let (mut engine, clock) = engine_with("{}", SOURCES);
    write(&mut engine, "app", "team", "PSG");
    clock.advance_seconds(1);
    write(&mut engine, "crm", "score", "7");
    run(
        &mut engine,
        r#"{"declareSource":{"id":"pos","name":"Shops"}}"#,
    );
    run(
        &mut engine,
        r#"{"declareAttribute":{"source":"pos","definition":{"key":"team","type":"String"}}}"#,
    );
    run(&mut engine, r#"{"shareAttribute":{"key":"team"}}"#);
    write(&mut engine, "pos", "team", "OL");
    run(
        &mut engine,
        r#"{"disableAttribute":{"source":"app","key":"team"}}"#,
    );
    run(
        &mut engine,
        r#"{"renameSource":{"source":"crm","name":"Sales"}}"#,
    );
    run(&mut engine, r#"{"unshareAttribute":{"key":"team"}}"#);
    run(
        &mut engine,
        r#"{"deleteAttribute":{"source":"crm","key":"score"}}"#,
    );
    let changes = engine.take_unpersisted();
    let offsets: Vec<u64> = changes.iter().map(|change| change.offset).collect();
    assert_eq!(offsets, (0..engine.next_offset()).collect::<Vec<_>>());
    let replay = replayed(&engine, changes);
    assert_eq!(snapshot(&replay), snapshot(&engine));
}
