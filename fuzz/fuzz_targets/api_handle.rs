//! Structured requests of every method, path, query, header and body shape against
//! `Api::handle` for all four dialects, with the checks `tests/robustness.rs` makes: never a
//! panic, always a 2xx or a 4xx with a JSON body in the owning dialect's shape, and nothing
//! changed by a refused request or a read. Every crash becomes a fixed case in
//! `tests/robustness.rs` (reduce it with `cargo fuzz tmin`, print it with `cargo fuzz fmt`).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::Value as Json;

#[path = "../../tests/support/mod.rs"]
mod support;

use support::checks::{send_and_check, Auth, CustomerId, HostileRequest, Seeded, ROUTE_TEMPLATES};

/// Keys and values the dialects know, so the fuzzer reaches past "unknown field".
const KNOWN: &[&str] = &[
    "ident",
    "id_type",
    "id_value",
    "properties",
    "key",
    "secret",
    "refresh_token",
    "tags",
    "email",
    "custom",
    "identities",
    "profile_id",
    "type",
    "include",
    "sor",
    "api_key",
    "customer_attribute_values",
    "customer_id",
    "attribute_key",
    "attribute_value",
    "customer_id_type",
    "action_type",
    "a@b.c",
    "u1",
    "SOR_XXXX",
    "XXXXXXXX",
    "fk1",
    "global",
    "trait",
    "identity",
    "p_trait",
    "user_id",
    "device_id",
    "phone_number",
];

fn known(index: u8) -> &'static str {
    KNOWN[usize::from(index) % KNOWN.len()]
}

#[derive(Arbitrary, Debug)]
enum Value {
    Null,
    Bool(bool),
    Integer(i64),
    Float(f64),
    Text(String),
    Known(u8),
    Array(Vec<Value>),
    Object(Vec<(Key, Value)>),
}

#[derive(Arbitrary, Debug)]
enum Key {
    Known(u8),
    Text(String),
}

impl Value {
    fn to_json(&self) -> Json {
        match self {
            Self::Null => Json::Null,
            Self::Bool(value) => Json::Bool(*value),
            Self::Integer(value) => Json::from(*value),
            Self::Float(value) => Json::from(*value),
            Self::Text(text) => Json::from(text.as_str()),
            Self::Known(index) => Json::from(known(*index)),
            Self::Array(items) => Json::Array(items.iter().map(Self::to_json).collect()),
            Self::Object(pairs) => Json::Object(
                pairs
                    .iter()
                    .map(|(key, value)| {
                        let key = match key {
                            Key::Known(index) => known(*index).to_owned(),
                            Key::Text(text) => text.clone(),
                        };
                        (key, value.to_json())
                    })
                    .collect(),
            ),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Body {
    Json(Value),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Id {
    Uuid,
    ChartMogulUuid,
    ChartMogulNumber,
    UserId,
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum Credentials {
    Valid,
    All,
    Missing,
    Text(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    route: u8,
    method: Option<String>,
    id: Id,
    text: String,
    suffix: String,
    query: Vec<(String, String)>,
    credentials: Credentials,
    headers: Vec<(String, String)>,
    body: Body,
}

impl Input {
    fn hostile(self) -> HostileRequest {
        let (method, template) = ROUTE_TEMPLATES[usize::from(self.route) % ROUTE_TEMPLATES.len()];
        HostileRequest {
            method: self.method.unwrap_or_else(|| method.to_owned()),
            template,
            id: match self.id {
                Id::Uuid => CustomerId::Uuid,
                Id::ChartMogulUuid => CustomerId::ChartMogulUuid,
                Id::ChartMogulNumber => CustomerId::ChartMogulNumber,
                Id::UserId => CustomerId::UserId,
                Id::Text(text) => CustomerId::Text(text),
            },
            text: self.text,
            suffix: self.suffix,
            query: self.query,
            auth: match self.credentials {
                Credentials::Valid => Auth::Valid,
                Credentials::All => Auth::All,
                Credentials::Missing => Auth::Missing,
                Credentials::Text(text) => Auth::Text(text),
            },
            headers: self.headers,
            body: match self.body {
                Body::Json(value) => value.to_json().to_string(),
                Body::Raw(text) => text,
            },
        }
    }
}

fuzz_target!(|input: Input| {
    let (mut harness, seeded) = Seeded::harness();
    let request = input.hostile().build(&mut harness, &seeded);
    send_and_check(&mut harness, &request);
});
