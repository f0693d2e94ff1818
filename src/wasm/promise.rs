//! Promises whose every step runs where a trap can be caught.
//!
//! `wasm_bindgen_futures::future_to_promise` polls a future in microtasks of its own. A trap
//! there (an allocation the memory cannot grow for) is thrown out of that job, not to any
//! caller: the promise never settles, and the facade, which forgets an instance that trapped
//! (`isTrap` in `js/cdp-error.js`), never learns of it. [`promise_now`] makes the first poll
//! inside the call itself, and every later one in a `then` callback of the promise its waker
//! resolves: an exception thrown in a `then` callback rejects the promise `then` returned,
//! so a trap in any poll rejects the promise the caller holds.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

/// A future the binding turns into a promise.
pub(super) type Work = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

#[wasm_bindgen]
extern "C" {
    /// A promise seen through its `then` alone.
    type Thenable;

    /// `promise.then(callback)`, whose callback's answer (a value, or a promise to adopt)
    /// resolves the promise it returns, and whose exception rejects it.
    #[wasm_bindgen(method, js_name = then)]
    fn then(this: &Thenable, callback: &JsValue) -> Promise;
}

/// The last task number given, and the resolver of each pending task's wake promise: one for
/// each call waiting now, a few (each engine runs its calls one at a time), so a list.
#[derive(Default)]
struct Wakers {
    last: u32,
    pending: Vec<(u32, Function)>,
}

impl Wakers {
    fn take(&mut self, id: u32) -> Option<Function> {
        let at = self.pending.iter().position(|(task, _)| *task == id)?;
        Some(self.pending.swap_remove(at).1)
    }
}

thread_local! {
    static WAKERS: RefCell<Wakers> = RefCell::new(Wakers::default());
}

/// Wakes a task by resolving its current wake promise. A waker of an earlier poll may resolve
/// a later one's promise: that is one poll more, which futures allow.
struct Task(u32);

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let resolve = WAKERS.with(|wakers| wakers.borrow_mut().take(self.0));
        if let Some(resolve) = resolve {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    }
}

/// Polls `future` once with the waker of task `id`: its result, or the promise its waker
/// resolves.
fn step(future: &mut Work, id: u32) -> Result<Result<JsValue, JsValue>, Promise> {
    let wake = Promise::new(&mut |resolve, _reject| {
        WAKERS.with(|wakers| {
            let mut wakers = wakers.borrow_mut();
            wakers.take(id);
            wakers.pending.push((id, resolve));
        });
    });
    let waker = Waker::from(Arc::new(Task(id)));
    match future.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Pending => Err(wake),
        Poll::Ready(result) => {
            WAKERS.with(|wakers| wakers.borrow_mut().take(id));
            Ok(result)
        }
    }
}

/// Polls `future` again once `wake` resolves, and so on until it is done: the promise of
/// its result.
fn drive(wake: &Promise, mut future: Work, id: u32) -> Promise {
    let next = Closure::once_into_js(move |_: JsValue| -> JsValue {
        match step(&mut future, id) {
            Ok(Ok(value)) => value,
            Ok(Err(error)) => Promise::reject(&error).into(),
            Err(wake) => drive(&wake, future, id).into(),
        }
    });
    wake.unchecked_ref::<Thenable>().then(&next)
}

/// A promise of `future`'s result, its first poll made now and every later one in a `then`
/// callback. One function for every call (boxed futures), so the binding's size does not grow
/// per call.
pub(super) fn promise_now(mut future: Work) -> Promise {
    // Most calls finish in their first poll (reads, writes to memory): that poll takes no
    // task number and makes no wake promise. One still pending is polled again at once by
    // `drive`, which then waits on a waker of its own: a poll more, which futures allow.
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(Ok(value)) => Promise::resolve(&value),
        Poll::Ready(Err(error)) => Promise::reject(&error),
        Poll::Pending => {
            let id = WAKERS.with(|wakers| {
                let mut wakers = wakers.borrow_mut();
                wakers.last = wakers.last.wrapping_add(1);
                wakers.last
            });
            drive(&Promise::resolve(&JsValue::UNDEFINED), future, id)
        }
    }
}
