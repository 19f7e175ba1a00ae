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

/// Text as one line of a table cell or list item: nothing acts on a terminal
/// ([`crate::diag::printable`]), no line break (a newline would end the row, or start a
/// heading or a fence of its own), and `|` escaped (GitHub's tables split cells on it,
/// even inside code spans).
fn one_line(s: &str) -> String {
    flat(s).replace('|', "\\|")
}

fn flat(s: &str) -> String {
    crate::diag::printable(s).replace(['\n', '\r', '\t'], " ")
}

/// `s` as a code span, shown exactly as it is: fenced by one backtick more than the longest
/// run of backticks it holds (CommonMark, "Code spans"), padded when it starts or ends with
/// one, so no text of a name or a value can close the span early.
pub fn code(s: &str) -> String {
    let s = one_line(s);
    if s.is_empty() {
        return "` `".into();
    }
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A sentence of cloudbridge's (a diagnostic, a cost note) in which names and values stand
/// between backticks: each such part becomes a [`code`] span, and the text around them is
/// escaped so that nothing in it is Markdown (a link, an image, HTML, emphasis, a heading),
/// and a word that GitHub would turn into a link by itself (`https://…`, `www.…`, an e-mail
/// address) is shown as code. With an odd number of backticks (a value holding one), the
/// whole sentence is escaped text.
pub fn inline(s: &str) -> String {
    let parts: Vec<&str> = s.split('`').collect();
    let paired = parts.len() % 2 == 1;
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if paired && i % 2 == 1 {
            out += &code(part);
        } else {
            if !paired && i > 0 {
                out += "\\`";
            }
            out += &text(part);
        }
    }
    out
}

/// Plain text with every character that Markdown or GitHub gives a meaning escaped.
fn text(s: &str) -> String {
    let s = flat(s);
    let mut out = String::new();
    for (i, word) in s.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let linky = word.contains("://") || word.to_ascii_lowercase().contains("www.") || word.contains('@');
        if linky {
            out += &code(word);
            continue;
        }
        for c in word.chars() {
            if "\\`*_[]<>!|~&".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// The Mermaid diagram of what changes: each changed resource, coloured by action, with
/// the resources it depends on.
fn diagram(changing: &[&Change]) -> String {
    let mut chart = crate::draw::Mermaid::new("RL");
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
    let mut s = format!("### cloudbridge plan: {} in {}\n\n", code(&plan.stack), code(&plan.env));
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
            plan.targets.iter().map(|t| code(t)).collect::<Vec<_>>().join(", ")
        );
    }
    if !plan.drift.is_empty() {
        let _ = writeln!(
            s,
            "\n> [!NOTE]\n> {} resource(s) changed outside cloudbridge: {}.",
            plan.drift.len(),
            plan.drift.iter().map(|d| code(&d.address)).collect::<Vec<_>>().join(", ")
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
                Some(w) if why.is_empty() => format!("**{}**", inline(w)),
                Some(w) => format!("**{}**; {}", inline(w), inline(&why)),
                None => inline(&why),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                if w.is_some() { "⚠️" } else { "" },
                code(&c.address),
                code(&c.ty),
                action(c),
                why
            );
        }
    }
    if let Some(cost) = plan.cost.as_ref().filter(|c| c.resources.iter().any(|r| r.before != r.after)) {
        s += "\n<details><summary>Cost by resource</summary>\n\n| resource | before | after | how |\n| --- | ---: | ---: | --- |\n";
        for r in cost.resources.iter().filter(|r| r.before != r.after) {
            let money = |x: Option<f64>| x.map_or_else(|| "–".to_string(), crate::cost::dollars);
            let _ =
                writeln!(s, "| {} | {} | {} | {} |", code(&r.address), money(r.before), money(r.after), inline(&r.how));
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
                .map(|sp| format!(" at {}", code(&format!("{}:{}:{}", sp.file.display(), sp.line, sp.col))))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "- **{}** {}{at}: {}",
                d.rule.unwrap_or(if d.severity == Severity::Error { "error" } else { "warning" }),
                d.summary,
                inline(&d.detail)
            );
        }
        s += "\n</details>\n";
    }
    if !changing.is_empty() {
        s += "\n<details><summary>What changes, in the graph</summary>\n\n";
        s += &diagram(&changing);
        s += "\n</details>\n";
    }
    // The plan as it is printed, in a fence longer than any run of backticks in it
    // (CommonMark, "Fenced code blocks"): no line of it can close the block.
    let full = render(plan, catalog);
    let fence = "`".repeat(full.split(|c| c != '`').map(str::len).max().unwrap_or(0).max(2) + 1);
    let _ =
        write!(s, "\n<details><summary>Full plan</summary>\n\n{fence}\n{}\n{fence}\n\n</details>\n", full.trim_end());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_span_cannot_be_closed_by_what_it_shows() {
        assert_eq!(code("q[\"a\"]"), "`q[\"a\"]`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x``"), "``` `x`` ```");
        assert_eq!(code("a|b\nc"), "`a\\|b c`");
        assert_eq!(code(""), "` `");
    }

    /// Before, a detail holding `[text](url)` was a live link in the findings list, and one
    /// holding a newline could start a heading of its own.
    #[test]
    fn sentences_become_no_markdown_but_their_own() {
        assert_eq!(inline("`db` is bad"), "`db` is bad");
        let link = inline("variable `x` [click](https://evil.example) <img src=x> **bold** [a](b)");
        assert_eq!(link, "variable `x` `[click](https://evil.example)` \\<img src=x\\> \\*\\*bold\\*\\* \\[a\\](b)");
        assert_eq!(inline("see www.evil.example now"), "see `www.evil.example` now");
        let forged = inline("x\n## All checks passed, safe to merge");
        assert!(!forged.contains('\n'), "{forged}");
        // An odd backtick (a value holding one) leaves everything escaped text.
        assert_eq!(inline("`a` b `c"), "\\`a\\` b \\`c");
        assert_eq!(inline("a | b"), "a \\| b");
    }
}
