//! cloudbridge: declarative YAML stacks → dependency graph → plan → apply against AWS.
//!
//! The stages, in order: [`yaml`] and [`config`] (parse and check), [`graph`] (dependency
//! graph), [`plan`] (diff against state), [`engine`] (refresh, apply). Only [`provider`]
//! and [`state`] talk to AWS.

pub mod cli;
pub mod commands;
pub mod config;
pub mod diag;
pub mod engine;
pub mod expr;
pub mod graph;
pub mod plan;
pub mod provider;
pub mod schema;
pub mod state;
pub mod workspace;
pub mod yaml;

#[cfg(test)]
mod testutil;
