//! Measuring values as they are built, against the value budgets of [`crate::budget`]:
//! a value's size as JSON and its depth as a plan file stores it, found without
//! recursion (`measure`, `measure_value`), what is wrong with a measure (`problem`), and
//! `Tally`, which measures a value part by part so nothing larger than the budget is ever
//! built whole. Pure; the evaluator and the stack's budget of kept values use it.

use crate::budget::{bytes_text, STORED_DEPTH, VALUE_BYTES};
use crate::expr::{Expr, Part};
use serde_json::Value;

/// A value's size as JSON (approximate, never under) and its depth as stored, measured
/// without recursion and stopping as soon as a budget is exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measure {
    pub bytes: usize,
    pub depth: usize,
}

enum Item<'a> {
    V(&'a Value, usize),
    E(&'a Expr, usize),
}

/// Measure `e` (stops early once `bytes` or `depth` is past its budget).
pub fn measure(e: &Expr) -> Measure {
    walk(Item::E(e, 0))
}

pub fn measure_value(v: &Value) -> Measure {
    walk(Item::V(v, 0))
}

fn walk(first: Item) -> Measure {
    let mut m = Measure { bytes: 0, depth: 0 };
    let mut todo = vec![first];
    while let Some(item) = todo.pop() {
        if m.bytes > VALUE_BYTES || m.depth > STORED_DEPTH {
            break;
        }
        match item {
            Item::V(v, d) => {
                m.depth = m.depth.max(d);
                m.bytes = m.bytes.saturating_add(match v {
                    Value::Null | Value::Bool(_) => 5,
                    Value::Number(_) => 20,
                    Value::String(s) => s.len() + 3,
                    Value::Array(a) => {
                        todo.extend(a.iter().map(|v| Item::V(v, d + 1)));
                        2
                    }
                    Value::Object(o) => {
                        todo.extend(o.iter().map(|(_, v)| Item::V(v, d + 1)));
                        2 + o.keys().map(|k| k.len() + 4).sum::<usize>()
                    }
                });
            }
            // As serde writes an `Expr`: `{"lit": v}`, `{"list": [..]}`, `{"map": [[k, e]]}`,
            // `{"template": [{"expr": e}]}`, `{"call": {"func": f, "args": [..]}}`.
            Item::E(e, d) => {
                m.depth = m.depth.max(d + 1);
                m.bytes = m.bytes.saturating_add(match e {
                    Expr::Lit(v) => {
                        todo.push(Item::V(v, d + 1));
                        8
                    }
                    Expr::Ref(r) => r.resource.len() + r.attr.len() + 32,
                    Expr::List(items) => {
                        todo.extend(items.iter().map(|i| Item::E(i, d + 2)));
                        10
                    }
                    Expr::Map(entries) => {
                        todo.extend(entries.iter().map(|(_, i)| Item::E(i, d + 3)));
                        9 + entries.iter().map(|(k, _)| k.len() + 6).sum::<usize>()
                    }
                    Expr::Template(parts) => {
                        let mut n = 14;
                        for p in parts {
                            n += match p {
                                Part::Lit(s) => s.len() + 12,
                                Part::Ref(r) => r.resource.len() + r.attr.len() + 40,
                                Part::Expr(e) => {
                                    todo.push(Item::E(e, d + 3));
                                    10
                                }
                            };
                        }
                        n
                    }
                    Expr::Call { func, args } => {
                        todo.extend(args.iter().map(|a| Item::E(a, d + 3)));
                        func.len() + 30
                    }
                });
            }
        }
    }
    m
}

/// What is wrong with a value of this measure, if anything (to follow what names it:
/// "this value", "the value of `…`").
pub fn problem(m: Measure) -> Option<String> {
    if m.bytes > VALUE_BYTES {
        Some(format!("would be larger than {}", bytes_text(VALUE_BYTES)))
    } else if m.depth > STORED_DEPTH {
        Some(format!("nests deeper than {STORED_DEPTH} levels as a plan file writes it"))
    } else {
        None
    }
}

/// A value being built from parts (a list's items, a map's entries, a call's arguments,
/// a string's pieces): each part is measured as it is added, so the whole is refused
/// before it is larger than [`VALUE_BYTES`] or deeper than [`STORED_DEPTH`].
pub struct Tally {
    bytes: usize,
}

impl Tally {
    pub fn new() -> Tally {
        Tally { bytes: 0 }
    }

    /// Add a part; `Err` says what is wrong (to follow "this value").
    pub fn add(&mut self, e: &Expr) -> Result<(), String> {
        let m = measure(e);
        self.bytes = self.bytes.saturating_add(m.bytes);
        // A part sits at most three JSON levels below its whole (`{"map": [[k, part]]}`).
        problem(Measure { bytes: self.bytes, depth: m.depth.saturating_add(3) }).map_or(Ok(()), Err)
    }

    /// Add `n` bytes of text.
    pub fn add_bytes(&mut self, n: usize) -> Result<(), String> {
        self.bytes = self.bytes.saturating_add(n);
        problem(Measure { bytes: self.bytes, depth: 0 }).map_or(Ok(()), Err)
    }
}

impl Default for Tally {
    fn default() -> Self {
        Tally::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn measures_as_json_without_recursing() {
        let m = measure_value(&json!({"a": [1, "xy"]}));
        assert!(m.bytes >= r#"{"a":[1,"xy"]}"#.len(), "{m:?}");
        assert_eq!(m.depth, 2);
        // A value far deeper than the stack could recurse through is measured (and stops early).
        let mut deep = json!(1);
        for _ in 0..200 {
            deep = json!([deep]);
        }
        assert!(measure_value(&deep).depth > STORED_DEPTH);
        let list = Expr::List(vec![Expr::Map(vec![("k".into(), Expr::Lit(json!([1])))])]);
        assert_eq!(measure(&list).depth, 7, "list 2 + map 3 + lit 1 + array 1");
    }
}
