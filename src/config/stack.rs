//! `stacks/<name>.yaml`: typed variables, resources with their properties, and outputs.
//! Parsing resolves `${var.*}`, checks every property against its type's schema and every
//! `${resource.attribute}` against the stack, and reports all problems at once.

use super::eval::{Instances, Scope};
use super::value::{check_value, Ctx};
use super::{check_keys, expect_bool, expect_map, expect_str, unknown_key_hint, valid_name, Env};
use crate::diag::{Diagnostic, Span};
use crate::expr::Expr;
use crate::schema::{self, Catalog, Timeouts, TypeSchema};
use crate::yaml::{self, Key, Kind, Node};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    pub ty: VarType,
    pub default: Option<Node>,
    /// `sensitive: true`: every property derived from it is redacted and hashed.
    pub sensitive: bool,
    pub validation: Validation,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarType {
    String,
    Number,
    Bool,
    List,
    Map,
}

impl VarType {
    /// As the stack writes it (`type: string`).
    pub fn name(self) -> &'static str {
        match self {
            VarType::String => "string",
            VarType::Number => "number",
            VarType::Bool => "bool",
            VarType::List => "list",
            VarType::Map => "map",
        }
    }

    fn accepts(self, node: &Node) -> bool {
        matches!(
            (self, &node.kind),
            (VarType::String, Kind::Str(_) | Kind::Int(_) | Kind::Float(_))
                | (VarType::Number, Kind::Int(_) | Kind::Float(_))
                | (VarType::Bool, Kind::Bool(_))
                | (VarType::List, Kind::Seq(_))
                | (VarType::Map, Kind::Map(_))
        )
    }
}

#[derive(Debug, Clone)]
pub struct Resource {
    /// The instance's address: `queue`, `queue["orders"]` or `queue[0]`.
    pub name: String,
    /// The name it is declared under (`queue`), shared by all its instances.
    pub declared: String,
    pub ty: &'static TypeSchema,
    /// Checked properties, defaults filled in, `${var.*}` already substituted.
    pub props: BTreeMap<String, Expr>,
    /// Explicit `depends_on` entries, with their locations.
    pub depends_on: Vec<(String, Span)>,
    /// The type's default timeouts with the resource's `timeouts:` overrides applied.
    pub timeouts: Timeouts,
    /// Refuse any plan that would delete or replace it.
    pub prevent_destroy: bool,
    /// A plan may replace it although that restarts its change data capture (see
    /// `TypeSchema::restarts_cdc`).
    pub allow_resnapshot: bool,
    /// Rules (`CB…`) whose findings about it are suppressed, each with its reason.
    pub suppress: BTreeMap<String, String>,
    /// Where each property's value is written.
    pub spans: BTreeMap<String, Span>,
    /// Properties that hold a sensitive value although their type does not say so: set
    /// from a `sensitive` variable, or from such a property of another resource.
    pub sensitive: BTreeSet<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Output {
    pub name: String,
    pub value: Expr,
    pub sensitive: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Stack {
    pub name: String,
    pub file: Arc<PathBuf>,
    pub resources: Vec<Resource>,
    pub outputs: Vec<Output>,
    /// `moved:`, in order: state entries at `from` are renamed `to` before planning.
    pub moved: Vec<Moved>,
    /// `removed:`: state entries forgotten, left as they are in AWS.
    pub removed: Vec<Removed>,
    /// `import:`: existing resources taken into state at an address of the stack.
    pub imports: Vec<Import>,
    /// `data:`: lookups read at plan time, in an order where each comes after those its
    /// filter uses.
    pub data: Vec<DataSource>,
    /// Problems that do not stop the run (e.g. a value for a variable this stack does
    /// not declare: one env file serves several stacks).
    pub warnings: Vec<Diagnostic>,
}

/// A data source: `data.NAME`, its kind, and its filter (which may use other data sources).
#[derive(Debug, Clone)]
pub struct DataSource {
    pub address: String,
    pub kind: &'static crate::data::DataKind,
    pub filter: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Moved {
    pub from: String,
    pub to: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Removed {
    pub from: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub to: String,
    pub id: String,
    pub span: Span,
}

impl Stack {
    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.name == name)
    }
}

const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "variables",
    "locals",
    "resources",
    "modules",
    "data",
    "outputs",
    "moved",
    "removed",
    "import",
    "x-…",
];
const RESOURCE_KEYS: &[&str] = &[
    "type",
    "for_each",
    "count",
    "properties",
    "depends_on",
    "timeouts",
    "prevent_destroy",
    "allow_resnapshot",
    "suppress",
    "description",
];
/// The most instances one `for_each` or `count` may make (`crate::budget`).
pub const MAX_INSTANCES: usize = crate::budget::INSTANCES_EACH;
const VARIABLE_KEYS: &[&str] = &["type", "default", "description", "sensitive", "validation"];
const OUTPUT_KEYS: &[&str] = &["value", "description", "sensitive"];

/// Parse and check a stack for one environment. `default_name` is used when the stack
/// has no `name:` (the file stem).
pub fn parse_stack(
    file: &Arc<PathBuf>,
    text: &str,
    default_name: &str,
    env: &Env,
    catalog: &Catalog,
) -> Result<Stack, Vec<Diagnostic>> {
    parse_stack_reading(file, text, default_name, env, catalog, None)
}

/// [`parse_stack`], with `files` reading what `file()` and module `source:` name (a path
/// relative to the project directory; the reader keeps it inside the project).
pub fn parse_stack_reading(
    file: &Arc<PathBuf>,
    text: &str,
    default_name: &str,
    env: &Env,
    catalog: &Catalog,
    files: Option<crate::functions::Reader>,
) -> Result<Stack, Vec<Diagnostic>> {
    let (root, mut out) = yaml::parse_all(file, text).map_err(|d| vec![d])?;
    let Some(top) = expect_map(&root, "a stack file", &mut out) else {
        return Err(out);
    };
    // `x-` keys are free for anchors (`x-tags: &tags {…}`), as in Compose files.
    let own: Vec<(Key, Node)> = top.iter().filter(|(k, _)| !k.name.starts_with("x-")).cloned().collect();
    check_keys(&own, TOP_KEYS, "a stack file", &mut out);
    let name =
        root.get("name").and_then(|n| expect_str(n, "`name`", &mut out)).unwrap_or_else(|| default_name.to_string());
    if !valid_name(&name) {
        let span = root.get("name").map_or_else(|| Span::file(file), |n| n.span.clone());
        out.push(
            Diagnostic::error(
                "Invalid name",
                format!("stack name `{name}` may only hold letters, digits, `_` and `-`"),
            )
            .at(&span),
        );
    }
    let variables = parse_variables(root.get("variables"), &mut out);
    let values = variable_values(&variables, env, None, &mut out);
    let secrets = secret_texts(&variables, &values);
    let budget = crate::budget::Budget::default();
    let unit = Unit { file, prefix: String::new(), catalog, files, chain: vec![file.to_path_buf()], budget: &budget };
    let mut body = parse_body(&root, &unit, variables, values, BTreeMap::new(), &mut out);
    let (moved, removed, imports) = refactoring(&root, &body, &mut out);
    // Rules across resources, over the whole stack with its modules.
    propagate_sensitive(&mut body.resources);
    exposed_sensitive(&body.resources, &mut out);
    super::cdc::check_sources(&body.resources, &mut out);
    super::cdc::check_slot_readers(&body.resources, &mut out);
    super::network::check_subnets(&body.resources, &mut out);
    // The data paths: roles with `policy: generated` get theirs, then every path is
    // checked for network, IAM and wiring.
    let paths = super::paths::derive(&super::paths::Model::new(&body.resources));
    super::access::generate(&mut body.resources, &paths, &mut out);
    let model = super::paths::Model::new(&body.resources);
    super::network::check_paths(&model, &paths, &mut out);
    super::access::check(&model, &paths, &mut out);
    super::cdc::check_wiring(&model, &paths, &mut out);
    out.retain(|d| !suppressed(d, &body.resources));
    // Every instance of a resource is checked; a problem they share is reported once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|d| {
        seen.insert((d.summary, d.detail.clone(), d.span.as_ref().map(|s| (s.file.clone(), s.line, s.col))))
    });
    // A resource declared twice is one duplicate key: keep the specific diagnostic.
    let resource_dups: Vec<Option<Span>> =
        out.iter().filter(|d| d.summary == "Duplicate resource name").map(|d| d.span.clone()).collect();
    out.retain(|d| d.summary != "Duplicate key" || !resource_dups.contains(&d.span));
    scrub(&mut out, &secrets);
    if out.iter().any(|d| d.severity == crate::diag::Severity::Error) {
        Err(out)
    } else {
        Ok(Stack {
            name,
            file: file.clone(),
            resources: body.resources,
            outputs: body.outputs,
            moved,
            removed,
            imports,
            data: body.data,
            warnings: out,
        })
    }
}

