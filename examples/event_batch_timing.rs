//! Where one JSON batch of events spends its time: builds the text `cdp.execute({ batch })`
//! would send for `N` events shaped like the browser benchmark's (scenario 6: an email, a
//! name, a time and one property each, over `N / 2` profiles), then times reading it into
//! commands and running them. Not a test and not a benchmark of record; run with
//! `cargo run --release --example event_batch_timing [N]`, or under callgrind to count
//! instructions.

use std::rc::Rc;
use std::time::Instant;

use cdp_engine::engine::{Engine, Execution, SystemClock};
use cdp_engine::identity::IdentityConfig;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: usize = std::env::args()
        .nth(1)
        .map_or(Ok(100_000), |text| text.parse())?;
    let names = ["viewedPage", "addedProduct", "purchase", "login"];
    let profiles = (count / 2).max(1);
    let records: Vec<String> = (0..count)
        .map(|index| {
            format!(
                r#"{{"recordEvent":{{"identities":{{"email":["s{}@example.com"]}},"name":"{}","happened":"2026-11-{:02}T10:{:02}:{:02}.000Z","properties":{{"sequence":{index}}}}}}}"#,
                (index * 7919) % profiles,
                names[index % names.len()],
                1 + index % 28,
                index % 60,
                (index / 60) % 60
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
