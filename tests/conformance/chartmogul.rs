//! ChartMogul Enrichment (`chartmogul-enrichment-api.md`).

use serde_json::{json, Value as Json};

use super::shape::Loose;
use super::spec::{self, Example};
use super::{assert_conforms, assert_listed};
use crate::support::Harness;

const CASES: &[(&str, u16)] = &[
    ("GET /v1/customers?page=1&per_page=50", 200),
    ("GET /v1/customers/{customer_id}", 200),
    ("GET /v1/customers/search?email=bob@examplecompany.com", 200),
    ("GET /v1/customers/{customer_id}/attributes", 200),
    ("POST /v1/customers/{customer_id}/attributes/tags", 200),
    ("POST /v1/customers/attributes/tags", 200),
    ("DELETE /v1/customers/{customer_id}/attributes/tags", 200),
    ("POST /v1/customers/{customer_id}/attributes/custom", 200),
    ("POST /v1/customers/attributes/custom", 200),
    ("DELETE /v1/customers/{customer_id}/attributes/custom", 200),
    ("PUT /v1/customers/{customer_id}/attributes/custom", 200),
];

/// Custom attributes are data; the engine holds no Stripe or Clearbit data.
const LOOSE: Loose<'static> = Loose {
    maps: &[
        "custom",
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
    for example in &spec::chartmogul() {
        let mut harness = Harness::new();
        let response = run(&mut harness, example);
        assert_conforms(example, &response, LOOSE);
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

#[test]
fn chartmogul_custom_attribute_examples_give_the_documented_values() {
    let examples = spec::chartmogul();
    let mut harness = Harness::new();
    let added = run(&mut harness, &examples[7]).body_json();
    assert_eq!(added["custom"]["channel"], "Facebook");
    assert_eq!(added["custom"]["age"], 8);
    assert_eq!(added["custom"]["CAC"], 213);
    let id = harness.engine.profiles().next().unwrap().id;
    let target = |example: &Example| {
        example
            .target()
            .replace("{customer_id}", &format!("cus_{id}"))
    };
    let removed = harness.chartmogul(
        "DELETE",
        &target(&examples[9]),
        examples[9].body.as_deref().unwrap(),
    );
    let custom = &removed.body_json()["custom"];
    assert_eq!(custom["age"], Json::Null, "{custom}");
    assert_eq!(custom["salesRep"], Json::Null, "{custom}");
    assert_eq!(custom["channel"], "Facebook");
    let updated = harness.chartmogul(
        "PUT",
        &target(&examples[10]),
        examples[10].body.as_deref().unwrap(),
    );
    let custom = &updated.body_json()["custom"];
    assert_eq!(
        (&custom["pro"], &custom["channel"]),
        (&json!(true), &json!("Twitter"))
    );

    let by_email = run(&mut Harness::new(), &examples[8]).body_json();
    let entries = by_email["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert!(
        entries[0].get("address").is_none(),
        "listed as the example lists them"
    );
    assert_eq!(entries[0]["attributes"]["custom"]["age"], 8);
}

#[test]
fn chartmogul_custom_attributes_are_typed_by_their_declared_type() {
    let mut harness = Harness::new();
    let id = harness.seed(json!({"email": "adam@smith.com"}), json!({}));
    let custom = format!("/v1/customers/cus_{id}/attributes/custom");
    let added = harness.chartmogul(
        "POST",
        &custom,
        r#"{"custom": [
            {"type": "Boolean", "key": "pro", "value": "t"},
            {"type": "Boolean", "key": "churned", "value": "0"},
            {"type": "Integer", "key": "seats", "value": "12"},
            {"type": "Timestamp", "key": "convertedAt", "value": "2015-09-08T00:00:00-04:00", "source": "Integration"}
        ]}"#,
    );
    assert_eq!(added.status, 200, "{}", added.body);
    let custom_json = added.body_json()["custom"].clone();
    assert_eq!(custom_json["pro"], true);
    assert_eq!(custom_json["churned"], false);
    assert_eq!(custom_json["seats"], 12);
    assert!(custom_json["convertedAt"]
        .as_str()
        .unwrap()
        .starts_with("2015-09-08T04:00:00"));
    let updated = harness.chartmogul(
        "PUT",
        &custom,
        r#"{"custom": {"pro": "FALSE", "seats": 13}}"#,
    );
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(
        updated.body_json()["custom"]["pro"],
        false,
        "PUT is typed by the declaration"
    );
    assert_eq!(updated.body_json()["custom"]["seats"], 13);
}
