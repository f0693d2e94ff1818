//! Bad input in every dialect: malformed JSON, wrong types, missing fields, unknown ids and
//! oversized bodies get the dialect's documented status and body and change nothing.

mod support;

use serde_json::{json, Value as Json};
use support::Harness;

/// Sends a request through `send` and asserts it is refused with `status` and leaves the
/// change log as it was; returns the body.
fn refused(
    harness: &mut Harness,
    status: u16,
    send: impl FnOnce(&mut Harness) -> cdp_engine::api::Response,
) -> Json {
    let before = harness.engine.next_offset();
    let response = send(harness);
    assert_eq!(response.status, status, "{}", response.body);
    assert_eq!(
        harness.engine.next_offset(),
        before,
        "a refused request changed state"
    );
    response.body_json()
}

#[test]
fn chartmogul_bad_requests_are_400_with_its_body() {
    let mut harness = Harness::new();
    let id = harness.seed(json!({"email": "adam@smith.com"}), json!({}));
    let tags = format!("/v1/customers/cus_{id}/attributes/tags");
    for body in [
        "{",
        r#"{"tags": "vip"}"#,
        r#"{"tags": [1]}"#,
        "{}",
        r#"{"tags": ["a"], "extra": 1}"#,
        r#"{"tags": [""]}"#,
        // The object's fields by position: serde_json alone would read it.
        r#"[["a"]]"#,
    ] {
        let error = refused(&mut harness, 400, |harness| {
            harness.chartmogul("POST", &tags, body)
        });
        assert_eq!(error["code"], 400, "{body}");
        assert!(error["message"].is_string());
        assert!(error.get("param").is_some());
    }
    let error = refused(&mut harness, 400, |harness| {
        harness.chartmogul("GET", "/v1/customers/search", "")
    });
    assert_eq!(error["code"], 400);
    let body = r#"{"email": "", "tags": ["x"]}"#;
    refused(&mut harness, 400, |harness| {
        harness.chartmogul("POST", "/v1/customers/attributes/tags", body)
    });
}

#[test]
fn chartmogul_unknown_customers_are_404_with_its_body() {
    let mut harness = Harness::new();
    for target in [
        "/v1/customers/cus_00000000-0000-4000-8000-000000000000",
        "/v1/customers/nonsense/attributes",
        "/v1/customers/search?email=nobody@example.com",
    ] {
        let error = refused(&mut harness, 404, |harness| {
            harness.chartmogul("GET", target, "")
        });
        assert_eq!(error["code"], 404, "{target}");
        assert_eq!(error["param"], "customer_uuid");
    }
    let body = r#"{"tags": ["x"]}"#;
    refused(&mut harness, 404, |harness| {
        harness.chartmogul(
            "POST",
            "/v1/customers/cus_00000000-0000-4000-8000-000000000000/attributes/tags",
            body,
        )
    });
    let body = r#"{"email": "nobody@example.com", "tags": ["x"]}"#;
    refused(&mut harness, 404, |harness| {
        harness.chartmogul("POST", "/v1/customers/attributes/tags", body)
    });
}

/// Asserts a ChartMogul error body: its code is the status and `param` names `param`.
fn assert_chartmogul_error(error: &Json, status: u16, param: Option<&str>) {
    assert_eq!(error["code"], status, "{error}");
    assert!(error["message"].is_string(), "{error}");
    assert_eq!(
        error["param"],
        param.map_or(Json::Null, Json::from),
        "{error}"
    );
}

