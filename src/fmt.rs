//! `cloudbridge fmt`: stack and env files in one shape, keeping every comment.
//!
//! - An unquoted `${…}` inside a `{ … }` or `[ … ]` collection (which YAML cannot read) is
//!   quoted.
//! - Top-level keys, and the keys of each resource, take the order the README uses
//!   (`type`, `for_each`/`count`, `properties`, `depends_on`, …); comments move with the
//!   key they precede. Only block-style maps are reordered.
//!
//! The result must mean exactly what the file meant (the same tree once parsed) and keep
//! every comment line; otherwise the file is refused, unchanged. Pure: text in, text out.

use crate::diag::{Diagnostic, Span};
use std::path::PathBuf;
use std::sync::Arc;

/// Which file: the order of its top-level keys differs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Stack,
    Env,
}

const STACK_ORDER: &[&str] = &[
    "name",
    "description",
    "variables",
    "locals",
    "data",
    "modules",
    "moved",
    "import",
    "removed",
    "resources",
    "outputs",
];
const ENV_ORDER: &[&str] = &["stack", "region", "endpoint", "assume_role", "variables", "default_tags", "backend"];
const RESOURCE_ORDER: &[&str] = &[
    "type",
    "description",
    "for_each",
    "count",
    "properties",
    "depends_on",
    "timeouts",
    "prevent_destroy",
    "allow_resnapshot",
    "suppress",
];

/// The formatted text, or why the file cannot be formatted (left as it is). Formatting
/// the result again changes nothing: the passes run until the text settles.
pub fn format(file: &Arc<PathBuf>, text: &str, kind: Kind) -> Result<String, Diagnostic> {
    let mut current = once(file, text, kind)?;
    for _ in 0..4 {
        let next = once(file, &current, kind)?;
        if next == current {
            return Ok(current);
        }
        current = next;
    }
    Err(Diagnostic::error("Cannot format", "formatting does not settle on one shape")
        .at(&Span::file(file))
        .hint("the file is left as it is; tidy its flow collections (`{ }`, `[ ]`) by hand"))
}

fn once(file: &Arc<PathBuf>, text: &str, kind: Kind) -> Result<String, Diagnostic> {
    let quoted = quote_references(text);
    let before = crate::yaml::parse(file, &quoted)?;
    let lines: Vec<&str> = quoted.lines().collect();
    let top = if kind == Kind::Stack { STACK_ORDER } else { ENV_ORDER };
    let mut out = reorder(&lines, 0, lines.len(), 0, top);
    if kind == Kind::Stack {
        // Each resource's keys: the resources map's children, at its indentation + 2.
        out = reorder_children_of(&out, "resources", RESOURCE_ORDER);
    }
    let mut result = out.join("\n");
    if quoted.ends_with('\n') {
        result.push('\n');
    }
    let refuse = |why: &str| {
        Diagnostic::error("Cannot format", why.to_string())
            .at(&Span::file(file))
            .hint("the file is left as it is; tidy this part by hand")
    };
    let after = crate::yaml::parse(file, &result).map_err(|_| refuse("reordering would make it unreadable YAML"))?;
    if before.to_json() != after.to_json() {
        return Err(refuse("reordering would change what it means (anchors used before they are defined?)"));
    }
    fn comments(t: &str) -> Vec<&str> {
        let mut c: Vec<&str> = t.lines().filter(|l| l.trim_start().starts_with('#')).collect();
        c.sort_unstable();
        c
    }
    if comments(&quoted) != comments(&result) {
        return Err(refuse("a comment would be lost"));
    }
    Ok(result)
}

