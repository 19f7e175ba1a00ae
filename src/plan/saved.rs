//! Saved plans (`plan --out FILE`, `apply FILE`). A plan file is self-checking: it carries a
//! SHA-256 digest of its content, and before anything runs everything in it is checked
//! against this build (types, properties, integer ranges, the dependency graph) and what
//! it displays (`after`) against what apply will send (`config`). Pure: bytes in, bytes out.

use super::{Action, Change, Plan, PLAN_FORMAT_VERSION, SENSITIVE};
use crate::diag::{Diagnostic, Span};
use crate::expr::is_unknown;
use crate::graph::DepGraph;
use crate::schema::Catalog;
use serde_json::Value;
use std::path::Path;

const REMAKE: &str = "make a new plan with `cloudbridge plan --out FILE` and review it";

/// The digest of a plan's content: its JSON with `digest` empty.
fn digest(plan: &Plan) -> String {
    let bare = Plan { digest: String::new(), ..plan.clone() };
    crate::state::sha256_hex(&serde_json::to_vec(&bare).unwrap_or_default())
}

/// What the hashes of a plan's secrets are salted with.
fn salt(plan: &Plan) -> String {
    format!("{}:{}:{}", plan.stack, plan.env, plan.state_lineage.as_deref().unwrap_or_default())
}

/// The hash a written plan holds in place of a secret expression.
fn secret_hash(salt: &str, e: &crate::expr::Expr) -> String {
    format!(
        "withheld:sha256:{}",
        crate::state::sha256_hex(format!("{salt}:{}", serde_json::to_string(e).unwrap_or_default()).as_bytes())
    )
}

/// The plan as it may be written down or printed (`plan --out`, `plan --json`): every
/// secret entry of a change's `config` replaced by a hash of it, and listed in `withheld`.
pub fn withhold(plan: &Plan, catalog: &Catalog) -> Plan {
    let salt = salt(plan);
    let mut out = plan.clone();
    for c in &mut out.changes {
        let Some(ty) = catalog.lookup(&c.ty) else { continue };
        let secret: Vec<String> = c.config.keys().filter(|k| ty.secret(k, &c.sensitive)).cloned().collect();
        for k in secret {
            let hash = secret_hash(&salt, &c.config[&k]);
            c.config.insert(k.clone(), crate::expr::Expr::Lit(Value::String(hash)));
            if !c.withheld.contains(&k) {
                c.withheld.push(k);
            }
        }
    }
    out
}

/// Put back what [`withhold`] took out, from the stack as it is now; refused where the
/// stack no longer gives the same value (it changed since the plan was made).
pub fn restore(plan: &mut Plan, stack: &crate::config::Stack) -> Result<(), Vec<Diagnostic>> {
    let salt = salt(plan);
    let mut diags = Vec::new();
    for c in &mut plan.changes {
        let declared = stack.resource(&c.address);
        for k in std::mem::take(&mut c.withheld) {
            match declared.and_then(|r| r.props.get(&k)) {
                Some(e) if c.config.get(&k) == Some(&crate::expr::Expr::Lit(Value::String(secret_hash(&salt, e)))) => {
                    c.config.insert(k, e.clone());
                }
                _ => diags.push(
                    Diagnostic::error(
                        "Stale plan file",
                        format!("the secret `{k}` of `{}` is not what it was when the plan was made", c.address),
                    )
                    .at(&declared.map_or_else(|| Span::file(Path::new(&plan.stack_file)), |r| r.span.clone()))
                    .hint("a saved plan holds no secrets and reads them from the stack when applied; make a new plan"),
                ),
            }
        }
    }
    if diags.is_empty() {
        Ok(())
    } else {
        Err(diags)
    }
}

