//! `envs/<env>.yaml`: which stack, region and endpoint, variable values, default tags and
//! the state backend of one environment.

use super::{check_keys, expect_bool, expect_map, expect_str, missing};
use crate::diag::{Diagnostic, Span};
use crate::yaml::{self, Key, Node};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub enum Backend {
    /// State in a local file. `path` may contain `{stack}` and `{env}`.
    Local { path: String },
    /// State in S3. `key` may contain `{stack}` and `{env}`; the lock is `<key>.lock`.
    /// `assume_role`: the role that reaches the state bucket (an operations account),
    /// else the caller's own credentials.
    S3 { bucket: String, key: String, region: Option<String>, encrypt: bool, assume_role: Option<AssumeRole> },
}

/// An IAM role to assume (`assume_role: {role_arn, external_id, session_name}`).
#[derive(Debug, Clone, PartialEq)]
pub struct AssumeRole {
    pub role_arn: String,
    pub external_id: Option<String>,
    pub session_name: String,
}

/// Parse and check an `assume_role:` block as AWS STS would: the role's ARN, an external
/// ID of 2 to 1,224 and a session name of 2 to 64 of the characters STS allows.
fn parse_assume_role(node: &Node, env: &str, out: &mut Vec<Diagnostic>) -> Option<AssumeRole> {
    let entries = expect_map(node, "`assume_role`", out)?;
    check_keys(entries, &["role_arn", "external_id", "session_name"], "`assume_role`", out);
    let field = |k: &str, out: &mut Vec<Diagnostic>| {
        node.get(k).and_then(|v| expect_str(v, &format!("`{k}`"), out).map(|s| (s, v.span.clone())))
    };
    let Some((role_arn, span)) = field("role_arn", out) else {
        if node.get("role_arn").is_none() {
            out.push(missing(
                "`assume_role`",
                "role_arn",
                &node.span,
                "add `role_arn: arn:aws:iam::<account>:role/<name>`",
            ));
        }
        return None;
    };
    let mut ok = true;
    let arn_ok = {
        let parts: Vec<&str> = role_arn.splitn(6, ':').collect();
        parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[2] == "iam"
            && parts[3].is_empty()
            && parts[4].len() == 12
            && parts[4].chars().all(|c| c.is_ascii_digit())
            && parts[5].strip_prefix("role/").is_some_and(|n| !n.is_empty())
    };
    if !arn_ok {
        ok = false;
        out.push(
            Diagnostic::error("Invalid role ARN", format!("`{role_arn}` is not the ARN of an IAM role"))
                .at(&span)
                .hint("write `arn:aws:iam::<12-digit account>:role/<name>`"),
        );
    }
    let sts_chars = |s: &str, extra: &str| {
        s.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) || extra.contains(c))
    };
    let external_id = field("external_id", out);
    if let Some((id, span)) = &external_id {
        if !(2..=1224).contains(&id.len()) || !sts_chars(id, ":/") {
            ok = false;
            out.push(
                Diagnostic::error(
                    "Invalid external ID",
                    "an external ID is 2 to 1,224 letters, digits and `_+=,.@:/-`",
                )
                .at(span)
                .hint("use the external ID the role's trust policy names"),
            );
        }
    }
    let session_name = match field("session_name", out) {
        Some((n, span)) => {
            if !(2..=64).contains(&n.len()) || !sts_chars(&n, "") {
                ok = false;
                out.push(
                    Diagnostic::error(
                        "Invalid session name",
                        format!("`{n}` is not a session name: 2 to 64 letters, digits and `_+=,.@-`"),
                    )
                    .at(&span)
                    .hint("CloudTrail shows it as who made each call: `cloudbridge-prod`, say"),
                );
            }
            n
        }
        None => format!("cloudbridge-{env}"),
    };
    ok.then(|| AssumeRole { role_arn, external_id: external_id.map(|(i, _)| i), session_name })
}

pub const DEFAULT_LOCAL_PATH: &str = ".cloudbridge/state/{stack}/{env}.json";
pub const DEFAULT_S3_KEY: &str = "cloudbridge/{stack}/{env}.json";

/// Where a variable's value came from, weakest first: `CLOUDBRIDGE_VAR_name`, the env
/// file, `--var-file` (in order), `--var` (in order). A later one replaces an earlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarSource {
    Environment,
    File,
    Cli,
}

