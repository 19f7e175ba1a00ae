//! The order in which a plan's changes run: which steps there are (a replacement is a
//! delete, then a create) and what each waits for. A decision of the plan, not of the
//! executor, which only follows it.

use super::{Action, Change, Plan};
use crate::state::State;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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

    /// `Creating`/`Creation`, … for progress lines.
    pub fn verbs(self) -> (&'static str, &'static str) {
        match self {
            StepKind::Create => ("Creating", "Creation"),
            StepKind::Update => ("Modifying", "Modifications"),
            StepKind::Delete => ("Destroying", "Destruction"),
        }
    }

    /// `creating`, `modifying`, `destroying`.
    pub fn gerund(self) -> String {
        self.verbs().0.to_lowercase()
    }
}

/// One step of a plan and the steps (by index) it waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub address: String,
    pub kind: StepKind,
    pub deps: Vec<usize>,
}

/// The steps of `plan`, in plan order, with their dependencies: creates and updates wait
/// for the creates and updates of what they reference; a replacement is destroyed before
/// it is created again; a deletion waits until nothing that depended on it (as `state`
/// records) still does. Changes for which `keep` is false (a type this build does not
/// know) get no step, and nothing waits for them.
pub fn schedule(plan: &Plan, state: &State, keep: impl Fn(&Change) -> bool) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut index: BTreeMap<(String, StepKind), usize> = BTreeMap::new();
    let key = |a: &str, k: StepKind| (a.to_string(), k);
    for c in plan.changes.iter().filter(|c| keep(c)) {
        let kinds: &[StepKind] = match c.action {
            Action::NoOp => &[],
            Action::Create => &[StepKind::Create],
            Action::Update => &[StepKind::Update],
            Action::Delete => &[StepKind::Delete],
            Action::Replace => &[StepKind::Delete, StepKind::Create],
        };
        for &kind in kinds {
            index.insert(key(&c.address, kind), steps.len());
            steps.push(Step { address: c.address.clone(), kind, deps: Vec::new() });
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
            if let Some(&del) = index.get(&key(&c.address, StepKind::Delete)) {
                steps[me].deps.push(del);
            }
        }
    }
    // Who depended on each address before this plan (from state, or the deleted change):
    // found once, not by scanning every change for every deletion.
    let mut old_dependents: std::collections::HashMap<String, Vec<&Change>> = std::collections::HashMap::new();
    for other in &plan.changes {
        for d in old_deps(&other.address, other) {
            old_dependents.entry(d).or_default().push(other);
        }
    }
    for c in &plan.changes {
        let Some(&me) = index.get(&key(&c.address, StepKind::Delete)) else {
            continue;
        };
        for other in old_dependents.get(&c.address).into_iter().flatten().copied() {
            if other.address == c.address {
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
