//! The plan stage: stack + (refreshed) state → [`Plan`], the list of changes `apply` will
//! carry out and nothing more. Pure: no I/O. The same function serves `plan`, `apply`
//! and `destroy`, so what is shown is what runs.

mod contract;
mod cost;
mod markdown;
mod render;
mod saved;
mod schedule;
#[cfg(test)]
mod tests;

pub use contract::{contract, FORMAT_VERSION as JSON_FORMAT_VERSION};
pub use cost::{breakdown, plan_cost, PlanCost, ResourceCost};
pub use markdown::markdown;
pub use render::{render, summary_line};
pub use saved::{open, restore, seal, withhold};
pub use schedule::{schedule, Step, StepKind};

use crate::config::Stack;
use crate::diag::Diagnostic;
use crate::expr::{contains_unknown, Expr, Ref, UNKNOWN};
use crate::graph::{stack_deps, DepGraph};
use crate::rules::CB313;
use crate::schema::{canonical, Catalog, TypeSchema};
use crate::state::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub const PLAN_FORMAT_VERSION: u32 = 1;
/// Shown instead of a sensitive value.
pub use crate::diag::SENSITIVE;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    NoOp,
    Create,
    Update,
    Replace,
    Delete,
}

impl Action {
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub address: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub action: Action,
    /// The cloud ID of the existing resource, if any.
    pub id: Option<String>,
    /// Properties now (sensitive values redacted).
    pub before: Option<Map<String, Value>>,
    /// Properties after apply, `(known after apply)` where not known yet (redacted).
    pub after: Option<Map<String, Value>>,
    /// Properties whose value changes.
    pub changed: Vec<String>,
    /// Of those, the ones that force replacement.
    pub replace_because: Vec<String>,
    /// What apply resolves and sends: the stack's expressions, with tags merged in.
    pub config: BTreeMap<String, Expr>,
    /// Addresses this one depends on (from the stack, or from state for deletions).
    pub dependencies: Vec<String>,
    /// Time limits for the operations, the type's defaults with the stack's overrides.
    pub timeouts: crate::schema::Timeouts,
    /// It was still being created when the last run stopped: apply waits for it.
    #[serde(default)]
    pub pending: bool,
    /// Where the resource is declared (none for one that left the stack), so a failure
    /// of its step points at the stack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<crate::diag::Span>,
    /// Properties secret although the type does not mark them sensitive (set from a
    /// sensitive variable or property): redacted here, hashed in state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
    /// Secret entries of `config` that a written plan holds only as a hash (see
    /// [`withhold`]); `apply PLANFILE` takes them from the stack again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<String>,
    /// Taken into state from `import:` by this plan (its ID is `id`): nothing is created.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub importing: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputChange {
    pub name: String,
    pub sensitive: bool,
    pub before: Option<Value>,
    pub after: Value,
    pub expr: Expr,
}

/// An output of state the plan forgets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemovedOutput {
    pub name: String,
    pub sensitive: bool,
    pub before: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub stack: String,
    pub env: String,
    /// The state this plan was made against; `apply PLANFILE` refuses any other.
    pub state_lineage: Option<String>,
    pub state_serial: Option<u64>,
    pub destroy: bool,
    /// Directory of the stack file, relative to the project: local files resolve here.
    #[serde(default)]
    pub stack_dir: String,
    /// The stack file, relative to the project: `apply PLANFILE` reads the values that a
    /// saved plan withholds (secrets) from it again.
    #[serde(default)]
    pub stack_file: String,
    pub changes: Vec<Change>,
    pub outputs: Vec<OutputChange>,
    /// State entries renamed before anything runs (`moved:`): (from, to).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moved: Vec<(String, String)>,
    /// State entries forgotten, left in AWS (`removed:`): (address, ID).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<(String, String)>,
    /// The data sources read for this plan; apply uses these values, as shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<DataRead>,
    /// Outputs in state that the stack no longer declares (or all of them, for a destroy
    /// plan): apply forgets them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_outputs: Vec<RemovedOutput>,
    /// What refresh found changed outside cloudbridge since the last apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<Drift>,
    /// The `--target` addresses this plan was limited to (none: the whole stack).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// The estimated monthly cost before and after (see [`plan_cost`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<PlanCost>,
    /// SHA-256 of the rest of a saved plan (see [`seal`]); empty until it is saved.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        !self.moved.is_empty()
            || !self.removed.is_empty()
            || self.changes.iter().any(|c| c.action != Action::NoOp || c.importing)
            || self.outputs.iter().any(|o| o.before.as_ref() != Some(&o.after))
            || !self.removed_outputs.is_empty()
    }

    pub fn count(&self, a: Action) -> usize {
        self.changes.iter().filter(|c| c.action == a).count()
    }

    pub fn change(&self, addr: &str) -> Option<&Change> {
        self.changes.iter().find(|c| c.address == addr)
    }
}

