//! Hostile requests and what every answer of `Api::handle` must be, whatever the request: a
//! 2xx or a 4xx, with a JSON body; errors in the shape of the dialect that owns the path; and no
//! change to the model when the request is refused or only reads. Shared by the property test
//! in `tests/robustness.rs` and the cargo-fuzz target in `fuzz/`, which generate
//! [`HostileRequest`]s their own ways.

use cdp_engine::api::{Method, Request, Response};
use cdp_engine::model::ProfileId;
use serde_json::{json, Value as Json};

use super::{basic, Harness};

/// The routes of every dialect (and a few paths near them) with their methods, `{id}` where a
/// customer id goes and `{text}` where any text goes.
pub const ROUTE_TEMPLATES: &[(&str, &str)] = &[
    ("POST", "/auth/api"),
    ("POST", "/auth/api/refresh"),
    ("GET", "/v1/customer"),
    ("PUT", "/v1/customer"),
    ("GET", "/v1/customer/{id}"),
    ("GET", "/v1/customer/segment/{text}"),
    ("GET", "/v1/stat/segment"),
    ("POST", "/v1/stat/segment"),
    ("GET", "/v1/stat/event"),
    ("GET", "/v1/stat/event/month"),
    ("GET", "/v1/segment"),
    ("GET", "/v1/customers"),
    ("GET", "/v1/customers/search"),
    ("GET", "/v1/customers/{id}"),
    ("GET", "/v1/customers/{id}/attributes"),
    ("POST", "/v1/customers/{id}/attributes/tags"),
    ("DELETE", "/v1/customers/{id}/attributes/tags"),
    ("POST", "/v1/customers/attributes/tags"),
    ("POST", "/v1/customers/{id}/attributes/custom"),
    ("PUT", "/v1/customers/{id}/attributes/custom"),
    ("DELETE", "/v1/customers/{id}/attributes/custom"),
    ("POST", "/v1/customers/attributes/custom"),
    ("POST", "/pub/profiles/advanced-search"),
    ("POST", "/pub/events/advanced-search"),
    ("GET", "/pub/{text}"),
    ("GET", "/api/customer_profiles"),
    ("GET", "/api/customer_profiles/{id}"),
    ("POST", "/api/attribute_values"),
    ("GET", "/api/system_of_records"),
    ("POST", "/api/system_of_records"),
    ("GET", "/api/system_of_records/{text}"),
    ("PUT", "/api/system_of_records/{text}"),
    ("DELETE", "/api/system_of_records/{text}"),
    ("PUT", "/api/system_of_records/{text}/disable"),
    ("PUT", "/api/system_of_records/{text}/enable"),
    ("POST", "/api/customer_attributes"),
    ("GET", "/api/customer_attributes/{text}"),
    ("PUT", "/api/customer_attributes/{text}"),
    ("DELETE", "/api/customer_attributes/{text}"),
    ("PUT", "/api/customer_attributes/{text}/share"),
    ("PUT", "/api/customer_attributes/{text}/unshare"),
    ("PUT", "/api/customer_attributes/{text}/disable"),
    ("PUT", "/api/customer_attributes/{text}/enable"),
    ("GET", "/cdp/v1/profiles"),
    ("POST", "/cdp/v1/profiles"),
    ("GET", "/cdp/v1/profiles/lookup"),
    ("GET", "/cdp/v1/profiles/{id}"),
    ("GET", "/cdp/v1/profiles/{id}/traits"),
    ("GET", "/cdp/v1/profiles/{id}/segments"),
    ("GET", "/cdp/v1/profiles/{id}/stats/buying"),
    ("GET", "/cdp/v1/profiles/{id}/stats/events"),
    ("POST", "/cdp/v1/merges"),
    ("GET", "/cdp/v1/merges/{id}"),
    ("DELETE", "/cdp/v1/merges/{id}"),
    ("POST", "/cdp/v1/events"),
    ("GET", "/cdp/v1/events"),
    ("GET", "/cdp/v1/traits"),
    ("POST", "/cdp/v1/traits"),
    ("GET", "/cdp/v1/traits/{text}"),
    ("DELETE", "/cdp/v1/traits/{text}"),
    ("GET", "/cdp/v1/segments"),
    ("POST", "/cdp/v1/segments"),
    ("GET", "/cdp/v1/segments/{text}"),
    ("DELETE", "/cdp/v1/segments/{text}"),
    ("POST", "/cdp/v1/segments/{text}/activate"),
    ("POST", "/cdp/v1/segments/{text}/deactivate"),
    ("GET", "/cdp/v1/segments/{text}/members"),
    ("GET", "/cdp/v1/segments/{text}/history"),
    ("GET", "/cdp/v1/identity"),
    ("GET", "/cdp/v1/stats/{text}"),
    ("GET", "/cdp/v1/stats/events/{text}"),
    ("GET", "/cdp/v1/stats/customers/{text}"),
    ("GET", "/cdp/v1/stats/kpis/{text}"),
    ("GET", "/{text}"),
];

