//! Where one JSON batch of upserts spends its time: builds the text `cdp.profiles.upsertMany`
//! would send for `N` profiles shaped like the browser benchmark's (scenario 3: an email and
//! six typed attributes each), then times reading it into commands and running them. Not a
//! test and not a benchmark of record; run with
//! `cargo run --release --example batch_timing [N]`, or under callgrind to count instructions.

use std::rc::Rc;
use std::time::Instant;

use cdp_engine::engine::{Engine, Execution, SystemClock};
use cdp_engine::identity::IdentityConfig;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: usize = std::env::args()
        .nth(1)
        .map_or(Ok(100_000), |text| text.parse())?;
    let countries = ["DK", "SE", "NO", "DE", "FR", "NL"];
    let records: Vec<String> = (0..count)
        .map(|index| {
            format!(
                r#"{{"upsertProfile":{{"identities":{{"email":["Person{index}@Example.com"]}},"attributes":{{"name":"Person {index}","age":{},"country":"{}","plan":"gold","spend":{}.25,"optIn":{}}}}}}}"#,
                18 + index % 63,
                countries[index % countries.len()],
                index % 1000,
                index % 3 != 0
            )
        })
        .collect();
    let text = format!(r#"{{"batch":[{}]}}"#, records.join(","));
    let mut engine = Engine::new(IdentityConfig::default(), Rc::new(SystemClock));
    let start = Instant::now();
    let execution = Execution::from_json(&text, engine.identity_config())?;
    println!(
        "read {} bytes into commands: {:?}",
        text.len(),
        start.elapsed()
    );
    let start = Instant::now();
    execution.run(&mut engine)?;
    println!(
        "run: {:?}, {} profiles, {} changes",
        start.elapsed(),
        engine.profile_count(),
        engine.take_unpersisted().len()
    );
    Ok(())
}