/// Everything the differ needs besides the stack.
pub struct PlanRequest<'a> {
    pub stack: &'a Stack,
    pub graph: &'a DepGraph,
    /// State as refreshed from the cloud.
    pub state: &'a State,
    pub env: &'a str,
    pub default_tags: &'a BTreeMap<String, String>,
    pub targets: &'a [String],
    pub destroy: bool,
    /// The resource types, from the provider (handed in; the planner imports none).
    pub catalog: &'a Catalog,
    /// What each of the stack's `import:` entries found in AWS (read by the caller), at
    /// its address; an entry whose address is already in state is not read.
    pub imported: &'a [crate::state::ResourceState],
    /// The stack's data sources, as the caller read them (in the stack's order).
    pub data: &'a [DataRead],
    /// `--allow-resnapshot`: replacing what holds a CDC position is allowed.
    pub allow_resnapshot: bool,
}

/// A data source as read at plan time: what `${data.NAME.attr}` is, in this plan and
/// when it is applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataRead {
    pub address: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub attrs: Map<String, Value>,
}

/// The stack's `import:` entries whose address is not in state (after `moved:`), as
/// (address, type, ID): what the caller reads from the cloud for [`PlanRequest::imported`].
pub fn wanted_imports(state: &State, stack: &Stack) -> Result<Vec<(String, String, String)>, Vec<Diagnostic>> {
    let (migrated, _, _) = migrate(state, stack, &[])?;
    Ok(stack
        .imports
        .iter()
        .filter(|i| migrated.get(&i.to).is_none())
        .filter_map(|i| Some((i.to.clone(), stack.resource(&i.to)?.ty.name.to_string(), i.id.clone())))
        .collect())
}

/// A migrated state (borrowed when there was nothing to migrate), the moves made
/// (from, to) and the removals (address, ID).
pub type Migrated<'s> = (std::borrow::Cow<'s, State>, Vec<(String, String)>, Vec<(String, String)>);

/// The state the plan is made against: `state` with the stack's `moved:` and `removed:`
/// applied (in order) and the imported resources in it. Returns the moves and removals
/// that did something; an entry whose `from` is not in state is already done.
pub fn migrate<'s>(
    state: &'s State,
    stack: &Stack,
    imported: &[crate::state::ResourceState],
) -> Result<Migrated<'s>, Vec<Diagnostic>> {
    // The usual plan has nothing to migrate: the state is not copied (30,000 resources).
    if stack.moved.is_empty() && stack.removed.is_empty() && imported.is_empty() {
        return Ok((std::borrow::Cow::Borrowed(state), Vec::new(), Vec::new()));
    }
    let mut s = state.clone();
    let (mut moved, mut removed, mut diags) = (Vec::new(), Vec::new(), Vec::new());
    for m in &stack.moved {
        if crate::state::matching(&s, &m.from).is_empty() {
            continue;
        }
        match s.move_address(&m.from, &m.to) {
            Ok(pairs) => moved.extend(pairs),
            Err(why) => diags.push(
                Diagnostic::error("Move not possible", format!("`{}` cannot move to `{}`: {why}", m.from, m.to))
                    .at(&m.span)
                    .hint("both are in state: remove one with `cloudbridge state rm`, or drop this entry"),
            ),
        }
    }
    for r in &stack.removed {
        if let Ok(gone) = s.forget(&r.from) {
            removed.extend(gone);
        }
    }
    for r in imported {
        if let Some(other) = s.resources.iter().find(|x| x.ty == r.ty && x.id == r.id) {
            let span = stack.imports.iter().find(|i| i.to == r.address).map(|i| i.span.clone());
            let d = Diagnostic::error(
                "Import not possible",
                format!("`{}` ({}) is already in state as `{}`", r.id, r.ty, other.address),
            )
            .hint("one resource has one address: use `moved:` to give it a new one");
            diags.push(match span {
                Some(sp) => d.at(&sp),
                None => d,
            });
            continue;
        }
        s.put(r.clone());
    }
    if diags.is_empty() {
        Ok((std::borrow::Cow::Owned(s), moved, removed))
    } else {
        Err(diags)
    }
}

