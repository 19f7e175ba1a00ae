//! The executor: turns a plan into steps (delete, create, update; a replace is a delete
//! then a create), runs them in parallel as their dependencies finish, bounded by
//! `parallelism`, and writes state after every step. A failed step stops only the steps
//! that depend on it.

use super::state_lookup;
use crate::expr::{contains_unknown, Ref};
use crate::plan::{Action, Change, Plan};
use crate::provider::Interrupt;
use crate::provider::{
    CreateRequest, Observed, OpCtx, PollPolicy, Props, Provider, ProviderError, StatusCell, UpdateRequest,
};
use crate::schema::{Catalog, TypeSchema};
use crate::state::{OutputState, ResourceState, State, StateError, StateStore};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    Create,
    Update,
    Delete,
}

impl StepKind {
    /// `create`, `update`, `delete`.
    pub fn verb(self) -> &'static str {
        match self {
            StepKind::Create => "create",
            StepKind::Update => "update",
            StepKind::Delete => "delete",
        }
    }

    /// The fixed summary of a failed step's diagnostic.
    pub fn failed(self) -> &'static str {
        match self {
            StepKind::Create => "Create failed",
            StepKind::Update => "Update failed",
            StepKind::Delete => "Delete failed",
        }
    }

    fn verbs(self) -> (&'static str, &'static str) {
        match self {
            StepKind::Create => ("Creating", "Creation"),
            StepKind::Update => ("Modifying", "Modifications"),
            StepKind::Delete => ("Destroying", "Destruction"),
        }
    }
}

#[derive(Debug, Clone)]
struct Step {
    address: String,
    kind: StepKind,
    ty: &'static TypeSchema,
    deps: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Pending,
    Running(Instant),
    Done,
    Failed,
    Skipped,
}

/// A step that failed, with AWS's error code and message.
#[derive(Debug, Clone)]
pub struct Failure {
    pub address: String,
    pub kind: StepKind,
    pub error: ProviderError,
}

#[derive(Debug)]
pub struct ApplyOutcome {
    pub state: State,
    pub failures: Vec<Failure>,
    /// Steps not run because something they depend on failed: (address, failed dependency).
    pub skipped: Vec<(String, String)>,
    /// Set when state could not be written; the run stopped scheduling at that point.
    pub state_error: Option<StateError>,
    /// An interrupt stopped the run: nothing new was started after it.
    pub interrupted: bool,
}

/// Progress events, for the terminal or a CI log.
pub trait Progress: Send + Sync {
    /// A permanent line: a step started, finished or failed.
    fn line(&self, text: &str);
    /// What is in flight right now; called every `heartbeat` while anything runs.
    fn in_flight(&self, items: &[InFlight]);
}

/// One operation in progress.
#[derive(Debug, Clone)]
pub struct InFlight {
    pub address: String,
    pub kind: StepKind,
    pub elapsed: Duration,
    /// The status AWS last reported, if any (`creating`, `modifying`, …).
    pub status: String,
}

impl StepKind {
    /// `creating`, `modifying`, `destroying`.
    pub fn gerund(self) -> String {
        self.verbs().0.to_lowercase()
    }
}

pub struct ApplyOptions {
    /// The resource types the plan's changes name (from the provider).
    pub catalog: Catalog,
    pub parallelism: usize,
    /// How often to report steps still running.
    pub heartbeat: Duration,
    pub poll: PollPolicy,
    pub interrupt: Interrupt,
}

