//! Checks one property value (a YAML node) against the schema kind it must have, and
//! turns it into an [`Expr`]: `${var.*}` substituted, references checked.

use super::eval::{self, collapse, Fail, Instances, Scope};
use super::{unknown_key_hint, Diagnostic};
use crate::cidr::check_cidr;
use crate::expr::{Expr, Part, Ref};
use crate::lang::{parse_template, Ast, Piece, Step};
use crate::measure::Tally;
use crate::schema::{Prop, PropKind, TypeSchema};
use crate::yaml::{Kind, Node};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};

/// A local's value once worked out (and whether a sensitive variable went into it), or
/// that it is being worked out (a second visit is a cycle).
#[derive(Clone)]
pub enum LocalState {
    Busy,
    Done(Option<Expr>, bool),
}

pub struct Ctx<'a> {
    pub types: &'a BTreeMap<String, &'static TypeSchema>,
    pub vars: &'a BTreeMap<String, Node>,
    /// A module's variables set from values known only after apply.
    pub var_exprs: &'a BTreeMap<String, Expr>,
    /// Declared variables, including those whose missing value was already reported.
    pub declared: &'a [String],
    /// Resources declared without a known type: that is reported once, where the type is,
    /// and references to them are not reported again.
    pub untyped: &'a [String],
    /// Variables declared `sensitive: true`.
    pub sensitive_vars: &'a [String],
    /// Set when a sensitive variable's value was used since it was last cleared.
    pub tainted: Cell<bool>,
    /// How each resource is instantiated (filled in once its `for_each`/`count` is known).
    pub instances: RefCell<BTreeMap<String, Instances>>,
    /// The stack's `locals:`, as written.
    pub locals: &'a BTreeMap<String, Node>,
    pub local_values: RefCell<BTreeMap<String, LocalState>>,
    /// `each` / `count` of the instance whose properties are being checked.
    pub scope: RefCell<Scope>,
    /// Working out a `for_each` or `count`: resource attributes are not known yet.
    pub expanding: Cell<bool>,
    /// Reads a file (for `file()` and module sources) by its path in the project.
    pub files: Option<crate::functions::Reader<'a>>,
    /// The directory of the file being parsed, in the project: paths in it start here.
    pub dir: std::path::PathBuf,
    /// The variables some expression used.
    pub used_vars: RefCell<BTreeSet<String>>,
    /// The file being parsed (its address prefix, and the module chain above it).
    pub unit: &'a super::stack::Unit<'a>,
    /// Its `modules:`, as written; and each module once worked out.
    pub module_defs: &'a BTreeMap<String, (crate::yaml::Key, Node)>,
    pub modules: RefCell<BTreeMap<String, super::module::ModState>>,
    /// The stack's `data:` sources and their kinds.
    pub data_kinds: &'a BTreeMap<String, &'static crate::data::DataKind>,
}