/// The bytes of a plan file: the plan with its secrets withheld and its digest.
pub fn seal(plan: &Plan, catalog: &Catalog) -> Vec<u8> {
    let plan = &withhold(plan, catalog);
    let sealed = Plan { digest: digest(plan), ..plan.clone() };
    let mut bytes = serde_json::to_vec_pretty(&sealed).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Read a plan file and check all of it; every problem is reported, and none of it runs
/// unless there is none.
pub fn open(bytes: &[u8], file: &Path, catalog: &Catalog) -> Result<Plan, Vec<Diagnostic>> {
    let at = Span::file(file);
    let fail = |summary: &'static str, detail: String, hint: &str| {
        vec![Diagnostic::error(summary, detail).at(&at).hint(hint.to_string())]
    };
    let value = crate::json::parse_strict(bytes).map_err(|e| {
        fail("Invalid plan file", format!("`{}` is not a cloudbridge plan file: {e}", file.display()), REMAKE)
    })?;
    let version = value.get("format_version").and_then(Value::as_u64).unwrap_or(0);
    if version > u64::from(PLAN_FORMAT_VERSION) {
        return Err(fail(
            "Newer plan file",
            format!("the plan file has format version {version}, newer than this cloudbridge"),
            "apply it with the cloudbridge version that made it",
        ));
    }
    let plan: Plan = serde_json::from_value(value).map_err(|e| {
        fail("Invalid plan file", format!("`{}` is not a cloudbridge plan file: {e}", file.display()), REMAKE)
    })?;
    if plan.digest.is_empty() || plan.digest != digest(&plan) {
        return Err(fail(
            "Modified plan file",
            format!("`{}` was changed after `cloudbridge plan` wrote it (its digest does not match)", file.display()),
            "a saved plan is applied exactly as it was shown; make a new plan instead of editing one",
        ));
    }
    let mut diags: Vec<Diagnostic> = plan.changes.iter().flat_map(|c| check_change(c, catalog, &at)).collect();
    let graph = DepGraph::new(plan.changes.iter().map(|c| (c.address.clone(), c.dependencies.clone())));
    for cycle in graph.cycles() {
        diags.push(
            Diagnostic::error(
                "Dependency cycle in plan file",
                format!("the changes depend on each other in a cycle: {}", cycle.join(" -> ")),
            )
            .at(&at)
            .hint(REMAKE),
        );
    }
    if diags.is_empty() {
        Ok(plan)
    } else {
        Err(diags)
    }
}

/// One change: a type this build knows, only its properties, integers in range, and a
/// displayed `after` that is exactly what `config` sends (references aside).
fn check_change(c: &Change, catalog: &Catalog, at: &Span) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut problem = |detail: String| {
        out.push(
            Diagnostic::error("Invalid plan file", format!("change `{}`: {detail}", c.address)).at(at).hint(REMAKE),
        )
    };
    let Some(ty) = catalog.lookup(&c.ty) else {
        problem(format!("type `{}` is not a resource type this cloudbridge knows", c.ty));
        return out;
    };
    let after = c.after.clone().unwrap_or_default();
    // What apply would send; references resolve at apply time, so they are unknown here
    // and match what was displayed. A withheld secret is checked when read back.
    let mut known = crate::schema::Known::new();
    for (k, e) in &c.config {
        let Some(prop) = ty.prop(k) else {
            problem(format!("`{k}` is not a property of `{}`", ty.name));
            continue;
        };
        if c.withheld.contains(k) {
            continue;
        }
        let sent = e.resolve(&|_| None);
        if let Err(why) = prop.check_json(&sent) {
            problem(why);
        }
        let shown = after.get(k);
        let consistent = match shown {
            _ if matches!(c.action, Action::Delete) => true,
            Some(Value::String(s)) if ty.secret(k, &c.sensitive) => s == SENSITIVE,
            Some(v) => matches(&sent, v),
            None => false,
        };
        if !consistent {
            problem(format!("the plan shows `{k}` differently from what apply would send"));
        }
        let unknown = crate::expr::contains_unknown(&sent);
        known.insert(k.clone(), if unknown { Value::Null } else { sent });
    }
    for f in ty.findings(&known) {
        problem(format!("`{}`: {}", f.prop, f.message));
    }
    for k in after.keys() {
        if !c.config.contains_key(k) && !matches!(c.action, Action::Delete) {
            problem(format!("the plan shows `{k}`, which apply would not send"));
        }
    }
    out
}

/// `sent` (with unknowns for references) against what was shown.
fn matches(sent: &Value, shown: &Value) -> bool {
    if is_unknown(sent) {
        return true;
    }
    match (sent, shown) {
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| matches(x, y)),
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, x)| b.get(k).is_some_and(|y| matches(x, y)))
        }
        _ => sent == shown,
    }
}
