//! The FollowAnalytics dialect end to end through `Api::handle`, natively: Systems of
//! Records (keys issued at creation, account key versus SOR key, 404s, malformed bodies) and
//! customer attributes (declare, relabel, delete, share/unshare, disable/enable, conflicts).

mod support;

use serde_json::{json, Value as Json};
use support::followanalytics::{
    assert_error, body, create, declare, upload_values, ATTRIBUTES, SORS,
};
use support::Harness;

fn upload(harness: &mut Harness, sor: &str, key: &str, customer: &str, value: &str) -> u16 {
    upload_values(
        harness,
        sor,
        key,
        &json!([
        {"customer_id": customer, "attribute_key": "fav_team", "attribute_value": value}]),
    )
    .status
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

#[test]
fn an_attribute_is_declared_viewed_relabelled_and_listed_on_its_sor() {
    let mut harness = Harness::new();
    let (sor, _) = create(&mut harness, "CRM");
    let id = declare(&mut harness, &sor, "fav_team", "String");
    let viewed = body(&harness.followanalytics("GET", &format!("{ATTRIBUTES}/{id}"), ""));
    assert_eq!(viewed["result"]["value_type"], "String");
    assert_eq!(viewed["result"]["length"], 256, "the schema's default");
    assert_eq!(
        viewed["result"]["system_of_record_identifier"],
        sor.as_str()
    );
    let updated = harness.followanalytics(
        "PUT",
        &format!("{ATTRIBUTES}/{id}"),
        r#"{"label": "Team", "length": 20}"#,
    );
    assert_eq!(body(&updated)["result"]["label"], "Team");
    assert_eq!(body(&updated)["result"]["length"], 20);
    let listed = body(&harness.followanalytics("GET", &format!("{SORS}/{sor}"), ""));
    assert_eq!(listed["result"]["attributes_count"], 1);
    assert_eq!(
        listed["result"]["customer_attributes"][0]["identifier"],
        id.as_str()
    );
    let deleted = harness.followanalytics("DELETE", &format!("{ATTRIBUTES}/{id}"), "");
    assert_eq!(body(&deleted), json!({"success": true}));
    assert_error(
        &harness.followanalytics("GET", &format!("{ATTRIBUTES}/{id}"), ""),
        404,
    );
}

#[test]
fn attribute_errors_are_documented_statuses() {
    let mut harness = Harness::new();
    let (sor, key) = create(&mut harness, "CRM");
    for path in ["FACA_nope", "FACA_SOR_nope.k", "FACA_global.missing"] {
        assert_error(
            &harness.followanalytics("GET", &format!("{ATTRIBUTES}/{path}"), ""),
            404,
        );
        assert_error(
            &harness.followanalytics("PUT", &format!("{ATTRIBUTES}/{path}/share"), ""),
            404,
        );
    }
    let on_unknown = json!({"system_of_record_identifier": "SOR_nope", "key": "k", "label": "k", "type": "String"});
    assert_error(
        &harness.followanalytics("POST", ATTRIBUTES, &on_unknown.to_string()),
        404,
    );
    for bad_type in ["Integer", "Object", "Planet"] {
        let bad =
            json!({"system_of_record_identifier": sor, "key": "k", "label": "k", "type": bad_type});
        assert_error(
            &harness.followanalytics("POST", ATTRIBUTES, &bad.to_string()),
            400,
        );
    }
    for bad in ["", "{", r#"{"key": "k"}"#] {
        assert_error(&harness.followanalytics("POST", ATTRIBUTES, bad), 400);
    }
    for bad_key in ["", " padded", "line\nbreak"] {
        let bad = json!({"system_of_record_identifier": sor, "key": bad_key, "label": "k", "type": "String"});
        assert_error(
            &harness.followanalytics("POST", ATTRIBUTES, &bad.to_string()),
            400,
        );
    }
    let id = declare(&mut harness, &sor, "fav_team", "String");
    assert_error(
        &harness.send(
            "GET",
            &format!("{ATTRIBUTES}/{id}"),
            &[("authorization", &format!("Token token={key}"))],
            "",
        ),
        401,
    );
    assert_error(
        &harness.followanalytics("PUT", &format!("{ATTRIBUTES}/{id}/unshare"), ""),
        400,
    );
    assert_error(
        &harness.followanalytics("PUT", &format!("{ATTRIBUTES}/{id}"), r#"{"type": "Set"}"#),
        400,
    );
}

#[test]
fn sharing_refuses_conflicting_types_and_leaves_the_schema_as_it_was() {
    let mut harness = Harness::new();
    let (crm, _) = create(&mut harness, "CRM");
    let (erp, _) = create(&mut harness, "ERP");
    let id = declare(&mut harness, &crm, "score", "String");
    declare(&mut harness, &erp, "score", "Number");
    let before = harness.engine.schema().clone();
    assert_error(
        &harness.followanalytics("PUT", &format!("{ATTRIBUTES}/{id}/share"), ""),
        400,
    );
    assert_eq!(harness.engine.schema(), &before);
}

#[test]
fn a_disabled_attribute_refuses_writes_until_enabled() {
    let mut harness = Harness::new();
    let (sor, key) = create(&mut harness, "CRM");
    let id = declare(&mut harness, &sor, "fav_team", "String");
    let disabled = harness.followanalytics("PUT", &format!("{ATTRIBUTES}/{id}/disable"), "");
    assert_eq!(body(&disabled), json!({"success": true}));
    let values =
        json!([{"customer_id": "u1", "attribute_key": "fav_team", "attribute_value": "PSG"}]);
    let refused = upload_values(&mut harness, &sor, &key, &values);
    assert_eq!(
        body(&refused)["result"],
        json!({"uploaded": 0, "unknown": {"count": 1, "keys": ["fav_team"]}}),
        "a disabled attribute's values are reported, not set"
    );
    let profile = harness.followanalytics("GET", "/api/customer_profiles/u1", "");
    assert_eq!(profile.status, 404, "nothing was written");
    harness.followanalytics("PUT", &format!("{ATTRIBUTES}/{id}/enable"), "");
    let accepted = upload_values(&mut harness, &sor, &key, &values);
    assert_eq!(body(&accepted)["result"]["uploaded"], 1);
}

#[test]
fn a_shared_attribute_is_unshared_from_the_global_sor() {
    let mut harness = Harness::new();
    let (sor, _) = create(&mut harness, "CRM");
    let id = declare(&mut harness, &sor, "fav_team", "String");
    let shared = harness.followanalytics("PUT", &format!("{ATTRIBUTES}/{id}/share"), "");
    assert_eq!(body(&shared), json!({"success": true}));
    let global =
        body(&harness.followanalytics("GET", &format!("{ATTRIBUTES}/FACA_global.fav_team"), ""));
    assert_eq!(global["result"]["shared"], true);
    let unshared = harness.followanalytics(
        "PUT",
        &format!("{ATTRIBUTES}/FACA_global.fav_team/unshare"),
        "",
    );
    assert_eq!(body(&unshared), json!({"success": true}));
    let local = body(&harness.followanalytics("GET", &format!("{ATTRIBUTES}/{id}"), ""));
    assert_eq!(local["result"]["shared"], false);
}

#[test]
fn the_spec_upload_sets_declared_keys_and_reports_the_others() {
    let mut harness = Harness::new();
    let (sor, key) = create(&mut harness, "CRM");
    declare(&mut harness, &sor, "contract_type", "String");
    declare(&mut harness, &sor, "client_type", "String");
    declare(&mut harness, &sor, "hobbies", "Set");
    let values = json!([
        {"customer_id": "098713490", "attribute_key": "contract_type", "attribute_value": "Premium"},
        {"customer_id": "098713490", "attribute_key": "client_type", "attribute_value": null},
        {"customer_id": "098713490", "attribute_key": "hobbies", "attribute_value": "Sport", "action_type": "ADD"},
        {"customer_id": "098713490", "attribute_key": "hobbies", "attribute_value": "Reading", "action_type": "REMOVE"},
        {"customer_id": "098713491", "attribute_key": "fav_team", "attribute_value": "France"},
        {"customer_id": "098713492", "attribute_key": "fav_team", "attribute_value": "Italy"}
    ]);
    let response = upload_values(&mut harness, &sor, &key, &values);
    assert_eq!(
        body(&response),
        json!({"success": true, "result": {"uploaded": 4, "unknown": {"count": 2, "keys": ["fav_team"]}}})
    );
    let profile = body(&harness.followanalytics("GET", "/api/customer_profiles/098713490", ""));
    assert_eq!(
        profile["result"][0]["attributes"][sor.as_str()],
        json!({"client_type": null, "contract_type": "Premium", "hobbies": ["Sport"]}),
        "declared keys without a value show as null, as the spec's profiles do"
    );
    assert_error(
        &harness.followanalytics("GET", "/api/customer_profiles/098713491", ""),
        404,
    );
}

#[test]
fn set_actions_add_remove_and_empty_and_refuse_bad_actions() {
    let mut harness = Harness::new();
    let (sor, key) = create(&mut harness, "CRM");
    declare(&mut harness, &sor, "hobbies", "Set");
    declare(&mut harness, &sor, "name", "String");
    let add = |value: &str, action: &str| json!({"customer_id": "u1", "attribute_key": "hobbies", "attribute_value": value, "action_type": action});
    let response = upload_values(
        &mut harness,
        &sor,
        &key,
        &json!([
            add("Sport", "ADD"),
            add("Chess", "ADD"),
            add("Sport", "REMOVE")
        ]),
    );
    assert_eq!(response.status, 200, "{}", response.body);
    let hobbies = |harness: &mut Harness| {
        body(&harness.followanalytics("GET", "/api/customer_profiles/u1", ""))["result"][0]
            ["attributes"][sor.as_str()]["hobbies"]
            .clone()
    };
    assert_eq!(hobbies(&mut harness), json!(["Chess"]));
    let before = harness.engine.schema().clone();
    for bad in [
        json!([add("x", "PUT")]),
        json!([{"customer_id": "u1", "attribute_key": "hobbies", "attribute_value": null, "action_type": "ADD"}]),
        json!([{"customer_id": "u1", "attribute_key": "name", "attribute_value": "x", "action_type": "ADD"}]),
        json!([add("Golf", "ADD"), {"customer_id": "u1", "attribute_key": "bad\tkey", "attribute_value": 1}]),
    ] {
        assert_error(&upload_values(&mut harness, &sor, &key, &bad), 400);
    }
    assert_eq!(
        hobbies(&mut harness),
        json!(["Chess"]),
        "a refused upload writes nothing"
    );
    assert_eq!(harness.engine.schema(), &before);
    upload_values(&mut harness, &sor, &key, &json!([add("", "DEL")]));
    assert!(matches!(hobbies(&mut harness), Json::Null) || hobbies(&mut harness) == json!([]));
}

#[test]
fn a_shared_attribute_shows_the_latest_enabled_value_globally_and_in_arrigoo() {
    let mut harness = Harness::new();
    let (crm, crm_key) = create(&mut harness, "CRM");
    let (erp, erp_key) = create(&mut harness, "ERP");
    let id = declare(&mut harness, &crm, "fav_team", "String");
    declare(&mut harness, &erp, "fav_team", "String");
    let shared = harness.followanalytics("PUT", &format!("{ATTRIBUTES}/{id}/share"), "");
    assert_eq!(shared.status, 200, "{}", shared.body);
    let profile_id = harness.seed(
        json!({"user_id": "u1", "email": "u1@example.com"}),
        json!({"plan": "gold"}),
    );
    assert_eq!(upload(&mut harness, &crm, &crm_key, "u1", "PSG"), 200);
    assert_eq!(upload(&mut harness, &erp, &erp_key, "u1", "OM"), 200);
    let profile = body(&harness.followanalytics("GET", "/api/customer_profiles/u1", ""));
    assert_eq!(
        profile["result"][0]["attributes"]["global"]["fav_team"],
        "OM"
    );
    let arrigoo = harness.arrigoo("GET", &format!("/v1/customer/{profile_id}"), "");
    assert_eq!(arrigoo.status, 200, "{}", arrigoo.body);
    assert_eq!(
        body(&arrigoo)["p"]
            .as_array()
            .unwrap()
            .iter()
            .find(|attribute| attribute["lab"] == "fav_team")
            .unwrap()["val"],
        "OM",
        "{}",
        arrigoo.body
    );
}

/// The spec asks for `customer_id` percent-encoded in the path: an id holding `/`, `%`, `?`
/// or `@` reads back by its encoded form, an escaped `/` staying inside its segment.
#[test]
fn a_customer_id_with_reserved_characters_reads_back_percent_encoded() {
    let mut harness = Harness::new();
    let (sor, key) = create(&mut harness, "CRM");
    declare(&mut harness, &sor, "fav_team", "String");
    for (id, encoded) in [
        ("a/b", "a%2Fb"),
        ("50%", "50%25"),
        ("a?b", "a%3Fb"),
        ("me@gmail.com", "me%40gmail%2Ecom"),
    ] {
        assert_eq!(upload(&mut harness, &sor, &key, id, "PSG"), 200, "{id}");
        let profile =
            harness.followanalytics("GET", &format!("/api/customer_profiles/{encoded}"), "");
        assert_eq!(profile.status, 200, "{id} as {encoded}");
        assert_eq!(body(&profile)["result"][0]["customer_id"], id);
    }
}
