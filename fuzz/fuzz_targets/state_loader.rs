//! libFuzzer's inputs through `cloudbridge::fuzz::state_file` (its contract is documented there;
//! `cargo test` runs the same function over a fixed-seed mutation of the corpus).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cloudbridge::fuzz::state_file(data));
