//! libFuzzer's inputs through `cloudbridge::fuzz::state_surgery` (its contract is documented
//! there; `cargo test` runs the same function over a fixed-seed mutation of its seeds).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cloudbridge::fuzz::state_surgery(data));
