//! IAM along the data paths: each principal has the actions its paths need on the right
//! resources (CB201), no policy of the stack grants everything (CB202) or a whole
//! service (CB203) on every resource, and a role with `policy: generated` gets exactly
//! the permissions of the paths it serves (`cloudbridge iam explain ROLE` says why).

use super::paths::{DataPath, Model};
use super::Resource;
use crate::diag::Diagnostic;
use crate::expr::Expr;
use crate::iam::{self, Decision, Wide};
use crate::rules::{CB201, CB202, CB203, CB204};
use serde_json::Value;

/// The inline policy a generated role gets.
pub const GENERATED: &str = "cloudbridge-generated";

/// One statement of a generated policy and the paths that need it.
#[derive(Debug, Clone)]
pub struct Grant {
    pub sid: String,
    pub actions: Vec<&'static str>,
    pub resources: Vec<Expr>,
    pub condition: Option<Value>,
    pub because: Vec<String>,
}

fn generated(r: &Resource) -> bool {
    matches!(r.props.get("policy"), Some(Expr::Lit(Value::String(s))) if s == "generated")
}

/// The statements `role` needs for its paths: needs with the same actions (and
/// condition) share one statement.
pub fn grants(paths: &[DataPath], role: &str) -> Vec<Grant> {
    let mut out: Vec<Grant> = Vec::new();
    for p in paths.iter().filter(|p| p.principal.as_deref() == Some(role)) {
        for n in &p.needs {
            let why = format!("{}: {}", p.what, p.describe());
            match out.iter_mut().find(|g| g.actions == n.actions && g.condition == n.condition) {
                Some(g) => {
                    if !g.resources.contains(&n.resource) {
                        g.resources.push(n.resource.clone());
                    }
                    if !g.because.contains(&why) {
                        g.because.push(why);
                    }
                }
                None => out.push(Grant {
                    sid: String::new(),
                    actions: n.actions.clone(),
                    resources: vec![n.resource.clone()],
                    condition: n.condition.clone(),
                    because: vec![why],
                }),
            }
        }
    }
    for (i, g) in out.iter_mut().enumerate() {
        let service: String = g.actions[0]
            .split(':')
            .next()
            .unwrap_or_default()
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
            })
            .collect();
        g.sid = format!("{service}Grant{}", i + 1);
    }
    out
}

/// The policy document of grants, as an expression (ARNs resolve at apply).
fn document(grants: &[Grant]) -> Expr {
    let lit = |s: &str| Expr::Lit(Value::String(s.to_string()));
    let statements = grants
        .iter()
        .map(|g| {
            let actions = Value::Array(g.actions.iter().map(|a| Value::String((*a).into())).collect());
            let mut st = vec![
                ("Sid".into(), lit(&g.sid)),
                ("Effect".into(), lit("Allow")),
                ("Action".into(), Expr::Lit(actions)),
                ("Resource".into(), Expr::List(g.resources.clone())),
            ];
            if let Some(c) = &g.condition {
                st.push(("Condition".into(), Expr::Lit(c.clone())));
            }
            Expr::Map(st)
        })
        .collect();
    Expr::Map(vec![("Version".into(), lit("2012-10-17")), ("Statement".into(), Expr::List(statements))])
}

/// Give every role with `policy: generated` its generated inline policy. A generated role
/// that no path uses is an error: it would get no permissions at all.
pub fn generate(resources: &mut [Resource], paths: &[DataPath], out: &mut Vec<Diagnostic>) {
    for r in resources.iter_mut().filter(|r| r.ty.name == "aws.iam.role" && generated(r)) {
        let g = grants(paths, &r.name);
        if g.is_empty() {
            out.push(
                Diagnostic::error(
                    "Nothing to generate",
                    format!("`{}` has `policy: generated`, but no data path of the stack acts as it", r.name),
                )
                .at(r.spans.get("policy").unwrap_or(&r.span))
                .hint("reference the role from a connector, a task, a job or a `FROM MSK IAM_ROLE` statement, or write its `inline_policies`"),
            );
            continue;
        }
        let mut entries = super::paths::entries(r.props.get("inline_policies"));
        entries.retain(|(k, _)| k != GENERATED);
        entries.push((GENERATED.to_string(), document(&g)));
        r.props.insert("inline_policies".into(), Expr::Map(entries));
    }
}

