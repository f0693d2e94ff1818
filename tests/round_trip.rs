//! Data written through one dialect is read through the others: one canonical model.

mod support;

use serde_json::json;
use support::Harness;

#[test]
fn chartmogul_tags_by_email_show_on_the_customer_everywhere_it_is_read() {
    let mut harness = Harness::new();
    let id = harness.seed(json!({"email": "adam@smith.com"}), json!({"name": "Adam"}));
    let body = r#"{"email": "Adam@Smith.com", "tags": ["important", "Prio1"]}"#;
    let response = harness.chartmogul("POST", "/v1/customers/attributes/tags", body);
    assert_eq!(response.status, 200);
    let entries = response.body_json()["entries"].clone();
    assert_eq!(entries[0]["uuid"], format!("cus_{id}"));
    assert_eq!(
        entries[0]["attributes"]["tags"],
        json!(["Prio1", "important"])
    );
    let target = format!("/v1/customers/cus_{id}/attributes/tags");
    let removed = harness.chartmogul("DELETE", &target, r#"{"tags": ["Prio1", "absent"]}"#);
    assert_eq!(removed.body_json(), json!({"tags": ["important"]}));
    let attributes = harness.chartmogul("GET", &format!("/v1/customers/cus_{id}/attributes"), "");
    assert_eq!(
        attributes.body_json()["attributes"]["tags"],
        json!(["important"])
    );
}

#[test]
fn tag_changes_replay_from_the_change_log() {
    let mut harness = Harness::new();
    let id = harness.seed(json!({"email": "a@b.c"}), json!({}));
    let target = format!("/v1/customers/cus_{id}/attributes/tags");
    harness.chartmogul("POST", &target, r#"{"tags": ["x", "y"]}"#);
    harness.chartmogul("DELETE", &target, r#"{"tags": ["x"]}"#);
    let before = harness.engine.next_offset();
    harness.chartmogul("POST", &target, r#"{"tags": ["y"]}"#);
    assert_eq!(
        harness.engine.next_offset(),
        before,
        "adding a present tag changes nothing"
    );
    let changes = harness.engine.take_unpersisted();
    let names: Vec<&str> = changes
        .iter()
        .map(|change| change.operation.name())
        .collect();
    assert_eq!(
        names,
        [
            "profile_created",
            "identifier_added",
            "tag_added",
            "tag_added",
            "tag_removed"
        ]
    );
    let replayed = cdp_engine::Engine::replay(
        harness.engine.identity_config().clone(),
        std::rc::Rc::new(harness.clock.clone()),
        changes,
    )
    .unwrap();
    assert_eq!(replayed.profile(id), harness.engine.profile(id));
}

#[test]
fn arrigoo_properties_are_chartmogul_custom_attributes_and_primedata_traits() {
    let mut harness = Harness::new();
    let upsert = r#"{"ident":[{"id_type":"email","id_value":"bib@bob.dk"},{"id_type":"phone_number","id_value":"0123456789"}],
                     "properties":{"name":"Bib Bobsen","channel":"Facebook","age":8}}"#;
    let written = harness.arrigoo("PUT", "/v1/customer", upsert).body_json();
    let id = written["cid"].as_str().unwrap().to_owned();
    let customer = harness
        .chartmogul("GET", "/v1/customers/search?email=bib@bob.dk", "")
        .body_json();
    let custom = &customer["entries"][0]["attributes"]["custom"];
    assert_eq!(
        (custom["channel"].clone(), custom["age"].clone()),
        (json!("Facebook"), json!(8))
    );
    assert_eq!(customer["entries"][0]["name"], "Bib Bobsen");
    let search =
        r#"{"identities": {"phone_number": ["0123456789"]}, "type": ["trait", "identity"]}"#;
    let profile = harness
        .primedata("POST", "/pub/profiles/advanced-search", search)
        .body_json();
    assert_eq!(profile["data"]["profile_id"], id);
    assert_eq!(
        profile["data"]["trait"],
        json!({"age": 8, "channel": "Facebook", "name": "Bib Bobsen"})
    );
    assert_eq!(profile["data"]["identity"]["email"], json!(["bib@bob.dk"]));
    assert!(
        profile["data"].get("p_trait").is_none(),
        "type limits the parts"
    );
}

#[test]
fn chartmogul_custom_attributes_by_email_are_arrigoo_properties_and_primedata_traits() {
    let mut harness = Harness::new();
    let id = harness.seed(json!({"email": "adam@smith.com"}), json!({"name": "Adam"}));
    let body = r#"{"email": "Adam@Smith.com", "custom": [
        {"type": "String", "key": "channel", "value": "Facebook"},
        {"type": "Integer", "key": "age", "value": "8"},
        {"type": "Boolean", "key": "pro", "value": "t"}]}"#;
    let response = harness.chartmogul("POST", "/v1/customers/attributes/custom", body);
    assert_eq!(response.status, 200, "{}", response.body);
    let entries = response.body_json()["entries"].clone();
    assert_eq!(entries[0]["uuid"], format!("cus_{id}"));

    let profile = harness
        .arrigoo("GET", &format!("/v1/customer/{id}"), "")
        .body_json();
    let properties = profile["p"].as_array().unwrap();
    for (label, value) in [
        ("channel", json!("Facebook")),
        ("age", json!(8)),
        ("pro", json!(true)),
    ] {
        assert!(
            properties.contains(&json!({"lab": label, "val": value})),
            "{label} in {properties:?}"
        );
    }

    let search = r#"{"identities": {"email": ["adam@smith.com"]}, "type": ["trait"]}"#;
    let traits = harness
        .primedata("POST", "/pub/profiles/advanced-search", search)
        .body_json();
    assert_eq!(traits["data"]["profile_id"], id.to_string());
    assert_eq!(
        traits["data"]["trait"],
        json!({"age": 8, "channel": "Facebook", "name": "Adam", "pro": true})
    );

    let target = format!("/v1/customers/cus_{id}/attributes/custom");
    harness.chartmogul("DELETE", &target, r#"{"custom": ["pro"]}"#);
    let changes = harness.engine.take_unpersisted();
    let replayed = cdp_engine::Engine::replay(
        harness.engine.identity_config().clone(),
        std::rc::Rc::new(harness.clock.clone()),
        changes,
    )
    .unwrap();
    assert_eq!(replayed.profile(id), harness.engine.profile(id));
}

#[test]
fn followanalytics_uploads_land_in_their_source_and_read_back_everywhere() {
    let mut harness = Harness::new();
    let upload = json!({"sor": "SOR_XXXX", "api_key": "XXXXXXXX", "customer_attribute_values": [
        {"customer_id": "098713490", "attribute_key": "contract_type", "attribute_value": "Premium"},
        {"customer_id": "098713491", "attribute_key": "fav_team", "attribute_value": "France"}]});
    let response = harness.send("POST", "/api/attribute_values", &[], &upload.to_string());
    assert_eq!(
        response.body_json(),
        json!({"success": true, "result": {"uploaded": 2, "unknown": {"count": 0, "keys": []}}})
    );
    let single = json!({"sor": "SOR_XXXX", "api_key": "XXXXXXXX", "customer_attribute_values":
        {"customer_id": "098713490", "attribute_key": "client_type", "attribute_value": "B2B"}});
    assert_eq!(
        harness
            .send("POST", "/api/attribute_values", &[], &single.to_string())
            .status,
        200
    );
    let view = harness
        .followanalytics(
            "GET",
            "/api/customer_profiles/098713490?customer_id_type=user_id",
            "",
        )
        .body_json();
    assert_eq!(
        view["result"][0]["attributes"],
        json!({"SOR_XXXX": {"client_type": "B2B", "contract_type": "Premium"}})
    );
    let removal = json!({"sor": "SOR_XXXX", "api_key": "XXXXXXXX", "customer_attribute_values": [
        {"customer_id": "098713490", "attribute_key": "client_type", "attribute_value": null}]});
    harness.send("POST", "/api/attribute_values", &[], &removal.to_string());
    let filtered = harness
        .followanalytics(
            "GET",
            "/api/customer_profiles?attribute_keys=contract_type&sor_identifiers=SOR_XXXX",
            "",
        )
        .body_json();
    let profiles = filtered["result"]["profiles"].as_array().unwrap();
    assert_eq!(
        profiles[0]["attributes"],
        json!({"SOR_XXXX": {"contract_type": "Premium"}})
    );
    assert_eq!(
        profiles[1]["attributes"],
        json!({}),
        "SORs without the key are left out"
    );
    let listed = harness.arrigoo("GET", "/v1/customer", "").body_json();
    let cid = listed[0]["cid"].as_str().unwrap().to_owned();
    let profile = harness
        .arrigoo("GET", &format!("/v1/customer/{cid}"), "")
        .body_json();
    assert_eq!(
        profile["p"],
        json!([{"lab": "contract_type", "val": "Premium"}])
    );
}

#[test]
fn dialects_are_also_served_under_configured_prefixes() {
    let mut harness = Harness::with_config(
        r#"{"chartmogul": {"prefix": "/cm", "accounts": [{"token": "t1", "secret": "s1"}]},
            "primedata": {"prefix": "/primedata/", "apiKeys": ["pk1"]}}"#,
    );
    harness.seed(json!({"email": "a@b.c"}), json!({}));
    assert_eq!(
        harness.chartmogul("GET", "/cm/v1/customers", "").status,
        200
    );
    assert_eq!(harness.chartmogul("GET", "/v1/customers", "").status, 200);
    let body = r#"{"identities": {"email": ["a@b.c"]}}"#;
    assert_eq!(
        harness
            .primedata("POST", "/primedata/pub/profiles/advanced-search", body)
            .status,
        200
    );
    assert_eq!(
        harness
            .chartmogul("GET", "/cm/pub/profiles/advanced-search", "")
            .status,
        404
    );
}