/// Where a customer id goes in a path: one of the seeded profile's ids, or any text.
#[derive(Clone, Debug)]
pub enum CustomerId {
    /// The profile UUID (Arrigoo, PrimeData).
    Uuid,
    /// `cus_` + the UUID (ChartMogul).
    ChartMogulUuid,
    /// ChartMogul's numeric `id`.
    ChartMogulNumber,
    /// The `user_id` identifier (FollowAnalytics).
    UserId,
    /// Any text.
    Text(String),
}

/// Which credentials a request carries.
#[derive(Clone, Debug)]
pub enum Auth {
    /// The right ones for the dialect that owns the path.
    Valid,
    /// Every dialect's valid credentials at once.
    All,
    /// None.
    Missing,
    /// An `Authorization` header with any value.
    Text(String),
}

/// One request to throw at the API, before the seeded profile's ids are filled in.
#[derive(Clone, Debug)]
pub struct HostileRequest {
    /// Any method name.
    pub method: String,
    /// One of [`ROUTE_TEMPLATES`].
    pub template: &'static str,
    /// What fills `{id}`.
    pub id: CustomerId,
    /// What fills `{text}`.
    pub text: String,
    /// Appended to the path.
    pub suffix: String,
    /// Query pairs, joined raw (not encoded).
    pub query: Vec<(String, String)>,
    /// The credentials.
    pub auth: Auth,
    /// More headers, after the credentials.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

/// The profile every hostile run starts with, and the ways each dialect names it.
pub struct Seeded {
    /// Its UUID.
    pub id: ProfileId,
    /// ChartMogul's numeric `id` for it.
    pub number: String,
}

impl Seeded {
    /// A harness holding one profile (`a@b.c`, user id `u1`, name `A`).
    pub fn harness() -> (Harness, Self) {
        let mut harness = Harness::new();
        let id = harness.seed(
            json!({"email": "a@b.c", "user_id": "u1"}),
            json!({"name": "A"}),
        );
        let customer = harness
            .chartmogul("GET", &format!("/v1/customers/cus_{id}"), "")
            .body_json();
        let number = customer["id"].to_string();
        (harness, Self { id, number })
    }
}

impl HostileRequest {
    /// The request, with ids filled in from `seeded` and credentials by the path's owner.
    pub fn build(&self, harness: &mut Harness, seeded: &Seeded) -> Request {
        let id = match &self.id {
            CustomerId::Uuid => seeded.id.to_string(),
            CustomerId::ChartMogulUuid => format!("cus_{}", seeded.id),
            CustomerId::ChartMogulNumber => seeded.number.clone(),
            CustomerId::UserId => "u1".to_owned(),
            CustomerId::Text(text) => text.clone(),
        };
        let mut target = self
            .template
            .replace("{id}", &id)
            .replace("{text}", &self.text);
        target.push_str(&self.suffix);
        if !self.query.is_empty() {
            let pairs: Vec<String> = self
                .query
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            target = format!("{target}?{}", pairs.join("&"));
        }
        let mut request =
            Request::new(Method::parse(&self.method), &target).with_body(self.body.clone());
        let arrigoo = format!("Bearer {}", harness.arrigoo_token("admin", "s-admin"));
        let chartmogul = basic("t1", "s1");
        let credentials: Vec<(&str, String)> = match &self.auth {
            Auth::Valid => match Owner::of(&request) {
                Owner::Arrigoo => vec![("authorization", arrigoo)],
                Owner::ChartMogul => vec![("authorization", chartmogul)],
                Owner::PrimeData => vec![("x-api-key", "pk1".to_owned())],
                Owner::FollowAnalytics => vec![("authorization", "Token token=fk1".to_owned())],
                Owner::Cdp => vec![("authorization", "Bearer cdp-key".to_owned())],
                Owner::Nobody => Vec::new(),
            },
            Auth::All => vec![
                ("authorization", arrigoo),
                ("authorization", chartmogul),
                ("x-api-key", "pk1".to_owned()),
            ],
            Auth::Missing => Vec::new(),
            Auth::Text(text) => vec![("authorization", text.clone())],
        };
        for (name, value) in &credentials {
            request = request.with_header(name, value);
        }
        for (name, value) in &self.headers {
            request = request.with_header(name, value);
        }
        request
    }
}

/// Who answers a path, as the router decides it when no prefix is configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// `/auth/api…`, `/v1/customer…`, `/v1/stat…`, `/v1/segment…`
    Arrigoo,
    /// `/v1/customers…`
    ChartMogul,
    /// `/pub/…`
    PrimeData,
    /// `/api/…`
    FollowAnalytics,
    /// `/cdp/v1/…`
    Cdp,
    /// Any other path: the router's own 404.
    Nobody,
}