/// The tags expression: env default tags, then the resource's own, then ownership tags.
fn merged_tags(user: Option<&Expr>, req: &PlanRequest, address: &str) -> Expr {
    let mut entries: Vec<(String, Expr)> =
        req.default_tags.iter().map(|(k, v)| (k.clone(), Expr::Lit(Value::String(v.clone())))).collect();
    let mut set = |k: String, e: Expr| match entries.iter_mut().find(|(x, _)| *x == k) {
        Some(slot) => slot.1 = e,
        None => entries.push((k, e)),
    };
    match user {
        Some(Expr::Lit(Value::Object(m))) => m.iter().for_each(|(k, v)| set(k.clone(), Expr::Lit(v.clone()))),
        Some(Expr::Map(m)) => m.iter().for_each(|(k, e)| set(k.clone(), e.clone())),
        _ => {}
    }
    for (k, v) in crate::ownership::tags(&req.stack.name, req.env, &req.state.lineage, address) {
        set(k, Expr::Lit(Value::String(v)));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    if entries.iter().all(|(_, e)| matches!(e, Expr::Lit(_))) {
        Expr::Lit(Value::Object(
            entries.into_iter().map(|(k, e)| (k, if let Expr::Lit(v) = e { v } else { Value::Null })).collect(),
        ))
    } else {
        Expr::Map(entries)
    }
}

struct Known {
    action: Action,
    /// The properties the plan changes (for an update).
    changed: Vec<String>,
    ty: &'static TypeSchema,
    after: Map<String, Value>,
    attrs: Map<String, Value>,
}

fn lookup(known: &BTreeMap<String, Known>, data: &[DataRead], r: &Ref) -> Option<Value> {
    if r.resource.starts_with("data.") {
        return data.iter().find(|d| d.address == r.resource)?.attrs.get(&r.attr).cloned();
    }
    let k = known.get(&r.resource)?;
    // A tags-only update never makes a new revision or version.
    let fresh = matches!(k.action, Action::Create | Action::Replace)
        || (k.action == Action::Update
            && k.ty.changes_on_update.contains(&r.attr.as_str())
            && k.changed.iter().any(|p| p != "tags"));
    if r.attr == "id" || k.ty.attrs.contains(&r.attr.as_str()) {
        return if fresh { None } else { k.attrs.get(&r.attr).cloned() };
    }
    match k.after.get(&r.attr) {
        Some(v) if !crate::expr::is_unknown(v) => Some(v.clone()),
        _ => None,
    }
}

fn redact(ty: &TypeSchema, derived: &[String], props: &Map<String, Value>) -> Map<String, Value> {
    props
        .iter()
        .map(|(k, v)| (k.clone(), if ty.secret(k, derived) { Value::String(SENSITIVE.into()) } else { v.clone() }))
        .collect()
}

/// `--target` as given, with a resource's declared name (`queue`) standing for all its
/// instances (`queue["orders"]`, …) and a module (`module.db`) for everything in it, in
/// the stack or the state, as in Terraform.
pub fn expand_targets(targets: &[String], graph: &DepGraph, state: &State) -> Vec<String> {
    let mut out = Vec::new();
    for t in targets {
        if graph.contains(t) || state.get(t).is_some() {
            out.push(t.clone());
            continue;
        }
        let (prefix, inside) = (format!("{t}["), format!("{t}."));
        let module = t.starts_with("module.");
        let mut all: Vec<String> = graph
            .addresses()
            .chain(state.resources.iter().map(|r| r.address.as_str()))
            .filter(|a| a.starts_with(&prefix) || (module && a.starts_with(&inside)))
            .map(str::to_string)
            .collect();
        if all.is_empty() {
            out.push(t.clone());
        }
        all.sort();
        all.dedup();
        out.extend(all);
    }
    out
}

/// Each `--target` that names no resource of the stack or the state. Pure and cheap:
/// commands check it before refreshing anything.
pub fn unknown_targets(targets: &[String], stack: &Stack, graph: &DepGraph, state: &State) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for t in targets {
        if !graph.contains(t) && state.get(t).is_none() {
            let names: Vec<&str> = stack.resources.iter().map(|r| r.name.as_str()).collect();
            diags.push(
                Diagnostic::error(
                    "Unknown target",
                    format!("`--target {t}` names no resource of the stack or the state"),
                )
                .hint(match crate::config::suggest(t, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "see `cloudbridge state list` for the addresses in state".into(),
                }),
            );
        }
    }
    diags
}

