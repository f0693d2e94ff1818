//! The Arrigoo dialect end to end through `Api::handle`, natively.

use std::rc::Rc;

use cdp_engine::api::{Method, Request, Response};
use cdp_engine::engine::ManualClock;
use cdp_engine::model::{ProfileId, Timestamp};
use cdp_engine::{Api, Config, Engine};
use serde_json::{json, Value as Json};

struct Harness {
    clock: ManualClock,
    engine: Engine,
    api: Api,
}

impl Harness {
    fn new() -> Self {
        let config = Config::from_json(
            r#"{"arrigoo": {"apiKeys": [
                {"key": "admin-key", "secret": "admin-secret", "role": "admin"},
                {"key": "viewer-key", "secret": "viewer-secret", "role": "viewer"}
            ], "accessTokenTtlSeconds": 60, "refreshTokenTtlSeconds": 600, "pageSize": 2}}"#,
        )
        .unwrap();
        let clock = ManualClock::starting_at(Timestamp::parse("2025-03-21T10:00:00Z").unwrap());
        let engine = Engine::new(config.identity.clone(), Rc::new(clock.clone()));
        Self {
            clock,
            engine,
            api: Api::new(&config),
        }
    }

    fn send(&mut self, request: Request) -> Response {
        self.api.handle(&mut self.engine, &request)
    }

    fn login(&mut self, key: &str, secret: &str) -> Json {
        let body = json!({"key": key, "secret": secret}).to_string();
        let response = self.send(Request::new(Method::Post, "/auth/api").with_body(body));
        assert_eq!(response.status, 200, "{}", response.body);
        response.body_json()
    }

    fn token(&mut self, key: &str, secret: &str) -> String {
        self.login(key, secret)["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn authorized(&mut self, method: Method, target: &str, token: &str, body: &str) -> Response {
        let request =
            Request::new(method, target).with_header("Authorization", &format!("Bearer {token}"));
        self.send(request.with_body(body))
    }

    fn put_customer(&mut self, token: &str, body: Json) -> Response {
        self.authorized(Method::Put, "/v1/customer", token, &body.to_string())
    }
}

fn assert_error(response: &Response, status: u16, code: &str) {
    assert_eq!(response.status, status, "{}", response.body);
    let body = response.body_json();
    assert_eq!(body["error"], code, "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert_eq!(
        response.headers[0],
        (
            "content-type".into(),
            "application/json; charset=utf-8".into()
        )
    );
}

fn spec_upsert() -> Json {
    json!({
        "ident": [
            {"id_type": "email", "id_value": "bib@bob.dk"},
            {"id_type": "foreignid1", "id_value": "ytrewq"}
        ],
        "properties": {"name": "Bib Bobsen", "subscription_id": "ytrewq"}
    })
}

#[test]
fn login_returns_tokens_scope_and_expiry_as_the_spec_shows() {
    let mut harness = Harness::new();
    let body = harness.login("viewer-key", "viewer-secret");
    assert_eq!(body.as_object().unwrap().len(), 4);
    assert!(
        body["access_token"]
            .as_str()
            .unwrap()
            .parse::<ProfileId>()
            .is_ok(),
        "UUID-shaped token"
    );
    assert!(body["refresh_token"].is_string());
    assert_ne!(body["access_token"], body["refresh_token"]);
    assert_eq!(body["scope"], "api_viewer");
    assert_eq!(body["expiry"], "2025-03-21T10:01:00+00:00");
}

#[test]
fn wrong_key_or_secret_is_401() {
    let mut harness = Harness::new();
    for body in [
        json!({"key": "admin-key", "secret": "wrong"}),
        json!({"key": "nobody", "secret": "admin-secret"}),
        json!({"key": "admin-key", "secret": "viewer-secret"}),
    ] {
        let response =
            harness.send(Request::new(Method::Post, "/auth/api").with_body(body.to_string()));
        assert_error(&response, 401, "api.unauthenticated");
    }
}

