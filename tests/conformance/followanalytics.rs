//! FollowAnalytics customer profiles (`followanalytics-customer-profiles-api.txt`).

use serde_json::json;

use super::shape::Loose;
use super::spec::{self, Example};
use super::{assert_conforms, assert_listed};
use crate::support::Harness;

const CASES: &[(&str, u16)] = &[
    ("GET /api/customer_profiles?sor_identifiers=sor_identifiers&customer_id_type=customer_id_type&attribute_keys=attribute_keys&page=page&num_per_page=num", 200),
    ("GET /api/customer_profiles?sor_identifiers=sor_identifiers&customer_id_type=customer_id_type&attribute_keys=attribute_keys&page=page&num_per_page=num", 400),
    ("GET /api/customer_profiles/customer_id?customer_id_type=type", 200),
    ("POST /api/attribute_values", 200),
    ("GET /api/system_of_records?type=type", 200),
    ("GET /api/system_of_records/sor_identifier", 200),
    ("POST /api/system_of_records", 200),
    ("PUT /api/system_of_records/sor_identifier", 200),
    ("DELETE /api/system_of_records/sor_identifier", 200),
    ("PUT /api/system_of_records/sor_identifier/disable", 200),
    ("PUT /api/system_of_records/sor_identifier/enable", 200),
    ("GET /api/customer_attributes/ca_identifier", 200),
    ("POST /api/customer_attributes", 200),
    ("PUT /api/customer_attributes/ca_identifier", 200),
    ("DELETE /api/customer_attributes/ca_identifier", 200),
    ("PUT /api/customer_attributes/ca_identifier/share", 200),
    ("PUT /api/customer_attributes/ca_identifier/unshare", 200),
    ("PUT /api/customer_attributes/ca_identifier/disable", 200),
    ("PUT /api/customer_attributes/ca_identifier/enable", 200),
];

/// SOR names and attribute keys are data; the engine records no app installations yet.
const LOOSE: Loose<'static> = Loose {
    maps: &["result.profiles[].attributes", "result[].attributes"],
    may_be_empty: &[
        "result.profiles[].applications",
        "result[].applications",
        // Keys are kept as digests: only the creating response shows the key.
        "result[].api_keys",
        "result.api_keys",
        // Sources without declarations (the global one here) list none.
        "result[].customer_attributes",
    ],
};

/// The spec's targets hold parameter names where values go; these are the values. `sor` is
/// a SOR created for the example.
fn target(example: &Example, sor: &str) -> String {
    if example.target() == "/api/attribute_values" {
        return example.target().to_owned();
    }
    if example.target().ends_with("/unshare") {
        return example
            .target()
            .replace("ca_identifier", "FACA_global.fav_team");
    }
    if example.target().starts_with("/api/customer_attributes") {
        return example
            .target()
            .replace("ca_identifier", &format!("FACA_{sor}.fav_team"));
    }
    if example.target().starts_with("/api/system_of_records") {
        return example
            .target()
            .replace("?type=type", "")
            .replace("sor_identifier", sor);
    }
    let fixed = match (example.target(), example.status) {
        (target, 200) if target.starts_with("/api/customer_profiles?") => {
            "/api/customer_profiles?customer_id_type=user_id&page=1&num_per_page=2000"
        }
        (target, _) if target.starts_with("/api/customer_profiles?") => "/api/customer_profiles?page=0",
        _ => "/api/customer_profiles/maximillian_weber%40ritchiehyatt%2Ename?customer_id_type=user_id",
    };
    fixed.to_owned()
}

#[test]
fn every_followanalytics_example_is_listed() {
    assert_listed(&spec::followanalytics(), CASES);
}

#[test]
fn followanalytics_examples_answer_in_the_documented_shape() {
    for example in &spec::followanalytics() {
        let mut harness = Harness::new();
        let upload = json!({"sor": "SOR-SDK_2a116e0767a7dc76e85d566", "api_key": "fk1", "customer_attribute_values": [
            {"customer_id": "maximillian_weber@ritchiehyatt.name", "attribute_key": "favorite_team", "attribute_value": "PSG"},
            {"customer_id": "robert.hill@mymail.org", "attribute_key": "favorite_team", "attribute_value": "Real Madrid"}]});
        assert_eq!(
            harness
                .send("POST", "/api/attribute_values", &[], &upload.to_string())
                .status,
            200
        );
        let created = harness.followanalytics(
            "POST",
            "/api/system_of_records",
            r#"{"name": "Example SoR"}"#,
        );
        assert_eq!(created.status, 200, "{}", created.body);
        let created: serde_json::Value = serde_json::from_str(&created.body).unwrap();
        let sor = created["result"]["identifier"].as_str().unwrap().to_owned();
        harness.execute(json!({"declareAttribute": {"source": sor, "definition": {"key": "fav_team", "type": "string", "label": "Favourite team"}}}));
        if example.target().ends_with("/unshare") {
            let shared = harness.followanalytics(
                "PUT",
                &format!("/api/customer_attributes/FACA_{sor}.fav_team/share"),
                "",
            );
            assert_eq!(shared.status, 200, "{}", shared.body);
        }
        if example.target() == "/api/attribute_values" {
            // The example's SOR, declared with the keys it sets: `fav_team` is reported.
            harness.execute(
                json!({"declareSource": {"id": "SOR_XXXX", "name": "X", "kind": "custom"}}),
            );
            for (key, value_type) in [
                ("contract_type", "string"),
                ("client_type", "string"),
                ("hobbies", "set"),
            ] {
                harness.execute(json!({"declareAttribute": {"source": "SOR_XXXX", "definition": {"key": key, "type": value_type}}}));
            }
        }
        // The example's SOR identifier stands for the SOR created above.
        let body = match example
            .body
            .as_deref()
            .map(serde_json::from_str::<serde_json::Value>)
        {
            Some(Ok(mut body)) if body.get("system_of_record_identifier").is_some() => {
                body["system_of_record_identifier"] = json!(sor);
                body.to_string()
            }
            _ => example.body.clone().unwrap_or_default(),
        };
        let response = harness.followanalytics(example.method(), &target(example, &sor), &body);
        assert_conforms(example, &response, LOOSE);
    }
}
