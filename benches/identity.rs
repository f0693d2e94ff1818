//! Identity resolution throughput and memory per profile, natively on one core.
//!
//! - `lookup`: resolving a normalized identifier against 100k profiles (3 identifiers each);
//! - `upsert`: normalizing and executing upserts of three identifiers and two attributes,
//!   one in five of which names identifiers of two existing profiles and so merges them;
//! - before the timed runs, `main` builds a million profiles with three identifiers and ten
//!   attributes and prints the heap it holds, measured by a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cdp_engine::engine::{Command, Engine, SystemClock, UpsertProfile};
use cdp_engine::identity::{Identifier, IdentityConfig};
use cdp_engine::model::SourceId;
use criterion::{black_box, criterion_group, Criterion, Throughput};
use serde_json::{json, Map, Value as Json};

struct CountingAllocator;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static LIVE_ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static TOTAL_ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        LIVE_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        TOTAL_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        LIVE_ALLOCATIONS.fetch_sub(1, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        TOTAL_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn identity() -> IdentityConfig {
    serde_json::from_value(json!({"policy": "merge", "types": [
        {"name": "email", "normalization": "email"},
        {"name": "phone", "normalization": "phone"},
        {"name": "crm", "priority": 1}
    ]}))
    .unwrap_or_default()
}

fn raw_identifiers(n: usize) -> [(String, String); 3] {
    [
        ("email".to_owned(), format!("User{n}@Example.com")),
        ("phone".to_owned(), format!("+45 {:08}", n)),
        ("crm".to_owned(), format!("CRM-{n}")),
    ]
}

/// The identifiers of upsert `n`: fresh for four in five; the fifth names the email of the
/// upsert four before and the phone of the upsert three before (two distinct profiles), so
/// it merges them.
fn upsert_identifiers(n: usize) -> [(String, String); 3] {
    if n % 5 == 4 {
        let [email, _, _] = raw_identifiers(n - 4);
        let [_, phone, _] = raw_identifiers(n - 3);
        let [_, _, crm] = raw_identifiers(n);
        [email, phone, crm]
    } else {
        raw_identifiers(n)
    }
}

/// The raw input of upsert `n`, prepared before timing so only the engine is measured.
type RawUpsert = [(String, String); 3];

fn upsert(engine: &Engine, identifiers: &RawUpsert, attributes: &Map<String, Json>) -> Command {
    let pairs = identifiers
        .iter()
        .map(|(kind, value)| (kind.as_str(), value.as_str()));
    UpsertProfile::from_raw_parts(
        engine.identity_config(),
        pairs,
        attributes,
        SourceId::default_source(),
    )
    .map(Command::UpsertProfile)
    .unwrap_or_else(|error| unreachable!("{error}"))
}

fn small_attributes(n: usize) -> Map<String, Json> {
    let mut attributes = Map::new();
    attributes.insert("name".into(), json!(format!("User {n}")));
    attributes.insert("visits".into(), json!(n % 100));
    attributes
}

fn ten_attributes(n: usize) -> Map<String, Json> {
    let mut attributes = small_attributes(n);
    attributes.insert("city".into(), json!("Aarhus"));
    attributes.insert("country".into(), json!("DK"));
    attributes.insert("plan".into(), json!("pro"));
    attributes.insert("score".into(), json!(n % 1000));
    attributes.insert("ltv".into(), json!(12.5));
    attributes.insert("paying".into(), json!(n % 2 == 0));
    attributes.insert("segment".into(), json!("smb"));
    attributes.insert("zip".into(), json!(8000));
    attributes
}

fn filled_engine(profiles: usize, attributes: AttributesOf) -> Engine {
    let mut engine = Engine::new(identity(), Rc::new(SystemClock));
    for n in 0..profiles {
        let identifiers = raw_identifiers(n);
        let pairs = identifiers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        let command = UpsertProfile::from_raw_parts(
            engine.identity_config(),
            pairs,
            &attributes(n),
            SourceId::default_source(),
        )
        .map(Command::UpsertProfile)
        .unwrap_or_else(|error| unreachable!("{error}"));
        if engine.execute(command).is_err() {
            unreachable!("fresh identifiers never conflict");
        }
        if n % 1024 == 0 {
            engine.take_unpersisted();
        }
    }
    engine.take_unpersisted();
    engine
}

/// User plus system CPU time of this process so far, from `/proc/self/stat` (Linux), so
/// throughput can be stated per CPU second on a machine shared with other work.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index)?.parse::<f64>().ok();
    // Fields 14 and 15 of the file (utime, stime) are at 11 and 12 after the name; 100 ticks/s.
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

/// The attributes upsert `n` writes.
type AttributesOf = fn(usize) -> Map<String, Json>;

fn no_attributes(_: usize) -> Map<String, Json> {
    Map::new()
}

fn report_memory() {
    let profiles = std::env::var("CDP_BENCH_MEMORY_PROFILES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1_000_000usize);
    let shapes: [(&str, AttributesOf); 2] = [
        ("3 identifiers, no attributes", no_attributes),
        ("3 identifiers, 10 attributes", ten_attributes),
    ];
    for (shape, attributes) in shapes {
        let (bytes_before, allocations_before) = (
            LIVE_BYTES.load(Ordering::Relaxed),
            LIVE_ALLOCATIONS.load(Ordering::Relaxed),
        );
        let started = Instant::now();
        let cpu_started = cpu_seconds();
        let engine = filled_engine(profiles, attributes);
        let elapsed = started.elapsed();
        let cpu = cpu_seconds()
            .zip(cpu_started)
            .map(|(end, start)| end - start);
        let bytes = LIVE_BYTES.load(Ordering::Relaxed) - bytes_before;
        let allocations = LIVE_ALLOCATIONS.load(Ordering::Relaxed) - allocations_before;
        println!(
            "memory: {profiles} profiles x ({shape}): {:.1} MiB live heap \
             ({} bytes/profile, {:.1} allocations/profile); built in {:.2?} ({:.0} upserts/s), \
             {:.2} s of CPU ({:.0} upserts per CPU second)",
            bytes as f64 / 1_048_576.0,
            bytes / profiles.max(1),
            allocations as f64 / profiles.max(1) as f64,
            elapsed,
            profiles as f64 / elapsed.as_secs_f64(),
            cpu.unwrap_or(f64::NAN),
            cpu.map_or(f64::NAN, |cpu| profiles as f64 / cpu),
        );
        black_box(engine.profile_count());
    }
}

/// The criterion upsert workload, timed in CPU seconds rather than wall time.
fn report_upsert_cpu() {
    let upserts = 300_000usize;
    let mut engine = Engine::new(identity(), Rc::new(SystemClock));
    let attributes: Vec<Map<String, Json>> = (0..64).map(small_attributes).collect();
    let inputs: Vec<RawUpsert> = (0..upserts).map(upsert_identifiers).collect();
    let started = Instant::now();
    let cpu_started = cpu_seconds();
    let allocations_before = TOTAL_ALLOCATIONS.load(Ordering::Relaxed);
    for (i, identifiers) in inputs.iter().enumerate() {
        let command = upsert(&engine, identifiers, &attributes[i % attributes.len()]);
        if engine.execute(command).is_err() {
            unreachable!("upsert {i} failed");
        }
        if i % 4096 == 4095 {
            engine.take_unpersisted();
        }
    }
    let elapsed = started.elapsed();
    let cpu = cpu_seconds()
        .zip(cpu_started)
        .map(|(end, start)| end - start);
    let allocations = TOTAL_ALLOCATIONS.load(Ordering::Relaxed) - allocations_before;
    println!(
        "upserts: {upserts} (3 identifiers, 2 attributes, 1 in 5 merging) in {elapsed:.2?} \
         ({:.0}/s wall), {:.2} s of CPU ({:.0} per CPU second), {:.1} allocations each; \
         {} profiles remain",
        upserts as f64 / elapsed.as_secs_f64(),
        cpu.unwrap_or(f64::NAN),
        cpu.map_or(f64::NAN, |cpu| upserts as f64 / cpu),
        allocations as f64 / upserts as f64,
        engine.profile_count(),
    );
}

fn lookups(c: &mut Criterion) {
    let profiles = 100_000;
    let engine = filled_engine(profiles, small_attributes);
    let probes: Vec<Identifier> = (0..profiles)
        .step_by(7)
        .flat_map(raw_identifiers)
        .filter_map(|(kind, value)| engine.identity_config().normalize(&kind, &value).ok())
        .collect();
    let mut group = c.benchmark_group("identity");
    group.throughput(Throughput::Elements(1));
    let mut next = 0usize;
    group.bench_function("lookup", |bench| {
        bench.iter(|| {
            next = (next + 1) % probes.len();
            black_box(probes.get(next).and_then(|probe| engine.resolve(probe)))
        })
    });
    group.bench_function("normalize_and_lookup", |bench| {
        let raw: Vec<[(String, String); 3]> = (0..1024).map(raw_identifiers).collect();
        let mut next = 0usize;
        bench.iter(|| {
            next = (next + 1) % raw.len();
            let (kind, value) = &raw[next][0];
            let identifier = engine.identity_config().normalize(kind, value);
            black_box(
                identifier
                    .ok()
                    .and_then(|id| engine.resolve(&id).map(|p| p.id)),
            )
        })
    });
    group.finish();
}

fn upserts(c: &mut Criterion) {
    let mut group = c.benchmark_group("identity");
    group.throughput(Throughput::Elements(1));
    group.bench_function("upsert_3_identifiers_1_in_5_merging", |bench| {
        bench.iter_custom(|iterations| {
            let mut engine = Engine::new(identity(), Rc::new(SystemClock));
            let attributes: Vec<Map<String, Json>> = (0..64).map(small_attributes).collect();
            let inputs: Vec<RawUpsert> = (0..iterations as usize).map(upsert_identifiers).collect();
            let mut total = Duration::ZERO;
            let mut n = 0usize;
            while (n as u64) < iterations {
                let started = Instant::now();
                let end = (n + 4096).min(iterations as usize);
                for (i, identifiers) in inputs.iter().enumerate().take(end).skip(n) {
                    let command = upsert(&engine, identifiers, &attributes[i % attributes.len()]);
                    if engine.execute(command).is_err() {
                        unreachable!("upsert {i} failed");
                    }
                }
                engine.take_unpersisted();
                total += started.elapsed();
                n = end;
            }
            total
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(20);
    targets = lookups, upserts
}

fn main() {
    if std::env::args().any(|arg| arg == "--bench") {
        report_memory();
        report_upsert_cpu();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