impl Ctx<'_> {
    /// Run `f` with taint tracked for it alone: its result, and whether a sensitive value
    /// went into it. The taint of what encloses it is left as it was; a caller whose value
    /// flows on (a local, a module input) adds the answer to it.
    pub(super) fn tainting<T>(&self, f: impl FnOnce() -> T) -> (T, bool) {
        let outer = self.tainted.replace(false);
        let r = f();
        (r, self.tainted.replace(outer))
    }

    pub fn resource_hint(&self, name: &str) -> String {
        match super::suggest(name, self.types.keys().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "declare it under `resources:` or fix the name".into(),
        }
    }

    /// Is `name` a resource of this stack (with or without a known type)?
    pub fn declares(&self, name: &str) -> bool {
        self.types.contains_key(name) || self.untyped.iter().any(|u| u == name)
    }

    /// Is `r.attr` an attribute of the resource `name` (whose instance `r` names)?
    pub fn check_attr(&self, name: &str, r: &Ref, node: &Node, out: &mut Vec<Diagnostic>) -> bool {
        let Some(ty) = self.types.get(name) else { return false };
        if !ty.has_attr(&r.attr) {
            let mut names: Vec<&str> = ty.attrs.to_vec();
            names.extend(ty.props.iter().filter(|p| !p.sensitive).map(|p| p.name));
            out.push(
                Diagnostic::error(
                    "Unknown attribute",
                    format!("`{}` ({}) has no attribute `{}`", r.resource, ty.name, r.attr),
                )
                .at(&node.span)
                .hint(unknown_key_hint(&r.attr, &names)),
            );
            return false;
        }
        true
    }

    /// The value of variable `name` (marking it used, and the value tainted if it is
    /// sensitive); `None` once reported.
    /// Counts the variables `ast` mentions as used, without evaluating it: a variable
    /// read only where a condition does not lead now (`cond ? var.a : var.b`, a resource
    /// with `count: 0`) is still one the stack uses.
    pub fn mention(&self, ast: &Ast) {
        let mut names = Vec::new();
        crate::lang::mentioned_vars(ast, &mut names);
        self.used_vars.borrow_mut().extend(names);
    }

    /// `mention` for every `${…}` written in a node.
    pub fn mention_node(&self, node: &Node) {
        match &node.kind {
            Kind::Str(s) => {
                for piece in parse_template(s).unwrap_or_default() {
                    if let Piece::Interp(ast) = piece {
                        self.mention(&ast);
                    }
                }
            }
            Kind::Seq(items) => items.iter().for_each(|n| self.mention_node(n)),
            Kind::Map(entries) => entries.iter().for_each(|(_, n)| self.mention_node(n)),
            _ => {}
        }
    }

    pub fn var(&self, name: &str, node: &Node, out: &mut Vec<Diagnostic>) -> Option<Node> {
        self.used_vars.borrow_mut().insert(name.to_string());
        if self.sensitive_vars.iter().any(|s| s == name) {
            self.tainted.set(true);
        }
        match self.vars.get(name) {
            Some(v) => Some(v.clone()),
            None if self.declared.iter().any(|d| d == name) => None,
            None => {
                out.push(
                    Diagnostic::error(
                        "Unknown variable",
                        format!("`${{var.{name}}}` refers to a variable the stack does not declare"),
                    )
                    .at(&node.span)
                    .hint(unknown_key_hint(name, &self.vars.keys().map(String::as_str).collect::<Vec<_>>())),
                );
                None
            }
        }
    }

    /// The value of local `name`, worked out the first time it is used (its problems
    /// reported where it is written, once).
    pub fn local(&self, name: &str, out: &mut Vec<Diagnostic>) -> Result<Expr, Fail> {
        let state = self.local_values.borrow().get(name).cloned();
        match state {
            Some(LocalState::Done(v, tainted)) => {
                if tainted {
                    self.tainted.set(true);
                }
                return v.ok_or(Fail::Reported);
            }
            Some(LocalState::Busy) => {
                return Err(Fail::Msg(
                    format!("local `{name}` refers to itself, through the locals it uses"),
                    Some("break the cycle: a local may use other locals, but not itself".into()),
                ))
            }
            None => {}
        }
        let Some(node) = self.locals.get(name) else {
            return Err(Fail::Msg(
                format!("`local.{name}` is not a local of this stack"),
                Some(unknown_key_hint(name, &self.locals.keys().map(String::as_str).collect::<Vec<_>>())),
            ));
        };
        // Locals computed one from another recurse: the chain is bounded.
        let Some(_link) = self.unit.budget.enter_local() else {
            return Err(Fail::Msg(
                format!(
                    "`local.{name}` is reached through a chain of more than {} locals, each computed from the next",
                    crate::budget::LOCAL_CHAIN
                ),
                Some("compute it from fewer locals in a row (a local may use several others side by side)".into()),
            ));
        };
        self.local_values.borrow_mut().insert(name.to_string(), LocalState::Busy);
        // A local sees neither `each` nor `count`, and taints only what uses it.
        let scope = self.scope.replace(Scope::default());
        let (v, tainted) = self.tainting(|| eval::local_value(node, self, out));
        // Every local is kept while the stack is checked: counted with what it keeps.
        let v = v.filter(|e| super::stack::within_stored(self.unit.budget, e, &node.span, out));
        if tainted {
            self.tainted.set(true);
        }
        *self.scope.borrow_mut() = scope;
        self.local_values.borrow_mut().insert(name.to_string(), LocalState::Done(v.clone(), tainted));
        v.ok_or(Fail::Reported)
    }
}

