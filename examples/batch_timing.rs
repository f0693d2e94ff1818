//! Where one JSON batch spends its time: builds the text the package would send, then times
//! reading it into commands and running them. `upserts` (the default): what
//! `cdp.profiles.upsertMany` sends for `N` profiles shaped like the browser benchmark's
//! (scenario 3: an email and six typed attributes each). `persist`: the same batch through a
//! database write, as the page persists it (log records encoded, the answer built). `events`: what
//! `cdp.execute({ batch })` sends for `N` events shaped like scenario 6's (an email, a name, a
//! time and one property each, over `N / 2` profiles). `rest`: the same events as
//! `cdp.events.recordMany` posts them to `POST /cdp/v1/events`, in arrays of 1,000. `keys`:
//! one upsert of a profile with `N` new attributes, then a replay of its log. `sor`: one
//! FollowAnalytics upload of `N` new keys to an app SOR, which declares them. `newest-first`
//! and `oldest-first`: `N` events of one profile in batches of 1,000, as a history exported
//! newest first (or oldest first) is imported. Not a
//! test and not a benchmark of record; run with
//! `cargo run --release --example batch_timing [N] [upserts|events|rest]`, or under callgrind
//! to count instructions.

mod support;

use std::rc::Rc;
use std::time::Instant;

use cdp_engine::api::{Api, Method, Request};
use cdp_engine::config::Config;
use cdp_engine::engine::{Database, DatabaseOptions, Engine, Execution, SystemClock};
use cdp_engine::identity::IdentityConfig;
use cdp_engine::storage::MemoryStorage;
use support::block_on;

fn upsert(index: usize) -> String {
    let countries = ["DK", "SE", "NO", "DE", "FR", "NL"];
    format!(
        r#"{{"upsertProfile":{{"identities":{{"email":["Person{index}@Example.com"]}},"attributes":{{"name":"Person {index}","age":{},"country":"{}","plan":"gold","spend":{}.25,"optIn":{}}}}}}}"#,
        18 + index % 63,
        countries[index % countries.len()],
        index % 1000,
        index % 3 != 0
    )
}

