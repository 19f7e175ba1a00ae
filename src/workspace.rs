//! Finds and reads the files of a project (`envs/<env>.yaml` and its stack), and runs the
//! pure stages on them: config → graph. File I/O for configuration happens here only, and
//! every file a project names is read through [`crate::files`] (inside the project or an
//! env's `file_roots`, regular files only, capped).

use crate::config::{self, Env, Stack};
use crate::diag::{Diagnostic, Span};
use crate::files::{Denied, Project, Sources, Why};
use crate::graph::{self, DepGraph};
use crate::schema::Catalog;
use crate::yaml;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct Workspace {
    pub dir: PathBuf,
    pub env: Env,
    pub stack: Stack,
    pub graph: DepGraph,
    /// The project's files, as the env allows them to be read (`file_roots`).
    pub files: Project,
}

impl Workspace {
    /// Where the stack's uploads (`source` in the plan) resolve at apply: from the
    /// directory of the stack file.
    pub fn sources(&self) -> Sources {
        Sources { project: self.files.clone(), base: self.stack.file.parent().unwrap_or(Path::new("")).to_path_buf() }
    }
}

/// How a type's `source` (a local path) becomes its `source_hash`.
#[derive(Clone, Copy, PartialEq)]
enum Source {
    /// A file uploaded as it is (`aws.s3.object`): the SHA-256 of its bytes, in hex.
    File,
    /// A file or directory zipped ([`crate::archive`], `aws.lambda.function`): the base64
    /// SHA-256 of the archive, as Lambda reports it (`CodeSha256`).
    Archive,
}

fn source_kind(type_name: &str) -> Option<Source> {
    match type_name {
        "aws.s3.object" => Some(Source::File),
        "aws.lambda.function" => Some(Source::Archive),
        _ => None,
    }
}

/// Hash the local files that resources upload (`aws.s3.object`, `aws.lambda.function`):
/// the hash is part of the desired state, so a changed file plans an upload. A `source` is
/// relative to the file that names it (a module's resource, its module's file); for a
/// module's resource it is rewritten to the same file seen from the stack's directory,
/// where the plan's `source` paths resolve at apply ([`Workspace::sources`]).
fn hash_sources(files: &Project, stack: &mut Stack) -> Vec<Diagnostic> {
    let stack_dir = stack.file.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut diags = Vec::new();
    for r in stack.resources.iter_mut() {
        let Some(kind) = source_kind(r.ty.name) else { continue };
        if r.props.contains_key("source_hash") {
            diags.push(
                Diagnostic::error(
                    "Computed property",
                    format!("`source_hash` of `{}` is computed by cloudbridge", r.name),
                )
                .at(&r.span)
                .hint("remove `source_hash`; it is the SHA-256 of the `source` file"),
            );
            continue;
        }
        let src = match r.props.get("source") {
            Some(crate::expr::Expr::Lit(serde_json::Value::String(src))) => src.clone(),
            None if kind == Source::Archive => continue,
            _ => {
                diags.push(
                    Diagnostic::error(
                        "Wrong value type",
                        format!("`source` of `{}` must be a plain file path", r.name),
                    )
                    .at(&r.span)
                    .hint("write the path of a local file, relative to the stack file, without references"),
                );
                continue;
            }
        };
        let at = r.spans.get("source").unwrap_or(&r.span).clone();
        let naming_dir = r.span.file.parent().unwrap_or(Path::new("")).to_path_buf();
        let path = naming_dir.join(&src);
        let hashed = match kind {
            Source::File => {
                files.read(&path, crate::files::MAX_UPLOAD_BYTES).map(|bytes| crate::state::sha256_hex(&bytes))
            }
            Source::Archive => crate::archive::zip_source(files, &path).map(|zip| crate::archive::code_sha256(&zip)),
        };
        let hash = match hashed {
            Ok(hash) => hash,
            Err(mut d) => {
                // Named as written, from the file that names it.
                if let Ok(rel) = d.path.strip_prefix(&naming_dir) {
                    d.path = rel.to_path_buf();
                }
                diags.push(
                    Diagnostic::error(
                        d.summary(),
                        format!("`{}` uploads `{}`, which cannot be read: {}", r.name, d.path.display(), d.reason()),
                    )
                    .at(&at)
                    .hint(d.hint("the path is relative to the file that names it")),
                );
                continue;
            }
        };
        r.props.insert("source_hash".into(), crate::expr::Expr::Lit(serde_json::Value::String(hash)));
        if naming_dir != stack_dir {
            match (files.resolve(&stack_dir), files.resolve(&path)) {
                (Ok(from), Ok(to)) => {
                    let seen = crate::files::relative(&from, &to).to_string_lossy().into_owned();
                    r.props.insert("source".into(), crate::expr::Expr::Lit(serde_json::Value::String(seen)));
                }
                (Err(d), _) | (_, Err(d)) => diags.push(d.diagnostic("the file", &at, "check the path")),
            }
        }
    }
    diags
}

