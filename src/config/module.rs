//! Modules: another stack file used as a component.
//!
//! ```yaml
//! modules:
//!   orders_db:
//!     source: ../components/aurora-cdc-source.yaml
//!     inputs: { name: orders, subnet_ids: "${private[*].id}" }
//! ```
//!
//! The source is parsed like a stack, its variables set from `inputs` (evaluated in the
//! calling file, so they may hold resource attributes), its resources addressed
//! `module.orders_db.cluster` (`module.orders_db["k"].cluster` with `for_each`), and its
//! outputs read as `${module.orders_db.writer_endpoint}`. Each module is worked out once,
//! when first used (a module's input may use another module's output); a module whose
//! source uses itself, however indirectly, is a located error.

use super::eval::{fail, key_address, Fail, Scope};
use super::stack::{
    for_each_keys, known_at_validate, parse_body, parse_variables, variable_values, Body, Unit, MAX_MODULE_DEPTH,
};
use super::value::{check_value, Ctx};
use super::{check_keys, expect_map, expect_str, Diagnostic};
use crate::expr::Expr;
use crate::schema::PropKind;
use crate::yaml::{Key, Node};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// A module's outputs: one set, or one per `for_each` key.
#[derive(Debug, Clone)]
pub enum Outputs {
    One(BTreeMap<String, (Expr, bool)>),
    Keys(BTreeMap<String, BTreeMap<String, (Expr, bool)>>),
}

#[derive(Debug, Clone)]
pub struct Module {
    pub outputs: Outputs,
    pub resources: Vec<super::Resource>,
    /// The resources it declares, also those with no instances (`Body::blocks`).
    pub blocks: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum ModState {
    Busy,
    /// `None`: it has problems, reported where they are.
    Done(Option<Module>),
}

const MODULE_KEYS: &[&str] = &["source", "inputs", "for_each", "description"];

/// `a/b/../c` → `a/c`, without touching the file system; `None` if it climbs out.
fn normalize(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            _ => return None,
        }
    }
    Some(out)
}

