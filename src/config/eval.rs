//! Evaluates a parsed `${…}` expression ([`crate::lang::Ast`]) at validate: variables,
//! locals, `each`, `count` and functions of known values are computed now; references to
//! resource attributes (known only after apply) stay as [`Expr`] references, and a
//! function or operator over them is kept as an [`Expr::Call`] computed at apply.

use super::value::{check_value, Ctx};
use super::Diagnostic;
use crate::expr::{Expr, Ref, COND};
use crate::functions::kind as type_name;
use crate::lang::{Ast, BinOp, Step};
use crate::schema::PropKind;
use crate::yaml::Node;
use serde_json::Value;

/// How a resource is instantiated.
#[derive(Debug, Clone, PartialEq)]
pub enum Instances {
    /// No `for_each` or `count`: one instance, addressed by the name.
    One,
    /// `for_each`: one instance per key, `name["key"]`, keys sorted.
    Keys(Vec<String>),
    /// `count`: `name[0]` … `name[n-1]`.
    Count(usize),
}

impl Instances {
    /// The addresses of the instances of `name`.
    pub fn addresses(&self, name: &str) -> Vec<String> {
        match self {
            Instances::One => vec![name.to_string()],
            Instances::Keys(keys) => keys.iter().map(|k| key_address(name, k)).collect(),
            Instances::Count(n) => (0..*n).map(|i| format!("{name}[{i}]")).collect(),
        }
    }
}

pub fn key_address(name: &str, key: &str) -> String {
    format!("{name}[\"{key}\"]")
}

/// `each` and `count` of the instance being evaluated.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub each: Option<(String, Expr)>,
    pub count: Option<usize>,
}

impl Fail {
    /// Report it at `span` (nothing, if it was reported already).
    pub fn report(self, span: &crate::diag::Span, out: &mut Vec<Diagnostic>) {
        match self {
            Fail::Msg(m, hint) => {
                let d = Diagnostic::error("Invalid expression", m).at(span);
                out.push(match hint {
                    Some(h) => d.hint(h),
                    None => d,
                });
            }
            Fail::Unknown(m, hint) => out.push(Diagnostic::error("Unknown resource", m).at(span).hint(hint)),
            Fail::Reported => {}
        }
    }
}

/// Why an expression could not be evaluated.
pub enum Fail {
    /// What is wrong and how to fix it, to be reported where the expression is written.
    Msg(String, Option<String>),
    /// A name that is not a resource, variable or local.
    Unknown(String, String),
    /// Already reported (e.g. inside a local's own value).
    Reported,
}

pub fn fail<T>(msg: impl Into<String>, hint: impl Into<String>) -> Result<T, Fail> {
    Err(Fail::Msg(msg.into(), Some(hint.into())))
}

fn lit(e: &Expr) -> Option<&Value> {
    match e {
        Expr::Lit(v) => Some(v),
        _ => None,
    }
}

/// A list or map of expressions as one literal when every part is known.
pub fn collapse(e: Expr) -> Expr {
    match e {
        Expr::List(items) if items.iter().all(|i| lit(i).is_some()) => Expr::Lit(Value::Array(
            items.into_iter().map(|i| if let Expr::Lit(v) = i { v } else { Value::Null }).collect(),
        )),
        Expr::Map(entries) if entries.iter().all(|(_, i)| lit(i).is_some()) => Expr::Lit(Value::Object(
            entries.into_iter().map(|(k, i)| (k, if let Expr::Lit(v) = i { v } else { Value::Null })).collect(),
        )),
        other => other,
    }
}