/// A located diagnostic for a configuration file that was refused.
fn refused(d: Denied, what: &str, missing: String) -> Diagnostic {
    let hint = match d.why {
        Why::NotRegular("a directory") => "name a YAML file".to_string(),
        Why::TooLarge(_) => "check that the path names the YAML file you mean; split a stack this large".to_string(),
        _ => d.hint(&missing),
    };
    Diagnostic::error(d.summary(), format!("cannot read {what} `{}`: {}", d.path.display(), d.reason()))
        .at(&Span::file(&d.path))
        .hint(hint)
}

/// Read `rel` (relative to the project) through `files`; errors name `rel`, as the user
/// wrote it. At most [`yaml::MAX_FILE_BYTES`] are read (`stack: /dev/zero` must not read
/// gigabytes), and a byte that is not UTF-8 is located.
fn read(files: &Project, rel: &Path, what: &str, hint: String) -> Result<String, Diagnostic> {
    let bytes = files.read(rel, yaml::MAX_FILE_BYTES).map_err(|d| refused(d, what, hint))?;
    utf8(bytes, rel, what)
}

/// `bytes` as text; the first byte that is not UTF-8 is located.
fn utf8(bytes: Vec<u8>, rel: &Path, what: &str) -> Result<String, Diagnostic> {
    String::from_utf8(bytes).map_err(|e| {
        let good = std::str::from_utf8(&e.as_bytes()[..e.utf8_error().valid_up_to()]).unwrap_or_default();
        let line = good.matches('\n').count() + 1;
        let col = good.rsplit('\n').next().unwrap_or_default().chars().count() + 1;
        Diagnostic::error("Unreadable file", format!("cannot read {what} `{}`: it is not UTF-8 text", rel.display()))
            .at(&Span::new(&Arc::new(rel.to_path_buf()), line, col))
            .hint("save the file as UTF-8; the first byte that is not UTF-8 is here")
    })
}

/// The project's stack and env files (for `fmt`): `stacks/**/*.yaml` and `envs/*.yaml`,
/// relative to `dir`, sorted.
pub fn config_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, rel: &Path, deep: bool, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir.join(rel)).into_iter().flatten().flatten() {
            let path = rel.join(e.file_name());
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                if deep {
                    walk(dir, &path, deep, out);
                }
            } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, Path::new("stacks"), true, &mut out);
    walk(dir, Path::new("envs"), false, &mut out);
    out.sort();
    out
}

/// Read a configuration file of the project, as the stack and env are read.
pub fn read_config(dir: &Path, rel: &Path) -> Result<String, Diagnostic> {
    read(&Project::new(dir), rel, "the file", "check the path (relative to the project directory)".into())
}

/// The environments of the project (for completion).
pub fn env_names(dir: &Path) -> Vec<String> {
    known_envs(dir)
}

/// The env files present, for hints.
fn known_envs(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("envs"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".yaml").map(str::to_string))
        .collect();
    v.sort();
    v
}

/// Read and parse the env file; the env (if readable) and every problem found.
fn env_parts(files: &Project, env: &str) -> (Option<Env>, Vec<Diagnostic>) {
    let dir = files.dir();
    if !config::valid_name(env) {
        let d = Diagnostic::error("Invalid environment name", format!("`{env}` is not a valid environment name"))
            .hint("use letters, digits, `_` and `-`, as in `-e dev`");
        return (None, vec![d]);
    }
    let rel = PathBuf::from("envs").join(format!("{env}.yaml"));
    let envs = known_envs(dir);
    let hint = if envs.is_empty() {
        format!("create `{}` or run from the project directory (`-C DIR`)", rel.display())
    } else {
        format!("known environments: {}", envs.join(", "))
    };
    match read(files, &rel, "the environment file", hint) {
        Ok(text) => config::parse_env(env, &Arc::new(rel), &text),
        Err(d) => (None, vec![d]),
    }
}

/// Load only the environment file.
pub fn load_env(dir: &Path, env: &str) -> Result<Env, Vec<Diagnostic>> {
    match env_parts(&Project::new(dir), env) {
        (Some(env), diags) if diags.is_empty() => Ok(env),
        (_, diags) => Err(diags),
    }
}

