//! PrimeData Profile API (`primedata-profile-api.md`, `.en.md`).

use serde_json::json;

use super::shape::Loose;
use super::spec;
use super::{assert_conforms, assert_listed, Case};
use crate::support::Harness;

const CASES: &[(&str, u16, Case)] = &[
    ("POST /pub/profiles/advanced-search", 200, Case::Done),
    (
        "POST /pub/events/advanced-search",
        200,
        Case::Pending("event store and event search with cursor (core-segments)"),
    ),
    ("POST /pub/profiles/advanced-search", 401, Case::Done),
    ("POST /pub/profiles/advanced-search", 400, Case::Done),
];

/// Identities, traits and computed traits are keyed by data.
const LOOSE: Loose<'static> = Loose {
    maps: &["data.identity", "data.trait", "data.p_trait"],
    may_be_empty: &[],
};

#[test]
fn every_primedata_example_is_listed() {
    assert_listed(&spec::primedata(), CASES);
}

#[test]
fn primedata_examples_answer_in_the_documented_shape() {
    for (example, (_, status, case)) in spec::primedata().iter().zip(CASES) {
        if *case != Case::Done {
            continue;
        }
        let mut harness = Harness::new();
        harness.seed(
            json!({"phone_number": ["0123456788", "0123456789"], "email": "mail@gmail.com", "crm_user_id": "123"}),
            json!({"full_name": "Sơn", "address": "HN"}),
        );
        let body = example.body.as_deref().unwrap_or_default();
        let response = if *status == 401 {
            harness.send("POST", example.target(), &[], body)
        } else {
            harness.primedata("POST", example.target(), body)
        };
        assert_conforms(example, &response, LOOSE);
    }
}