impl Env {
    /// The values a module's `inputs:` give its variables, as an env gives a stack's.
    pub fn inputs(given: Vec<(Key, Node)>) -> Env {
        Env {
            name: String::new(),
            file: Arc::new(PathBuf::new()),
            stack: None,
            region: None,
            endpoint: None,
            variables: given,
            raw_variables: Default::default(),
            strict_variables: Default::default(),
            default_tags: BTreeMap::new(),
            cost: BTreeMap::new(),
            backend: Backend::Local { path: DEFAULT_LOCAL_PATH.into() },
            assume_role: None,
            file_roots: Vec::new(),
        }
    }

    /// Set variable `k` to `v`, replacing a weaker value.
    pub fn set_variable(&mut self, k: Key, v: Node, source: VarSource) {
        self.variables.retain(|(e, _)| e.name != k.name);
        if source == VarSource::File {
            self.raw_variables.remove(&k.name);
        } else {
            self.raw_variables.insert(k.name.clone());
        }
        if source == VarSource::Cli {
            self.strict_variables.insert(k.name.clone());
        }
        self.variables.push((k, v));
    }
}

#[derive(Debug, Clone)]
pub struct Env {
    pub name: String,
    pub file: Arc<PathBuf>,
    /// The stack file, as written (relative to the project directory).
    pub stack: Option<(String, Span)>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    /// Variable values, still as YAML nodes so their types can be checked with locations:
    /// the env file's, with `CLOUDBRIDGE_VAR_*`, `--var-file` and `--var` applied.
    pub variables: Vec<(Key, Node)>,
    /// Variables whose value is text from the command line or the process environment,
    /// read as YAML (`[a, b]`, `5432`) only if the variable is not a string.
    pub raw_variables: std::collections::BTreeSet<String>,
    /// Variables set by `--var`: a value for an undeclared one is an error, not a warning.
    pub strict_variables: std::collections::BTreeSet<String>,
    pub default_tags: BTreeMap<String, String>,
    /// Cost assumptions set for this environment (`cost: { redshift_active_hours_per_day: 8 }`).
    pub cost: BTreeMap<String, f64>,
    pub backend: Backend,
    /// The role every AWS call for this environment's resources is made as (a workload
    /// account), assumed from the caller's credentials.
    pub assume_role: Option<AssumeRole>,
    /// Directories outside the project whose files the stack may read and upload
    /// (`file_roots: [../shared-artifacts]`), as written, relative to the project directory.
    pub file_roots: Vec<(String, Span)>,
}

const ENV_KEYS: &[&str] =
    &["stack", "region", "endpoint", "assume_role", "variables", "default_tags", "cost", "backend", "file_roots"];

