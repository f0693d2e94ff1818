//! PrimeData Profile API (`primedata-profile-api.md`, `.en.md`).

use serde_json::json;

use cdp_engine::engine::Command;

use super::shape::Loose;
use super::spec;
use super::{assert_conforms, assert_listed};
use crate::support::Harness;

const CASES: &[(&str, u16)] = &[
    ("POST /pub/profiles/advanced-search", 200),
    ("POST /pub/events/advanced-search", 200),
    ("POST /pub/profiles/advanced-search", 401),
    ("POST /pub/profiles/advanced-search", 400),
];

/// Identities, traits, computed traits and event properties are keyed by data.
const LOOSE: Loose<'static> = Loose {
    maps: &[
        "data.identity",
        "data.trait",
        "data.p_trait",
        "data[].properties",
    ],
    may_be_empty: &[],
};

#[test]
fn every_primedata_example_is_listed() {
    assert_listed(&spec::primedata(), CASES);
}

#[test]
fn primedata_examples_answer_in_the_documented_shape() {
    for (example, (_, status)) in spec::primedata().iter().zip(CASES) {
        let mut harness = Harness::new();
        harness.seed(
            json!({"phone_number": ["0123456788", "0123456789"], "email": "mail@gmail.com", "crm_user_id": "123"}),
            json!({"full_name": "Sơn", "address": "HN"}),
        );
        record_orders(&mut harness);
        let body = example.body.as_deref().unwrap_or_default();
        let response = if *status == 401 {
            harness.send("POST", example.target(), &[], body)
        } else {
            harness.primedata("POST", example.target(), body)
        };
        assert_conforms(example, &response, LOOSE);
    }
}

/// More orders than the events example's `limit` (12), each with a send time and schema
/// version, so its page has every documented key and a next cursor; and a computed trait.
fn record_orders(harness: &mut Harness) {
    let ltv = json!({"defineTrait": {"name": "ltv", "aggregate": "sum", "event": "OrderCompleted", "property": "order_revenue"}});
    let mut commands = vec![ltv];
    for minute in 0..13 {
        let name = if minute % 2 == 0 {
            "OrderCreated"
        } else {
            "OrderCompleted"
        };
        commands.push(json!({"recordEvent": {
            "identities": {"phone_number": "0123456789"}, "name": name,
            "happened": format!("2025-03-21T09:{minute:02}:00Z"),
            "sent": format!("2025-03-21T09:{minute:02}:30Z"), "schemaVersion": "0.1",
            "properties": {"phone_number": "0123456789", "order_revenue": 749_547}}}));
    }
    for command in commands {
        let command =
            Command::from_json(&command.to_string(), harness.engine.identity_config()).unwrap();
        harness.engine.execute(command).unwrap();
    }
}
