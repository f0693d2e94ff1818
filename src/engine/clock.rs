use std::cell::Cell;
use std::rc::Rc;

use crate::model::Timestamp;

/// Where the engine reads the time. Changes carry the time they were committed, so replay
/// never reads a clock.
pub trait Clock {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The host's clock: the operating system's, or the browser's `Date.now` in wasm.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that moves only when told: for simulations, replays of recorded traffic and
/// tests of expiry. Clones share one time.
#[derive(Clone, Debug, Default)]
pub struct ManualClock(Rc<Cell<Timestamp>>);

impl ManualClock {
    /// A clock standing at `at`.
    pub fn starting_at(at: Timestamp) -> Self {
        Self(Rc::new(Cell::new(at)))
    }

    /// Moves the clock forward by `seconds`.
    pub fn advance_seconds(&self, seconds: i64) {
        self.0.set(self.0.get().plus_seconds(seconds));
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        self.0.get()
    }
}
