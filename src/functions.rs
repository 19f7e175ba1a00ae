//! The functions a stack may call inside `${…}`: pure and deterministic, over JSON values,
//! named and behaving as Terraform's. `file` is the one that reads: the caller hands it a
//! reader (the workspace's), so this module does no I/O. `FUNCTIONS` is the table the
//! README documents; a test checks that each of its names is callable.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Reads a file named relative to the stack file (for `file`).
pub type Reader<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// Every function: name, signature, what it returns.
pub const FUNCTIONS: &[(&str, &str, &str)] = &[
    ("cidrsubnet", "cidrsubnet(prefix, newbits, netnum)", "the `netnum`-th subnet of `prefix` with `newbits` more bits: `cidrsubnet(\"10.0.0.0/16\", 8, 2)` is `10.0.2.0/24`"),
    ("concat", "concat(list, …)", "the lists one after the other"),
    ("contains", "contains(list, value)", "whether the list holds the value"),
    ("file", "file(path)", "the text of a UTF-8 file, the path relative to the stack file and inside the project"),
    ("format", "format(spec, value, …)", "`spec` with `%s`, `%d` and `%v` replaced by the values in order, `%%` a percent sign"),
    ("join", "join(separator, list)", "the list's strings joined by `separator`"),
    ("jsonencode", "jsonencode(value)", "the value as compact JSON, object keys sorted"),
    ("keys", "keys(map)", "the map's keys, sorted"),
    ("length", "length(value)", "how many elements a list has, keys a map, or characters a string"),
    ("lookup", "lookup(map, key, default)", "the map's value for `key`, else `default` (without a default, a missing key is an error)"),
    ("lower", "lower(string)", "the string in lower case"),
    ("merge", "merge(map, …)", "one map with the keys of all; a later map's value wins"),
    ("replace", "replace(string, search, replacement)", "every occurrence of `search` replaced (plain text, not a pattern)"),
    ("sha256", "sha256(string)", "the SHA-256 of the string's UTF-8 bytes, as 64 lowercase hex digits"),
    ("split", "split(separator, string)", "the parts of the string between separators"),
    ("tolist", "tolist(list)", "the same elements, as a list"),
    ("toset", "toset(list)", "the distinct elements, strings sorted (as Terraform orders a set of strings)"),
    ("upper", "upper(string)", "the string in upper case"),
    ("values", "values(map)", "the map's values, in the order of its sorted keys"),
    ("zipmap", "zipmap(keys, values)", "a map from the n-th key to the n-th value"),
];

/// Is `name` a function a stack may call?
pub fn exists(name: &str) -> bool {
    FUNCTIONS.iter().any(|(n, _, _)| *n == name)
}

/// The signature of `name`, for hints.
pub fn signature(name: &str) -> Option<&'static str> {
    FUNCTIONS.iter().find(|(n, _, _)| *n == name).map(|(_, s, _)| *s)
}

/// What a value is, for messages (`a list`, `null`).
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

fn arity(name: &str, args: &[Value], min: usize, max: usize) -> Result<(), String> {
    if args.len() < min || args.len() > max {
        let n = if min == max {
            min.to_string()
        } else if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(format!("`{name}` takes {n} argument{}, given {}", if n == "1" { "" } else { "s" }, args.len()));
    }
    Ok(())
}

fn string<'a>(name: &str, pos: usize, v: &'a Value) -> Result<&'a str, String> {
    v.as_str().ok_or_else(|| format!("argument {pos} of `{name}` must be a string, not {}", kind(v)))
}

fn list<'a>(name: &str, pos: usize, v: &'a Value) -> Result<&'a Vec<Value>, String> {
    v.as_array().ok_or_else(|| format!("argument {pos} of `{name}` must be a list, not {}", kind(v)))
}

fn map<'a>(name: &str, pos: usize, v: &'a Value) -> Result<&'a Map<String, Value>, String> {
    v.as_object().ok_or_else(|| format!("argument {pos} of `{name}` must be a map, not {}", kind(v)))
}

fn integer(name: &str, pos: usize, v: &Value) -> Result<i64, String> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| format!("argument {pos} of `{name}` must be a whole number, not {}", kind(v)))
}

/// A scalar as text (numbers and bools as written), as Terraform converts them.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn strings(name: &str, pos: usize, v: &Value) -> Result<Vec<String>, String> {
    list(name, pos, v)?
        .iter()
        .map(|e| {
            text(e).ok_or_else(|| format!("argument {pos} of `{name}` must be a list of strings; it holds {}", kind(e)))
        })
        .collect()
}