/// Parse an env file. The env comes back even with problems (as far as it could be
/// read), so the stack can still be checked against it and every problem reported at once.
pub fn parse_env(name: &str, file: &Arc<PathBuf>, text: &str) -> (Option<Env>, Vec<Diagnostic>) {
    let root = match yaml::parse(file, text) {
        Ok(r) => r,
        Err(d) => return (None, vec![d]),
    };
    let mut out = Vec::new();
    let mut env = Env {
        name: name.to_string(),
        file: file.clone(),
        stack: None,
        region: None,
        endpoint: None,
        variables: Vec::new(),
        raw_variables: Default::default(),
        strict_variables: Default::default(),
        default_tags: BTreeMap::new(),
        cost: BTreeMap::new(),
        backend: Backend::Local { path: DEFAULT_LOCAL_PATH.into() },
        assume_role: None,
        file_roots: Vec::new(),
    };
    let Some(entries) = expect_map(&root, "an environment file", &mut out) else {
        return (None, out);
    };
    check_keys(entries, ENV_KEYS, "an environment file", &mut out);
    for (k, v) in entries {
        match k.name.as_str() {
            "stack" => env.stack = expect_str(v, "`stack`", &mut out).map(|s| (s, v.span.clone())),
            "region" => env.region = expect_str(v, "`region`", &mut out).filter(|r| check_region(r, v, &mut out)),
            "endpoint" => {
                env.endpoint = expect_str(v, "`endpoint`", &mut out).filter(|e| check_endpoint(e, v, &mut out))
            }
            "variables" => {
                if let Some(m) = expect_map(v, "`variables`", &mut out) {
                    env.variables = m.to_vec();
                }
            }
            "default_tags" => {
                for (tk, tv) in expect_map(v, "`default_tags`", &mut out).unwrap_or_default() {
                    match tv.scalar_text() {
                        Some(s) => match crate::schema::tag_problem(&tk.name, &s) {
                            Some(why) => out
                                .push(Diagnostic::error("Invalid tag", why).at(&tk.span).hint(crate::schema::TAG_HINT)),
                            None => {
                                env.default_tags.insert(tk.name.clone(), s);
                            }
                        },
                        None => out.push(
                            Diagnostic::error("Wrong value type", format!("tag `{}` must be a string", tk.name))
                                .at(&tv.span),
                        ),
                    }
                }
            }
            "cost" => {
                for (ck, cv) in expect_map(v, "`cost`", &mut out).unwrap_or_default() {
                    let known = crate::cost::ASSUMPTIONS.iter().map(|(n, _, _, _)| *n);
                    if !known.clone().any(|n| n == ck.name) {
                        let mut d = Diagnostic::error(
                            "Unknown cost assumption",
                            format!("`{}` is not a cost assumption", ck.name),
                        )
                        .at(&ck.span);
                        d = match super::suggest(&ck.name, known.clone()) {
                            Some(s) => d.hint(format!("did you mean `{s}`?")),
                            None => d.hint(format!("one of: {}", known.collect::<Vec<_>>().join(", "))),
                        };
                        out.push(d);
                        continue;
                    }
                    // Bounded to what it can mean (`cost::ASSUMPTIONS`), so no estimate is
                    // ever `inf`: 1e308 hours a month would be written as `null` in a plan.
                    let max =
                        crate::cost::ASSUMPTIONS.iter().find(|(n, ..)| *n == ck.name).map_or(0.0, |(_, _, m, _)| *m);
                    let number = match &cv.kind {
                        yaml::Kind::Int(_) | yaml::Kind::Float(_) | yaml::Kind::Str(_) => {
                            cv.scalar_text().and_then(|t| t.parse::<f64>().ok())
                        }
                        _ => None,
                    };
                    match number.filter(|x| x.is_finite() && (0.0..=max).contains(x)) {
                        Some(x) => {
                            env.cost.insert(ck.name.clone(), x);
                        }
                        None => out.push(
                            Diagnostic::error(
                                "Invalid cost assumption",
                                format!(
                                    "`{}` must be a number from 0 to {max}, not {}",
                                    ck.name,
                                    cv.scalar_text().unwrap_or_else(|| cv.type_name().to_string())
                                ),
                            )
                            .at(&cv.span)
                            .hint(format!(
                                "write a number from 0 to {max} (its default: {})",
                                crate::cost::ASSUMPTIONS
                                    .iter()
                                    .find(|(n, ..)| *n == ck.name)
                                    .map_or(0.0, |(_, d, _, _)| *d)
                            )),
                        ),
                    }
                }
            }
            "assume_role" => env.assume_role = parse_assume_role(v, name, &mut out),
            "file_roots" => {
                let items: &[Node] = match &v.kind {
                    yaml::Kind::Seq(items) => items,
                    yaml::Kind::Null => &[],
                    _ => {
                        out.push(
                            Diagnostic::error(
                                "Wrong value type",
                                format!("`file_roots` must be a list of directories, found {}", v.type_name()),
                            )
                            .at(&v.span)
                            .hint("write `file_roots: [../shared-artifacts]`"),
                        );
                        &[]
                    }
                };
                for item in items {
                    match expect_str(item, "a `file_roots` entry", &mut out) {
                        Some(s) if s.is_empty() => out.push(
                            Diagnostic::error("Invalid file root", "a `file_roots` entry is empty")
                                .at(&item.span)
                                .hint("name a directory, relative to the project directory or absolute"),
                        ),
                        Some(s) => env.file_roots.push((s, item.span.clone())),
                        None => {}
                    }
                }
            }
            "backend" => {
                if let Some(b) = parse_backend(v, name, &mut out) {
                    env.backend = b;
                }
            }
            _ => {}
        }
    }
    (Some(env), out)
}

/// An AWS region name: `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`. Anything
/// else would be sent to a host that does not exist, after the plan was shown.
pub fn valid_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok_and(|n| n > 0)
}

fn check_region(r: &str, node: &Node, out: &mut Vec<Diagnostic>) -> bool {
    let ok = valid_region(r);
    if !ok {
        out.push(
            Diagnostic::error("Invalid region", format!("`{r}` is not an AWS region name"))
                .at(&node.span)
                .hint("write a region such as `us-east-1` or `eu-central-1`"),
        );
    }
    ok
}

