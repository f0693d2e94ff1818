//! Segment evaluation: a full scan of a three-condition rule over 1M profiles, and the
//! incremental update of 20 segments after one profile change.

use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

use cdp_engine::engine::{ManualClock, UpsertProfile};
use cdp_engine::events::EventStore;
use cdp_engine::identity::IdentityConfig;
use cdp_engine::model::{AttributeValue, Profile, ProfileId, SourceId, Timestamp, Value};
use cdp_engine::segments::{Inputs, Rule, SegmentStore};
use cdp_engine::traits::TraitStore;
use cdp_engine::{Command, Engine};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const NOW: i64 = 1_740_787_200_000_000; // 2025-03-01T00:00:00Z in microseconds
const PLANS: [&str; 4] = ["gold", "silver", "bronze", "free"];

/// A small deterministic generator, so every run scans the same data.
struct Noise(u64);

impl Noise {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

fn profiles(count: usize) -> Vec<Option<Profile>> {
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let now = Timestamp::from_micros(NOW);
    (0..count)
        .map(|_| {
            let mut profile = Profile::new(ProfileId::random(), now);
            let source = SourceId::default_source();
            let mut put = |key: &str, value: Value| {
                profile.attributes.insert(
                    &source,
                    key,
                    AttributeValue {
                        value,
                        updated: now,
                    },
                );
            };
            put(
                "plan",
                Value::String(PLANS[noise.next(4) as usize].to_owned()),
            );
            put("age", Value::Integer(18 + noise.next(70) as i64));
            put(
                "signup",
                Value::DateTime(now.plus_seconds(-(noise.next(365 * 86_400) as i64))),
            );
            Some(profile)
        })
        .collect()
}

fn rule(json: &str) -> Rule {
    Rule::from_json(&serde_json::from_str(json).unwrap(), "$").unwrap()
}

const THREE_CONDITIONS: &str = r#"{"op":"and","rules":[
    {"op":"equals","attribute":"plan","value":"gold"},
    {"op":"range","attribute":"age","min":30,"max":60},
    {"op":"within","attribute":"signup","days":90}]}"#;

fn full_evaluation(c: &mut Criterion) {
    let profiles = profiles(1_000_000);
    let traits = TraitStore::default();
    let events = EventStore::default();
    let inputs = Inputs {
        profiles: &profiles,
        traits: &traits,
        events: &events,
    };
    let mut store = SegmentStore::default();
    let rule = rule(THREE_CONDITIONS);
    let now = Timestamp::from_micros(NOW);
    let members = store.evaluate(&rule, inputs, now).len();
    assert!(members > 10_000 && members < 100_000, "{members} members");
    let mut group = c.benchmark_group("segments");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(1_000_000));
    group.bench_function("full_evaluation_3_conditions_1m_profiles", |b| {
        b.iter(|| black_box(store.evaluate(black_box(&rule), inputs, now)));
    });
    group.finish();
}

