//! The executor: runs a plan's steps (in the order the plan's schedule gives) over the
//! generic graph walk, one task per step, and records each result through the journal as
//! soon as it happens. It decides nothing: a failed step stops only what depends on it,
//! because the walk skips it; an interrupt or a failed state write starts nothing new.

use super::journal::Journal;
use super::plan_lookup;
use super::walk::{walk, NodeStatus, Task, Visitor};
use crate::expr::{contains_unknown, Ref};
use crate::plan::{schedule, Plan, Step, StepKind};
use crate::provider::Interrupt;
use crate::provider::{
    CreateRequest, Observed, OpCtx, PollPolicy, Props, Provider, ProviderError, StatusCell, UpdateRequest,
};
use crate::schema::{Catalog, TypeSchema};
use crate::state::{OutputState, State, StateError, StateStore};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The plan's moves, removals and imports applied to `state` (and whether it had any). An
/// import is read again here: what a saved plan says it found is not trusted.
async fn migrate(
    plan: &Plan,
    mut state: State,
    provider: &dyn Provider,
    opts: &ApplyOptions,
    progress: &dyn Progress,
) -> Result<(State, bool), (State, Vec<Failure>)> {
    let imports: Vec<(String, String, String)> = plan
        .changes
        .iter()
        .filter(|c| c.importing)
        .filter_map(|c| Some((c.address.clone(), c.ty.clone(), c.id.clone()?)))
        .collect();
    if plan.moved.is_empty() && plan.removed.is_empty() && imports.is_empty() {
        return Ok((state, false));
    }
    let fail = |address: &str, code: &str, why: String| Failure {
        address: address.to_string(),
        kind: StepKind::Update,
        error: ProviderError::new(code, why),
    };
    let mut failures = Vec::new();
    for (from, to) in &plan.moved {
        if state.get(from).is_none() && state.get(to).is_some() {
            continue; // Done by an earlier run.
        }
        match state.move_address(from, to) {
            Ok(_) => progress.line(&format!("{from}: moved to {to}")),
            Err(why) => failures.push(fail(from, "MoveFailed", why)),
        }
    }
    for (address, id) in &plan.removed {
        if state.forget(address).is_ok() {
            progress.line(&format!("{address}: removed from state; left in AWS [id={id}]"));
        }
    }
    let wanted: Vec<_> = imports.into_iter().filter(|(a, _, _)| state.get(a).is_none()).collect();
    if !wanted.is_empty() && failures.is_empty() {
        match super::read_imports(provider, &opts.catalog, &plan.stack, &plan.env, &wanted).await {
            Ok(found) => {
                for r in found {
                    progress.line(&format!("{}: imported [id={}]", r.address, r.id));
                    state.put(r);
                }
            }
            Err(problems) => failures.extend(problems.into_iter().map(|(a, why)| fail(&a, "ImportFailed", why))),
        }
    }
    if failures.is_empty() {
        Ok((state, true))
    } else {
        Err((state, failures))
    }
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
    /// The same moments as data, for a machine reader (`apply --json`); ignored by default.
    fn event(&self, _event: &Event) {}
}

/// A step's moment, as data.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Start { address: String, action: &'static str },
    Complete { address: String, action: &'static str, id: Option<String>, elapsed_seconds: u64 },
    Error { address: String, action: &'static str, code: String, message: String },
}

fn action_of(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Create => "create",
        StepKind::Update => "update",
        StepKind::Delete => "delete",
    }
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

pub struct ApplyOptions {
    /// The resource types the plan's changes name (from the provider).
    pub catalog: Catalog,
    pub parallelism: usize,
    /// How often to report steps still running.
    pub heartbeat: Duration,
    pub poll: PollPolicy,
    pub interrupt: Interrupt,
}

/// What a step's task gives back: the values it sent, and what the cloud holds now
/// (`None` after a delete).
type StepOut = (Props, Result<Option<Observed>, ProviderError>);

/// Runs the steps: starts a step's provider call, and records its end in the journal.
struct Runner<'a> {
    plan: &'a Plan,
    steps: Vec<Step>,
    /// Each step's change (looked up once, not by a scan of the plan per step).
    changes: Vec<Option<&'a crate::plan::Change>>,
    /// Each step's type (known for every step: `schedule` kept only those).
    types: Vec<Option<&'static TypeSchema>>,
    provider: Arc<dyn Provider>,
    opts: &'a ApplyOptions,
    progress: &'a dyn Progress,
    journal: Journal<'a>,
    cells: Vec<StatusCell>,
    failures: Vec<Failure>,
}

