use cdp_engine::engine::Outcome;
use cdp_engine::events::{EventQuery, Order};
use cdp_engine::model::{EventContext, Timestamp};
use cdp_engine::Command;

use super::support::{engine, event, ok, run, upsert};

#[test]
fn event_for_unknown_identity_creates_a_profile_and_later_ones_attach() {
    let (mut engine, _) = engine();
    let first = ok(
        &mut engine,
        r#"{"recordEvent":{"identities":{"email":" New@Example.com "},"name":"viewedPage","context":"WEB","mode":"PASSIVE"}}"#,
    );
    let Outcome::Event {
        profile,
        profile_created: true,
        ..
    } = first
    else {
        panic!("expected a created profile, got {first:?}");
    };
    let again = event(&mut engine, "new@example.com", "viewedPage", 5, "{}");
    assert_eq!(again, profile);
    assert_eq!(engine.profile_count(), 1);
    let page = engine.events(&EventQuery::for_profile(profile)).unwrap();
    assert_eq!(page.events.len(), 2);
    assert_eq!(page.events[1].context, EventContext::Web);
}

#[test]
fn event_by_profile_id_lands_on_that_profile() {
    let (mut engine, _) = engine();
    let profile = upsert(&mut engine, "a@example.com", "{}");
    let json = format!(r#"{{"recordEvent":{{"profileId":"{profile}","name":"login"}}}}"#);
    let outcome = ok(&mut engine, &json);
    assert_eq!(outcome.profile_id(), Some(profile));
}

#[test]
fn recorded_events_of_one_name_share_one_copy_of_it() {
    let (mut engine, _) = engine();
    let profile = event(&mut engine, "a@example.com", "viewedPage", 5, "{}");
    event(&mut engine, "b@example.com", "viewedPage", 6, "{}");
    event(&mut engine, "a@example.com", "viewedPage", 7, "{}");
    let shared = engine.event_store().shared_name("viewedPage").unwrap();
    let page = engine.events(&EventQuery::for_profile(profile)).unwrap();
    assert_eq!(page.events.len(), 2);
    for stored in page.events {
        assert!(std::rc::Rc::ptr_eq(&stored.name, &shared));
    }
}

#[test]
fn bad_events_are_rejected_with_codes_and_leave_no_trace() {
    let (mut engine, _) = engine();
    let profile = upsert(&mut engine, "a@example.com", "{}");
    let offset = engine.next_offset();
    let unknown = format!(
        r#"{{"recordEvent":{{"profileId":"{}","name":"x"}}}}"#,
        cdp_engine::model::ProfileId::random()
    );
    let cases = [
        (unknown.as_str(), "events.unknown_profile"),
        (r#"{"recordEvent":{"name":"x"}}"#, "events.no_subject"),
        (
            r#"{"recordEvent":{"identities":{"email":"a@example.com"}}}"#,
            "events.invalid_event",
        ),
        (
            r#"{"recordEvent":{"identities":{"email":"a@example.com"},"name":"x","context":"MOON"}}"#,
            "events.invalid_event",
        ),
        (
            r#"{"recordEvent":{"identities":{"email":"a@example.com"},"name":"x","happened":"soon"}}"#,
            "model.invalid_timestamp",
        ),
        (
            r#"{"recordEvent":{"identities":{"email":"a@example.com"},"name":"x","colour":1}}"#,
            "events.invalid_event",
        ),
        (r#"{"recordEvent":[]}"#, "events.invalid_event"),
    ];
    for (json, code) in cases {
        let error = run(&mut engine, json).unwrap_err();
        assert_eq!(error.code(), code, "{json}");
    }
    let id = "7f0d2a43-5d3b-4c1e-9a8e-0d6b5b1c2d3e";
    let with_id =
        format!(r#"{{"recordEvent":{{"profileId":"{profile}","name":"x","id":"{id}"}}}}"#);
    ok(&mut engine, &with_id);
    assert_eq!(
        run(&mut engine, &with_id).unwrap_err().code(),
        "events.duplicate_id"
    );
    assert_eq!(engine.next_offset(), offset + 1);
}

#[test]
fn pages_follow_the_cursor_in_both_orders() {
    let (mut engine, _) = engine();
    let profile = (0..7)
        .map(|second| event(&mut engine, "a@example.com", "view", second * 10, "{}"))
        .last()
        .unwrap();
    for order in [Order::Asc, Order::Desc] {
        let mut query = EventQuery::for_profile(profile).with_limit(3).unwrap();
        query.order = order;
        let mut seen = Vec::new();
        loop {
            let page = engine.events(&query).unwrap();
            seen.extend(page.events.iter().map(|event| event.happened));
            match page.next {
                Some(cursor) => query.cursor = Some(cursor),
                None => break,
            }
        }
        let mut expected = seen.clone();
        expected.sort();
        if order == Order::Desc {
            expected.reverse();
        }
        assert_eq!(seen, expected);
        assert_eq!(seen.len(), 7);
    }
}

#[test]
fn query_filters_by_context_and_mode() {
    let (mut engine, _) = engine();
    for (context, mode) in [
        ("WEB", "ACTIVE"),
        ("ECOMMERCE", "ACTIVE"),
        ("WEB", "PASSIVE"),
    ] {
        ok(
            &mut engine,
            &format!(
                r#"{{"recordEvent":{{"identities":{{"email":"a@example.com"}},"name":"e","context":"{context}","mode":"{mode}"}}}}"#
            ),
        );
    }
    let profile = engine.profiles().next().unwrap().id;
    let mut query = EventQuery::for_profile(profile);
    query.contexts = vec![EventContext::Web];
    assert_eq!(engine.events(&query).unwrap().events.len(), 2);
    query.modes = vec![cdp_engine::model::EventMode::Passive];
    assert_eq!(engine.events(&query).unwrap().events.len(), 1);
    let window = EventQuery::for_profile(profile)
        .within(
            Some(Timestamp::EPOCH),
            Some(Timestamp::EPOCH.plus_seconds(1)),
        )
        .unwrap();
    assert!(engine.events(&window).unwrap().events.is_empty());
}

/// `Engine::check` of an event (which plans no copy of it) accepts exactly what executing it
/// accepts, refuses it with the same error, and changes nothing either way.
#[test]
fn checking_an_event_answers_as_recording_it_would() {
    let (mut engine, _) = engine();
    let known = upsert(&mut engine, "a@example.com", "{}");
    upsert(&mut engine, "b@example.com", "{}");
    ok(
        &mut engine,
        r#"{"recordEvent":{"identities":{"email":"a@example.com"},"name":"seen","id":"0b0e6f1e-8a62-4c39-9d5e-5c1a2b3c4d5e"}}"#,
    );
    let cases = [
        r#"{"recordEvent":{"identities":{"email":"a@example.com"},"name":"known","properties":{"n":1}}}"#.to_owned(),
        r#"{"recordEvent":{"identities":{"email":"new@example.com"},"name":"creates"}}"#.to_owned(),
        format!(r#"{{"recordEvent":{{"profileId":"{known}","name":"byId"}}}}"#),
        r#"{"recordEvent":{"profileId":"6f1c9a8e-3b1d-4c8e-9f0a-1b2c3d4e5f60","name":"nobody"}}"#.to_owned(),
        r#"{"recordEvent":{"identities":{"email":"a@example.com"},"name":"again","id":"0b0e6f1e-8a62-4c39-9d5e-5c1a2b3c4d5e"}}"#.to_owned(),
        r#"{"recordEvent":{"identities":{"email":["a@example.com","b@example.com"]},"name":"both"}}"#.to_owned(),
    ];
    let mut refused = 0;
    for json in cases {
        let command = Command::from_json(&json, engine.identity_config()).unwrap();
        let before = (engine.next_offset(), engine.profile_count());
        let checked = engine.check(&command);
        assert_eq!(
            (engine.next_offset(), engine.profile_count()),
            before,
            "checking {json} changed something"
        );
        match (checked, engine.execute(command)) {
            (Ok(()), Ok(_)) => {}
            (Err(checked), Err(executed)) => {
                assert_eq!(checked.to_string(), executed.to_string(), "{json}");
                refused += 1;
            }
            (checked, executed) => panic!("{json}: check {checked:?}, execute {executed:?}"),
        }
    }
    assert_eq!(
        refused, 3,
        "an unknown profile, a taken id, two profiles' identifiers"
    );
}
