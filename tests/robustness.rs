//! Hostile input on every route of every dialect: no panic, a 4xx in the dialect's own JSON
//! shape, and no change to the model. A fixed corpus first, then generated requests (proptest)
//! of every method, path, query, header and body combination; `fuzz/` runs the same checks
//! (`support/checks.rs`) under cargo-fuzz. Every input that ever broke them is kept here as a
//! fixed case (none so far).
#![cfg(not(target_arch = "wasm32"))]

mod support;

use proptest::prelude::*;
use serde_json::{json, Map, Value as Json};
use support::checks::{send_and_check, Auth, CustomerId, HostileRequest, Seeded, ROUTE_TEMPLATES};
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
    ("GET", "/cdp/v1/profiles?limit=2"),
    ("POST", "/cdp/v1/profiles"),
    ("GET", "/cdp/v1/profiles/{uuid}"),
    ("POST", "/cdp/v1/merges"),
    ("POST", "/cdp/v1/events"),
    ("GET", "/cdp/v1/events?profileId={uuid}"),
    ("POST", "/cdp/v1/traits"),
    ("POST", "/cdp/v1/segments"),
    ("GET", "/cdp/v1/stats/kpis/purchases"),
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
        } else if target.starts_with("/cdp/") {
            "Bearer cdp-key"
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
        "/cdp/v1/profiles?limit=18446744073709551616&cursor=%00",
        "/cdp/v1/events?identity=%00:%00&start=%FF",
        "/cdp/v1/segments/%2F/members?cursor=cG9zaXRpb246MTg0NDY3NDQwNzM3MDk1NTE2MTU=",
        "/cdp/v1//profiles",
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

/// Query parameter names the dialects read.
const QUERY_NAMES: &[&str] = &[
    "page",
    "per_page",
    "cursor",
    "email",
    "num_per_page",
    "customer_id_type",
    "customer_ids",
    "sor_identifiers",
    "attribute_keys",
    "api_key",
    "limit",
    "identity",
    "profileId",
    "start",
    "end",
    "sort",
    "name",
    "resolution",
    "kind",
    "scope",
    "context",
];

fn any_text() -> BoxedStrategy<String> {
    prop_oneof![
        "[a-zA-Z0-9@._~+-]{0,16}",
        "[%0-9A-Fa-f/?&=#]{0,12}",
        "\\PC{0,12}",
        Just(String::new()),
    ]
    .boxed()
}

fn json_leaf() -> BoxedStrategy<Json> {
    let known = prop::sample::select(
        &[
            "a@b.c",
            "A@B.C ",
            "+4512345678",
            "u1",
            "SOR_XXXX",
            "XXXXXXXX",
            "global",
            "trait",
            "identity",
            "String",
        ][..],
    );
    prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        any::<f64>().prop_map(Json::from),
        any_text().prop_map(Json::String),
        known.prop_map(Json::from),
    ]
    .boxed()
}

fn any_json() -> BoxedStrategy<Json> {
    json_leaf()
        .prop_recursive(3, 24, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
                prop::collection::vec((any_text(), inner), 0..5)
                    .prop_map(|pairs| Json::Object(pairs.into_iter().collect())),
            ]
        })
        .boxed()
}

/// An object holding some of `keys`, each with any JSON value.
fn object_with(keys: &'static [&'static str]) -> BoxedStrategy<Json> {
    prop::collection::vec((prop::sample::select(keys), any_json()), 0..=keys.len())
        .prop_map(|pairs| {
            let object: Map<String, Json> = pairs
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value))
                .collect();
            Json::Object(object)
        })
        .boxed()
}

/// Mostly `known`, sometimes any JSON leaf: values that get past validation and values that
/// do not.
fn mostly(known: &'static [&'static str]) -> BoxedStrategy<Json> {
    prop_oneof![
        2 => prop::sample::select(known).prop_map(Json::from),
        1 => json_leaf(),
    ]
    .boxed()
}

