//! Resource addresses (`name`, `name["key"]`, `name[0]`, `module.db.name`, `module.db`):
//! the one parser and canonical spelling that `moved:`, `removed:`, `import:`, `--target`,
//! `state mv/rm`, and the check of every address state holds all use, the one rule for
//! an instance key, and the one rule for a name (a resource's, a variable's, an output's,
//! an environment's). Pure.

/// A `for_each` key becomes part of the address and of the `cloudbridge:address` tag,
/// whose value AWS limits to letters, digits, spaces and `_ . : / = + - @` (Tagging AWS
/// resources, "Tag naming limits and requirements"); a key is 1 to 64 of those, without the
/// space and `/`, so it never needs quoting or escaping anywhere it is written.
pub fn valid_key(k: &str) -> bool {
    !k.is_empty() && k.len() <= 64 && k.chars().all(|c| c.is_ascii_alphanumeric() || "_.:=+@-".contains(c))
}

/// What a key may hold, for messages.
pub const KEY_RULE: &str = "keys are 1 to 64 letters, digits and `_ . : = + @ -`";

/// Names of resources, variables and outputs: used bare inside `${…}`.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
}

/// An address as written in `moved:`, `removed:`, `import:`, `--target` or `state mv`:
/// `name`, `name["key"]`, `name[0]`, any of them inside modules (`module.db.name`,
/// `module.db["k"].name`), or a whole module (`module.db`), in its one canonical spelling.
/// A key is held to the rule `for_each` keys are ([`valid_key`]).
pub fn parse(s: &str) -> Result<String, String> {
    use crate::lang::{Ast, Step};
    let bad =
        || format!("`{s}` is not a resource address; write `name`, `name[\"key\"]`, `name[0]` or `module.<name>.name`");
    let Ok(Ast::Path { root, steps }) = crate::lang::parse_expr(s) else { return Err(bad()) };
    let key = |step: &Step| -> Result<String, String> {
        match step {
            Step::Index(Ast::Lit(serde_json::Value::String(k))) if valid_key(k) => Ok(format!("[\"{k}\"]")),
            Step::Index(Ast::Lit(serde_json::Value::String(k))) => {
                Err(format!("`{s}`: the key `{}` cannot name an instance: {KEY_RULE}", k.escape_debug()))
            }
            Step::Index(Ast::Lit(v)) if v.as_u64().is_some() => Ok(format!("[{v}]")),
            _ => Err(bad()),
        }
    };
    // The names along the path: `root`, then each `.attr`, each optionally indexed.
    let mut names: Vec<(String, Option<String>)> = vec![(root, None)];
    for step in &steps {
        match step {
            Step::Attr(a) => names.push((a.clone(), None)),
            Step::Index(_) | Step::Splat => {
                let k = key(step)?;
                let last = names.last_mut().ok_or_else(bad)?;
                if last.1.is_some() {
                    return Err(bad());
                }
                last.1 = Some(k);
            }
        }
    }
    let mut out = String::new();
    let mut rest = names.as_slice();
    while let [(m, None), (name, idx), tail @ ..] = rest {
        if m != "module" || !valid_name(name) {
            break;
        }
        out.push_str(&format!("module.{name}{}", idx.clone().unwrap_or_default()));
        rest = tail;
        if rest.is_empty() {
            return Ok(out);
        }
        out.push('.');
    }
    match rest {
        [(name, idx)]
            if valid_name(name) && !matches!(name.as_str(), "var" | "local" | "each" | "count" | "module") =>
        {
            out.push_str(name);
            out.push_str(&idx.clone().unwrap_or_default());
            Ok(out)
        }
        _ => Err(bad()),
    }
}

/// The address of a resource or an instance in state: canonical ([`parse`]), and not a
/// whole module.
pub fn resource(s: &str) -> Result<String, String> {
    let a = parse(s)?;
    if module_address(&a) {
        return Err(format!("`{s}` is a module, not a resource or an instance"));
    }
    Ok(a)
}

/// A canonical address that names a whole module: its segments alternate `module`, name.
fn module_address(canonical: &str) -> bool {
    // Canonical spellings never hold a `.` inside a key (keys allow `.`, so split on the
    // segments outside brackets).
    let mut segments = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in canonical.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                segments.push(&canonical[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    segments.push(&canonical[start..]);
    segments.len() % 2 == 0 && segments.iter().step_by(2).all(|s| *s == "module")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_have_one_spelling() {
        assert_eq!(parse("q").unwrap(), "q");
        assert_eq!(parse("q[ \"a\" ]").unwrap(), "q[\"a\"]");
        assert_eq!(parse("q[3]").unwrap(), "q[3]");
        assert_eq!(parse("module.db.cluster").unwrap(), "module.db.cluster");
        assert_eq!(parse("module.db[\"k\"].q[0]").unwrap(), "module.db[\"k\"].q[0]");
        assert_eq!(parse("module.db").unwrap(), "module.db");
        assert_eq!(parse("q[\"eu-west-1a\"]").unwrap(), "q[\"eu-west-1a\"]");
        for bad in ["q.arn", "var.x", "q[*]", "q[\"a\"][\"b\"]", "module", "1q", "q["] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    /// A key `for_each` refuses is refused in every address too (`moved:`, `state mv`):
    /// before, `q["a\"b"]` was accepted and stored as `q["a"b"]`, unescaped.
    #[test]
    fn a_key_for_each_refuses_is_no_address() {
        for bad in [r#"q["a\"b"]"#, r#"q["a b"]"#, r#"q["a/b"]"#, r#"q[""]"#, "q[\"a\\nb\"]", "q[\"\u{1b}[2J\"]"] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("cannot name an instance") || e.contains("is not a resource address"), "{bad}: {e}");
        }
        assert!(parse(&format!("q[\"{}\"]", "k".repeat(65))).is_err());
        assert!(parse(&format!("q[\"{}\"]", "k".repeat(64))).is_ok());
    }

    #[test]
    fn module_addresses_are_not_resources() {
        for m in ["module.db", "module.db[\"k\"]", "module.db.module.inner", "module.a[0].module.b[\"x\"]"] {
            assert!(resource(m).is_err(), "{m}");
        }
        for r in ["q", "q[0]", "module.db.q", "module.db[\"k.x\"].q[\"a.b\"]", "module.a.module.b.c"] {
            assert_eq!(resource(r).as_deref(), Ok(r), "{r}");
        }
    }
}
