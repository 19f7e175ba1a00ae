//! Command-line flags (clap). Parsed into these raw structs, then turned into validated
//! requests by `commands`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "cloudbridge",
    version,
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
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the stack and environment files; makes no AWS call.
    Validate {
        #[command(flatten)]
        env: EnvArgs,
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
        /// Print the plan as JSON on stdout.
        #[arg(long)]
        json: bool,
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
        #[arg(short = 'e', long = "env", value_name = "ENV")]
        env: Option<String>,
        #[arg(long, value_name = "FILE")]
        stack: Option<PathBuf>,
        #[command(flatten)]
        plan: PlanArgs,
        /// Do not ask for confirmation.
        #[arg(long)]
        auto_approve: bool,
    },
    /// Delete everything in state, in reverse dependency order.
    Destroy {
        #[command(flatten)]
        env: EnvArgs,
        #[command(flatten)]
        plan: PlanArgs,
        #[arg(long)]
        auto_approve: bool,
    },
    /// Print outputs from state (one raw value with NAME).
    Output {
        #[command(flatten)]
        env: EnvArgs,
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Print the dependency graph as Graphviz DOT.
    Graph {
        #[command(flatten)]
        env: EnvArgs,
    },
    /// Inspect state.
    State {
        #[command(subcommand)]
        command: StateCommand,
    },
    /// Remove a lock left behind by a run that died (S3 backend).
    ForceUnlock {
        #[command(flatten)]
        env: EnvArgs,
        #[arg(value_name = "LOCK_ID")]
        lock_id: String,
    },
    /// Prepare the state backend: create the S3 state bucket if missing (versioned, encrypted, private).
    Init {
        #[command(flatten)]
        env: EnvArgs,
    },
}

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
        #[arg(value_name = "ADDR")]
        address: String,
    },
}