fn build_steps(plan: &Plan, state: &State, catalog: &Catalog) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut index: BTreeMap<(String, u8), usize> = BTreeMap::new();
    let key = |a: &str, k: StepKind| (a.to_string(), k as u8);
    for c in &plan.changes {
        let Some(ty) = catalog.lookup(&c.ty) else {
            continue;
        };
        let kinds: &[StepKind] = match c.action {
            Action::NoOp => &[],
            Action::Create => &[StepKind::Create],
            Action::Update => &[StepKind::Update],
            Action::Delete => &[StepKind::Delete],
            Action::Replace => &[StepKind::Delete, StepKind::Create],
        };
        for &kind in kinds {
            index.insert(key(&c.address, kind), steps.len());
            steps.push(Step { address: c.address.clone(), kind, ty, deps: Vec::new() });
        }
    }
    let old_deps = |addr: &str, c: &Change| -> Vec<String> {
        state.get(addr).map(|r| r.dependencies.clone()).unwrap_or_else(|| {
            if c.action == Action::Delete {
                c.dependencies.clone()
            } else {
                Vec::new()
            }
        })
    };
    for c in &plan.changes {
        // Creates and updates wait for the creates/updates of what they reference.
        for kind in [StepKind::Create, StepKind::Update] {
            let Some(&me) = index.get(&key(&c.address, kind)) else {
                continue;
            };
            for d in &c.dependencies {
                for dk in [StepKind::Create, StepKind::Update] {
                    if let Some(&dep) = index.get(&key(d, dk)) {
                        steps[me].deps.push(dep);
                    }
                }
            }
            // A replacement is destroyed before it is created again.
            if let Some(&del) = index.get(&key(&c.address, StepKind::Delete)) {
                steps[me].deps.push(del);
            }
        }
    }
    for c in &plan.changes {
        let Some(&me) = index.get(&key(&c.address, StepKind::Delete)) else {
            continue;
        };
        // A deletion waits until nothing that depended on it still does.
        for other in &plan.changes {
            if other.address == c.address || !old_deps(&other.address, other).contains(&c.address) {
                continue;
            }
            if let Some(&d) = index.get(&key(&other.address, StepKind::Delete)) {
                steps[me].deps.push(d);
            } else if c.action == Action::Delete {
                if let Some(&u) = index.get(&key(&other.address, StepKind::Update)) {
                    steps[me].deps.push(u);
                }
            }
        }
    }
    for s in &mut steps {
        s.deps.sort();
        s.deps.dedup();
    }
    steps
}

/// What state records for a resource: the values sent (sensitive ones hashed), overlaid
/// with what the cloud reports.
pub(crate) fn recorded(state: &State, ty: &TypeSchema, sent: &Props, obs: &Observed) -> Props {
    let mut props = Props::new();
    for (k, v) in sent {
        let sensitive = ty.prop(k).is_some_and(|p| p.sensitive);
        props.insert(k.clone(), if sensitive { state.hash_sensitive(v) } else { v.clone() });
    }
    for (k, v) in &obs.properties {
        if ty.prop(k).is_some_and(|p| !p.sensitive) {
            props.insert(k.clone(), v.clone());
        }
    }
    props
}

type StepResult = (usize, Props, Result<Option<Observed>, ProviderError>);

