//! Command-line flags (clap). Parsed into these raw structs, then turned into validated
//! requests by `commands`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// `--version`: in a debug build, also the checkout it was built from, so that a test (or
/// a developer with two clones) can tell whose binary runs.
const LONG_VERSION: &str = if cfg!(debug_assertions) {
    concat!(env!("CARGO_PKG_VERSION"), " (debug build of ", env!("CARGO_MANIFEST_DIR"), ")")
} else {
    env!("CARGO_PKG_VERSION")
};

#[derive(Debug, Parser)]
#[command(
    name = "cloudbridge",
    version,
    long_version = LONG_VERSION,
    about = "Provision AWS change-data-capture platforms from declarative YAML stacks"
)]
pub struct Cli {
    /// Run as if started in DIR (the project directory holding `envs/` and `stacks/`).
    #[arg(short = 'C', global = true, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// More logging on stderr: -v info, -vv debug, -vvv trace (secrets are never logged).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Disable colour (also: the NO_COLOR environment variable).
    #[arg(long, global = true)]
    pub no_color: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct EnvArgs {
    /// Environment: reads `envs/ENV.yaml`.
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub env: String,
    /// Use this stack file instead of the environment's `stack:`.
    #[arg(long, value_name = "FILE")]
    pub stack: Option<PathBuf>,
    /// Set a variable (repeatable): `--var env=prod`, `--var 'azs=[a, b]'`. Wins over
    /// `--var-file`, the environment file and `CLOUDBRIDGE_VAR_<name>`.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read variable values from a YAML file of `name: value` lines (repeatable; a later
    /// file wins). Wins over the environment file and `CLOUDBRIDGE_VAR_<name>`.
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
}

impl EnvArgs {
    /// The variable values these flags and the process environment give.
    pub fn inputs(&self) -> crate::workspace::VarInputs {
        crate::workspace::VarInputs::new(&self.vars, &self.var_files, std::env::vars())
    }
}

#[derive(Debug, Args, Clone)]
pub struct PlanArgs {
    /// Limit to this resource and what it depends on (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// How many resource operations run at once.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallelism: u16,
    /// Only compare state with AWS: `plan` shows what changed outside cloudbridge, `apply`
    /// accepts it into state. Nothing in AWS is changed.
    #[arg(long)]
    pub refresh_only: bool,
    /// Allow replacing what holds a change-data-capture position (a DMS task, a Debezium
    /// connector), which reloads the source or snapshots it again.
    #[arg(long)]
    pub allow_resnapshot: bool,
    /// Write the plan and the apply's progress as JSON lines on stdout (`apply --json`).
    #[arg(skip)]
    pub json_events: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the stack and environment files; makes no AWS call.
    Validate {
        #[command(flatten)]
        env: EnvArgs,
    },
    /// Report every finding of the stack's rules (`CB…`: network, CDC prerequisites) and
    /// every other problem, as text, JSON or SARIF; makes no AWS call. Exit 1 on errors.
    Check {
        #[command(flatten)]
        env: EnvArgs,
        /// How findings are written (SARIF 2.1.0 for code-scanning uploads).
        #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
        format: CheckFormat,
        /// Short for `--format json`.
        #[arg(long, conflicts_with = "format")]
        json: bool,
        /// Also read what the deployed databases really have (binlog, WAL, grants,
        /// publications, slots) with read-only SQL through the RDS Data API, and judge it
        /// by the same rules.
        #[arg(long)]
        live: bool,
    },
    /// Show what apply would change.
    Plan {
        #[command(flatten)]
        env: EnvArgs,
        #[command(flatten)]
        plan: PlanArgs,
        /// Save the plan to FILE, for `cloudbridge apply FILE`.
        #[arg(long = "out", value_name = "FILE")]
        out: Option<PathBuf>,
        /// Print the plan as JSON on stdout (short for `--format json`).
        #[arg(long, conflicts_with = "format")]
        json: bool,
        /// How the plan is written: text, the JSON contract, or a Markdown summary for a
        /// pull-request comment.
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
        /// Exit 0 when there are no changes, 2 when there are, 1 on error.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Plan the destruction of everything in state.
        #[arg(long)]
        destroy: bool,
    },
    /// Make the changes: plans, shows the plan and asks for confirmation; or applies a saved plan.
    Apply {
        /// A plan saved with `plan --out`; applied exactly, if the state has not changed since.
        #[arg(value_name = "PLANFILE")]
        plan_file: Option<PathBuf>,
        /// Environment: reads `envs/ENV.yaml` (not needed with a plan file).
        #[arg(short = 'e', long = "env", value_name = "ENV")]
        env: Option<String>,
        /// Use this stack file instead of the environment's `stack:`.
        #[arg(long, value_name = "FILE")]
        stack: Option<PathBuf>,
        /// Set a variable (repeatable): `--var env=prod`. Wins over `--var-file`, the
        /// environment file and `CLOUDBRIDGE_VAR_<name>`.
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        /// Read variable values from a YAML file (repeatable; a later file wins).
        #[arg(long = "var-file", value_name = "FILE")]
        var_files: Vec<PathBuf>,
        #[command(flatten)]
        plan: PlanArgs,
        /// Stream the apply as JSON, one event per line on stdout: the plan, each step's
        /// start, progress, completion or error with its address, and a summary.
        #[arg(long)]
        json: bool,
        /// Apply without asking for confirmation (for CI).
        #[arg(long)]
        auto_approve: bool,
    },
    /// Delete everything in state, in reverse dependency order.
    Destroy {
        #[command(flatten)]
        env: EnvArgs,
        /// Delete only this resource and what depends on it (repeatable).
        #[arg(long = "target", value_name = "ADDR")]
        targets: Vec<String>,
        /// How many resource operations run at once.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=256))]
        parallelism: u16,
        /// Destroy without asking for confirmation (for CI).
        #[arg(long)]
        auto_approve: bool,
    },
    /// Print outputs from state (one raw value with NAME).
    Output {
        #[command(flatten)]
        env: EnvArgs,
        /// One output: its raw value alone (a sensitive one is refused).
        #[arg(value_name = "NAME")]
        name: Option<String>,
        /// All outputs as a JSON object (sensitive ones as null).
        #[arg(long)]
        json: bool,
    },
    /// The estimated monthly cost of the environment, resource by resource, before and
    /// after the stack's changes, with every assumption (refreshes state, as `plan`).
    Cost {
        #[command(flatten)]
        env: EnvArgs,
        /// The estimate as JSON (the `cost` object of `plan --json`).
        #[arg(long)]
        json: bool,
    },
    /// Show a saved plan (from `plan --out`), as text or as the JSON contract.
    Show {
        /// The plan file.
        #[arg(value_name = "PLANFILE")]
        plan_file: PathBuf,
        /// The plan as JSON (short for `--format json`: `docs/json-format.md`).
        #[arg(long, conflicts_with = "format")]
        json: bool,
        /// Text, the JSON contract, or the Markdown summary for a pull-request comment.
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
    },
    /// Print the dependency graph, or the pipeline's data paths, as Graphviz DOT or Mermaid.
    Graph {
        #[command(flatten)]
        env: EnvArgs,
        /// Draw the data paths (who reads or writes what, on which port, as which role)
        /// instead of the dependencies.
        #[arg(long)]
        data_paths: bool,
        /// Graphviz DOT, or a Mermaid flowchart (GitHub renders it in Markdown).
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
    /// IAM as the stack's data paths need it.
    Iam {
        #[command(subcommand)]
        command: IamCommand,
    },
    /// Inspect and change state: list, show, mv, rm, pull, push.
    State {
        #[command(subcommand)]
        command: StateCommand,
    },
    /// Remove a lock left behind by a run that died (S3 backend).
    ForceUnlock {
        #[command(flatten)]
        env: EnvArgs,
        /// The lock's ID, as the error that named the lock's holder printed it.
        #[arg(value_name = "LOCK_ID")]
        lock_id: String,
    },
    /// Take an existing resource into state at ADDR (declared in the stack) without
    /// creating anything; the next plan shows how it differs from the stack, and apply
    /// adds the ownership tags. The one-off form of an `import:` entry.
    Import {
        #[command(flatten)]
        env: EnvArgs,
        /// The resource's address in the stack (one instance, for `for_each` or `count`).
        #[arg(value_name = "ADDR")]
        address: String,
        /// Its ID in AWS (bucket name, queue URL, VPC ID, role name, …).
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Print a shell completion script: `source <(cloudbridge completions bash)`. It
    /// completes commands and flags, environment names after `-e`, and the stack's
    /// addresses after `--target` and for `state`/`import` addresses.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: CompletionShell,
    },
    /// What the completion scripts ask for (not for people): `envs`, or `addresses -e ENV`.
    #[command(name = "__complete", hide = true)]
    Complete {
        /// `envs` or `addresses`.
        #[arg(value_name = "WHAT")]
        what: String,
        /// The environment whose stack's addresses to list.
        #[arg(short = 'e', long = "env", value_name = "ENV")]
        env: Option<String>,
    },
    /// Rewrite stack and env files in one shape: references in `{ }`/`[ ]` quoted, keys in
    /// their usual order, comments kept (a file that cannot keep them is left alone).
    Fmt {
        /// Only check: list the files that would change and exit 3 if there are any.
        #[arg(long)]
        check: bool,
        /// The files (default: every `stacks/**/*.yaml` and `envs/*.yaml`).
        #[arg(value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// List every resource type cloudbridge knows.
    Types {
        /// As the README's Markdown table (properties and attributes).
        #[arg(long)]
        markdown: bool,
    },
    /// Show what a resource type takes: each property's type, whether it is required or
    /// forces replacement, its default, allowed values and range, nested keys, and the
    /// attributes it has once created.
    Explain {
        /// The type, such as `aws.dms.replication_task`.
        #[arg(value_name = "TYPE")]
        type_name: String,
    },
    /// Print a JSON Schema of stack files (or of environment files), for editors: add
    /// `# yaml-language-server: $schema=<file>` to the top of a stack.
    Schema {
        /// The schema of environment files instead.
        #[arg(long)]
        env: bool,
    },
    /// Prepare the state backend: create the S3 state bucket if missing (versioned, encrypted, private).
    Init {
        #[command(flatten)]
        env: EnvArgs,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Human,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

/// The completion script for `shell`: clap's, with env names and addresses completed
/// from the project (`cloudbridge __complete`), never from AWS.
pub fn completions(shell: CompletionShell) -> String {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    let generator = match shell {
        CompletionShell::Bash => clap_complete::Shell::Bash,
        CompletionShell::Zsh => clap_complete::Shell::Zsh,
        CompletionShell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(generator, &mut cmd, "cloudbridge", &mut buf);
    let script = String::from_utf8_lossy(&buf).into_owned();
    match shell {
        CompletionShell::Bash => format!("{script}\n{BASH_DYNAMIC}"),
        CompletionShell::Zsh => {
            let script = script
                .replace(":ENV:_default", ":ENV:_cloudbridge_envs")
                .replace(":ADDR:_default", ":ADDR:_cloudbridge_addresses")
                .replace(":FROM:_default", ":FROM:_cloudbridge_addresses");
            format!("{ZSH_DYNAMIC}\n{script}")
        }
        CompletionShell::Fish => format!("{script}\n{FISH_DYNAMIC}"),
    }
}

const BASH_DYNAMIC: &str = r#"# Environment names and the stack's addresses, from the project (no AWS call).
_cloudbridge_env_of() {
    local i
    for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
        case "${COMP_WORDS[i]}" in
            -e|--env) echo "${COMP_WORDS[i+1]}"; return ;;
        esac
    done
}
# The words of $2 (one per line) that start with $1, quoted for the shell: an address
# such as queue["orders"] holds quotes and brackets.
_cloudbridge_words() {
    local cur="${1#[\'\"]}" w IFS=$'\n'
    COMPREPLY=()
    for w in $2; do
        [[ "$w" == "$cur"* ]] && COMPREPLY+=("$(printf '%q' "$w")")
    done
}
_cloudbridge_dynamic() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
    case "$prev" in
        -e|--env)
            _cloudbridge_words "$cur" "$(cloudbridge __complete envs 2>/dev/null)"
            return 0 ;;
        --target)
            _cloudbridge_words "$cur" "$(cloudbridge __complete addresses -e "$(_cloudbridge_env_of)" 2>/dev/null)"
            return 0 ;;
    esac
    case " ${COMP_WORDS[*]} " in
        *" state show "*|*" state mv "*|*" state rm "*|*" import "*)
            if [[ "$cur" != -* ]]; then
                _cloudbridge_words "$cur" "$(cloudbridge __complete addresses -e "$(_cloudbridge_env_of)" 2>/dev/null)"
                return 0
            fi ;;
    esac
    _cloudbridge "$@"
}
complete -F _cloudbridge_dynamic -o bashdefault -o default cloudbridge
"#;

const ZSH_DYNAMIC: &str = r#"#compdef cloudbridge
# Environment names and the stack's addresses, from the project (no AWS call).
_cloudbridge_envs() {
    local -a envs
    envs=(${(f)"$(cloudbridge __complete envs 2>/dev/null)"})
    _describe 'environment' envs
}
_cloudbridge_addresses() {
    local -a addrs
    local env=${opt_args[-e]:-${opt_args[--env]}}
    addrs=(${(f)"$(cloudbridge __complete addresses -e "$env" 2>/dev/null)"})
    _describe 'address' addrs
}"#;

const FISH_DYNAMIC: &str = r#"# Environment names and the stack's addresses, from the project (no AWS call).
function __cloudbridge_env
    set -l words (commandline -opc)
    for i in (seq (count $words))
        if contains -- $words[$i] -e --env
            echo $words[(math $i + 1)]
            return
        end
    end
end
complete -c cloudbridge -s e -l env -x -a '(cloudbridge __complete envs 2>/dev/null)'
complete -c cloudbridge -l target -x -a '(cloudbridge __complete addresses -e (__cloudbridge_env) 2>/dev/null)'
"#;

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the addresses in state.
    List {
        #[command(flatten)]
        env: EnvArgs,
    },
    /// Show one resource from state.
    Show {
        #[command(flatten)]
        env: EnvArgs,
        /// The address, as `state list` prints it (quote `queue["orders"]` for the shell).
        #[arg(value_name = "ADDR")]
        address: String,
    },
    /// Give a resource in state a new address (a rename in the stack), touching nothing in
    /// AWS: the one-off form of a `moved:` entry.
    Mv {
        #[command(flatten)]
        env: EnvArgs,
        /// The address now in state: a resource, one instance, or all of a resource's.
        #[arg(value_name = "FROM")]
        from: String,
        /// The new address.
        #[arg(value_name = "TO")]
        to: String,
    },
    /// Forget resources without deleting them in AWS: the one-off form of `removed:`.
    Rm {
        #[command(flatten)]
        env: EnvArgs,
        /// Addresses in state (a resource's name stands for all its instances).
        #[arg(value_name = "ADDR", required = true)]
        addresses: Vec<String>,
    },
    /// Print the state as JSON.
    Pull {
        #[command(flatten)]
        env: EnvArgs,
    },
    /// Replace the state with FILE: only state of this stack and environment, of the same
    /// lineage, and not older than the state it replaces.
    Push {
        #[command(flatten)]
        env: EnvArgs,
        /// A state file, as `state pull` prints it.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

/// Exit code of a usage error. Not clap's 2: under `--detailed-exitcode` 2 means "the plan
/// has changes", and a typo in a CI job must not read as that.
pub const USAGE_ERROR: i32 = 1;

/// Terraform spells long flags with one dash (`-out=tfplan`, `-detailed-exitcode`,
/// `-target=x`). Each argument that is one of this CLI's long flags written that way is
/// read as the long flag; anything else (short flags such as `-e`, values) is left alone.
pub fn normalize_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    use clap::CommandFactory;
    fn longs(cmd: &clap::Command, out: &mut Vec<String>) {
        out.extend(cmd.get_arguments().filter_map(|a| a.get_long().map(str::to_string)));
        for sub in cmd.get_subcommands() {
            longs(sub, out);
        }
    }
    let mut known = Vec::new();
    longs(&Cli::command(), &mut known);
    let mut out = Vec::new();
    let mut rest = false;
    for arg in args {
        let rewritten = match arg.to_str() {
            _ if rest => None,
            Some("--") => {
                rest = true;
                None
            }
            Some(s) if s.len() > 2 && s.starts_with('-') && !s.starts_with("--") => {
                let name = s[1..].split('=').next().unwrap_or_default();
                known.iter().any(|k| k == name).then(|| format!("-{s}").into())
            }
            _ => None,
        };
        out.push(rewritten.unwrap_or(arg));
    }
    out
}

/// Parse the command line. `Err` holds what to print and the exit code: 0 for `--help`
/// and `--version`, [`USAGE_ERROR`] for every usage error.
pub fn parse(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<Cli, (String, i32)> {
    Cli::try_parse_from(normalize_args(args)).map_err(|e| {
        let code = if e.use_stderr() { USAGE_ERROR } else { 0 };
        (e.render().to_string(), code)
    })
}

/// Log filter for `-v`: cloudbridge's own events at the chosen level, the SDK's and the
/// HTTP stack's at most at INFO. Their DEBUG and TRACE events print request and response
/// bodies and signed headers (passwords, session tokens), which must never be shown.
pub fn log_filter(verbose: u8) -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::LevelFilter;
    let own = match verbose {
        0 => LevelFilter::WARN,
        1 => LevelFilter::INFO,
        2 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    tracing_subscriber::filter::Targets::new().with_default(own.min(LevelFilter::INFO)).with_target("cloudbridge", own)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<std::ffi::OsString> {
        line.split_whitespace().map(Into::into).collect()
    }

    #[test]
    fn terraform_single_dash_long_flags_are_read_as_long_flags() {
        let got = normalize_args(args("cloudbridge plan -e prod -detailed-exitcode -out=tf.plan -target x -v -- -out"));
        assert_eq!(
            got,
            args("cloudbridge plan -e prod --detailed-exitcode --out=tf.plan --target x -v -- -out"),
            "short flags, values and everything after `--` stay as written"
        );
        let cli = parse(args("cloudbridge plan -e prod -detailed-exitcode -out=tf.plan -target=db")).unwrap();
        match cli.command {
            Command::Plan { detailed_exitcode, out, plan, .. } => {
                assert!(detailed_exitcode);
                assert_eq!(out.unwrap(), PathBuf::from("tf.plan"));
                assert_eq!(plan.targets, vec!["db".to_string()]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_flag_and_argument_of_every_command_says_what_it_is() {
        use clap::CommandFactory;
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                if a.get_help().is_none() && !["help", "version"].contains(&a.get_id().as_str()) {
                    missing.push(format!("{path} {}", a.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() && sub.get_name() != "help" {
                    missing.push(format!("{path} {} (the command)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "cloudbridge", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:#?}");
        let destroy = Cli::command()
            .find_subcommand("destroy")
            .map(|d| d.get_arguments().map(|a| a.get_id().to_string()).collect::<Vec<_>>());
        assert!(!destroy.unwrap_or_default().contains(&"refresh_only".to_string()), "destroy has no --refresh-only");
    }

    #[test]
    fn usage_errors_exit_1_never_2() {
        for line in [
            "cloudbridge plan -e prod --detailed-exitcod",
            "cloudbridge plan -e prod --parallelism 0",
            "cloudbridge plan",
            "cloudbridge plan -e",
            "cloudbridge nonsense",
            "cloudbridge plan -e prod -bogus-flag",
        ] {
            let (msg, code) = parse(args(line)).unwrap_err();
            assert_eq!(code, USAGE_ERROR, "{line}: {msg}");
            assert!(msg.starts_with("error:"), "{line}: {msg}");
        }
        assert_eq!(parse(args("cloudbridge --version")).unwrap_err().1, 0);
        assert_eq!(parse(args("cloudbridge plan --help")).unwrap_err().1, 0);
    }

    #[test]
    fn sdk_and_http_logs_never_go_below_info() {
        let f = log_filter(3);
        let enabled = |target: &str, level| f.would_enable(target, &level);
        assert!(enabled("cloudbridge::provider", tracing::Level::TRACE));
        for target in ["aws_smithy_runtime::client::orchestrator", "aws_sigv4::http_request", "hyper::proto", "h2"] {
            assert!(!enabled(target, tracing::Level::DEBUG), "{target}");
            assert!(enabled(target, tracing::Level::INFO), "{target}");
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Debug, Subcommand)]
pub enum IamCommand {
    /// Why each statement of a role's generated policy is there: the data paths that need
    /// it (or, for a role that writes its own, the paths it acts on).
    Explain {
        #[command(flatten)]
        env: EnvArgs,
        /// The role's address in the stack.
        #[arg(value_name = "ROLE")]
        role: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Markdown,
}
