//! `plan --format markdown`: a pull-request comment. Counts by action and the cost delta
//! first, then a table of the changes with the warnings on top, the checks' findings, a
//! Mermaid diagram of the changed part of the graph, and the full plan folded.

use super::{render, summary_line, Action, Change, Plan};
use crate::diag::{Diagnostic, Severity};
use crate::schema::Catalog;
use std::fmt::Write;

fn action(c: &Change) -> &'static str {
    match c.action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace => "replace",
        Action::Delete => "destroy",
        Action::NoOp if c.importing => "import",
        Action::NoOp => "no-op",
    }
}

/// The warning a change carries, for the table: data lost, change data capture restarted.
fn warning(c: &Change, catalog: &Catalog) -> Option<String> {
    let ty = catalog.lookup(&c.ty)?;
    match c.action {
        Action::Replace if ty.restarts_cdc.is_some() => Some("restarts change data capture".into()),
        Action::Replace | Action::Delete if ty.stateful => {
            Some(format!("deletes the data it holds ({} is stateful)", c.ty))
        }
        _ => None,
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Mermaid diagram of what changes: each changed resource, coloured by action, with
/// the resources it depends on.
fn diagram(changing: &[&Change]) -> String {
    let mut chart = crate::graph::Mermaid::new("RL");
    for c in changing {
        chart.node(&c.address);
        for d in &c.dependencies {
            chart.edge(&c.address, d, "-->", None);
        }
    }
    let class = |n: &str| changing.iter().find(|c| c.address == n).map(|c| action(c).to_string());
    let mut s = String::from("```mermaid\n") + &chart.render(str::to_string, class);
    s += "  classDef create fill:#d4f8d4,stroke:#2da44e\n  classDef update fill:#fff5b1,stroke:#bf8700\n  classDef replace fill:#ffd8b5,stroke:#bc4c00\n  classDef destroy fill:#ffd7d5,stroke:#cf222e\n  classDef import fill:#ddf4ff,stroke:#0969da\n```\n";
    s
}

/// The summary of `plan` for a pull-request comment.
pub fn markdown(plan: &Plan, catalog: &Catalog, findings: &[Diagnostic]) -> String {
    let mut s = format!("### cloudbridge plan: `{}` in `{}`\n\n", plan.stack, plan.env);
    let changing: Vec<&Change> = plan.changes.iter().filter(|c| c.action != Action::NoOp || c.importing).collect();
    if !plan.has_changes() {
        s += "**No changes.** The infrastructure matches the configuration.\n";
    } else {
        let _ = writeln!(s, "**{}**", summary_line(plan).trim_start_matches("Plan: ").trim_end_matches('.'));
    }
    if let Some(cost) = &plan.cost {
        let delta = cost.after - cost.before;
        let _ = writeln!(
            s,
            "\n**Cost:** {}/mo → {}/mo ({}{}) · list prices of {}",
            crate::cost::dollars(cost.before),
            crate::cost::dollars(cost.after),
            if delta >= 0.0 { "+" } else { "-" },
            crate::cost::dollars(delta.abs()),
            cost.prices_date
        );
    }
    if !plan.targets.is_empty() {
        let _ = writeln!(
            s,
            "\n> [!WARNING]\n> Resource targeting is in effect ({}): this plan may leave changes out.",
            plan.targets.join(", ")
        );
    }
    if !plan.drift.is_empty() {
        let _ = writeln!(
            s,
            "\n> [!NOTE]\n> {} resource(s) changed outside cloudbridge: {}.",
            plan.drift.len(),
            plan.drift.iter().map(|d| format!("`{}`", d.address)).collect::<Vec<_>>().join(", ")
        );
    }
    if !changing.is_empty() {
        // Warnings first, then by action, then by address.
        let mut rows: Vec<(&Change, Option<String>)> = changing.iter().map(|c| (*c, warning(c, catalog))).collect();
        rows.sort_by_key(|(c, w)| (w.is_none(), action(c), c.address.clone()));
        s += "\n| | resource | type | action | why |\n| --- | --- | --- | --- | --- |\n";
        for (c, w) in &rows {
            let why = if !c.replace_because.is_empty() {
                format!("forced by `{}`", c.replace_because.join("`, `"))
            } else if c.action == Action::Update {
                format!("`{}`", c.changed.join("`, `"))
            } else {
                String::new()
            };
            let why = match w {
                Some(w) => format!("**{w}**; {why}"),
                None => why,
            };
            let _ = writeln!(
                s,
                "| {} | `{}` | `{}` | {} | {} |",
                if w.is_some() { "⚠️" } else { "" },
                cell(&c.address),
                c.ty,
                action(c),
                cell(why.trim_end_matches("; "))
            );
        }
    }
    if let Some(cost) = plan.cost.as_ref().filter(|c| c.resources.iter().any(|r| r.before != r.after)) {
        s += "\n<details><summary>Cost by resource</summary>\n\n| resource | before | after | how |\n| --- | ---: | ---: | --- |\n";
        for r in cost.resources.iter().filter(|r| r.before != r.after) {
            let money = |x: Option<f64>| x.map_or_else(|| "–".to_string(), crate::cost::dollars);
            let _ =
                writeln!(s, "| `{}` | {} | {} | {} |", cell(&r.address), money(r.before), money(r.after), cell(&r.how));
        }
        s += "\n</details>\n";
    }
    let errors = findings.iter().filter(|d| d.severity == Severity::Error).count();
    if !findings.is_empty() {
        let _ = writeln!(
            s,
            "\n<details><summary>Check findings: {errors} error(s), {} warning(s)</summary>\n",
            findings.len() - errors
        );
        for d in findings {
            let at = d
                .span
                .as_ref()
                .map(|sp| format!(" at `{}:{}:{}`", sp.file.display(), sp.line, sp.col))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "- **{}** {}{at}: {}",
                d.rule.unwrap_or(if d.severity == Severity::Error { "error" } else { "warning" }),
                d.summary,
                cell(&d.detail)
            );
        }
        s += "\n</details>\n";
    }
    if !changing.is_empty() {
        s += "\n<details><summary>What changes, in the graph</summary>\n\n";
        s += &diagram(&changing);
        s += "\n</details>\n";
    }
    s += "\n<details><summary>Full plan</summary>\n\n```\n";
    s += render(plan, catalog).trim_end();
    s += "\n```\n\n</details>\n";
    s
}
