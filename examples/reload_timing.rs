//! Where opening a database spends its time: builds an engine of `N` profiles shaped like the
//! browser benchmark's (scenario 3: an email and six typed attributes each), snapshots it
//! into the memory backend, then times each phase of loading it again. Not a test and not a
//! benchmark of record; run with `cargo run --release --example reload_timing [N] [REPEATS]`
//! (repeating the last phase gives a profiler something to look at).

mod support;

use std::rc::Rc;
use std::time::Instant;

use cdp_engine::engine::{Command, Database, DatabaseOptions, Engine, SnapshotChunk, SystemClock};
use cdp_engine::identity::IdentityConfig;
use cdp_engine::schema::SchemaConfig;
use cdp_engine::storage::codec::{decode_frame, CHUNK_MAGIC};
use cdp_engine::storage::{MemoryStorage, Storage};
use support::block_on;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: usize = std::env::args()
        .nth(1)
        .map_or(Ok(100_000), |text| text.parse())?;
    let repeats: usize = std::env::args().nth(2).map_or(Ok(1), |text| text.parse())?;
    let storage = MemoryStorage::new();
    let options = DatabaseOptions {
        snapshot_min_changes: u64::MAX,
        snapshot_after_write: false,
    };
    let open = || {
        block_on(Database::open_with(
            &storage,
            IdentityConfig::default(),
            Rc::new(SystemClock),
            options,
        ))
    };
    let database = open()?;
    let countries = ["DK", "SE", "NO", "DE", "FR", "NL"];
    let plans = ["free", "basic", "gold", "platinum"];
    let start = Instant::now();
    block_on(database.write(|engine| -> Result<(), Box<dyn std::error::Error>> {
        for index in 0..count {
            let text = format!(
                r#"{{"upsertProfile":{{"identities":{{"email":"person{index}@example.com"}},"attributes":{{"name":"Person {index}","age":{},"country":"{}","plan":"{}","spend":{}.25,"optIn":{}}}}}}}"#,
                18 + index % 63,
                countries[index % countries.len()],
                plans[index % plans.len()],
                index % 1000,
                index % 3 != 0
            );
            engine.execute(Command::from_json(&text, &IdentityConfig::default())?)?;
        }
        Ok(())
    }))??;
    println!("build {count} profiles: {:?}", start.elapsed());
    let start = Instant::now();
    block_on(database.write_snapshot())?;
    println!("write snapshot: {:?}", start.elapsed());
    let manifest = block_on(storage.snapshots())?[0];
    let records = block_on(storage.read_snapshot(&manifest))?;
    let bytes: usize = records.iter().map(Vec::len).sum();
    println!("snapshot: {} chunks, {bytes} bytes", records.len());

    let start = Instant::now();
    let chunks = records
        .iter()
        .map(|record| decode_frame::<SnapshotChunk<'static>>(CHUNK_MAGIC, record))
        .collect::<Result<Vec<_>, _>>()?;
    println!("decode chunks: {:?}", start.elapsed());
    let start = Instant::now();
    let engine = Engine::from_snapshot(
        IdentityConfig::default(),
        SchemaConfig::default(),
        Rc::new(SystemClock),
        chunks,
    )?;
    println!("rebuild engine (indexes): {:?}", start.elapsed());
    let start = Instant::now();
    drop(engine);
    println!("drop engine: {:?}", start.elapsed());

    for _ in 0..repeats {
        let start = Instant::now();
        let reopened = open()?;
        println!(
            "Database::open (read + decode + rebuild): {:?}, {} profiles",
            start.elapsed(),
            reopened.read(Engine::profile_count)?
        );
    }
    Ok(())
}
