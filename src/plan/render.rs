//! Human rendering of a plan, in Terraform's shape: a block per resource with `+`, `~`,
//! `-/+` and `-` markers, the property that forces a replacement, and a summary line.

use super::{Action, Change, Plan, SENSITIVE};
use crate::expr::{contains_unknown, UNKNOWN};
use crate::schema::Catalog;
use serde_json::Value;
use std::fmt::Write;

fn value(v: &Value, indent: usize) -> String {
    if v.as_str() == Some(UNKNOWN) {
        return "(known after apply)".into();
    }
    if v.as_str() == Some(SENSITIVE) {
        return SENSITIVE.into();
    }
    let text = match v {
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(m) if m.is_empty() => "{}".into(),
        Value::Array(_) | Value::Object(_) => serde_json::to_string_pretty(v).unwrap_or_default(),
        other => other.to_string(),
    };
    // Unknowns nested in lists and maps: their JSON form is an escaped string.
    let marker = serde_json::to_string(UNKNOWN).unwrap_or_default();
    let text = text.replace(&marker, "(known after apply)");
    let pad = " ".repeat(indent);
    text.lines().collect::<Vec<_>>().join(&format!("\n{pad}"))
}

fn verb(c: &Change) -> &'static str {
    match c.action {
        Action::Create => "will be created",
        Action::Update => "will be updated in-place",
        Action::Replace => "must be replaced",
        Action::Delete => "will be destroyed",
        Action::NoOp => "is unchanged",
    }
}

