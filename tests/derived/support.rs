use std::rc::Rc;

use cdp_engine::engine::{ManualClock, Outcome};
use cdp_engine::identity::IdentityConfig;
use cdp_engine::model::{ProfileId, Timestamp};
use cdp_engine::{Command, Engine, EngineError};

pub(crate) const START: &str = "2025-03-01T00:00:00Z";

pub(crate) fn engine() -> (Engine, ManualClock) {
    let clock = ManualClock::starting_at(Timestamp::parse(START).unwrap());
    let engine = Engine::new(IdentityConfig::default(), Rc::new(clock.clone()));
    (engine, clock)
}

/// An engine whose identity policy merges the profiles one upsert names.
pub(crate) fn merging_engine() -> (Engine, ManualClock) {
    let clock = ManualClock::starting_at(Timestamp::parse(START).unwrap());
    let identity: IdentityConfig = serde_json::from_str(r#"{"policy":"merge"}"#).unwrap();
    (Engine::new(identity, Rc::new(clock.clone())), clock)
}

pub(crate) fn run(engine: &mut Engine, json: &str) -> Result<Outcome, EngineError> {
    let command = Command::from_json(json, engine.identity_config())?;
    engine.execute(command)
}

pub(crate) fn ok(engine: &mut Engine, json: &str) -> Outcome {
    run(engine, json).unwrap_or_else(|error| panic!("{json}: {error}"))
}

/// Upserts a profile by email with the given attributes JSON and returns its id.
pub(crate) fn upsert(engine: &mut Engine, email: &str, attributes: &str) -> ProfileId {
    let json = format!(
        r#"{{"upsertProfile":{{"identities":{{"email":"{email}"}},"attributes":{attributes}}}}}"#
    );
    ok(engine, &json).profile_id().unwrap()
}

/// Records an event for an email, `seconds` after START.
pub(crate) fn event(
    engine: &mut Engine,
    email: &str,
    name: &str,
    seconds: i64,
    properties: &str,
) -> ProfileId {
    let happened = Timestamp::parse(START).unwrap().plus_seconds(seconds);
    let json = format!(
        r#"{{"recordEvent":{{"identities":{{"email":"{email}"}},"name":"{name}","happened":"{happened}","properties":{properties}}}}}"#
    );
    ok(engine, &json).profile_id().unwrap()
}

pub(crate) fn sorted(mut ids: Vec<ProfileId>) -> Vec<ProfileId> {
    ids.sort();
    ids
}
