//! Rules against a brute-force evaluator on random data, and incremental membership against
//! full re-evaluation and replay after random sequences of changes.

use cdp_engine::segments::Rule;
use cdp_engine::Engine;
use proptest::prelude::*;

use super::replay::{derived_view, replayed};
use super::support::{merging_engine, ok};

const EMAILS: [&str; 6] = ["a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io", "f@x.io"];

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["gold", "silver", "go"]).prop_map(|plan| format!(r#"{{"op":"equals","attribute":"plan","value":"{plan}"}}"#)),
        Just(r#"{"op":"in","attribute":"plan","values":["gold","bronze"]}"#.to_owned()),
        Just(r#"{"op":"startsWith","attribute":"plan","value":"go"}"#.to_owned()),
        Just(r#"{"op":"contains","attribute":"plan","value":"il"}"#.to_owned()),
        (0i64..100).prop_map(|min| format!(r#"{{"op":"range","attribute":"age","min":{min}}}"#)),
        (0i64..100).prop_map(|max| format!(r#"{{"op":"range","attribute":"age","max":{max}}}"#)),
        Just(r#"{"op":"equals","attribute":"age","value":30}"#.to_owned()),
        Just(r#"{"op":"exists","attribute":"age"}"#.to_owned()),
        Just(r#"{"op":"before","attribute":"signup","value":"2025-02-15"}"#.to_owned()),
        Just(r#"{"op":"after","attribute":"signup","value":"2025-02-15T12:00:00Z"}"#.to_owned()),
        (1i64..40).prop_map(|days| format!(r#"{{"op":"within","attribute":"signup","days":{days}}}"#)),
        (0i64..200).prop_map(|min| format!(r#"{{"op":"range","trait":"ltv","min":{min}}}"#)),
        Just(r#"{"op":"equals","trait":"buys","value":2}"#.to_owned()),
        Just(r#"{"op":"hasIdentity","kind":"phone"}"#.to_owned()),
        Just(r#"{"op":"hasIdentity","kind":"email","value":"a@x.io"}"#.to_owned()),
        (1u32..4, 1i64..6).prop_map(|(count, days)| format!(r#"{{"op":"didEvent","name":"buy","atLeast":{count},"withinDays":{days}}}"#)),
        (0i64..60).prop_map(|min| format!(r#"{{"op":"didEvent","name":"buy","where":[{{"property":"amount","op":"range","min":{min}}}]}}"#)),
        Just(r#"{"op":"didNotEvent","name":"view"}"#.to_owned()),
    ]
}

fn rule() -> impl Strategy<Value = String> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4)
                .prop_map(|rules| format!(r#"{{"op":"and","rules":[{}]}}"#, rules.join(","))),
            prop::collection::vec(inner.clone(), 1..4)
                .prop_map(|rules| format!(r#"{{"op":"or","rules":[{}]}}"#, rules.join(","))),
            inner.prop_map(|rule| format!(r#"{{"op":"not","rule":{rule}}}"#)),
        ]
    })
}

#[derive(Clone, Debug)]
enum Step {
    Upsert {
        who: usize,
        plan: Option<&'static str>,
        age: Option<i64>,
        signup_day: Option<u32>,
        /// How many attributes no rule reads the upsert also writes (`n0`, `n1`, ...), their
        /// values this number: with the ones rules read they make runs of writes the engine
        /// applies in stretches.
        notes: usize,
    },
    AddPhone {
        who: usize,
    },
    Event {
        who: usize,
        name: &'static str,
        amount: i64,
        days_ago: i64,
    },
    Advance {
        hours: i64,
    },
    /// One upsert naming two people's emails: under the merge policy their profiles (and
    /// events) become one.
    Link {
        who: usize,
        with: usize,
    },
    /// Defines (or deletes, if defined) a trait no rule reads whose name sorts before the
    /// others, so the traits the rules read change position.
    ToggleFirstTrait,
    /// Redefines `buys`, with or without a window.
    RedefineBuys {
        window_days: Option<u32>,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let who = 0..EMAILS.len();
    prop_oneof![
        4 => (who.clone(), prop::option::of(prop::sample::select(vec!["gold", "silver", "golden"])), prop::option::of(0i64..90), prop::option::of(1u32..28), 0usize..4)
            .prop_map(|(who, plan, age, signup_day, notes)| Step::Upsert { who, plan, age, signup_day, notes }),
        1 => who.clone().prop_map(|who| Step::AddPhone { who }),
        4 => (who.clone(), prop::sample::select(vec!["buy", "view"]), 0i64..100, 0i64..5)
            .prop_map(|(who, name, amount, days_ago)| Step::Event { who, name, amount, days_ago }),
        2 => (1i64..72).prop_map(|hours| Step::Advance { hours }),
        1 => (who.clone(), who.clone()).prop_map(|(who, with)| Step::Link { who, with }),
        2 => Just(Step::ToggleFirstTrait),
        1 => prop::option::of(1u32..4).prop_map(|window_days| Step::RedefineBuys { window_days }),
    ]
}

fn apply(engine: &mut Engine, clock: &cdp_engine::engine::ManualClock, step: &Step) {
    match step {
        Step::Upsert {
            who,
            plan,
            age,
            signup_day,
            notes,
        } => {
            let plan = plan.map_or("null".to_owned(), |plan| format!("\"{plan}\""));
            let age = age.map_or("null".to_owned(), |age| age.to_string());
            let signup =
                signup_day.map_or("null".to_owned(), |day| format!("\"2025-02-{day:02}\""));
            let notes: String = (0..*notes).map(|n| format!(r#","n{n}":{notes}"#)).collect();
            ok(
                engine,
                &format!(
                    r#"{{"upsertProfile":{{"identities":{{"email":"{}"}},"attributes":{{"n9":{notes_len},"plan":{plan},"age":{age},"signup":{signup}{notes}}}}}}}"#,
                    EMAILS[*who],
                    notes_len = notes.len(),
                ),
            );
        }
        Step::AddPhone { who } => {
            ok(
                engine,
                &format!(
                    r#"{{"upsertProfile":{{"identities":{{"email":"{}","phone":"+1 555 {who}"}}}}}}"#,
                    EMAILS[*who]
                ),
            );
        }
        Step::Event {
            who,
            name,
            amount,
            days_ago,
        } => {
            let happened = engine.now().plus_seconds(-days_ago * 86_400);
            ok(
                engine,
                &format!(
                    r#"{{"recordEvent":{{"identities":{{"email":"{}"}},"name":"{name}","happened":"{happened}","properties":{{"amount":{amount}}}}}}}"#,
                    EMAILS[*who]
                ),
            );
        }
        Step::Advance { hours } => {
            clock.advance_seconds(hours * 3_600);
            ok(engine, r#"{"tick":{}}"#);
        }
        Step::Link { who, with } => {
            ok(
                engine,
                &format!(
                    r#"{{"upsertProfile":{{"identities":{{"email":["{}","{}"]}}}}}}"#,
                    EMAILS[*who], EMAILS[*with]
                ),
            );
        }
        Step::ToggleFirstTrait => {
            if engine.trait_definitions().any(|found| found.name == "aaa") {
                ok(engine, r#"{"deleteTrait":{"name":"aaa"}}"#);
            } else {
                ok(
                    engine,
                    r#"{"defineTrait":{"name":"aaa","aggregate":"max","event":"view","property":"amount"}}"#,
                );
            }
        }
        Step::RedefineBuys { window_days } => {
            let window =
                window_days.map_or(String::new(), |days| format!(r#","windowDays":{days}"#));
            ok(
                engine,
                &format!(
                    r#"{{"defineTrait":{{"name":"buys","aggregate":"count","event":"buy"{window}}}}}"#
                ),
            );
        }
    }
}

fn check(engine: &mut Engine, rules: &[Rule]) -> Result<(), TestCaseError> {
    let now = engine.now();
    for (position, rule) in rules.iter().enumerate() {
        let title = format!("s{position}");
        let mut incremental = engine.segment_members(&title).unwrap_or_default();
        incremental.sort();
        let mut scanned = engine.matching_profiles(rule);
        scanned.sort();
        let ids: Vec<_> = engine.profiles().map(|profile| profile.id).collect();
        let mut reference: Vec<_> = ids
            .into_iter()
            .filter(|id| engine.profile_matches(*id, rule, now))
            .collect();
        reference.sort();
        prop_assert_eq!(
            &scanned,
            &reference,
            "scan vs reference for {:?}",
            rule.to_json()
        );
        prop_assert_eq!(
            &incremental,
            &reference,
            "incremental vs reference for {:?}",
            rule.to_json()
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn incremental_membership_equals_full_scan_and_brute_force(
        rules in prop::collection::vec(rule(), 1..4),
        steps in prop::collection::vec(step(), 1..30),
        define_after in 0usize..30,
    ) {
        let (mut engine, clock) = merging_engine();
        let mut log = Vec::new();
        ok(&mut engine, r#"{"defineTrait":{"name":"ltv","aggregate":"sum","event":"buy","property":"amount","windowDays":3}}"#);
        ok(&mut engine, r#"{"defineTrait":{"name":"buys","aggregate":"count","event":"buy"}}"#);
        let parsed: Vec<Rule> = rules
            .iter()
            .map(|text| Rule::from_json(&serde_json::from_str(text).unwrap(), "$").unwrap())
            .collect();
        let define = |engine: &mut Engine| {
            for (position, rule) in rules.iter().enumerate() {
                ok(engine, &format!(r#"{{"defineSegment":{{"systemTitle":"s{position}","rule":{rule}}}}}"#));
            }
        };
        for (index, step) in steps.iter().enumerate() {
            if index == define_after {
                define(&mut engine);
            }
            apply(&mut engine, &clock, step);
            check(&mut engine, if index >= define_after { &parsed } else { &[] })?;
        }
        if define_after >= steps.len() {
            define(&mut engine);
        }
        check(&mut engine, &parsed)?;
        let rebuilt = replayed(&mut engine, &mut log);
        prop_assert_eq!(derived_view(&rebuilt), derived_view(&engine));
    }

    #[test]
    fn rules_round_trip_through_json(text in rule()) {
        let rule = Rule::from_json(&serde_json::from_str(&text).unwrap(), "$").unwrap();
        let again = Rule::from_json(&rule.to_json(), "$").unwrap();
        prop_assert_eq!(again, rule);
    }

    #[test]
    fn arbitrary_json_never_panics_the_command_parser(text in "\\PC{0,200}") {
        let _ = cdp_engine::Command::from_json(&text, &cdp_engine::identity::IdentityConfig::default());
    }
}
