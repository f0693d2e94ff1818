//! Event ingest through `Engine::execute` with 5 computed traits and 20 segments live:
//! identity resolution, the change log, the event store, incremental trait folds and
//! segment re-evaluation, per event.

use std::hint::black_box;
use std::rc::Rc;
use std::time::Duration;

use cdp_engine::engine::{EventSubject, ManualClock, NewEvent, UpsertProfile};
use cdp_engine::identity::{Identifier, IdentityConfig};
use cdp_engine::model::{EventContext, Properties, SourceId, Timestamp, Value};
use cdp_engine::{Command, Engine};
use criterion::{criterion_group, BatchSize, Criterion, Throughput};

const NOW: i64 = 1_740_787_200_000_000; // 2025-03-01T00:00:00Z in microseconds
const PROFILES: usize = 10_000;
const BATCH: usize = 10_000;
const PLANS: [&str; 4] = ["gold", "silver", "bronze", "free"];

struct Noise(u64);

impl Noise {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

const TRAITS: [&str; 5] = [
    r#"{"name":"visits","aggregate":"count","event":"visit"}"#,
    r#"{"name":"ltv","aggregate":"sum","event":"purchase","property":"amount"}"#,
    r#"{"name":"largest_order","aggregate":"max","event":"purchase","property":"amount"}"#,
    r#"{"name":"last_time_purchased","aggregate":"last","event":"purchase"}"#,
    r#"{"name":"purchases_30d","aggregate":"count","event":"purchase","windowDays":30}"#,
];

fn segments() -> Vec<String> {
    let mut rules = vec![
        r#"{"op":"didEvent","name":"purchase","atLeast":2,"withinDays":30}"#.to_owned(),
        r#"{"op":"didEvent","name":"visit","atLeast":3,"withinDays":7,"where":[{"property":"page","op":"startsWith","value":"/shop"}]}"#.to_owned(),
        r#"{"op":"range","trait":"ltv","min":500}"#.to_owned(),
        r#"{"op":"and","rules":[{"op":"range","trait":"purchases_30d","min":3},{"op":"equals","attribute":"plan","value":"gold"}]}"#.to_owned(),
        r#"{"op":"range","trait":"visits","min":10}"#.to_owned(),
        r#"{"op":"within","trait":"last_time_purchased","days":7}"#.to_owned(),
    ];
    for plan in PLANS {
        rules.push(format!(
            r#"{{"op":"equals","attribute":"plan","value":"{plan}"}}"#
        ));
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
    rules.push(
        r#"{"op":"not","rule":{"op":"in","attribute":"plan","values":["free","bronze"]}}"#
            .to_owned(),
    );
    rules
        .into_iter()
        .enumerate()
        .map(|(position, rule)| {
            format!(r#"{{"defineSegment":{{"systemTitle":"s{position}","rule":{rule}}}}}"#)
        })
        .collect()
}

fn live_engine() -> (Engine, Vec<Identifier>) {
    let clock = ManualClock::starting_at(Timestamp::from_micros(NOW));
    let mut engine = Engine::new(IdentityConfig::default(), Rc::new(clock));
    let identity = engine.identity_config().clone();
    let mut noise = Noise(7);
    let mut identifiers = Vec::with_capacity(PROFILES);
    for index in 0..PROFILES {
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
        identifiers.push(identity.normalize("email", &email).unwrap());
    }
    let commands = TRAITS
        .iter()
        .map(|definition| format!(r#"{{"defineTrait":{definition}}}"#))
        .chain(segments());
    for command in commands {
        engine
            .execute(Command::from_json(&command, &identity).unwrap())
            .unwrap();
    }
    assert_eq!(engine.segment_definitions().count(), 20);
    engine.take_unpersisted();
    (engine, identifiers)
}

/// When the events of a batch happened: at random in the day before `NOW`, so each is stored
/// among a profile's earlier events, or one after another from a starting time onward, as a
/// live stream arrives.
enum Times {
    RandomInLastDay,
    InOrder { next: i64 },
}

impl Times {
    fn next(&mut self, noise: &mut Noise) -> i64 {
        match self {
            Self::RandomInLastDay => NOW - (noise.next(86_400) as i64) * 1_000_000,
            Self::InOrder { next } => {
                *next += 100_000;
                *next
            }
        }
    }
}

fn batch(identifiers: &[Identifier], noise: &mut Noise, times: &mut Times) -> Vec<NewEvent> {
    (0..BATCH)
        .map(|_| {
            let who = identifiers[noise.next(identifiers.len() as u64) as usize].clone();
            let purchase = noise.next(5) == 0;
            let mut event = NewEvent::new(
                EventSubject::Identifiers(vec![who]),
                if purchase { "purchase" } else { "visit" },
            );
            event.happened = Some(Timestamp::from_micros(times.next(noise)));
            event.context = if purchase {
                EventContext::Ecommerce
            } else {
                EventContext::Web
            };
            event.properties = if purchase {
                Properties::from([("amount".to_owned(), Value::Number(noise.next(300) as f64))])
            } else {
                Properties::from([(
                    "page".to_owned(),
                    Value::String(format!("/shop/{}", noise.next(50))),
                )])
            };
            event
        })
        .collect()
}

fn ingest(c: &mut Criterion) {
    let mut noise = Noise(11);
    let mut group = c.benchmark_group("ingest");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(6))
        .warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(BATCH as u64));
    // Each on a fresh engine: events at random in the day before the clock, then events
    // arriving in time order (a tenth of a second apart, from 20 days before the clock's
    // time), each at the end of its profile's list.
    let cases = [
        ("record_events_5_traits_20_segments", Times::RandomInLastDay),
        (
            "record_events_in_time_order_5_traits_20_segments",
            Times::InOrder {
                next: NOW - 20 * 86_400_000_000,
            },
        ),
    ];
    for (name, mut times) in cases {
        let (mut engine, identifiers) = live_engine();
        group.bench_function(name, |b| {
            b.iter_batched(
                || batch(&identifiers, &mut noise, &mut times),
                |events| {
                    for event in events {
                        black_box(engine.execute(Command::RecordEvent(event)).unwrap());
                    }
                    engine.take_unpersisted()
                },
                BatchSize::PerIteration,
            );
        });
        println!("{name}: events stored {}", engine.event_store().len());
    }
    group.finish();
}

/// With `CDP_INGEST_PROBE=N` set, runs the setup and then N batches without criterion, for
/// `valgrind --tool=callgrind`: the difference between N = 2 and N = 0 divided by 2 × 10,000
/// is the load-independent instruction count per event. Events happen at random in the last
/// day, or in time order with `CDP_INGEST_ORDER=time`.
fn probe(batches: usize) {
    let (mut engine, identifiers) = live_engine();
    let mut noise = Noise(11);
    let mut times = if std::env::var("CDP_INGEST_ORDER").as_deref() == Ok("time") {
        Times::InOrder {
            next: NOW - 20 * 86_400_000_000,
        }
    } else {
        Times::RandomInLastDay
    };
    for _ in 0..batches {
        for event in batch(&identifiers, &mut noise, &mut times) {
            black_box(engine.execute(Command::RecordEvent(event)).unwrap());
        }
        black_box(engine.take_unpersisted());
    }
    println!("events stored: {}", engine.event_store().len());
}

criterion_group!(benches, ingest);

fn main() {
    if let Some(batches) = std::env::var("CDP_INGEST_PROBE")
        .ok()
        .and_then(|text| text.parse().ok())
    {
        probe(batches);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