/// Call `name` with known `args`. `files` reads for `file`; `None` where files cannot be read.
pub fn call(name: &str, args: &[Value], files: Option<Reader>) -> Result<Value, String> {
    let s = |pos: usize| string(name, pos, &args[pos - 1]);
    match name {
        "cidrsubnet" => {
            arity(name, args, 3, 3)?;
            crate::cidr::cidrsubnet(s(1)?, integer(name, 2, &args[1])?, integer(name, 3, &args[2])?).map(Value::String)
        }
        "concat" => {
            let mut out = Vec::new();
            for (i, a) in args.iter().enumerate() {
                out.extend(list(name, i + 1, a)?.iter().cloned());
            }
            Ok(Value::Array(out))
        }
        "contains" => {
            arity(name, args, 2, 2)?;
            Ok(Value::Bool(list(name, 1, &args[0])?.contains(&args[1])))
        }
        "file" => {
            arity(name, args, 1, 1)?;
            let read = files
                .ok_or("`file` can only read a path known at validate (not one built from a resource attribute)")?;
            read(s(1)?).map(Value::String)
        }
        "format" => {
            arity(name, args, 1, usize::MAX)?;
            format(s(1)?, &args[1..]).map(Value::String)
        }
        "join" => {
            arity(name, args, 2, 2)?;
            let (sep, parts) = (s(1)?, strings(name, 2, &args[1])?);
            let seps = sep.len().saturating_mul(parts.len().saturating_sub(1));
            crate::budget::fits("`join`'s result", parts.iter().map(String::len).fold(seps, usize::saturating_add))?;
            Ok(Value::String(parts.join(sep)))
        }
        "jsonencode" => {
            arity(name, args, 1, 1)?;
            serde_json::to_string(&sorted(&args[0])).map(Value::String).map_err(|e| e.to_string())
        }
        "keys" => {
            arity(name, args, 1, 1)?;
            let mut k: Vec<&String> = map(name, 1, &args[0])?.keys().collect();
            k.sort();
            Ok(Value::Array(k.into_iter().map(|k| Value::String(k.clone())).collect()))
        }
        "length" => {
            arity(name, args, 1, 1)?;
            match &args[0] {
                Value::Array(a) => Ok(Value::from(a.len())),
                Value::Object(m) => Ok(Value::from(m.len())),
                Value::String(t) => Ok(Value::from(t.chars().count())),
                v => Err(format!("`length` takes a list, map or string, not {}", kind(v))),
            }
        }
        "lookup" => {
            arity(name, args, 2, 3)?;
            let key = s(2)?;
            match (map(name, 1, &args[0])?.get(key), args.get(2)) {
                (Some(v), _) => Ok(v.clone()),
                (None, Some(d)) => Ok(d.clone()),
                (None, None) => Err(format!("the map has no key `{key}`, and no default was given")),
            }
        }
        "lower" => {
            arity(name, args, 1, 1)?;
            Ok(Value::String(s(1)?.to_lowercase()))
        }
        "merge" => {
            let mut out = Map::new();
            for (i, a) in args.iter().enumerate() {
                for (k, v) in map(name, i + 1, a)? {
                    out.insert(k.clone(), v.clone());
                }
            }
            Ok(Value::Object(out))
        }
        "replace" => {
            arity(name, args, 3, 3)?;
            let (text, search, by) = (s(1)?, s(2)?, s(3)?);
            if search.is_empty() {
                return Err("argument 2 of `replace` must not be empty".into());
            }
            // Sized before it is built: each occurrence may grow it by the replacement.
            let n = text.matches(search).count();
            crate::budget::fits("`replace`'s result", text.len().saturating_add(n.saturating_mul(by.len())))?;
            Ok(Value::String(text.replace(search, by)))
        }
        "sha256" => {
            arity(name, args, 1, 1)?;
            Ok(Value::String(Sha256::digest(s(1)?.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()))
        }
        "split" => {
            arity(name, args, 2, 2)?;
            let sep = s(1)?;
            if sep.is_empty() {
                return Err("argument 1 of `split` must not be empty".into());
            }
            let text = s(2)?;
            // Sized before it is built: each part costs its quotes and comma as JSON.
            let parts = text.matches(sep).count().saturating_add(1);
            crate::budget::fits("`split`'s result", text.len().saturating_add(parts.saturating_mul(3)))?;
            Ok(Value::Array(text.split(sep).map(|p| Value::String(p.into())).collect()))
        }
        "tolist" => {
            arity(name, args, 1, 1)?;
            list(name, 1, &args[0]).map(|l| Value::Array(l.clone()))
        }
        "toset" => {
            arity(name, args, 1, 1)?;
            let l = list(name, 1, &args[0])?;
            // Distinct by their JSON text with keys sorted (maps equal whatever their
            // order), in one pass through a hash set: never a search of the list for each
            // element (200,000 strings took n² comparisons).
            let mut seen = std::collections::HashSet::with_capacity(l.len());
            let mut out: Vec<Value> = l.iter().filter(|v| seen.insert(sorted(v).to_string())).cloned().collect();
            if out.iter().all(Value::is_string) {
                out.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
            Ok(Value::Array(out))
        }
        "upper" => {
            arity(name, args, 1, 1)?;
            Ok(Value::String(s(1)?.to_uppercase()))
        }
        "values" => {
            arity(name, args, 1, 1)?;
            let m = map(name, 1, &args[0])?;
            let mut k: Vec<&String> = m.keys().collect();
            k.sort();
            Ok(Value::Array(k.into_iter().filter_map(|k| m.get(k).cloned()).collect()))
        }
        "zipmap" => {
            arity(name, args, 2, 2)?;
            let (k, v) = (strings(name, 1, &args[0])?, list(name, 2, &args[1])?);
            if k.len() != v.len() {
                return Err(format!("`zipmap` was given {} keys and {} values", k.len(), v.len()));
            }
            Ok(Value::Object(k.into_iter().zip(v.iter().cloned()).collect()))
        }
        // Indexing a value known only at apply: `${vpc.tags["Name"]}`, `${data.s.ids[0]}`.
        "[]" => {
            arity(name, args, 2, 2)?;
            match (&args[0], &args[1]) {
                (Value::Object(m), k) => {
                    let k = text(k).unwrap_or_default();
                    m.get(&k).cloned().ok_or_else(|| format!("there is no key `{k}`"))
                }
                (Value::Array(a), k) => {
                    let i = k.as_u64().or_else(|| k.as_str().and_then(|s| s.parse().ok()));
                    i.and_then(|i| a.get(usize::try_from(i).ok()?).cloned())
                        .ok_or_else(|| format!("there is no element {k} in a list of {}", a.len()))
                }
                (v, _) => Err(format!("{} has no elements to pick from", kind(v))),
            }
        }
        "!" | "neg" => {
            arity(name, args, 1, 1)?;
            match (name, &args[0]) {
                ("!", Value::Bool(b)) => Ok(Value::Bool(!b)),
                ("neg", v) => arithmetic("-", &Value::from(0), v),
                (_, v) => Err(format!("`!` needs a bool, not {}", kind(v))),
            }
        }
        "==" | "!=" => {
            arity(name, args, 2, 2)?;
            let same = equal(&args[0], &args[1]);
            Ok(Value::Bool(if name == "==" { same } else { !same }))
        }
        "&&" | "||" => {
            arity(name, args, 2, 2)?;
            match (&args[0], &args[1]) {
                (Value::Bool(a), Value::Bool(b)) => Ok(Value::Bool(if name == "&&" { *a && *b } else { *a || *b })),
                (a, b) => Err(format!("`{name}` needs two bools, given {} and {}", kind(a), kind(b))),
            }
        }
        "<" | ">" | "<=" | ">=" => {
            arity(name, args, 2, 2)?;
            let (a, b) = (number(name, &args[0])?, number(name, &args[1])?);
            Ok(Value::Bool(match name {
                "<" => a < b,
                ">" => a > b,
                "<=" => a <= b,
                _ => a >= b,
            }))
        }
        "+" | "-" | "*" | "/" | "%" => {
            arity(name, args, 2, 2)?;
            arithmetic(name, &args[0], &args[1])
        }
        _ => Err(format!("there is no function `{name}`")),
    }
}

/// Equality as Terraform has it for the values a stack holds: `1 == 1.0`, and a number
/// equals the string of its digits (`var.port == "5432"`), as it would after conversion.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Number(_), Value::String(_)) | (Value::String(_), Value::Number(_)) => text(a) == text(b),
        _ => a == b,
    }
}

