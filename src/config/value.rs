//! Checks one property value (a YAML node) against the schema kind it must have, and
//! turns it into an [`Expr`]: `${var.*}` substituted, references checked.

use super::{unknown_key_hint, Diagnostic};
use crate::expr::{split_template, Expr, Part, Piece, Ref, TemplateError};
use crate::schema::{check_cidr, Prop, PropKind, TypeSchema};
use crate::yaml::{Kind, Node};
use serde_json::Value;
use std::collections::BTreeMap;

pub struct Ctx<'a> {
    pub types: &'a BTreeMap<String, &'static TypeSchema>,
    pub vars: &'a BTreeMap<String, Node>,
    /// Declared variables, including those whose missing value was already reported.
    pub declared: &'a [String],
    /// Resources declared without a known type: that is reported once, where the type is,
    /// and references to them are not reported again.
    pub untyped: &'a [String],
    /// Variables declared `sensitive: true`.
    pub sensitive_vars: &'a [String],
    /// Set when a sensitive variable's value was used since it was last cleared.
    pub tainted: std::cell::Cell<bool>,
}

impl Ctx<'_> {
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

    fn check_ref(&self, r: &Ref, node: &Node, out: &mut Vec<Diagnostic>) -> bool {
        if self.untyped.contains(&r.resource) {
            return false;
        }
        let Some(ty) = self.types.get(&r.resource) else {
            out.push(
                Diagnostic::error(
                    "Unknown resource",
                    format!("`${{{r}}}` refers to `{}`, which is not a resource of this stack", r.resource),
                )
                .at(&node.span)
                .hint(self.resource_hint(&r.resource)),
            );
            return false;
        };
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
}

fn wrong_type(node: &Node, kind: &PropKind, out: &mut Vec<Diagnostic>) -> Option<Expr> {
    out.push(
        Diagnostic::error("Wrong value type", format!("expected {}, found {}", kind.describe(), node.type_name()))
            .at(&node.span),
    );
    None
}

/// Collapse a list/map of expressions to a literal when nothing in it is a reference.
fn collapse(e: Expr) -> Expr {
    match e {
        Expr::List(items) if items.iter().all(|i| matches!(i, Expr::Lit(_))) => Expr::Lit(Value::Array(
            items.into_iter().map(|i| if let Expr::Lit(v) = i { v } else { Value::Null }).collect(),
        )),
        Expr::Map(entries) if entries.iter().all(|(_, i)| matches!(i, Expr::Lit(_))) => Expr::Lit(Value::Object(
            entries.into_iter().map(|(k, i)| (k, if let Expr::Lit(v) = i { v } else { Value::Null })).collect(),
        )),
        other => other,
    }
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
            for item in items {
                match check_value(item, inner, ctx, out) {
                    Some(e) => exprs.push(e),
                    None => ok = false,
                }
            }
            ok.then(|| collapse(Expr::List(exprs)))
        }
        (PropKind::Map(inner), Kind::Map(entries)) => {
            let mut ok = true;
            let mut exprs = Vec::new();
            for (k, v) in entries {
                match check_value(v, inner, ctx, out) {
                    Some(e) => exprs.push((k.name.clone(), e)),
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
            for f in fields.iter() {
                match entries.iter().find(|(k, _)| k.name == f.name) {
                    Some((_, v)) if !matches!(v.kind, Kind::Null) => match check_prop(v, f, ctx, out) {
                        Some(e) => exprs.push((f.name.to_string(), e)),
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
            let exprs: Option<Vec<Expr>> = items.iter().map(|i| check_value(i, &PropKind::Json, ctx, out)).collect();
            exprs.map(|e| collapse(Expr::List(e)))
        }
        (PropKind::Json, Kind::Map(entries)) => {
            let mut ok = true;
            let mut exprs = Vec::new();
            for (k, v) in entries {
                match check_value(v, &PropKind::Json, ctx, out) {
                    Some(e) => exprs.push((k.name.clone(), e)),
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
    let pieces = match split_template(s) {
        Ok(p) => p,
        Err(TemplateError::Unclosed) => {
            out.push(
                Diagnostic::error("Invalid reference", format!("`{s}` opens `${{` without a closing `}}`"))
                    .at(&node.span)
                    .hint("close the reference with `}`, or write `$${` for a literal `${`"),
            );
            return None;
        }
        Err(TemplateError::BadReference(inner)) => {
            out.push(
                Diagnostic::error("Invalid reference", format!("`${{{inner}}}` is not a reference"))
                    .at(&node.span)
                    .hint("write `${resource.attribute}` or `${var.name}`"),
            );
            return None;
        }
    };
    // A lone `${var.x}` takes the variable's own value and type.
    if let [Piece::Var(v)] = pieces.as_slice() {
        let value = lookup_var(v, node, ctx, out)?;
        // Variable values are literals: their strings are not re-scanned for references.
        return check_node(&value, kind, ctx, out);
    }
    if let [Piece::Ref(r)] = pieces.as_slice() {
        return ctx.check_ref(r, node, out).then(|| Expr::Ref(r.clone()));
    }
    let mut parts = Vec::new();
    let mut ok = true;
    for p in pieces {
        match p {
            Piece::Text(t) => parts.push(Part::Lit(t)),
            Piece::Var(v) => match lookup_var(&v, node, ctx, out) {
                Some(val) => match val.scalar_text() {
                    Some(t) => parts.push(Part::Lit(t)),
                    None => {
                        out.push(
                            Diagnostic::error(
                                "Wrong value type",
                                format!(
                                    "variable `{v}` is {}, which cannot be placed inside a string",
                                    val.type_name()
                                ),
                            )
                            .at(&node.span),
                        );
                        ok = false;
                    }
                },
                None => ok = false,
            },
            Piece::Ref(r) => {
                ok &= ctx.check_ref(&r, node, out);
                parts.push(Part::Ref(r));
            }
        }
    }
    if !ok {
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

fn lookup_var(name: &str, node: &Node, ctx: &Ctx, out: &mut Vec<Diagnostic>) -> Option<Node> {
    if ctx.sensitive_vars.iter().any(|s| s == name) {
        ctx.tainted.set(true);
    }
    match ctx.vars.get(name) {
        Some(v) => Some(v.clone()),
        None if ctx.declared.iter().any(|d| d == name) => None,
        None => {
            out.push(
                Diagnostic::error(
                    "Unknown variable",
                    format!("`${{var.{name}}}` refers to a variable the stack does not declare"),
                )
                .at(&node.span)
                .hint(unknown_key_hint(name, &ctx.vars.keys().map(String::as_str).collect::<Vec<_>>())),
            );
            None
        }
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
