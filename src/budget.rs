//! The budgets of evaluation, in one place: how deep an expression may nest, how long a
//! chain of locals may be, how large and how deep a value may grow, how many instances a
//! stack may make across its modules. A stack that exceeds one gets a located diagnostic
//! naming the limit and the fix, never a panic, a stack overflow, an allocation abort or a
//! hang. Each limit holds on the 2 MiB stack of a test thread (the binary's main thread
//! has 8 MiB). Values are measured as they are built, so nothing larger than a budget is
//! ever allocated whole. Pure.

use crate::expr::{Expr, Part};
use serde_json::Value;
use std::cell::Cell;

/// How deep one `${…}` expression may nest: parentheses, calls, lists, `!`/`-`, each
/// operator of a chain (`a + b + c` is two levels) and each step of a reference
/// (`.attr`, `[i]`), so a flat chain of 2,000 terms is refused by the parser rather than
/// evaluated recursively.
pub const EXPR_DEPTH: usize = 64;

/// How many locals may be computed one from another before a value is reached
/// (`local.c` uses `local.b` uses `local.a`: a chain of 3).
pub const LOCAL_CHAIN: usize = 32;

/// How many expression evaluations may be in progress at once, across locals, module
/// outputs and nested expressions: what bounds the evaluator's recursion as a whole. A
/// debug build uses about 10 KiB of stack an evaluation (24 KiB a local of a chain), so
/// 100 stay well within a test thread's 2 MiB.
pub const EVAL_DEPTH: usize = 100;

/// The largest value an expression may compute, as JSON: 4 MiB. No AWS API takes one
/// property this large (Step Functions definitions, the largest, are 1 MiB: Step
/// Functions Developer Guide, "Quotas"; the Lambda request body is 6 MB).
pub const VALUE_BYTES: usize = 4 << 20;

/// How deep a value may nest as a plan or state file writes it (an expression's list is
/// two JSON levels, a map three). Files are read back with serde_json, which refuses more
/// than 128 levels; a plan file puts a property's value 5 levels down.
pub const STORED_DEPTH: usize = 100;

/// How many instances one resource's `for_each` or `count`, or one module's `for_each`,
/// may make.
pub const INSTANCES_EACH: usize = 10_000;

/// How deep modules may nest (a module using a module …).
pub const MODULE_DEPTH: usize = 8;

/// How many instances a stack may make in all: every resource instance and every copy
/// of a module, through every level of modules (one resource's `for_each` or `count` makes
/// at most 10,000; the benchmark validates 30,000 resources).
pub const INSTANCES: usize = 100_000;

/// How large the values a stack keeps may be together, as JSON: its instances'
/// properties, outputs and locals, 256 MiB (what the plan and state files would hold;
/// 10,000 instances or outputs each given a 4 MiB value would be 40 GB).
pub const STACK_BYTES: usize = 256 << 20;

/// `4 MiB` for messages.
pub fn bytes_text(n: usize) -> String {
    if n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

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

/// The fix for a value over budget.
pub const VALUE_HINT: &str =
    "build smaller values: a property takes at most 4 MiB and 100 levels of nesting (no AWS API takes more)";

/// Check that a result of `bytes` (worked out before building it) fits.
pub fn fits(what: &str, bytes: usize) -> Result<(), String> {
    if bytes > VALUE_BYTES {
        Err(format!("{what} would be larger than {}", bytes_text(VALUE_BYTES)))
    } else {
        Ok(())
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

/// The evaluation in progress, shared by a stack and all its modules: how deep the
/// evaluator is, how long the chain of locals being computed is, how many instances were
/// made, and whether the instance budget was already reported (once is enough).
#[derive(Debug, Default)]
pub struct Budget {
    depth: Cell<usize>,
    locals: Cell<usize>,
    instances: Cell<usize>,
    instances_reported: Cell<bool>,
    stored: Cell<usize>,
    stored_reported: Cell<bool>,
}

/// Held while one level is in progress; gives the level back when dropped.
pub struct Level<'a>(&'a Cell<usize>);

impl Drop for Level<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

impl Budget {
    /// One more evaluation in progress; `None` past [`EVAL_DEPTH`].
    pub fn enter(&self) -> Option<Level<'_>> {
        enter(&self.depth, EVAL_DEPTH)
    }

    /// One more local in the chain being computed; `None` past [`LOCAL_CHAIN`].
    pub fn enter_local(&self) -> Option<Level<'_>> {
        enter(&self.locals, LOCAL_CHAIN)
    }

    /// Count `n` more instances: `Err(true)` the first time the total passes
    /// [`INSTANCES`] (report it), `Err(false)` after that (already reported).
    pub fn add_instances(&self, n: usize) -> Result<(), bool> {
        add(&self.instances, &self.instances_reported, n, INSTANCES)
    }

    /// Count a value kept for the plan and state (a property of an instance, an output, a
    /// local) of `bytes` against [`STACK_BYTES`], as [`Budget::add_instances`].
    pub fn add_stored(&self, bytes: usize) -> Result<(), bool> {
        add(&self.stored, &self.stored_reported, bytes, STACK_BYTES)
    }

    /// Past [`STACK_BYTES`] already: nothing more is worth computing.
    pub fn stored_full(&self) -> bool {
        self.stored.get() > STACK_BYTES
    }
}

fn add(total: &Cell<usize>, reported: &Cell<bool>, n: usize, max: usize) -> Result<(), bool> {
    total.set(total.get().saturating_add(n));
    if total.get() <= max {
        Ok(())
    } else {
        Err(!reported.replace(true))
    }
}

fn enter(c: &Cell<usize>, max: usize) -> Option<Level<'_>> {
    if c.get() >= max {
        return None;
    }
    c.set(c.get() + 1);
    Some(Level(c))
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

    #[test]
    fn levels_are_given_back_and_instances_reported_once() {
        let b = Budget::default();
        {
            let _a = b.enter().unwrap();
            assert_eq!(b.depth.get(), 1);
        }
        assert_eq!(b.depth.get(), 0);
        assert_eq!(b.add_instances(INSTANCES), Ok(()));
        assert_eq!(b.add_instances(1), Err(true));
        assert_eq!(b.add_instances(1), Err(false));
    }
}
