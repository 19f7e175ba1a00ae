//! The budgets of evaluation, in one place: how deep an expression may nest, how long a
//! chain of locals may be, how large and how deep a value may grow, how many instances a
//! stack may make across its modules. A stack that exceeds one gets a located diagnostic
//! naming the limit and the fix, never a panic, a stack overflow, an allocation abort or a
//! hang. Each limit holds on the 2 MiB stack of a test thread (the binary's main thread
//! has 8 MiB). Values are measured as they are built ([`crate::measure`]), so nothing
//! larger than a budget is ever allocated whole. Pure.

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