#[async_trait::async_trait]
impl Visitor for Runner<'_> {
    type Out = StepOut;

    fn start(&mut self, i: usize) -> Option<Task<StepOut>> {
        let step = &self.steps[i];
        let change = self.changes[i]?;
        let ty = self.types[i]?;
        let state = &self.journal.state;
        let resolved: Props = change
            .config
            .iter()
            .map(|(k, e)| (k.clone(), e.resolve(&|r: &Ref| plan_lookup(self.plan, state, r))))
            .collect();
        let current = state.get(&step.address).cloned();
        self.opts.interrupt.started(&step.address);
        self.progress.event(&Event::Start { address: step.address.clone(), action: action_of(step.kind) });
        self.progress.line(&format!(
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
            return Some(Box::pin(async move { (resolved, Err(err)) }));
        }
        let provider = self.provider.clone();
        let (kind, address, changed) = (step.kind, step.address.clone(), change.changed.clone());
        let timeout = match kind {
            StepKind::Create => change.timeouts.create,
            StepKind::Update => change.timeouts.update,
            StepKind::Delete => change.timeouts.delete,
        };
        self.cells[i] = StatusCell::default();
        let ctx = OpCtx {
            timeout: Duration::from_secs(timeout),
            status: self.cells[i].clone(),
            poll: if kind == StepKind::Create { self.opts.poll.for_create(ty) } else { self.opts.poll },
            interrupt: self.opts.interrupt.clone(),
        };
        Some(Box::pin(async move {
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
            (resolved, res)
        }))
    }

    async fn finish(&mut self, i: usize, elapsed: Duration, out: Result<StepOut, String>) -> bool {
        let (address, kind) = (self.steps[i].address.clone(), self.steps[i].kind);
        // Only steps that started finish, and a step starts only with its type known.
        let Some(ty) = self.types[i] else { return false };
        self.opts.interrupt.finished(&address);
        let (sent, res) = out.unwrap_or_else(|panic| (Props::new(), Err(ProviderError::new("InternalError", panic))));
        let ok = res.is_ok();
        match res {
            Err(error) => {
                self.progress.line(&format!("{address}: {} failed: {error}", kind.verbs().1));
                self.progress.event(&Event::Error {
                    address: address.clone(),
                    action: action_of(kind),
                    code: error.code.clone(),
                    message: error.message.clone(),
                });
                let created = error.created_id.clone();
                self.failures.push(Failure { address: address.clone(), kind, error });
                let Some(id) = created else { return false };
                // It exists but is not ready: record it, so it is neither orphaned nor
                // created a second time; the next apply waits for it.
                let obs = Observed { id, properties: Props::new(), attributes: Props::new() };
                self.journal.put(self.changes[i], &address, ty, &sent, &obs, true);
            }
            Ok(obs) => {
                let id = match (kind, obs) {
                    (StepKind::Delete, _) => self.journal.remove(&address),
                    (_, Some(obs)) => {
                        self.journal.put(self.changes[i], &address, ty, &sent, &obs, false);
                        Some(obs.id)
                    }
                    (_, None) => None,
                };
                self.progress.line(&format!(
                    "{address}: {} complete after {}s{}",
                    kind.verbs().1,
                    elapsed.as_secs(),
                    id.as_ref().map(|i| format!(" [id={i}]")).unwrap_or_default()
                ));
                self.progress.event(&Event::Complete {
                    address: address.clone(),
                    action: action_of(kind),
                    id,
                    elapsed_seconds: elapsed.as_secs(),
                });
            }
        }
        if let Err(e) = self.journal.commit().await {
            self.progress.line(&format!("error: could not write state after {address}: {e}"));
        }
        ok
    }

    fn stopped(&self) -> bool {
        self.journal.error.is_some() || self.opts.interrupt.is_requested()
    }

    async fn tick(&mut self) {
        self.journal.tick().await;
    }

    fn heartbeat(&self, running: &[(usize, Duration)]) {
        let items: Vec<InFlight> = running
            .iter()
            .map(|&(i, elapsed)| InFlight {
                address: self.steps[i].address.clone(),
                kind: self.steps[i].kind,
                elapsed,
                status: self.cells[i].get(),
            })
            .collect();
        self.progress.in_flight(&items);
    }
}

