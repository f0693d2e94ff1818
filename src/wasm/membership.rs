//! The binding's side of segment subscriptions: turning the collection of entries and exits
//! on and off, and handing over those committed since the last call. Converts and delegates
//! to [`Engine::watch_membership`](crate::engine::Engine::watch_membership) and
//! [`Engine::take_membership_events`](crate::engine::Engine::take_membership_events).

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::{engine_error, promise_now, CdpCore};
use crate::engine::MembershipEvent;

#[wasm_bindgen]
impl CdpCore {
    /// Starts (`true`) or stops collecting segment entries and exits, from this tab's writes
    /// and from changes applied from other tabs.
    #[wasm_bindgen(js_name = watchMembership)]
    pub fn watch_membership(&self, watching: bool) -> Promise {
        let inner = self.inner();
        promise_now(Box::pin(async move {
            inner.open()?;
            inner
                .database
                .write(|engine| engine.watch_membership(watching))
                .await
                .map_err(|error| engine_error(&error))?;
            Ok(JsValue::UNDEFINED)
        }))
    }

    /// Resolves to the entries and exits committed since the last call, as JSON text of an
    /// array of `{"type": "enter" | "exit", "segment", "profile", "at"}`, and keeps
    /// collecting (also after the engine reloaded from storage, which starts a fresh engine).
    #[wasm_bindgen(js_name = takeMembershipEvents)]
    pub fn take_membership_events(&self) -> Promise {
        let inner = self.inner();
        promise_now(Box::pin(async move {
            inner.open()?;
            let events = inner
                .database
                .write(|engine| {
                    let events = engine.take_membership_events();
                    engine.watch_membership(true);
                    events
                })
                .await
                .map_err(|error| engine_error(&error))?;
            let json: Vec<serde_json::Value> =
                events.iter().map(MembershipEvent::to_json).collect();
            Ok(JsValue::from_str(
                &serde_json::Value::Array(json).to_string(),
            ))
        }))
    }
}
