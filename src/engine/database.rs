use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::{Change, Clock, Engine, EngineError, SnapshotChunk, SnapshotLoader};
use crate::identity::IdentityConfig;
use crate::schema::SchemaConfig;
use crate::storage::codec::{decode_frame, encode_frame, CHUNK_MAGIC};
use crate::storage::{SnapshotManifest, Storage, StorageError};

/// How often [`Database::write_fresh`] runs a write that lost a race to another writer.
pub const WRITE_ATTEMPTS: u32 = 3;

/// How a [`Database`] keeps its storage compact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DatabaseOptions {
    /// A snapshot is written once the log holds this many changes past the newest snapshot
    /// *and* at least as many as there are profiles, so snapshot work stays proportional to
    /// the writes (amortized) and reopening replays a short tail.
    pub snapshot_min_changes: u64,
    /// Whether a write that makes a snapshot due writes it before it resolves. The JS
    /// package turns this off and writes due snapshots as a separate queued step
    /// ([`Database::snapshot_due`]), so a write is acknowledged as soon as its changes are
    /// durable in the log.
    pub snapshot_after_write: bool,
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        Self {
            snapshot_min_changes: 10_000,
            snapshot_after_write: true,
        }
    }
}

/// What opening found and what it had to skip.
struct Loaded {
    engine: Engine,
    snapshot: Option<u64>,
    skipped: Vec<EngineError>,
}

/// An [`Engine`] bound to a [`Storage`]: every write is acknowledged only once the changes
/// it made are durable, and a write that cannot be persisted leaves no trace in memory.
///
/// Opening loads the newest snapshot that decodes and replays the log after it; a corrupt
/// snapshot is skipped for the one before it (plus its longer log), and opening fails with
/// `storage.corrupt` rather than start empty when nothing usable is left.
///
/// Writes are expected one at a time (the JS package queues them and, across tabs, holds a
/// Web Lock); reads may come between.
pub struct Database<S> {
    engine: RefCell<Engine>,
    storage: S,
    clock: Rc<dyn Clock>,
    options: DatabaseOptions,
    snapshot: Cell<Option<u64>>,
    /// Whether a snapshot is being committed: writes go on meanwhile, and no second one starts.
    snapshotting: Cell<bool>,
    skipped: RefCell<Vec<EngineError>>,
    broken: Cell<bool>,
}

impl<S: Storage> Database<S> {
    /// Opens a database with the default options: loads the newest usable snapshot and
    /// replays the log after it.
    pub async fn open(
        storage: S,
        identity: IdentityConfig,
        clock: Rc<dyn Clock>,
    ) -> Result<Self, EngineError> {
        Self::open_configured(
            storage,
            identity,
            SchemaConfig::default(),
            clock,
            DatabaseOptions::default(),
        )
        .await
    }

    /// [`Database::open`] with the sources and attributes the configuration declares.
    pub async fn open_with_schema(
        storage: S,
        identity: IdentityConfig,
        schema: SchemaConfig,
        clock: Rc<dyn Clock>,
    ) -> Result<Self, EngineError> {
        Self::open_configured(storage, identity, schema, clock, DatabaseOptions::default()).await
    }

    /// Opens a database with explicit options and no declared schema.
    pub async fn open_with(
        storage: S,
        identity: IdentityConfig,
        clock: Rc<dyn Clock>,
        options: DatabaseOptions,
    ) -> Result<Self, EngineError> {
        Self::open_configured(storage, identity, SchemaConfig::default(), clock, options).await
    }

    /// Opens a database with a declared schema and explicit options.
    pub async fn open_configured(
        storage: S,
        identity: IdentityConfig,
        schema: SchemaConfig,
        clock: Rc<dyn Clock>,
        options: DatabaseOptions,
    ) -> Result<Self, EngineError> {
        let loaded = load(&storage, &identity, &schema, &clock).await?;
        Ok(Self {
            engine: RefCell::new(loaded.engine),
            storage,
            clock,
            options,
            snapshot: Cell::new(loaded.snapshot),
            snapshotting: Cell::new(false),
            skipped: RefCell::new(loaded.skipped),
            broken: Cell::new(false),
        })
    }