impl Ctx<'_> {
    /// Module `name` of this file, worked out the first time it is asked for.
    pub fn module(&self, name: &str, out: &mut Vec<Diagnostic>) -> Result<Module, Fail> {
        match self.modules.borrow().get(name) {
            Some(ModState::Done(m)) => return m.clone().ok_or(Fail::Reported),
            Some(ModState::Busy) => {
                return fail(
                    format!("module `{name}` uses its own outputs, through the inputs of the modules it uses"),
                    "an input of a module cannot depend on that module's outputs",
                )
            }
            None => {}
        }
        let Some((key, node)) = self.module_defs.get(name) else {
            let names: Vec<&str> = self.module_defs.keys().map(String::as_str).collect();
            return fail(
                format!("`module.{name}` is not a module of this file"),
                super::unknown_key_hint(name, &names),
            );
        };
        self.modules.borrow_mut().insert(name.to_string(), ModState::Busy);
        let scope = self.scope.replace(Scope::default());
        let m = self.call_module(key, node, out);
        *self.scope.borrow_mut() = scope;
        self.modules.borrow_mut().insert(name.to_string(), ModState::Done(m.clone()));
        m.ok_or(Fail::Reported)
    }

    fn call_module(&self, key: &Key, node: &Node, out: &mut Vec<Diagnostic>) -> Option<Module> {
        let what = format!("module `{}`", key.name);
        let entries = expect_map(node, &what, out)?;
        check_keys(entries, MODULE_KEYS, "a module", out);
        let Some(src_node) = node.get("source") else {
            out.push(super::missing(&what, "source", &key.span, "add `source: ../components/<file>.yaml`"));
            return None;
        };
        let source = expect_str(src_node, "`source`", out)?;
        let bad_source = |why: String, out: &mut Vec<Diagnostic>| {
            out.push(
                Diagnostic::error("Invalid module source", why)
                    .at(&src_node.span)
                    .hint("name a stack file by its path from this file, inside the project: `../components/aurora-cdc-source.yaml`"),
            );
        };
        if source.contains("://") || source.starts_with("git::") || Path::new(&source).is_absolute() {
            bad_source(format!("`{source}` is not a local path; modules come from files in the project"), out);
            return None;
        }
        let Some(path) = normalize(&self.dir.join(&source)) else {
            bad_source(format!("`{source}` leads outside the project directory"), out);
            return None;
        };
        if let Some(i) = self.unit.chain.iter().position(|p| *p == path) {
            let mut cycle: Vec<String> = self.unit.chain[i..].iter().map(|p| p.display().to_string()).collect();
            cycle.push(path.display().to_string());
            out.push(
                Diagnostic::error("Module cycle", format!("modules use each other in a cycle: {}", cycle.join(" → ")))
                    .at(&src_node.span)
                    .hint("a module may not use, directly or through other modules, the file that uses it"),
            );
            return None;
        }
        if self.unit.chain.len() > MAX_MODULE_DEPTH {
            bad_source(format!("modules nest more than {MAX_MODULE_DEPTH} deep here"), out);
            return None;
        }
        let Some(read) = self.files else {
            bad_source("modules cannot be read here".into(), out);
            return None;
        };
        let text = match read(&path.to_string_lossy()) {
            Ok(t) => t,
            Err(why) => {
                bad_source(format!("cannot read `{source}`: {why}"), out);
                return None;
            }
        };
        let file = Arc::new(path.clone());
        let (root, problems) = match crate::yaml::parse_all(&file, &text) {
            Ok(r) => r,
            Err(d) => {
                out.push(d);
                return None;
            }
        };
        out.extend(problems);
        let top = expect_map(&root, "a module's file", out)?;
        let own: Vec<(Key, Node)> = top.iter().filter(|(k, _)| !k.name.starts_with("x-")).cloned().collect();
        check_keys(
            &own,
            &["name", "description", "variables", "locals", "resources", "modules", "outputs", "x-…"],
            "a module's file (`moved`, `removed` and `import` belong in the stack that uses it)",
            out,
        );
        let mut chain = self.unit.chain.clone();
        chain.push(path);

        // `for_each` over the module: one copy per key.
        let keyed = match node.get("for_each") {
            None => None,
            // The same rules as a resource's `for_each`: its keys go into addresses too.
            Some(fe) => Some(for_each_keys(&known_at_validate(fe, self, out)?, fe, out)?),
        };
        let copies: Vec<(Option<(String, Value)>, String)> = match &keyed {
            None => vec![(None, format!("{}module.{}.", self.unit.prefix, key.name))],
            Some(keys) => keys
                .iter()
                .map(|(k, v)| {
                    let at = key_address(&format!("{}module.{}", self.unit.prefix, key.name), k);
                    (Some((k.clone(), v.clone())), format!("{at}."))
                })
                .collect(),
        };
        // Every copy counts against the stack's instances, before any is worked out.
        let at = node.get("for_each").map_or(&key.span, |f| &f.span);
        if !super::stack::within_instances(self.unit.budget, copies.len(), at, out) {
            return None;
        }
        let mut resources = Vec::new();
        let mut blocks = Vec::new();
        let mut per_key = BTreeMap::new();
        let mut failed = false;
        for (each, prefix) in copies {
            *self.scope.borrow_mut() = Scope { each: each.clone().map(|(k, v)| (k, Expr::Lit(v))), count: None };
            let before = out.iter().filter(|d| d.severity == crate::diag::Severity::Error).count();
            let unit = Unit {
                file: &file,
                prefix,
                catalog: self.unit.catalog,
                files: self.files,
                chain: chain.clone(),
                budget: self.unit.budget,
            };
            let body = self.instantiate(key, node, &root, &unit, out);
            *self.scope.borrow_mut() = Scope::default();
            failed |= out.iter().filter(|d| d.severity == crate::diag::Severity::Error).count() > before;
            let Some(Body { resources: r, blocks: b, outputs, .. }) = body else { continue };
            resources.extend(r);
            blocks.extend(b);
            let outs = outputs.into_iter().map(|o| (o.name, (o.value, o.sensitive))).collect();
            per_key.insert(each.map(|(k, _)| k), outs);
        }
        if failed {
            return None;
        }
        let outputs = match keyed {
            None => Outputs::One(per_key.into_values().next().unwrap_or_default()),
            Some(_) => Outputs::Keys(per_key.into_iter().filter_map(|(k, v)| Some((k?, v))).collect()),
        };
        Some(Module { outputs, resources, blocks })
    }

    /// One copy of a module: its inputs evaluated here, its file parsed under `unit`.
    fn instantiate(&self, key: &Key, node: &Node, root: &Node, unit: &Unit, out: &mut Vec<Diagnostic>) -> Option<Body> {
        let mut variables = parse_variables(root.get("variables"), out);
        let inputs: &[(Key, Node)] =
            node.get("inputs").and_then(|i| expect_map(i, "`inputs`", out)).unwrap_or_default();
        let mut given = Vec::new();
        let mut exprs = BTreeMap::new();
        for (k, v) in inputs {
            let Some(var) = variables.iter_mut().find(|d| d.name == k.name) else {
                let names: Vec<&str> = variables.iter().map(|v| v.name.as_str()).collect();
                out.push(
                    Diagnostic::error(
                        "Unknown module input",
                        format!("module `{}` ({}) declares no variable `{}`", key.name, unit.file.display(), k.name),
                    )
                    .at(&k.span)
                    .hint(super::unknown_key_hint(&k.name, &names)),
                );
                continue;
            };
            let (e, tainted) = self.tainting(|| check_value(v, &PropKind::Json, self, out));
            // An input set from a sensitive value makes the module's variable sensitive.
            var.sensitive |= tainted;
            if tainted {
                self.tainted.set(true);
            }
            match e {
                Some(Expr::Lit(value)) => given.push((k.clone(), Node::from_json(&value, &v.span))),
                Some(e) => {
                    exprs.insert(k.name.clone(), e);
                }
                None => {}
            }
        }
        let computed: Vec<String> = exprs.keys().cloned().collect();
        let call = super::stack::ModuleCall { name: &key.name, computed: &computed };
        let values = variable_values(&variables, &super::Env::inputs(given), Some(call), out);
        Some(parse_body(root, unit, variables, values, exprs, out))
    }
}

