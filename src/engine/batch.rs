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
        let mut outcomes = Vec::with_capacity(commands.len());
        // Every command that changes anything logs at least one change (an event exactly one):
        // room for them at once rather than by doubling through the batch.
        self.unpersisted.reserve(commands.len());
        for (index, command) in commands.into_iter().enumerate() {
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

    /// Whether a refused batch left changes in memory that are not in the log: the engine
    /// must then be rebuilt from storage before it is used again.
    pub fn needs_reload(&self) -> bool {
        self.needs_reload
    }
}
