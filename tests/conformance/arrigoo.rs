//! Arrigoo CDP (`arrigoo-cdp-api.md`).

use serde_json::json;

use super::shape::Loose;
use super::spec::{self, Example};
use super::{assert_conforms, assert_listed};
use crate::support::Harness;

const CASES: &[(&str, u16)] = &[
    ("POST /auth/api", 200),
    ("POST /auth/api/refresh", 200),
    ("GET /v1/customer?page=1", 200),
    ("GET /v1/customer/{profile UUID}", 200),
    ("GET /v1/customer/segment/{segment_system_title}", 200),
    ("PUT /v1/customer", 200),
    ("GET /v1/stat/segment", 200),
    ("GET /v1/stat/event", 200),
    ("GET /v1/stat/event/month", 200),
];

/// Event statistics are keyed by event type.
const LOOSE: Loose<'static> = Loose {
    maps: &["entries[].stats"],
    may_be_empty: &[],
};

/// A segment every profile with an email is in, and an event yesterday (the clock stands at
/// 2025-03-21T10:00:00Z), so segment lists and statistics have entries.
fn seed_segment_and_event(harness: &mut Harness) {
    harness.execute(
        json!({"defineSegment": {"systemTitle": "subscriber", "name": "Is subscriber",
        "rule": {"op": "hasIdentity", "kind": "email"}}}),
    );
    harness.execute(
        json!({"recordEvent": {"identities": {"email": "ibbib@bob.dk"},
        "name": "pageview", "happened": "2025-03-20T08:00:00Z"}}),
    );
}

fn run(harness: &mut Harness, example: &Example) -> cdp_engine::api::Response {
    seed_segment_and_event(harness);
    let id = harness.seed(
        json!({"email": "ibbib@bob.dk", "foreignid1": "ytrewq"}),
        json!({"name": "Bib Bobsen"}),
    );
    harness.seed(json!({"email": "bob@bib.dk"}), json!({}));
    let body = example.body.clone().unwrap_or_default();
    match example.request.as_str() {
        "POST /auth/api" => {
            let body = body
                .replace("THE KEY NAME", "viewer")
                .replace("THE SECRET", "s-viewer");
            harness.send("POST", "/auth/api", &[], &body)
        }
        "POST /auth/api/refresh" => {
            let login = harness
                .send(
                    "POST",
                    "/auth/api",
                    &[],
                    r#"{"key":"viewer","secret":"s-viewer"}"#,
                )
                .body_json();
            let token = login["refresh_token"].as_str().unwrap_or_default();
            let body = body.replace("f8xxxx85-exx3-4xxc-9xxa-18xxxxxxxx10", token);
            harness.send("POST", "/auth/api/refresh", &[], &body)
        }
        "GET /v1/customer/segment/{segment_system_title}" => {
            harness.arrigoo("GET", "/v1/customer/segment/subscriber", "")
        }
        "GET /v1/customer/{profile UUID}" => {
            harness.arrigoo("GET", &format!("/v1/customer/{id}"), "")
        }
        _ => harness.arrigoo(example.method(), example.target(), &body),
    }
}

#[test]
fn every_arrigoo_example_is_listed() {
    assert_listed(&spec::arrigoo(), CASES);
}

#[test]
fn arrigoo_examples_answer_in_the_documented_shape() {
    for example in &spec::arrigoo() {
        let mut harness = Harness::new();
        let response = run(&mut harness, example);
        assert_conforms(example, &response, LOOSE);
    }
}

#[test]
fn arrigoo_upsert_example_writes_what_it_says() {
    let examples = spec::arrigoo();
    let example = examples
        .iter()
        .find(|example| example.request == "PUT /v1/customer")
        .unwrap();
    let mut harness = Harness::new();
    let profile = harness
        .arrigoo("PUT", "/v1/customer", example.body.as_deref().unwrap())
        .body_json();
    assert_eq!(
        profile["p"],
        json!([{"lab": "name", "val": "Bib Bobsen"}, {"lab": "subscription_id", "val": "ytrewq"}])
    );
    assert_eq!(
        profile["i"],
        json!([{"id_type": "email", "id_value": "bib@bob.dk"}, {"id_type": "foreignid1", "id_value": "ytrewq"}])
    );
}