/// The policy documents a role has, read symbolically; `None` when one of them is not in
/// the stack (an AWS managed policy), so that what it allows is unknown.
fn policies(m: &Model, role: &Resource) -> (Vec<Value>, bool) {
    let mut docs: Vec<Value> = match m.prop(role, "inline_policies") {
        Some(Value::Object(p)) => p.into_values().collect(),
        _ => Vec::new(),
    };
    let mut complete = true;
    for e in super::paths::items(role.props.get("managed_policy_arns")) {
        match m.targets(Some(&e), &["aws.iam.policy"]).first() {
            Some(p) => docs.extend(m.prop(p, "policy")),
            None => complete = false,
        }
    }
    (docs, complete)
}

/// Every required need of every path is granted to its principal; a location whose ARN
/// its reference does not determine is said to be granted nothing (CB204).
pub fn check(m: &Model, paths: &[DataPath], out: &mut Vec<Diagnostic>) {
    for p in paths {
        if let Some(why) = &p.undetermined {
            let role = p.principal.as_deref().unwrap_or("its role");
            out.push(
                CB204
                    .finding(
                        &p.from,
                        format!(
                            "{} {}: {why}, so no policy cloudbridge generates grants anything on it",
                            p.what,
                            p.describe()
                        ),
                    )
                    .at(&p.span)
                    .hint(format!(
                        "write the location as `s3://${{{}.id}}/prefix/`, the reference as its bucket and no `*` or `?`; or grant what `{role}` needs in its `inline_policies`",
                        p.to
                    )),
            );
        }
        let Some(role) = p.principal.as_deref().and_then(|r| m.get(r)) else { continue };
        let (docs, complete) = policies(m, role);
        let docs: Vec<&Value> = docs.iter().collect();
        let mut missing: Vec<(String, String, bool)> = Vec::new();
        for n in p.needs.iter().filter(|n| n.required) {
            let resource = m.value(&n.resource);
            let Some(resource) = resource.as_str() else { continue };
            for a in &n.actions {
                match iam::evaluate(&docs, a, resource) {
                    Decision::ExplicitDeny => missing.push(((*a).to_string(), resource.to_string(), true)),
                    Decision::ImplicitDeny if complete => missing.push(((*a).to_string(), resource.to_string(), false)),
                    _ => {}
                }
            }
        }
        if missing.is_empty() {
            continue;
        }
        // Actions grouped by the resource they are needed on.
        let mut by_resource: Vec<(String, bool, Vec<String>)> = Vec::new();
        for (a, r, deny) in &missing {
            match by_resource.iter_mut().find(|(x, d, _)| x == r && d == deny) {
                Some((_, _, actions)) => actions.push(format!("`{a}`")),
                None => by_resource.push((r.clone(), *deny, vec![format!("`{a}`")])),
            }
        }
        let list: Vec<String> = by_resource
            .iter()
            .map(|(r, deny, actions)| {
                let deny = if *deny { " (denied explicitly)" } else { "" };
                format!("{} on `{}`{deny}", actions.join(", "), iam::shown(r))
            })
            .collect();
        let actions: Vec<String> = missing.iter().map(|(a, _, _)| format!("\"{a}\"")).collect();
        out.push(
            CB201
                .finding(
                    &role.name,
                    format!("{} {} needs {}, which `{}`'s policies do not grant", p.what, p.describe(), list.join(", "), role.name),
                )
                .at(role.spans.get("inline_policies").unwrap_or(&role.span))
                .hint(format!(
                    "allow [{}] on those resources in `{}`'s `inline_policies`, or let cloudbridge write them: `policy: generated`",
                    actions.join(", "),
                    role.name
                )),
        );
    }
    wide(m, out);
}

