//! Authentication of every dialect: credentials from the configuration, wrong and expired
//! credentials answered with the dialect's 401 body, roles, rate limits, and credentials
//! replaced at run time.

mod support;

use cdp_engine::api::Credentials;
use serde_json::json;
use support::{basic, Harness};

#[test]
fn arrigoo_login_gives_tokens_with_scope_and_expiry() {
    let mut harness = Harness::new();
    let response = harness.send(
        "POST",
        "/auth/api",
        &[],
        r#"{"key":"viewer","secret":"s-viewer"}"#,
    );
    assert_eq!(response.status, 200);
    let body = response.body_json();
    assert_eq!(body["scope"], "api_viewer");
    assert_eq!(body["expiry"], "2025-03-21T11:00:00+00:00");
    assert_ne!(body["access_token"], body["refresh_token"]);
}

#[test]
fn arrigoo_wrong_secret_and_unknown_key_are_401() {
    let mut harness = Harness::new();
    for body in [
        r#"{"key":"viewer","secret":"s-admin"}"#,
        r#"{"key":"nobody","secret":"s-viewer"}"#,
    ] {
        let response = harness.send("POST", "/auth/api", &[], body);
        assert_eq!(response.status, 401);
        assert_eq!(response.body_json()["error"], "api.unauthenticated");
    }
    let response = harness.send(
        "GET",
        "/v1/customer",
        &[("authorization", "Bearer forged")],
        "",
    );
    assert_eq!(response.status, 401);
    let response = harness.send("GET", "/v1/customer", &[], "");
    assert_eq!(response.status, 401);
}

#[test]
fn arrigoo_access_token_expires_and_refresh_gives_a_new_one() {
    let mut harness = Harness::new();
    let login = harness
        .send(
            "POST",
            "/auth/api",
            &[],
            r#"{"key":"viewer","secret":"s-viewer"}"#,
        )
        .body_json();
    let bearer = format!("Bearer {}", login["access_token"].as_str().unwrap());
    assert_eq!(
        harness
            .send("GET", "/v1/customer", &[("authorization", &bearer)], "")
            .status,
        200
    );
    harness.clock.advance_seconds(3_600);
    assert_eq!(
        harness
            .send("GET", "/v1/customer", &[("authorization", &bearer)], "")
            .status,
        401
    );
    let refresh = json!({"refresh_token": login["refresh_token"]}).to_string();
    let refreshed = harness.send("POST", "/auth/api/refresh", &[], &refresh);
    assert_eq!(refreshed.status, 200);
    let body = refreshed.body_json();
    assert_eq!(body["expiry"], "2025-03-21T12:00:00+00:00");
    let bearer = format!("Bearer {}", body["access_token"].as_str().unwrap());
    assert_eq!(
        harness
            .send("GET", "/v1/customer", &[("authorization", &bearer)], "")
            .status,
        200
    );
    harness.clock.advance_seconds(30 * 24 * 3_600);
    assert_eq!(
        harness
            .send("POST", "/auth/api/refresh", &[], &refresh)
            .status,
        401
    );
}

#[test]
fn arrigoo_writes_need_admin_or_higher() {
    let mut harness = Harness::new();
    let token = harness.arrigoo_token("viewer", "s-viewer");
    let bearer = format!("Bearer {token}");
    let upsert = r#"{"ident":[{"id_type":"email","id_value":"a@b.dk"}],"properties":{"name":"A"}}"#;
    let response = harness.send("PUT", "/v1/customer", &[("authorization", &bearer)], upsert);
    assert_eq!(response.status, 403);
    assert_eq!(response.body_json()["error"], "api.forbidden");
    assert_eq!(harness.engine.profile_count(), 0);
    assert_eq!(harness.arrigoo("PUT", "/v1/customer", upsert).status, 200);
    assert_eq!(harness.engine.profile_count(), 1);
}

#[test]
fn chartmogul_accepts_token_secret_and_api_key_with_empty_password() {
    let mut harness = Harness::new();
    for (user, password, status) in [
        ("t1", "s1", 200),
        ("cm-key", "", 200),
        ("t1", "", 401),
        ("t1", "s2", 401),
        ("cm-key", "x", 401),
        ("s1", "t1", 401),
    ] {
        let auth = basic(user, password);
        let response = harness.send("GET", "/v1/customers", &[("authorization", &auth)], "");
        assert_eq!(response.status, status, "{user}:{password}");
        if status == 401 {
            assert_eq!(
                response.body_json(),
                json!({"code": 401, "message": "No valid API key provided", "param": null})
            );
        }
    }
    let response = harness.send(
        "GET",
        "/v1/customers",
        &[("authorization", "Bearer t1")],
        "",
    );
    assert_eq!(response.status, 401);
}

#[test]
fn primedata_needs_a_valid_api_key() {
    let mut harness = Harness::new();
    harness.seed(json!({"email": "a@b.vn"}), json!({}));
    let body = r#"{"identities":{"email":["a@b.vn"]}}"#;
    for headers in [
        vec![],
        vec![("x-api-key", "wrong")],
        vec![("x-api-key", "")],
    ] {
        let response = harness.send("POST", "/pub/profiles/advanced-search", &headers, body);
        assert_eq!(response.status, 401);
        assert_eq!(
            response.body_json(),
            json!({"error": {"code": "authentication_error", "message": "Failure to properly authenticate yourself in the request."}})
        );
    }
    assert_eq!(
        harness
            .primedata("POST", "/pub/profiles/advanced-search", body)
            .status,
        200
    );
}

