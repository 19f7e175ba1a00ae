//! Helpers for unit tests: stacks from text, an in-memory state store, plan + apply in
//! one call against any provider.

use crate::config::{self, Stack};
use crate::engine::{self, ApplyOptions, ApplyOutcome, Progress};
use crate::graph::{self, DepGraph};
use crate::plan::{self, Plan, PlanRequest};
use crate::provider::Provider;
use crate::state::{LockInfo, State, StateError, StateStore};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Parse a stack (`stacks/t.yaml`) for env `test`: the stack, or its diagnostics.
pub fn try_stack(yaml: &str) -> Result<Stack, Vec<crate::diag::Diagnostic>> {
    let (env, d) = config::parse_env("test", &Arc::new(PathBuf::from("envs/test.yaml")), "stack: stacks/t.yaml\n");
    assert!(d.is_empty(), "{d:?}");
    config::parse_stack(&Arc::new(PathBuf::from("stacks/t.yaml")), yaml, "t", &env.expect("env"), &catalog())
}

/// Parse `stacks/t.yaml` for env `test` (with `env_vars` in its env file), with `files`
/// (project paths and texts) as the other files `file()` and modules read.
pub fn try_project(env_vars: &str, yaml: &str, files: &[(&str, &str)]) -> Result<Stack, Vec<crate::diag::Diagnostic>> {
    let (env, _) = config::parse_env(
        "test",
        &Arc::new(PathBuf::from("envs/test.yaml")),
        &format!("stack: stacks/t.yaml\n{env_vars}"),
    );
    let read = |p: &str| {
        files.iter().find(|(n, _)| *n == p).map(|(_, t)| t.to_string()).ok_or_else(|| format!("no file `{p}`"))
    };
    config::parse_stack_reading(
        &Arc::new(PathBuf::from("stacks/t.yaml")),
        yaml,
        "t",
        &env.expect("env"),
        &catalog(),
        Some(&read),
    )
}

/// A fixed-seed xorshift generator for tests that try many inputs, so a failure is found
/// again.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n` (0 for `n` of 0).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }
}

/// Parse a stack for env `test`; panics with the diagnostics if it is invalid.
pub fn stack(yaml: &str) -> (Stack, DepGraph) {
    let stack = try_stack(yaml).unwrap_or_else(|d| panic!("{}", crate::diag::Diagnostics(d)));
    let g = graph::build(&stack).unwrap_or_else(|d| panic!("{}", crate::diag::Diagnostics(d)));
    (stack, g)
}

/// State kept in memory; counts writes and can be made to fail after `fail_after` writes.
#[derive(Default)]
pub struct MemStore {
    pub state: Mutex<Option<State>>,
    pub writes: Mutex<Vec<State>>,
    pub fail_after: Mutex<Option<usize>>,
}

#[async_trait]
impl StateStore for MemStore {
    fn location(&self) -> String {
        "memory".into()
    }
    async fn lock(&self, op: &str) -> Result<LockInfo, StateError> {
        Ok(LockInfo::new(op, "memory"))
    }
    async fn unlock(&self, _: &LockInfo) -> Result<(), StateError> {
        Ok(())
    }
    async fn force_unlock(&self, _: &str) -> Result<(), StateError> {
        Ok(())
    }
    async fn read(&self) -> Result<Option<State>, StateError> {
        Ok(self.state.lock().unwrap().clone())
    }
    async fn write(&self, s: &State) -> Result<(), StateError> {
        let mut writes = self.writes.lock().unwrap();
        if self.fail_after.lock().unwrap().is_some_and(|n| writes.len() >= n) {
            return Err(StateError::Conflict { origin: "memory".into() });
        }
        writes.push(s.clone());
        *self.state.lock().unwrap() = Some(s.clone());
        Ok(())
    }
}

struct Quiet;
impl Progress for Quiet {
    fn line(&self, _: &str) {}
    fn in_flight(&self, _: &[engine::InFlight]) {}
}

/// The catalog the tests run with: the AWS provider's (the composition root's choice).
pub fn catalog() -> crate::schema::Catalog {
    crate::provider::aws::catalog()
}

/// Render a plan with the tests' catalog.
pub fn render(plan: &Plan) -> String {
    crate::plan::render(plan, &catalog())
}

/// The plan's summary line.
pub fn summary(plan: &Plan) -> String {
    crate::plan::summary_line(plan)
}

pub fn plan_for(stack: &Stack, g: &DepGraph, state: &State, targets: &[String], destroy: bool) -> Plan {
    let tags = BTreeMap::from([("owner".to_string(), "data-team".to_string())]);
    let catalog = catalog();
    let req = PlanRequest {
        stack,
        graph: g,
        state,
        env: "test",
        default_tags: &tags,
        targets,
        destroy,
        catalog: &catalog,
        imported: &[],
        data: &[],
        allow_resnapshot: false,
    };
    plan::diff(&req).unwrap_or_else(|d| panic!("{d:?}"))
}

/// Refresh `state` through `provider`, then plan.
pub async fn refreshed_plan(
    stack: &Stack,
    g: &DepGraph,
    provider: &dyn Provider,
    state: &State,
    destroy: bool,
) -> Plan {
    let fresh = engine::refresh(provider, &catalog(), state).await.expect("refresh");
    plan_for(stack, g, &fresh, &[], destroy)
}

/// Refresh, read what the stack imports, and plan, as `plan` does.
pub async fn plan_with_imports(
    stack: &Stack,
    g: &DepGraph,
    provider: &dyn Provider,
    state: &State,
) -> Result<Plan, Vec<crate::diag::Diagnostic>> {
    let fresh = engine::refresh(provider, &catalog(), state).await.expect("refresh");
    let wanted = plan::wanted_imports(&fresh, stack)?;
    let imported = engine::read_imports(provider, &catalog(), &stack.name, "test", &wanted).await.map_err(|p| {
        p.into_iter()
            .map(|(a, why)| crate::diag::Diagnostic::error("Import not possible", format!("`{a}`: {why}")))
            .collect::<Vec<_>>()
    })?;
    let data = engine::read_data(provider, &stack.data)
        .await
        .map_err(|(a, why)| vec![crate::diag::Diagnostic::error("Data source not read", format!("`{a}`: {why}"))])?;
    let tags = BTreeMap::from([("owner".to_string(), "data-team".to_string())]);
    let catalog = catalog();
    let req = PlanRequest {
        stack,
        graph: g,
        state: &fresh,
        env: "test",
        default_tags: &tags,
        targets: &[],
        destroy: false,
        catalog: &catalog,
        imported: &imported,
        data: &data,
        allow_resnapshot: false,
    };
    plan::diff(&req)
}

pub async fn run(
    plan: &Plan,
    state: State,
    provider: Arc<dyn Provider>,
    store: &MemStore,
    parallelism: usize,
) -> ApplyOutcome {
    let opts = ApplyOptions {
        catalog: catalog(),
        parallelism,
        heartbeat: Duration::from_secs(3600),
        // The in-memory provider's resources are ready at once: no type's first look waits.
        poll: crate::provider::PollPolicy { by_type: false, ..Default::default() },
        interrupt: Default::default(),
    };
    engine::apply(plan, state, provider, store, &opts, &Quiet).await
}
