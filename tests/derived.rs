//! Events, computed traits, segments and statistics through the engine: commands in, state,
//! change log and replay out.
#![cfg(not(target_arch = "wasm32"))]

mod derived {
    pub(crate) mod support;

    mod events;
    mod merges;
    mod properties;
    mod replay;
    mod segments;
    mod stats;
    mod traits;
}