fn number(op: &str, v: &Value) -> Result<f64, String> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| format!("`{op}` needs numbers, given {}", kind(v)))
}

/// Whole numbers stay whole (checked: an overflow is an error, never a wrap); anything
/// else, and a division that does not come out even, is a float.
fn arithmetic(op: &str, a: &Value, b: &Value) -> Result<Value, String> {
    let whole = |v: &Value| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok()));
    if let (Some(x), Some(y)) = (whole(a), whole(b)) {
        let r = match op {
            "+" => x.checked_add(y),
            "-" => x.checked_sub(y),
            "*" => x.checked_mul(y),
            "/" if y != 0 && x % y == 0 => x.checked_div(y),
            "%" if y != 0 => x.checked_rem(y),
            "/" | "%" if y == 0 => return Err(format!("`{op}` by zero")),
            _ => None,
        };
        if let Some(r) = r {
            return Ok(Value::from(r));
        }
        if op != "/" {
            return Err(format!("`{x} {op} {y}` overflows a 64-bit integer"));
        }
    }
    let (x, y) = (number(op, a)?, number(op, b)?);
    let r = match op {
        "+" => x + y,
        "-" => x - y,
        "*" => x * y,
        "/" if y != 0.0 => x / y,
        "%" if y != 0.0 => x % y,
        _ => return Err(format!("`{op}` by zero")),
    };
    serde_json::Number::from_f64(r).map(Value::Number).ok_or_else(|| format!("`{op}` gives no finite number"))
}