/// The texts of the sensitive variables' values (each scalar of a list or map value), for
/// [`scrub`]. Texts under 4 characters are left out: they would mask ordinary words.
fn secret_texts(variables: &[Variable], values: &BTreeMap<String, Node>) -> Vec<String> {
    fn leaves(n: &Node, out: &mut Vec<String>) {
        match &n.kind {
            Kind::Seq(items) => items.iter().for_each(|i| leaves(i, out)),
            Kind::Map(entries) => entries.iter().for_each(|(_, v)| leaves(v, out)),
            _ => out.extend(n.scalar_text()),
        }
    }
    let mut out = Vec::new();
    for v in variables.iter().filter(|v| v.sensitive) {
        if let Some(n) = values.get(&v.name) {
            leaves(n, &mut out);
        }
    }
    out.retain(|s| s.chars().count() >= 4);
    // Longest first, so a secret holding another is masked whole.
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}

/// The last net under "no secret printed": a message that quotes a value (an out-of-range
/// number, a value a rule refuses, a key a lookup misses) shows `(sensitive value)` where
/// a sensitive variable's value would stand.
fn scrub(out: &mut [Diagnostic], secrets: &[String]) {
    if secrets.is_empty() {
        return;
    }
    let mask =
        |s: &str| secrets.iter().fold(s.to_string(), |t, secret| t.replace(secret.as_str(), crate::diag::SENSITIVE));
    for d in out.iter_mut() {
        if secrets
            .iter()
            .any(|s| d.detail.contains(s.as_str()) || d.hint.as_deref().is_some_and(|h| h.contains(s.as_str())))
        {
            d.detail = mask(&d.detail);
            d.hint = d.hint.as_deref().map(mask);
        }
    }
}

/// The file being parsed: the stack, or a module's source.
pub struct Unit<'a> {
    pub file: &'a Arc<PathBuf>,
    /// What its addresses start with: `` for the stack, `module.db.` in a module.
    pub prefix: String,
    pub catalog: &'a Catalog,
    pub files: Option<crate::functions::Reader<'a>>,
    /// The files from the stack down to this one, to refuse a module that uses itself.
    pub chain: Vec<PathBuf>,
    /// The evaluation's budgets, shared with every module below (`crate::budget`).
    pub budget: &'a crate::budget::Budget,
}

/// What a stack or a module declares.
pub struct Body {
    pub resources: Vec<Resource>,
    /// Every resource declared, with its module prefix, also one with no instances
    /// (`count: 0`): what `moved` may name.
    pub blocks: Vec<String>,
    pub outputs: Vec<Output>,
    pub data: Vec<DataSource>,
}

/// How deep modules may nest (`crate::budget`).
pub const MAX_MODULE_DEPTH: usize = crate::budget::MODULE_DEPTH;

