//! Promises whose work starts inside the call that makes them.
//!
//! `wasm_bindgen_futures::future_to_promise` polls a future first in a microtask of its own.
//! A trap there (an allocation the memory cannot grow for) is thrown out of that job, not to
//! any caller: the promise never settles, and the facade, which forgets an instance that
//! trapped (`isTrap` in `js/cdp-error.js`), never learns of it. [`promise_now`] polls the
//! future once in the call instead, so the work before its first wait (running a request or a
//! command, reading, encoding) traps, if it does, out of the call itself, where the facade
//! catches it. What is left after that first wait is storage's own work.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use js_sys::Promise;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::future_to_promise;

/// A future the binding turns into a promise.
pub(super) type Work = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

/// A promise of `future`'s result, its first poll made now. One function for every call
/// (boxed futures), so the binding's size does not grow per call.
pub(super) fn promise_now(mut future: Work) -> Promise {
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(Ok(value)) => Promise::resolve(&value),
        Poll::Ready(Err(error)) => Promise::reject(&error),
        // Polled again by the executor, with its own waker: a future registers the waker of
        // its latest poll, so the one of this poll is never the one that wakes it.
        Poll::Pending => future_to_promise(future),
    }
}
