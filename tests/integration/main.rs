//! Integration tests: the real `cloudbridge` binary, driven as a user would, against the
//! project's AWS emulator (moto, started once per test run on a free loopback port).
//! What the binary did is checked by reading the emulator through the AWS SDK.

mod common;

mod adoption;
mod backend_s3;
mod catalog;
mod cdc_changes;
mod checks;
mod ci_example;
mod concurrency;
mod corpus;
mod diagnostics;
mod drift;
mod emulator_harness;
mod faults;
mod file_access;
mod interrupts;
mod kafka_topics;
mod language;
mod lifecycle;
mod neighbours;
mod pipeline;
mod plan_json;
mod quickstart;
mod rds;
mod rdsdata;
mod refactoring;
mod reference;
mod refresh_calls;
mod saved_plan;
mod secrets;
mod state_errors;
mod streaming;
mod takeover;
mod wiring;