#[test]
fn primedata_rate_limit_is_per_key_and_refills_with_the_clock() {
    let mut harness = Harness::with_config(
        r#"{"primedata": {"apiKeys": ["pk1", "pk2"], "rateLimit": {"requests": 2, "perSeconds": 1}}}"#,
    );
    harness.seed(json!({"email": "a@b.vn"}), json!({}));
    let body = r#"{"identities":{"email":["a@b.vn"]}}"#;
    let search = |harness: &mut Harness, key: &str| {
        harness.send(
            "POST",
            "/pub/profiles/advanced-search",
            &[("x-api-key", key)],
            body,
        )
    };
    assert_eq!(search(&mut harness, "pk1").status, 200);
    assert_eq!(search(&mut harness, "pk1").status, 200);
    let limited = search(&mut harness, "pk1");
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("1"));
    assert_eq!(
        limited.body_json(),
        json!({"error": {"code": "rate_limit_error", "message": "Too many requests hit the API too quickly."}})
    );
    assert_eq!(
        search(&mut harness, "pk2").status,
        200,
        "budgets are per key"
    );
    harness.clock.advance_seconds(1);
    assert_eq!(search(&mut harness, "pk1").status, 200);
}

#[test]
fn followanalytics_reads_need_the_account_key_and_uploads_a_sor_key() {
    let mut harness = Harness::new();
    for (header, status) in [
        ("Token token=fk1", 200),
        ("Token fk1", 200),
        ("Bearer fk1", 200),
        ("Token token=XXXXXXXX", 401),
        ("Token token=nope", 401),
    ] {
        let response = harness.send(
            "GET",
            "/api/customer_profiles",
            &[("authorization", header)],
            "",
        );
        assert_eq!(response.status, status, "{header}");
    }
    let response = harness.send("GET", "/api/customer_profiles", &[], "");
    assert_eq!(response.status, 401);
    let body = response.body_json();
    assert_eq!(body["status"], "401");
    assert_eq!(body["success"], false);
    assert!(body["error_message"].is_string());
    let upload = |key: &str, sor: &str| {
        json!({"sor": sor, "api_key": key, "customer_attribute_values": [
            {"customer_id": "u1", "attribute_key": "team", "attribute_value": "PSG"}]})
        .to_string()
    };
    for (key, sor, status) in [
        ("XXXXXXXX", "SOR_XXXX", 200),
        ("fk1", "SOR_OTHER", 200),
        ("XXXXXXXX", "SOR_OTHER", 401),
        ("nope", "SOR_XXXX", 401),
    ] {
        let response = harness.send("POST", "/api/attribute_values", &[], &upload(key, sor));
        assert_eq!(response.status, status, "{key} for {sor}");
    }
}

#[test]
fn credentials_replaced_at_run_time_take_effect_and_revoke_old_tokens() {
    let mut harness = Harness::new();
    let token = harness.arrigoo_token("admin", "s-admin");
    let bearer = format!("Bearer {token}");
    let credentials = Credentials::from_json(
        r#"{"arrigoo": {"apiKeys": [{"key": "admin", "secret": "new", "role": "owner"}]},
            "chartmogul": {"accounts": [{"token": "t2", "secret": "s2"}]},
            "primedata": {"apiKeys": ["pk9"]},
            "followanalytics": {"apiKeys": ["fk9"]}}"#,
    )
    .unwrap();
    harness.api.set_credentials(&credentials);
    assert_eq!(
        harness
            .send("GET", "/v1/customer", &[("authorization", &bearer)], "")
            .status,
        401
    );
    assert_eq!(
        harness
            .send(
                "POST",
                "/auth/api",
                &[],
                r#"{"key":"admin","secret":"s-admin"}"#
            )
            .status,
        401
    );
    let login = harness.send(
        "POST",
        "/auth/api",
        &[],
        r#"{"key":"admin","secret":"new"}"#,
    );
    assert_eq!(login.body_json()["scope"], "api_owner");
    let old = basic("t1", "s1");
    let new = basic("t2", "s2");
    assert_eq!(
        harness
            .send("GET", "/v1/customers", &[("authorization", &old)], "")
            .status,
        401
    );
    assert_eq!(
        harness
            .send("GET", "/v1/customers", &[("authorization", &new)], "")
            .status,
        200
    );
    let body = r#"{"profile_id":"00000000-0000-4000-8000-000000000000"}"#;
    let search = |harness: &mut Harness, key: &str| {
        harness
            .send(
                "POST",
                "/pub/profiles/advanced-search",
                &[("x-api-key", key)],
                body,
            )
            .status
    };
    assert_eq!(search(&mut harness, "pk1"), 401);
    assert_eq!(search(&mut harness, "pk9"), 404);
    let list = |harness: &mut Harness, key: &str| {
        let header = format!("Token token={key}");
        harness
            .send(
                "GET",
                "/api/customer_profiles",
                &[("authorization", &header)],
                "",
            )
            .status
    };
    assert_eq!(list(&mut harness, "fk1"), 401);
    assert_eq!(list(&mut harness, "fk9"), 200);
}

#[test]
fn credentials_of_unknown_dialects_are_refused() {
    let error = Credentials::from_json(r#"{"chartmogl": {}}"#).unwrap_err();
    assert_eq!(error.code(), "config.invalid");
}