/// Execute `plan` starting from `state`, writing each change to `store` as it completes.
pub async fn apply(
    plan: &Plan,
    mut state: State,
    provider: Arc<dyn Provider>,
    store: &dyn StateStore,
    opts: &ApplyOptions,
    progress: &dyn Progress,
) -> ApplyOutcome {
    let steps = build_steps(plan, &state, &opts.catalog);
    let mut status = vec![Status::Pending; steps.len()];
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    let mut state_error = None;
    let mut running: JoinSet<StepResult> = JoinSet::new();
    // Which step each task runs, so a panicking task is blamed on its own step.
    let mut tasks: std::collections::HashMap<tokio::task::Id, usize> = std::collections::HashMap::new();
    let mut cells: Vec<StatusCell> = vec![StatusCell::default(); steps.len()];
    let parallelism = opts.parallelism.max(1);
    let mut last_beat = Instant::now();

    loop {
        // Skip what can no longer run, transitively (repeat until nothing changes).
        loop {
            let mut changed = false;
            for i in 0..steps.len() {
                if status[i] != Status::Pending {
                    continue;
                }
                if let Some(&bad) =
                    steps[i].deps.iter().find(|&&d| matches!(status[d], Status::Failed | Status::Skipped))
                {
                    status[i] = Status::Skipped;
                    skipped.push((steps[i].address.clone(), steps[bad].address.clone()));
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        // Launch what is ready, in plan order (nothing new once interrupted).
        if state_error.is_none() && !opts.interrupt.is_requested() {
            for i in 0..steps.len() {
                if running.len() >= parallelism {
                    break;
                }
                if status[i] != Status::Pending || !steps[i].deps.iter().all(|&d| status[d] == Status::Done) {
                    continue;
                }
                let step = &steps[i];
                let Some(change) = plan.change(&step.address) else {
                    continue;
                };
                let resolved: Props = change
                    .config
                    .iter()
                    .map(|(k, e)| (k.clone(), e.resolve(&|r: &Ref| state_lookup(&state, r))))
                    .collect();
                let current = state.get(&step.address).cloned();
                status[i] = Status::Running(Instant::now());
                opts.interrupt.started(&step.address);
                progress.line(&format!(
                    "{}: {}...{}",
                    step.address,
                    step.kind.verbs().0,
                    match (&current, step.kind) {
                        (Some(c), StepKind::Delete | StepKind::Update) => format!(" [id={}]", c.id),
                        _ => String::new(),
                    }
                ));
                if resolved.values().any(contains_unknown) {
                    let err = ProviderError::new(
                        "UnresolvedReference",
                        "a referenced value is still unknown after its dependencies were applied",
                    );
                    tasks.insert(running.spawn(async move { (i, resolved, Err(err)) }).id(), i);
                    continue;
                }
                let provider = provider.clone();
                let (ty, kind, address, changed) = (step.ty, step.kind, step.address.clone(), change.changed.clone());
                let timeout = match kind {
                    StepKind::Create => change.timeouts.create,
                    StepKind::Update => change.timeouts.update,
                    StepKind::Delete => change.timeouts.delete,
                };
                cells[i] = StatusCell::default();
                let ctx = OpCtx {
                    timeout: Duration::from_secs(timeout),
                    status: cells[i].clone(),
                    poll: opts.poll,
                    interrupt: opts.interrupt.clone(),
                };
                let task = running.spawn(async move {
                    let res = match (kind, current) {
                        (StepKind::Create, _) => {
                            let req = CreateRequest { ty, address: &address, props: &resolved, ctx: &ctx };
                            provider.create(req).await.map(Some)
                        }
                        (StepKind::Update, Some(cur)) => {
                            let req = UpdateRequest {
                                ty,
                                id: &cur.id,
                                old: &cur.properties,
                                new: &resolved,
                                changed: &changed,
                                ctx: &ctx,
                            };
                            provider.update(req).await.map(Some)
                        }
                        (StepKind::Delete, Some(cur)) => {
                            provider.delete(ty, &cur.id, &cur.properties, &ctx).await.map(|_| None)
                        }
                        (_, None) => Err(ProviderError::new("NotInState", format!("`{address}` is not in state"))),
                    };
                    (i, resolved, res)
                });
                tasks.insert(task.id(), i);
            }
        }
        if running.is_empty() {
            break;
        }
        let next =
            tokio::time::timeout(opts.heartbeat.saturating_sub(last_beat.elapsed()), running.join_next_with_id()).await;
        let joined = match next {
            Err(_) => {
                let items: Vec<InFlight> = status
                    .iter()
                    .enumerate()
                    .filter_map(|(i, s)| match s {
                        Status::Running(t) => Some(InFlight {
                            address: steps[i].address.clone(),
                            kind: steps[i].kind,
                            elapsed: t.elapsed(),
                            status: cells[i].get(),
                        }),
                        _ => None,
                    })
                    .collect();
                progress.in_flight(&items);
                last_beat = Instant::now();
                continue;
            }
            Ok(None) => break,
            Ok(Some(j)) => j,
        };
        let (i, sent, res) = match joined {
            Ok((id, r)) => {
                tasks.remove(&id);
                r
            }
            Err(e) => {
                // A panicking step: treat it as failed (never as done), and blame its own step.
                let Some(i) = tasks.remove(&e.id()) else { continue };
                (i, Props::new(), Err(ProviderError::new("InternalError", format!("the step panicked: {e}"))))
            }
        };
        let step = &steps[i];
        opts.interrupt.finished(&step.address);
        let elapsed = match status[i] {
            Status::Running(t) => t.elapsed().as_secs(),
            _ => 0,
        };
        match res {
            Err(error) => {
                status[i] = Status::Failed;
                progress.line(&format!("{}: {} failed: {error}", step.address, step.kind.verbs().1));
                let created = error.created_id.clone();
                failures.push(Failure { address: step.address.clone(), kind: step.kind, error });
                let Some(id) = created else { continue };
                // It exists but is not ready: record it, so it is neither orphaned nor
                // created a second time; the next apply waits for it.
                let deps = plan.change(&step.address).map(|c| c.dependencies.clone()).unwrap_or_default();
                let obs = Observed { id: id.clone(), properties: Props::new(), attributes: Props::new() };
                let mut attributes = Props::new();
                attributes.insert("id".into(), Value::String(id.clone()));
                let properties = recorded(&state, step.ty, &sent, &obs);
                state.put(ResourceState {
                    address: step.address.clone(),
                    ty: step.ty.name.to_string(),
                    id,
                    properties,
                    attributes,
                    dependencies: deps,
                    pending: Some("create".into()),
                });
            }
            Ok(obs) => {
                status[i] = Status::Done;
                let id = match (step.kind, obs) {
                    (StepKind::Delete, _) => state.remove(&step.address).map(|r| r.id),
                    (_, Some(obs)) => {
                        let deps = plan.change(&step.address).map(|c| c.dependencies.clone()).unwrap_or_default();
                        let mut attributes = obs.attributes.clone();
                        attributes.insert("id".into(), Value::String(obs.id.clone()));
                        let properties = recorded(&state, step.ty, &sent, &obs);
                        state.put(ResourceState {
                            address: step.address.clone(),
                            ty: step.ty.name.to_string(),
                            id: obs.id.clone(),
                            properties,
                            attributes,
                            dependencies: deps,
                            pending: None,
                        });
                        Some(obs.id)
                    }
                    (_, None) => None,
                };
                progress.line(&format!(
                    "{}: {} complete after {elapsed}s{}",
                    step.address,
                    step.kind.verbs().1,
                    id.map(|i| format!(" [id={i}]")).unwrap_or_default()
                ));
            }
        }
        state.serial += 1;
        if let Err(e) = store.write(&state).await {
            progress.line(&format!("error: could not write state after {}: {e}", step.address));
            state_error = Some(e);
        }
    }
    for (i, s) in status.iter().enumerate() {
        if *s == Status::Pending {
            let why = if state_error.is_some() {
                "state could not be written"
            } else if opts.interrupt.is_requested() {
                "the interrupt"
            } else {
                "dependency cycle"
            };
            skipped.push((steps[i].address.clone(), why.into()));
        }
    }
    // Outputs, from what is now in state.
    if state_error.is_none() {
        let mut outputs = BTreeMap::new();
        for o in &plan.outputs {
            let v = o.expr.resolve(&|r: &Ref| state_lookup(&state, r));
            if !contains_unknown(&v) {
                outputs.insert(o.name.clone(), OutputState { value: v, sensitive: o.sensitive });
            }
        }
        if plan.destroy {
            outputs.clear();
        }
        if outputs != state.outputs {
            state.outputs = outputs;
            state.serial += 1;
            if let Err(e) = store.write(&state).await {
                state_error = Some(e);
            }
        }
    }
    ApplyOutcome { state, failures, skipped, state_error, interrupted: opts.interrupt.is_requested() }
}
