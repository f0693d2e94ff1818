//! Declared attribute types applied to writes: coercion, limits, immutability, set actions
//! and tags, each rejected whole when it does not fit.

use cdp_engine::model::{SourceId, Timestamp, Value};

use crate::support::*;

const CHARTMOGUL_LIKE: &str = r#"{"attributes":{"default":[
    {"key":"is_paying","type":"Boolean"},
    {"key":"seats","type":"integer"},
    {"key":"renews","type":"Timestamp"},
    {"key":"name","type":"string","maxLength":255},
    {"key":"external_id","type":"string","immutable":true},
    {"key":"address","type":"object","maxLength":255,"fieldMaxLengths":{"street":500}},
    {"key":"hobbies","type":"set"}
]},"tagsMaxLength":10}"#;

#[test]
fn declared_types_coerce_vendor_spellings() {
    let (mut engine, _) = engine_with("{}", CHARTMOGUL_LIKE);
    let id = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk"},"attributes":{"is_paying":"t","seats":"12","renews":"2025-03-21T10:35:24+01:00"}}}"#,
    ));
    let profile = engine.profile(id).unwrap();
    assert_eq!(profile.attribute("is_paying"), Some(Value::Boolean(true)));
    assert_eq!(profile.attribute("seats"), Some(Value::Integer(12)));
    assert_eq!(
        profile.attribute("renews"),
        Some(Value::DateTime(
            Timestamp::parse("2025-03-21T09:35:24Z").unwrap()
        ))
    );
}

#[test]
fn a_write_that_breaks_its_type_is_rejected_whole_naming_the_key() {
    let (mut engine, _) = engine_with("{}", CHARTMOGUL_LIKE);
    let before = snapshot(&engine);
    let command = command(
        &engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk"},"attributes":{"seats":3,"is_paying":"maybe"}}}"#,
    );
    let error = engine.execute(command).unwrap_err();
    assert_eq!(error.code(), "schema.type_mismatch");
    assert!(error.to_string().contains("is_paying"));
    assert_eq!(snapshot(&engine), before);
}

#[test]
fn string_and_nested_field_limits_are_enforced() {
    let (mut engine, _) = engine_with("{}", CHARTMOGUL_LIKE);
    let long_name = "n".repeat(256);
    assert_eq!(
        run_error(
            &mut engine,
            &format!(
                r#"{{"upsertProfile":{{"identities":{{"email":"a@x.dk"}},"attributes":{{"name":"{long_name}"}}}}}}"#
            )
        ),
        "schema.too_long"
    );
    let street = "s".repeat(500);
    run(
        &mut engine,
        &format!(
            r#"{{"upsertProfile":{{"identities":{{"email":"a@x.dk"}},"attributes":{{"address":{{"street":"{street}","city":"Aarhus"}}}}}}}}"#
        ),
    );
}

#[test]
fn immutable_attributes_are_set_once() {
    let (mut engine, _) = engine_with("{}", CHARTMOGUL_LIKE);
    run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk"},"attributes":{"external_id":"E1"}}}"#,
    );
    run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk"},"attributes":{"external_id":"E1"}}}"#,
    );
    for change in [r#""E2""#, "null"] {
        assert_eq!(
            run_error(
                &mut engine,
                &format!(
                    r#"{{"upsertProfile":{{"identities":{{"email":"a@x.dk"}},"attributes":{{"external_id":{change}}}}}}}"#
                )
            ),
            "schema.immutable"
        );
    }
}

#[test]
fn null_removes_a_value_and_set_actions_follow_followanalytics() {
    let (mut engine, _) = engine_with("{}", CHARTMOGUL_LIKE);
    let id = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk"},"attributes":{"seats":3},
            "setActions":[{"key":"hobbies","action":"ADD","value":"Sport"},{"key":"hobbies","action":"ADD","value":"Reading"},{"key":"hobbies","action":"REMOVE","value":"Sport"}]}}"#,
    ));
    let profile = engine.profile(id).unwrap();
    assert_eq!(
        profile.attribute("hobbies"),
        Some(Value::Set(["Reading".to_owned()].into()))
    );
    run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk"},"attributes":{"seats":null},"setActions":[{"key":"hobbies","action":"DEL"}]}}"#,
    );
    let profile = engine.profile(id).unwrap();
    assert_eq!(profile.attribute("seats"), None);
    assert_eq!(profile.attribute("hobbies"), None);
    assert!(!profile.attributes.contains_key(&SourceId::default_source()));
}

#[test]
fn undeclared_attributes_keep_their_inferred_type() {
    let (mut engine, _) = rejecting_engine();
    let id = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk"},"attributes":{"visits":3,"ratio":0.5,"note":"t"}}}"#,
    ));
    let profile = engine.profile(id).unwrap();
    assert_eq!(profile.attribute("visits"), Some(Value::Integer(3)));
    assert_eq!(profile.attribute("note"), Some(Value::String("t".into())));
}

#[test]
fn tags_of_each_kind_add_up_to_the_configured_length() {
    let (mut engine, _) = engine_with("{}", CHARTMOGUL_LIKE);
    let id = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk"},"tags":{"manual":["vip","gold"],"auto":["abcdefghij"]}}}"#,
    ));
    assert_eq!(
        run_error(
            &mut engine,
            r#"{"upsertProfile":{"identities":{"email":"a@x.dk"},"tags":{"manual":["four"]}}}"#
        ),
        "schema.too_long"
    );
    run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk"},"tags":{"manual":["four"]},"removeTags":{"manual":["gold"]}}}"#,
    );
    let manual = &engine.profile(id).unwrap().tags.manual;
    assert_eq!(manual.iter().collect::<Vec<_>>(), ["four", "vip"]);
}

#[test]
fn declaring_an_attribute_is_a_logged_command() {
    let (mut engine, _) = rejecting_engine();
    run(
        &mut engine,
        r#"{"declareAttribute":{"definition":{"key":"is_valid","type":"Boolean"}}}"#,
    );
    assert_eq!(
        engine.take_unpersisted()[0].operation.name(),
        "attribute_declared"
    );
    assert_eq!(
        run_error(
            &mut engine,
            r#"{"upsertProfile":{"identities":{"email":"a@x.dk"},"attributes":{"is_valid":"yes"}}}"#
        ),
        "schema.type_mismatch"
    );
    assert_eq!(
        run_error(
            &mut engine,
            r#"{"declareAttribute":{"definition":{"key":"is_valid","type":"string"}}}"#
        ),
        "schema.attribute_exists"
    );
    assert_eq!(
        run_error(
            &mut engine,
            r#"{"updateAttribute":{"definition":{"key":"is_valid","type":"string"}}}"#
        ),
        "schema.type_mismatch"
    );
}