/// Allow the env's `file_roots` in `files`; a root that is not an existing directory is
/// located at its entry.
fn allow_roots(files: &mut Project, env: &Env) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (root, span) in &env.file_roots {
        if let Err(d) = files.allow(Path::new(root)) {
            let why = match d.why {
                Why::Missing => "does not exist".to_string(),
                Why::NotADirectory => "is not a directory".to_string(),
                _ => format!("cannot be read: {}", d.reason()),
            };
            diags.push(Diagnostic::error("Invalid file root", format!("the file root `{root}` {why}")).at(span).hint(
                "name an existing directory, relative to the project directory or absolute, or remove the entry",
            ));
        }
    }
    diags
}

/// The project at `dir` with the roots `env` allows (for applying a saved plan).
pub fn project(dir: &Path, env: &Env) -> Result<Project, Vec<Diagnostic>> {
    let mut files = Project::new(dir);
    let diags = allow_roots(&mut files, env);
    if diags.is_empty() {
        Ok(files)
    } else {
        Err(diags)
    }
}

/// Variable values from outside the env file.
#[derive(Debug, Clone, Default)]
pub struct VarInputs {
    /// `CLOUDBRIDGE_VAR_name=value` from the process environment.
    pub environment: Vec<(String, String)>,
    /// `--var-file FILE`, in order (relative to the project directory).
    pub files: Vec<PathBuf>,
    /// `--var name=value`, in order.
    pub cli: Vec<String>,
}

/// The prefix of environment variables that set stack variables.
pub const VAR_PREFIX: &str = "CLOUDBRIDGE_VAR_";

impl VarInputs {
    /// The inputs of a command: its flags, and `CLOUDBRIDGE_VAR_*` from `environ`.
    pub fn new(cli: &[String], files: &[PathBuf], environ: impl IntoIterator<Item = (String, String)>) -> VarInputs {
        let environment =
            environ.into_iter().filter_map(|(k, v)| Some((k.strip_prefix(VAR_PREFIX)?.to_string(), v))).collect();
        VarInputs { environment, files: files.to_vec(), cli: cli.to_vec() }
    }

    /// Apply them to `env`, weakest first; problems (a file that cannot be read, a
    /// `--var` without `=`) go to `diags`.
    fn apply(&self, dir: &Path, env: &mut Env, diags: &mut Vec<Diagnostic>) {
        let text = |name: &str, value: &str, origin: String| {
            let span = Span::file(Path::new(&origin));
            (
                yaml::Key { name: name.to_string(), span: span.clone() },
                yaml::Node { kind: yaml::Kind::Str(value.to_string()), span },
            )
        };
        let env_file = std::mem::take(&mut env.variables);
        for (name, value) in &self.environment {
            let (k, v) = text(name, value, format!("${VAR_PREFIX}{name}"));
            env.set_variable(k, v, config::VarSource::Environment);
        }
        for (k, v) in env_file {
            env.set_variable(k, v, config::VarSource::File);
        }
        for file in &self.files {
            // Named on the command line, so read where it is, whatever it is (`<(…)` is a
            // pipe); never a path a file names.
            let parsed = crate::files::read_given(dir, file, yaml::MAX_FILE_BYTES)
                .map_err(|d| {
                    refused(
                        d,
                        "the variables file",
                        "check the `--var-file` path (relative to the project directory)".into(),
                    )
                })
                .and_then(|bytes| utf8(bytes, file, "the variables file"))
                .and_then(|t| yaml::parse(&Arc::new(file.clone()), &t));
            match parsed {
                Err(d) => diags.push(d),
                Ok(node) => match node.as_map() {
                    Some(entries) => {
                        for (k, v) in entries {
                            env.set_variable(k.clone(), v.clone(), config::VarSource::File);
                        }
                    }
                    None if matches!(node.kind, yaml::Kind::Null) => {}
                    None => diags.push(
                        Diagnostic::error(
                            "Wrong value type",
                            format!("a variables file must be a map of names to values, found {}", node.type_name()),
                        )
                        .at(&node.span)
                        .hint("write one `name: value` per line"),
                    ),
                },
            }
        }
        for arg in &self.cli {
            match arg.split_once('=') {
                Some((name, value)) if config::valid_name(name.trim()) => {
                    let (k, v) = text(name.trim(), value, format!("--var {arg}"));
                    env.set_variable(k, v, config::VarSource::Cli);
                }
                _ => diags.push(
                    Diagnostic::error("Invalid variable", format!("`--var {arg}` does not set a variable"))
                        .hint("write `--var name=value`, e.g. `--var env=prod` or `--var 'azs=[a, b]'`"),
                ),
            }
        }
    }
}