fn render_change(out: &mut String, c: &Change, catalog: &Catalog) {
    if c.importing {
        let id = c.id.as_deref().unwrap_or_default();
        let _ = writeln!(out, "  # {} ({}) will be imported [id={id}]", c.address, c.ty);
        if c.action == Action::NoOp {
            let _ = writeln!(out, "    (it matches the stack: nothing to change)\n");
            return;
        }
    }
    let _ = writeln!(out, "  # {} ({}) {}", c.address, c.ty, verb(c));
    if matches!(c.action, Action::Replace | Action::Delete) && catalog.lookup(&c.ty).is_some_and(|t| t.stateful) {
        let verb = if c.action == Action::Replace { "replacing" } else { "destroying" };
        let _ = writeln!(out, "  # WARNING: {verb} `{}` deletes the data it holds ({} is stateful)", c.address, c.ty);
    }
    if let Some(what) = catalog.lookup(&c.ty).and_then(|t| t.restarts_cdc).filter(|_| c.action == Action::Replace) {
        let _ = writeln!(out, "  # WARNING: replacing `{}` restarts change data capture: {what}", c.address);
    }
    if c.pending {
        let _ =
            writeln!(out, "  # (it was still being created when the last run stopped: apply waits until it is ready)");
    }
    let sym = match c.action {
        Action::Replace => "-/+",
        a => a.symbol(),
    };
    // As Terraform: the comment above names the instance, this line the resource.
    let name = c.address.split('[').next().unwrap_or(&c.address);
    let _ = writeln!(out, "{sym:>3} resource \"{}\" \"{name}\" {{", c.ty);
    let empty = serde_json::Map::new();
    let before = c.before.as_ref().unwrap_or(&empty);
    let after = c.after.as_ref().unwrap_or(&empty);
    let keys: Vec<&String> = match c.action {
        Action::Create => after.keys().collect(),
        Action::Delete => before.keys().collect(),
        _ => c.changed.iter().collect(),
    };
    let width = keys.iter().map(|k| k.len()).max().unwrap_or(0).max(if c.id.is_some() { 2 } else { 0 });
    let body_indent = 6 + width + 5;
    if matches!(c.action, Action::Update | Action::Replace | Action::Delete) {
        if let Some(id) = &c.id {
            let _ = writeln!(out, "        {:width$} = {}", "id", value(&Value::String(id.clone()), body_indent));
        }
    }
    for k in &keys {
        match c.action {
            Action::Create => {
                let _ = writeln!(out, "      + {k:width$} = {}", value(&after[k.as_str()], body_indent));
            }
            Action::Delete => {
                let _ = writeln!(out, "      - {k:width$} = {}", value(&before[k.as_str()], body_indent));
            }
            _ => {
                let mut old = before.get(k.as_str()).cloned();
                let mut new = after.get(k.as_str()).cloned().unwrap_or(Value::Null);
                // Unordered collections are shown in canonical form, so the element diff
                // shows real changes, not AWS's way of grouping them.
                if let Some((ty, prop)) = catalog.lookup(&c.ty).and_then(|t| Some((t, t.prop(k)?))) {
                    if matches!(prop.kind, crate::schema::PropKind::Set(_)) && !crate::expr::contains_unknown(&new) {
                        old = old.map(|o| crate::schema::canonical(ty, k, &prop.kind, &o));
                        new = crate::schema::canonical(ty, k, &prop.kind, &new);
                    }
                }
                let old = old.as_ref();
                let note = if c.replace_because.contains(k) { " # forces replacement" } else { "" };
                let (marker, text) = match old {
                    None | Some(Value::Null) => ("+", value(&new, body_indent)),
                    // Maps and JSON documents (tags, policies, mappings, connector
                    // configuration): only what changed, the rest folded.
                    Some(o @ Value::Object(_)) if new.is_object() => ("~", nested(o, &new, 6)),
                    Some(Value::Array(o)) if new.as_array().is_some_and(|n| n.len() == o.len()) => {
                        ("~", nested(&Value::Array(o.clone()), &new, 6))
                    }
                    Some(Value::Array(o)) if new.is_array() => {
                        ("~", array_diff(o, new.as_array().unwrap_or(&Vec::new()), 6))
                    }
                    Some(o) => {
                        let arrow = if contains_unknown(&new) && !new.is_array() && !new.is_object() {
                            "(known after apply)".to_string()
                        } else {
                            value(&new, body_indent)
                        };
                        ("~", format!("{} -> {arrow}", value(o, body_indent)))
                    }
                };
                let _ = writeln!(out, "      {marker} {k:width$} = {text}{note}");
            }
        }
    }
    if matches!(c.action, Action::Update | Action::Replace) {
        let hidden = after.len().saturating_sub(c.changed.len());
        if hidden > 0 {
            let _ =
                writeln!(out, "        # ({hidden} unchanged propert{} hidden)", if hidden == 1 { "y" } else { "ies" });
        }
    }
    let _ = writeln!(out, "    }}\n");
}

/// A change inside a map or a list, as Terraform shows it: changed keys and elements
/// only (`~` changed, `+` added, `-` removed), nested ones opened the same way, the
/// unchanged ones counted. `indent` is the column of the property's marker.
fn nested(old: &Value, new: &Value, indent: usize) -> String {
    let pad = " ".repeat(indent + 4);
    let mut lines = Vec::new();
    let mut same = 0;
    let mut line = |marker: &str, key: Option<&str>, text: String| {
        let key = key.map(|k| format!("{} = ", compact(&Value::String(k.into())))).unwrap_or_default();
        lines.push(format!("{pad}{marker} {key}{text}"));
    };
    let change = |o: &Value, n: &Value| -> String {
        match (o, n) {
            (Value::Object(_), Value::Object(_)) => nested(o, n, indent + 4),
            (Value::Array(a), Value::Array(b)) if a.len() == b.len() => nested(o, n, indent + 4),
            (Value::Array(a), Value::Array(b)) => array_diff(a, b, indent + 4),
            _ if contains_unknown(n) && !n.is_array() && !n.is_object() => {
                format!("{} -> (known after apply)", compact(o))
            }
            _ => format!("{} -> {}", compact(o), value(n, indent + 8)),
        }
    };
    let (open, close) = match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            for (k, nv) in n {
                match o.get(k) {
                    Some(ov) if ov == nv => same += 1,
                    Some(ov) => line("~", Some(k), change(ov, nv)),
                    None => line("+", Some(k), value(nv, indent + 8)),
                }
            }
            for (k, ov) in o.iter().filter(|(k, _)| !n.contains_key(*k)) {
                line("-", Some(k), format!("{} -> null", value(ov, indent + 8)));
            }
            ("{", "}")
        }
        (Value::Array(o), Value::Array(n)) => {
            for (ov, nv) in o.iter().zip(n) {
                if ov == nv {
                    same += 1;
                } else {
                    line("~", None, change(ov, nv));
                }
            }
            ("[", "]")
        }
        _ => return format!("{} -> {}", compact(old), value(new, indent + 4)),
    };
    if same > 0 {
        lines.push(format!("{pad}  # ({same} unchanged element{} hidden)", if same == 1 { "" } else { "s" }));
    }
    format!("{open}\n{}\n{}{close}", lines.join("\n"), " ".repeat(indent + 2))
}