/// `${module.NAME.OUTPUT}`, `${module.NAME["key"].OUTPUT}` or `${module.NAME[*].OUTPUT}`.
pub fn reference(steps: &[crate::lang::Step], ctx: &Ctx, node: &Node, out: &mut Vec<Diagnostic>) -> Result<Expr, Fail> {
    use crate::lang::Step;
    let Some(Step::Attr(name)) = steps.first() else {
        return fail("`module` must be followed by a module's name", "write `${module.<name>.<output>}`");
    };
    let m = ctx.module(name, out)?;
    let output = |outs: &BTreeMap<String, (Expr, bool)>, step: Option<&Step>| -> Result<Expr, Fail> {
        let Some(Step::Attr(o)) = step else {
            return fail(
                format!("`module.{name}` must be followed by one of its outputs"),
                "write `${module.<name>.<output>}`",
            );
        };
        match outs.get(o) {
            Some((e, sensitive)) => {
                if *sensitive {
                    ctx.tainted.set(true);
                }
                Ok(e.clone())
            }
            None => fail(
                format!("module `{name}` has no output `{o}`"),
                super::unknown_key_hint(o, &outs.keys().map(String::as_str).collect::<Vec<_>>()),
            ),
        }
    };
    let rest = steps.get(1..).unwrap_or_default();
    match (&m.outputs, rest.first()) {
        (Outputs::One(outs), _) => {
            let e = output(outs, rest.first())?;
            super::eval::index(e, rest.get(1..).unwrap_or_default(), ctx, node, out)
        }
        (Outputs::Keys(keys), Some(Step::Splat)) => {
            let items = keys.values().map(|outs| output(outs, rest.get(1))).collect::<Result<Vec<_>, _>>()?;
            super::eval::index(
                super::eval::collapse(Expr::List(items)),
                rest.get(2..).unwrap_or_default(),
                ctx,
                node,
                out,
            )
        }
        (Outputs::Keys(keys), Some(Step::Index(i))) => {
            let k = match super::eval::eval(i, ctx, node, out)? {
                Expr::Lit(v) => crate::functions::text(&v),
                _ => None,
            };
            match k.and_then(|k| keys.get(&k).map(|o| (k, o))) {
                Some((_, outs)) => {
                    let e = output(outs, rest.get(1))?;
                    super::eval::index(e, rest.get(2..).unwrap_or_default(), ctx, node, out)
                }
                None => fail(
                    format!("module `{name}` has no instance with that key"),
                    format!("its keys are {}", keys.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")),
                ),
            }
        }
        (Outputs::Keys(_), _) => fail(
            format!("module `{name}` has `for_each`, so say which instance"),
            format!("write `${{module.{name}[\"key\"].<output>}}` or `${{module.{name}[*].<output>}}`"),
        ),
    }
}
