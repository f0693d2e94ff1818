//! Finding the one profile a write belongs to, under the reject-on-conflict policy, with
//! per-type limits, case rules and non-unique types.

use crate::support::*;

#[test]
fn one_match_gets_the_new_identifiers_added() {
    let (mut engine, _) = rejecting_engine();
    let first = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"Bib@Bob.dk"}}}"#,
    ));
    let again = run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":" bib@bob.DK","phone":"+45 20 30 40 50"}}}"#,
    );
    assert_eq!(profile_of(&again), first);
    let phone = identifier(&engine, "phone", "+4520304050");
    assert_eq!(engine.resolve(&phone).unwrap().id, first);
    assert_eq!(engine.profile_count(), 1);
}

#[test]
fn conflict_is_rejected_naming_both_profiles_and_changes_nothing() {
    let (mut engine, _) = rejecting_engine();
    let ann = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"ann@x.dk"}}}"#,
    ));
    let bob = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"bob@x.dk"}}}"#,
    ));
    let before = snapshot(&engine);
    let command = command(
        &engine,
        r#"{"upsertProfile":{"identities":{"email":["ann@x.dk","bob@x.dk"]},"attributes":{"name":"A"}}}"#,
    );
    let error = engine.execute(command).unwrap_err();
    assert_eq!(error.code(), "identity.conflict");
    let message = error.to_string();
    assert!(message.contains(&ann.to_string()) && message.contains(&bob.to_string()));
    assert_eq!(snapshot(&engine), before);
}

#[test]
fn over_the_limit_the_oldest_identifier_is_dropped() {
    let (mut engine, _) = engine_with(
        r#"{"types":[{"name":"device","limit":2,"onLimit":"dropOldest"},{"name":"email","normalization":"email"}]}"#,
        "{}",
    );
    let id = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk","device":["d1","d2"]}}}"#,
    ));
    run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk","device":"d3"}}}"#,
    );
    let devices: Vec<_> = engine
        .profile(id)
        .unwrap()
        .identities
        .iter()
        .filter(|identifier| identifier.kind() == "device")
        .map(|identifier| identifier.value().to_owned())
        .collect();
    assert_eq!(devices, ["d2", "d3"]);
    assert!(engine
        .resolve(&identifier(&engine, "device", "d1"))
        .is_none());
}

#[test]
fn over_a_rejecting_limit_the_write_fails_whole() {
    let (mut engine, _) = engine_with(
        r#"{"types":[{"name":"email","normalization":"email","limit":1,"onLimit":"reject"}]}"#,
        "{}",
    );
    run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk","crm":"c1"}}}"#,
    );
    let before = snapshot(&engine);
    assert_eq!(
        run_error(
            &mut engine,
            r#"{"upsertProfile":{"identities":{"crm":"c1","email":"b@x.dk"},"attributes":{"n":1}}}"#
        ),
        "identity.limit_exceeded"
    );
    assert_eq!(snapshot(&engine), before);
}

#[test]
fn non_unique_types_are_kept_but_never_resolve() {
    let (mut engine, _) = engine_with(r#"{"types":[{"name":"household","unique":false}]}"#, "{}");
    let first = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk","household":"h1"}}}"#,
    ));
    let second = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"b@x.dk","household":"h1"}}}"#,
    ));
    assert_ne!(first, second);
    assert!(engine
        .resolve(&identifier(&engine, "household", "h1"))
        .is_none());
    assert_eq!(engine.profile(second).unwrap().identities.len(), 2);
}

#[test]
fn identifiers_a_profile_holds_are_not_added_twice_by_upserts_or_merges() {
    let (mut engine, _) = engine_with(
        r#"{"policy":"merge","types":[{"name":"household","unique":false}]}"#,
        "{}",
    );
    let first = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk","household":"h1"}}}"#,
    ));
    run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":["a@x.dk","a2@x.dk"],"household":"h1"}}}"#,
    );
    run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"b@x.dk","household":"h1"}}}"#,
    );
    let merged = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":["a2@x.dk","b@x.dk","c@x.dk"],"household":"h1"}}}"#,
    ));
    assert_eq!(merged, first);
    let held: Vec<String> = engine
        .profile(merged)
        .unwrap()
        .identities
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(held.len(), 5, "{held:?}");
    for expected in ["a@x.dk", "a2@x.dk", "b@x.dk", "c@x.dk", "h1"] {
        assert_eq!(
            held.iter().filter(|text| text.ends_with(expected)).count(),
            1,
            "{expected} in {held:?}"
        );
    }
}

#[test]
fn custom_types_are_case_sensitive_unless_configured() {
    let (mut engine, _) = engine_with(r#"{"types":[{"name":"crm","caseSensitive":false}]}"#, "{}");
    let first = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"crm":"AB1","ext":"X"}}}"#,
    ));
    assert_eq!(
        profile_of(&run(
            &mut engine,
            r#"{"upsertProfile":{"identities":{"crm":"ab1"}}}"#
        )),
        first
    );
    assert_ne!(
        profile_of(&run(
            &mut engine,
            r#"{"upsertProfile":{"identities":{"ext":"x"}}}"#
        )),
        first
    );
}