/// Compute the plan. Errors are user errors (an unknown `--target`).
pub fn diff(req: &PlanRequest) -> Result<Plan, Vec<Diagnostic>> {
    let stack = req.stack;
    let diags = unknown_targets(req.targets, stack, req.graph, req.state);
    if !diags.is_empty() {
        return Err(diags);
    }
    // A destroy deletes what state holds, under the addresses it has.
    let (migrated, moved, removed) = if req.destroy {
        (std::borrow::Cow::Borrowed(req.state), Vec::new(), Vec::new())
    } else {
        migrate(req.state, stack, req.imported)?
    };
    let state = &migrated;
    let importing: std::collections::BTreeSet<&str> = req.imported.iter().map(|r| r.address.as_str()).collect();
    let in_scope =
        |addr: &str, set: &Option<std::collections::BTreeSet<String>>| set.as_ref().is_none_or(|s| s.contains(addr));

    let mut changes = Vec::new();
    let mut known: BTreeMap<String, Known> = BTreeMap::new();
    // One lookup per resource, not a scan of the stack each time (30,000 resources).
    let by_name: std::collections::HashMap<&str, &crate::config::Resource> =
        stack.resources.iter().map(|r| (r.name.as_str(), r)).collect();

    if req.destroy {
        let state_graph = DepGraph::new(state.resources.iter().map(|r| (r.address.clone(), r.dependencies.clone())));
        let scope = (!req.targets.is_empty()).then(|| state_graph.with_dependents(req.targets));
        for r in &state.resources {
            if !in_scope(&r.address, &scope) {
                continue;
            }
            let Some(ty) = req.catalog.lookup(&r.ty) else {
                continue;
            };
            changes.push(delete_change(ty, r));
        }
    } else {
        let scope = (!req.targets.is_empty()).then(|| req.graph.with_dependencies(req.targets));
        for addr in req.graph.topo_order() {
            let Some(res) = by_name.get(addr.as_str()).copied() else {
                continue;
            };
            let ty = res.ty;
            let mut config = res.props.clone();
            if ty.taggable {
                let tags = merged_tags(res.props.get("tags"), req, &addr);
                config.insert("tags".into(), tags);
            }
            let desired: Map<String, Value> =
                config.iter().map(|(k, e)| (k.clone(), e.resolve(&|r: &Ref| lookup(&known, req.data, r)))).collect();
            let current = state.get(&addr);
            if !in_scope(&addr, &scope) {
                // Outside the targets: stays as it is; its state values still serve references.
                if let Some(cur) = current {
                    known.insert(
                        addr.clone(),
                        Known {
                            action: Action::NoOp,
                            changed: Vec::new(),
                            ty,
                            after: cur.properties.clone(),
                            attrs: cur.attributes.clone(),
                        },
                    );
                }
                continue;
            }
            let deps = stack_deps(res);
            let derived: Vec<String> = res.sensitive.iter().cloned().collect();
            let (action, changed, replace_because) = match current {
                None => (Action::Create, desired.keys().cloned().collect(), Vec::new()),
                Some(cur) => {
                    let mut changed = Vec::new();
                    let mut replace = Vec::new();
                    for p in ty.props {
                        let Some(d) = desired.get(p.name) else {
                            continue;
                        };
                        let c = cur.properties.get(p.name);
                        let same = if ty.secret(p.name, &derived) {
                            !contains_unknown(d) && c == Some(&state.hash_sensitive(d))
                        } else {
                            !contains_unknown(d)
                                && c.is_some_and(|c| {
                                    canonical(ty, p.name, &p.kind, c) == canonical(ty, p.name, &p.kind, d)
                                })
                        };
                        if !same {
                            changed.push(p.name.to_string());
                            if p.update.replaces(c, d) {
                                replace.push(p.name.to_string());
                            }
                        }
                    }
                    let action = if !replace.is_empty() {
                        Action::Replace
                    } else if !changed.is_empty() || cur.pending.is_some() {
                        Action::Update
                    } else {
                        Action::NoOp
                    };
                    (action, changed, replace)
                }
            };
            let after_full = match (action, current) {
                // Unchanged optional properties keep their current value for references.
                (Action::NoOp | Action::Update, Some(cur)) => {
                    let mut m = cur.properties.clone();
                    m.extend(desired.clone());
                    m
                }
                _ => desired.clone(),
            };
            known.insert(
                addr.clone(),
                Known {
                    action,
                    changed: changed.clone(),
                    ty,
                    after: after_full,
                    attrs: current.map(|c| c.attributes.clone()).unwrap_or_default(),
                },
            );
            changes.push(Change {
                address: addr.clone(),
                ty: ty.name.to_string(),
                action,
                id: current.map(|c| c.id.clone()),
                before: current.map(|c| redact(ty, &c.sensitive, &c.properties)),
                after: Some(redact(ty, &derived, &desired)),
                changed,
                replace_because,
                config,
                dependencies: deps,
                timeouts: res.timeouts,
                pending: current.is_some_and(|c| c.pending.is_some()),
                location: Some(res.span.clone()),
                sensitive: derived,
                withheld: Vec::new(),
                importing: importing.contains(addr.as_str()),
            });
        }
        // In state but no longer in the stack: delete (only if targeted, when targeting).
        for r in &state.resources {
            if req.graph.contains(&r.address) || (!req.targets.is_empty() && !req.targets.contains(&r.address)) {
                continue;
            }
            if let Some(ty) = req.catalog.lookup(&r.ty) {
                changes.push(delete_change(ty, r));
            }
        }
    }
    changes.sort_by(|a, b| a.address.cmp(&b.address));

    // `prevent_destroy`: no plan may delete or replace such a resource.
    let mut blocked = Vec::new();
    for c in changes.iter().filter(|c| matches!(c.action, Action::Delete | Action::Replace)) {
        let Some(res) = by_name.get(c.address.as_str()).copied().filter(|r| r.prevent_destroy) else { continue };
        let why = match c.action {
            Action::Replace => format!("replace it (because of {})", c.replace_because.join(", ")),
            _ => "destroy it".to_string(),
        };
        blocked.push(
            Diagnostic::error("Destroy prevented", format!("`{}` has `prevent_destroy: true`, and this plan would {why}", c.address))
                .at(&res.span)
                .hint("if that is really intended, remove `prevent_destroy` from the resource first; otherwise change the stack, or leave it out with `--target`"),
        );
    }
    // What holds a CDC position (a DMS task, a Debezium connector) is replaced only
    // when the user allows the full reload or new snapshot that follows.
    for c in changes.iter().filter(|c| c.action == Action::Replace) {
        let Some(what) = req.catalog.lookup(&c.ty).and_then(|t| t.restarts_cdc) else { continue };
        let Some(res) = by_name.get(c.address.as_str()).copied() else { continue };
        if req.allow_resnapshot || res.allow_resnapshot || res.suppress.contains_key("CB313") {
            continue;
        }
        let at = c.replace_because.first().and_then(|p| res.spans.get(p)).unwrap_or(&res.span);
        blocked.push(
            CB313
                .finding(
                    &c.address,
                    format!(
                        "this plan replaces `{}` (because of {}): {what}",
                        c.address,
                        c.replace_because.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
                    ),
                )
                .at(at)
                .hint("change only what can change in place, or, if the reload is intended, plan again with `--allow-resnapshot` (or set `allow_resnapshot: true` on the resource)"),
        );
    }
    if !blocked.is_empty() {
        return Err(blocked);
    }

    let outputs = if req.destroy {
        Vec::new()
    } else {
        stack
            .outputs
            .iter()
            .map(|o| {
                let after = o.value.resolve(&|r: &Ref| lookup(&known, req.data, r));
                OutputChange {
                    name: o.name.clone(),
                    sensitive: o.sensitive,
                    before: state.outputs.get(&o.name).map(|s| s.value.clone()),
                    // A sensitive output is never written down, in a plan or in state: both
                    // hold its hash, which still tells whether it changed.
                    after: if o.sensitive && !contains_unknown(&after) { state.hash_sensitive(&after) } else { after },
                    expr: o.value.clone(),
                }
            })
            .collect()
    };
    Ok(Plan {
        format_version: PLAN_FORMAT_VERSION,
        stack: stack.name.clone(),
        env: req.env.to_string(),
        state_lineage: Some(req.state.lineage.clone()),
        state_serial: Some(req.state.serial),
        destroy: req.destroy,
        stack_dir: stack.file.parent().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default(),
        stack_file: stack.file.to_string_lossy().into_owned(),
        changes,
        outputs,
        moved,
        removed,
        data: req.data.to_vec(),
        removed_outputs: state
            .outputs
            .iter()
            .filter(|(name, _)| req.destroy || !stack.outputs.iter().any(|o| &o.name == *name))
            .map(|(name, o)| RemovedOutput { name: name.clone(), sensitive: o.sensitive, before: o.value.clone() })
            .collect(),
        drift: Vec::new(),
        targets: Vec::new(),
        cost: None,
        digest: String::new(),
    })
}

