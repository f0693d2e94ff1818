//! The merge policy: matched profiles merge into one, the log explains it, old ids keep
//! resolving, and an unmerge restores both.

use cdp_engine::engine::{Operation, Outcome};
use cdp_engine::model::{TagKind, Value};

use crate::support::*;

#[test]
fn matched_profiles_merge_and_old_ids_keep_resolving() {
    let (mut engine, clock) = merging_engine();
    let ann = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"ann@x.dk"},"attributes":{"city":"Aarhus","since":2019},"tags":{"manual":["vip"]}}}"#,
    ));
    clock.advance_seconds(10);
    let phone = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"phone":"+4511"},"attributes":{"city":"Odense"},"tags":{"manual":["new"]},"consents":{"marketing":true}}}"#,
    ));
    engine.take_unpersisted();
    clock.advance_seconds(10);
    let outcome = run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"ann@x.dk","phone":"+4511"}}}"#,
    );
    let Outcome::Profile { id, merged, .. } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!((id, merged.as_slice()), (ann, [phone].as_slice()));
    assert_eq!(engine.profile_count(), 1);
    assert_eq!(engine.profile(phone).unwrap().id, ann);
    let survivor = engine.profile(ann).unwrap();
    assert_eq!(survivor.aliases, [phone]);
    assert_eq!(
        survivor.attribute("city"),
        Some(Value::String("Odense".into()))
    );
    assert_eq!(survivor.attribute("since"), Some(Value::Integer(2019)));
    assert_eq!(survivor.tags.of(TagKind::Manual).len(), 2);
    assert_eq!(
        survivor.consents.get("marketing"),
        Some(&Value::Boolean(true))
    );
    assert_eq!(
        engine
            .resolve(&identifier(&engine, "phone", "+4511"))
            .unwrap()
            .id,
        ann
    );
    let record = engine.merge_of(phone).unwrap();
    assert_eq!(record.survivor, ann);
    assert_eq!(record.because, [identifier(&engine, "phone", "+4511")]);
    let logged = engine.take_unpersisted();
    assert!(matches!(
        &logged[0].operation,
        Operation::ProfileMerged { survivor, absorbed, .. } if *survivor == ann && absorbed.id == phone
    ));
}

#[test]
fn sets_are_united_when_profiles_merge() {
    let (mut engine, clock) = merging_engine();
    run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk"},"setActions":[{"key":"hobbies","action":"ADD","value":"Sport"}]}}"#,
    );
    clock.advance_seconds(1);
    run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"crm":"c"},"setActions":[{"key":"hobbies","action":"ADD","value":"Chess"}]}}"#,
    );
    let id = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk","crm":"c"}}}"#,
    ));
    assert_eq!(
        engine.profile(id).unwrap().attribute("hobbies"),
        Some(Value::Set(["Chess".to_owned(), "Sport".to_owned()].into()))
    );
}

#[test]
fn higher_priority_identifier_type_picks_the_survivor() {
    let (mut engine, _) = engine_with(
        r#"{"policy":"merge","types":[{"name":"email","normalization":"email"},{"name":"crm","priority":10}]}"#,
        "{}",
    );
    run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk"}}}"#,
    );
    let crm = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"crm":"C1"}}}"#,
    ));
    let outcome = run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk","crm":"C1"}}}"#,
    );
    assert_eq!(profile_of(&outcome), crm);
}

