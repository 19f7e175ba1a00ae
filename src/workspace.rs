//! Finds and reads the files of a project (`envs/<env>.yaml` and its stack), and runs the
//! pure stages on them: config → graph. File I/O for configuration happens here only.

use crate::config::{self, Env, Stack};
use crate::diag::{Diagnostic, Span};
use crate::graph::{self, DepGraph};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct Workspace {
    pub dir: PathBuf,
    pub env: Env,
    pub stack: Stack,
    pub graph: DepGraph,
}

fn read(path: &Path, what: &str, hint: String) -> Result<String, Diagnostic> {
    std::fs::read_to_string(path).map_err(|e| {
        let summary = if e.kind() == std::io::ErrorKind::NotFound {
            "Missing file"
        } else {
            "Unreadable file"
        };
        Diagnostic::error(
            summary,
            format!("cannot read {what} `{}`: {e}", path.display()),
        )
        .at(&Span::file(path))
        .hint(hint)
    })
}

/// The env files present, for hints.
fn known_envs(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("envs"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".yaml")
                .map(str::to_string)
        })
        .collect();
    v.sort();
    v
}

/// Load only the environment file.
pub fn load_env(dir: &Path, env: &str) -> Result<Env, Vec<Diagnostic>> {
    if !config::valid_name(env) {
        return Err(vec![Diagnostic::error(
            "Invalid environment name",
            format!("`{env}` is not a valid environment name"),
        )
        .hint("use letters, digits, `_` and `-`, as in `-e dev`")]);
    }
    let rel = PathBuf::from("envs").join(format!("{env}.yaml"));
    let path = dir.join(&rel);
    let envs = known_envs(dir);
    let hint = if envs.is_empty() {
        format!(
            "create `{}` or run from the project directory (`-C DIR`)",
            rel.display()
        )
    } else {
        format!("known environments: {}", envs.join(", "))
    };
    let text = read(&path, "the environment file", hint).map_err(|d| vec![d])?;
    config::parse_env(env, &Arc::new(rel), &text)
}

/// Load env + stack and build the graph, collecting every diagnostic.
pub fn load(
    dir: &Path,
    env_name: &str,
    stack_override: Option<&Path>,
) -> Result<Workspace, Vec<Diagnostic>> {
    let env = match load_env(dir, env_name) {
        Ok(env) => env,
        // Still report the stack's own problems if we know where the stack is.
        Err(mut diags) => {
            if let Some(s) = stack_override {
                let dummy = Env {
                    name: env_name.into(),
                    file: Arc::new(PathBuf::from("envs").join(format!("{env_name}.yaml"))),
                    stack: None,
                    region: None,
                    endpoint: None,
                    variables: Vec::new(),
                    default_tags: Default::default(),
                    backend: config::Backend::Local {
                        path: String::new(),
                    },
                };
                if let Err(more) = load_stack(dir, s, &dummy) {
                    diags.extend(
                        more.into_iter()
                            .filter(|d| d.summary != "Missing variable value"),
                    );
                }
            }
            return Err(diags);
        }
    };
    let stack_rel: PathBuf = match (stack_override, &env.stack) {
        (Some(s), _) => s.to_path_buf(),
        (None, Some((s, _))) => PathBuf::from(s),
        (None, None) => {
            return Err(vec![crate::config::missing_stack(&env)]);
        }
    };
    let stack = load_stack(dir, &stack_rel, &env)?;
    let graph = graph::build(&stack)?;
    Ok(Workspace {
        dir: dir.to_path_buf(),
        env,
        stack,
        graph,
    })
}

fn load_stack(dir: &Path, rel: &Path, env: &Env) -> Result<Stack, Vec<Diagnostic>> {
    let path = if rel.is_absolute() {
        rel.to_path_buf()
    } else {
        dir.join(rel)
    };
    let text = read(
        &path,
        "the stack file",
        "check the `stack:` path in the environment file, or `--stack`".into(),
    )
    .map_err(|d| {
        let d = match &env.stack {
            Some((_, span)) => Diagnostic {
                span: Some(span.clone()),
                ..d
            },
            None => d,
        };
        vec![d]
    })?;
    let stem = rel
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("stack")
        .to_string();
    config::parse_stack(&Arc::new(rel.to_path_buf()), &text, &stem, env)
}
