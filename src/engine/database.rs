use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::{Clock, Engine, EngineError};
use crate::identity::IdentityConfig;
use crate::schema::SchemaConfig;
use crate::storage::{Storage, StorageError};

/// An [`Engine`] bound to a [`Storage`]: every write is acknowledged only once the changes
/// it made are durable, and a write that cannot be persisted leaves no trace in memory.
///
/// Writes are expected one at a time (the JS package queues them); reads may come between.
pub struct Database<S> {
    engine: RefCell<Engine>,
    storage: S,
    clock: Rc<dyn Clock>,
    broken: Cell<bool>,
}

impl<S: Storage> Database<S> {
    /// Opens a database: loads the stored change log and replays it.
    pub async fn open(
        storage: S,
        identity: IdentityConfig,
        clock: Rc<dyn Clock>,
    ) -> Result<Self, EngineError> {
        Self::open_with_schema(storage, identity, SchemaConfig::default(), clock).await
    }

    /// [`Database::open`] with the sources and attributes the configuration declares.
    pub async fn open_with_schema(
        storage: S,
        identity: IdentityConfig,
        schema: SchemaConfig,
        clock: Rc<dyn Clock>,
    ) -> Result<Self, EngineError> {
        let changes = storage.load().await?;
        let engine = Engine::replay_with_schema(identity, schema, Rc::clone(&clock), changes)?;
        Ok(Self {
            engine: RefCell::new(engine),
            storage,
            clock,
            broken: Cell::new(false),
        })
    }

    /// The storage backend.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Reads the current state.
    pub fn read<T>(&self, read: impl FnOnce(&Engine) -> T) -> Result<T, EngineError> {
        self.usable()?;
        Ok(read(&self.engine.borrow()))
    }

    /// Runs `write` against the engine, then persists every change it committed. Resolves
    /// with `write`'s result once those changes are durable. If persisting fails, the engine
    /// is rebuilt from storage, so the failed write leaves no trace, and the error is returned.
    pub async fn write<T>(&self, write: impl FnOnce(&mut Engine) -> T) -> Result<T, EngineError> {
        self.usable()?;
        let (result, changes) = {
            let mut engine = self.engine.borrow_mut();
            let result = write(&mut engine);
            (result, engine.take_unpersisted())
        };
        if changes.is_empty() {
            return Ok(result);
        }
        match self.storage.append(&changes).await {
            Ok(()) => Ok(result),
            Err(error) => {
                self.reload().await;
                Err(error.into())
            }
        }
    }

    /// Replaces the in-memory state with what storage holds; if even that fails, the database
    /// refuses further use rather than serve state that was never persisted.
    async fn reload(&self) {
        let (identity, schema) = {
            let engine = self.engine.borrow();
            (
                engine.identity_config().clone(),
                engine.schema_config().clone(),
            )
        };
        let rebuilt = match self.storage.load().await {
            Ok(changes) => {
                Engine::replay_with_schema(identity, schema, Rc::clone(&self.clock), changes)
            }
            Err(error) => Err(error.into()),
        };
        match rebuilt {
            Ok(engine) => *self.engine.borrow_mut() = engine,
            Err(_) => self.broken.set(true),
        }
    }

    fn usable(&self) -> Result<(), EngineError> {
        if self.broken.get() {
            Err(StorageError::Closed.into())
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::future::{ready, Future};
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::*;
    use crate::engine::{Change, Command, SystemClock};
    use crate::storage::MemoryStorage;

    fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(output) => output,
            Poll::Pending => unreachable!("in-memory storage never waits"),
        }
    }

    /// Memory storage whose appends fail while `failing` is set.
    #[derive(Default)]
    struct FlakyStorage {
        inner: MemoryStorage,
        failing: Cell<bool>,
    }

    impl Storage for FlakyStorage {
        fn load(&self) -> impl Future<Output = Result<Vec<Change>, StorageError>> {
            self.inner.load()
        }

        async fn append(&self, changes: &[Change]) -> Result<(), StorageError> {
            if self.failing.get() {
                return ready(Err(StorageError::QuotaExceeded)).await;
            }
            self.inner.append(changes).await
        }
    }

    fn upsert(email: &str) -> Command {
        let text = format!(
            r#"{{"upsertProfile":{{"identities":{{"email":"{email}"}},"attributes":{{"name":"N"}}}}}}"#
        );
        Command::from_json(&text, &IdentityConfig::default()).unwrap()
    }

    #[test]
    fn write_that_cannot_be_persisted_leaves_no_trace_in_memory() {
        let database = block_on(Database::open(
            FlakyStorage::default(),
            IdentityConfig::default(),
            Rc::new(SystemClock),
        ))
        .unwrap();
        block_on(database.write(|engine| engine.execute(upsert("kept@example.com"))))
            .unwrap()
            .unwrap();
        database.storage.failing.set(true);
        let error = block_on(database.write(|engine| engine.execute(upsert("lost@example.com"))))
            .unwrap_err();
        assert_eq!(error.code(), "storage.quota_exceeded");
        assert_eq!(database.read(Engine::profile_count).unwrap(), 1);
        assert_eq!(database.read(Engine::next_offset).unwrap(), 3);
    }

    #[test]
    fn reopening_replays_every_acknowledged_write() {
        let storage = MemoryStorage::new();
        let database = block_on(Database::open(
            storage,
            IdentityConfig::default(),
            Rc::new(SystemClock),
        ))
        .unwrap();
        for email in ["a@example.com", "b@example.com"] {
            block_on(database.write(|engine| engine.execute(upsert(email))))
                .unwrap()
                .unwrap();
        }
        let before: Vec<_> = database
            .read(|engine| engine.profiles().cloned().collect())
            .unwrap();
        let Database { storage, .. } = database;
        let reopened = block_on(Database::open(
            storage,
            IdentityConfig::default(),
            Rc::new(SystemClock),
        ))
        .unwrap();
        let after: Vec<_> = reopened
            .read(|engine| engine.profiles().cloned().collect())
            .unwrap();
        assert_eq!(after, before);
    }
}