/// A collection change, element by element: `+` added, `-` removed, the rest counted.
/// `indent` is the column of the property's marker.
fn array_diff(old: &[Value], new: &[Value], indent: usize) -> String {
    let pad = " ".repeat(indent + 4);
    let mut lines = vec!["[".to_string()];
    for v in old.iter().filter(|v| !new.contains(v)) {
        lines.push(format!("{pad}- {},", compact(v)));
    }
    for v in new.iter().filter(|v| !old.contains(v)) {
        let shown = if crate::expr::contains_unknown(v) { value(v, 0) } else { compact(v) };
        lines.push(format!("{pad}+ {},", shown.replace('\n', " ")));
    }
    let same = new.iter().filter(|v| old.contains(v)).count();
    if same > 0 {
        lines.push(format!("{pad}  # ({same} unchanged element{} hidden)", if same == 1 { "" } else { "s" }));
    }
    lines.push(format!("{}]", " ".repeat(indent + 2)));
    lines.join("\n")
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// `Plan: 1 to add, 2 to change, 0 to destroy.`
pub fn summary_line(plan: &Plan) -> String {
    let add = plan.count(Action::Create) + plan.count(Action::Replace);
    let change = plan.count(Action::Update);
    let destroy = plan.count(Action::Delete) + plan.count(Action::Replace);
    let import = plan.changes.iter().filter(|c| c.importing).count();
    let forget = plan.removed.len();
    // As Terraform: "to import" and "to forget" appear only when there are some.
    let import = if import > 0 { format!("{import} to import, ") } else { String::new() };
    let forget = if forget > 0 { format!(", {forget} to forget") } else { String::new() };
    format!("Plan: {import}{add} to add, {change} to change, {destroy} to destroy{forget}.")
}

/// The full human rendering of a plan.
pub fn render(plan: &Plan, catalog: &Catalog) -> String {
    crate::diag::printable(&text(plan, catalog)).into_owned()
}

fn text(plan: &Plan, catalog: &Catalog) -> String {
    let mut out = String::new();
    if !plan.data.is_empty() {
        out.push_str("Data sources read (never changed or deleted):\n\n");
        for d in &plan.data {
            let _ = writeln!(out, "  # {} ({})", d.address, d.ty);
            let width = d.attrs.keys().map(String::len).max().unwrap_or(0);
            for (k, v) in &d.attrs {
                let _ = writeln!(out, "      {k:<width$} = {}", compact(v));
            }
        }
        out.push('\n');
    }
    if !plan.drift.is_empty() {
        out.push_str(&super::render_drift(&plan.drift));
        out.push_str(
            "Unless the stack is changed to match, applying this plan puts these objects back as the stack describes them.\n\n",
        );
    }
    if !plan.targets.is_empty() {
        let _ = writeln!(
            out,
            "Warning: Resource targeting is in effect ({})\n\nThis plan may not include every change the stack needs: use `--target` only for exceptional situations, such as recovering from a mistake, and run a full plan afterwards.\n",
            plan.targets.join(", ")
        );
    }
    if !plan.has_changes() {
        out.push_str("No changes. The infrastructure matches the configuration.\n");
        return out;
    }
    let changing: Vec<&Change> = plan.changes.iter().filter(|c| c.action != Action::NoOp || c.importing).collect();
    if !changing.is_empty() || !plan.moved.is_empty() || !plan.removed.is_empty() {
        out.push_str("cloudbridge will perform the following actions:\n\n");
        // Moves first: the blocks below already use the new addresses.
        for (from, to) in &plan.moved {
            let _ = writeln!(out, "  # {from} has moved to {to}");
        }
        if !plan.moved.is_empty() {
            out.push('\n');
        }
        for (address, id) in &plan.removed {
            let _ = writeln!(out, "  # {address} will be removed from state; it stays in AWS [id={id}]");
        }
        if !plan.removed.is_empty() {
            out.push('\n');
        }
        for c in &changing {
            render_change(&mut out, c, catalog);
            if let Some(r) = plan.cost.as_ref().and_then(|k| k.resources.iter().find(|r| r.address == c.address)) {
                // Under the block it belongs to: what this resource costs now and after.
                let money = |x: Option<f64>| x.map_or_else(|| "$0".to_string(), crate::cost::dollars);
                let text = match (r.before, r.after) {
                    (Some(b), Some(a)) if (a - b).abs() < 0.005 => format!("{}/mo", money(Some(a))),
                    (b, a) => format!("{}/mo → {}/mo", money(b), money(a)),
                };
                out.truncate(out.trim_end().len());
                let _ = writeln!(
                    out,
                    "\n    # cost: {text} ({}{})\n",
                    r.how,
                    if r.usage_based { ", usage-based" } else { "" }
                );
            }
        }
        out.push_str(&summary_line(plan));
        out.push('\n');
        if let Some(cost) = &plan.cost {
            out.push_str(&cost.line());
            out.push('\n');
        }
        let lost: Vec<&str> = changing
            .iter()
            .filter(|c| matches!(c.action, Action::Replace | Action::Delete))
            .filter(|c| catalog.lookup(&c.ty).is_some_and(|t| t.stateful))
            .map(|c| c.address.as_str())
            .collect();
        if !lost.is_empty() {
            out.push_str(&format!(
                "\nWARNING: this plan deletes stateful resources and their data: {}\n",
                lost.join(", ")
            ));
        }
    }
    let outs: Vec<_> = plan.outputs.iter().filter(|o| o.before.as_ref() != Some(&o.after)).collect();
    if !outs.is_empty() || !plan.removed_outputs.is_empty() {
        out.push_str("\nChanges to Outputs:\n");
        let width = outs
            .iter()
            .map(|o| o.name.len())
            .chain(plan.removed_outputs.iter().map(|o| o.name.len()))
            .max()
            .unwrap_or(0);
        for o in &plan.removed_outputs {
            let shown = if o.sensitive { SENSITIVE.to_string() } else { value(&o.before, 4 + width + 3) };
            let _ = writeln!(out, "  - {:width$} = {shown} -> null", o.name);
        }
        for o in outs {
            let shown = |v: &Value| {
                if o.sensitive {
                    SENSITIVE.to_string()
                } else {
                    value(v, 4 + width + 3)
                }
            };
            match &o.before {
                None => {
                    let _ = writeln!(out, "  + {:width$} = {}", o.name, shown(&o.after));
                }
                Some(b) => {
                    let _ = writeln!(out, "  ~ {:width$} = {} -> {}", o.name, shown(b), shown(&o.after));
                }
            }
        }
    }
    out
}