/// Resources, locals, modules and outputs of one file, with its variables' values known
/// (`values`, checked) or, for a module input built from resource attributes, as
/// expressions (`exprs`).
pub fn parse_body(
    root: &Node,
    unit: &Unit,
    variables: Vec<Variable>,
    values: BTreeMap<String, Node>,
    exprs: BTreeMap<String, Expr>,
    out: &mut Vec<Diagnostic>,
) -> Body {
    // Pass 1: names and types of resources, so references can be checked in any order.
    let res_entries: &[(Key, Node)] =
        root.get("resources").and_then(|r| expect_map(r, "`resources`", out)).unwrap_or_default();
    let mut types: BTreeMap<String, &'static TypeSchema> = BTreeMap::new();
    let mut first_seen: BTreeMap<&str, &Span> = BTreeMap::new();
    let mut unique = Vec::new();
    let mut untyped = Vec::new();
    for (k, body) in res_entries {
        if let Some(first) = first_seen.get(k.name.as_str()) {
            out.push(
                Diagnostic::error(
                    "Duplicate resource name",
                    format!("a resource named `{}` is already declared", k.name),
                )
                .at(&k.span)
                .hint(format!("rename one of them; the first is at {first}")),
            );
            continue;
        }
        first_seen.insert(&k.name, &k.span);
        super::plain_name(k, "resource", out);
        match resource_type(k, body, unit.catalog, out) {
            Some(ty) => {
                types.insert(k.name.clone(), ty);
            }
            None => untyped.push(k.name.clone()),
        }
        unique.push((k, body));
    }

    let mut locals = BTreeMap::new();
    for (k, v) in root.get("locals").and_then(|l| expect_map(l, "`locals`", out)).unwrap_or_default() {
        super::plain_name(k, "local", out);
        locals.insert(k.name.clone(), v.clone());
    }
    let mut data_kinds = BTreeMap::new();
    for (k, body) in root.get("data").and_then(|d| expect_map(d, "`data`", out)).unwrap_or_default() {
        if !unit.prefix.is_empty() {
            out.push(
                Diagnostic::error("Invalid module", "a module's file cannot declare `data:`")
                    .at(&k.span)
                    .hint("look it up in the stack, and give the module its value as an input"),
            );
            break;
        }
        if !super::plain_name(k, "data source", out) {
            continue;
        }
        let Some(m) = expect_map(body, &format!("data source `{}`", k.name), out) else { continue };
        check_keys(m, &["type", "filter", "description"], "a data source", out);
        let Some(t) = body.get("type") else {
            out.push(super::missing(
                &format!("data source `{}`", k.name),
                "type",
                &k.span,
                "add `type:`, e.g. `type: aws.ec2.vpc`",
            ));
            continue;
        };
        let Some(tname) = expect_str(t, "`type`", out) else { continue };
        match crate::data::lookup(&tname) {
            Some(kind) => {
                data_kinds.insert(k.name.clone(), kind);
            }
            None => {
                let names: Vec<&str> = crate::data::KINDS.iter().map(|k| k.name).collect();
                out.push(
                    Diagnostic::error(
                        "Unknown data source type",
                        format!("`{tname}` is not a data source cloudbridge knows"),
                    )
                    .at(&t.span)
                    .hint(match super::suggest(&tname, names.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("known data sources: {}", names.join(", ")),
                    }),
                );
            }
        }
    }
    let mut module_defs = BTreeMap::new();
    for (k, v) in root.get("modules").and_then(|l| expect_map(l, "`modules`", out)).unwrap_or_default() {
        if !super::plain_name(k, "module", out) {
            continue;
        }
        module_defs.insert(k.name.clone(), (k.clone(), v.clone()));
    }

    // Pass 2: properties, now that every reference target is known.
    let declared: Vec<String> = variables.iter().map(|v| v.name.clone()).collect();
    let secret_vars: Vec<String> = variables.iter().filter(|v| v.sensitive).map(|v| v.name.clone()).collect();
    let ctx = Ctx {
        types: &types,
        vars: &values,
        var_exprs: &exprs,
        declared: &declared,
        untyped: &untyped,
        sensitive_vars: &secret_vars,
        tainted: Default::default(),
        instances: Default::default(),
        locals: &locals,
        local_values: Default::default(),
        scope: Default::default(),
        expanding: Default::default(),
        files: unit.files,
        dir: unit.file.parent().map(PathBuf::from).unwrap_or_default(),
        used_vars: Default::default(),
        unit,
        module_defs: &module_defs,
        modules: Default::default(),
        data_kinds: &data_kinds,
    };
    // `for_each` and `count`, from variables, locals and functions only.
    let mut expansions = Vec::new();
    for (k, body) in &unique {
        if !types.contains_key(&k.name) {
            continue;
        }
        if body.get("for_each").is_none() && body.get("count").is_none() {
            ctx.instances.borrow_mut().insert(k.name.clone(), Instances::One);
        }
    }
    for (k, body) in &unique {
        if types.contains_key(&k.name) {
            if let Some(e) = expand(k, body, &ctx, out) {
                ctx.instances.borrow_mut().insert(k.name.clone(), e.0.clone());
                expansions.push((k.name.clone(), e));
            }
        }
    }
    // Every local, in the order they use each other (once the instances are known).
    ctx.locals_in_order(out);
    let mut resources = Vec::new();
    let mut blocks: Vec<String> = Vec::new();
    for (k, body) in unique {
        let Some(ty) = types.get(&k.name).copied() else {
            continue;
        };
        blocks.push(format!("{}{}", ctx.unit.prefix, k.name));
        let scopes = match expansions.iter().find(|(n, _)| *n == k.name) {
            Some((_, (_, scopes))) => scopes.clone(),
            None if body.get("for_each").is_some() || body.get("count").is_some() => continue,
            None => vec![(k.name.clone(), Scope::default())],
        };
        if scopes.is_empty() {
            ctx.mention_node(body);
        }
        if !within_instances(ctx.unit.budget, scopes.len(), &k.span, out) {
            continue;
        }
        for (address, scope) in scopes {
            *ctx.scope.borrow_mut() = scope;
            if let Some(r) = parse_resource(k, &address, body, ty, &ctx, out) {
                resources.push(r);
            }
        }
        *ctx.scope.borrow_mut() = Scope::default();
    }

    // Every module is part of the stack, used or not.
    for name in module_defs.keys() {
        let _ = ctx.module(name, out);
    }
    for (_, state) in std::mem::take(&mut *ctx.modules.borrow_mut()) {
        if let super::module::ModState::Done(Some(m)) = state {
            resources.extend(m.resources);
            blocks.extend(m.blocks);
        }
    }
    // Sensitivity spreads through references before outputs are checked against it.
    propagate_sensitive(&mut resources);
    let mut outputs = Vec::new();
    let secret = secret_pairs(&resources);
    for (k, body) in root.get("outputs").and_then(|o| expect_map(o, "`outputs`", out)).unwrap_or_default() {
        if !super::plain_name(k, "output", out) {
            continue;
        }
        let Some(m) = expect_map(body, &format!("output `{}`", k.name), out) else {
            continue;
        };
        check_keys(m, OUTPUT_KEYS, "an output", out);
        let sensitive = body.get("sensitive").and_then(|s| expect_bool(s, "`sensitive`", out)).unwrap_or(false);
        let Some(v) = body.get("value") else {
            out.push(super::missing(
                &format!("output `{}`", k.name),
                "value",
                &k.span,
                "add `value: ${resource.attribute}`",
            ));
            continue;
        };
        ctx.tainted.set(false);
        // Past the stack's budget, an output is not even computed (each may copy a value
        // of up to 4 MiB).
        if ctx.unit.budget.stored_full() {
            continue;
        }
        if let Some(value) = check_value(v, &crate::schema::PropKind::Json, &ctx, out) {
            if !within_stored(ctx.unit.budget, &value, &v.span, out) {
                continue;
            }
            // As Terraform: an output showing a sensitive value must say it is sensitive.
            if !sensitive && (ctx.tainted.get() || refers_to_sensitive(&value, &secret)) {
                out.push(
                    Diagnostic::error(
                        "Output refers to sensitive values",
                        format!("output `{}` would show a value derived from a sensitive variable or property", k.name),
                    )
                    .at(&v.span)
                    .hint("add `sensitive: true` to the output; its value is then never shown or stored"),
                );
            }
            outputs.push(Output { name: k.name.clone(), value, sensitive, span: k.span.clone() });
        }
    }
    for (name, node) in &locals {
        // A local nothing uses is still checked.
        if !ctx.local_values.borrow().contains_key(name) {
            if let Err(f) = ctx.local(name, out) {
                f.report(&node.span, out);
            }
        }
    }
    let used = ctx.used_vars.borrow().clone();
    let failed = out.iter().any(|d| d.severity == crate::diag::Severity::Error);
    // With errors, a use may not have been reached: warn only about a stack that checks out.
    for v in variables.iter().filter(|_| !failed) {
        if !used.contains(&v.name) {
            out.push(
                Diagnostic::warning(
                    "Unused variable",
                    format!("variable `{}` is declared but nothing uses it", v.name),
                )
                .at(&v.span)
                .hint("remove it, or use it as `${var.NAME}`".replace("NAME", &v.name)),
            );
        }
    }
    let data = data_sources(root, &ctx, out);
    Body { resources, blocks, outputs, data }
}

/// The `data:` entries: each filter checked against its kind and evaluated; a filter may
/// use variables, locals and other data sources, never a resource attribute.
fn data_sources(root: &Node, ctx: &Ctx, out: &mut Vec<Diagnostic>) -> Vec<DataSource> {
    let mut found = Vec::new();
    for (k, body) in root.get("data").and_then(|d| expect_map(d, "`data`", out)).unwrap_or_default() {
        let Some(kind) = ctx.data_kinds.get(&k.name).copied() else { continue };
        let filter_node = body.get("filter");
        let fields = crate::schema::PropKind::Object(kind.filter);
        let (filter, tainted) = ctx.tainting(|| match filter_node {
            Some(f) => check_value(f, &fields, ctx, out),
            None => Some(Expr::Lit(serde_json::Value::Object(Default::default()))),
        });
        let Some(filter) = filter else { continue };
        // What a data source read is shown in the plan and used without taint: a filter
        // set from a secret would show it, and let it out into names, tags and outputs.
        if tainted {
            out.push(
                Diagnostic::error(
                    "Sensitive value in a data source filter",
                    format!("the filter of data source `{}` is derived from a sensitive value: what a data source reads is shown in the plan, and used as not sensitive", k.name),
                )
                .at(filter_node.map_or(&k.span, |f| &f.span))
                .hint("filter by values that are not secret, such as a name or a tag"),
            );
            continue;
        }
        let given: Vec<&str> =
            filter_node.and_then(Node::as_map).unwrap_or_default().iter().map(|(k, _)| k.name.as_str()).collect();
        if filter_node.is_none() && kind.filter.iter().any(|p| p.required) {
            let p = kind.filter.iter().find(|p| p.required).map_or("", |p| p.name);
            out.push(super::missing(
                &format!("data source `{}`", k.name),
                "filter",
                &k.span,
                &format!("add `filter: {{ {p}: … }}`"),
            ));
            continue;
        }
        if !kind.one_of.is_empty() && !kind.one_of.iter().any(|o| given.contains(o)) {
            out.push(
                Diagnostic::error(
                    "Missing filter",
                    format!(
                        "data source `{}` ({}) must be narrowed by one of {}",
                        k.name,
                        kind.name,
                        kind.one_of.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
                    ),
                )
                .at(filter_node.map_or(&k.span, |f| &f.span))
                .hint("a lookup without a filter would match whatever the account holds"),
            );
            continue;
        }
        let mut refs = Vec::new();
        filter.refs(&mut refs);
        if let Some(r) = refs.iter().find(|r| !r.resource.starts_with("data.")) {
            out.push(
                Diagnostic::error(
                    "Invalid data source",
                    format!("the filter of `data.{}` uses `${{{r}}}`, which is known only after apply", k.name),
                )
                .at(filter_node.map_or(&k.span, |f| &f.span))
                .hint("data sources are read at plan time: filter by variables, locals and other data sources"),
            );
            continue;
        }
        found.push((DataSource { address: format!("data.{}", k.name), kind, filter, span: k.span.clone() }, refs));
    }
    // Each after the data sources its filter uses; a cycle among them is an error.
    let mut ordered: Vec<DataSource> = Vec::new();
    while !found.is_empty() {
        let ready =
            found.iter().position(|(_, refs)| refs.iter().all(|r| ordered.iter().any(|d| d.address == r.resource)));
        match ready {
            Some(i) => ordered.push(found.remove(i).0),
            None => {
                for (d, _) in &found {
                    out.push(
                        Diagnostic::error("Data source cycle", format!("the filter of `{}` depends, through other data sources, on itself or on one that has problems", d.address))
                            .at(&d.span)
                            .hint("a data source's filter may use only data sources that do not use it"),
                    );
                }
                break;
            }
        }
    }
    ordered
}