    /// The storage backend.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// The snapshots the last load had to skip, each with why (e.g. a chunk failing its
    /// checksum), newest first; empty when the newest snapshot loaded.
    pub fn skipped_snapshots(&self) -> Vec<EngineError> {
        self.skipped.borrow().clone()
    }

    /// The offset of the newest snapshot this database wrote or loaded.
    pub fn snapshot_offset(&self) -> Option<u64> {
        self.snapshot.get()
    }

    /// Reads the current state.
    pub fn read<T>(&self, read: impl FnOnce(&Engine) -> T) -> Result<T, EngineError> {
        self.usable()?;
        Ok(read(&self.engine.borrow()))
    }

    /// Runs `write` against the engine, then persists every change it committed. Resolves
    /// with `write`'s result once those changes are durable. If persisting fails, the engine
    /// is rebuilt from storage, so the failed write leaves no trace, and the error is returned.
    /// If `write` ran a batch that was refused after changing memory
    /// ([`Engine::needs_reload`]), nothing of the write is persisted and the engine is
    /// rebuilt from storage the same way; `write`'s result (the batch's error) is returned.
    pub async fn write<T>(&self, write: impl FnOnce(&mut Engine) -> T) -> Result<T, EngineError> {
        self.write_with_changes(write)
            .await
            .map(|(result, _)| result)
    }

    /// Like [`Database::write_with_changes`], but when another writer (another tab) stored
    /// the same offsets first, the database has reloaded with that writer's changes and
    /// `write` runs again on the fresh state, up to [`WRITE_ATTEMPTS`] times. Storage refuses
    /// a second record at an offset, so a write that succeeds was planned on the latest state:
    /// no catch-up read is needed before writing.
    pub async fn write_fresh<T>(
        &self,
        mut write: impl FnMut(&mut Engine) -> T,
    ) -> Result<(T, Vec<Change>), EngineError> {
        let mut attempt = 1;
        loop {
            let outcome = self.write_with_changes(&mut write).await;
            let lost_race = matches!(outcome, Err(EngineError::Storage(StorageError::Conflict)));
            if !lost_race || attempt >= WRITE_ATTEMPTS {
                return outcome;
            }
            attempt += 1;
        }
    }

    /// [`Database::write`], also handing back the changes it made durable (for other tabs).
    pub async fn write_with_changes<T>(
        &self,
        write: impl FnOnce(&mut Engine) -> T,
    ) -> Result<(T, Vec<Change>), EngineError> {
        self.usable()?;
        let (result, changes, needs_reload) = {
            let mut engine = self.engine.borrow_mut();
            let result = write(&mut engine);
            (result, engine.take_unpersisted(), engine.needs_reload())
        };
        if needs_reload {
            // A refused batch changed memory before it was refused: nothing of this write is
            // persisted, and the state goes back to what storage holds.
            self.reload().await;
            return Ok((result, Vec::new()));
        }
        if changes.is_empty() {
            return Ok((result, changes));
        }
        if let Err(error) = self.storage.append(&changes).await {
            self.reload().await;
            return Err(error.into());
        }
        if self.options.snapshot_after_write && self.snapshot_due() {
            // The write is durable already; a snapshot that fails (say, for quota) is retried
            // after the next write and costs only a longer replay meanwhile.
            let _ = self.write_snapshot().await;
        }
        Ok((result, changes))
    }

