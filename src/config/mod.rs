//! The config stage: env file + stack file (as text) → a typed, validated [`Stack`] with
//! every reference checked, or all the diagnostics found. No I/O happens here; the
//! workspace module reads the files.

mod access;
#[cfg(test)]
mod budget_tests;
mod cdc;
mod env;
mod eval;
#[cfg(test)]
mod lang_tests;
mod module;
mod network;
pub mod paths;
#[cfg(test)]
mod paths_tests;
mod stack;
mod value;

pub use access::{explain as iam_explain, grants, Grant, GENERATED};
pub use env::{parse_env, AssumeRole, Backend, Env, VarSource};
pub use stack::{
    parse_stack, parse_stack_reading, suppressed, DataSource, Import, Moved, Output, Removed, Resource, Stack, Variable,
};

pub use crate::addr::valid_name;

use crate::diag::{Diagnostic, Span};
use crate::yaml::{Key, Node};

/// A whole number written as a number or as its digits (`5432`, `"5432"`).
pub(crate) fn whole_number(v: &serde_json::Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// Refuse, located, a `what` name (`resource`, `variable`, `output`, …) that is not a
/// [`valid_name`]: names are written bare inside `${…}`, and printed in plans, terminals and
/// pull-request comments, where only a plain name is sure to show as itself. True if the
/// name is plain.
pub(crate) fn plain_name(k: &Key, what: &str, out: &mut Vec<Diagnostic>) -> bool {
    if valid_name(&k.name) && !(what == "resource" && k.name == "module") {
        return true;
    }
    out.push(
        Diagnostic::error(
            "Invalid name",
            format!(
                "{what} name `{}` may only hold letters, digits, `_` and `-`, starting with a letter{}",
                k.name,
                if what == "resource" { " (and is not `module`)" } else { "" }
            ),
        )
        .at(&k.span),
    );
    false
}

/// Closest candidate by edit distance, for "did you mean" hints.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min()
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A hint for an unknown key: a close match, or the full list of allowed keys.
pub fn unknown_key_hint(key: &str, allowed: &[&str]) -> String {
    match suggest(key, allowed.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("allowed here: {}", allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")),
    }
}

/// Check a map's keys against the allowed ones, reporting unknown and duplicate keys.
pub(crate) fn check_keys(entries: &[(Key, Node)], allowed: &[&str], what: &str, out: &mut Vec<Diagnostic>) {
    let mut seen: Vec<&Key> = Vec::new();
    for (k, _) in entries {
        if let Some(first) = seen.iter().find(|s| s.name == k.name) {
            out.push(
                Diagnostic::error("Duplicate key", format!("`{}` is set twice in {what}", k.name))
                    .at(&k.span)
                    .hint(format!("remove one of them; the first is at {}", first.span)),
            );
            continue;
        }
        seen.push(k);
        if !allowed.contains(&k.name.as_str()) {
            out.push(
                Diagnostic::error("Unknown key", format!("`{}` is not a valid key in {what}", k.name))
                    .at(&k.span)
                    .hint(unknown_key_hint(&k.name, allowed)),
            );
        }
    }
}

/// Expect a map; report what was found instead.
pub(crate) fn expect_map<'a>(node: &'a Node, what: &str, out: &mut Vec<Diagnostic>) -> Option<&'a [(Key, Node)]> {
    match node.as_map() {
        Some(m) => Some(m),
        None if matches!(node.kind, crate::yaml::Kind::Null) => Some(&[]),
        None => {
            out.push(
                Diagnostic::error("Wrong value type", format!("{what} must be a map, found {}", node.type_name()))
                    .at(&node.span),
            );
            None
        }
    }
}

pub(crate) fn expect_str(node: &Node, what: &str, out: &mut Vec<Diagnostic>) -> Option<String> {
    match node.as_str() {
        Some(s) => Some(s.to_string()),
        None => {
            out.push(
                Diagnostic::error("Wrong value type", format!("{what} must be a string, found {}", node.type_name()))
                    .at(&node.span),
            );
            None
        }
    }
}

pub(crate) fn expect_bool(node: &Node, what: &str, out: &mut Vec<Diagnostic>) -> Option<bool> {
    match node.kind {
        crate::yaml::Kind::Bool(b) => Some(b),
        _ => {
            out.push(
                Diagnostic::error(
                    "Wrong value type",
                    format!("{what} must be `true` or `false`, found {}", node.type_name()),
                )
                .at(&node.span),
            );
            None
        }
    }
}

pub(crate) fn missing(what: &str, key: &str, span: &Span, hint: &str) -> Diagnostic {
    Diagnostic::error("Missing required key", format!("{what} has no `{key}`")).at(span).hint(hint.to_string())
}

/// The env names no stack and none was given with `--stack`.
pub fn missing_stack(env: &Env) -> Diagnostic {
    missing(
        "the environment file",
        "stack",
        &Span::new(&env.file, 1, 1),
        "add `stack: stacks/<name>.yaml`, or pass `--stack FILE`",
    )
}