/// Count `e`, a value the plan and state keep (a property of an instance, an output, a
/// local), against the stack's total ([`crate::budget::STACK_BYTES`]); `false` once past
/// it (reported the first time, at `at`).
pub(super) fn within_stored(budget: &crate::budget::Budget, e: &Expr, at: &Span, out: &mut Vec<Diagnostic>) -> bool {
    match budget.add_stored(crate::measure::measure(e).bytes) {
        Ok(()) => true,
        Err(first) => {
            if first {
                out.push(
                    Diagnostic::error(
                        "Stack too large",
                        format!(
                            "the values the stack keeps (its instances' properties, outputs and locals) together would be larger than {}",
                            crate::budget::bytes_text(crate::budget::STACK_BYTES)
                        ),
                    )
                    .at(at)
                    .hint("give fewer instances, outputs or locals large values, or split the stack"),
                );
            }
            false
        }
    }
}

/// Count `n` more instances against the stack's total ([`crate::budget::INSTANCES`],
/// across every level of modules); `false` once past it (reported the first time, at `at`).
pub(super) fn within_instances(budget: &crate::budget::Budget, n: usize, at: &Span, out: &mut Vec<Diagnostic>) -> bool {
    match budget.add_instances(n) {
        Ok(()) => true,
        Err(first) => {
            if first {
                out.push(
                    Diagnostic::error(
                        "Too many instances",
                        format!(
                            "the stack makes more than {} instances in all, counting every resource instance and every copy of a module, through every level of modules; here it passed that",
                            crate::budget::INSTANCES
                        ),
                    )
                    .at(at)
                    .hint("use fewer `for_each` keys or a smaller `count`, fewer levels of modules with `for_each`, or split the stack"),
                );
            }
            false
        }
    }
}

/// The instances of `k` by its `for_each` or `count` (`None`: neither, or reported).
fn expand(k: &Key, body: &Node, ctx: &Ctx, out: &mut Vec<Diagnostic>) -> Option<(Instances, Vec<(String, Scope)>)> {
    let (fe, count) = (body.get("for_each"), body.get("count"));
    let node = match (fe, count) {
        (None, None) => return None,
        (Some(_), Some(c)) => {
            out.push(
                Diagnostic::error("Invalid resource", format!("`{}` has both `for_each` and `count`", k.name))
                    .at(&c.span)
                    .hint("keep one: `for_each` for instances named by keys, `count` for numbered ones"),
            );
            return None;
        }
        (Some(n), None) | (None, Some(n)) => n,
    };
    let v = known_at_validate(node, ctx, out)?;
    if count.is_some() {
        let n = match v.as_u64().and_then(|n| usize::try_from(n).ok()) {
            Some(n) if n <= MAX_INSTANCES => n,
            _ => {
                out.push(
                    Diagnostic::error(
                        "Invalid value",
                        format!("`count` must be a whole number from 0 to {MAX_INSTANCES}, not {v}"),
                    )
                    .at(&node.span)
                    .hint("`count: 0` or `1` makes a resource conditional, e.g. `count: \"${var.enabled ? 1 : 0}\"`"),
                );
                return None;
            }
        };
        let scopes = (0..n).map(|i| (format!("{}[{i}]", k.name), Scope { each: None, count: Some(i) })).collect();
        return Some((Instances::Count(n), scopes));
    }
    let pairs = for_each_keys(&v, node, out)?;
    let keys = pairs.iter().map(|(k, _)| k.clone()).collect();
    let scopes = pairs
        .into_iter()
        .map(|(key, value)| {
            (super::eval::key_address(&k.name, &key), Scope { each: Some((key, Expr::Lit(value))), count: None })
        })
        .collect();
    Some((Instances::Keys(keys), scopes))
}

/// The value of a `for_each` or `count` (of a resource or a module): it must be known
/// before anything is created, so resource attributes are refused while it is worked out.
/// A sensitive value is refused there, as Terraform refuses it: its keys become addresses,
/// the `cloudbridge:address` tag and state's keys, and its values go wherever
/// `each.value` is used, shown; nothing there can be hidden.
pub(super) fn known_at_validate(node: &Node, ctx: &Ctx, out: &mut Vec<Diagnostic>) -> Option<serde_json::Value> {
    ctx.expanding.set(true);
    let before = out.len();
    let (e, tainted) = ctx.tainting(|| check_value(node, &crate::schema::PropKind::Json, ctx, out));
    ctx.expanding.set(false);
    if tainted {
        out.push(
            Diagnostic::error(
                "Sensitive value in for_each or count",
                "`for_each` and `count` cannot be derived from a sensitive variable, local or module input: their keys and values name instances in addresses, tags and state, where a secret would be shown",
            )
            .at(&node.span)
            .hint("build the instances from values that are not secret, such as the names of the secrets, and look each secret up inside the resource"),
        );
        return None;
    }
    match e? {
        Expr::Lit(v) => Some(v),
        _ => {
            if out.len() == before {
                out.push(
                    Diagnostic::error(
                        "Invalid expression",
                        "`for_each` and `count` must be known before anything is created",
                    )
                    .at(&node.span)
                    .hint("build them from variables, locals and functions, not resource attributes"),
                );
            }
            None
        }
    }
}

/// The instances a `for_each` value makes (of a resource or a module), sorted by key: a
/// map's entries, or a list of distinct strings (each its own key and value). Each key
/// becomes part of an address and of an ownership tag, so it must be one a tag allows.
pub(super) fn for_each_keys(
    v: &serde_json::Value,
    node: &Node,
    out: &mut Vec<Diagnostic>,
) -> Option<Vec<(String, serde_json::Value)>> {
    let problem = |msg: String, hint: &str, out: &mut Vec<Diagnostic>| {
        out.push(Diagnostic::error("Invalid value", msg).at(&node.span).hint(hint.to_string()));
    };
    let mut pairs: Vec<(String, serde_json::Value)> = match v {
        serde_json::Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        serde_json::Value::Array(items) => {
            let mut keys: Vec<(String, serde_json::Value)> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for item in items {
                let Some(key) = item.as_str() else {
                    problem(
                        format!("`for_each` over a list takes strings; this list holds {item}"),
                        "give a list of strings, or a map whose keys name the instances",
                        out,
                    );
                    return None;
                };
                if !seen.insert(key) {
                    problem(
                        format!("`for_each` lists `{key}` twice; each key names one instance"),
                        "remove the duplicate, or wrap the list in `toset(…)`",
                        out,
                    );
                    return None;
                }
                keys.push((key.to_string(), item.clone()));
            }
            keys
        }
        other => {
            problem(
                format!(
                    "`for_each` takes a map or a list of strings, not {}",
                    if other.is_null() { "null".to_string() } else { other.to_string() }
                ),
                "write `for_each: [orders, payments]` or `for_each: \"${var.queues}\"`",
                out,
            );
            return None;
        }
    };
    if pairs.len() > MAX_INSTANCES {
        problem(
            format!("`for_each` makes {} instances; at most {MAX_INSTANCES} are allowed", pairs.len()),
            "split the resource",
            out,
        );
        return None;
    }
    if let Some((bad, _)) = pairs.iter().find(|(key, _)| !crate::addr::valid_key(key)) {
        problem(
            format!("`for_each` key `{bad}` cannot name an instance: keys are 1 to 64 letters, digits and `_ . : = + @ -`"),
            "AWS tag values carry the address, and allow no other characters; pick keys such as `orders` or `eu-west-1a`",
            out,
        );
        return None;
    }
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    Some(pairs)
}

