//! What the native integration tests share: an engine on a manual clock behind an `Api`,
//! requests in one line, and seeding through engine commands.
#![allow(dead_code, unreachable_pub)]

pub mod checks;
pub mod followanalytics;

use std::rc::Rc;

use cdp_engine::api::{Method, Request, Response};
use cdp_engine::engine::{Command, ManualClock, Outcome};
use cdp_engine::model::{ProfileId, Timestamp};
use cdp_engine::{Api, Config, Engine};
use serde_json::Value as Json;

/// Runs a future that never waits (in-memory storage answers at once) to its output.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => unreachable!("in-memory storage never waits"),
    }
}

/// A configuration with credentials for all four dialects and for `/cdp/v1`.
pub const CONFIG: &str = r#"{
    "arrigoo": {"apiKeys": [
        {"key": "admin", "secret": "s-admin", "role": "admin"},
        {"key": "viewer", "secret": "s-viewer", "role": "viewer"}]},
    "chartmogul": {"accounts": [{"token": "t1", "secret": "s1"}], "apiKeys": ["cm-key"]},
    "primedata": {"apiKeys": ["pk1"], "identityTypes": ["email", "phone_number", "crm_user_id"]},
    "followanalytics": {"apiKeys": ["fk1"], "sources": [{"identifier": "SOR_XXXX", "apiKeys": ["XXXXXXXX"]}]},
    "cdp": {"apiKeys": ["cdp-key"]}
}"#;

/// An engine, its API and the clock both read.
pub struct Harness {
    pub engine: Engine,
    pub api: Api,
    pub clock: ManualClock,
}

impl Harness {
    /// A harness configured with [`CONFIG`].
    pub fn new() -> Self {
        Self::with_config(CONFIG)
    }

    /// A harness configured with `config`, its clock at 2025-03-21T10:00:00Z.
    pub fn with_config(config: &str) -> Self {
        let config = Config::from_json(config).unwrap();
        let clock = ManualClock::starting_at(Timestamp::parse("2025-03-21T10:00:00Z").unwrap());
        let engine = Engine::new(config.identity.clone(), Rc::new(clock.clone()));
        let api = Api::new(&config);
        Self { engine, api, clock }
    }

    /// Sends a request with headers and a body.
    pub fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Response {
        let mut request = Request::new(Method::parse(method), target).with_body(body);
        for (name, value) in headers {
            request = request.with_header(name, value);
        }
        self.api.handle(&mut self.engine, &request)
    }

    /// Logs in to Arrigoo and returns an access token.
    pub fn arrigoo_token(&mut self, key: &str, secret: &str) -> String {
        let body = format!(r#"{{"key": "{key}", "secret": "{secret}"}}"#);
        let response = self.send("POST", "/auth/api", &[], &body);
        assert_eq!(response.status, 200, "{}", response.body);
        response.body_json()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A request to Arrigoo as the admin key.
    pub fn arrigoo(&mut self, method: &str, target: &str, body: &str) -> Response {
        let token = self.arrigoo_token("admin", "s-admin");
        let bearer = format!("Bearer {token}");
        self.send(method, target, &[("authorization", &bearer)], body)
    }

    /// A request to ChartMogul as account `t1:s1`.
    pub fn chartmogul(&mut self, method: &str, target: &str, body: &str) -> Response {
        let auth = basic("t1", "s1");
        self.send(method, target, &[("authorization", &auth)], body)
    }

    /// A request to PrimeData with key `pk1`.
    pub fn primedata(&mut self, method: &str, target: &str, body: &str) -> Response {
        self.send(method, target, &[("x-api-key", "pk1")], body)
    }

    /// A request to FollowAnalytics with account key `fk1`.
    pub fn followanalytics(&mut self, method: &str, target: &str, body: &str) -> Response {
        self.send(
            method,
            target,
            &[("authorization", "Token token=fk1")],
            body,
        )
    }

    /// Runs one command in the engine's own JSON form, which must succeed.
    pub fn execute(&mut self, command: Json) -> Outcome {
        let command =
            Command::from_json(&command.to_string(), self.engine.identity_config()).unwrap();
        self.engine.execute(command).unwrap()
    }

    /// Creates or updates a profile through the engine's own command form.
    pub fn seed(&mut self, identities: Json, attributes: Json) -> ProfileId {
        let command = serde_json::json!({"upsertProfile": {"identities": identities, "attributes": attributes}});
        let command =
            Command::from_json(&command.to_string(), self.engine.identity_config()).unwrap();
        match self.engine.execute(command).unwrap() {
            Outcome::Profile { id, .. } => id,
            other => panic!("unexpected outcome {other:?}"),
        }
    }
}

/// An HTTP Basic `Authorization` value.
pub fn basic(user: &str, password: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = format!("{user}:{password}").into_bytes();
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let group = chunk.iter().enumerate().fold(0u32, |group, (at, byte)| {
            group | u32::from(*byte) << (16 - 8 * at)
        });
        for position in 0..4 {
            if position <= chunk.len() {
                text.push(char::from(
                    ALPHABET[((group >> (18 - 6 * position)) & 0x3f) as usize],
                ));
            } else {
                text.push('=');
            }
        }
    }
    format!("Basic {text}")
}
