//! Batches: many commands applied as one, all or nothing, and persisted as one write.
//!
//! A batch runs its commands in order, each seeing the ones before it (a record can update
//! the profile an earlier record created). When one is refused, the batch is refused whole
//! with the index of that record; nothing of it is kept. The commands before the refused one
//! have already changed the in-memory state by then, so the engine marks itself as needing a
//! reload ([`Engine::needs_reload`]) and [`Database`](super::Database) rebuilds it from
//! storage, where nothing of the batch was written.

use thiserror::Error;

use super::{Command, Engine, EngineError, Outcome};

/// How many commands of a batch run before the rate of changes the later half of them
/// logged sizes the room for the rest ([`Engine::reserve_for_rest`]).
const RATE_SAMPLE: usize = 64;

/// A refused record of a batch; nothing of the batch was applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("batch record {index}: {error}")]
pub struct BatchError {
    /// The position of the refused record in the batch, from 0.
    pub index: usize,
    /// Why it was refused.
    #[source]
    pub error: EngineError,
}

impl BatchError {
    /// The stable machine code: the refused record's own (e.g. `identity.conflict`).
    pub fn code(&self) -> &'static str {
        self.error.code()
    }
}

/// Why `execute` refused what it was given: the engine's error and, for a batch, the record
/// it is about.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExecuteError {
    /// A single command (or a batch's envelope) was refused.
    #[error(transparent)]
    Command(#[from] EngineError),
    /// One record of a batch was refused, and with it the whole batch.
    #[error(transparent)]
    Batch(#[from] BatchError),
}

impl ExecuteError {
    /// The stable machine code of the underlying error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Command(error) => error.code(),
            Self::Batch(error) => error.code(),
        }
    }

    /// The index of the refused batch record, for a batch.
    pub fn record(&self) -> Option<usize> {
        match self {
            Self::Command(_) => None,
            Self::Batch(error) => Some(error.index),
        }
    }

    /// The engine's error, without the record index.
    pub fn engine_error(&self) -> &EngineError {
        match self {
            Self::Command(error) | Self::Batch(BatchError { error, .. }) => error,
        }
    }
}

/// What `cdp.execute` asks for: one command, or a batch of them.
#[derive(Clone, Debug, PartialEq)]
pub enum Execution {
    /// One command.
    One(Command),
    /// Commands applied in order as one, all or nothing.
    Batch(Vec<Command>),
}

impl Execution {
    /// Runs it; a batch's outcome is `{"results": [...]}`, one outcome per record.
    pub fn run(self, engine: &mut Engine) -> Result<Outcome, ExecuteError> {
        match self {
            Self::One(command) => Ok(engine.execute(command)?),
            Self::Batch(commands) => Ok(Outcome::Batch(engine.execute_batch(commands)?)),
        }
    }
}

impl Engine {
    /// Applies `commands` in order as one batch, committed at one time: every record sees
    /// the records before it, and the batch's changes are persisted together. A refused record refuses the whole
    /// batch with its index. If records before it had changed the state already, the engine
    /// drops their changes from the unpersisted log and reports [`Engine::needs_reload`]:
    /// its owner must rebuild it from storage (a [`Database`](super::Database) does), so
    /// the refused batch leaves no trace.
    pub fn execute_batch(&mut self, commands: Vec<Command>) -> Result<Vec<Outcome>, BatchError> {
        let mark = self.unpersisted.len();
        let first_offset = self.next_offset;
        let at = self.now();
        let count = commands.len();
        let mut outcomes = Vec::with_capacity(count);
        // Every command that changes anything logs at least one change (an event exactly one):
        // room for them at once rather than by doubling through the batch.
        self.unpersisted.reserve(count);
        let mut half_sampled = mark;
        for (index, command) in commands.into_iter().enumerate() {
            if index == RATE_SAMPLE / 2 {
                half_sampled = self.unpersisted.len();
            } else if index == RATE_SAMPLE {
                self.reserve_for_rest(half_sampled, count - index);
            }
            match self.execute_at(command, at) {
                Ok(outcome) => outcomes.push(outcome),
                Err(error) => {
                    if self.next_offset != first_offset {
                        self.unpersisted.truncate(mark);
                        self.next_offset = first_offset;
                        self.needs_reload = true;
                    }
                    return Err(BatchError { index, error });
                }
            }
        }
        Ok(outcomes)
    }