/// Whether the resource a finding is about silences its rule (`suppress:`); live findings
/// are silenced as the static ones are.
pub fn suppressed(d: &Diagnostic, resources: &[Resource]) -> bool {
    match (d.rule, &d.resource) {
        (Some(id), Some(r)) => resources.iter().any(|res| res.name == *r && res.suppress.contains_key(id)),
        _ => false,
    }
}

/// `moved:`, `removed:` and `import:`, checked against the stack's addresses.
fn refactoring(root: &Node, body: &Body, out: &mut Vec<Diagnostic>) -> (Vec<Moved>, Vec<Removed>, Vec<Import>) {
    let resources = &body.resources;
    let declared =
        |a: &str| resources.iter().any(|r| r.name == a || r.declared == a || r.name.starts_with(&format!("{a}.")));
    // A move may go to an instance its resource does not have now (`count: 0`): the moved
    // object is then planned for destruction, as in Terraform.
    let movable = |a: &str| {
        let block = a.rfind('[').filter(|_| a.ends_with(']')).map_or(a, |i| &a[..i]);
        declared(a) || body.blocks.iter().any(|b| b == block)
    };
    let entries = |key: &str, out: &mut Vec<Diagnostic>| -> Vec<Node> {
        match root.get(key).map(|n| &n.kind) {
            None | Some(Kind::Null) => Vec::new(),
            Some(Kind::Seq(items)) => items.clone(),
            Some(_) => {
                let n = root
                    .get(key)
                    .cloned()
                    .unwrap_or(Node { kind: Kind::Null, span: Span::file(std::path::Path::new("")) });
                out.push(
                    Diagnostic::error("Wrong value type", format!("`{key}` must be a list, found {}", n.type_name()))
                        .at(&n.span)
                        .hint(format!("write `{key}: [{{ … }}, …]`, one entry per resource")),
                );
                Vec::new()
            }
        }
    };
    let field = |item: &Node, key: &str, what: &str, out: &mut Vec<Diagnostic>| -> Option<(String, Span)> {
        let Some(v) = item.get(key) else {
            out.push(super::missing(what, key, &item.span, &format!("add `{key}:`")));
            return None;
        };
        let text = expect_str(v, &format!("`{key}`"), out)?;
        Some((text, v.span.clone()))
    };
    let address = |item: &Node, key: &str, what: &str, out: &mut Vec<Diagnostic>| -> Option<(String, Span)> {
        let (text, span) = field(item, key, what, out)?;
        match crate::addr::parse(&text) {
            Ok(a) => Some((a, span)),
            Err(why) => {
                out.push(Diagnostic::error("Invalid address", why).at(&span));
                None
            }
        }
    };
    let mut moved = Vec::new();
    for item in entries("moved", out) {
        let Some(m) = expect_map(&item, "a `moved` entry", out) else { continue };
        check_keys(m, &["from", "to"], "a `moved` entry", out);
        let (Some((from, fspan)), Some((to, tspan))) =
            (address(&item, "from", "a `moved` entry", out), address(&item, "to", "a `moved` entry", out))
        else {
            continue;
        };
        if declared(&from) {
            out.push(
                Diagnostic::error(
                    "Invalid move",
                    format!("`{from}` is still declared in the stack, so nothing can move away from it"),
                )
                .at(&fspan)
                .hint("rename the resource in `resources:` to the `to` address"),
            );
        } else if !movable(&to) {
            out.push(
                Diagnostic::error("Invalid move", format!("`{to}` is not a resource of the stack"))
                    .at(&tspan)
                    .hint("`to` names the resource's new address, declared under `resources:`"),
            );
        } else {
            moved.push(Moved { from, to, span: item.span.clone() });
        }
    }
    let mut removed = Vec::new();
    for item in entries("removed", out) {
        let Some(m) = expect_map(&item, "a `removed` entry", out) else { continue };
        check_keys(m, &["from"], "a `removed` entry", out);
        let Some((from, span)) = address(&item, "from", "a `removed` entry", out) else { continue };
        if declared(&from) {
            out.push(
                Diagnostic::error("Invalid removal", format!("`{from}` is still declared in the stack"))
                    .at(&span)
                    .hint(
                    "delete its declaration under `resources:`; `removed:` then forgets it without deleting it in AWS",
                ),
            );
        } else {
            removed.push(Removed { from, span: item.span.clone() });
        }
    }
    let mut imports = Vec::new();
    for item in entries("import", out) {
        let Some(m) = expect_map(&item, "an `import` entry", out) else { continue };
        check_keys(m, &["to", "id"], "an `import` entry", out);
        let (Some((to, tspan)), Some((id, ispan))) =
            (address(&item, "to", "an `import` entry", out), field(&item, "id", "an `import` entry", out))
        else {
            continue;
        };
        if let Some(first) = resources.iter().find(|r| r.declared == to && r.name != to) {
            out.push(
                Diagnostic::error(
                    "Invalid import",
                    format!("`{to}` has `for_each` or `count`: an import takes one instance"),
                )
                .at(&tspan)
                .hint(format!("import into one of its addresses, such as `{}`", first.name)),
            );
        } else if !resources.iter().any(|r| r.name == to) {
            out.push(
                Diagnostic::error("Invalid import", format!("`{to}` is not a resource of the stack"))
                    .at(&tspan)
                    .hint("declare the resource under `resources:` as it should be, and import into its address (one instance, for `for_each` or `count`)"),
            );
        } else if let Some((ty, why)) =
            resources.iter().find(|r| r.name == to).and_then(|r| Some((r.ty.name, r.ty.not_importable()?)))
        {
            out.push(
                Diagnostic::error("Invalid import", format!("`{to}` is an `{ty}`, which {why}")).at(&tspan).hint(
                    "remove the `import` entry: apply finds an existing one by the properties the stack gives it",
                ),
            );
        } else if id.trim().is_empty() {
            out.push(
                Diagnostic::error("Invalid import", "`id` is empty").at(&ispan).hint("give the resource's ID in AWS"),
            );
        } else if id.chars().any(char::is_control) {
            // No AWS ID holds one; printed in plans and progress lines, it would act there.
            out.push(
                Diagnostic::error(
                    "Invalid import",
                    "`id` holds a control character (a line break, an escape), which no AWS ID does",
                )
                .at(&ispan)
                .hint("give the resource's ID in AWS, on one line"),
            );
        } else if imports.iter().any(|i: &Import| i.to == to) {
            out.push(Diagnostic::error("Invalid import", format!("`{to}` is imported twice")).at(&tspan));
        } else {
            imports.push(Import { to, id, span: item.span.clone() });
        }
    }
    (moved, removed, imports)
}