/// Arrigoo's upsert: `ident` pairs and `properties`.
fn arrigoo_body() -> BoxedStrategy<Json> {
    let kinds = prop::sample::select(&["email", "phone", "user_id", "", "x"][..]);
    let ident =
        (kinds, json_leaf()).prop_map(|(kind, value)| json!({"id_type": kind, "id_value": value}));
    (
        prop::collection::vec(ident, 0..3),
        prop::collection::vec(("[a-z_]{0,6}", json_leaf()), 0..3),
    )
        .prop_map(|(ident, properties)| {
            let properties: Map<String, Json> = properties.into_iter().collect();
            json!({"ident": ident, "properties": properties})
        })
        .boxed()
}

/// ChartMogul's tag bodies, by id or by email.
fn chartmogul_body() -> BoxedStrategy<Json> {
    (
        prop::option::of(json_leaf()),
        prop::collection::vec(json_leaf(), 0..4),
    )
        .prop_map(|(email, tags)| match email {
            Some(email) => json!({"email": email, "tags": tags}),
            None => json!({"tags": tags}),
        })
        .boxed()
}

/// PrimeData's profile search.
fn primedata_body() -> BoxedStrategy<Json> {
    let kinds = prop::sample::select(&["email", "email", "email", "phone_number", "x"][..]);
    (
        prop::collection::vec(
            (
                kinds,
                prop::collection::vec(mostly(&["a@b.c", "A@B.C "]), 0..3),
            ),
            0..3,
        ),
        prop::option::weighted(
            0.3,
            prop::collection::vec(mostly(&["trait", "identity", "p_trait"]), 0..3),
        ),
        prop::option::weighted(0.2, json_leaf()),
    )
        .prop_map(|(identities, parts, profile_id)| {
            let identities: Map<String, Json> = identities
                .into_iter()
                .map(|(kind, values)| (kind.to_owned(), Json::Array(values)))
                .collect();
            let mut body = json!({"identities": identities});
            if let Some(parts) = parts {
                body["type"] = Json::Array(parts);
            }
            if let Some(profile_id) = profile_id {
                body["profile_id"] = profile_id;
            }
            body
        })
        .boxed()
}

/// FollowAnalytics' attribute value upload.
fn followanalytics_body() -> BoxedStrategy<Json> {
    let value = (
        mostly(&["u1", "u2"]),
        mostly(&["plan", "name"]),
        json_leaf(),
        prop::option::weighted(0.2, json_leaf()),
    )
        .prop_map(|(customer_id, key, value, action)| {
            let mut upload = json!({
                "customer_id": customer_id, "attribute_key": key, "attribute_value": value
            });
            if let Some(action) = action {
                upload["action_type"] = action;
            }
            upload
        });
    (
        mostly(&["SOR_XXXX", "global"]),
        mostly(&["XXXXXXXX", "fk1"]),
        prop::collection::vec(value, 0..3),
    )
        .prop_map(|(sor, key, values)| {
            json!({"sor": sor, "api_key": key, "customer_attribute_values": values})
        })
        .boxed()
}

/// Bodies close to what each dialect takes, with values of the right and the wrong types.
fn shaped_body() -> BoxedStrategy<Json> {
    prop_oneof![
        arrigoo_body(),
        chartmogul_body(),
        primedata_body(),
        followanalytics_body(),
        object_with(&["key", "secret", "refresh_token"]),
        object_with(&["custom", "tags", "email", "identities", "include", "type"]),
    ]
    .boxed()
}

/// A body for a route: mostly shaped for the route's own dialect, sometimes anything.
fn any_body(template: &str) -> BoxedStrategy<String> {
    let own = if template.starts_with("/v1/customers") {
        chartmogul_body()
    } else if template.starts_with("/auth/api") {
        object_with(&["key", "secret", "refresh_token"])
    } else if template.starts_with("/v1/") {
        arrigoo_body()
    } else if template.starts_with("/pub/") {
        primedata_body()
    } else {
        followanalytics_body()
    };
    prop_oneof![
        4 => own.prop_map(|body| body.to_string()),
        1 => shaped_body().prop_map(|body| body.to_string()),
        2 => any_json().prop_map(|body| body.to_string()),
        1 => any_text(),
        1 => Just(String::new()),
    ]
    .boxed()
}

