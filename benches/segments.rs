//! Placeholder until the segments benchmark lands.
fn main() {}