/// Load env + stack and build the graph, collecting every diagnostic of both files.
pub fn load(
    dir: &Path,
    env_name: &str,
    stack_override: Option<&Path>,
    inputs: &VarInputs,
    catalog: &Catalog,
) -> Result<Workspace, Vec<Diagnostic>> {
    let mut files = Project::new(dir);
    let (env, mut diags) = env_parts(&files, env_name);
    let env_read = env.is_some();
    let env_ok = env_read && diags.is_empty();
    // Without a readable env, the stack is still checked (its variables cannot be).
    let mut env = env.unwrap_or_else(|| Env {
        name: env_name.into(),
        file: Arc::new(PathBuf::from("envs").join(format!("{env_name}.yaml"))),
        stack: None,
        region: None,
        endpoint: None,
        variables: Vec::new(),
        raw_variables: Default::default(),
        strict_variables: Default::default(),
        default_tags: Default::default(),
        cost: Default::default(),
        backend: config::Backend::Local { path: String::new() },
        assume_role: None,
        file_roots: Vec::new(),
    });
    diags.extend(allow_roots(&mut files, &env));
    inputs.apply(dir, &mut env, &mut diags);
    let stack_rel: PathBuf = match (stack_override, &env.stack) {
        (Some(s), _) => s.to_path_buf(),
        (None, Some((s, span))) => {
            // The env file is shared and reviewed less than the stack: it may only name a
            // stack inside the project, never `../../etc/passwd` or an absolute path.
            let p = PathBuf::from(s);
            if p.components().any(|c| !matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir)) {
                diags.push(
                    Diagnostic::error(
                        "Stack outside the project",
                        format!("`stack: {s}` names a file outside the project directory"),
                    )
                    .at(span)
                    .hint("name the stack relative to the project directory, such as `stacks/main.yaml`, without `..`; or pass `--stack FILE`"),
                );
                return Err(diags);
            }
            p
        }
        (None, None) => {
            // Only an env that could be read, and whose `stack:` is not already reported
            // (as a list, say), can be said to lack `stack:`.
            if env_read && !diags.iter().any(|d| d.detail.starts_with("`stack`")) {
                diags.push(crate::config::missing_stack(&env));
            }
            return Err(diags);
        }
    };
    match load_stack(&files, &stack_rel, &env, catalog) {
        Err(more) if !env_ok && env.variables.is_empty() => {
            diags.extend(more.into_iter().filter(|d| d.summary != "Missing variable value"))
        }
        Err(more) => diags.extend(more),
        Ok(mut stack) if diags.is_empty() => {
            let problems = hash_sources(&files, &mut stack);
            if !problems.is_empty() {
                return Err(problems);
            }
            let graph = graph::build(&stack)?;
            return Ok(Workspace { dir: dir.to_path_buf(), env, stack, graph, files });
        }
        Ok(stack) => diags.extend(stack.warnings),
    }
    Err(diags)
}

fn load_stack(files: &Project, rel: &Path, env: &Env, catalog: &Catalog) -> Result<Stack, Vec<Diagnostic>> {
    let text =
        read(files, rel, "the stack file", "check the `stack:` path in the environment file, or `--stack`".into())
            .map_err(|d| {
                // A missing stack is a wrong `stack:` line; any other problem is the file's own.
                let d = match &env.stack {
                    Some((_, span)) if d.summary == "Missing file" => Diagnostic { span: Some(span.clone()), ..d },
                    _ => d,
                };
                vec![d]
            })?;
    let stem = rel.file_stem().and_then(|s| s.to_str()).unwrap_or("stack").to_string();
    // `file()` and module sources: the config stage joins the path to the directory of the
    // file that names it; the layer confines what it resolves to.
    let read = |p: &str| -> Result<String, String> {
        let path = Path::new(p);
        let bytes = files.read(path, yaml::MAX_FILE_BYTES).map_err(|d| match d.why {
            Why::Missing => format!("cannot read the file `{p}`: {}", d.reason()),
            _ => format!("cannot read the file `{p}`: {}; {}", d.reason(), d.hint("")),
        })?;
        utf8(bytes, path, "the file").map_err(|d| d.detail)
    };
    config::parse_stack_reading(&Arc::new(rel.to_path_buf()), &text, &stem, env, catalog, Some(&read))
}