/// A value with every object's keys sorted, as Terraform's `jsonencode` writes them.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&m[k]))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn format(spec: &str, args: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    let mut next = args.iter();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(verb @ ('s' | 'd' | 'v')) => {
                let v = next.next().ok_or_else(|| format!("`format`: `%{verb}` has no value left to take"))?;
                match (verb, v) {
                    ('d', Value::Number(n)) if n.is_i64() || n.is_u64() => out.push_str(&n.to_string()),
                    ('d', other) => return Err(format!("`format`: `%d` needs a whole number, given {}", kind(other))),
                    ('s', other) => out.push_str(
                        &text(other).ok_or_else(|| format!("`format`: `%s` needs a string, given {}", kind(other)))?,
                    ),
                    (_, other) => out.push_str(&text(other).unwrap_or_else(|| other.to_string())),
                }
            }
            Some(other) => return Err(format!("`format`: `%{other}` is not supported; use `%s`, `%d`, `%v` or `%%`")),
            None => return Err("`format`: the spec ends with a lone `%`".into()),
        }
    }
    if next.next().is_some() {
        return Err(format!("`format` was given more values than its spec takes ({})", args.len()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn c(name: &str, args: Value) -> Result<Value, String> {
        call(name, args.as_array().unwrap(), None)
    }

    #[test]
    fn the_readme_lists_every_function() {
        let readme = include_str!("../README.md");
        let table: String = FUNCTIONS.iter().map(|(_, sig, what)| format!("| `{sig}` | {what} |\n")).collect();
        assert!(readme.contains(&table), "README's function table is not current; it should be:\n{table}");
    }

    #[test]
    fn every_documented_function_is_callable() {
        for (name, _, _) in FUNCTIONS {
            let e = c(name, json!([])).err().unwrap_or_default();
            assert!(!e.contains("there is no function"), "{name}: {e}");
        }
    }

    #[test]
    fn cidrsubnet_takes_its_numbers_as_numbers_or_text() {
        assert_eq!(c("cidrsubnet", json!(["10.0.0.0/16", 8, 2])), Ok(json!("10.0.2.0/24")));
        assert_eq!(c("cidrsubnet", json!(["10.0.0.0/16", "8", "3"])), Ok(json!("10.0.3.0/24")));
    }

    #[test]
    fn strings_and_lists() {
        assert_eq!(c("join", json!(["-", ["a", "b", 3]])), Ok(json!("a-b-3")));
        assert_eq!(c("split", json!([",", "a,b,,c"])), Ok(json!(["a", "b", "", "c"])));
        assert_eq!(c("format", json!(["%s-%d-%v%%", "cdc", 3, true])), Ok(json!("cdc-3-true%")));
        assert!(c("format", json!(["%s-%s", "a"])).unwrap_err().contains("no value left"));
        assert!(c("format", json!(["%s", "a", "b"])).unwrap_err().contains("more values"));
        assert!(c("format", json!(["%d", "a"])).unwrap_err().contains("needs a whole number"));
        assert!(c("format", json!(["%x", 1])).unwrap_err().contains("not supported"));
        assert_eq!(c("upper", json!(["aB"])), Ok(json!("AB")));
        assert_eq!(c("lower", json!(["aB"])), Ok(json!("ab")));
        assert_eq!(c("replace", json!(["a.b.c", ".", "-"])), Ok(json!("a-b-c")));
        assert_eq!(c("concat", json!([[1], [], [2, 3]])), Ok(json!([1, 2, 3])));
        assert_eq!(c("length", json!([[1, 2]])), Ok(json!(2)));
        assert_eq!(c("length", json!(["héllo"])), Ok(json!(5)));
        assert_eq!(c("length", json!([{"a": 1}])), Ok(json!(1)));
        assert!(c("length", json!([3])).is_err());
        assert_eq!(c("contains", json!([["a"], "a"])), Ok(json!(true)));
        assert_eq!(c("toset", json!([["b", "a", "b"]])), Ok(json!(["a", "b"])));
        assert_eq!(c("tolist", json!([["b", "a"]])), Ok(json!(["b", "a"])));
        assert_eq!(
            c("sha256", json!(["hello"])),
            Ok(json!("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"))
        );
        assert!(c("join", json!(["-", [["x"]]])).unwrap_err().contains("list of strings"));
        assert_eq!(c("upper", json!([1, 2])), Err("`upper` takes 1 argument, given 2".into()));
    }

    #[test]
    fn operators_never_wrap() {
        assert_eq!(c("+", json!([1, 2])), Ok(json!(3)));
        assert_eq!(c("-", json!([1, "2"])), Ok(json!(-1)));
        assert_eq!(c("/", json!([6, 3])), Ok(json!(2)));
        assert_eq!(c("/", json!([5, 2])), Ok(json!(2.5)));
        assert_eq!(c("%", json!([5, 2])), Ok(json!(1)));
        assert!(c("/", json!([5, 0])).unwrap_err().contains("by zero"));
        assert!(c("*", json!([i64::MAX, 2])).unwrap_err().contains("overflows"));
        assert_eq!(c("neg", json!([4])), Ok(json!(-4)));
        assert_eq!(c("==", json!([5432, "5432"])), Ok(json!(true)));
        assert_eq!(c("==", json!(["a", "b"])), Ok(json!(false)));
        assert_eq!(c("!=", json!([1, 1.0])), Ok(json!(false)));
        assert_eq!(c("<=", json!([2, 3])), Ok(json!(true)));
        assert_eq!(c("&&", json!([true, false])), Ok(json!(false)));
        assert!(c("||", json!([true, 1])).unwrap_err().contains("needs two bools"));
        assert_eq!(c("!", json!([false])), Ok(json!(true)));
    }

    #[test]
    fn maps() {
        let m = json!({"b": 2, "a": 1});
        assert_eq!(c("keys", json!([m])), Ok(json!(["a", "b"])));
        assert_eq!(c("values", json!([m])), Ok(json!([1, 2])));
        assert_eq!(c("lookup", json!([m, "a"])), Ok(json!(1)));
        assert_eq!(c("lookup", json!([m, "z", 0])), Ok(json!(0)));
        assert!(c("lookup", json!([m, "z"])).unwrap_err().contains("no key `z`"));
        assert_eq!(c("merge", json!([{"a": 1, "b": 1}, {"b": 2}])), Ok(json!({"a": 1, "b": 2})));
        assert_eq!(c("zipmap", json!([["a", "b"], [1, 2]])), Ok(json!({"a": 1, "b": 2})));
        assert!(c("zipmap", json!([["a"], [1, 2]])).is_err());
        assert_eq!(
            c("jsonencode", json!([{"b": [1, {"d": 1, "c": 2}], "a": null}])),
            Ok(json!(r#"{"a":null,"b":[1,{"c":2,"d":1}]}"#))
        );
    }

    #[test]
    fn file_reads_through_the_reader_it_is_given() {
        let read = |p: &str| if p == "x.sql" { Ok("SELECT 1".to_string()) } else { Err(format!("no file {p}")) };
        assert_eq!(call("file", &[json!("x.sql")], Some(&read)), Ok(json!("SELECT 1")));
        assert_eq!(call("file", &[json!("y")], Some(&read)), Err("no file y".into()));
        assert!(call("file", &[json!("x.sql")], None).unwrap_err().contains("known at validate"));
    }
}
