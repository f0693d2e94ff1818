use cdp_engine::engine::Outcome;
use cdp_engine::model::{Timestamp, Value};

use super::support::{engine, event, ok, run, START};

#[test]
fn trait_defined_after_events_folds_the_history() {
    let (mut engine, _) = engine();
    let profile = event(
        &mut engine,
        "a@example.com",
        "purchase",
        0,
        r#"{"amount": 10}"#,
    );
    event(
        &mut engine,
        "a@example.com",
        "purchase",
        60,
        r#"{"amount": 2.5}"#,
    );
    event(&mut engine, "a@example.com", "view", 90, "{}");
    ok(
        &mut engine,
        r#"{"defineTrait":{"name":"ltv","aggregate":"sum","event":"purchase","property":"amount"}}"#,
    );
    ok(
        &mut engine,
        r#"{"defineTrait":{"name":"last_time_purchased","aggregate":"last","event":"purchase"}}"#,
    );
    let values = engine.trait_values(profile);
    assert_eq!(values["ltv"], Value::Number(12.5));
    assert_eq!(
        values["last_time_purchased"],
        Value::DateTime(Timestamp::parse(START).unwrap().plus_seconds(60))
    );
    event(
        &mut engine,
        "a@example.com",
        "purchase",
        120,
        r#"{"amount": 1}"#,
    );
    assert_eq!(engine.trait_values(profile)["ltv"], Value::Number(13.5));
}

#[test]
fn property_filters_narrow_the_events_a_trait_reads() {
    let (mut engine, _) = engine();
    ok(
        &mut engine,
        r#"{"defineTrait":{"name":"eur","aggregate":"count","event":"purchase","where":[{"property":"currency","op":"equals","value":"EUR"}]}}"#,
    );
    let profile = event(
        &mut engine,
        "a@example.com",
        "purchase",
        0,
        r#"{"currency": "EUR"}"#,
    );
    event(
        &mut engine,
        "a@example.com",
        "purchase",
        1,
        r#"{"currency": "USD"}"#,
    );
    assert_eq!(engine.trait_values(profile)["eur"], Value::Integer(1));
}

#[test]
fn windowed_trait_expires_on_tick_and_tick_records_only_when_something_changes() {
    let (mut engine, clock) = engine();
    ok(
        &mut engine,
        r#"{"defineTrait":{"name":"recent","aggregate":"count","event":"visit","windowDays":1}}"#,
    );
    let profile = event(&mut engine, "a@example.com", "visit", 0, "{}");
    assert_eq!(engine.trait_values(profile)["recent"], Value::Integer(1));
    let offset = engine.next_offset();
    clock.advance_seconds(3_600);
    assert_eq!(
        ok(&mut engine, r#"{"tick":{}}"#),
        Outcome::Ticked { changed: false }
    );
    assert_eq!(engine.next_offset(), offset);
    clock.advance_seconds(86_400);
    assert_eq!(
        ok(&mut engine, r#"{"tick":{}}"#),
        Outcome::Ticked { changed: true }
    );
    assert_eq!(engine.next_offset(), offset + 1);
    assert!(!engine.trait_values(profile).contains_key("recent"));
}

#[test]
fn deleting_a_trait_removes_its_values_and_unknown_ones_are_rejected() {
    let (mut engine, _) = engine();
    ok(
        &mut engine,
        r#"{"defineTrait":{"name":"n","aggregate":"count","event":"e"}}"#,
    );
    let profile = event(&mut engine, "a@example.com", "e", 0, "{}");
    ok(&mut engine, r#"{"deleteTrait":{"name":"n"}}"#);
    assert!(engine.trait_values(profile).is_empty());
    let error = run(&mut engine, r#"{"deleteTrait":{"name":"n"}}"#).unwrap_err();
    assert_eq!(error.code(), "traits.unknown");
    let error = run(
        &mut engine,
        r#"{"defineTrait":{"name":"n","aggregate":"sum","event":"e"}}"#,
    )
    .unwrap_err();
    assert_eq!(error.code(), "traits.invalid_definition");
}