/// `k` (of type `ty`) lacks the required `p`: reported at `at`.
fn missing_property(
    k: &Key,
    ty: &TypeSchema,
    p: &crate::schema::Prop,
    at: &Span,
    why: &str,
    hint: String,
) -> Diagnostic {
    Diagnostic::error("Missing required property", format!("`{}` ({}) requires `{}`{why}", k.name, ty.name, p.name))
        .at(at)
        .hint(hint)
}

/// The `(resource, property)` pairs that hold a sensitive value.
fn secret_pairs(resources: &[Resource]) -> std::collections::HashSet<(String, String)> {
    let mut out = std::collections::HashSet::new();
    for r in resources {
        out.extend(r.sensitive.iter().map(|k| (r.name.clone(), k.clone())));
        out.extend(r.ty.props.iter().filter(|p| p.sensitive).map(|p| (r.name.clone(), p.name.to_string())));
    }
    out
}

/// Does `e` read one of the `secret` properties?
fn refers_to_sensitive(e: &Expr, secret: &std::collections::HashSet<(String, String)>) -> bool {
    let mut refs = Vec::new();
    e.refs(&mut refs);
    refs.into_iter().any(|r| secret.contains(&(r.resource, r.attr)))
}

/// A sensitive value where it cannot stay secret: a property that names the resource
/// (its ID is stored in state, printed in plans and known to everyone who can list the
/// resource in AWS) or its tags (readable through the Resource Groups Tagging API by any
/// principal with `tag:GetResources`). Refused, located at the property.
fn exposed_sensitive(resources: &[Resource], out: &mut Vec<Diagnostic>) {
    for r in resources {
        for prop in r.ty.identity.props().iter().copied().chain(["tags"]) {
            if !r.sensitive.contains(prop) {
                continue;
            }
            let why = if prop == "tags" {
                "tags are readable by anyone who may list the resource's tags, and are not secret"
            } else {
                "it names the resource, and a resource's name is its ID in state, in plans and in AWS"
            };
            out.push(
                Diagnostic::error(
                    "Sensitive value cannot stay secret",
                    format!("`{prop}` of `{}` is set from a sensitive value: {why}", r.name),
                )
                .at(r.spans.get(prop).unwrap_or(&r.span))
                .hint("set it from a value that is not secret; keep secrets in properties that take them, or in Secrets Manager"),
            );
        }
    }
}

/// A property set from another resource's sensitive property is sensitive too, however
/// many references away. Each round costs one pass over the references.
fn propagate_sensitive(resources: &mut [Resource]) {
    if resources.iter().all(|r| r.sensitive.is_empty()) {
        return; // Nothing tainted: references to schema-sensitive properties are refused.
    }
    loop {
        let secret = secret_pairs(resources);
        let mut found = Vec::new();
        for (i, res) in resources.iter().enumerate() {
            for (k, e) in &res.props {
                if !res.sensitive.contains(k) && refers_to_sensitive(e, &secret) {
                    found.push((i, k.clone()));
                }
            }
        }
        if found.is_empty() {
            return;
        }
        for (i, k) in found {
            resources[i].sensitive.insert(k);
        }
    }
}

fn resource_type(k: &Key, body: &Node, catalog: &Catalog, out: &mut Vec<Diagnostic>) -> Option<&'static TypeSchema> {
    let m = expect_map(body, &format!("resource `{}`", k.name), out)?;
    let Some(tnode) = body.get("type") else {
        out.push(super::missing(
            &format!("resource `{}`", k.name),
            "type",
            &k.span,
            "add `type: aws.<service>.<kind>`, e.g. `type: aws.ec2.vpc`",
        ));
        return None;
    };
    let tname = expect_str(tnode, "`type`", out)?;
    let _ = m;
    match catalog.lookup(&tname) {
        Some(t) => Some(t),
        None => {
            let names: Vec<&str> = catalog.types().iter().map(|t| t.name).collect();
            out.push(
                Diagnostic::error(
                    "Unknown resource type",
                    format!("`{tname}` is not a resource type cloudbridge knows"),
                )
                .at(&tnode.span)
                .hint(match super::suggest(&tname, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("known types: {}", names.join(", ")),
                }),
            );
            None
        }
    }
}

fn parse_resource(
    k: &Key,
    address: &str,
    body: &Node,
    ty: &'static TypeSchema,
    ctx: &Ctx,
    out: &mut Vec<Diagnostic>,
) -> Option<Resource> {
    let m = body.as_map()?;
    check_keys(m, RESOURCE_KEYS, "a resource", out);
    let mut props = BTreeMap::new();
    let prop_entries: &[(Key, Node)] = body
        .get("properties")
        .and_then(|p| expect_map(p, &format!("`properties` of `{}`", k.name), out))
        .unwrap_or_default();
    let names: Vec<&str> = ty.props.iter().map(|p| p.name).collect();
    let mut seen: Vec<&str> = Vec::new();
    let mut sensitive = BTreeSet::new();
    for (pk, pv) in prop_entries {
        if seen.contains(&pk.name.as_str()) {
            out.push(
                Diagnostic::error("Duplicate property", format!("`{}` is set twice on `{}`", pk.name, k.name))
                    .at(&pk.span)
                    .hint("remove one of them"),
            );
            continue;
        }
        seen.push(&pk.name);
        let Some(prop) = ty.prop(&pk.name) else {
            out.push(
                Diagnostic::error("Unknown property", format!("`{}` is not a property of `{}`", pk.name, ty.name))
                    .at(&pk.span)
                    .hint(unknown_key_hint(&pk.name, &names)),
            );
            continue;
        };
        if matches!(pv.kind, Kind::Null) {
            // `cidr_block: ~` is not a value: a required property must be given one.
            if prop.required {
                let hint = format!("give `{}` a value ({})", prop.name, prop.kind.describe());
                out.push(missing_property(k, ty, prop, &pv.span, ", which is set to null here", hint));
            }
            continue;
        }
        ctx.tainted.set(false);
        let e = super::value::check_prop(pv, prop, ctx, out);
        // What every instance holds, together, is what the plan and state files hold.
        if let Some(e) = &e {
            if !within_stored(ctx.unit.budget, e, &pv.span, out) {
                continue;
            }
        }
        if matches!(e, Some(Expr::Lit(serde_json::Value::Null))) {
            // Computed to `null`: as if not written (a required one is missing).
            seen.retain(|s| *s != pk.name.as_str());
            continue;
        }
        if let Some(e) = e {
            if prop.name == "parameters" && ty.name.starts_with("aws.rds.") {
                super::cdc::check_parameters(pv, &e, &format!("{}{address}", ctx.unit.prefix), out);
            }
            props.insert(prop.name.to_string(), e);
        }
        if ctx.tainted.get() {
            sensitive.insert(prop.name.to_string());
        }
    }
    for p in ty.props {
        if props.contains_key(p.name) || seen.contains(&p.name) {
            continue;
        }
        if p.required {
            let hint = format!("add `{}:` ({}) under `properties`", p.name, p.kind.describe());
            out.push(missing_property(k, ty, p, &k.span, "", hint));
        } else if let Some(d) = p.default_value() {
            props.insert(p.name.to_string(), Expr::Lit(d));
        }
    }
    // The type's rules, on the values known now (a value not known yet is null: set, but
    // unknown); the rest are checked before the call.
    let known: crate::schema::Known = props
        .iter()
        .map(|(k, e)| (k.clone(), if let Expr::Lit(v) = e { v.clone() } else { serde_json::Value::Null }))
        .collect();
    let spans: BTreeMap<String, Span> =
        prop_entries.iter().map(|(pk, pv)| (pk.name.clone(), pv.span.clone())).collect();
    for f in ty.findings(&known) {
        let span = spans.get(f.prop).unwrap_or(&k.span);
        out.push(Diagnostic::error("Invalid value", format!("`{}`: {}", f.prop, f.message)).at(span).hint(f.hint));
    }
    let mut depends_on = Vec::new();
    if let Some(d) = body.get("depends_on") {
        match &d.kind {
            Kind::Seq(items) => {
                for item in items {
                    let Some(name) = expect_str(item, "a `depends_on` entry", out) else {
                        continue;
                    };
                    // `module.db` (everything in it) or `module.db.cluster` (its instances).
                    if let Some(rest) = name.strip_prefix("module.") {
                        let mname = rest.split(['.', '[']).next().unwrap_or_default();
                        let full = format!("{}{name}", ctx.unit.prefix);
                        match ctx.module(mname, out) {
                            Ok(m) => {
                                let deps: Vec<String> = m
                                    .resources
                                    .iter()
                                    .map(|r| r.name.clone())
                                    .filter(|a| {
                                        *a == full
                                            || a.starts_with(&format!("{full}."))
                                            || a.starts_with(&format!("{full}["))
                                    })
                                    .collect();
                                if deps.is_empty() {
                                    out.push(
                                        Diagnostic::error("Unknown resource", format!("`depends_on` names `{name}`, which is nothing in that module"))
                                            .at(&item.span)
                                            .hint("name the module (`module.db`) or one of its resources (`module.db.cluster`)"),
                                    );
                                }
                                depends_on.extend(deps.into_iter().map(|d| (d, item.span.clone())));
                            }
                            Err(f) => f.report(&item.span, out),
                        }
                        continue;
                    }
                    let all = ctx.instances.borrow().get(&name).map(|i| i.addresses(&name));
                    let one = ctx.instances.borrow().iter().any(|(n, i)| i.addresses(n).contains(&name));
                    let prefix = &ctx.unit.prefix;
                    if let Some(all) = all {
                        depends_on.extend(all.into_iter().map(|a| (format!("{prefix}{a}"), item.span.clone())));
                    } else if one {
                        depends_on.push((format!("{prefix}{name}"), item.span.clone()));
                    } else if !ctx.declares(&name) {
                        out.push(
                            Diagnostic::error(
                                "Unknown resource",
                                format!("`depends_on` names `{name}`, which is not a resource of this stack"),
                            )
                            .at(&item.span)
                            .hint(ctx.resource_hint(&name)),
                        );
                    }
                }
            }
            _ => out.push(
                Diagnostic::error(
                    "Wrong value type",
                    format!("`depends_on` must be a list of resource names, found {}", d.type_name()),
                )
                .at(&d.span),
            ),
        }
    }
    let timeouts = parse_timeouts(body.get("timeouts"), ty.timeouts, out);
    let prevent_destroy =
        body.get("prevent_destroy").and_then(|v| expect_bool(v, "`prevent_destroy`", out)).unwrap_or(false);
    let allow_resnapshot =
        body.get("allow_resnapshot").and_then(|v| expect_bool(v, "`allow_resnapshot`", out)).unwrap_or(false);
    let suppress = parse_suppress(body.get("suppress"), out);
    Some(Resource {
        name: format!("{}{address}", ctx.unit.prefix),
        declared: format!("{}{}", ctx.unit.prefix, k.name),
        ty,
        props,
        depends_on,
        timeouts,
        prevent_destroy,
        allow_resnapshot,
        suppress,
        sensitive,
        spans,
        span: k.span.clone(),
    })
}

