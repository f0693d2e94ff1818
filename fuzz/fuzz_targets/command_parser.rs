//! Feeds arbitrary bytes to the command parser and executes whatever parses, on an engine
//! under the merge policy. Neither may panic; a rejected command must leave the change log
//! as it was. Crashes found here become fixtures in `tests/fixtures/`.
#![no_main]

use std::rc::Rc;

use cdp_engine::engine::{Command, Engine, ManualClock};
use cdp_engine::identity::{ConflictPolicy, IdentityConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let identity = IdentityConfig {
        policy: ConflictPolicy::Merge,
        ..IdentityConfig::default()
    };
    let mut engine = Engine::new(identity, Rc::new(ManualClock::default()));
    for line in text.lines() {
        if let Ok(command) = Command::from_json(line, engine.identity_config()) {
            let before = engine.next_offset();
            if engine.execute(command).is_err() {
                assert_eq!(engine.next_offset(), before);
            }
        }
    }
});