/// Twenty segments over attributes, identities and a trait, as a live engine keeps them.
fn twenty_segments() -> Vec<String> {
    let mut rules = Vec::new();
    for (position, plan) in PLANS.iter().enumerate() {
        rules.push(format!(
            r#"{{"op":"equals","attribute":"plan","value":"{plan}"}}"#
        ));
        rules.push(format!(r#"{{"op":"and","rules":[{{"op":"equals","attribute":"plan","value":"{plan}"}},{{"op":"range","attribute":"age","min":{}}}]}}"#, 20 + position * 10));
    }
    for min in [20, 30, 40, 50, 60] {
        rules.push(format!(
            r#"{{"op":"range","attribute":"age","min":{min},"max":{}}}"#,
            min + 15
        ));
    }
    for days in [30, 90, 180] {
        rules.push(format!(
            r#"{{"op":"within","attribute":"signup","days":{days}}}"#
        ));
    }
    rules.push(r#"{"op":"hasIdentity","kind":"phone"}"#.to_owned());
    rules.push(r#"{"op":"startsWith","attribute":"plan","value":"go"}"#.to_owned());
    rules.push(
        r#"{"op":"not","rule":{"op":"in","attribute":"plan","values":["free","bronze"]}}"#
            .to_owned(),
    );
    rules.push(r#"{"op":"or","rules":[{"op":"range","trait":"visits","min":3},{"op":"exists","attribute":"vip"}]}"#.to_owned());
    rules
        .into_iter()
        .enumerate()
        .map(|(position, rule)| {
            format!(r#"{{"defineSegment":{{"systemTitle":"s{position}","rule":{rule}}}}}"#)
        })
        .collect()
}

pub fn live_engine(profile_count: usize) -> (Engine, Vec<String>) {
    let clock = ManualClock::starting_at(Timestamp::from_micros(NOW));
    let mut engine = Engine::new(IdentityConfig::default(), Rc::new(clock));
    let identity = engine.identity_config().clone();
    let mut noise = Noise(42);
    let mut emails = Vec::with_capacity(profile_count);
    for index in 0..profile_count {
        let email = format!("user{index}@example.com");
        let attributes = serde_json::json!({
            "plan": PLANS[noise.next(4) as usize],
            "age": 18 + noise.next(70),
            "signup": Timestamp::from_micros(NOW - (noise.next(365 * 86_400) as i64) * 1_000_000).to_string(),
        });
        let upsert = UpsertProfile::from_raw_parts(
            &identity,
            [("email", email.as_str())],
            attributes.as_object().unwrap(),
            SourceId::default_source(),
        )
        .unwrap();
        engine.execute(Command::UpsertProfile(upsert)).unwrap();
        emails.push(email);
        if index % 10_000 == 0 {
            engine.take_unpersisted();
        }
    }
    let definition = r#"{"defineTrait":{"name":"visits","aggregate":"count","event":"visit"}}"#;
    engine
        .execute(Command::from_json(definition, &identity).unwrap())
        .unwrap();
    for segment in twenty_segments() {
        engine
            .execute(Command::from_json(&segment, &identity).unwrap())
            .unwrap();
    }
    engine.take_unpersisted();
    (engine, emails)
}

fn incremental_update(c: &mut Criterion) {
    let (mut engine, emails) = live_engine(200_000);
    let identity = engine.identity_config().clone();
    let plans = PLANS.map(|plan| serde_json::json!({ "plan": plan, "age": 45 }));
    let mut group = c.benchmark_group("segments");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    let mut turn = 0usize;
    group.bench_function("incremental_20_segments_after_one_profile_change", |b| {
        b.iter(|| {
            turn += 1;
            let email = &emails[turn % emails.len()];
            let attributes = plans[turn % 4].as_object().unwrap();
            let upsert = UpsertProfile::from_raw_parts(
                &identity,
                [("email", email.as_str())],
                attributes,
                SourceId::default_source(),
            )
            .unwrap();
            black_box(engine.execute(Command::UpsertProfile(upsert)).unwrap());
            if turn % 1_000 == 0 {
                engine.take_unpersisted();
            }
        });
    });
    // Defining a segment over every profile (deleted first, untimed: defining one exactly as
    // it stands changes nothing): the scan, the members and the history of every entry.
    let define = r#"{"defineSegment":{"systemTitle":"probe","rule":{"op":"range","attribute":"age","min":30,"max":45}}}"#;
    let delete = r#"{"deleteSegment":{"systemTitle":"probe"}}"#;
    engine
        .execute(Command::from_json(define, &identity).unwrap())
        .unwrap();
    let members = engine.segment_size("probe").unwrap();
    assert!(members > 20_000 && members < 100_000, "{members} members");
    group.throughput(Throughput::Elements(emails.len() as u64));
    group.bench_function("define_range_segment_200k_profiles", |b| {
        b.iter_custom(|iterations| {
            let mut spent = Duration::ZERO;
            for _ in 0..iterations {
                engine
                    .execute(Command::from_json(delete, &identity).unwrap())
                    .unwrap();
                engine.take_unpersisted();
                let command = Command::from_json(define, &identity).unwrap();
                let start = Instant::now();
                black_box(engine.execute(command).unwrap());
                spent += start.elapsed();
            }
            spent
        });
    });
    group.finish();
}

criterion_group!(benches, full_evaluation, incremental_update);
criterion_main!(benches);
