//! libFuzzer's inputs through `cloudbridge::fuzz::formatter` (`fmt`'s round trip: same value,
//! every comment kept, idempotent; `cargo test` runs the same function over a fixed-seed
//! mutation of the corpus).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cloudbridge::fuzz::formatter(data));
