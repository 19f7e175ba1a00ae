//! `stacks/<name>.yaml`: typed variables, resources with their properties, and outputs.
//! Parsing resolves `${var.*}`, checks every property against its type's schema and every
//! `${resource.attribute}` against the stack, and reports all problems at once.

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
    pub name: String,
    pub ty: &'static TypeSchema,
    /// Checked properties, defaults filled in, `${var.*}` already substituted.
    pub props: BTreeMap<String, Expr>,
    /// Explicit `depends_on` entries, with their locations.
    pub depends_on: Vec<(String, Span)>,
    /// The type's default timeouts with the resource's `timeouts:` overrides applied.
    pub timeouts: Timeouts,
    /// Refuse any plan that would delete or replace it.
    pub prevent_destroy: bool,
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
    /// Problems that do not stop the run (e.g. a value for a variable this stack does
    /// not declare: one env file serves several stacks).
    pub warnings: Vec<Diagnostic>,
}

impl Stack {
    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.name == name)
    }
}

const TOP_KEYS: &[&str] = &["name", "description", "variables", "resources", "outputs", "x-…"];
const RESOURCE_KEYS: &[&str] = &["type", "properties", "depends_on", "timeouts", "prevent_destroy", "description"];
const VARIABLE_KEYS: &[&str] = &["type", "default", "description", "sensitive"];
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
    let values = variable_values(&variables, env, &mut out);

    // Pass 1: names and types of resources, so references can be checked in any order.
    let res_entries: &[(Key, Node)] =
        root.get("resources").and_then(|r| expect_map(r, "`resources`", &mut out)).unwrap_or_default();
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
        if !valid_name(&k.name) {
            out.push(
                Diagnostic::error(
                    "Invalid name",
                    format!(
                        "resource name `{}` may only hold letters, digits, `_` and `-`, starting with a letter",
                        k.name
                    ),
                )
                .at(&k.span),
            );
        }
        match resource_type(k, body, catalog, &mut out) {
            Some(ty) => {
                types.insert(k.name.clone(), ty);
            }
            None => untyped.push(k.name.clone()),
        }
        unique.push((k, body));
    }

    // Pass 2: properties, now that every reference target is known.
    let declared: Vec<String> = variables.iter().map(|v| v.name.clone()).collect();
    let secret_vars: Vec<String> = variables.iter().filter(|v| v.sensitive).map(|v| v.name.clone()).collect();
    let ctx = Ctx {
        types: &types,
        vars: &values,
        declared: &declared,
        untyped: &untyped,
        sensitive_vars: &secret_vars,
        tainted: Default::default(),
    };
    let mut resources = Vec::new();
    for (k, body) in unique {
        let Some(ty) = types.get(&k.name).copied() else {
            continue;
        };
        if let Some(r) = parse_resource(k, body, ty, &ctx, &mut out) {
            resources.push(r);
        }
    }
    propagate_sensitive(&mut resources);
    super::cdc::check_sources(&resources, &mut out);
    super::network::check_subnets(&resources, &mut out);

    let mut outputs = Vec::new();
    let secret = secret_pairs(&resources);
    for (k, body) in root.get("outputs").and_then(|o| expect_map(o, "`outputs`", &mut out)).unwrap_or_default() {
        let Some(m) = expect_map(body, &format!("output `{}`", k.name), &mut out) else {
            continue;
        };
        check_keys(m, OUTPUT_KEYS, "an output", &mut out);
        let sensitive = body.get("sensitive").and_then(|s| expect_bool(s, "`sensitive`", &mut out)).unwrap_or(false);
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
        if let Some(value) = check_value(v, &crate::schema::PropKind::Json, &ctx, &mut out) {
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
    // A resource declared twice is one duplicate key: keep the specific diagnostic.
    let resource_dups: Vec<Option<Span>> =
        out.iter().filter(|d| d.summary == "Duplicate resource name").map(|d| d.span.clone()).collect();
    out.retain(|d| d.summary != "Duplicate key" || !resource_dups.contains(&d.span));
    if out.iter().any(|d| d.severity == crate::diag::Severity::Error) {
        Err(out)
    } else {
        Ok(Stack { name, file: file.clone(), resources, outputs, warnings: out })
    }
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
        if let Some(e) = super::value::check_prop(pv, prop, ctx, out) {
            if prop.name == "parameters" && ty.name.starts_with("aws.rds.") {
                super::cdc::check_parameters(pv, &e, out);
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
    // The type's rules, on the values known now; the rest are checked before the call.
    let known: crate::schema::Known = props
        .iter()
        .filter_map(|(k, e)| if let Expr::Lit(v) = e { Some((k.clone(), v.clone())) } else { None })
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
                    if !ctx.declares(&name) {
                        out.push(
                            Diagnostic::error(
                                "Unknown resource",
                                format!("`depends_on` names `{name}`, which is not a resource of this stack"),
                            )
                            .at(&item.span)
                            .hint(ctx.resource_hint(&name)),
                        );
                    } else {
                        depends_on.push((name, item.span.clone()));
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
    Some(Resource {
        name: k.name.clone(),
        ty,
        props,
        depends_on,
        timeouts,
        prevent_destroy,
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

fn parse_variables(node: Option<&Node>, out: &mut Vec<Diagnostic>) -> Vec<Variable> {
    let mut vars = Vec::new();
    let Some(node) = node else { return vars };
    for (k, body) in expect_map(node, "`variables`", out).unwrap_or_default() {
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
        vars.push(Variable { name: k.name.clone(), ty, default, sensitive, span: k.span.clone() });
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

/// The value of each variable: the env's, else the default. Missing or unknown ones are errors.
fn variable_values(vars: &[Variable], env: &Env, out: &mut Vec<Diagnostic>) -> BTreeMap<String, Node> {
    let mut values = BTreeMap::new();
    for (k, v) in &env.variables {
        match vars.iter().find(|d| d.name == k.name) {
            // One env file serves several stacks (`--stack`): like Terraform, a value for a
            // variable this stack does not declare is a warning, with a spelling hint.
            None => out.push(
                Diagnostic::warning(
                    "Value for undeclared variable",
                    format!("this stack declares no variable `{}`; the value is ignored", k.name),
                )
                .at(&k.span)
                .hint(unknown_key_hint(&k.name, &vars.iter().map(|v| v.name.as_str()).collect::<Vec<_>>())),
            ),
            Some(d) if !d.ty.accepts(v) => out.push(type_mismatch(&k.name, d.ty, v)),
            Some(_) => {
                values.insert(k.name.clone(), v.clone());
            }
        }
    }
    for d in vars {
        if values.contains_key(&d.name) {
            continue;
        }
        match &d.default {
            Some(v) => {
                values.insert(d.name.clone(), v.clone());
            }
            None => out.push(
                Diagnostic::error(
                    "Missing variable value",
                    format!("variable `{}` has no default and environment `{}` gives no value", d.name, env.name),
                )
                .at(&d.span)
                .hint(format!("set it under `variables:` in {}", env.file.display())),
            ),
        }
    }
    values
}
