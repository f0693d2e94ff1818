//! Shared helpers: engines with a manual clock, commands from JSON, state snapshots.

use std::rc::Rc;

use cdp_engine::engine::{Change, Command, Engine, ManualClock, Outcome};
use cdp_engine::identity::{Identifier, IdentityConfig};
use cdp_engine::model::{Profile, ProfileId, Timestamp};
use cdp_engine::schema::{Schema, SchemaConfig};

pub(crate) fn clock() -> ManualClock {
    ManualClock::starting_at(Timestamp::from_millis(1_700_000_000_000))
}

pub(crate) fn engine_with(identity: &str, schema: &str) -> (Engine, ManualClock) {
    let identity: IdentityConfig = serde_json::from_str(identity).unwrap();
    let schema: SchemaConfig = serde_json::from_str(schema).unwrap();
    let clock = clock();
    let engine = Engine::with_schema(identity, schema, Rc::new(clock.clone())).unwrap();
    (engine, clock)
}

pub(crate) fn rejecting_engine() -> (Engine, ManualClock) {
    engine_with("{}", "{}")
}

pub(crate) fn merging_engine() -> (Engine, ManualClock) {
    engine_with(r#"{"policy":"merge"}"#, "{}")
}

pub(crate) fn command(engine: &Engine, json: &str) -> Command {
    Command::from_json(json, engine.identity_config()).unwrap()
}

pub(crate) fn run(engine: &mut Engine, json: &str) -> Outcome {
    let command = command(engine, json);
    engine.execute(command).unwrap()
}

pub(crate) fn run_error(engine: &mut Engine, json: &str) -> String {
    let command = command(engine, json);
    engine.execute(command).unwrap_err().code().to_owned()
}

pub(crate) fn profile_of(outcome: &Outcome) -> ProfileId {
    outcome.profile_id().unwrap()
}

pub(crate) fn identifier(engine: &Engine, kind: &str, value: &str) -> Identifier {
    engine.identity_config().normalize(kind, value).unwrap()
}

/// Everything observable about an engine's state, for equality checks.
#[derive(Debug, PartialEq)]
pub(crate) struct Snapshot {
    pub(crate) profiles: Vec<Profile>,
    pub(crate) schema: Schema,
    pub(crate) next_offset: u64,
    pub(crate) unpersisted: usize,
    pub(crate) identifiers: usize,
    pub(crate) merges: Vec<(ProfileId, ProfileId)>,
}

pub(crate) fn snapshot(engine: &Engine) -> Snapshot {
    let mut merges: Vec<_> = engine
        .merges()
        .map(|record| (record.absorbed.id, record.survivor))
        .collect();
    merges.sort();
    Snapshot {
        profiles: engine.profiles().cloned().collect(),
        schema: engine.schema().clone(),
        next_offset: engine.next_offset(),
        unpersisted: engine.unpersisted().len(),
        identifiers: engine.identifier_count(),
        merges,
    }
}

/// An engine rebuilt from `changes` with the same configuration as `engine`.
pub(crate) fn replayed(engine: &Engine, changes: Vec<Change>) -> Engine {
    Engine::replay_with_schema(
        engine.identity_config().clone(),
        engine.schema_config().clone(),
        Rc::new(clock()),
        changes,
    )
    .unwrap()
}
