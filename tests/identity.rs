//! Identity resolution, typed attributes, sources of record and the change log, across the
//! engine's modules. One test binary; topics in `tests/identity/`.

#[path = "identity/support.rs"]
mod support;

#[path = "identity/resolution.rs"]
mod resolution;

#[path = "identity/merging.rs"]
mod merging;

#[path = "identity/typing.rs"]
mod typing;

#[path = "identity/sources.rs"]
mod sources;

#[path = "identity/atomicity.rs"]
mod atomicity;

#[path = "identity/snapshots.rs"]
mod snapshots;