#[test]
fn chartmogul_custom_attribute_values_and_keys_that_do_not_fit_are_400_naming_the_key() {
    let mut harness = Harness::new();
    let id = harness.seed(json!({"email": "adam@smith.com"}), json!({}));
    let custom = format!("/v1/customers/cus_{id}/attributes/custom");
    let declared = harness.chartmogul(
        "POST",
        &custom,
        r#"{"custom": [{"type": "Integer", "key": "age", "value": 8}]}"#,
    );
    assert_eq!(declared.status, 200, "{}", declared.body);
    let entry = |type_name: &str, key: &str, value: Json| {
        json!({"custom": [
            {"type": "String", "key": "channel", "value": "Facebook"},
            {"type": type_name, "key": key, "value": value},
        ]})
        .to_string()
    };
    for (body, param) in [
        (entry("Integer", "visits", json!("eight")), "visits"),
        (entry("Integer", "visits", json!(8.5)), "visits"),
        (entry("Boolean", "pro", json!("yes")), "pro"),
        (
            entry("Timestamp", "convertedAt", json!("soon")),
            "convertedAt",
        ),
        (entry("String", "note", json!(3)), "note"),
        (entry("String", "first name", json!("Adam")), "first name"),
        (entry("Float", "ratio", json!(0.5)), "ratio"),
        (entry("Set", "hobbies", json!(["a"])), "hobbies"),
        (entry("Integer", "age", json!("nine")), "age"),
    ] {
        let error = refused(&mut harness, 400, |harness| {
            harness.chartmogul("POST", &custom, &body)
        });
        assert_chartmogul_error(&error, 400, Some(param));
        let by_email = json!({"email": "adam@smith.com", "custom": serde_json::from_str::<Json>(&body).unwrap()["custom"]});
        let error = refused(&mut harness, 400, |harness| {
            harness.chartmogul(
                "POST",
                "/v1/customers/attributes/custom",
                &by_email.to_string(),
            )
        });
        assert_chartmogul_error(&error, 400, Some(param));
    }
    for (method, body, param) in [
        (
            "PUT",
            r#"{"custom": {"channel": "Twitter", "age": "nine"}}"#,
            "age",
        ),
        ("PUT", r#"{"custom": {"bad-key": 1}}"#, "bad-key"),
        ("DELETE", r#"{"custom": ["age", "bad key"]}"#, "bad key"),
    ] {
        let error = refused(&mut harness, 400, |harness| {
            harness.chartmogul(method, &custom, body)
        });
        assert_chartmogul_error(&error, 400, Some(param));
    }
}

#[test]
fn chartmogul_malformed_custom_attribute_bodies_are_400() {
    let mut harness = Harness::new();
    let id = harness.seed(json!({"email": "adam@smith.com"}), json!({}));
    let custom = format!("/v1/customers/cus_{id}/attributes/custom");
    for (method, body) in [
        ("POST", "{"),
        ("POST", "{}"),
        ("POST", r#"{"custom": {"age": 8}}"#),
        ("POST", r#"{"custom": [{"key": "age", "value": 8}]}"#),
        ("POST", r#"{"custom": [{"type": "Integer", "key": "age"}]}"#),
        (
            "POST",
            r#"{"custom": [{"type": "Integer", "key": "age", "value": 8, "x": 1}]}"#,
        ),
        ("PUT", r#"{"custom": [{"age": 8}]}"#),
        ("PUT", r#"{"custom": {"age": 8}, "extra": true}"#),
        ("DELETE", r#"{"custom": "age"}"#),
        ("DELETE", r#"{"custom": [1]}"#),
    ] {
        let error = refused(&mut harness, 400, |harness| {
            harness.chartmogul(method, &custom, body)
        });
        assert_chartmogul_error(&error, 400, None);
    }
    let body = r#"{"email": "adam@smith.com"}"#;
    let error = refused(&mut harness, 400, |harness| {
        harness.chartmogul("POST", "/v1/customers/attributes/custom", body)
    });
    assert_chartmogul_error(&error, 400, None);
}

#[test]
fn chartmogul_custom_attributes_of_unknown_customers_are_404() {
    let mut harness = Harness::new();
    harness.seed(json!({"email": "adam@smith.com"}), json!({}));
    let unknown = "/v1/customers/cus_00000000-0000-4000-8000-000000000000/attributes/custom";
    for (method, body) in [
        (
            "POST",
            r#"{"custom": [{"type": "Integer", "key": "age", "value": 8}]}"#,
        ),
        ("PUT", r#"{"custom": {"age": 8}}"#),
        ("DELETE", r#"{"custom": ["age"]}"#),
    ] {
        let error = refused(&mut harness, 404, |harness| {
            harness.chartmogul(method, unknown, body)
        });
        assert_chartmogul_error(&error, 404, Some("customer_uuid"));
    }
    let body = r#"{"email": "nobody@example.com", "custom": [{"type": "Integer", "key": "age", "value": 8}]}"#;
    let error = refused(&mut harness, 404, |harness| {
        harness.chartmogul("POST", "/v1/customers/attributes/custom", body)
    });
    assert_chartmogul_error(&error, 404, Some("customer_uuid"));
}

#[test]
fn chartmogul_writes_the_state_refuses_are_402_naming_the_key() {
    // Valid parameters, refused by the state: an immutable value already set, a disabled
    // attribute (ChartMogul's "Parameters were valid but request failed").
    let mut harness = Harness::new();
    harness.execute(json!({"declareAttribute": {"definition":
        {"key": "contract", "type": "string", "immutable": true}}}));
    harness.execute(json!({"declareAttribute": {"definition": {"key": "tier", "type": "string"}}}));
    let id = harness.seed(
        json!({"email": "adam@smith.com"}),
        json!({"contract": "C-1"}),
    );
    harness.execute(json!({"disableAttribute": {"key": "tier"}}));
    let custom = format!("/v1/customers/cus_{id}/attributes/custom");
    for (method, body, param) in [
        (
            "POST",
            r#"{"custom": [{"type": "String", "key": "contract", "value": "C-2"}]}"#,
            "contract",
        ),
        ("PUT", r#"{"custom": {"contract": "C-2"}}"#, "contract"),
        ("DELETE", r#"{"custom": ["contract"]}"#, "contract"),
        (
            "POST",
            r#"{"custom": [{"type": "String", "key": "tier", "value": "gold"}]}"#,
            "tier",
        ),
        ("PUT", r#"{"custom": {"tier": "gold"}}"#, "tier"),
    ] {
        let error = refused(&mut harness, 402, |harness| {
            harness.chartmogul(method, &custom, body)
        });
        assert_chartmogul_error(&error, 402, Some(param));
    }
}

#[test]
fn chartmogul_custom_attribute_of_another_type_is_402_and_declares_nothing() {
    let mut harness = Harness::new();
    let id = harness.seed(json!({"email": "adam@smith.com"}), json!({}));
    let custom = format!("/v1/customers/cus_{id}/attributes/custom");
    let declared = harness.chartmogul(
        "POST",
        &custom,
        r#"{"custom": [{"type": "Integer", "key": "age", "value": 8}]}"#,
    );
    assert_eq!(declared.status, 200, "{}", declared.body);
    let body = r#"{"custom": [{"type": "Boolean", "key": "pro", "value": true},
                              {"type": "String", "key": "age", "value": "eight"}]}"#;
    let error = refused(&mut harness, 402, |harness| {
        harness.chartmogul("POST", &custom, body)
    });
    assert_chartmogul_error(&error, 402, Some("age"));
    let retry = harness.chartmogul(
        "POST",
        &custom,
        r#"{"custom": [{"type": "String", "key": "pro", "value": "maybe"}]}"#,
    );
    assert_eq!(
        retry.status, 200,
        "`pro` was not declared by the refused request: {}",
        retry.body
    );
    assert_eq!(
        retry.body_json()["custom"],
        json!({"age": 8, "pro": "maybe"})
    );
}

#[test]
fn arrigoo_identifiers_of_two_profiles_are_a_409_conflict() {
    let mut harness = Harness::new();
    harness.seed(json!({"email": "a@x.dk"}), json!({}));
    harness.seed(json!({"email": "b@x.dk"}), json!({}));
    let upsert = r#"{"ident":[{"id_type":"email","id_value":"a@x.dk"},{"id_type":"email","id_value":"b@x.dk"}]}"#;
    let error = refused(&mut harness, 409, |harness| {
        harness.arrigoo("PUT", "/v1/customer", upsert)
    });
    assert_eq!(error["error"], "identity.conflict");
}

#[test]
fn primedata_errors_use_its_codes() {
    let mut harness = Harness::new();
    harness.seed(json!({"email": "a@b.vn"}), json!({}));
    let search = |body: &'static str| {
        move |harness: &mut Harness| {
            harness.primedata("POST", "/pub/profiles/advanced-search", body)
        }
    };
    for (body, status, code) in [
        ("{", 400, "invalid_request_error"),
        ("[]", 400, "invalid_request_error"),
        ("{}", 400, "invalid_request_error"),
        (r#"{"identities": {}}"#, 400, "invalid_request_error"),
        (
            r#"{"identities": {"email": ["a@b.vn"]}, "type": ["traits"]}"#,
            400,
            "invalid_request_error",
        ),
        (
            r#"{"identities": {"phone_numdber": ["0123456789"]}}"#,
            400,
            "validation_error",
        ),
        (
            r#"{"identities": {"email": [""]}}"#,
            400,
            "validation_error",
        ),
        (
            r#"{"profile_id": "2YhQlO5kmTIRCu22QrO9BmgwbIy"}"#,
            404,
            "invalid_request_error",
        ),
        (
            r#"{"identities": {"email": ["nobody@b.vn"]}}"#,
            404,
            "invalid_request_error",
        ),
    ] {
        let error = refused(&mut harness, status, search(body));
        assert_eq!(error["error"]["code"], code, "{body}");
        assert!(error["error"]["message"].is_string());
    }
    let error = refused(
        &mut harness,
        400,
        search(r#"{"identities": {"phone_numdber": ["0123456789"]}}"#),
    );
    assert_eq!(
        error["error"]["message"],
        "Invalid Identities {phone_numdber=[0123456789]}"
    );
}

#[test]
fn followanalytics_errors_use_its_shape() {
    let mut harness = Harness::new();
    for target in [
        "/api/customer_profiles?page=0",
        "/api/customer_profiles?num_per_page=x",
        "/api/customer_profiles?customer_id_type=email",
    ] {
        let error = refused(&mut harness, 400, |harness| {
            harness.followanalytics("GET", target, "")
        });
        assert_eq!(error["status"], "400", "{target}");
        assert_eq!(error["success"], false);
        assert!(error["error_message"].is_string());
    }
    let error = refused(&mut harness, 404, |harness| {
        harness.followanalytics("GET", "/api/customer_profiles/nobody", "")
    });
    assert_eq!(error["status"], "404");
    for body in [
        "{",
        r#"{"sor": "SOR_XXXX", "api_key": "XXXXXXXX"}"#,
        r#"{"sor": "SOR_XXXX", "api_key": "XXXXXXXX", "customer_attribute_values": []}"#,
        r#"{"sor": "SOR_XXXX", "api_key": "XXXXXXXX", "customer_attribute_values": [{"customer_id": "u1"}]}"#,
        r#"{"sor": "SOR_XXXX", "api_key": "XXXXXXXX", "customer_attribute_values": [{"customer_id": "u1", "attribute_key": "a", "attribute_value": 1}, {"customer_id": "u2", "attribute_key": "bad\tkey", "attribute_value": 1}]}"#,
        r#"{"sor": "SOR_XXXX", "api_key": "XXXXXXXX", "customer_attribute_values": [{"customer_id": "u1", "attribute_key": "a", "attribute_value": 1, "customer_id_type": "email"}]}"#,
    ] {
        let error = refused(&mut harness, 400, |harness| {
            harness.send("POST", "/api/attribute_values", &[], body)
        });
        assert_eq!(error["status"], "400", "{body}");
    }
}

#[test]
fn arrigoo_bad_requests_are_400_and_unknown_profiles_404() {
    let mut harness = Harness::new();
    for body in [
        "{",
        r#"{"ident": []}"#,
        r#"{"ident": [{"id_type": "email"}]}"#,
        r#"{"ident": "x"}"#,
    ] {
        let error = refused(&mut harness, 400, |harness| {
            harness.arrigoo("PUT", "/v1/customer", body)
        });
        assert!(error["error"].is_string(), "{body}");
    }
    refused(&mut harness, 404, |harness| {
        harness.arrigoo("GET", "/v1/customer/not-a-uuid", "")
    });
    refused(&mut harness, 400, |harness| {
        harness.arrigoo("GET", "/v1/customer?page=0", "")
    });
}

#[test]
fn oversized_bodies_are_refused_by_every_dialect() {
    let mut harness = Harness::with_config(
        r#"{"maxBodyBytes": 64, "chartmogul": {"accounts": [{"token": "t1", "secret": "s1"}]},
            "primedata": {"apiKeys": ["pk1"]}, "followanalytics": {"apiKeys": ["fk1"]},
            "arrigoo": {"apiKeys": [{"key": "admin", "secret": "s-admin", "role": "admin"}]}}"#,
    );
    let big = format!(r#"{{"tags": ["{}"]}}"#, "x".repeat(100));
    let error = refused(&mut harness, 413, |harness| {
        harness.chartmogul("POST", "/v1/customers/attributes/tags", &big)
    });
    assert_eq!(error["code"], 413);
    let error = refused(&mut harness, 413, |harness| {
        harness.primedata("POST", "/pub/profiles/advanced-search", &big)
    });
    assert_eq!(error["error"]["code"], "invalid_request_error");
    let error = refused(&mut harness, 413, |harness| {
        harness.send("POST", "/api/attribute_values", &[], &big)
    });
    assert_eq!(error["success"], false);
    let error = refused(&mut harness, 413, |harness| {
        harness.send("PUT", "/v1/customer", &[], &big)
    });
    assert_eq!(error["error"], "api.body_too_large");
}

#[test]
fn default_body_limit_is_one_megabyte() {
    let mut harness = Harness::new();
    let id = harness.seed(json!({"email": "a@b.c"}), json!({}));
    let target = format!("/v1/customers/cus_{id}/attributes/tags");
    let fits = format!(r#"{{"tags": ["{}"]}}"#, "x".repeat(999_000));
    assert_eq!(harness.chartmogul("POST", &target, &fits).status, 200);
    let over = format!(r#"{{"tags": ["{}"]}}"#, "x".repeat(1_000_001));
    refused(&mut harness, 413, |harness| {
        harness.chartmogul("POST", &target, &over)
    });
}

#[test]
fn bodies_on_get_and_delete_are_tolerated() {
    let mut harness = Harness::new();
    let id = harness.seed(json!({"email": "a@b.c"}), json!({}));
    let response = harness.chartmogul("GET", "/v1/customers", "{not json at all");
    assert_eq!(response.status, 200);
    let response = harness.followanalytics("GET", "/api/customer_profiles", "garbage");
    assert_eq!(response.status, 200);
    let target = format!("/v1/customers/cus_{id}/attributes/tags");
    harness.chartmogul("POST", &target, r#"{"tags": ["a", "b"]}"#);
    let response = harness.chartmogul("DELETE", &target, r#"{"tags": ["a"]}"#);
    assert_eq!(response.body_json(), json!({"tags": ["b"]}));
}

#[test]
fn known_paths_with_other_methods_are_405_in_the_dialects_shape() {
    let mut harness = Harness::new();
    assert_eq!(
        harness.chartmogul("PATCH", "/v1/customers", "").body_json()["code"],
        405
    );
    let response = harness.primedata("GET", "/pub/profiles/advanced-search", "");
    assert_eq!(
        (
            response.status,
            response.body_json()["error"]["code"].clone()
        ),
        (405, json!("invalid_request_error"))
    );
    let response = harness.followanalytics("DELETE", "/api/customer_profiles", "");
    assert_eq!(
        (response.status, response.body_json()["status"].clone()),
        (405, json!("405"))
    );
    assert_eq!(harness.send("GET", "/auth/api", &[], "").status, 405);
    assert_eq!(harness.send("GET", "/nowhere", &[], "").status, 404);
}