impl Ctx<'_> {
    /// Work out every local, each after the locals it uses (a walk with its own stack,
    /// not recursion), so that computing one finds the others done and never recurses
    /// through a chain of them: a thousand locals each using the last are computed one by
    /// one. Only a local first reached lazily (from a `for_each` or `count`, worked out
    /// before) or in a cycle still recurses, within [`crate::budget::LOCAL_CHAIN`].
    /// Problems are reported where each local is written.
    pub fn locals_in_order(&self, out: &mut Vec<Diagnostic>) {
        let uses: BTreeMap<&str, Vec<String>> =
            self.locals.iter().map(|(name, node)| (name.as_str(), mentioned_locals(node))).collect();
        let mut done: BTreeSet<&str> = BTreeSet::new();
        for first in self.locals.keys() {
            let mut open: BTreeSet<&str> = BTreeSet::from([first.as_str()]);
            let mut todo: Vec<(&str, usize)> = vec![(first.as_str(), 0)];
            while let Some((name, i)) = todo.pop() {
                if done.contains(name) {
                    continue;
                }
                match uses.get(name).and_then(|u| u.get(i)) {
                    Some(next) => {
                        todo.push((name, i + 1));
                        if let Some((next, _)) = uses.get_key_value(next.as_str()) {
                            if open.contains(next) {
                                // A cycle: left to be found (and named) as before, when
                                // a local of it is first used.
                                break;
                            }
                            if !done.contains(next) {
                                open.insert(next);
                                todo.push((next, 0));
                            }
                        }
                    }
                    None => {
                        open.remove(name);
                        done.insert(name);
                        if !self.local_values.borrow().contains_key(name) {
                            if let (Err(f), Some(node)) = (self.local(name, out), self.locals.get(name)) {
                                f.report(&node.span, out);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The locals a value's `${…}` mention (`local.NAME`), in order.
fn mentioned_locals(node: &Node) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![node];
    while let Some(n) = todo.pop() {
        match &n.kind {
            Kind::Str(s) if s.contains("${") => {
                for piece in parse_template(s).unwrap_or_default() {
                    if let Piece::Interp(ast) = piece {
                        crate::lang::mentioned("local", &ast, &mut out);
                    }
                }
            }
            Kind::Seq(items) => todo.extend(items.iter()),
            Kind::Map(entries) => todo.extend(entries.iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    out
}

/// `queue["orders"].arn`, as written, for messages.
pub fn path_text(root: &str, steps: &[Step]) -> String {
    let mut s = root.to_string();
    for step in steps {
        match step {
            Step::Attr(a) => {
                s.push('.');
                s.push_str(a);
            }
            Step::Index(Ast::Lit(Value::String(k))) => s.push_str(&format!("[\"{k}\"]")),
            Step::Index(Ast::Lit(v)) => s.push_str(&format!("[{v}]")),
            Step::Index(Ast::Path { root, steps }) => s.push_str(&format!("[{}]", path_text(root, steps))),
            Step::Index(_) => s.push_str("[…]"),
            Step::Splat => s.push_str("[*]"),
        }
    }
    s
}

fn wrong_type(node: &Node, kind: &PropKind, out: &mut Vec<Diagnostic>) -> Option<Expr> {
    out.push(
        Diagnostic::error("Wrong value type", format!("expected {}, found {}", kind.describe(), node.type_name()))
            .at(&node.span),
    );
    None
}

pub fn check_value(node: &Node, kind: &PropKind, ctx: &Ctx, out: &mut Vec<Diagnostic>) -> Option<Expr> {
    // Strings may hold references: resolve variables first, then type-check what is left.
    if let Kind::Str(s) = &node.kind {
        if s.contains('$') {
            return check_template(node, s, kind, ctx, out);
        }
    }
    check_node(node, kind, ctx, out)
}

/// Check the value of the property `prop`: its kind, and for an integer its range, so
/// that what validates is exactly what AWS will receive (never a number that wraps).
pub fn check_prop(node: &Node, prop: &Prop, ctx: &Ctx, out: &mut Vec<Diagnostic>) -> Option<Expr> {
    let e = check_value(node, &prop.kind, ctx, out)?;
    if let (PropKind::Str, Expr::Lit(Value::String(s))) = (&prop.kind, &e) {
        if let Some(why) = prop.length_problem(s) {
            out.push(Diagnostic::error("Invalid length", why).at(&node.span).hint("AWS refuses a name of this length"));
            return None;
        }
    }
    if let Expr::Lit(Value::Number(n)) = &e {
        let (min, max) = prop.int_range();
        if !crate::schema::in_range(n, (min, max)) {
            out.push(
                Diagnostic::error(
                    "Value out of range",
                    format!("`{}` must be from {min} to {max}; {n} is not", prop.name),
                )
                .at(&node.span)
                .hint(format!("give `{}` a value from {min} to {max}", prop.name)),
            );
            return None;
        }
    }
    Some(e)
}

/// Type-check a node whose strings are plain text (no references left in them).
fn check_node(node: &Node, kind: &PropKind, ctx: &Ctx, out: &mut Vec<Diagnostic>) -> Option<Expr> {
    match (kind, &node.kind) {
        (PropKind::Str, Kind::Str(s)) => Some(Expr::Lit(Value::String(s.clone()))),
        (PropKind::Str, Kind::Int(_) | Kind::Float(_) | Kind::Bool(_)) => {
            Some(Expr::Lit(Value::String(node.scalar_text().unwrap_or_default())))
        }
        (PropKind::Int, Kind::Int(i)) => Some(Expr::Lit(Value::from(*i))),
        (PropKind::Bool, Kind::Bool(b)) => Some(Expr::Lit(Value::Bool(*b))),
        (PropKind::Cidr, Kind::Str(s)) => match check_cidr(s) {
            Ok(()) => Some(Expr::Lit(Value::String(s.clone()))),
            Err(why) => {
                out.push(
                    Diagnostic::error("Invalid CIDR block", why)
                        .at(&node.span)
                        .hint("write an IPv4 network as `a.b.c.d/n` with no host bits set, e.g. `10.0.1.0/24`"),
                );
                None
            }
        },
        (PropKind::Enum(allowed), _) if node.scalar_text().is_some() => {
            let s = node.scalar_text().unwrap_or_default();
            if allowed.contains(&s.as_str()) {
                Some(Expr::Lit(Value::String(s)))
            } else {
                out.push(
                    Diagnostic::error("Invalid value", format!("`{s}` is not allowed here"))
                        .at(&node.span)
                        .hint(format!("use {}", kind.describe())),
                );
                None
            }
        }
        (PropKind::List(inner) | PropKind::Set(inner), Kind::Seq(items)) => {
            let mut ok = true;
            let mut exprs = Vec::new();
            let mut tally = Tally::new();
            for item in items {
                match check_value(item, inner, ctx, out) {
                    Some(e) if within(&mut tally, &e, node, out) => exprs.push(e),
                    Some(_) => return None,
                    None => ok = false,
                }
            }
            ok.then(|| collapse(Expr::List(exprs)))
        }
        (PropKind::Map(inner), Kind::Map(entries)) => {
            let mut ok = true;
            let mut exprs = Vec::new();
            let mut tally = Tally::new();
            for (k, v) in entries {
                match check_value(v, inner, ctx, out) {
                    Some(e) if within(&mut tally, &e, node, out) => exprs.push((k.name.clone(), e)),
                    Some(_) => return None,
                    None => ok = false,
                }
            }
            ok.then(|| collapse(Expr::Map(exprs)))
        }
        (PropKind::Object(fields), Kind::Map(entries)) => {
            let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
            super::check_keys(entries, &names, "this block", out);
            let mut ok = true;
            let mut exprs = Vec::new();
            let mut tally = Tally::new();
            for f in fields.iter() {
                match entries.iter().find(|(k, _)| k.name == f.name) {
                    Some((_, v)) if !matches!(v.kind, Kind::Null) => match check_prop(v, f, ctx, out) {
                        // Computed to `null`: unset, so its default (if any) applies.
                        Some(Expr::Lit(Value::Null)) => {
                            if let Some(d) = f.default_value() {
                                exprs.push((f.name.to_string(), Expr::Lit(d)));
                            }
                        }
                        Some(e) if within(&mut tally, &e, node, out) => exprs.push((f.name.to_string(), e)),
                        Some(_) => return None,
                        None => ok = false,
                    },
                    _ if f.required => {
                        out.push(
                            Diagnostic::error("Missing required property", format!("this block requires `{}`", f.name))
                                .at(&node.span)
                                .hint(format!("add `{}:` ({})", f.name, f.kind.describe())),
                        );
                        ok = false;
                    }
                    _ => {
                        if let Some(d) = f.default_value() {
                            exprs.push((f.name.to_string(), Expr::Lit(d)));
                        }
                    }
                }
            }
            ok.then(|| collapse(Expr::Map(exprs)))
        }
        (PropKind::Json, Kind::Str(s)) => match serde_json::from_str::<Value>(s) {
            Ok(v) if v.is_object() || v.is_array() => Some(Expr::Lit(v)),
            _ if matches!(node.kind, Kind::Str(_)) && !s.trim_start().starts_with(['{', '[']) => {
                Some(Expr::Lit(Value::String(s.clone())))
            }
            Err(e) => {
                out.push(
                    Diagnostic::error("Invalid JSON", format!("this string is not valid JSON: {e}")).at(&node.span),
                );
                None
            }
            Ok(v) => Some(Expr::Lit(v)),
        },
        (PropKind::Json, Kind::Seq(items)) => {
            let mut tally = Tally::new();
            let mut exprs = Vec::new();
            for i in items {
                let e = check_value(i, &PropKind::Json, ctx, out)?;
                if !within(&mut tally, &e, node, out) {
                    return None;
                }
                exprs.push(e);
            }
            Some(collapse(Expr::List(exprs)))
        }
        (PropKind::Json, Kind::Map(entries)) => {
            let mut ok = true;
            let mut exprs = Vec::new();
            let mut tally = Tally::new();
            for (k, v) in entries {
                match check_value(v, &PropKind::Json, ctx, out) {
                    Some(e) if within(&mut tally, &e, node, out) => exprs.push((k.name.clone(), e)),
                    Some(_) => return None,
                    None => ok = false,
                }
            }
            ok.then(|| collapse(Expr::Map(exprs)))
        }
        (PropKind::Json, Kind::Int(i)) => Some(Expr::Lit(Value::from(*i))),
        (PropKind::Json, Kind::Float(f)) => {
            Some(Expr::Lit(serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)))
        }
        (PropKind::Json, Kind::Bool(b)) => Some(Expr::Lit(Value::Bool(*b))),
        (PropKind::Json, Kind::Null) => Some(Expr::Lit(Value::Null)),
        _ => wrong_type(node, kind, out),
    }
}

fn check_template(node: &Node, s: &str, kind: &PropKind, ctx: &Ctx, out: &mut Vec<Diagnostic>) -> Option<Expr> {
    let pieces = match parse_template(s) {
        Ok(p) => p,
        Err(e) => {
            out.push(
                Diagnostic::error("Invalid expression", format!("in `{s}`: {} (at character {})", e.message, e.at + 1))
                    .at(&node.span)
                    .hint("write `${resource.attribute}`, `${var.name}`, `${local.name}` or a function call such as `${upper(var.env)}`; `$${` is a literal `${`"),
            );
            return None;
        }
    };
    let report = |f: Fail, out: &mut Vec<Diagnostic>| f.report(&node.span, out);
    // A lone `${…}` takes the expression's own value and type.
    if let [Piece::Interp(ast)] = pieces.as_slice() {
        return match eval::eval(ast, ctx, node, out) {
            // `null` leaves the property unset, as in Terraform (`cond ? x : null`).
            Ok(Expr::Lit(Value::Null)) => Some(Expr::Lit(Value::Null)),
            // A computed value is a literal: its strings are not scanned for references.
            Ok(Expr::Lit(v)) => check_node(&Node::from_json(&v, &node.span), kind, ctx, out),
            Ok(e) => check_unknown(e, node, kind, out),
            Err(f) => {
                report(f, out);
                None
            }
        };
    }
    let mut parts = Vec::new();
    let mut ok = true;
    let mut tally = Tally::new();
    for p in pieces {
        // The string is measured piece by piece, before it is joined.
        let size = match parts.last() {
            Some(Part::Lit(t)) => tally.add_bytes(t.len()),
            Some(Part::Expr(e)) => tally.add(e),
            _ => Ok(()),
        };
        if let Err(why) = size {
            out.push(
                Diagnostic::error("Value too large", format!("this string {why}"))
                    .at(&node.span)
                    .hint(crate::budget::VALUE_HINT),
            );
            return None;
        }
        match p {
            Piece::Text(t) => parts.push(Part::Lit(t)),
            Piece::Interp(ast) => {
                match eval::eval(&ast, ctx, node, out) {
                    Ok(Expr::Lit(v)) => {
                        match crate::functions::text(&v) {
                            Some(t) => parts.push(Part::Lit(t)),
                            None => {
                                out.push(
                            Diagnostic::error(
                                "Wrong value type",
                                format!("`{}` is {}, which cannot be placed inside a string", crate::lang::show(&ast), value_kind(&v)),
                            )
                            .at(&node.span)
                            .hint("use it alone as the whole value, or make text of it with `join` or `jsonencode`"),
                        );
                                ok = false;
                            }
                        }
                    }
                    Ok(Expr::Ref(r)) => parts.push(Part::Ref(r)),
                    Ok(e) => parts.push(Part::Expr(e)),
                    Err(f) => {
                        report(f, out);
                        ok = false;
                    }
                }
            }
        }
    }
    if !ok {
        return None;
    }
    let last = match parts.last() {
        Some(Part::Lit(t)) => tally.add_bytes(t.len()),
        Some(Part::Expr(e)) => tally.add(e),
        _ => Ok(()),
    };
    if let Err(why) = last {
        out.push(
            Diagnostic::error("Value too large", format!("this string {why}"))
                .at(&node.span)
                .hint(crate::budget::VALUE_HINT),
        );
        return None;
    }
    if parts.iter().all(|p| matches!(p, Part::Lit(_))) {
        let text: String = parts.iter().map(|p| if let Part::Lit(t) = p { t.as_str() } else { "" }).collect();
        let lit = Node { kind: Kind::Str(text), span: node.span.clone() };
        // Re-check the substituted text (e.g. a CIDR assembled from variables).
        return check_node(&lit, kind, ctx, out);
    }
    match kind {
        PropKind::Str | PropKind::Json | PropKind::Cidr | PropKind::Enum(_) => Some(Expr::Template(parts)),
        _ => wrong_type(node, kind, out),
    }
}

/// Add `e` to a list or map being built from YAML; `false` (reported at `node`) once the
/// whole would pass the value budget.
fn within(tally: &mut Tally, e: &Expr, node: &Node, out: &mut Vec<Diagnostic>) -> bool {
    match tally.add(e) {
        Ok(()) => true,
        Err(why) => {
            out.push(
                Diagnostic::error("Value too large", format!("this value {why}"))
                    .at(&node.span)
                    .hint(crate::budget::VALUE_HINT),
            );
            false
        }
    }
}

fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
        _ => "a value",
    }
}

/// A value only known at apply, where `kind` is expected: a reference or a call may be
/// anything, a list or map must be where one is expected (its known parts checked).
fn check_unknown(e: Expr, node: &Node, kind: &PropKind, out: &mut Vec<Diagnostic>) -> Option<Expr> {
    match (&e, kind) {
        (Expr::Ref(_) | Expr::Call { .. }, _) => Some(e),
        (Expr::Template(_), PropKind::Str | PropKind::Json | PropKind::Cidr | PropKind::Enum(_)) => Some(e),
        (Expr::List(items), PropKind::List(inner) | PropKind::Set(inner)) => {
            let mut checked = Vec::new();
            for item in items {
                checked.push(match item {
                    Expr::Lit(v) => check_lit(v, node, inner, out)?,
                    other => check_unknown(other.clone(), node, inner, out)?,
                });
            }
            Some(collapse(Expr::List(checked)))
        }
        (Expr::List(_) | Expr::Map(_), PropKind::Json) => Some(e),
        (Expr::Map(_), PropKind::Map(_) | PropKind::Object(_)) => Some(e),
        _ => {
            out.push(
                Diagnostic::error(
                    "Wrong value type",
                    format!(
                        "expected {}, found {}",
                        kind.describe(),
                        if matches!(e, Expr::List(_)) { "a list" } else { "a map" }
                    ),
                )
                .at(&node.span),
            );
            None
        }
    }
}

/// A known element of a list that also holds values known only at apply.
fn check_lit(v: &Value, node: &Node, kind: &PropKind, out: &mut Vec<Diagnostic>) -> Option<Expr> {
    match (kind, crate::functions::text(v)) {
        (PropKind::Str | PropKind::Cidr | PropKind::Enum(_), Some(t)) => Some(Expr::Lit(Value::String(t))),
        (PropKind::Json, _) => Some(Expr::Lit(v.clone())),
        _ => wrong_type(&Node::from_json(v, &node.span), kind, out),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{parse_env, parse_stack};
    use std::path::PathBuf;
    use std::sync::Arc;

    fn errors(yaml: &str) -> Vec<String> {
        let (env, _) = parse_env("test", &Arc::new(PathBuf::from("envs/test.yaml")), "stack: stacks/t.yaml\n");
        let env = env.expect("env");
        match parse_stack(&Arc::new(PathBuf::from("stacks/t.yaml")), yaml, "t", &env, &crate::testutil::catalog()) {
            Ok(_) => Vec::new(),
            Err(d) => d
                .iter()
                .map(|d| format!("{}:{}: {}", d.span.as_ref().map_or(0, |s| s.line), d.summary, d.detail))
                .collect(),
        }
    }

    #[test]
    fn integers_outside_their_range_are_refused_where_they_are_written() {
        let sg = |from: &str, to: &str| {
            format!(
                "resources:\n  sg:\n    type: aws.ec2.security_group\n    properties:\n      name: a\n      vpc_id: vpc-1\n      ingress:\n        - {{ protocol: tcp, from_port: {from}, to_port: {to}, cidr_blocks: [0.0.0.0/0] }}\n"
            )
        };
        // 4294967296 would be 0 as a 32-bit integer, 4295032831 would be 65535.
        let e = errors(&sg("4294967296", "4295032831"));
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(
            e[0].starts_with("8:Value out of range: `from_port` must be from -1 to 65535; 4294967296 is not"),
            "{e:?}"
        );
        assert!(errors(&sg("-2", "80"))[0].contains("`from_port` must be from -1 to 65535; -2 is not"));
        assert!(errors(&sg("0", "65536"))[0].contains("`to_port` must be from -1 to 65535; 65536 is not"));
        assert!(errors(&sg("0", "65535")).is_empty());
        assert!(errors(&sg("443", "443")).is_empty());
        // In range, but not a port range AWS would open as written.
        assert_eq!(
            errors(&sg("-1", "65535")),
            vec!["8:Invalid value: `ingress`: rule 1 is tcp from port -1 to 65535; tcp ports are 0 to 65535"]
        );
        assert_eq!(
            errors(&sg("8080", "80")),
            vec!["8:Invalid value: `ingress`: rule 1 opens tcp from port 8080 to port 80, a range that ends before it starts"]
        );
        // ICMP uses the two for type and code: type 8 (echo), code 0 is right.
        let icmp = sg("8", "0").replace("protocol: tcp", "protocol: icmp");
        assert!(errors(&icmp).is_empty(), "{:?}", errors(&icmp));
        // Without a declared range an integer must still fit AWS's 32-bit integers.
        let q = "resources:\n  q:\n    type: aws.logs.log_group\n    properties: { name: x, retention_in_days: 0 }\n";
        assert!(errors(q)[0].contains("`retention_in_days` must be from 1 to 3653; 0 is not"), "{:?}", errors(q));
    }

    #[test]
    fn what_aws_would_refuse_is_refused_at_validate_where_it_is_written() {
        let one = |ty: &str, props: &str| {
            errors(&format!("resources:\n  r:\n    type: {ty}\n    properties: {{ {props} }}\n"))
        };
        assert_eq!(
            one("aws.ec2.vpc", "cidr_block: 10.0.0.0/8"),
            vec!["4:Invalid value: `cidr_block`: a /8 block is outside what AWS allows, /16 to /28"]
        );
        assert!(one("aws.ec2.vpc", "cidr_block: 10.0.0.0/16").is_empty());
        assert!(one("aws.ec2.subnet", "vpc_id: v, cidr_block: 10.0.0.0/29")[0].contains("a /29 block is outside"));
        for bad in ["ab", "My-Bucket", "-abc", "a..b", "192.168.1.1", "xn--abc", "abc-s3alias", &"a".repeat(64)] {
            let e = one("aws.s3.bucket", &format!("bucket: \"{bad}\""));
            assert!(e.len() == 1 && e[0].starts_with("4:Invalid value: `bucket`:"), "{bad}: {e:?}");
        }
        assert!(one("aws.s3.bucket", "bucket: my-data.lake-01").is_empty());
        let tags = one("aws.sqs.queue", "name: q, tags: { \"aws:owner\": me }");
        assert_eq!(
            tags,
            vec![
                "4:Invalid value: `tags`: tag key `aws:owner` starts with `aws:`, which AWS reserves for its own tags"
            ]
        );
        let long = one("aws.sqs.queue", &format!("name: q, tags: {{ team: {} }}", "v".repeat(257)));
        assert!(long[0].contains("the value of tag `team` is 257 characters long; AWS allows 256"), "{long:?}");
        let msk = |brokers: u32, subnets: &str| {
            one(
                "aws.msk.cluster",
                &format!("cluster_name: m, kafka_version: 3.6.0, broker_count: {brokers}, broker_instance_type: kafka.m5.large, client_subnets: [{subnets}]"),
            )
        };
        assert_eq!(
            msk(4, "a, b, c"),
            vec!["4:Invalid value: `broker_count`: 4 brokers cannot be spread evenly over 3 client subnets"]
        );
        assert!(msk(6, "a, b, c").is_empty());
        assert!(msk(2, "a")[0].contains("MSK needs 2 or 3 client subnets"));
        assert_eq!(
            one("aws.logs.log_group", "name: x, retention_in_days: 10"),
            vec!["4:Invalid value: `retention_in_days`: CloudWatch Logs keeps events 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653 days, not 10"]
        );
        assert!(one("aws.logs.log_group", "name: x, retention_in_days: 14").is_empty());
    }

    #[test]
    fn cdc_rules_see_the_value_from_the_env_file() {
        let (env, d) = parse_env(
            "test",
            &Arc::new(PathBuf::from("envs/test.yaml")),
            "stack: stacks/t.yaml\nvariables:\n  binlog: STATEMENT\n",
        );
        assert!(d.is_empty());
        let yaml = "variables:\n  binlog: { type: string }\nresources:\n  p:\n    type: aws.rds.cluster_parameter_group\n    properties: { name: p, family: aurora-mysql8.0, parameters: { binlog_format: \"${var.binlog}\" } }\n";
        let e = parse_stack(
            &Arc::new(PathBuf::from("stacks/t.yaml")),
            yaml,
            "t",
            &env.unwrap(),
            &crate::testutil::catalog(),
        )
        .unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(
            e[0].detail,
            "`binlog_format: STATEMENT` cannot serve a CDC source: Debezium and DMS read row-based binlogs only"
        );
        assert_eq!(e[0].span.as_ref().map(|s| (s.line, s.col)), Some((6, 82)));
    }

    #[test]
    fn numbers_written_where_text_is_expected_keep_their_text() {
        let (env, _) = parse_env("test", &Arc::new(PathBuf::from("envs/test.yaml")), "stack: stacks/t.yaml\n");
        let yaml = "resources:\n  conf:\n    type: aws.msk.configuration\n    properties: { name: c, kafka_versions: [3.10], server_properties: x }\n  db:\n    type: aws.rds.cluster\n    properties: { cluster_identifier: a, engine: aurora-mysql, engine_version: 8.0, master_username: admin }\n  b:\n    type: aws.s3.bucket\n    properties: { bucket: 1e3 }\n";
        let stack = parse_stack(
            &Arc::new(PathBuf::from("stacks/t.yaml")),
            yaml,
            "t",
            &env.expect("env"),
            &crate::testutil::catalog(),
        )
        .unwrap_or_else(|d| panic!("{d:?}"));
        let lit = |r: &str, p: &str| match &stack.resources.iter().find(|x| x.name == r).unwrap().props[p] {
            crate::expr::Expr::Lit(v) => v.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(lit("conf", "kafka_versions"), serde_json::json!(["3.10"]), "not 3.1");
        assert_eq!(lit("db", "engine_version"), serde_json::json!("8.0"), "not 8");
        assert_eq!(lit("b", "bucket"), serde_json::json!("1e3"), "not 1000");
    }
}