/// One event as a JSON object (the body of a `recordEvent` command or an item of a
/// `POST /cdp/v1/events` array).
fn event(index: usize, profiles: usize) -> String {
    let names = ["viewedPage", "addedProduct", "purchase", "login"];
    format!(
        r#"{{"identities":{{"email":["s{}@example.com"]}},"name":"{}","happened":"2026-11-{:02}T10:{:02}:{:02}.000Z","properties":{{"sequence":{index}}}}}"#,
        (index * 7919) % profiles,
        names[index % names.len()],
        1 + index % 28,
        index % 60,
        (index / 60) % 60
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map_or(Ok(100_000), |text| text.parse())?;
    let (events, rest) = match args.next().as_deref() {
        None | Some("upserts") => (false, false),
        Some("persist") => return persist_upserts(count),
        Some("events") => (true, false),
        Some("rest") => (true, true),
        Some("keys") => return one_profile_keys(count),
        Some("sor") => return one_upload_of_new_keys(count),
        Some("newest-first") => return one_profile_history(count, true),
        Some("oldest-first") => return one_profile_history(count, false),
        Some(other) => {
            return Err(format!(
            "upserts, persist, events, rest, keys, sor, newest-first or oldest-first, not {other}"
        )
            .into())
        }
    };
    let profiles = (count / 2).max(1);
    if rest {
        return post_events(count, profiles);
    }
    let records: Vec<String> = (0..count)
        .map(|index| {
            if events {
                format!(r#"{{"recordEvent":{}}}"#, event(index, profiles))
            } else {
                upsert(index)
            }
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

/// The `upserts` batch as `CdpCore::execute` handles it in the page: read and run inside a
/// database write, the changes encoded into log records (the memory backend encodes them as
/// IndexedDB's does), and the answer's text built.
fn persist_upserts(count: usize) -> Result<(), Box<dyn std::error::Error>> {
    let records: Vec<String> = (0..count).map(upsert).collect();
    let text = format!(r#"{{"batch":[{}]}}"#, records.join(","));
    let storage = MemoryStorage::new();
    let options = DatabaseOptions {
        snapshot_min_changes: u64::MAX,
        snapshot_after_write: false,
    };
    let database = block_on(Database::open_with(
        &storage,
        IdentityConfig::default(),
        Rc::new(SystemClock),
        options,
    ))?;
    let start = Instant::now();
    let (outcome, changes) = block_on(database.write_fresh(|engine| {
        Execution::from_json(&text, engine.identity_config())
            .and_then(|execution| execution.run(engine))
    }))?;
    let written = start.elapsed();
    let answer = outcome?.to_json_text();
    println!(
        "persist {count} upserts: {written:?} to durable, {:?} with the answer ({} bytes), {} changes",
        start.elapsed(),
        answer.len(),
        changes.len()
    );
    Ok(())
}

/// Posts `count` events in arrays of 1,000 to `/cdp/v1/events`, as the typed helper does.
fn post_events(count: usize, profiles: usize) -> Result<(), Box<dyn std::error::Error>> {
    let indexes: Vec<usize> = (0..count).collect();
    let bodies: Vec<String> = indexes
        .chunks(1_000)
        .map(|part| {
            let items: Vec<String> = part.iter().map(|&index| event(index, profiles)).collect();
            format!("[{}]", items.join(","))
        })
        .collect();
    let mut engine = Engine::new(IdentityConfig::default(), Rc::new(SystemClock));
    let mut api = Api::new(&Config::default());
    let start = Instant::now();
    for body in bodies {
        let mut request = Request::new(Method::Post, "/cdp/v1/events");
        request.body = body;
        let response = api.handle_own(&mut engine, &request);
        if response.status != 201 {
            return Err(format!("answered {}: {}", response.status, response.body).into());
        }
    }
    println!(
        "posted {count} events: {:?}, {} profiles, {} changes",
        start.elapsed(),
        engine.profile_count(),
        engine.take_unpersisted().len()
    );
    Ok(())
}

/// Upserts one profile with `count` new attributes, then replays the changes that wrote them.
fn one_profile_keys(count: usize) -> Result<(), Box<dyn std::error::Error>> {
    let attributes: Vec<String> = (0..count)
        .map(|index| format!(r#""k{}":{index}"#, (index * 7919) % count))
        .collect();
    let text = format!(
        r#"{{"upsertProfile":{{"identities":{{"email":["keys@example.com"]}},"attributes":{{{}}}}}}}"#,
        attributes.join(",")
    );
    let mut engine = Engine::new(IdentityConfig::default(), Rc::new(SystemClock));
    let execution = Execution::from_json(&text, engine.identity_config())?;
    let start = Instant::now();
    execution.run(&mut engine)?;
    let changes = engine.take_unpersisted();
    println!(
        "upsert of {count} keys: {:?}, {} changes",
        start.elapsed(),
        changes.len()
    );
    let start = Instant::now();
    let replayed = Engine::replay(IdentityConfig::default(), Rc::new(SystemClock), changes)?;
    println!(
        "replay: {:?}, {} profiles",
        start.elapsed(),
        replayed.profile_count()
    );
    Ok(())
}

/// Records `count` events of one profile, a minute apart, in batches of 1,000: the newest
/// first when `newest_first`, else the oldest first.
fn one_profile_history(count: usize, newest_first: bool) -> Result<(), Box<dyn std::error::Error>> {
    let mut engine = Engine::new(IdentityConfig::default(), Rc::new(SystemClock));
    let minutes: Vec<usize> = if newest_first {
        (0..count).rev().collect()
    } else {
        (0..count).collect()
    };
    let batches: Vec<String> = minutes
        .chunks(1_000)
        .map(|part| {
            let records: Vec<String> = part
                .iter()
                .map(|&minute| {
                    format!(
                        r#"{{"recordEvent":{{"identities":{{"email":["history@example.com"]}},"name":"view","happened":"{}","properties":{{"minute":{minute}}}}}}}"#,
                        minute_text(minute)
                    )
                })
                .collect();
            format!(r#"{{"batch":[{}]}}"#, records.join(","))
        })
        .collect();
    let start = Instant::now();
    for text in batches {
        Execution::from_json(&text, engine.identity_config())?.run(&mut engine)?;
        engine.take_unpersisted();
    }
    println!(
        "{count} events of one profile, {}: {:?}",
        if newest_first {
            "newest first"
        } else {
            "oldest first"
        },
        start.elapsed()
    );
    Ok(())
}

/// `minute` minutes after 2026-01-01T00:00:00Z, as RFC 3339 text.
fn minute_text(minute: usize) -> String {
    let (days, rest) = (minute / 1_440, minute % 1_440);
    let (month, day) = (1 + days / 28 % 12, 1 + days % 28);
    let year = 2026 + days / (28 * 12);
    format!(
        "{year}-{month:02}-{day:02}T{:02}:{:02}:00Z",
        rest / 60,
        rest % 60
    )
}

/// Uploads `count` values of new keys for one customer to an app SOR, which declares each key.
fn one_upload_of_new_keys(count: usize) -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_json(
        r#"{"schema":{"sources":[{"id":"SOR-SDK_app","name":"App","kind":"app"}]},
            "followanalytics":{"apiKeys":["fk1"],"sources":[{"identifier":"SOR-SDK_app","apiKeys":["k"]}]}}"#,
    )?;
    let values: Vec<String> = (0..count)
        .map(|index| {
            format!(
                r#"{{"customer_id":"u1","attribute_key":"f{index}","attribute_value":"v{index}"}}"#
            )
        })
        .collect();
    let mut request = Request::new(Method::Post, "/api/attribute_values");
    request.body = format!(
        r#"{{"sor":"SOR-SDK_app","api_key":"k","customer_attribute_values":[{}]}}"#,
        values.join(",")
    );
    let mut engine = Engine::with_schema(
        config.identity.clone(),
        config.schema.clone(),
        Rc::new(SystemClock),
    )?;
    let mut api = Api::new(&config);
    let start = Instant::now();
    let response = api.handle(&mut engine, &request);
    println!(
        "upload of {count} new keys: {:?}, status {}",
        start.elapsed(),
        response.status
    );
    Ok(())
}
