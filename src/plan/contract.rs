//! The plan as bots read it: `plan --json` and `show --json PLANFILE`, a versioned
//! format documented in `docs/json-format.md` and described by `docs/plan.schema.json`.
//! Unlike the saved-plan file it never holds a sentinel for an unknown value (`null`, and
//! `true` in `after_unknown`) nor a secret (`null`, and the path in `sensitive_paths`),
//! lists no-ops by address only, and carries the summary, the warning classes, the
//! drift and the checks' findings.

use super::{Action, Change, Plan, SENSITIVE};
use crate::diag::Diagnostic;
use crate::expr::UNKNOWN;
use crate::schema::Catalog;
use serde_json::{json, Map, Value};

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `MAJOR.MINOR`: a minor version only adds fields; a major one may change or remove.
pub const FORMAT_VERSION: &str = "1.0";

fn actions(c: &Change) -> Vec<&'static str> {
    match c.action {
        Action::NoOp => vec!["no-op"],
        Action::Create => vec!["create"],
        Action::Update => vec!["update"],
        // cloudbridge deletes first (a name or an address is taken by the old one).
        Action::Replace => vec!["delete", "create"],
        Action::Delete => vec!["delete"],
    }
}

/// `v` without unknowns and secrets (both `null`), and where they were: `(value,
/// unknown mask, sensitive paths)`.
fn split(v: &Value, path: &mut Vec<Value>, sensitive: &mut Vec<Value>) -> (Value, Value) {
    match v {
        Value::String(s) if s == UNKNOWN => (Value::Null, Value::Bool(true)),
        Value::String(s) if s == SENSITIVE => {
            sensitive.push(Value::Array(path.clone()));
            (Value::Null, Value::Bool(false))
        }
        Value::Object(m) => {
            let (mut value, mut mask) = (Map::new(), Map::new());
            for (k, x) in m {
                path.push(Value::String(k.clone()));
                let (a, b) = split(x, path, sensitive);
                path.pop();
                value.insert(k.clone(), a);
                if b != Value::Bool(false) {
                    mask.insert(k.clone(), b);
                }
            }
            (Value::Object(value), if mask.is_empty() { Value::Bool(false) } else { Value::Object(mask) })
        }
        Value::Array(a) => {
            let (mut value, mut mask, mut any) = (Vec::new(), Vec::new(), false);
            for (i, x) in a.iter().enumerate() {
                path.push(json!(i));
                let (v, m) = split(x, path, sensitive);
                path.pop();
                any |= m != Value::Bool(false);
                value.push(v);
                mask.push(m);
            }
            (Value::Array(value), if any { Value::Array(mask) } else { Value::Bool(false) })
        }
        other => (other.clone(), Value::Bool(false)),
    }
}

fn side(props: Option<&Map<String, Value>>, sensitive: &mut Vec<Value>) -> (Value, Value) {
    match props {
        None => (Value::Null, Value::Object(Map::new())),
        Some(m) => {
            let (v, mask) = split(&Value::Object(m.clone()), &mut Vec::new(), sensitive);
            (v, if mask == Value::Bool(false) { Value::Object(Map::new()) } else { mask })
        }
    }
}

/// The warning classes of a change: `stateful_replacement`, `stateful_deletion`,
/// `cdc_restart`, `prevent_destroy`.
fn warnings(c: &Change, catalog: &Catalog) -> Vec<&'static str> {
    let ty = catalog.lookup(&c.ty);
    let mut w = Vec::new();
    if ty.is_some_and(|t| t.stateful) {
        match c.action {
            Action::Replace => w.push("stateful_replacement"),
            Action::Delete => w.push("stateful_deletion"),
            _ => {}
        }
    }
    if c.action == Action::Replace && ty.is_some_and(|t| t.restarts_cdc.is_some()) {
        w.push("cdc_restart");
    }
    w
}