/// An expression's text for messages, cut short.
fn shown(ast: &Ast) -> String {
    let s = crate::lang::show(ast);
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

/// Evaluate `ast`, within the budgets of [`crate::budget`]: how many evaluations may be in
/// progress at once (locals, module outputs and expressions inside each other), and how
/// large and deep the values built may grow.
pub fn eval(ast: &Ast, ctx: &Ctx, node: &Node, out: &mut Vec<Diagnostic>) -> Result<Expr, Fail> {
    let Some(_level) = ctx.unit.budget.enter() else {
        return fail(
            format!(
                "working out `{}` nests more than {} evaluations deep (expressions inside locals inside module outputs)",
                shown(ast),
                crate::budget::EVAL_DEPTH
            ),
            "compute it in fewer steps: shorter chains of locals, shallower expressions",
        );
    };
    eval_inner(ast, ctx, node, out)
}

/// Evaluate each of `asts` (a list's items, a call's arguments), refusing as soon as their
/// values together pass the value budget, before anything larger is built.
fn eval_parts(asts: &[Ast], what: &str, ctx: &Ctx, node: &Node, out: &mut Vec<Diagnostic>) -> Result<Vec<Expr>, Fail> {
    let mut tally = crate::measure::Tally::new();
    let mut parts = Vec::with_capacity(asts.len());
    for a in asts {
        let e = eval(a, ctx, node, out)?;
        if let Err(why) = tally.add(&e) {
            return fail(format!("{what} {why}"), crate::budget::VALUE_HINT);
        }
        parts.push(e);
    }
    Ok(parts)
}

fn eval_inner(ast: &Ast, ctx: &Ctx, node: &Node, out: &mut Vec<Diagnostic>) -> Result<Expr, Fail> {
    match ast {
        Ast::Lit(v) => Ok(Expr::Lit(v.clone())),
        Ast::Tuple(items) => {
            let items = eval_parts(items, "this list", ctx, node, out)?;
            Ok(collapse(Expr::List(items)))
        }
        Ast::Path { root, steps } => path(root, steps, ctx, node, out),
        Ast::Call { name, args } => {
            if !crate::functions::exists(name) {
                let names = crate::functions::FUNCTIONS.iter().map(|(n, _, _)| *n);
                return fail(
                    format!("there is no function `{name}`"),
                    match super::suggest(name, names) {
                        Some(s) => format!("did you mean `{}`?", crate::functions::signature(s).unwrap_or(s)),
                        None => "the functions are listed in the README, under \"Functions\"".to_string(),
                    },
                );
            }
            let args = eval_parts(args, &format!("the arguments of `{name}` together"), ctx, node, out)?;
            let e = call(name, args, ctx)?;
            // What a function makes from arguments within budget is checked once more.
            match crate::measure::problem(crate::measure::measure(&e)) {
                Some(why) => fail(format!("the value of `{}` {why}", shown(ast)), crate::budget::VALUE_HINT),
                None => Ok(e),
            }
        }
        Ast::Cond(c, yes, no) => {
            let c = eval(c, ctx, node, out)?;
            match c {
                Expr::Lit(Value::Bool(true)) => {
                    ctx.mention(no);
                    eval(yes, ctx, node, out)
                }
                Expr::Lit(Value::Bool(false)) => {
                    ctx.mention(yes);
                    eval(no, ctx, node, out)
                }
                Expr::Lit(other) => fail(
                    format!("the condition before `?` is {}, not true or false", type_name(&other)),
                    "compare it, e.g. `var.env == \"prod\" ? 3 : 1`",
                ),
                c => {
                    let (yes, no) = (eval(yes, ctx, node, out)?, eval(no, ctx, node, out)?);
                    Ok(Expr::Call { func: COND.into(), args: vec![c, yes, no] })
                }
            }
        }
        Ast::Bin(op, a, b) => {
            let args = vec![eval(a, ctx, node, out)?, eval(b, ctx, node, out)?];
            call(op.symbol(), args, ctx).map_err(|f| match (f, op) {
                (Fail::Msg(m, _), BinOp::Add) if m.contains("needs numbers") => Fail::Msg(
                    m,
                    Some("`+` adds numbers; to join text write `\"${a}-${b}\"` or use `format` or `join`".into()),
                ),
                (f, _) => f,
            })
        }
        Ast::Get(base, steps) => {
            let v = eval(base, ctx, node, out)?;
            index(v, steps, ctx, node, out)
        }
        Ast::Not(a) => call("!", vec![eval(a, ctx, node, out)?], ctx),
        Ast::Neg(a) => call("neg", vec![eval(a, ctx, node, out)?], ctx),
    }
}

/// A function or operator: computed now when its arguments are known, else at apply.
fn call(name: &str, args: Vec<Expr>, ctx: &Ctx) -> Result<Expr, Fail> {
    if args.iter().all(|a| lit(a).is_some()) {
        let vals: Vec<Value> = args.iter().filter_map(lit).cloned().collect();
        // `file("x.sql")` names a file next to the file being parsed.
        let relative = |p: &str| match ctx.files {
            Some(read) => read(&ctx.dir.join(p).to_string_lossy()),
            None => Err("files cannot be read here".to_string()),
        };
        let files: Option<crate::functions::Reader> = ctx.files.map(|_| &relative as crate::functions::Reader);
        return match crate::functions::call(name, &vals, files) {
            Ok(v) => Ok(Expr::Lit(v)),
            Err(why) => {
                Err(Fail::Msg(why, crate::functions::signature(name).map(|s| format!("it is called as `{s}`"))))
            }
        };
    }
    match (name, args.as_slice()) {
        // The number of instances is known even when their attributes are not.
        ("length", [Expr::List(items)]) => Ok(Expr::Lit(Value::from(items.len()))),
        ("length", [Expr::Map(entries)]) => Ok(Expr::Lit(Value::from(entries.len()))),
        ("file", _) => fail(
            "`file` needs a path known at validate, not one built from a resource attribute",
            "build the path from variables, locals and text",
        ),
        _ => Ok(Expr::Call { func: name.into(), args }),
    }
}

fn path(root: &str, steps: &[Step], ctx: &Ctx, node: &Node, out: &mut Vec<Diagnostic>) -> Result<Expr, Fail> {
    let first = match steps.first() {
        Some(Step::Attr(a)) => Some(a.as_str()),
        _ => None,
    };
    match root {
        "var" => {
            let Some(name) = first else { return fail("`var` must be followed by a name", "write `var.<name>`") };
            if let Some(e) = ctx.var_exprs.get(name) {
                ctx.used_vars.borrow_mut().insert(name.to_string());
                if ctx.sensitive_vars.iter().any(|s| s == name) {
                    ctx.tainted.set(true);
                }
                return index(e.clone(), &steps[1..], ctx, node, out);
            }
            let v = ctx.var(name, node, out).ok_or(Fail::Reported)?;
            index(Expr::Lit(v.to_json()), &steps[1..], ctx, node, out)
        }
        "local" => {
            let Some(name) = first else { return fail("`local` must be followed by a name", "write `local.<name>`") };
            let v = ctx.local(name, out)?;
            index(v, &steps[1..], ctx, node, out)
        }
        "each" => {
            let scope = ctx.scope.borrow().clone();
            let Some((key, value)) = scope.each else {
                return fail(
                    "`each` is only defined in a resource with `for_each`",
                    "add `for_each:` to the resource, or use a variable",
                );
            };
            match first {
                Some("key") => index(Expr::Lit(Value::String(key)), &steps[1..], ctx, node, out),
                Some("value") => index(value, &steps[1..], ctx, node, out),
                _ => fail("`each` has `key` and `value`", "write `each.key` or `each.value`"),
            }
        }
        "count" => match (first, ctx.scope.borrow().count) {
            (Some("index"), Some(i)) => index(Expr::Lit(Value::from(i)), &steps[1..], ctx, node, out),
            (Some("index"), None) => {
                fail("`count.index` is only defined in a resource with `count`", "add `count:` to the resource")
            }
            _ => fail("`count` has only `index`", "write `count.index`"),
        },
        "module" if !ctx.types.contains_key("module") => super::module::reference(steps, ctx, node, out),
        "data" if !ctx.types.contains_key("data") => {
            let (Some(Step::Attr(name)), Some(Step::Attr(attr))) = (steps.first(), steps.get(1)) else {
                return fail(
                    "`data` must be followed by a data source and an attribute",
                    "write `${data.<name>.<attribute>}`",
                );
            };
            let Some(kind) = ctx.data_kinds.get(name) else {
                let names: Vec<&str> = ctx.data_kinds.keys().map(String::as_str).collect();
                return fail(
                    format!("`data.{name}` is not a data source of this stack"),
                    super::unknown_key_hint(name, &names),
                );
            };
            if !kind.attrs.contains(&attr.as_str()) {
                return fail(
                    format!("`data.{name}` ({}) has no attribute `{attr}`", kind.name),
                    super::unknown_key_hint(attr, kind.attrs),
                );
            }
            index(Expr::Ref(Ref { resource: format!("data.{name}"), attr: attr.clone() }), &steps[2..], ctx, node, out)
        }
        _ => resource(root, steps, ctx, node, out),
    }
}

/// `name.attr`, `name["key"].attr`, `name[0].attr` or `name[*].attr`.
fn resource(name: &str, steps: &[Step], ctx: &Ctx, node: &Node, out: &mut Vec<Diagnostic>) -> Result<Expr, Fail> {
    let text = super::value::path_text(name, steps);
    if ctx.untyped.iter().any(|u| u == name) {
        return Err(Fail::Reported);
    }
    if !ctx.types.contains_key(name) {
        return Err(Fail::Unknown(
            format!("`${{{text}}}` refers to `{name}`, which is not a resource of this stack"),
            ctx.resource_hint(name),
        ));
    }
    if ctx.expanding.get() {
        return fail(
            format!("`for_each` and `count` must be known before anything is created; `${{{text}}}` is a resource attribute"),
            "build them from variables, locals and functions",
        );
    }
    // Without instances, its own `for_each` or `count` was refused, where it is written.
    let Some(inst) = ctx.instances.borrow().get(name).cloned() else { return Err(Fail::Reported) };
    let attr_after = |rest: &[Step]| -> Result<String, Fail> {
        match rest {
            [Step::Attr(a)] => Ok(a.clone()),
            [] => fail(
                format!("`${{{text}}}` names a resource, not one of its attributes"),
                format!("add the attribute, e.g. `${{{text}.arn}}`"),
            ),
            [Step::Attr(a), ..] => Ok(a.clone()),
            _ => fail(format!("`${{{text}}}` does not name an attribute"), format!("write `${{{text}.<attribute>}}`")),
        }
    };
    let prefix = &ctx.unit.prefix;
    let one = |address: String, rest: &[Step], out: &mut Vec<Diagnostic>| -> Result<Expr, Fail> {
        let r = Ref { resource: format!("{prefix}{address}"), attr: attr_after(rest)? };
        if ctx.check_attr(name, &r, node, out) {
            // `${vpc.tags["Name"]}`: picked from the attribute once it is known.
            index(Expr::Ref(r), &rest[1..], ctx, node, out)
        } else {
            Err(Fail::Reported)
        }
    };
    match (&inst, steps.first()) {
        (_, Some(Step::Splat)) => {
            let attr = attr_after(&steps[1..])?;
            if steps.len() > 2 {
                return fail(
                    format!("`${{{text}}}` picks from each instance's attribute, which cloudbridge cannot do"),
                    "refer to `[*].<attribute>` alone",
                );
            }
            let mut items = Vec::new();
            for address in inst.addresses(name) {
                let r = Ref { resource: format!("{prefix}{address}"), attr: attr.clone() };
                if !ctx.check_attr(name, &r, node, out) {
                    return Err(Fail::Reported);
                }
                items.push(Expr::Ref(r));
            }
            Ok(collapse(Expr::List(items)))
        }
        (Instances::One, Some(Step::Index(_))) => fail(
            format!("`{name}` has neither `for_each` nor `count`, so it has no instances to index"),
            format!("write `${{{name}.<attribute>}}`"),
        ),
        (Instances::One, _) => one(name.to_string(), steps, out),
        (Instances::Keys(keys), Some(Step::Index(i))) => {
            let key = match eval(i, ctx, node, out)? {
                Expr::Lit(v) => crate::functions::text(&v),
                _ => None,
            };
            match key {
                Some(k) if keys.contains(&k) => one(key_address(name, &k), &steps[1..], out),
                Some(k) => fail(
                    format!("`{name}` has no instance `\"{k}\"`"),
                    format!("its keys are {}", keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")),
                ),
                None => fail(
                    format!("the key in `${{{text}}}` must be a string known at validate"),
                    "use a literal key, `each.key`, or a variable",
                ),
            }
        }
        (Instances::Count(n), Some(Step::Index(i))) => {
            let idx = match eval(i, ctx, node, out)? {
                Expr::Lit(v) => v.as_u64(),
                _ => None,
            };
            match idx {
                Some(i) if usize::try_from(i).is_ok_and(|i| i < *n) => one(format!("{name}[{i}]"), &steps[1..], out),
                Some(i) => fail(
                    format!("`{name}` has {n} instance{}; index {i} is out of range", if *n == 1 { "" } else { "s" }),
                    if *n == 0 { "it has `count: 0`".to_string() } else { format!("use 0 to {}", n - 1) },
                ),
                None => fail(
                    format!("the index in `${{{text}}}` must be a whole number known at validate"),
                    "use `count.index` or a number",
                ),
            }
        }
        (Instances::Keys(keys), _) => fail(
            format!("`{name}` has `for_each`, so `${{{text}}}` must say which instance"),
            format!(
                "write `${{{name}[\"{}\"].…}}` for one, or `${{{name}[*].…}}` for all",
                keys.first().map_or("key", String::as_str)
            ),
        ),
        (Instances::Count(_), _) => fail(
            format!("`{name}` has `count`, so `${{{text}}}` must say which instance"),
            format!("write `${{{name}[0].…}}` for one, or `${{{name}[*].…}}` for all"),
        ),
    }
}

/// `.attr`, `["key"]`, `[0]` and `[*]` into a value.
pub fn index(v: Expr, steps: &[Step], ctx: &Ctx, node: &Node, out: &mut Vec<Diagnostic>) -> Result<Expr, Fail> {
    let Some((step, rest)) = steps.split_first() else { return Ok(v) };
    let key = match step {
        Step::Attr(a) => Expr::Lit(Value::String(a.clone())),
        Step::Index(i) => eval(i, ctx, node, out)?,
        Step::Splat => {
            let items = match v {
                Expr::Lit(Value::Array(a)) => a.into_iter().map(Expr::Lit).collect(),
                Expr::List(items) => items,
                other => vec![other],
            };
            let items = items.into_iter().map(|i| index(i, rest, ctx, node, out)).collect::<Result<Vec<_>, _>>()?;
            return Ok(collapse(Expr::List(items)));
        }
    };
    let Expr::Lit(key) = key else {
        return fail("an index must be known at validate", "index with a literal, a variable or `each.key`");
    };
    let picked = match (&v, &key) {
        (Expr::Lit(Value::Object(m)), k) => crate::functions::text(k).and_then(|k| m.get(&k).cloned()).map(Expr::Lit),
        (Expr::Map(entries), k) => {
            crate::functions::text(k).and_then(|k| entries.iter().find(|(ek, _)| *ek == k).map(|(_, e)| e.clone()))
        }
        (Expr::Lit(Value::Array(a)), k) => index_number(k).and_then(|i| a.get(i).cloned()).map(Expr::Lit),
        (Expr::List(items), k) => index_number(k).and_then(|i| items.get(i).cloned()),
        (Expr::Lit(other), _) => {
            return fail(
                format!(
                    "{} has no elements to pick `{}` from",
                    type_name(other),
                    crate::functions::text(&key).unwrap_or_default()
                ),
                "index a list or a map",
            )
        }
        // Known only later (a resource or data source attribute): picked then.
        (other, _) => {
            let picked = Expr::Call { func: "[]".into(), args: vec![other.clone(), Expr::Lit(key)] };
            return index(picked, rest, ctx, node, out);
        }
    };
    match picked {
        Some(p) => index(p, rest, ctx, node, out),
        None => fail(
            format!("there is no element `{}` here", crate::functions::text(&key).unwrap_or_else(|| key.to_string())),
            match &v {
                Expr::Lit(Value::Object(m)) => {
                    format!("the keys are {}", m.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "))
                }
                _ => "check the index".into(),
            },
        ),
    }
}

fn index_number(k: &Value) -> Option<usize> {
    super::whole_number(k).and_then(|i| usize::try_from(i).ok())
}

/// A local's value: its YAML node checked as JSON (it may hold `${…}` anywhere), once.
pub fn local_value(node: &Node, ctx: &Ctx, out: &mut Vec<Diagnostic>) -> Option<Expr> {
    check_value(node, &PropKind::Json, ctx, out)
}