/// `timeouts: {create: 90m, update: 30m, delete: 20m}`; each optional.
fn parse_timeouts(node: Option<&Node>, defaults: Timeouts, out: &mut Vec<Diagnostic>) -> Timeouts {
    let mut t = defaults;
    let Some(node) = node else { return t };
    let Some(entries) = expect_map(node, "`timeouts`", out) else { return t };
    check_keys(entries, &["create", "update", "delete"], "`timeouts`", out);
    for (k, v) in entries {
        let slot = match k.name.as_str() {
            "create" => &mut t.create,
            "update" => &mut t.update,
            "delete" => &mut t.delete,
            _ => continue,
        };
        let parsed = match v.scalar_text() {
            Some(text) => schema::parse_duration(&text),
            None => Err(format!("a timeout must be a duration, found {}", v.type_name())),
        };
        match parsed {
            Ok(secs) => *slot = secs,
            Err(why) => out.push(
                Diagnostic::error("Invalid duration", why)
                    .at(&v.span)
                    .hint("write a duration such as `90m`, `1h30m` or `45s`"),
            ),
        }
    }
    t
}

pub(super) fn parse_variables(node: Option<&Node>, out: &mut Vec<Diagnostic>) -> Vec<Variable> {
    let mut vars = Vec::new();
    let Some(node) = node else { return vars };
    for (k, body) in expect_map(node, "`variables`", out).unwrap_or_default() {
        if !super::plain_name(k, "variable", out) {
            continue;
        }
        let Some(m) = expect_map(body, &format!("variable `{}`", k.name), out) else {
            continue;
        };
        check_keys(m, VARIABLE_KEYS, "a variable", out);
        let ty = match body.get("type") {
            None => VarType::String,
            Some(t) => match t.as_str() {
                Some("string") => VarType::String,
                Some("number") => VarType::Number,
                Some("bool") => VarType::Bool,
                Some("list") => VarType::List,
                Some("map") => VarType::Map,
                _ => {
                    out.push(
                        Diagnostic::error(
                            "Invalid value",
                            format!(
                                "variable type must be a type name, found `{}`",
                                t.scalar_text().unwrap_or_default()
                            ),
                        )
                        .at(&t.span)
                        .hint("use one of `string`, `number`, `bool`, `list`, `map`"),
                    );
                    continue;
                }
            },
        };
        let default = body.get("default").cloned();
        if let Some(d) = &default {
            if !ty.accepts(d) {
                out.push(type_mismatch(&k.name, ty, d));
            }
        }
        let sensitive = body.get("sensitive").and_then(|s| expect_bool(s, "`sensitive`", out)).unwrap_or(false);
        let validation = body.get("validation").map(|n| parse_validation(n, ty, out)).unwrap_or_default();
        vars.push(Variable { name: k.name.clone(), ty, default, sensitive, validation, span: k.span.clone() });
    }
    vars
}

fn type_mismatch(name: &str, ty: VarType, v: &Node) -> Diagnostic {
    Diagnostic::error(
        "Wrong value type",
        format!("variable `{name}` is a {}, but this value is {}", ty.name(), v.type_name()),
    )
    .at(&v.span)
}

/// The value of each variable: the env's (with the command line's applied), else the
/// default. Missing or unknown ones are errors, as is a value its validation refuses.
/// A module being given its inputs: its name, and the inputs known only after apply
/// (they satisfy their variables, and are not values to check here).
pub struct ModuleCall<'a> {
    pub name: &'a str,
    pub computed: &'a [String],
}