/// The JSON contract of `plan`: `findings` are the stack's warnings (the checks' and the
/// others).
pub fn contract(plan: &Plan, catalog: &Catalog, findings: &[Diagnostic]) -> Value {
    let cost = plan.cost.as_ref().map(|c| {
        json!({
            "currency": "USD",
            "prices_date": c.prices_date,
            "monthly_before": c.before,
            "monthly_after": c.after,
            // In cents, as the amounts are (`cost::plan_cost`); their difference is not.
            "monthly_delta": round(c.after - c.before),
            "resources": c.resources.iter().map(|r| json!({
                "address": r.address,
                "type": r.ty,
                "monthly_before": r.before,
                "monthly_after": r.after,
                "how": r.how,
                "usage_based": r.usage_based,
            })).collect::<Vec<_>>(),
            "assumptions": c.assumptions.0,
        })
    });
    let mut resource_changes = Vec::new();
    for c in &plan.changes {
        let mut o = Map::new();
        o.insert("address".into(), json!(c.address));
        o.insert("type".into(), json!(c.ty));
        o.insert("actions".into(), json!(actions(c)));
        if c.action == Action::NoOp && !c.importing {
            resource_changes.push(Value::Object(o));
            continue;
        }
        let mut sensitive = Vec::new();
        let (before, _) = side(c.before.as_ref(), &mut sensitive);
        let (after, after_unknown) = side(c.after.as_ref(), &mut sensitive);
        sensitive.sort_by_key(Value::to_string);
        sensitive.dedup();
        o.insert("id".into(), json!(c.id));
        o.insert("before".into(), if c.action == Action::Create { Value::Null } else { before });
        o.insert("after".into(), if c.action == Action::Delete { Value::Null } else { after });
        o.insert("after_unknown".into(), after_unknown);
        o.insert("changed".into(), json!(c.changed));
        o.insert("replace_paths".into(), json!(c.replace_because.iter().map(|p| vec![p]).collect::<Vec<_>>()));
        o.insert("sensitive_paths".into(), Value::Array(sensitive));
        o.insert("warnings".into(), json!(warnings(c, catalog)));
        if c.importing {
            o.insert("importing".into(), json!({ "id": c.id }));
        }
        resource_changes.push(Value::Object(o));
    }
    let mut output_changes = Map::new();
    for o in &plan.outputs {
        let action = match &o.before {
            None => "create",
            Some(b) if *b == o.after => "no-op",
            Some(_) => "update",
        };
        let unknown = crate::expr::contains_unknown(&o.after);
        let (after, _) = split(&o.after, &mut Vec::new(), &mut Vec::new());
        output_changes.insert(
            o.name.clone(),
            json!({
                "actions": [action],
                "before": if o.sensitive { Value::Null } else { o.before.clone().unwrap_or(Value::Null) },
                "after": if o.sensitive || unknown { Value::Null } else { after },
                "after_unknown": unknown,
                "sensitive": o.sensitive,
            }),
        );
    }
    for o in &plan.removed_outputs {
        output_changes.insert(
            o.name.clone(),
            json!({
                "actions": ["delete"],
                "before": if o.sensitive { Value::Null } else { o.before.clone() },
                "after": null,
                "after_unknown": false,
                "sensitive": o.sensitive,
            }),
        );
    }
    let count = |a: Action| plan.count(a);
    let (checks, diagnostics): (Vec<&Diagnostic>, Vec<&Diagnostic>) = findings.iter().partition(|d| d.rule.is_some());
    let warning_classes: Vec<&str> = {
        let mut w: Vec<&str> = plan.changes.iter().flat_map(|c| warnings(c, catalog)).collect();
        w.sort_unstable();
        w.dedup();
        w
    };
    json!({
        "format_version": FORMAT_VERSION,
        "cloudbridge_version": env!("CARGO_PKG_VERSION"),
        "stack": plan.stack,
        "env": plan.env,
        "destroy": plan.destroy,
        "targets": plan.targets,
        "summary": {
            "add": count(Action::Create) + count(Action::Replace),
            "change": count(Action::Update),
            "destroy": count(Action::Delete) + count(Action::Replace),
            "replace": count(Action::Replace),
            "import": plan.changes.iter().filter(|c| c.importing).count(),
            "move": plan.moved.len(),
            "forget": plan.removed.len(),
            "no_op": plan.changes.iter().filter(|c| c.action == Action::NoOp && !c.importing).count(),
            "has_changes": plan.has_changes(),
        },
        "warning_classes": warning_classes,
        "resource_changes": resource_changes,
        "moved": plan.moved.iter().map(|(from, to)| json!({ "from": from, "to": to })).collect::<Vec<_>>(),
        "removed": plan.removed.iter().map(|(address, id)| json!({ "address": address, "id": id })).collect::<Vec<_>>(),
        "output_changes": output_changes,
        "drift": plan.drift.iter().map(|d| json!({
            "address": d.address,
            "type": d.ty,
            "deleted": d.changed.is_none(),
            "changed": d.changed.as_ref().map(|c| c.iter().map(|(k, before, after)| json!({ "property": k, "before": before, "after": after })).collect::<Vec<_>>()),
        })).collect::<Vec<_>>(),
        "diagnostics": diagnostics.into_iter().map(crate::rules::finding).collect::<Vec<_>>(),
        "checks": checks.into_iter().map(crate::rules::finding).collect::<Vec<_>>(),
        "cost": cost,
    })
}
