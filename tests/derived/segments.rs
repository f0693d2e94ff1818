use cdp_engine::engine::MembershipEvent;
use cdp_engine::model::Timestamp;
use cdp_engine::segments::{MembershipChange, SegmentError};
use cdp_engine::{Engine, EngineError};

use super::support::{engine, event, ok, run, sorted, upsert};

#[test]
fn membership_follows_attribute_changes_with_history_and_subscription() {
    let (mut engine, clock) = engine();
    engine.watch_membership(true);
    let gold = upsert(&mut engine, "a@example.com", r#"{"plan":"gold","age":40}"#);
    let silver = upsert(
        &mut engine,
        "b@example.com",
        r#"{"plan":"silver","age":30}"#,
    );
    ok(
        &mut engine,
        r#"{"defineSegment":{"systemTitle":"gold_adults","name":"Gold adults","rule":{"op":"and","rules":[{"op":"equals","attribute":"plan","value":"gold"},{"op":"range","attribute":"age","min":18}]}}}"#,
    );
    assert_eq!(engine.segment_members("gold_adults"), Some(vec![gold]));
    clock.advance_seconds(10);
    upsert(&mut engine, "b@example.com", r#"{"plan":"gold"}"#);
    upsert(&mut engine, "a@example.com", r#"{"plan":null}"#);
    assert_eq!(engine.segment_members("gold_adults"), Some(vec![silver]));
    let changes: Vec<(MembershipChange, _)> = engine
        .take_membership_events()
        .into_iter()
        .map(
            |MembershipEvent {
                 change, profile, ..
             }| (change, profile),
        )
        .collect();
    assert_eq!(
        changes,
        [
            (MembershipChange::Entered, gold),
            (MembershipChange::Entered, silver),
            (MembershipChange::Exited, gold)
        ]
    );
    assert!(engine.take_membership_events().is_empty());
    let counts = engine.segment_counts("gold_adults").unwrap();
    assert_eq!(
        (
            counts.members,
            counts.former_members,
            counts.entries,
            counts.exits
        ),
        (1, 1, 2, 1)
    );
    assert_eq!(engine.segment_history("gold_adults").unwrap().len(), 3);
    assert_eq!(engine.segments_of(silver), ["gold_adults"]);
}

#[test]
fn event_conditions_count_within_the_window_with_filters() {
    let (mut engine, clock) = engine();
    ok(
        &mut engine,
        r#"{"defineSegment":{"systemTitle":"buyers","rule":{"op":"didEvent","name":"purchase","atLeast":2,"withinDays":7,"where":[{"property":"amount","op":"range","min":10}]}}}"#,
    );
    ok(
        &mut engine,
        r#"{"defineSegment":{"systemTitle":"never_bought","rule":{"op":"didNotEvent","name":"purchase"}}}"#,
    );
    let buyer = event(
        &mut engine,
        "a@example.com",
        "purchase",
        0,
        r#"{"amount": 20}"#,
    );
    let browser = upsert(&mut engine, "b@example.com", "{}");
    event(
        &mut engine,
        "a@example.com",
        "purchase",
        1,
        r#"{"amount": 5}"#,
    );
    assert_eq!(engine.segment_size("buyers"), Some(0));
    event(
        &mut engine,
        "a@example.com",
        "purchase",
        2,
        r#"{"amount": 15}"#,
    );
    assert_eq!(engine.segment_members("buyers"), Some(vec![buyer]));
    assert_eq!(engine.segment_members("never_bought"), Some(vec![browser]));
    clock.advance_seconds(8 * 86_400);
    ok(&mut engine, r#"{"tick":{}}"#);
    assert_eq!(engine.segment_size("buyers"), Some(0));
    let history = engine.segment_history("buyers").unwrap();
    assert_eq!(history.last().unwrap().change, MembershipChange::Exited);
}

#[test]
fn segments_read_traits_identities_and_dates() {
    let (mut engine, clock) = engine();
    ok(
        &mut engine,
        r#"{"defineTrait":{"name":"ltv","aggregate":"sum","event":"purchase","property":"amount"}}"#,
    );
    ok(
        &mut engine,
        r#"{"defineSegment":{"systemTitle":"big","rule":{"op":"or","rules":[{"op":"range","trait":"ltv","min":100},{"op":"hasIdentity","kind":"phone"}]}}}"#,
    );
    ok(
        &mut engine,
        r#"{"defineSegment":{"systemTitle":"new","rule":{"op":"within","attribute":"signup","days":30}}}"#,
    );
    let spender = event(
        &mut engine,
        "a@example.com",
        "purchase",
        0,
        r#"{"amount": 60}"#,
    );
    assert_eq!(engine.segment_size("big"), Some(0));
    event(
        &mut engine,
        "a@example.com",
        "purchase",
        5,
        r#"{"amount": 60}"#,
    );
    let caller = ok(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"phone":"+45 1234"}}}"#,
    )
    .profile_id()
    .unwrap();
    assert_eq!(
        engine.segment_members("big").map(sorted),
        Some(sorted(vec![spender, caller]))
    );
    let fresh = upsert(&mut engine, "c@example.com", r#"{"signup":"2025-02-20"}"#);
    assert_eq!(engine.segment_members("new"), Some(vec![fresh]));
    clock.advance_seconds(40 * 86_400);
    ok(&mut engine, r#"{"tick":{}}"#);
    assert_eq!(engine.segment_size("new"), Some(0));
}

#[test]
fn inactive_segments_hold_no_members_until_reactivated() {
    let (mut engine, _) = engine();
    let profile = upsert(&mut engine, "a@example.com", r#"{"plan":"gold"}"#);
    ok(
        &mut engine,
        r#"{"defineSegment":{"systemTitle":"g","rule":{"op":"exists","attribute":"plan"}}}"#,
    );
    ok(
        &mut engine,
        r#"{"setSegmentActive":{"systemTitle":"g","active":false}}"#,
    );
    assert_eq!(engine.segment_size("g"), Some(0));
    assert!(!engine.segment("g").unwrap().active);
    let offset = engine.next_offset();
    ok(
        &mut engine,
        r#"{"setSegmentActive":{"systemTitle":"g","active":false}}"#,
    );
    assert_eq!(engine.next_offset(), offset);
    ok(
        &mut engine,
        r#"{"setSegmentActive":{"systemTitle":"g","active":true}}"#,
    );
    assert_eq!(engine.segment_members("g"), Some(vec![profile]));
    ok(&mut engine, r#"{"deleteSegment":{"systemTitle":"g"}}"#);
    assert!(engine.segment("g").is_none());
    let error = run(&mut engine, r#"{"deleteSegment":{"systemTitle":"g"}}"#).unwrap_err();
    assert_eq!(
        error,
        EngineError::Segment(SegmentError::Unknown("g".into()))
    );
}

#[test]
fn every_invalid_rule_shape_is_rejected_with_its_path() {
    let (mut engine, _) = engine();
    let cases = [
        (r#"[]"#, "$.defineSegment.rule", "segments.invalid_rule"),
        (r#"{}"#, "$.defineSegment.rule.op", "segments.invalid_rule"),
        (
            r#"{"op":7}"#,
            "$.defineSegment.rule.op",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"xor","rules":[]}"#,
            "$.defineSegment.rule.op",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"and"}"#,
            "$.defineSegment.rule.rules",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"and","rules":{}}"#,
            "$.defineSegment.rule.rules",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"or","rules":[]}"#,
            "$.defineSegment.rule.rules",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"and","rules":[{"op":"exists","attribute":"a"},{"op":"equals","attribute":"b"}]}"#,
            "$.defineSegment.rule.rules[1].value",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"and","rules":[{"op":"exists","attribute":"a"},{"op":"equals","attribute":"b","value":{}}]}"#,
            "$.defineSegment.rule.rules[1].value",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"not"}"#,
            "$.defineSegment.rule.rule",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"not","rule":{"op":"exists"}}"#,
            "$.defineSegment.rule.rule.attribute",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"exists","attribute":"a","trait":"b"}"#,
            "$.defineSegment.rule.trait",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"exists","attribute":""}"#,
            "$.defineSegment.rule.attribute",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"exists","tags":false}"#,
            "$.defineSegment.rule.tags",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"exists","attribute":"a","extra":1}"#,
            "$.defineSegment.rule.extra",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"in","attribute":"a","values":[]}"#,
            "$.defineSegment.rule.values",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"in","attribute":"a","values":["x",null]}"#,
            "$.defineSegment.rule.values[1]",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"contains","attribute":"a","value":3}"#,
            "$.defineSegment.rule.value",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"startsWith","attribute":"a"}"#,
            "$.defineSegment.rule.value",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"range","attribute":"a"}"#,
            "$.defineSegment.rule.min",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"range","attribute":"a","max":"soon"}"#,
            "$.defineSegment.rule.max",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"range","attribute":"a","min":true}"#,
            "$.defineSegment.rule.min",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"before","attribute":"a","value":"yesterday"}"#,
            "$.defineSegment.rule.value",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"after","attribute":"a","value":1}"#,
            "$.defineSegment.rule.value",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"within","attribute":"a"}"#,
            "$.defineSegment.rule.days",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"within","attribute":"a","days":-1}"#,
            "$.defineSegment.rule.days",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"within","attribute":"a","days":1.5}"#,
            "$.defineSegment.rule.days",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"hasTag"}"#,
            "$.defineSegment.rule.tag",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"hasIdentity","kind":"email","value":5}"#,
            "$.defineSegment.rule.value",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"didEvent"}"#,
            "$.defineSegment.rule.name",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"didEvent","name":"x","atLeast":0}"#,
            "$.defineSegment.rule.atLeast",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"didEvent","name":"x","withinDays":2,"withinSeconds":5}"#,
            "$.defineSegment.rule.withinDays",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"didNotEvent","name":"x","where":{}}"#,
            "$.defineSegment.rule.where",
            "segments.invalid_rule",
        ),
        (
            r#"{"op":"didEvent","name":"x","where":[{"property":"p","op":"or"}]}"#,
            "$.defineSegment.rule.where[0].op",
            "segments.invalid_rule",
        ),
    ];
    for (rule, path, code) in cases {
        let json = format!(r#"{{"defineSegment":{{"systemTitle":"s","rule":{rule}}}}}"#);
        let error = run(&mut engine, &json).unwrap_err();
        assert_eq!(error.code(), code, "{rule}");
        let EngineError::Segment(SegmentError::InvalidRule(shape)) = error else {
            panic!("{rule}: {error:?}");
        };
        assert_eq!(shape.path, path, "{rule}");
    }
    let mut deep = r#"{"op":"exists","attribute":"a"}"#.to_owned();
    for _ in 0..40 {
        deep = format!(r#"{{"op":"not","rule":{deep}}}"#);
    }
    let json = format!(r#"{{"defineSegment":{{"systemTitle":"s","rule":{deep}}}}}"#);
    assert_eq!(
        run(&mut engine, &json).unwrap_err().code(),
        "segments.invalid_rule"
    );
    for (definition, code) in [
        (
            r#"{"rule":{"op":"exists","attribute":"a"}}"#,
            "segments.invalid_definition",
        ),
        (
            r#"{"systemTitle":"a b","rule":{"op":"exists","attribute":"a"}}"#,
            "segments.invalid_definition",
        ),
        (r#"{"systemTitle":"s"}"#, "segments.invalid_definition"),
        (
            r#"{"systemTitle":"s","active":"yes","rule":{"op":"exists","attribute":"a"}}"#,
            "segments.invalid_definition",
        ),
    ] {
        let json = format!(r#"{{"defineSegment":{definition}}}"#);
        assert_eq!(
            run(&mut engine, &json).unwrap_err().code(),
            code,
            "{definition}"
        );
    }
    assert_eq!(engine.next_offset(), 0);
}

#[test]
fn an_event_at_the_start_of_the_window_is_outside_it() {
    let (mut engine, clock) = engine();
    ok(
        &mut engine,
        r#"{"defineSegment":{"systemTitle":"recent","rule":{"op":"didEvent","name":"buy","atLeast":2,"withinDays":3}}}"#,
    );
    ok(
        &mut engine,
        r#"{"defineSegment":{"systemTitle":"quiet","rule":{"op":"didNotEvent","name":"buy","atLeast":2,"withinDays":3}}}"#,
    );
    let record = |engine: &mut Engine, happened: Timestamp| {
        let json = format!(
            r#"{{"recordEvent":{{"identities":{{"email":"a@x.io"}},"name":"buy","happened":"{happened}"}}}}"#
        );
        ok(engine, &json).profile_id().unwrap()
    };
    let start = engine.now().plus_seconds(-3 * 86_400);
    let buyer = record(&mut engine, start);
    let now = engine.now();
    record(&mut engine, now);
    assert_eq!(engine.segment_size("recent"), Some(0));
    assert_eq!(engine.segment_members("quiet"), Some(vec![buyer]));
    record(&mut engine, Timestamp::from_micros(start.as_micros() + 1));
    assert_eq!(engine.segment_members("recent"), Some(vec![buyer]));
    assert_eq!(engine.segment_size("quiet"), Some(0));
    clock.advance_seconds(1);
    ok(&mut engine, r#"{"tick":{}}"#);
    assert_eq!(engine.segment_size("recent"), Some(0));
    assert_eq!(engine.segment_members("quiet"), Some(vec![buyer]));
}

/// A segment reading a trait follows it when other traits come and go around it (its
/// position among the traits changes) and when segments are added after events flowed.
#[test]
fn trait_segments_follow_their_trait_as_other_traits_come_and_go() {
    let (mut engine, _) = engine();
    ok(
        &mut engine,
        r#"{"defineTrait":{"name":"ltv","aggregate":"sum","event":"purchase","property":"amount"}}"#,
    );
    ok(
        &mut engine,
        r#"{"defineSegment":{"systemTitle":"big","rule":{"op":"range","trait":"ltv","min":50}}}"#,
    );
    let members = |engine: &Engine| sorted(engine.segment_members("big").unwrap());
    let ann = event(&mut engine, "ann@x.io", "purchase", 1, r#"{"amount":60}"#);
    assert_eq!(members(&engine), vec![ann]);
    // A trait sorting first moves `ltv` along; one on another event sorts in between.
    for name in ["aaa", "b"] {
        ok(
            &mut engine,
            &format!(
                r#"{{"defineTrait":{{"name":"{name}","aggregate":"count","event":"purchase"}}}}"#
            ),
        );
        let new = event(
            &mut engine,
            &format!("{name}@x.io"),
            "purchase",
            2,
            r#"{"amount":70}"#,
        );
        let small = event(
            &mut engine,
            &format!("{name}-small@x.io"),
            "purchase",
            3,
            r#"{"amount":5}"#,
        );
        assert!(members(&engine).contains(&new), "after defining {name}");
        assert!(!members(&engine).contains(&small), "after defining {name}");
    }
    ok(&mut engine, r#"{"deleteTrait":{"name":"aaa"}}"#);
    let bo = event(&mut engine, "bo@x.io", "purchase", 4, r#"{"amount":40}"#);
    assert!(!members(&engine).contains(&bo));
    event(&mut engine, "bo@x.io", "purchase", 5, r#"{"amount":40}"#);
    assert!(members(&engine).contains(&bo), "80 in two purchases");
    // A segment defined now on a trait that had no column yet.
    ok(
        &mut engine,
        r#"{"defineSegment":{"systemTitle":"many","rule":{"op":"range","trait":"b","min":2}}}"#,
    );
    assert_eq!(engine.segment_members("many").unwrap(), vec![bo]);
    let cy = event(&mut engine, "cy@x.io", "purchase", 6, r#"{"amount":1}"#);
    event(&mut engine, "cy@x.io", "purchase", 7, r#"{"amount":1}"#);
    assert_eq!(
        sorted(engine.segment_members("many").unwrap()),
        sorted(vec![bo, cy])
    );
    for title in ["big", "many"] {
        let rule = engine.segment(title).unwrap().rule.clone();
        assert_eq!(
            sorted(engine.segment_members(title).unwrap()),
            sorted(engine.matching_profiles(&rule)),
            "{title}: incremental vs full scan"
        );
    }
}

#[test]
fn a_redefined_segment_is_kept_up_to_date_by_its_new_rule() {
    let (mut engine, _clock) = engine();
    let first = upsert(&mut engine, "a@example.com", r#"{"plan":"gold","age":40}"#);
    let second = upsert(&mut engine, "b@example.com", r#"{"plan":"free","age":20}"#);
    ok(
        &mut engine,
        r#"{"defineSegment":{"systemTitle":"picked","rule":{"op":"equals","attribute":"plan","value":"gold"}}}"#,
    );
    // A change evaluates the rule for one profile (and compiles it for that).
    upsert(&mut engine, "b@example.com", r#"{"age":21}"#);
    assert_eq!(engine.segment_members("picked"), Some(vec![first]));
    // The new rule reads the same column, so no column is added with it.
    ok(
        &mut engine,
        r#"{"defineSegment":{"systemTitle":"picked","rule":{"op":"equals","attribute":"plan","value":"free"}}}"#,
    );
    assert_eq!(engine.segment_members("picked"), Some(vec![second]));
    // Changes after the redefinition are judged by the new rule, not the one compiled before.
    upsert(&mut engine, "a@example.com", r#"{"plan":"free"}"#);
    upsert(&mut engine, "b@example.com", r#"{"plan":"gold"}"#);
    assert_eq!(engine.segment_members("picked"), Some(vec![first]));
    // A rule reading a field no column holds yet gets one, and is judged by it.
    ok(
        &mut engine,
        r#"{"defineSegment":{"systemTitle":"picked","rule":{"op":"range","attribute":"age","max":30}}}"#,
    );
    upsert(&mut engine, "b@example.com", r#"{"age":29}"#);
    assert_eq!(engine.segment_members("picked"), Some(vec![second]));
}
