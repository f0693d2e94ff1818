//! Hostile input on every route of every dialect: no panic, a 4xx in the dialect's own JSON
//! shape, and no change to the model.

mod support;

use serde_json::json;
use support::Harness;

/// Every route of the four dialects, with placeholders filled by an existing profile.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/auth/api"),
    ("POST", "/auth/api/refresh"),
    ("PUT", "/v1/customer"),
    ("GET", "/v1/customer?page=1"),
    ("GET", "/v1/customer/{uuid}"),
    ("GET", "/v1/customers?per_page=2"),
    ("GET", "/v1/customers/search?email=a@b.c"),
    ("GET", "/v1/customers/cus_{uuid}"),
    ("GET", "/v1/customers/cus_{uuid}/attributes"),
    ("POST", "/v1/customers/cus_{uuid}/attributes/tags"),
    ("DELETE", "/v1/customers/cus_{uuid}/attributes/tags"),
    ("POST", "/v1/customers/attributes/tags"),
    ("POST", "/pub/profiles/advanced-search"),
    ("GET", "/api/customer_profiles"),
    ("GET", "/api/customer_profiles/u1"),
    ("POST", "/api/attribute_values"),
];

fn hostile_bodies() -> Vec<String> {
    let mut bodies: Vec<String> = [
        "",
        "null",
        "[]",
        "{}",
        "\"text\"",
        "1e999",
        "-0",
        "{\"a\":",
        "{\"tags\": null}",
        "{\"tags\": [null]}",
        "{\"tags\": {\"0\": \"x\"}}",
        "{\"ident\": [{\"id_type\": \"\", \"id_value\": \"x\"}]}",
        "{\"identities\": {\"email\": [[\"a@b.c\"]]}}",
        "{\"identities\": {\"email\": {\"x\": 1}}}",
        "{\"profile_id\": 7}",
        "{\"type\": [\"trait\", null]}",
        "{\"email\": [\"a@b.c\"], \"tags\": [\"x\"]}",
        "{\"sor\": 1, \"api_key\": [], \"customer_attribute_values\": \"x\"}",
        "{\"key\": \"\\u0000\", \"secret\": \"\\ud800\"}",
        "\u{feff}{}",
    ]
    .iter()
    .map(|body| (*body).to_owned())
    .collect();
    bodies.push("[".repeat(10_000));
    bodies.push(format!("{{\"tags\": \"{}\"}}", "é".repeat(50_000)));
    bodies
}

#[test]
fn hostile_bodies_get_a_dialect_4xx_and_change_nothing() {
    let mut harness = Harness::new();
    let id = harness.seed(
        json!({"email": "a@b.c", "user_id": "u1"}),
        json!({"name": "A"}),
    );
    let token = harness.arrigoo_token("admin", "s-admin");
    let bearer = format!("Bearer {token}");
    let cm = support::basic("t1", "s1");
    let headers = [("authorization", bearer.as_str()), ("x-api-key", "pk1")];
    for (method, route) in ROUTES {
        let target = route.replace("{uuid}", &id.to_string());
        let auth = if target.starts_with("/v1/customers") {
            cm.as_str()
        } else if target.starts_with("/api/") {
            "Token token=fk1"
        } else {
            bearer.as_str()
        };
        let headers = [("authorization", auth), headers[1]];
        for body in hostile_bodies() {
            let before = harness.engine.next_offset();
            let response = harness.send(method, &target, &headers, &body);
            let reads = *method == "GET";
            if reads {
                assert_eq!(response.status, 200, "{method} {target} ignores its body");
            } else {
                assert!(
                    (400..500).contains(&response.status),
                    "{method} {target} {body:.40}: {}",
                    response.status
                );
                assert!(
                    response.body_json().is_object(),
                    "{method} {target}: {}",
                    response.body
                );
            }
            if response.status != 200 {
                assert_eq!(
                    harness.engine.next_offset(),
                    before,
                    "{method} {target} {body:.40}"
                );
            }
        }
    }
}

#[test]
fn hostile_paths_and_queries_are_404_or_400_never_a_panic() {
    let mut harness = Harness::new();
    harness.seed(json!({"email": "a@b.c"}), json!({}));
    let cm = support::basic("t1", "s1");
    for target in [
        "/v1/customers/%00",
        "/v1/customers/%FF%FE",
        "/v1/customers/cus_",
        "/v1/customers/18446744073709551616",
        "/v1/customers?per_page=99999999999999999999999",
        "/v1/customers?cursor=%00",
        "/v1/customers?page=18446744073709551615",
        "/v1/customers/search?email=%40",
        "/v1//customers",
        "/v1/customers/../customer",
        "/api/customer_profiles/%2F",
        "/api/customer_profiles?page=18446744073709551615&num_per_page=18446744073709551615",
        "/v1/customer?page=18446744073709551615",
    ] {
        let response = harness.send(
            "GET",
            target,
            &[("authorization", &cm), ("x-api-key", "pk1")],
            "",
        );
        assert!(response.status < 500, "{target}: {}", response.status);
        assert!(
            response.body_json().is_object() || response.body_json().is_array(),
            "{target}: {}",
            response.body
        );
    }
}