    /// Room in the unpersisted log for the `left` commands of a batch still to run, at the
    /// rate of changes per command logged since `since` (the later half of the sample; an
    /// upsert of a new profile logs one change a value): the log grows once to its size
    /// instead of doubling several times through a large batch, each time copying all it
    /// holds (in the page, 100,000 upserts of six values, 800,000 changes: about 60 ms of
    /// copying). Done once a batch; the later half of the sample, so that a few unusual
    /// first commands do not set the rate, and at most eight times the room there was, so
    /// that a rate that falls later cannot leave far too much reserved. A rate that rises
    /// later is met by the usual doubling.
    fn reserve_for_rest(&mut self, since: usize, left: usize) {
        let rate = self
            .unpersisted
            .len()
            .saturating_sub(since)
            .div_ceil(RATE_SAMPLE / 2);
        let wanted = rate.saturating_mul(left);
        let most = self.unpersisted.capacity().saturating_mul(8);
        self.unpersisted.reserve(wanted.min(most));
    }

    /// Whether a refused batch left changes in memory that are not in the log: the engine
    /// must then be rebuilt from storage before it is used again.
    pub fn needs_reload(&self) -> bool {
        self.needs_reload
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use crate::engine::{Command, Engine, SystemClock};
    use crate::identity::IdentityConfig;

    fn upsert(index: usize, values: usize) -> Command {
        let attributes: Vec<String> = (0..values)
            .map(|key| format!(r#""k{key}":{key}"#))
            .collect();
        let text = format!(
            r#"{{"upsertProfile":{{"identities":{{"email":"p{index}@x.dk"}},"attributes":{{{}}}}}}}"#,
            attributes.join(",")
        );
        Command::from_json(&text, &IdentityConfig::default()).unwrap()
    }

    fn engine() -> Engine {
        Engine::new(IdentityConfig::default(), Rc::new(SystemClock))
    }

    #[test]
    fn a_batch_of_alike_records_makes_room_for_its_changes_once() {
        let mut engine = engine();
        // Seven changes a record: created, identifier, five values.
        let commands: Vec<Command> = (0..10_000).map(|index| upsert(index, 5)).collect();
        engine.execute_batch(commands).unwrap();
        let (len, capacity) = (engine.unpersisted.len(), engine.unpersisted.capacity());
        assert_eq!(len, 70_000);
        // Doubling from room for one change a record would end at 80,000; the estimate
        // made after the first records leaves room for exactly what the rest log.
        assert_eq!(capacity, len);
    }

    #[test]
    fn unusual_first_records_do_not_reserve_far_beyond_the_log() {
        let mut engine = engine();
        // The first 32 records log 102 changes each, the rest 2 each: a rate taken over the
        // first 64 would be 26 times too high; the later 32 give the true one.
        let commands: Vec<Command> = (0..2_000)
            .map(|index| upsert(index, if index < 32 { 100 } else { 0 }))
            .collect();
        engine.execute_batch(commands).unwrap();
        let len = engine.unpersisted.len();
        assert_eq!(len, 32 * 102 + 1_968 * 2);
        let capacity = engine.unpersisted.capacity();
        assert!(capacity < len + len / 8, "{capacity} for {len}");
    }

    #[test]
    fn a_rate_that_falls_after_the_sample_leaves_at_most_eight_times_the_room() {
        let mut engine = engine();
        // 52 changes a record in the sample, 2 after it: the estimate is 26 times too high
        // and is held to eight times the room there was (4,000 by then: room for 2,000 at
        // the start, doubled once within the sample).
        let commands: Vec<Command> = (0..2_000)
            .map(|index| upsert(index, if index < 64 { 50 } else { 0 }))
            .collect();
        engine.execute_batch(commands).unwrap();
        let len = engine.unpersisted.len();
        assert_eq!(len, 64 * 52 + 1_936 * 2);
        // Unbounded, the estimate would reserve room for about 100,000 more.
        let capacity = engine.unpersisted.capacity();
        assert!(capacity <= len + 8 * 4_000, "{capacity} for {len}");
    }
}
