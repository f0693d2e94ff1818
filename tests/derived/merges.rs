//! Merges and unmerges reach derived state: events follow the survivor, computed traits are
//! refolded, the absorbed profile leaves every segment, an unmerged one comes back, and
//! replay rebuilds the same.

use std::rc::Rc;

use cdp_engine::engine::ManualClock;
use cdp_engine::model::{ProfileId, Timestamp, Value};
use cdp_engine::Engine;

use super::replay::{derived_view, replayed};
use super::support::{event, merging_engine, ok, sorted, upsert, START};

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
    let email = event(&mut engine, "a@x.dk", "purchase", 10, r#"{"amount":5}"#);
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
    assert_eq!(sorted(members), sorted(vec![survivor, absorbed]));
    assert_eq!(engine.events_of(email).unwrap().len(), 1);
    assert_eq!(engine.events_of(phone).unwrap().len(), 1);
}

fn spent(engine: &Engine, profile: ProfileId) -> Option<f64> {
    match engine.trait_values(profile).get("spent") {
        Some(Value::Integer(n)) => Some(*n as f64),
        Some(Value::Number(n)) => Some(*n),
        _ => None,
    }
}

fn owners(engine: &Engine, profile: ProfileId) -> Vec<ProfileId> {
    engine
        .events_of(profile)
        .unwrap()
        .iter()
        .map(|stored| stored.event.profile)
        .collect()
}

#[test]
fn unmerge_gives_the_restored_profile_its_events_traits_and_segments_back() {
    let (mut engine, _clock) = merging_engine();
    ok(
        &mut engine,
        r#"{"defineTrait":{"name":"spent","aggregate":"sum","event":"purchase","property":"amount"}}"#,
    );
    ok(
        &mut engine,
        r#"{"defineSegment":{"systemTitle":"buyers","rule":{"op":"didEvent","name":"purchase"}}}"#,
    );
    ok(
        &mut engine,
        r#"{"defineSegment":{"systemTitle":"big","rule":{"op":"range","trait":"spent","min":10}}}"#,
    );
    for (title, times) in [("twice", 2), ("thrice", 3)] {
        ok(
            &mut engine,
            &format!(
                r#"{{"defineSegment":{{"systemTitle":"{title}","rule":{{"op":"didEvent","name":"purchase","atLeast":{times}}}}}}}"#
            ),
        );
    }
    let kept = event(&mut engine, "a@x.dk", "purchase", 10, r#"{"amount":5}"#);
    event(&mut engine, "a@x.dk", "view", 20, r#"{}"#);
    let gone = upsert(&mut engine, "b@x.dk", r#"{}"#);
    event(&mut engine, "b@x.dk", "purchase", 15, r#"{"amount":7}"#);
    ok(
        &mut engine,
        &format!(r#"{{"mergeProfiles":{{"survivor":"{kept}","absorbed":"{gone}"}}}}"#),
    );
    // Twice only with the absorbed profile's purchase.
    assert_eq!(engine.segment_members("twice").unwrap(), vec![kept]);
    // Recorded after the merge through the absorbed profile's identifier: the survivor's.
    event(&mut engine, "b@x.dk", "purchase", 30, r#"{"amount":1}"#);
    assert_eq!(engine.events_of(kept).unwrap().len(), 4);
    assert_eq!(spent(&engine, kept), Some(13.0));
    assert_eq!(engine.segment_members("big").unwrap(), vec![kept]);
    assert_eq!(engine.segment_members("thrice").unwrap(), vec![kept]);
    let before_unmerge = derived_view(&engine);

    ok(
        &mut engine,
        &format!(r#"{{"unmergeProfile":{{"absorbed":"{gone}"}}}}"#),
    );
    assert_eq!(owners(&engine, gone), [gone]);
    assert_eq!(owners(&engine, kept), [kept, kept, kept]);
    assert_eq!(spent(&engine, gone), Some(7.0));
    assert_eq!(spent(&engine, kept), Some(6.0));
    assert_eq!(
        sorted(engine.segment_members("buyers").unwrap()),
        sorted(vec![kept, gone])
    );
    assert!(engine.segment_members("big").unwrap().is_empty());
    // Three purchases before, two left after the absorbed profile took its own back.
    assert_eq!(engine.segment_members("twice").unwrap(), vec![kept]);
    assert!(engine.segment_members("thrice").unwrap().is_empty());
    assert_ne!(derived_view(&engine), before_unmerge);

    let mut log = Vec::new();
    let rebuilt = replayed(&mut engine, &mut log);
    assert_eq!(derived_view(&rebuilt), derived_view(&engine));
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
