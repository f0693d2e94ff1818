//! ChartMogul Enrichment (`chartmogul-enrichment-api.md`).

use serde_json::json;

use super::shape::Loose;
use super::spec::{self, Example};
use super::{assert_conforms, assert_listed, Case};
use crate::support::Harness;

const CUSTOM: Case =
    Case::Pending("typed custom attributes String/Integer/Timestamp/Boolean (core-identity)");

const CASES: &[(&str, u16, Case)] = &[
    ("GET /v1/customers?page=1&per_page=50", 200, Case::Done),
    ("GET /v1/customers/{customer_id}", 200, Case::Done),
    (
        "GET /v1/customers/search?email=bob@examplecompany.com",
        200,
        Case::Done,
    ),
    (
        "GET /v1/customers/{customer_id}/attributes",
        200,
        Case::Done,
    ),
    (
        "POST /v1/customers/{customer_id}/attributes/tags",
        200,
        Case::Done,
    ),
    ("POST /v1/customers/attributes/tags", 200, Case::Done),
    (
        "DELETE /v1/customers/{customer_id}/attributes/tags",
        200,
        Case::Done,
    ),
    (
        "POST /v1/customers/{customer_id}/attributes/custom",
        200,
        CUSTOM,
    ),
    ("POST /v1/customers/attributes/custom", 200, CUSTOM),
    (
        "DELETE /v1/customers/{customer_id}/attributes/custom",
        200,
        CUSTOM,
    ),
    (
        "PUT /v1/customers/{customer_id}/attributes/custom",
        200,
        CUSTOM,
    ),
];

/// Custom attributes are data; the engine holds no Stripe or Clearbit data.
const LOOSE: Loose<'static> = Loose {
    maps: &[
        "attributes.custom",
        "attributes.stripe",
        "attributes.clearbit",
        "entries[].attributes.custom",
        "entries[].attributes.stripe",
        "entries[].attributes.clearbit",
    ],
    may_be_empty: &[],
};

fn run(harness: &mut Harness, example: &Example) -> cdp_engine::api::Response {
    let mut first = None;
    for email in ["bob@examplecompany.com", "adam@smith.com"] {
        let id = harness.seed(
            json!({"email": email, "external_id": "34916129"}),
            json!({"name": "Example Company", "address_line1": "First line of address",
                   "address_line2": "Second line of address", "address_zip": "0185128",
                   "city": "Nowhereville", "country": "US", "state": "Alaska",
                   "CAC": 213, "salesRep": "Gabi"}),
        );
        first.get_or_insert(id);
    }
    let id = first.unwrap_or_else(cdp_engine::model::ProfileId::random);
    let target = example
        .target()
        .replace("{customer_id}", &format!("cus_{id}"));
    harness.chartmogul(
        "POST",
        &format!("/v1/customers/cus_{id}/attributes/tags"),
        r#"{"tags": ["engage", "unit loss", "discountable"]}"#,
    );
    harness.chartmogul(
        example.method(),
        &target,
        example.body.as_deref().unwrap_or_default(),
    )
}

#[test]
fn every_chartmogul_example_is_listed() {
    assert_listed(&spec::chartmogul(), CASES);
}

#[test]
fn chartmogul_examples_answer_in_the_documented_shape() {
    for (example, (_, _, case)) in spec::chartmogul().iter().zip(CASES) {
        if *case == Case::Done {
            let mut harness = Harness::new();
            let response = run(&mut harness, example);
            assert_conforms(example, &response, LOOSE);
        }
    }
}

#[test]
fn chartmogul_tag_examples_give_the_documented_tags() {
    let examples = spec::chartmogul();
    let mut harness = Harness::new();
    let added = run(&mut harness, &examples[4]).body_json();
    assert_eq!(
        added,
        json!({"tags": ["Prio1", "discountable", "engage", "important", "unit loss"]})
    );
    let removed = harness.chartmogul(
        "DELETE",
        &examples[6].target().replace(
            "{customer_id}",
            &format!("cus_{}", harness.engine.profiles().next().unwrap().id),
        ),
        examples[6].body.as_deref().unwrap(),
    );
    assert_eq!(
        removed.body_json(),
        json!({"tags": ["engage", "important", "unit loss"]})
    );
}