/// Quote each unquoted scalar holding `${` inside a flow collection.
fn quote_references(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    let mut depth = 0usize; // flow collections open
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '#' if i == 0 || chars[i - 1].is_whitespace() => {
                // A comment runs to the end of the line.
                while i < chars.len() && chars[i] != '\n' {
                    out.push(chars[i]);
                    i += 1;
                }
                continue;
            }
            '"' | '\'' => {
                // A quoted scalar: copied as it is.
                out.push(c);
                i += 1;
                while i < chars.len() {
                    out.push(chars[i]);
                    if chars[i] == '\\' && c == '"' && i + 1 < chars.len() {
                        out.push(chars[i + 1]);
                        i += 2;
                        continue;
                    }
                    i += 1;
                    if chars[i - 1] == c {
                        break;
                    }
                }
                continue;
            }
            '{' | '[' if !(c == '{' && i > 0 && chars[i - 1] == '$') => depth += 1,
            '}' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > 0 && c != '{' && c != '[' && c != ',' && c != '}' && c != ']' && !c.is_whitespace() {
            // The start of a plain scalar in a flow collection: find where it ends.
            let start = i;
            let mut j = i;
            let mut braces = 0usize;
            while j < chars.len() {
                let d = chars[j];
                if d == '$' && chars.get(j + 1) == Some(&'{') {
                    braces += 1;
                    j += 2;
                    continue;
                }
                if braces > 0 {
                    if d == '}' {
                        braces -= 1;
                    }
                    j += 1;
                    continue;
                }
                // `key: value`: the key ends at `: `.
                if d == ','
                    || d == '}'
                    || d == ']'
                    || d == '\n'
                    || (d == ':' && chars.get(j + 1).is_none_or(|n| n.is_whitespace()))
                {
                    break;
                }
                j += 1;
            }
            if j == start {
                // A separator (`:`) where a scalar could start: copied as it is.
                out.push(c);
                i += 1;
                continue;
            }
            let scalar: String = chars[start..j].iter().collect();
            let trimmed = scalar.trim_end();
            if trimmed.contains("${") {
                let q = if trimmed.contains('"') {
                    format!("'{}'", trimmed.replace('\'', "''"))
                } else {
                    format!("\"{}\"", trimmed.replace('\\', "\\\\"))
                };
                out.push_str(&q);
                out.push_str(&scalar[trimmed.len()..]);
            } else {
                out.push_str(&scalar);
            }
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn indent(l: &str) -> usize {
    l.len() - l.trim_start_matches(' ').len()
}

/// The key a line starts at indentation `ind`, if it is a `key:` line of a block map.
fn key_at(l: &str, ind: usize) -> Option<&str> {
    if indent(l) != ind {
        return None;
    }
    let t = &l[ind..];
    if t.starts_with('#') || t.starts_with('-') || t.is_empty() {
        return None;
    }
    let end = t.find(':')?;
    let key = t[..end].trim_matches(|c| c == '"' || c == '\'');
    let rest = &t[end + 1..];
    (rest.is_empty() || rest.starts_with(' ')).then_some(key)
}

/// Reorder the block-map entries at indentation `ind` within lines `[a, b)` by `order`
/// (`x-` keys first, keys not in `order` after the known ones, each group stable).
fn reorder(lines: &[&str], a: usize, b: usize, ind: usize, order: &[&str]) -> Vec<String> {
    // Entries: (key, first line, end line); comments and blank lines just before a key go
    // with it; lines before the first key stay first.
    let mut starts: Vec<(usize, String)> = Vec::new();
    for i in a..b {
        if let Some(k) = key_at(lines[i], ind) {
            let mut s = i;
            while s > a
                && {
                    let p = lines[s - 1].trim_start();
                    p.starts_with('#') || p.is_empty()
                }
                && starts.last().is_none_or(|(ls, _)| s - 1 > *ls)
            {
                s -= 1;
            }
            starts.push((s, k.to_string()));
        }
    }
    if starts.is_empty() {
        return lines[a..b].iter().map(|l| l.to_string()).collect();
    }
    let mut out: Vec<String> = lines[a..starts[0].0].iter().map(|l| l.to_string()).collect();
    let mut entries: Vec<(usize, String, Vec<String>)> = Vec::new();
    for (n, (s, k)) in starts.iter().enumerate() {
        let e = starts.get(n + 1).map_or(b, |(s2, _)| *s2);
        let rank =
            if k.starts_with("x-") { 0 } else { order.iter().position(|o| o == k).map_or(order.len() + 1, |p| p + 1) };
        entries.push((rank, k.clone(), lines[*s..e].iter().map(|l| l.to_string()).collect()));
    }
    // The last entry's trailing blank lines stay at the end of the map.
    let mut tail = Vec::new();
    if let Some((_, _, last)) = entries.last_mut() {
        while last.len() > 1 && last.last().is_some_and(|l| l.trim().is_empty()) {
            tail.push(last.pop().unwrap_or_default());
        }
    }
    entries.sort_by_key(|(rank, _, _)| *rank);
    for (_, _, body) in entries {
        out.extend(body);
    }
    out.extend(tail.into_iter().rev());
    out
}

/// Reorder the keys of each entry of the top-level block map `parent` (its children are
/// maps themselves, such as resources).
fn reorder_children_of(lines: &[String], parent: &str, order: &[&str]) -> Vec<String> {
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let Some(p) = refs.iter().position(|l| key_at(l, 0) == Some(parent)) else { return lines.to_vec() };
    let end = (p + 1..refs.len()).find(|&i| key_at(refs[i], 0).is_some()).unwrap_or(refs.len());
    // The children's indentation: that of the first key line inside.
    let Some(child_ind) =
        refs[p + 1..end].iter().find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')).map(|l| indent(l))
    else {
        return lines.to_vec();
    };
    let mut out: Vec<String> = refs[..=p].iter().map(|l| l.to_string()).collect();
    let children: Vec<usize> = (p + 1..end).filter(|&i| key_at(refs[i], child_ind).is_some()).collect();
    if children.is_empty() {
        out.extend(refs[p + 1..].iter().map(|l| l.to_string()));
        return out;
    }
    out.extend(refs[p + 1..children[0]].iter().map(|l| l.to_string()));
    for (n, &c) in children.iter().enumerate() {
        let e = children.get(n + 1).copied().unwrap_or(end);
        out.push(refs[c].to_string());
        // Its body: a block map one level deeper (a flow map on the key line is left alone).
        let body_ind =
            refs[c + 1..e].iter().find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')).map(|l| indent(l));
        match body_ind {
            Some(bi) if bi > child_ind => out.extend(reorder(&refs, c + 1, e, bi, order)),
            _ => out.extend(refs[c + 1..e].iter().map(|l| l.to_string())),
        }
    }
    out.extend(refs[end..].iter().map(|l| l.to_string()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> Result<String, String> {
        format(&Arc::new(PathBuf::from("stacks/t.yaml")), text, Kind::Stack).map_err(|d| d.detail)
    }

    #[test]
    fn references_in_flow_collections_are_quoted() {
        let got = fmt("resources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: cdc-${var.env}, tags: { a: ${x.arn}, b: plain } }\n").unwrap();
        assert_eq!(got, "resources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: \"cdc-${var.env}\", tags: { a: \"${x.arn}\", b: plain } }\n");
        let list = fmt("resources:\n  r:\n    type: aws.ec2.route_table\n    properties: { vpc_id: v, subnet_ids: [${a.id}, '${b.id}'] }\n").unwrap();
        assert!(list.contains("subnet_ids: [\"${a.id}\", '${b.id}']"), "{list}");
        // Block style and quoted values are left as they are.
        let block = "resources:\n  q:\n    type: aws.sqs.queue\n    properties:\n      name: ${var.n}\n";
        assert_eq!(fmt(block).unwrap(), block);
    }

    #[test]
    fn keys_take_their_order_and_comments_move_with_them() {
        let text = "resources:\n  q:\n    # the queue's settings\n    properties: { name: q }\n    depends_on: [b]\n    type: aws.sqs.queue   # a type\n\n  b:\n    type: aws.sqs.queue\n    properties: { name: b }\n# top\nvariables:\n  env: { default: dev }\nname: demo\n";
        let got = fmt(text).unwrap();
        assert_eq!(
            got,
            "name: demo\n# top\nvariables:\n  env: { default: dev }\nresources:\n  q:\n    type: aws.sqs.queue   # a type\n    # the queue's settings\n    properties: { name: q }\n    depends_on: [b]\n\n  b:\n    type: aws.sqs.queue\n    properties: { name: b }\n"
        );
        assert_eq!(fmt(&got).unwrap(), got, "formatting is idempotent");
    }

    #[test]
    fn what_cannot_be_kept_is_refused() {
        // Moving `variables` above the anchor it uses would break the alias.
        let text = "resources:\n  q:\n    type: aws.sqs.queue\n    properties: &p { name: q }\nvariables:\n  v: { default: *p }\n";
        assert_eq!(fmt(text), Err("reordering would make it unreadable YAML".into()));
        assert!(fmt("a: [\n").is_err());
    }
}