#[test]
fn malformed_or_incomplete_login_bodies_are_400() {
    let mut harness = Harness::new();
    let response = harness.send(Request::new(Method::Post, "/auth/api").with_body("{not json"));
    assert_error(&response, 400, "api.malformed_json");
    let response =
        harness.send(Request::new(Method::Post, "/auth/api").with_body(r#"{"key":"admin-key"}"#));
    assert_error(&response, 400, "api.invalid_request");
}

#[test]
fn access_token_expires_and_refresh_issues_a_new_one() {
    let mut harness = Harness::new();
    let login = harness.login("admin-key", "admin-secret");
    let access = login["access_token"].as_str().unwrap().to_owned();
    let refresh = login["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(
        harness
            .authorized(Method::Get, "/v1/customer", &access, "")
            .status,
        200
    );

    harness.clock.advance_seconds(61);
    assert_error(
        &harness.authorized(Method::Get, "/v1/customer", &access, ""),
        401,
        "api.unauthenticated",
    );

    let body = json!({"refresh_token": refresh}).to_string();
    let refreshed =
        harness.send(Request::new(Method::Post, "/auth/api/refresh").with_body(body.clone()));
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let refreshed = refreshed.body_json();
    assert_eq!(refreshed.as_object().unwrap().len(), 2);
    assert_eq!(refreshed["expiry"], "2025-03-21T10:02:01+00:00");
    let new_access = refreshed["access_token"].as_str().unwrap();
    assert_eq!(
        harness
            .authorized(Method::Get, "/v1/customer", new_access, "")
            .status,
        200
    );

    harness.clock.advance_seconds(600);
    let expired = harness.send(Request::new(Method::Post, "/auth/api/refresh").with_body(body));
    assert_error(&expired, 401, "api.unauthenticated");
}

#[test]
fn profile_requests_without_a_valid_token_are_401() {
    let mut harness = Harness::new();
    let target = format!("/v1/customer/{}", ProfileId::random());
    assert_error(
        &harness.send(Request::new(Method::Get, &target)),
        401,
        "api.unauthenticated",
    );
    assert_error(
        &harness.authorized(Method::Get, &target, "forged", ""),
        401,
        "api.unauthenticated",
    );
    let basic =
        Request::new(Method::Get, &target).with_header("authorization", "Basic a2V5OnNlY3JldA==");
    assert_error(&harness.send(basic), 401, "api.unauthenticated");
}

#[test]
fn put_then_get_gives_the_spec_profile_shape() {
    let mut harness = Harness::new();
    let token = harness.token("admin-key", "admin-secret");
    let written = harness.put_customer(&token, spec_upsert());
    assert_eq!(written.status, 200, "{}", written.body);
    let id = written.body_json()["cid"].as_str().unwrap().to_owned();

    let response = harness.authorized(Method::Get, &format!("/v1/customer/{id}"), &token, "");
    assert_eq!(response.status, 200);
    let profile = response.body_json();
    let mut keys: Vec<_> = profile.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["cid", "ctime", "i", "mtime", "p", "s"]);
    assert_eq!(profile["cid"], id);
    assert_eq!(
        profile["p"],
        json!([{"lab": "name", "val": "Bib Bobsen"}, {"lab": "subscription_id", "val": "ytrewq"}])
    );
    assert_eq!(profile["s"], json!([]));
    assert_eq!(
        profile["i"],
        json!([{"id_type": "email", "id_value": "bib@bob.dk"}, {"id_type": "foreignid1", "id_value": "ytrewq"}])
    );
    assert_eq!(profile["ctime"], "2025-03-21T10:00:00.000000Z");
    assert_eq!(profile["mtime"], "2025-03-21T10:00:00.000000Z");
}

#[test]
fn unknown_or_malformed_profile_ids_are_404() {
    let mut harness = Harness::new();
    let token = harness.token("viewer-key", "viewer-secret");
    let unknown = format!("/v1/customer/{}", ProfileId::random());
    assert_error(
        &harness.authorized(Method::Get, &unknown, &token, ""),
        404,
        "api.not_found",
    );
    assert_error(
        &harness.authorized(Method::Get, "/v1/customer/xyz", &token, ""),
        404,
        "api.not_found",
    );
}

#[test]
fn one_matching_identifier_adds_the_other_to_that_profile() {
    let mut harness = Harness::new();
    let token = harness.token("admin-key", "admin-secret");
    let first = harness.put_customer(
        &token,
        json!({"ident": [{"id_type": "email", "id_value": "Bib@Bob.dk"}]}),
    );
    let id = first.body_json()["cid"].clone();
    harness.clock.advance_seconds(5);
    let second = harness.put_customer(&token, spec_upsert()).body_json();
    assert_eq!(second["cid"], id);
    assert_eq!(second["i"].as_array().unwrap().len(), 2);
    assert_eq!(second["mtime"], "2025-03-21T10:00:05.000000Z");
    assert_eq!(second["ctime"], "2025-03-21T10:00:00.000000Z");
    assert_eq!(harness.engine.profile_count(), 1);
}

#[test]
fn identifiers_of_two_profiles_are_a_conflict_that_changes_nothing() {
    let mut harness = Harness::new();
    let token = harness.token("admin-key", "admin-secret");
    let first = harness.put_customer(
        &token,
        json!({"ident": [{"id_type": "email", "id_value": "a@x.dk"}]}),
    );
    let second = harness.put_customer(
        &token,
        json!({"ident": [{"id_type": "email", "id_value": "b@x.dk"}]}),
    );
    let offset = harness.engine.next_offset();
    let conflict = harness.put_customer(
        &token,
        json!({"ident": [{"id_type": "email", "id_value": "a@x.dk"}, {"id_type": "email", "id_value": "b@x.dk"}],
               "properties": {"name": "Both"}}),
    );
    assert_error(&conflict, 409, "identity.conflict");
    let message = conflict.body_json()["message"].as_str().unwrap().to_owned();
    for id in
        [&first, &second].map(|response| response.body_json()["cid"].as_str().unwrap().to_owned())
    {
        assert!(message.contains(&id), "{message} names {id}");
    }
    assert_eq!(harness.engine.next_offset(), offset);
    assert!(harness
        .engine
        .profiles()
        .all(|profile| profile.attribute("name").is_none()));
}

#[test]
fn writes_need_admin_or_above() {
    let mut harness = Harness::new();
    let token = harness.token("viewer-key", "viewer-secret");
    assert_error(
        &harness.put_customer(&token, spec_upsert()),
        403,
        "api.forbidden",
    );
    assert_eq!(harness.engine.profile_count(), 0);
}

#[test]
fn invalid_upserts_are_400_and_change_nothing() {
    let mut harness = Harness::new();
    let token = harness.token("admin-key", "admin-secret");
    for (body, code) in [
        (json!({"ident": []}), "api.invalid_request"),
        (json!({"properties": {"name": "x"}}), "api.invalid_request"),
        (
            json!({"ident": [{"id_type": "email"}]}),
            "api.invalid_request",
        ),
        (
            json!({"ident": [{"id_type": "email", "id_value": "  "}]}),
            "identity.empty",
        ),
        (
            json!({"ident": [{"id_type": "phone", "id_value": "n/a"}]}),
            "identity.invalid",
        ),
        (
            json!({"ident": [{"id_type": "email", "id_value": "a@b.c"}], "properties": {"bad\nkey": 1}}),
            "schema.invalid_key",
        ),
        (
            json!({"ident": [{"id_type": "email", "id_value": "a@b.c"}], "extra": true}),
            "api.invalid_request",
        ),
    ] {
        assert_error(&harness.put_customer(&token, body), 400, code);
    }
    assert_error(
        &harness.authorized(Method::Put, "/v1/customer", &token, "[1,"),
        400,
        "api.malformed_json",
    );
    assert_eq!(harness.engine.next_offset(), 0);
}

#[test]
fn customer_list_pages_without_properties() {
    let mut harness = Harness::new();
    let token = harness.token("admin-key", "admin-secret");
    for email in ["a@x.dk", "b@x.dk", "c@x.dk"] {
        let body = json!({"ident": [{"id_type": "email", "id_value": email}], "properties": {"name": email}});
        assert_eq!(harness.put_customer(&token, body).status, 200);
    }
    let page =
        |harness: &mut Harness, target: &str| harness.authorized(Method::Get, target, &token, "");
    let first = page(&mut harness, "/v1/customer").body_json();
    assert_eq!(first, page(&mut harness, "/v1/customer?page=1").body_json());
    assert_eq!(first.as_array().unwrap().len(), 2);
    assert_eq!(
        first[0]["i"],
        json!([{"id_type": "email", "id_value": "a@x.dk"}])
    );
    assert!(first[0].get("p").is_none());
    assert_eq!(first[0]["s"], json!([]));
    let second = page(&mut harness, "/v1/customer?page=2").body_json();
    assert_eq!(second.as_array().unwrap().len(), 1);
    assert_eq!(
        page(&mut harness, "/v1/customer?page=3").body_json(),
        json!([])
    );
    // Past what the platform counts (2^32 on wasm32, 2^64 natively): still a page past the end.
    for far in [
        "4294967296",
        "18446744073709551616",
        "99999999999999999999999999",
    ] {
        assert_eq!(
            page(&mut harness, &format!("/v1/customer?page={far}")).body_json(),
            json!([]),
            "{far}"
        );
    }
    for bad in ["0", "-1", "two", "+", "1e3"] {
        assert_error(
            &page(&mut harness, &format!("/v1/customer?page={bad}")),
            400,
            "api.invalid_request",
        );
    }
}

#[test]
fn wrong_methods_unknown_paths_and_oversized_bodies_get_json_errors() {
    let mut harness = Harness::new();
    assert_error(
        &harness.send(Request::new(Method::Get, "/auth/api")),
        405,
        "api.method_not_allowed",
    );
    assert_error(
        &harness.send(Request::new(Method::Delete, "/v1/customer")),
        405,
        "api.method_not_allowed",
    );
    assert_error(
        &harness.send(Request::new(Method::Get, "/v1/customer/a/b/c")),
        404,
        "api.route_not_found",
    );
    let unmounted = harness.send(Request::new(Method::Get, "/nowhere"));
    assert_eq!(unmounted.status, 404);
    assert_eq!(
        unmounted.body_json()["error"]["code"],
        "api.route_not_found"
    );
    let huge = "x".repeat(1_000_001);
    assert_error(
        &harness.send(Request::new(Method::Post, "/auth/api").with_body(huge)),
        413,
        "api.body_too_large",
    );
}