pub(super) fn variable_values(
    vars: &[Variable],
    env: &Env,
    module: Option<ModuleCall>,
    out: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Node> {
    let mut values = BTreeMap::new();
    let names = vars.iter().map(|v| v.name.as_str()).collect::<Vec<_>>();
    for (k, v) in &env.variables {
        match vars.iter().find(|d| d.name == k.name) {
            // `--var` for a variable the stack does not declare is a mistake on this command.
            None if env.strict_variables.contains(&k.name) => out.push(
                Diagnostic::error(
                    "Value for undeclared variable",
                    format!("this stack declares no variable `{}`", k.name),
                )
                .at(&k.span)
                .hint(unknown_key_hint(&k.name, &names)),
            ),
            // `CLOUDBRIDGE_VAR_*` are set for a shell, not a stack: ignored, as `TF_VAR_*` are.
            None if env.raw_variables.contains(&k.name) => {}
            // One env file serves several stacks (`--stack`): like Terraform, a value for a
            // variable this stack does not declare is a warning, with a spelling hint.
            None => out.push(
                Diagnostic::warning(
                    "Value for undeclared variable",
                    format!("this stack declares no variable `{}`; the value is ignored", k.name),
                )
                .at(&k.span)
                .hint(unknown_key_hint(&k.name, &names)),
            ),
            Some(d) => {
                let v = if env.raw_variables.contains(&k.name) { typed_text(d.ty, v) } else { v.clone() };
                if !d.ty.accepts(&v) {
                    out.push(type_mismatch(&k.name, d.ty, &v));
                } else if d.validation.check(d, &v, out) {
                    values.insert(k.name.clone(), v);
                }
            }
        }
    }
    for d in vars {
        if values.contains_key(&d.name)
            || env.variables.iter().any(|(k, _)| k.name == d.name)
            || module.as_ref().is_some_and(|m| m.computed.contains(&d.name))
        {
            continue;
        }
        match &d.default {
            Some(v) => {
                if d.validation.check(d, v, out) {
                    values.insert(d.name.clone(), v.clone());
                }
            }
            None if module.is_some() => out.push(
                Diagnostic::error(
                    "Missing variable value",
                    format!(
                        "variable `{}` has no default and module `{}` gives no input for it",
                        d.name,
                        module.as_ref().map_or("", |m| m.name)
                    ),
                )
                .at(&d.span)
                .hint(format!("add `{}:` under the module's `inputs:`", d.name)),
            ),
            None => out.push(
                Diagnostic::error(
                    "Missing variable value",
                    format!("variable `{}` has no default and environment `{}` gives no value", d.name, env.name),
                )
                .at(&d.span)
                .hint(format!(
                    "set it under `variables:` in {}, with `--var {}=…`, or in the environment variable `CLOUDBRIDGE_VAR_{}`",
                    env.file.display(),
                    d.name,
                    d.name
                )),
            ),
        }
    }
    values
}

/// Text from the command line or the environment, as the variable's type reads it: a
/// string stays text; a number, bool, list or map is read as YAML (`--var 'azs=[a, b]'`).
fn typed_text(ty: VarType, v: &Node) -> Node {
    let Kind::Str(text) = &v.kind else { return v.clone() };
    if ty == VarType::String {
        return v.clone();
    }
    match yaml::parse(&v.span.file, text) {
        Ok(parsed) => Node::from_json(&parsed.to_json(), &v.span),
        Err(_) => v.clone(),
    }
}

/// `validation:` of a variable: the values it may take.
#[derive(Debug, Clone, Default)]
pub struct Validation {
    /// `allowed: [dev, prod]`
    pub allowed: Option<Vec<serde_json::Value>>,
    /// `pattern: "^[a-z]+$"`, for a string (the whole value must match).
    pub pattern: Option<(String, regex_lite::Regex)>,
    /// `min:` / `max:`: a number's range.
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// `message:` said when a value is refused.
    pub message: Option<String>,
}

impl Validation {
    /// Does `v` pass? If not, says so at `v`, naming the rule and the variable's location.
    fn check(&self, d: &Variable, v: &Node, out: &mut Vec<Diagnostic>) -> bool {
        let json = v.to_json();
        let text = crate::functions::text(&json);
        let why = if let Some(allowed) = self
            .allowed
            .as_ref()
            .filter(|a| !a.iter().any(|x| x == &json || crate::functions::text(x) == text && text.is_some()))
        {
            Some(format!(
                "must be one of {}",
                allowed
                    .iter()
                    .map(|a| format!("`{}`", crate::functions::text(a).unwrap_or_else(|| a.to_string())))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        } else if let Some((p, _)) =
            self.pattern.as_ref().filter(|(_, re)| !text.as_deref().is_some_and(|t| re.is_match(t)))
        {
            Some(format!("must match the pattern `{p}`"))
        } else {
            let n = json.as_f64();
            match (self.min, self.max, n) {
                (Some(min), _, Some(n)) if n < min => Some(format!("must be at least {min}")),
                (_, Some(max), Some(n)) if n > max => Some(format!("must be at most {max}")),
                _ => None,
            }
        };
        let Some(why) = why else { return true };
        let shown = if d.sensitive { "(sensitive)".to_string() } else { text.unwrap_or_else(|| json.to_string()) };
        out.push(
            Diagnostic::error(
                "Invalid variable value",
                format!("variable `{}` {why}; the value given is {shown}", d.name),
            )
            .at(&v.span)
            .hint(match &self.message {
                Some(m) => format!("{m} (the variable is declared at {})", d.span),
                None => format!("the rule is in the variable's `validation:` at {}", d.span),
            }),
        );
        false
    }
}

fn parse_validation(node: &Node, ty: VarType, out: &mut Vec<Diagnostic>) -> Validation {
    let mut v = Validation::default();
    let Some(entries) = expect_map(node, "`validation`", out) else { return v };
    check_keys(entries, &["allowed", "pattern", "min", "max", "message"], "`validation`", out);
    for (k, n) in entries {
        match k.name.as_str() {
            "allowed" => match &n.kind {
                Kind::Seq(items) => v.allowed = Some(items.iter().map(Node::to_json).collect()),
                _ => out.push(
                    Diagnostic::error("Wrong value type", format!("`allowed` must be a list, found {}", n.type_name()))
                        .at(&n.span),
                ),
            },
            "pattern" => {
                if ty != VarType::String {
                    out.push(
                        Diagnostic::error("Invalid validation", "`pattern` applies to string variables").at(&k.span),
                    );
                    continue;
                }
                let Some(p) = expect_str(n, "`pattern`", out) else { continue };
                // The whole value must match, as Terraform's `can(regex(...))` with anchors.
                match regex_lite::Regex::new(&format!("^(?:{p})$")) {
                    Ok(re) => v.pattern = Some((p, re)),
                    Err(e) => out.push(
                        Diagnostic::error("Invalid pattern", format!("`{p}` is not a regular expression: {e}"))
                            .at(&n.span)
                            .hint("write a regular expression such as `^[a-z][a-z0-9-]*$`"),
                    ),
                }
            }
            "min" | "max" => {
                if ty != VarType::Number {
                    out.push(
                        Diagnostic::error("Invalid validation", format!("`{}` applies to number variables", k.name))
                            .at(&k.span),
                    );
                    continue;
                }
                match n.to_json().as_f64() {
                    Some(x) if k.name == "min" => v.min = Some(x),
                    Some(x) => v.max = Some(x),
                    None => out.push(
                        Diagnostic::error(
                            "Wrong value type",
                            format!("`{}` must be a number, found {}", k.name, n.type_name()),
                        )
                        .at(&n.span),
                    ),
                }
            }
            "message" => v.message = expect_str(n, "`message`", out),
            _ => {}
        }
    }
    v
}

/// `suppress: { CB304: "retention is set by the DBA runbook" }`: known rule IDs, each
/// with a reason (a suppression nobody can explain is refused).
fn parse_suppress(node: Option<&Node>, out: &mut Vec<Diagnostic>) -> BTreeMap<String, String> {
    let mut suppress = BTreeMap::new();
    let Some(entries) = node.and_then(|n| expect_map(n, "`suppress`", out)) else { return suppress };
    for (k, v) in entries {
        if crate::rules::rule(&k.name).is_none() {
            out.push(
                Diagnostic::error("Unknown rule", format!("`{}` is not a rule cloudbridge checks", k.name))
                    .at(&k.span)
                    .hint(format!(
                        "rules: {}",
                        crate::rules::RULES.iter().map(|r| format!("`{}`", r.id)).collect::<Vec<_>>().join(", ")
                    )),
            );
            continue;
        }
        match v.as_str().map(str::trim) {
            Some(reason) if !reason.is_empty() => {
                suppress.insert(k.name.clone(), reason.to_string());
            }
            _ => out.push(
                Diagnostic::error("Suppression without a reason", format!("`suppress: {}` gives no reason", k.name))
                    .at(&v.span)
                    .hint(format!("write why the rule does not apply here: `{}: \"…\"`", k.name)),
            ),
        }
    }
    suppress
}
