//! The FollowAnalytics dialect end to end through `Api::handle`, natively: Systems of
//! Records (keys issued at creation, account key versus SOR key, 404s, malformed bodies).

mod support;

use serde_json::{json, Value as Json};
use support::Harness;

const SORS: &str = "/api/system_of_records";

fn body(response: &cdp_engine::api::Response) -> Json {
    serde_json::from_str(&response.body).unwrap()
}

/// Creates a custom SOR named `name`; its identifier and its one API key.
fn create(harness: &mut Harness, name: &str) -> (String, String) {
    let response = harness.followanalytics("POST", SORS, &json!({"name": name}).to_string());
    assert_eq!(response.status, 200, "{}", response.body);
    let result = &body(&response)["result"];
    assert_eq!(result["name"], name);
    assert_eq!(result["type"], "custom");
    assert_eq!(result["disabled"], false);
    assert_eq!(result["attributes_count"], 0);
    (
        result["identifier"].as_str().unwrap().to_owned(),
        result["api_keys"][0].as_str().unwrap().to_owned(),
    )
}

fn upload(harness: &mut Harness, sor: &str, key: &str, customer: &str, value: &str) -> u16 {
    let upload = json!({"sor": sor, "api_key": key, "customer_attribute_values": [
        {"customer_id": customer, "attribute_key": "fav_team", "attribute_value": value}]});
    harness
        .send("POST", "/api/attribute_values", &[], &upload.to_string())
        .status
}

fn assert_error(response: &cdp_engine::api::Response, status: u16) {
    assert_eq!(response.status, status, "{}", response.body);
    let body = body(response);
    assert_eq!(body["status"], status.to_string());
    assert_eq!(body["success"], false);
    assert!(body["error_message"].is_string());
}

#[test]
fn a_created_sor_is_listed_viewed_renamed_and_its_key_uploads() {
    let mut harness = Harness::new();
    let (sor, key) = create(&mut harness, "CRM");
    assert!(sor.starts_with("SOR_"));
    let listed = body(&harness.followanalytics("GET", &format!("{SORS}?type=custom"), ""));
    let ids: Vec<&str> = listed["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sor| sor["identifier"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![sor.as_str()]);
    let global = body(&harness.followanalytics("GET", &format!("{SORS}?type=global"), ""));
    assert_eq!(global["result"][0]["type"], "global");
    let renamed =
        harness.followanalytics("PUT", &format!("{SORS}/{sor}"), r#"{"name": "CRM (EU)"}"#);
    assert_eq!(body(&renamed)["result"]["name"], "CRM (EU)");
    let viewed = body(&harness.followanalytics("GET", &format!("{SORS}/{sor}"), ""));
    assert_eq!(viewed["result"]["name"], "CRM (EU)");
    assert_eq!(
        viewed["result"]["api_keys"],
        json!([]),
        "keys are shown once"
    );
    assert_eq!(upload(&mut harness, &sor, &key, "u1", "PSG"), 200);
}

#[test]
fn an_issued_key_uploads_only_to_its_sor_and_not_after_delete() {
    let mut harness = Harness::new();
    let (crm, key) = create(&mut harness, "CRM");
    let (other, _) = create(&mut harness, "ERP");
    assert_eq!(upload(&mut harness, &other, &key, "u1", "PSG"), 401);
    assert_eq!(upload(&mut harness, &crm, "wrong", "u1", "PSG"), 401);
    let deleted = harness.followanalytics("DELETE", &format!("{SORS}/{crm}"), "");
    assert_eq!(body(&deleted), json!({"success": true}));
    assert_eq!(upload(&mut harness, &crm, &key, "u1", "PSG"), 401);
    assert_error(
        &harness.followanalytics("GET", &format!("{SORS}/{crm}"), ""),
        404,
    );
}

#[test]
fn sor_management_needs_the_account_key_not_a_sor_key() {
    let mut harness = Harness::new();
    let (_, key) = create(&mut harness, "CRM");
    for bearer in [
        format!("Token token={key}"),
        "Token token=XXXXXXXX".to_owned(),
    ] {
        let response = harness.send("GET", SORS, &[("authorization", bearer.as_str())], "");
        assert_error(&response, 401);
    }
    assert_error(&harness.send("POST", SORS, &[], r#"{"name": "x"}"#), 401);
}

#[test]
fn unknown_sors_are_404_and_malformed_bodies_400() {
    let mut harness = Harness::new();
    for (method, path) in [
        ("GET", "/api/system_of_records/SOR_nope"),
        ("PUT", "/api/system_of_records/SOR_nope"),
        ("DELETE", "/api/system_of_records/SOR_nope"),
        ("PUT", "/api/system_of_records/SOR_nope/disable"),
        ("PUT", "/api/system_of_records/SOR_nope/enable"),
    ] {
        let response = harness.followanalytics(method, path, r#"{"name": "x"}"#);
        assert_error(&response, 404);
    }
    for bad in [
        "",
        "{",
        r#"{"name": 3}"#,
        r#"{"name": "  "}"#,
        r#"{"name": "a", "x": 1}"#,
    ] {
        assert_error(&harness.followanalytics("POST", SORS, bad), 400);
    }
    assert_error(
        &harness.followanalytics("GET", &format!("{SORS}?type=planet"), ""),
        400,
    );
}

#[test]
fn a_disabled_sor_refuses_uploads_until_enabled() {
    let mut harness = Harness::new();
    let (sor, key) = create(&mut harness, "CRM");
    let disabled = harness.followanalytics("PUT", &format!("{SORS}/{sor}/disable"), "");
    assert_eq!(body(&disabled), json!({"success": true}));
    let viewed = body(&harness.followanalytics("GET", &format!("{SORS}/{sor}"), ""));
    assert_eq!(viewed["result"]["disabled"], true);
    assert_eq!(upload(&mut harness, &sor, &key, "u1", "PSG"), 400);
    harness.followanalytics("PUT", &format!("{SORS}/{sor}/enable"), "");
    assert_eq!(upload(&mut harness, &sor, &key, "u1", "PSG"), 200);
}

#[test]
fn a_refused_sor_command_leaves_the_schema_as_it_was() {
    let mut harness = Harness::new();
    let before = harness.engine.schema().clone();
    assert_error(
        &harness.followanalytics("POST", SORS, r#"{"name": ""}"#),
        400,
    );
    assert_error(
        &harness.followanalytics("PUT", &format!("{SORS}/global"), r#"{"name": ""}"#),
        400,
    );
    assert_eq!(harness.engine.schema(), &before);
}
