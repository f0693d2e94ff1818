//! Merges and unmerges reach derived state: events follow the survivor, computed traits are
//! refolded, the absorbed profile leaves every segment, an unmerged one comes back, and
//! replay rebuilds the same.

use std::rc::Rc;

use cdp_engine::engine::ManualClock;
use cdp_engine::identity::IdentityConfig;
use cdp_engine::model::{Timestamp, Value};
use cdp_engine::Engine;

use super::support::{event, ok, upsert, START};

fn merging_engine() -> (Engine, ManualClock) {
    let clock = ManualClock::starting_at(Timestamp::parse(START).unwrap());
    let identity: IdentityConfig = serde_json::from_str(r#"{"policy":"merge"}"#).unwrap();
    (Engine::new(identity, Rc::new(clock.clone())), clock)
}

#[test]
fn merge_moves_events_refolds_traits_and_retires_the_absorbed_member() {
    let (mut engine, _clock) = merging_engine();
    ok(
        &mut engine,
        r#"{"defineTrait":{"name":"spent","aggregate":"sum","event":"purchase","property":"amount"}}"#,
    );
    ok(
        &mut engine,
        r#"{"defineSegment":{"systemTitle":"buyers","rule":{"op":"didEvent","name":"purchase"}}}"#,
    );
    event(&mut engine, "a@x.dk", "purchase", 10, r#"{"amount":5}"#);
    let phone = ok(
        &mut engine,
        r#"{"recordEvent":{"identities":{"phone":"+4511"},"name":"purchase","properties":{"amount":7}}}"#,
    )
    .profile_id()
    .unwrap();
    assert_eq!(engine.segment_members("buyers").unwrap().len(), 2);

    let merged = ok(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk","phone":"+4511"}}}"#,
    );
    let survivor = merged.profile_id().unwrap();
    let absorbed = if survivor == phone {
        engine.merges().next().unwrap().absorbed.id
    } else {
        phone
    };
    assert_eq!(engine.profile_count(), 1);
    assert_eq!(engine.events_of(survivor).unwrap().len(), 2);
    let spent = engine.trait_values(survivor).get("spent").cloned();
    assert!(
        matches!(spent, Some(Value::Integer(12)))
            || matches!(spent, Some(Value::Number(n)) if n == 12.0),
        "{spent:?}"
    );
    assert_eq!(engine.segment_members("buyers").unwrap(), vec![survivor]);

    let changes = engine.take_unpersisted();
    let replayed = Engine::replay(
        engine.identity_config().clone(),
        Rc::new(ManualClock::starting_at(Timestamp::parse(START).unwrap())),
        changes.clone(),
    )
    .unwrap();
    assert_eq!(
        replayed.segment_members("buyers"),
        engine.segment_members("buyers")
    );
    assert_eq!(
        replayed.trait_values(survivor),
        engine.trait_values(survivor)
    );

    ok(
        &mut engine,
        &format!(r#"{{"unmergeProfile":{{"absorbed":"{absorbed}"}}}}"#),
    );
    assert_eq!(engine.profile_count(), 2);
    let members = engine.segment_members("buyers").unwrap();
    assert!(members.contains(&survivor), "{members:?}");
}

#[test]
fn an_absorbed_profile_without_events_leaves_segments_on_attributes() {
    let (mut engine, _clock) = merging_engine();
    ok(
        &mut engine,
        r#"{"defineSegment":{"systemTitle":"gold","rule":{"op":"equals","attribute":"plan","value":"gold"}}}"#,
    );
    upsert(&mut engine, "a@x.dk", r#"{"plan":"gold"}"#);
    ok(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"phone":"+4522"},"attributes":{"plan":"gold"}}}"#,
    );
    assert_eq!(engine.segment_members("gold").unwrap().len(), 2);
    ok(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk","phone":"+4522"}}}"#,
    );
    assert_eq!(engine.segment_members("gold").unwrap().len(), 1);
    assert_eq!(engine.segment_size("gold"), Some(1));
}