/// Grants of everything, or of a whole service, on every resource.
fn wide(m: &Model, out: &mut Vec<Diagnostic>) {
    for r in m.resources {
        let docs: Vec<(String, Value, &str)> = match r.ty.name {
            "aws.iam.role" => match m.prop(r, "inline_policies") {
                Some(Value::Object(p)) => {
                    p.into_iter().map(|(k, v)| (format!("inline policy `{k}`"), v, "inline_policies")).collect()
                }
                _ => Vec::new(),
            },
            "aws.iam.policy" => {
                m.prop(r, "policy").map(|v| vec![("its policy".to_string(), v, "policy")]).unwrap_or_default()
            }
            _ => continue,
        };
        for (what, doc, prop) in docs {
            for (i, w) in iam::wide_grants(&doc) {
                let at = r.spans.get(prop).unwrap_or(&r.span);
                let d = match w {
                    Wide::Everything => CB202.finding(
                        &r.name,
                        format!("statement {} of `{}`'s {what} allows every action on every resource", i + 1, r.name),
                    ),
                    Wide::Service(svc) => CB203.finding(
                        &r.name,
                        format!(
                            "statement {} of `{}`'s {what} allows every `{svc}:` action on every resource",
                            i + 1,
                            r.name
                        ),
                    ),
                };
                out.push(d.at(at).hint(format!(
                    "name the actions and resources the role needs, or set `policy: generated` on `{}` to have cloudbridge write them from the data paths",
                    r.name
                )));
            }
        }
    }
}

/// `cloudbridge iam explain ROLE`: each statement a role needs and the data paths that
/// need it, and whether its policies grant it (for a generated role they do, by
/// construction). Errors are `(what, how to fix)`.
pub fn explain(stack: &super::Stack, role: &str) -> Result<String, (String, String)> {
    let roles: Vec<&str> =
        stack.resources.iter().filter(|r| r.ty.name == "aws.iam.role").map(|r| r.name.as_str()).collect();
    let Some(r) = stack.resource(role).filter(|r| r.ty.name == "aws.iam.role") else {
        return Err((
            format!("`{role}` is not a role of stack `{}`", stack.name),
            if roles.is_empty() {
                "the stack declares no `aws.iam.role`".to_string()
            } else {
                format!("roles: {}", roles.join(", "))
            },
        ));
    };
    let m = Model::new(&stack.resources);
    let paths = super::paths::derive(&m);
    let g = grants(&paths, role);
    let mut s = format!(
        "Role `{role}`{}\n",
        if generated(r) { format!(" (policy: generated, inline policy `{GENERATED}`)") } else { String::new() }
    );
    if g.is_empty() {
        s += "\nNo data path of the stack acts as this role; its permissions serve nothing cloudbridge can see.\n";
        return Ok(s);
    }
    let (docs, complete) = policies(&m, r);
    let docs: Vec<&Value> = docs.iter().collect();
    for grant in &g {
        s += &format!("\n{}: Allow {}\n", grant.sid, grant.actions.join(", "));
        if let Some(c) = &grant.condition {
            s += &format!("  when {c}\n");
        }
        for e in &grant.resources {
            let arn = m.value(e);
            let arn = arn.as_str().unwrap_or_default();
            let verdict =
                grant.actions.iter().map(|a| iam::evaluate(&docs, a, arn)).fold(Decision::Allowed, |worst, d| {
                    match (worst, d) {
                        (Decision::ExplicitDeny, _) | (_, Decision::ExplicitDeny) => Decision::ExplicitDeny,
                        (Decision::ImplicitDeny, _) | (_, Decision::ImplicitDeny) => Decision::ImplicitDeny,
                        (Decision::Possibly, _) | (_, Decision::Possibly) => Decision::Possibly,
                        _ => Decision::Allowed,
                    }
                });
            let verdict = match verdict {
                _ if generated(r) => "generated",
                Decision::Allowed => "granted",
                Decision::Possibly => "granted if the values known at apply match",
                Decision::ImplicitDeny if !complete => {
                    "not granted by the stack's policies (an AWS managed policy may)"
                }
                Decision::ImplicitDeny => "NOT granted",
                Decision::ExplicitDeny => "DENIED explicitly",
            };
            s += &format!("  on {} ({verdict})\n", iam::shown(arn));
        }
        for why in &grant.because {
            s += &format!("  because {why}\n");
        }
    }
    Ok(s)
}