    /// Writes a snapshot of the current state now (if any change came since the last one)
    /// and compacts the log by the retention rule of [`crate::storage`]. The state is read
    /// and handed to storage before the first await, so writes may go on while the snapshot
    /// commits; while one is in flight, this returns at once and [`Database::snapshot_due`]
    /// is false.
    pub async fn write_snapshot(&self) -> Result<(), EngineError> {
        self.usable()?;
        if self.snapshotting.get() {
            return Ok(());
        }
        let _in_flight = InFlight::start(&self.snapshotting);
        let previous = self.snapshot.get();
        let (offset, writer) = {
            let engine = self.engine.borrow();
            let offset = engine.next_offset();
            if previous == Some(offset) {
                return Ok(());
            }
            // Each chunk is framed and handed over as it is made, so the snapshot is never
            // held whole here (wasm memory, once grown for it, would stay grown).
            let mut writer = self.storage.begin_snapshot(offset, previous.unwrap_or(0))?;
            engine.for_each_snapshot_chunk(|chunk| {
                let frame = encode_frame(CHUNK_MAGIC, &chunk)?;
                Ok(self.storage.put_chunk(&mut writer, frame)?)
            })?;
            (offset, writer)
        };
        self.storage.commit_snapshot(writer).await?;
        self.snapshot.set(Some(offset));
        Ok(())
    }

    /// Applies every change stored past this engine's offset (written by another tab or
    /// process); resolves to how many were applied. When compaction dropped the changes this
    /// engine lacks, it reloads from the newest snapshot instead.
    pub async fn catch_up(&self) -> Result<u64, EngineError> {
        self.usable()?;
        let from = self.engine.borrow().next_offset();
        match self.storage.read_log(from).await {
            Ok(changes) => {
                if changes.is_empty() {
                    return Ok(0);
                }
                let applied = self.engine.borrow_mut().apply_committed(changes);
                if let Err(error) = applied {
                    self.reload().await;
                    return Err(error);
                }
            }
            Err(StorageError::Expired { .. }) => {
                self.reload_or_fail().await?;
            }
            Err(error) => return Err(error.into()),
        }
        Ok(self.engine.borrow().next_offset().saturating_sub(from))
    }

    /// Applies changes another tab committed and announced. Changes this engine has already
    /// are skipped; a gap (a missed announcement) is filled from storage.
    pub async fn apply_remote(&self, changes: Vec<Change>) -> Result<(), EngineError> {
        self.usable()?;
        let next = self.engine.borrow().next_offset();
        let fresh: Vec<Change> = changes
            .into_iter()
            .filter(|change| change.offset >= next)
            .collect();
        match fresh.first() {
            None => Ok(()),
            Some(first) if first.offset == next => {
                let applied = self.engine.borrow_mut().apply_committed(fresh);
                if let Err(error) = applied {
                    self.reload().await;
                    return Err(error);
                }
                Ok(())
            }
            Some(_) => self.catch_up().await.map(drop),
        }
    }

    /// The stored changes from `from` on, at most `limit`: the update stream. Fails with
    /// `storage.offset_expired` when compaction dropped them.
    pub async fn changes_since(&self, from: u64, limit: usize) -> Result<Vec<Change>, EngineError> {
        self.usable()?;
        let mut changes = self.storage.read_log(from).await?;
        changes.truncate(limit);
        Ok(changes)
    }

    /// Whether the log has grown enough past the newest snapshot for a new one
    /// ([`DatabaseOptions::snapshot_min_changes`]).
    pub fn snapshot_due(&self) -> bool {
        if self.snapshotting.get() {
            return false;
        }
        let engine = self.engine.borrow();
        let since = engine
            .next_offset()
            .saturating_sub(self.snapshot.get().unwrap_or(0));
        since
            >= self
                .options
                .snapshot_min_changes
                .max(engine.profile_count() as u64)
    }

    /// Replaces the in-memory state with what storage holds; if even that fails, the database
    /// refuses further use rather than serve state that was never persisted.
    async fn reload(&self) {
        let _ = self.reload_or_fail().await;
    }