fn delete_change(ty: &'static TypeSchema, r: &crate::state::ResourceState) -> Change {
    Change {
        address: r.address.clone(),
        ty: r.ty.clone(),
        action: Action::Delete,
        id: Some(r.id.clone()),
        before: Some(redact(ty, &r.sensitive, &r.properties)),
        after: None,
        changed: Vec::new(),
        replace_because: Vec::new(),
        config: BTreeMap::new(),
        dependencies: r.dependencies.clone(),
        timeouts: ty.timeouts,
        pending: false,
        location: None,
        sensitive: r.sensitive.clone(),
        withheld: Vec::new(),
        importing: false,
    }
}

/// `true` when the value is the unknown placeholder (for renderers).
pub fn unknown_value() -> Value {
    Value::String(UNKNOWN.into())
}

/// A difference between state and what the cloud reports (changes made outside cloudbridge).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub address: String,
    #[serde(rename = "type")]
    pub ty: String,
    /// `None` when the resource no longer exists.
    pub changed: Option<Vec<(String, Value, Value)>>,
}

/// What changed outside cloudbridge between `state` and `refreshed` (sensitive values are
/// never compared here: state holds only their hashes, and refresh keeps those).
pub fn drift(state: &State, refreshed: &State, catalog: &Catalog) -> Vec<Drift> {
    let mut out = Vec::new();
    for r in &state.resources {
        let Some(ty) = catalog.lookup(&r.ty) else { continue };
        match refreshed.get(&r.address) {
            None => out.push(Drift { address: r.address.clone(), ty: r.ty.clone(), changed: None }),
            Some(now) => {
                let mut changed = Vec::new();
                for p in ty.props.iter().filter(|p| !p.sensitive) {
                    let (a, b) = (r.properties.get(p.name), now.properties.get(p.name));
                    let same = match (a, b) {
                        (Some(a), Some(b)) => canonical(ty, p.name, &p.kind, a) == canonical(ty, p.name, &p.kind, b),
                        (a, b) => a == b,
                    };
                    if !same {
                        changed.push((
                            p.name.to_string(),
                            a.cloned().unwrap_or(Value::Null),
                            b.cloned().unwrap_or(Value::Null),
                        ));
                    }
                }
                if !changed.is_empty() {
                    out.push(Drift { address: r.address.clone(), ty: r.ty.clone(), changed: Some(changed) });
                }
            }
        }
    }
    out
}

/// Terraform-style report of drift.
pub fn render_drift(drift: &[Drift]) -> String {
    if drift.is_empty() {
        return "No changes. No objects have changed outside of cloudbridge.\n".into();
    }
    let mut out = String::from("Objects have changed outside of cloudbridge:\n\n");
    for d in drift {
        match &d.changed {
            None => out.push_str(&format!("  # {} ({}) has been deleted\n\n", d.address, d.ty)),
            Some(props) => {
                out.push_str(&format!("  # {} ({}) has changed\n", d.address, d.ty));
                for (k, before, after) in props {
                    out.push_str(&format!("      ~ {k} = {} -> {}\n", compact(before), compact(after)));
                }
                out.push('\n');
            }
        }
    }
    out.push_str(&format!("{} resource{} drifted.\n", drift.len(), if drift.len() == 1 { "" } else { "s" }));
    crate::diag::printable(&out).into_owned()
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
