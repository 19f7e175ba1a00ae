//! libFuzzer's inputs through `cloudbridge::fuzz::language` (its contract is documented there:
//! each line an expression in a stack's locals, properties and modules; `cargo test` runs the
//! same function over a fixed-seed mutation of its seeds).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cloudbridge::fuzz::language(data));
