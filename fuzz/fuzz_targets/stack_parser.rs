//! Any text as a stack (and as an environment file) must give a stack or diagnostics,
//! never a panic; a valid stack must also build its graph without panicking.
#![no_main]

use cloudbridge::config::{parse_env, parse_stack};
use cloudbridge::graph;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The input as an environment file.
    let _ = parse_env("fuzz", &Arc::new(PathBuf::from("envs/fuzz.yaml")), text);
    // The input as a stack, with a fixed environment.
    let (env, _) =
        parse_env("fuzz", &Arc::new(PathBuf::from("envs/fuzz.yaml")), "stack: stacks/fuzz.yaml\nvariables: {}\n");
    let Some(env) = env else { return };
    if let Ok(stack) = parse_stack(
        &Arc::new(PathBuf::from("stacks/fuzz.yaml")),
        text,
        "fuzz",
        &env,
        &cloudbridge::provider::aws::catalog(),
    ) {
        let _ = graph::build(&stack);
    }
});