impl Owner {
    /// The owner of a request's path.
    pub fn of(request: &Request) -> Self {
        match request.segments().as_slice() {
            ["auth", "api", ..] | ["v1", "customer" | "stat" | "segment", ..] => Self::Arrigoo,
            ["v1", "customers", ..] => Self::ChartMogul,
            ["pub", ..] => Self::PrimeData,
            ["api", ..] => Self::FollowAnalytics,
            ["cdp", "v1", ..] => Self::Cdp,
            _ => Self::Nobody,
        }
    }
}

/// Sends `request` and asserts everything an answer must be; returns the answer.
///
/// # Panics
/// When the answer breaks one of the rules above (or the engine panics).
pub fn send_and_check(harness: &mut Harness, request: &Request) -> Response {
    let before = harness.engine.next_offset();
    let response = harness.api.handle(&mut harness.engine, request);
    let context = format!(
        "{:?} {} query {:?} headers {:?} body {:.200?} -> {} {:.300}",
        request.method,
        request.path,
        request.query,
        request.headers,
        request.body,
        response.status,
        response.body
    );
    assert!(
        (200..300).contains(&response.status) || (400..500).contains(&response.status),
        "a 2xx or a 4xx: {context}"
    );
    assert!(
        response
            .header("content-type")
            .is_some_and(|value| value.starts_with("application/json")),
        "a JSON content type: {context}"
    );
    let body: Json = serde_json::from_str(&response.body)
        .unwrap_or_else(|error| panic!("a JSON body ({error}): {context}"));
    if response.status >= 400 {
        assert_error_shape(Owner::of(request), response.status, &body, &context);
        assert_eq!(
            harness.engine.next_offset(),
            before,
            "a refused request changes nothing: {context}"
        );
    } else {
        assert!(
            body.is_object() || body.is_array(),
            "an object or a list: {context}"
        );
    }
    if matches!(request.method, Method::Get | Method::Head) {
        assert_eq!(
            harness.engine.next_offset(),
            before,
            "a read changes nothing: {context}"
        );
    }
    response
}

fn keys(body: &Json) -> Vec<&str> {
    let mut keys: Vec<&str> = body
        .as_object()
        .map(|object| object.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    keys
}

/// Asserts that an error body has the owning dialect's documented shape.
fn assert_error_shape(owner: Owner, status: u16, body: &Json, context: &str) {
    match owner {
        Owner::Arrigoo => {
            assert_eq!(keys(body), ["error", "message"], "Arrigoo shape: {context}");
            assert!(
                body["error"].is_string() && body["message"].is_string(),
                "{context}"
            );
        }
        Owner::ChartMogul => {
            assert_eq!(
                keys(body),
                ["code", "message", "param"],
                "ChartMogul shape: {context}"
            );
            assert_eq!(body["code"], Json::from(status), "{context}");
            assert!(body["message"].is_string(), "{context}");
            assert!(
                body["param"].is_string() || body["param"].is_null(),
                "{context}"
            );
        }
        Owner::PrimeData | Owner::Nobody => {
            assert_eq!(keys(body), ["error"], "nested error shape: {context}");
            assert_eq!(keys(&body["error"]), ["code", "message"], "{context}");
            assert!(
                body["error"]["code"].is_string() && body["error"]["message"].is_string(),
                "{context}"
            );
            if owner == Owner::Nobody {
                assert_eq!(status, 404, "{context}");
                assert_eq!(body["error"]["code"], "api.route_not_found", "{context}");
            }
        }
        Owner::Cdp => {
            assert_eq!(keys(body), ["error"], "cdp shape: {context}");
            let inner = keys(&body["error"]);
            assert!(
                inner == ["code", "message"] || inner == ["code", "message", "path"],
                "cdp shape: {context}"
            );
            assert!(
                body["error"]["code"].is_string() && body["error"]["message"].is_string(),
                "{context}"
            );
        }
        Owner::FollowAnalytics => {
            assert_eq!(
                keys(body),
                ["error_message", "status", "success"],
                "FollowAnalytics shape: {context}"
            );
            assert_eq!(body["status"], Json::from(status.to_string()), "{context}");
            assert_eq!(body["success"], Json::Bool(false), "{context}");
            assert!(body["error_message"].is_string(), "{context}");
        }
    }
}