    async fn reload_or_fail(&self) -> Result<(), EngineError> {
        let (identity, schema) = {
            let engine = self.engine.borrow();
            (
                engine.identity_config().clone(),
                engine.schema_config().clone(),
            )
        };
        match load(&self.storage, &identity, &schema, &self.clock).await {
            Ok(loaded) => {
                *self.engine.borrow_mut() = loaded.engine;
                self.snapshot.set(loaded.snapshot);
                *self.skipped.borrow_mut() = loaded.skipped;
                Ok(())
            }
            Err(error) => {
                self.broken.set(true);
                Err(error)
            }
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

/// Loads the newest snapshot that decodes plus the log after it, falling back to older
/// snapshots and finally to the whole log; fails rather than lose acknowledged changes.
async fn load<S: Storage>(
    storage: &S,
    identity: &IdentityConfig,
    schema: &SchemaConfig,
    clock: &Rc<dyn Clock>,
) -> Result<Loaded, EngineError> {
    if storage.take_created() {
        return Ok(Loaded {
            engine: Engine::with_schema(identity.clone(), schema.clone(), Rc::clone(clock))?,
            snapshot: None,
            skipped: Vec::new(),
        });
    }
    let manifests = storage.snapshots().await?;
    let mut skipped = Vec::new();
    for manifest in &manifests {
        match load_snapshot(storage, manifest, identity, schema, clock).await {
            Ok(mut engine) => {
                let tail = match storage.read_log(manifest.offset).await {
                    Ok(tail) => tail,
                    // An old snapshot whose log was compacted away cannot be brought up to date.
                    Err(error @ StorageError::Expired { .. }) => {
                        skipped.push(error.into());
                        continue;
                    }
                    Err(error) => return Err(error.into()),
                };
                engine.apply_committed(tail)?;
                return Ok(Loaded {
                    engine,
                    snapshot: Some(manifest.offset),
                    skipped,
                });
            }
            Err(
                error @ (EngineError::CorruptSnapshot(_)
                | EngineError::Storage(StorageError::Corrupt(_))),
            ) => skipped.push(error),
            Err(error) => return Err(error),
        }
    }
    let log = storage.read_log(0).await.map_err(|error| match error {
        StorageError::Expired { oldest, .. } => StorageError::Corrupt(format!(
            "no stored snapshot is readable and the log before offset {oldest} was compacted"
        )),
        other => other,
    })?;
    let engine =
        Engine::replay_with_schema(identity.clone(), schema.clone(), Rc::clone(clock), log)?;
    if let Some(newest) = manifests.first() {
        if engine.next_offset() < newest.offset {
            return Err(StorageError::Corrupt(format!(
                "no stored snapshot is readable and the log ends at offset {}",
                engine.next_offset()
            ))
            .into());
        }
    }
    Ok(Loaded {
        engine,
        snapshot: None,
        skipped,
    })
}

async fn load_snapshot<S: Storage>(
    storage: &S,
    manifest: &SnapshotManifest,
    identity: &IdentityConfig,
    schema: &SchemaConfig,
    clock: &Rc<dyn Clock>,
) -> Result<Engine, EngineError> {
    let mut loader: Option<SnapshotLoader> = None;
    let mut read = 0_usize;
    storage
        .read_snapshot_each(manifest, |bytes| -> Result<(), EngineError> {
            read += 1;
            let chunk = decode_frame::<SnapshotChunk<'static>>(CHUNK_MAGIC, &bytes)?;
            match &mut loader {
                Some(loader) => loader.add(chunk),
                None => {
                    let started = SnapshotLoader::start(
                        identity.clone(),
                        schema.clone(),
                        Rc::clone(clock),
                        chunk,
                    )?;
                    loader = Some(started);
                    Ok(())
                }
            }
        })
        .await?;
    let loaded = loader.filter(|_| read == manifest.chunks as usize);
    let Some(loader) = loaded else {
        return Err(EngineError::CorruptSnapshot(format!(
            "snapshot {} has {read} of its {} chunks",
            manifest.offset, manifest.chunks
        )));
    };
    let engine = loader.finish()?;
    if engine.next_offset() != manifest.offset {
        return Err(EngineError::CorruptSnapshot(format!(
            "snapshot {} holds state up to offset {}",
            manifest.offset,
            engine.next_offset()
        )));
    }
    Ok(engine)
}

#[cfg(test)]
#[path = "database_tests.rs"]
mod tests;

/// Marks a snapshot in flight until dropped: committed, failed or abandoned.
struct InFlight<'a>(&'a Cell<bool>);

impl<'a> InFlight<'a> {
    fn start(flag: &'a Cell<bool>) -> Self {
        flag.set(true);
        Self(flag)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}