/// An endpoint URL (the emulator, a VPC endpoint): `http://` or `https://` and a host.
fn check_endpoint(e: &str, node: &Node, out: &mut Vec<Diagnostic>) -> bool {
    let rest = e.strip_prefix("https://").or_else(|| e.strip_prefix("http://"));
    let ok = rest.is_some_and(|r| {
        let host = r.split(['/', ':']).next().unwrap_or_default();
        !host.is_empty() && !r.contains(char::is_whitespace)
    });
    if !ok {
        out.push(
            Diagnostic::error("Invalid endpoint", format!("`{e}` is not an http:// or https:// URL"))
                .at(&node.span)
                .hint("write a URL such as `http://localhost:5000`"),
        );
    }
    ok
}

fn parse_backend(node: &Node, env: &str, out: &mut Vec<Diagnostic>) -> Option<Backend> {
    let entries = expect_map(node, "`backend`", out)?;
    let kind = node.get("type").and_then(|t| expect_str(t, "`backend.type`", out)).unwrap_or_else(|| "local".into());
    let get_str = |key: &str, out: &mut Vec<Diagnostic>| {
        node.get(key).and_then(|v| expect_str(v, &format!("`backend.{key}`"), out))
    };
    match kind.as_str() {
        "local" => {
            check_keys(entries, &["type", "path"], "a local backend", out);
            Some(Backend::Local { path: get_str("path", out).unwrap_or_else(|| DEFAULT_LOCAL_PATH.into()) })
        }
        "s3" => {
            check_keys(entries, &["type", "bucket", "key", "region", "encrypt", "assume_role"], "an s3 backend", out);
            let encrypt = node.get("encrypt").and_then(|v| expect_bool(v, "`backend.encrypt`", out)).unwrap_or(true);
            let Some(bucket) = get_str("bucket", out) else {
                out.push(missing(
                    "the s3 backend",
                    "bucket",
                    &node.span,
                    "name the state bucket: `bucket: my-state-bucket`",
                ));
                return None;
            };
            Some(Backend::S3 {
                bucket,
                key: get_str("key", out).unwrap_or_else(|| DEFAULT_S3_KEY.into()),
                region: node
                    .get("region")
                    .and_then(|v| expect_str(v, "`backend.region`", out).filter(|r| check_region(r, v, out))),
                encrypt,
                assume_role: node.get("assume_role").and_then(|a| parse_assume_role(a, env, out)),
            })
        }
        other => {
            let span = node.get("type").map(|t| t.span.clone()).unwrap_or(node.span.clone());
            out.push(
                Diagnostic::error("Invalid value", format!("unknown backend type `{other}`"))
                    .at(&span)
                    .hint("use `local` or `s3`"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(text: &str) -> (Option<f64>, Vec<String>) {
        let (env, d) =
            parse_env("t", &Arc::new(PathBuf::from("envs/t.yaml")), &format!("stack: s.yaml\ncost:\n{text}"));
        let shown = d
            .iter()
            .map(|d| {
                let at = d.span.as_ref().map(|s| format!("{}:{}", s.line, s.col)).unwrap_or_default();
                format!("{at}: {}: {}", d.summary, d.detail)
            })
            .collect();
        (env.and_then(|e| e.cost.values().next().copied()), shown)
    }

    #[test]
    fn hours_per_month_is_bounded_by_the_longest_month() {
        assert_eq!(cost("  hours_per_month: 744\n"), (Some(744.0), vec![]));
        assert_eq!(cost("  hours_per_month: 0\n"), (Some(0.0), vec![]));
        for bad in ["1e308", "745", "-1", ".nan", ".inf", "-.inf", "1e400", "99999999999999999999", "\"NaN\"", "inf"] {
            let (v, d) = cost(&format!("  hours_per_month: {bad}\n"));
            assert_eq!(v, None, "{bad} accepted");
            assert_eq!(d.len(), 1, "{bad}: {d:?}");
            assert!(d[0].starts_with("3:20: Invalid cost assumption"), "{bad}: {d:?}");
            assert!(d[0].contains("`hours_per_month` must be a number from 0 to 744"), "{bad}: {d:?}");
        }
    }

    #[test]
    fn every_cost_assumption_has_a_finite_upper_bound() {
        for (name, default, max, _) in crate::cost::ASSUMPTIONS {
            assert!(max.is_finite() && *max < 1e13 && default <= max, "{name}");
            let (v, d) = cost(&format!("  {name}: 1e308\n"));
            assert_eq!(v, None, "{name}");
            assert!(d[0].contains(&format!("`{name}` must be a number from 0 to")), "{d:?}");
            assert_eq!(cost(&format!("  {name}: {max}\n")), (Some(*max), vec![]), "{name} at its bound");
        }
    }
}