/// Execute `plan` starting from `state`, writing each change to `store` as it completes.
pub async fn apply(
    plan: &Plan,
    state: State,
    provider: Arc<dyn Provider>,
    store: &dyn StateStore,
    opts: &ApplyOptions,
    progress: &dyn Progress,
) -> ApplyOutcome {
    // First what touches only state: moves, removals, imports. Recorded before any step.
    // A state never written (serial 0) is written first too: its lineage is in the
    // ownership tags of what the first steps create, and a run killed before its first
    // record must leave the lineage that recognises them.
    let state = match migrate(plan, state, provider.as_ref(), opts, progress).await {
        Ok((s, changed)) if changed || s.serial == 0 => {
            let mut journal = Journal::new(s, store);
            let _ = journal.write_all().await;
            if journal.error.is_some() {
                return ApplyOutcome {
                    state: journal.state,
                    failures: Vec::new(),
                    skipped: Vec::new(),
                    state_error: journal.error,
                    interrupted: false,
                };
            }
            journal.state
        }
        Ok((s, _)) => s,
        Err((state, failures)) => {
            return ApplyOutcome { state, failures, skipped: Vec::new(), state_error: None, interrupted: false }
        }
    };
    let steps: Vec<Step> = schedule(plan, &state, |c| opts.catalog.lookup(&c.ty).is_some());
    let by_address: std::collections::HashMap<&str, &crate::plan::Change> =
        plan.changes.iter().map(|c| (c.address.as_str(), c)).collect();
    let changes: Vec<Option<&crate::plan::Change>> =
        steps.iter().map(|s| by_address.get(s.address.as_str()).copied()).collect();
    let types: Vec<Option<&'static TypeSchema>> =
        changes.iter().map(|c| c.and_then(|c| opts.catalog.lookup(&c.ty))).collect();
    let deps: Vec<Vec<usize>> = steps.iter().map(|s| s.deps.clone()).collect();
    let mut runner = Runner {
        plan,
        changes,
        cells: vec![StatusCell::default(); steps.len()],
        steps,
        types,
        provider,
        opts,
        progress,
        journal: Journal::new(state, store),
        failures: Vec::new(),
    };
    let walked = walk(&deps, opts.parallelism, opts.heartbeat, &mut runner).await;
    let Runner { steps, journal, failures, .. } = runner;
    let mut skipped: Vec<(String, String)> =
        walked.skipped.iter().map(|&(i, bad)| (steps[i].address.clone(), steps[bad].address.clone())).collect();
    for (i, s) in walked.status.iter().enumerate() {
        if *s == NodeStatus::Pending {
            let why = if journal.error.is_some() {
                "state could not be written"
            } else if opts.interrupt.is_requested() {
                "the interrupt"
            } else {
                "dependency cycle"
            };
            skipped.push((steps[i].address.clone(), why.into()));
        }
    }
    let mut journal = journal;
    // Outputs, from what is now in state.
    if journal.error.is_none() {
        let mut outputs = BTreeMap::new();
        for o in &plan.outputs {
            let v = o.expr.resolve(&|r: &Ref| plan_lookup(plan, &journal.state, r));
            if !contains_unknown(&v) {
                // A sensitive output's value is never stored: its hash tells a change.
                let value = if o.sensitive { journal.state.hash_sensitive(&v) } else { v };
                outputs.insert(o.name.clone(), OutputState { value, sensitive: o.sensitive });
            }
        }
        if plan.destroy {
            outputs.clear();
        }
        if outputs != journal.state.outputs {
            journal.state.outputs = outputs;
            let _ = journal.write_all().await;
        }
    }
    let _ = journal.finish().await;
    ApplyOutcome {
        state: journal.state,
        failures,
        skipped,
        state_error: journal.error,
        interrupted: opts.interrupt.is_requested(),
    }
}