#[test]
fn unmerge_restores_both_profiles_exactly() {
    let (mut engine, clock) = merging_engine();
    let ann = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"ann@x.dk"},"attributes":{"city":"Aarhus"}}}"#,
    ));
    clock.advance_seconds(5);
    let phone = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"phone":"+4511"},"attributes":{"city":"Odense","age":40},"tags":{"auto":["x"]}}}"#,
    ));
    let ann_before = engine.profile(ann).unwrap().clone();
    let phone_before = engine.profile(phone).unwrap().clone();
    clock.advance_seconds(5);
    run(
        &mut engine,
        &format!(r#"{{"mergeProfiles":{{"survivor":"{ann}","absorbed":"{phone}"}}}}"#),
    );
    assert_eq!(engine.profile_count(), 1);
    clock.advance_seconds(5);
    let outcome = run(
        &mut engine,
        &format!(r#"{{"unmergeProfile":{{"absorbed":"{phone}"}}}}"#),
    );
    assert_eq!(
        outcome,
        Outcome::Unmerged {
            survivor: ann,
            restored: phone
        }
    );
    assert_eq!(engine.profile_count(), 2);
    let (ann_after, phone_after) = (engine.profile(ann).unwrap(), engine.profile(phone).unwrap());
    assert_eq!(ann_after.identities, ann_before.identities);
    assert_eq!(ann_after.attributes, ann_before.attributes);
    assert_eq!(ann_after.tags, ann_before.tags);
    assert!(ann_after.aliases.is_empty());
    assert_eq!(phone_after.identities, phone_before.identities);
    assert_eq!(phone_after.attributes, phone_before.attributes);
    assert_eq!(phone_after.tags, phone_before.tags);
    assert_eq!(
        engine
            .resolve(&identifier(&engine, "phone", "+4511"))
            .unwrap()
            .id,
        phone
    );
    assert!(engine.merge_of(phone).is_none());
    assert_eq!(
        run_error(
            &mut engine,
            &format!(r#"{{"unmergeProfile":{{"absorbed":"{phone}"}}}}"#)
        ),
        "identity.not_merged"
    );
}

#[test]
fn unmerge_of_a_survivor_merged_since_is_refused() {
    let (mut engine, _) = merging_engine();
    let a = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk"}}}"#,
    ));
    let b = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"b@x.dk"}}}"#,
    ));
    let c = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"c@x.dk"}}}"#,
    ));
    run(
        &mut engine,
        &format!(r#"{{"mergeProfiles":{{"survivor":"{b}","absorbed":"{a}"}}}}"#),
    );
    run(
        &mut engine,
        &format!(r#"{{"mergeProfiles":{{"survivor":"{c}","absorbed":"{b}"}}}}"#),
    );
    assert_eq!(engine.profile(a).unwrap().id, c);
    assert_eq!(
        run_error(
            &mut engine,
            &format!(r#"{{"unmergeProfile":{{"absorbed":"{a}"}}}}"#)
        ),
        "identity.survivor_merged"
    );
    run(
        &mut engine,
        &format!(r#"{{"unmergeProfile":{{"absorbed":"{b}"}}}}"#),
    );
    assert_eq!(engine.profile(a).unwrap().id, b);
    run(
        &mut engine,
        &format!(r#"{{"unmergeProfile":{{"absorbed":"{a}"}}}}"#),
    );
    assert_eq!(engine.profile_count(), 3);
}

#[test]
fn merge_with_itself_or_an_unknown_profile_is_refused() {
    let (mut engine, _) = merging_engine();
    let a = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk"}}}"#,
    ));
    let unknown = cdp_engine::model::ProfileId::random();
    assert_eq!(
        run_error(
            &mut engine,
            &format!(r#"{{"mergeProfiles":{{"survivor":"{a}","absorbed":"{a}"}}}}"#)
        ),
        "identity.same_profile"
    );
    assert_eq!(
        run_error(
            &mut engine,
            &format!(r#"{{"mergeProfiles":{{"survivor":"{a}","absorbed":"{unknown}"}}}}"#)
        ),
        "identity.unknown_profile"
    );
}

#[test]
fn replay_of_merges_and_unmerges_equals_the_live_state() {
    let (mut engine, clock) = merging_engine();
    let a = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk"},"attributes":{"n":1}}}"#,
    ));
    clock.advance_seconds(1);
    let b = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"crm":"b"},"attributes":{"n":2}}}"#,
    ));
    run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk","crm":"b","phone":"123"}}}"#,
    );
    run(
        &mut engine,
        &format!(r#"{{"unmergeProfile":{{"absorbed":"{b}"}}}}"#),
    );
    run(
        &mut engine,
        &format!(r#"{{"mergeProfiles":{{"survivor":"{b}","absorbed":"{a}"}}}}"#),
    );
    let changes = engine.unpersisted().to_vec();
    let mut replay = replayed(&engine, changes);
    let mut live = snapshot(&engine);
    live.unpersisted = 0;
    assert_eq!(snapshot(&replay), live);
    assert_eq!(replay.take_unpersisted().len(), 0);
}

#[test]
fn merges_survive_the_stored_form_of_the_log() {
    let (mut engine, clock) = merging_engine();
    let a = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk"},"setActions":[{"key":"s","action":"ADD","value":"x"}]}}"#,
    ));
    clock.advance_seconds(1);
    run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"crm":"b"},"attributes":{"n":2},"consents":{"marketing":false}}}"#,
    );
    run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk","crm":"b"}}}"#,
    );
    let stored = serde_json::to_string(engine.unpersisted()).unwrap();
    let loaded: Vec<cdp_engine::engine::Change> = serde_json::from_str(&stored).unwrap();
    let replay = replayed(&engine, loaded);
    let mut live = snapshot(&engine);
    live.unpersisted = 0;
    assert_eq!(snapshot(&replay), live);
    assert_eq!(replay.profile(a).unwrap().aliases.len(), 1);
}
