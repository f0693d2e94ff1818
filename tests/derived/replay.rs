use std::rc::Rc;

use cdp_engine::engine::{Change, ManualClock};
use cdp_engine::events::EventQuery;
use cdp_engine::identity::IdentityConfig;
use cdp_engine::Engine;

use super::support::{engine, event, ok, upsert};

/// Everything derived state shows through the public API, for comparing two engines.
pub(crate) fn derived_view(engine: &Engine) -> String {
    let mut view = String::new();
    for profile in engine.profiles() {
        let mut query = EventQuery::for_profile(profile.id).with_limit(100).unwrap();
        query.order = cdp_engine::events::Order::Asc;
        let events = engine.events(&query).unwrap().events;
        view.push_str(&format!(
            "{profile:?}\n{:?}\n{events:?}\n{:?}\n",
            engine.trait_values(profile.id),
            engine.segments_of(profile.id)
        ));
    }
    for segment in engine.segment_definitions() {
        let title = &segment.system_title;
        view.push_str(&format!(
            "{segment:?}\n{:?}\n{:?}\n",
            engine.segment_members(title),
            engine.segment_history(title)
        ));
    }
    view
}

pub(crate) fn replayed(engine: &mut Engine, log: &mut Vec<Change>) -> Engine {
    log.extend(engine.take_unpersisted());
    let text = serde_json::to_string(&log).unwrap();
    let stored: Vec<Change> = serde_json::from_str(&text).unwrap();
    Engine::replay(
        IdentityConfig::default(),
        Rc::new(ManualClock::default()),
        stored,
    )
    .unwrap()
}

#[test]
fn replay_through_json_rebuilds_events_traits_memberships_and_history() {
    let (mut engine, clock) = engine();
    let mut log = Vec::new();
    ok(
        &mut engine,
        r#"{"defineTrait":{"name":"ltv","aggregate":"sum","event":"purchase","property":"amount","windowDays":2}}"#,
    );
    ok(
        &mut engine,
        r#"{"defineSegment":{"systemTitle":"vip","rule":{"op":"or","rules":[{"op":"range","trait":"ltv","min":50},{"op":"equals","attribute":"plan","value":"gold"}]}}}"#,
    );
    upsert(&mut engine, "a@example.com", r#"{"plan":"gold"}"#);
    event(
        &mut engine,
        "b@example.com",
        "purchase",
        0,
        r#"{"amount": 70}"#,
    );
    clock.advance_seconds(3 * 86_400);
    ok(&mut engine, r#"{"tick":{}}"#);
    upsert(&mut engine, "a@example.com", r#"{"plan":"silver"}"#);
    ok(
        &mut engine,
        r#"{"setSegmentActive":{"systemTitle":"vip","active":false}}"#,
    );
    ok(
        &mut engine,
        r#"{"setSegmentActive":{"systemTitle":"vip","active":true}}"#,
    );
    event(
        &mut engine,
        "b@example.com",
        "purchase",
        3 * 86_400,
        r#"{"amount": 80}"#,
    );
    let rebuilt = replayed(&mut engine, &mut log);
    assert_eq!(derived_view(&rebuilt), derived_view(&engine));
    assert_eq!(engine.segment_history("vip").unwrap().len(), 5);
}