/// Another method than the route's, or `None` for the route's own.
fn any_method() -> BoxedStrategy<Option<String>> {
    let other = prop_oneof![
        4 => prop::sample::select(&["GET", "POST", "PUT", "DELETE"][..]).prop_map(str::to_owned),
        1 => prop::sample::select(&["HEAD", "PATCH", "OPTIONS", "get", "TRACE"][..])
            .prop_map(str::to_owned),
        1 => "[A-Za-z]{0,8}",
    ];
    prop::option::weighted(0.25, other).boxed()
}

fn any_customer_id() -> BoxedStrategy<CustomerId> {
    prop_oneof![
        Just(CustomerId::Uuid),
        Just(CustomerId::ChartMogulUuid),
        Just(CustomerId::ChartMogulNumber),
        Just(CustomerId::UserId),
        any_text().prop_map(CustomerId::Text),
    ]
    .boxed()
}

fn any_query() -> BoxedStrategy<Vec<(String, String)>> {
    let known_values =
        prop::sample::select(&["a@b.c", "user_id", "device_id", "SOR_XXXX", "x=="][..]);
    let pair = (
        prop_oneof![
            prop::sample::select(QUERY_NAMES).prop_map(str::to_owned),
            any_text()
        ],
        prop_oneof![
            "[0-9]{1,25}",
            "-?[0-9]{1,3}",
            any_text(),
            known_values.prop_map(str::to_owned),
        ],
    );
    prop::collection::vec(pair, 0..4).boxed()
}

fn any_auth() -> BoxedStrategy<Auth> {
    prop_oneof![
        3 => Just(Auth::Valid),
        1 => Just(Auth::All),
        1 => Just(Auth::Missing),
        1 => any_text().prop_map(Auth::Text),
    ]
    .boxed()
}

fn any_headers() -> BoxedStrategy<Vec<(String, String)>> {
    let known_names = prop::sample::select(
        &[
            "content-type",
            "x-api-key",
            "authorization",
            "accept",
            "content-length",
        ][..],
    );
    let header = (
        prop_oneof![known_names.prop_map(str::to_owned), "[a-zA-Z-]{1,12}"],
        any_text(),
    );
    prop::collection::vec(header, 0..3).boxed()
}

fn any_suffix() -> BoxedStrategy<String> {
    prop_oneof![
        12 => Just(String::new()),
        1 => Just("/".to_owned()),
        1 => any_text().prop_map(|text| format!("/{text}")),
    ]
    .boxed()
}

fn any_request() -> BoxedStrategy<HostileRequest> {
    prop::sample::select(ROUTE_TEMPLATES)
        .prop_flat_map(|(route_method, template)| {
            let route = (
                any_method(),
                Just((route_method, template)),
                any_customer_id(),
                any_text(),
                any_suffix(),
            );
            let rest = (any_query(), any_auth(), any_headers(), any_body(template));
            (route, rest)
        })
        .prop_map(
            |(
                (method, (route_method, template), id, text, suffix),
                (query, auth, headers, body),
            )| {
                HostileRequest {
                    method: method.unwrap_or_else(|| route_method.to_owned()),
                    template,
                    id,
                    text,
                    suffix,
                    query,
                    auth,
                    headers,
                    body,
                }
            },
        )
        .boxed()
}

proptest! {
    #[test]
    fn generated_requests_get_a_dialect_answer_and_refusals_change_nothing(
        requests in prop::collection::vec(any_request(), 1..4)
    ) {
        let (mut harness, seeded) = Seeded::harness();
        for generated in &requests {
            let request = generated.build(&mut harness, &seeded);
            send_and_check(&mut harness, &request);
        }
    }
}
