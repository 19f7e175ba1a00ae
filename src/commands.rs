//! Runs the commands: each loads the workspace, opens state, and drives the stages.
//! Library code returns typed errors; [`CliError`] is rendered only by `main`.

use crate::cli::{Cli, Command, EnvArgs, PlanArgs, StateCommand};
use crate::config::{Backend, Env};
use crate::diag::Diagnostic;
use crate::engine::{self, ApplyOptions, Progress};
use crate::plan::{self, Plan, PlanRequest};
use crate::provider::{aws, Interrupt, Provider};
use crate::state::{self, LocalStore, S3Store, State, StateError, StateStore};
use crate::workspace::{self, Workspace};
use serde_json::{json, Value};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Process exit codes (documented in the README).
pub mod exit {
    pub const OK: i32 = 0;
    pub const ERROR: i32 = 1;
    /// `plan --detailed-exitcode`: the plan has changes.
    pub const CHANGES: i32 = 2;
    /// Stopped by SIGINT/SIGTERM (128 + SIGINT, as shells do).
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{} error{} in the configuration", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Diagnostics(Vec<Diagnostic>),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Refresh(#[from] engine::RefreshError),
    #[error("{summary}")]
    Message { summary: String, hints: Vec<String> },
    /// Apply (or destroy, when `destroy`) finished with failures; the details were
    /// already printed.
    #[error("{} failed: {summary}", if *.destroy { "destroy" } else { "apply" })]
    ApplyFailed { summary: String, destroy: bool },
    /// Stopped by an interrupt; what was done is in state.
    #[error("interrupted: {0}")]
    Interrupted(String),
}

impl CliError {
    fn msg(summary: impl Into<String>, hint: impl Into<String>) -> CliError {
        CliError::Message { summary: summary.into(), hints: vec![hint.into()] }
    }

    pub fn hints(&self) -> Vec<String> {
        match self {
            CliError::State(e) => e.hints(),
            CliError::Refresh(_) => {
                vec!["check your AWS credentials and region, then run the command again".into()]
            }
            CliError::Message { hints, .. } => hints.clone(),
            CliError::ApplyFailed { destroy: false, .. } => {
                vec!["fix the errors above and run `cloudbridge apply` again; completed changes are recorded in state"
                    .into()]
            }
            CliError::ApplyFailed { destroy: true, .. } => {
                vec!["fix the errors above and run `cloudbridge destroy` again; what was deleted is recorded in state"
                    .into()]
            }
            CliError::Interrupted(_) => {
                vec!["run the same command again to continue; completed changes are recorded in state".into()]
            }
            CliError::Diagnostics(_) => Vec::new(),
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Interrupted(_) => exit::INTERRUPTED,
            _ => exit::ERROR,
        }
    }
}

/// What to do about a SIGINT/SIGTERM: the first stops new work, the second exits.
#[derive(Debug, PartialEq)]
pub enum OnSignal {
    Continue(String),
    Exit(String),
}

/// Decide on a signal and say so: what is in flight, and how to clean up after an exit.
pub fn on_signal(interrupt: &Interrupt, force_unlock: Option<&str>) -> OnSignal {
    let running = interrupt.in_flight();
    if interrupt.request() {
        let mut msg = String::from("Second interrupt: exiting now.");
        if !running.is_empty() {
            msg.push_str(&format!(
                "\nThese operations may still be running in AWS, and are not recorded in state: {}. \
                 The next apply adopts them where it can (resources named by the stack); check the others in the AWS console.",
                running.join(", ")
            ));
        }
        if let Some(cmd) = force_unlock {
            msg.push_str(&format!("\nThe state lock was not released: run `{cmd}` once nothing is running."));
        }
        return OnSignal::Exit(msg);
    }
    OnSignal::Continue(if running.is_empty() {
        "Interrupt received: stopping. Interrupt again to exit at once.".to_string()
    } else {
        format!(
            "Interrupt received: no new operations will start. Waiting for the calls in flight ({}) to return, \
             then saving state and releasing the lock. Interrupt again to exit at once.",
            running.join(", ")
        )
    })
}

/// Catch SIGINT and SIGTERM (a cancelled CI job sends SIGTERM) for as long as the state
/// lock is held; see [`on_signal`].
fn install_interrupts(interrupt: Interrupt, force_unlock: Option<String>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            #[cfg(unix)]
            let terminated = async {
                match term.as_mut() {
                    Some(t) => {
                        t.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            #[cfg(not(unix))]
            let terminated = std::future::pending::<()>();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminated => {}
            }
            match on_signal(&interrupt, force_unlock.as_deref()) {
                OnSignal::Continue(msg) => eprintln!("\n{msg}"),
                OnSignal::Exit(msg) => {
                    eprintln!("\n{msg}");
                    std::process::exit(exit::INTERRUPTED);
                }
            }
        }
    })
}

type Result<T> = std::result::Result<T, CliError>;

/// Apply progress on stderr. On a terminal, what is in flight is one status line,
/// rewritten every second; elsewhere (CI logs) a plain line per resource now and then.
struct Console {
    tty: bool,
}

impl Console {
    fn new() -> Console {
        Console { tty: std::io::stderr().is_terminal() }
    }

    fn heartbeat(&self) -> Duration {
        Duration::from_secs(if self.tty { 1 } else { 15 })
    }
}

/// `4m10s`, `35s`, `1h2m`.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, sec) => format!("{m}m{sec}s"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}

impl Progress for Console {
    /// Lines carry IDs, AWS's and a database's messages and statuses: each is made
    /// printable ([`crate::diag::printable`]) and kept to one line.
    fn line(&self, text: &str) {
        if self.tty {
            eprint!("\r\x1b[2K");
        }
        eprintln!("{}", crate::diag::printable(text));
    }

    fn in_flight(&self, items: &[engine::InFlight]) {
        let status =
            |i: &engine::InFlight| if i.status.is_empty() { String::new() } else { format!(", status: {}", i.status) };
        if self.tty {
            let parts: Vec<String> =
                items.iter().map(|i| format!("{} ({}{})", i.address, human_duration(i.elapsed), status(i))).collect();
            let mut text = format!("{} in progress: {}", items.len(), parts.join(", "));
            let width = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(120usize);
            if text.chars().count() > width {
                text = text.chars().take(width.saturating_sub(1)).collect::<String>() + "…";
            }
            eprint!("\r\x1b[2K{}", crate::diag::printable(&text).replace('\n', " "));
            let _ = std::io::stderr().flush();
        } else {
            for i in items {
                let line = format!(
                    "{}: Still {}... [{} elapsed{}]",
                    i.address,
                    i.kind.gerund(),
                    human_duration(i.elapsed),
                    status(i)
                );
                eprintln!("{}", crate::diag::printable(&line).replace('\n', " "));
            }
        }
    }
}

/// `apply --json`: each step's moment as one JSON object per line on stdout (the text
/// lines still go to stderr, for a human watching the log).
struct JsonLines<'a> {
    console: &'a Console,
}

impl Progress for JsonLines<'_> {
    fn line(&self, text: &str) {
        self.console.line(text);
    }

    fn in_flight(&self, items: &[engine::InFlight]) {
        let items: Vec<serde_json::Value> = items
            .iter()
            .map(|i| json!({ "address": i.address, "action": i.kind.gerund(), "elapsed_seconds": i.elapsed.as_secs(), "status": i.status }))
            .collect();
        println!("{}", json!({ "type": "progress", "in_flight": items }));
    }

    fn event(&self, event: &engine::Event) {
        println!("{}", serde_json::to_string(event).unwrap_or_default());
    }
}

/// The last line of `apply --json`: how it ended and what it did.
fn json_summary(outcome: &str, added: usize, changed: usize, destroyed: usize, failed: usize, not_applied: usize) {
    println!(
        "{}",
        json!({ "type": "summary", "outcome": outcome, "added": added, "changed": changed, "destroyed": destroyed, "failed": failed, "not_applied": not_applied })
    );
}

/// An apply's plan: as text on stdout, or as the first JSON line of `apply --json`.
fn show_plan(plan: &Plan, pa: &PlanArgs, findings: &[Diagnostic]) {
    if pa.json_events {
        println!("{}", json!({ "type": "plan", "plan": plan::contract(plan, &aws::catalog(), findings) }));
    } else {
        print!("{}", plan::render(plan, &aws::catalog()));
    }
}

pub async fn run(cli: Cli) -> Result<i32> {
    let dir = cli.dir.clone();
    if !dir.is_dir() {
        return Err(CliError::msg(
            format!("`-C {}`: there is no such directory", dir.display()),
            "give the project directory, the one holding `envs/` and `stacks/`",
        ));
    }
    match cli.command {
        Command::Validate { env } => {
            let ws = load(&dir, &env, Purpose::Converge)?;
            eprintln!(
                "Success! `{}` is valid for environment `{}` ({} resources, {} outputs).",
                ws.stack.file.display(),
                ws.env.name,
                ws.stack.resources.len(),
                ws.stack.outputs.len()
            );
            Ok(exit::OK)
        }
        Command::Check { env, format, json, live } => {
            let format = if json { crate::cli::CheckFormat::Json } else { format };
            let findings = match workspace::load(&dir, &env.env, env.stack.as_deref(), &env.inputs(), &aws::catalog()) {
                Ok(ws) if live => {
                    let mut found = ws.stack.warnings.clone();
                    found.extend(check_live(&ws).await?);
                    found
                }
                Ok(ws) => ws.stack.warnings,
                Err(d) => d,
            };
            let errors = findings.iter().any(|d| d.severity == crate::diag::Severity::Error);
            match format {
                crate::cli::CheckFormat::Human if findings.is_empty() => eprintln!("No findings."),
                crate::cli::CheckFormat::Human => eprintln!("{}", crate::diag::Diagnostics(findings.clone()).sorted()),
                crate::cli::CheckFormat::Json => println!("{}", crate::rules::json(&findings)),
                crate::cli::CheckFormat::Sarif => println!("{}", crate::rules::sarif(&findings)),
            }
            Ok(if errors { exit::ERROR } else { exit::OK })
        }
        Command::Cost { env, json } => {
            let ws = load(&dir, &env, Purpose::ReadOrDestroy)?;
            let store = open_store(&ws.dir, &ws.env, &ws.stack.name).await?;
            let lock = store.lock("plan").await?;
            let pa = PlanArgs {
                targets: Vec::new(),
                parallelism: 10,
                refresh_only: false,
                allow_resnapshot: true,
                json_events: false,
            };
            let result = make_plan(&ws, store.as_ref(), &pa, false).await;
            store.unlock(&lock).await?;
            // `make_plan` estimates the cost of every plan.
            let (plan, _, _) = result?;
            if json {
                let contract = plan::contract(&plan, &aws::catalog(), &[]);
                println!("{}", serde_json::to_string_pretty(&contract["cost"]).unwrap_or_default());
            } else {
                print!("{}", plan.cost.as_ref().map(crate::plan::breakdown).unwrap_or_default());
            }
            Ok(exit::OK)
        }
        Command::Show { plan_file, json, format } => {
            let format = if json { crate::cli::PlanFormat::Json } else { format };
            let bytes = std::fs::read(&plan_file).map_err(|e| {
                CliError::msg(format!("cannot read the plan file `{}`: {e}", plan_file.display()), "check the path")
            })?;
            let plan = plan::open(&bytes, &plan_file, &aws::catalog()).map_err(CliError::Diagnostics)?;
            match format {
                crate::cli::PlanFormat::Json => println!("{}", plan_json(&plan, &[])),
                crate::cli::PlanFormat::Markdown => print!("{}", plan::markdown(&plan, &aws::catalog(), &[])),
                crate::cli::PlanFormat::Text => print!("{}", plan::render(&plan, &aws::catalog())),
            }
            Ok(exit::OK)
        }
        Command::Graph { env, data_paths: true, format } => {
            let ws = load(&dir, &env, Purpose::ReadOrDestroy)?;
            let paths = crate::config::paths::derive(&crate::config::paths::Model::new(&ws.stack.resources));
            match format {
                crate::cli::GraphFormat::Dot => print!("{}", crate::config::paths::dot(&paths)),
                crate::cli::GraphFormat::Mermaid => print!("{}", crate::config::paths::mermaid(&paths)),
            }
            Ok(exit::OK)
        }
        Command::Graph { env, data_paths: false, format } => {
            let ws = load(&dir, &env, Purpose::ReadOrDestroy)?;
            let label = |n: &str| {
                let ty = ws.stack.resource(n).map(|r| r.ty.name).unwrap_or("?");
                match format {
                    crate::cli::GraphFormat::Dot => format!("{}\\n{ty}", crate::draw::dot(n)),
                    crate::cli::GraphFormat::Mermaid => format!("{n}<br/>{ty}"),
                }
            };
            match format {
                crate::cli::GraphFormat::Dot => print!("{}", ws.graph.to_dot(label)),
                crate::cli::GraphFormat::Mermaid => print!("{}", ws.graph.to_mermaid(label)),
            }
            Ok(exit::OK)
        }
        Command::Iam { command: crate::cli::IamCommand::Explain { env, role } } => {
            let ws = load(&dir, &env, Purpose::ReadOrDestroy)?;
            print!(
                "{}",
                crate::config::iam_explain(&ws.stack, &role).map_err(|(what, hint)| CliError::msg(what, hint))?
            );
            Ok(exit::OK)
        }
        Command::Plan { env, plan: pa, out: _, json, format: _, detailed_exitcode, destroy: _ } if pa.refresh_only => {
            let ws = load(&dir, &env, Purpose::ReadOrDestroy)?;
            let store = open_store(&ws.dir, &ws.env, &ws.stack.name).await?;
            let lock = store.lock("plan").await?;
            let result = refresh_drift(&ws, store.as_ref()).await;
            store.unlock(&lock).await?;
            let (drift, _, _) = result?;
            if json {
                println!("{}", serde_json::to_string_pretty(&drift).unwrap_or_default());
            } else {
                print!("{}", plan::render_drift(&drift));
            }
            Ok(if detailed_exitcode && !drift.is_empty() { exit::CHANGES } else { exit::OK })
        }
        Command::Plan { env, plan: pa, out, json, format, detailed_exitcode, destroy } => {
            let format = if json { crate::cli::PlanFormat::Json } else { format };
            let refused = |e: CliError| {
                // A bot reading `--json` gets the refusal as JSON too (and people on stderr).
                if let (crate::cli::PlanFormat::Json, CliError::Diagnostics(d)) = (format, &e) {
                    let errors: Vec<Value> = d.iter().map(crate::rules::finding).collect();
                    println!(
                        "{}",
                        json!({ "format_version": plan::JSON_FORMAT_VERSION, "refused": true, "errors": errors })
                    );
                }
                e
            };
            let ws =
                load(&dir, &env, if destroy { Purpose::ReadOrDestroy } else { Purpose::Converge }).map_err(refused)?;
            let store = open_store(&ws.dir, &ws.env, &ws.stack.name).await?;
            let lock = store.lock("plan").await?;
            let result = make_plan(&ws, store.as_ref(), &pa, destroy).await;
            store.unlock(&lock).await?;
            let (plan, _, _) = result.map_err(refused)?;
            if let Some(path) = &out {
                std::fs::write(path, plan::seal(&plan, &aws::catalog())).map_err(|e| {
                    CliError::msg(format!("cannot write the plan to `{}`: {e}", path.display()), "check the path")
                })?;
            }
            if format == crate::cli::PlanFormat::Json {
                println!("{}", plan_json(&plan, &ws.stack.warnings));
            } else if format == crate::cli::PlanFormat::Markdown {
                print!("{}", plan::markdown(&plan, &aws::catalog(), &ws.stack.warnings));
            } else {
                print!("{}", plan::render(&plan, &aws::catalog()));
                if let Some(path) = &out {
                    eprintln!(
                        "\nSaved the plan to {}. To perform exactly these actions, run:\n  cloudbridge apply {}",
                        path.display(),
                        path.display()
                    );
                }
            }
            Ok(if detailed_exitcode && plan.has_changes() { exit::CHANGES } else { exit::OK })
        }
        Command::Apply { plan_file: Some(file), env, stack, vars, var_files, auto_approve: _, json, plan: mut pa } => {
            pa.json_events = json;
            let inputs = crate::workspace::VarInputs::new(&vars, &var_files, std::env::vars());
            apply_saved(&dir, &file, env.as_deref(), stack.as_deref(), &inputs, &pa).await
        }
        Command::Apply { plan_file: None, env, stack, vars, var_files, plan: mut pa, auto_approve, json } => {
            pa.json_events = json;
            let Some(env) = env else {
                return Err(CliError::msg("`apply` needs an environment", "pass `-e ENV`, or a saved plan file"));
            };
            let purpose = if pa.refresh_only { Purpose::ReadOrDestroy } else { Purpose::Converge };
            let ws = load(&dir, &EnvArgs { env, stack, vars, var_files }, purpose)?;
            apply_live(&ws, &pa, auto_approve, false).await
        }
        Command::Destroy { env, targets, parallelism, auto_approve } => {
            let pa =
                PlanArgs { targets, parallelism, refresh_only: false, allow_resnapshot: false, json_events: false };
            let ws = load(&dir, &env, Purpose::ReadOrDestroy)?;
            apply_live(&ws, &pa, auto_approve, true).await
        }
        Command::Output { env, name, json } => {
            let (_, state) = read_state_only(&dir, &env).await?;
            print_outputs(&state, name.as_deref(), json)
        }
        Command::State { command } => match command {
            StateCommand::List { env } => {
                let (_, state) = read_state_only(&dir, &env).await?;
                for r in &state.resources {
                    println!("{}", r.address);
                }
                Ok(exit::OK)
            }
            StateCommand::Show { env, address } => {
                let (_, state) = read_state_only(&dir, &env).await?;
                let Some(r) = state.get(&address) else {
                    let names: Vec<&str> = state.resources.iter().map(|r| r.address.as_str()).collect();
                    return Err(CliError::msg(
                        format!("no resource `{address}` in state"),
                        match crate::config::suggest(&address, names.iter().copied()) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => "see `cloudbridge state list`".into(),
                        },
                    ));
                };
                println!("{}", serde_json::to_string_pretty(r).unwrap_or_default());
                Ok(exit::OK)
            }
            StateCommand::Pull { env } => {
                let (_, state) = read_state_only(&dir, &env).await?;
                println!("{}", String::from_utf8_lossy(&state.to_json()));
                Ok(exit::OK)
            }
            StateCommand::Mv { env, from, to } => {
                let (from, to) = (address_arg(&from)?, address_arg(&to)?);
                change_state(&dir, &env, "state mv", |state| {
                    let moved = state.move_address(&from, &to).map_err(|why| {
                        CliError::msg(format!("cannot move `{from}` to `{to}`: {why}"), "see `cloudbridge state list`")
                    })?;
                    Ok(moved.iter().map(|(a, b)| format!("Moved {a} to {b}.")).collect())
                })
                .await
            }
            StateCommand::Rm { env, addresses } => {
                let addresses = addresses.iter().map(|a| address_arg(a)).collect::<Result<Vec<_>>>()?;
                change_state(&dir, &env, "state rm", |state| {
                    let mut said = Vec::new();
                    for a in &addresses {
                        let gone = state.forget(a).map_err(|why| {
                            CliError::msg(format!("cannot remove `{a}`: {why}"), "see `cloudbridge state list`")
                        })?;
                        said.extend(
                            gone.iter().map(|(a, id)| format!("Removed {a} from state; it stays in AWS [id={id}].")),
                        );
                    }
                    Ok(said)
                })
                .await
            }
            StateCommand::Push { env, file } => {
                // As every path on the command line: relative to the project directory.
                let bytes = std::fs::read(dir.join(&file)).map_err(|e| {
                    CliError::msg(format!("cannot read `{}`: {e}", file.display()), "give a file `state pull` wrote")
                })?;
                let pushed = State::from_json(&bytes, &file.display().to_string())?;
                change_state(&dir, &env, "state push", |state| {
                    if (pushed.stack.as_str(), pushed.env.as_str()) != (state.stack.as_str(), state.env.as_str()) {
                        return Err(CliError::msg(
                            format!(
                                "`{}` is the state of stack `{}` in environment `{}`, not of stack `{}` in `{}`",
                                file.display(),
                                pushed.stack.escape_debug(),
                                pushed.env.escape_debug(),
                                state.stack,
                                state.env
                            ),
                            "push only what `state pull` gave for this stack and environment",
                        ));
                    }
                    if pushed.lineage != state.lineage {
                        return Err(CliError::msg(
                            format!("`{}` is of another lineage ({}) than the state ({})", file.display(), pushed.lineage, state.lineage),
                            "a state of another lineage is another deployment's: push only what `state pull` gave for this one",
                        ));
                    }
                    if pushed.serial < state.serial {
                        return Err(CliError::msg(
                            format!("`{}` (serial {}) is older than the state (serial {})", file.display(), pushed.serial, state.serial),
                            "pull the state again, make the change there, and push that",
                        ));
                    }
                    let serial = state.serial;
                    *state = State { serial, ..pushed.clone() };
                    Ok(vec![format!("Pushed `{}` ({} resources).", file.display(), state.resources.len())])
                })
                .await
            }
        },
        Command::Import { env, address, id } => {
            let address = address_arg(&address)?;
            if id.trim().is_empty() || id.chars().any(char::is_control) {
                return Err(CliError::msg(
                    format!("`{}` is not an ID: it is empty or holds a control character", id.escape_debug()),
                    "give the resource's ID in AWS, on one line",
                ));
            }
            let ws = load(&dir, &env, Purpose::ReadOrDestroy)?;
            let Some(res) = ws.stack.resource(&address) else {
                let instances: Vec<&str> =
                    ws.stack.resources.iter().filter(|r| r.declared == address).map(|r| r.name.as_str()).collect();
                if let Some(first) = instances.first() {
                    return Err(CliError::msg(
                        format!("`{address}` has `for_each` or `count`: an import takes one instance"),
                        format!("import into one of its addresses, such as `{first}` (quote it for the shell)"),
                    ));
                }
                return Err(CliError::msg(
                    format!("`{address}` is not a resource of the stack"),
                    "declare it under `resources:` first, as it should be; import then takes the existing one into that address",
                ));
            };
            if let Some(why) = res.ty.not_importable() {
                return Err(CliError::msg(
                    format!("`{address}` is an `{}`, which {why}", res.ty.name),
                    "apply finds an existing one by the properties the stack gives it",
                ));
            }
            let wanted = vec![(address.clone(), res.ty.name.to_string(), id.clone())];
            let p = provider(&ws.env, ws.sources()).await?;
            let found = engine::read_imports(p.as_ref(), &aws::catalog(), &ws.stack.name, &ws.env.name, &wanted)
                .await
                .map_err(|problems| {
                    let (_, why) = problems.into_iter().next().unwrap_or_default();
                    CliError::msg(format!("cannot import `{address}`: {why}"), "check the ID")
                })?;
            let ty = res.ty.name;
            change_state(&dir, &env, "import", |state| {
                if let Some(r) = state.get(&address) {
                    return Err(CliError::msg(
                        format!("`{address}` is already in state [id={}]", r.id),
                        "to take another resource there, `cloudbridge state rm` it first",
                    ));
                }
                if let Some(r) = state.resources.iter().find(|r| r.ty == ty && r.id == id) {
                    return Err(CliError::msg(
                        format!("`{id}` is already in state as `{}`", r.address),
                        format!("to give it a new address, use `cloudbridge state mv '{}' '{address}'`", r.address),
                    ));
                }
                for r in &found {
                    state.put(r.clone());
                }
                Ok(vec![format!(
                    "Imported {address} [id={id}]. Run `cloudbridge plan -e {}` to see how it differs from the stack; apply adds the ownership tags.",
                    env.env
                )])
            })
            .await
        }
        Command::Fmt { check, files } => fmt_files(&dir, check, &files),
        Command::Completions { shell } => {
            print!("{}", crate::cli::completions(shell));
            Ok(exit::OK)
        }
        Command::Complete { what, env } => {
            // Quiet on any problem: a completion never prints errors into the prompt.
            let words: Vec<String> = match (what.as_str(), env) {
                ("envs", _) => workspace::env_names(&dir),
                ("addresses", Some(env)) => {
                    match workspace::load(&dir, &env, None, &Default::default(), &aws::catalog()) {
                        Ok(ws) => {
                            let mut all: Vec<String> = ws.stack.resources.iter().map(|r| r.name.clone()).collect();
                            all.extend(
                                ws.stack.resources.iter().filter(|r| r.declared != r.name).map(|r| r.declared.clone()),
                            );
                            all.sort();
                            all.dedup();
                            all
                        }
                        Err(_) => Vec::new(),
                    }
                }
                _ => Vec::new(),
            };
            for w in words {
                println!("{w}");
            }
            Ok(exit::OK)
        }
        Command::Types { markdown } => {
            let catalog = aws::catalog();
            print!(
                "{}",
                if markdown { crate::explain::readme_table(&catalog) } else { crate::explain::types(&catalog) }
            );
            Ok(exit::OK)
        }
        Command::Explain { type_name } => {
            let catalog = aws::catalog();
            let Some(ty) = catalog.lookup(&type_name) else {
                let names: Vec<&str> = catalog.types().iter().map(|t| t.name).collect();
                return Err(CliError::msg(
                    format!("`{type_name}` is not a resource type cloudbridge knows"),
                    match crate::config::suggest(&type_name, names.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "`cloudbridge types` lists them".into(),
                    },
                ));
            };
            print!("{}", crate::explain::explain(ty));
            Ok(exit::OK)
        }
        Command::Schema { env } => {
            let schema = if env { crate::explain::env_schema() } else { crate::explain::stack_schema(&aws::catalog()) };
            println!("{}", serde_json::to_string_pretty(&schema).unwrap_or_default());
            Ok(exit::OK)
        }
        Command::ForceUnlock { env, lock_id } => {
            let ws_env = workspace::load_env(&dir, &env.env).map_err(CliError::Diagnostics)?;
            let stack = stack_name(&dir, &env, &ws_env)?;
            let store = open_store(&dir, &ws_env, &stack).await?;
            store.force_unlock(&lock_id).await?;
            eprintln!("Lock `{lock_id}` on {} removed.", store.location());
            Ok(exit::OK)
        }
        Command::Init { env } => {
            let ws_env = workspace::load_env(&dir, &env.env).map_err(CliError::Diagnostics)?;
            init(&dir, &ws_env).await
        }
    }
}

/// What a command will do with the stack it loads.
#[derive(Clone, Copy, PartialEq)]
enum Purpose {
    /// Make AWS match the stack (validate, plan, apply): a stack with no resources is
    /// refused, as it would plan to delete everything the environment manages.
    Converge,
    /// Only read, or delete on purpose (graph, refresh-only, destroy).
    ReadOrDestroy,
}

fn load(dir: &Path, env: &EnvArgs, purpose: Purpose) -> Result<Workspace> {
    let ws = workspace::load(dir, &env.env, env.stack.as_deref(), &env.inputs(), &aws::catalog())
        .map_err(CliError::Diagnostics)?;
    if purpose == Purpose::Converge && ws.stack.resources.is_empty() {
        return Err(CliError::Diagnostics(vec![Diagnostic::error(
            "Empty stack",
            format!(
                "`{}` declares no resources: applying it would delete everything environment `{}` manages",
                ws.stack.file.display(),
                ws.env.name
            ),
        )
        .at(&crate::diag::Span::file(&ws.stack.file))
        .hint(format!(
            "declare resources under `resources:`; to delete everything on purpose, run `cloudbridge destroy -e {}`",
            ws.env.name
        ))]));
    }
    for w in &ws.stack.warnings {
        eprintln!("{w}\n");
    }
    Ok(ws)
}

/// `check --live`: the deployed Aurora clusters of state, read through the RDS Data API
/// as their master secret, judged by `live::judge`. A cluster without its HTTP endpoint
/// is named, not read.
async fn check_live(ws: &Workspace) -> Result<Vec<Diagnostic>> {
    let store = open_store(&ws.dir, &ws.env, &ws.stack.name).await?;
    let (state, _) = current_state(store.as_ref(), &ws.stack.name, &ws.env.name).await?;
    let text = |m: &serde_json::Map<String, serde_json::Value>, k: &str| {
        m.get(k).and_then(serde_json::Value::as_str).unwrap_or_default().to_string()
    };
    let mut targets = Vec::new();
    let mut out = Vec::new();
    for r in state.resources.iter().filter(|r| r.ty == "aws.rds.cluster") {
        if r.properties.get("enable_http_endpoint") != Some(&serde_json::Value::Bool(true)) {
            let d = Diagnostic::warning(
                "Not checked live",
                format!("`{}` has the RDS Data API off, so its database was not read", r.address),
            )
            .hint("set `enable_http_endpoint: true` on it to have `check --live` read it");
            out.push(crate::live::located(d, &ws.stack.resources, &r.address));
            continue;
        }
        let arn = text(&r.attributes, "arn");
        let on = |ty: &str, name: &str| -> Vec<(String, String)> {
            state
                .resources
                .iter()
                .filter(|x| x.ty == ty && text(&x.properties, "resource_arn") == arn)
                .map(|x| (x.address.clone(), text(&x.properties, name)))
                .collect()
        };
        targets.push(crate::live::Target {
            address: r.address.clone(),
            secret: text(&r.attributes, "master_user_secret_arn"),
            database: text(&r.properties, "database_name"),
            users: on("aws.rdsdata.cdc_user", "username"),
            publications: on("aws.rdsdata.publication", "name"),
            arn,
        });
    }
    if targets.is_empty() && out.is_empty() {
        eprintln!("No deployed Aurora cluster in the state of `{}`: nothing to check live.", ws.env.name);
    }
    let config = sdk_config(&ws.env).await?;
    let clusters = aws::inspect_databases(&config, &targets).await.map_err(|e| {
        CliError::msg(
            format!("the live check could not read a database: {e}"),
            "check the credentials (rds-data:ExecuteStatement, secretsmanager:GetSecretValue on the master secret) and that the cluster is available",
        )
    })?;
    out.extend(crate::live::judge(&ws.stack.resources, &clusters));
    Ok(out)
}

/// The stack name without checking the stack (for commands that only touch state).
fn stack_name(dir: &Path, args: &EnvArgs, env: &Env) -> Result<String> {
    match workspace::load(dir, &env.name, args.stack.as_deref(), &args.inputs(), &aws::catalog()) {
        Ok(ws) => Ok(ws.stack.name),
        Err(d) => Err(CliError::Diagnostics(d)),
    }
}

/// The SDK configuration for this environment's resources: as its `assume_role`, if any.
async fn sdk_config(env: &Env) -> Result<aws_config::SdkConfig> {
    sdk_config_as(env, env.assume_role.as_ref()).await
}

async fn sdk_config_as(env: &Env, role: Option<&crate::config::AssumeRole>) -> Result<aws_config::SdkConfig> {
    let config = aws::load_config_as(env.region.as_deref(), env.endpoint.as_deref(), role).await;
    if !aws::has_region(&config) {
        return Err(CliError::msg(
            format!("no AWS region for environment `{}`", env.name),
            format!("set `region:` in {} or the AWS_REGION environment variable", env.file.display()),
        ));
    }
    Ok(config)
}

async fn open_store(dir: &Path, env: &Env, stack: &str) -> Result<Box<dyn StateStore>> {
    Ok(match &env.backend {
        Backend::Local { path } => Box::new(LocalStore::new(dir.join(state::expand(path, stack, &env.name)))),
        Backend::S3 { bucket, key, region, encrypt, assume_role } => {
            // The state may live in another account than the resources (operations).
            let config = sdk_config_as(env, assume_role.as_ref()).await?;
            let client = state::s3::client(&config, region.as_deref());
            Box::new(S3Store::new(client, bucket.clone(), state::expand(key, stack, &env.name), *encrypt, &env.name))
        }
    })
}

async fn provider(env: &Env, files: crate::files::Sources) -> Result<Arc<dyn Provider>> {
    Ok(Arc::new(aws::provider(&sdk_config(env).await?, files)))
}

/// State of another stack or another environment (a backend path without `{stack}` or
/// `{env}`) is refused: planning against it would replace and retag someone else's resources.
fn check_owner(store: &dyn StateStore, s: &State, stack: &str, env: &str) -> Result<()> {
    if s.stack != stack {
        return Err(StateError::WrongStack {
            origin: store.location(),
            found: s.stack.clone(),
            expected: stack.into(),
        }
        .into());
    }
    if s.env != env {
        return Err(
            StateError::WrongEnv { origin: store.location(), found: s.env.clone(), expected: env.into() }.into()
        );
    }
    Ok(())
}

/// Everything loaded state must be, checked the same way wherever state comes from (a
/// store, `state push`) or goes after surgery (`state mv/rm`): this stack's and env's
/// ([`check_owner`]), every type one this build knows (a type it does not know, say from a
/// newer cloudbridge, would be invisible to the plan), every address and dependency in
/// its one canonical spelling ([`State::problems`]).
fn check_loaded(store: &dyn StateStore, s: &State, stack: &str, env: &str) -> Result<()> {
    check_owner(store, s, stack, env)?;
    let mut diags: Vec<Diagnostic> = s
        .resources
        .iter()
        .filter(|r| aws::catalog().lookup(&r.ty).is_none())
        .map(|r| {
            Diagnostic::error(
                "Unknown resource type in state",
                format!(
                    "`{}` in {} has type `{}`, which this cloudbridge does not know",
                    r.address,
                    store.location(),
                    r.ty.escape_debug()
                ),
            )
            .hint("use the cloudbridge version that wrote this state")
        })
        .collect();
    diags.extend(s.problems().into_iter().map(|why| {
        Diagnostic::error("Invalid state", format!("{} {why}", store.location()))
            .hint("state holds only what cloudbridge wrote: restore the last good state (`state push` of what `state pull` gave)")
    }));
    if diags.is_empty() {
        Ok(())
    } else {
        Err(CliError::Diagnostics(diags))
    }
}

/// Read state (or start a new one) and check that it belongs to this stack.
async fn current_state(store: &dyn StateStore, stack: &str, env: &str) -> Result<(State, bool)> {
    match store.read().await? {
        Some(s) => {
            check_loaded(store, &s, stack, env)?;
            Ok((s, true))
        }
        None => Ok((State::new(stack, env), false)),
    }
}

/// Refresh and diff. Returns the plan, the refreshed state it was made against, and the
/// addresses in state whose resources no longer exist in AWS.
async fn make_plan(
    ws: &Workspace,
    store: &dyn StateStore,
    pa: &PlanArgs,
    destroy: bool,
) -> Result<(Plan, State, Vec<String>)> {
    let (state, existed) = current_state(store, &ws.stack.name, &ws.env.name).await?;
    let targets = plan::expand_targets(&pa.targets, &ws.graph, &state);
    // A mistyped `--target` is refused before minutes of refreshing.
    let unknown = plan::unknown_targets(&targets, &ws.stack, &ws.graph, &state);
    if !unknown.is_empty() {
        return Err(CliError::Diagnostics(unknown));
    }
    // One provider for every read of this plan (refresh, imports, data sources): its SDK
    // configuration, an assumed role and the rate limits are set up once, when first needed.
    let cloud = tokio::sync::OnceCell::new();
    let mut drift = Vec::new();
    let (refreshed, vanished) = if state.resources.is_empty() {
        (state, Vec::new())
    } else {
        let p = connect(&cloud, ws).await?;
        eprintln!(
            "Refreshing {} resource{} from AWS...",
            state.resources.len(),
            if state.resources.len() == 1 { "" } else { "s" }
        );
        let refreshed = engine::refresh(p.as_ref(), &aws::catalog(), &state).await?;
        drift = plan::drift(&state, &refreshed, &aws::catalog());
        let vanished =
            state.resources.iter().filter(|r| refreshed.get(&r.address).is_none()).map(|r| r.address.clone()).collect();
        (refreshed, vanished)
    };
    let imported = if destroy { Vec::new() } else { read_imports(ws, &refreshed, &cloud).await? };
    let data = if destroy || ws.stack.data.is_empty() {
        Vec::new()
    } else {
        let p = connect(&cloud, ws).await?;
        eprintln!("Reading {} data source{}...", ws.stack.data.len(), if ws.stack.data.len() == 1 { "" } else { "s" });
        engine::read_data(p.as_ref(), &ws.stack.data).await.map_err(|(address, why)| {
            let span = ws.stack.data.iter().find(|d| d.address == address).map(|d| d.span.clone());
            let d = Diagnostic::error("Data source not read", format!("`{address}`: {why}"))
                .hint("check its filter: a data source must find what it looks up");
            CliError::Diagnostics(vec![match span {
                Some(s) => d.at(&s),
                None => d,
            }])
        })?
    };
    let req = PlanRequest {
        stack: &ws.stack,
        graph: &ws.graph,
        state: &refreshed,
        env: &ws.env.name,
        default_tags: &ws.env.default_tags,
        targets: &targets,
        destroy,
        catalog: &aws::catalog(),
        imported: &imported,
        data: &data,
        allow_resnapshot: pa.allow_resnapshot,
    };
    let mut plan = plan::diff(&req).map_err(CliError::Diagnostics)?;
    plan.drift = drift;
    plan.targets = pa.targets.clone();
    plan.cost = Some(crate::plan::plan_cost(&plan, &crate::cost::Assumptions::new(&ws.env.cost)));
    // A new state has no serial yet; its lineage is the one the plan's ownership tags
    // name, and `apply PLANFILE` gives the state it starts that lineage.
    if !existed {
        plan.state_serial = None;
    }
    Ok((plan, refreshed, vanished))
}

/// What the stack's `import:` entries name in AWS, for those whose address is not in
/// state (after `moved:`): each is read once, and refused if another stack owns it.
/// The provider of `cell`, made on first use.
async fn connect<'a>(
    cell: &'a tokio::sync::OnceCell<Arc<dyn Provider>>,
    ws: &Workspace,
) -> Result<&'a Arc<dyn Provider>> {
    cell.get_or_try_init(|| provider(&ws.env, ws.sources())).await
}

async fn read_imports(
    ws: &Workspace,
    state: &State,
    cloud: &tokio::sync::OnceCell<Arc<dyn Provider>>,
) -> Result<Vec<state::ResourceState>> {
    let wanted = plan::wanted_imports(state, &ws.stack).map_err(CliError::Diagnostics)?;
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let p = connect(cloud, ws).await?;
    eprintln!("Reading {} resource{} to import...", wanted.len(), if wanted.len() == 1 { "" } else { "s" });
    engine::read_imports(p.as_ref(), &aws::catalog(), &ws.stack.name, &ws.env.name, &wanted).await.map_err(|problems| {
        CliError::Diagnostics(
            problems
                .into_iter()
                .map(|(address, why)| {
                    let d = Diagnostic::error("Import not possible", format!("`{address}`: {why}"))
                        .hint("check the ID in `import:`; an ID that another stack manages cannot be imported");
                    match ws.stack.imports.iter().find(|i| i.to == address) {
                        Some(i) => d.at(&i.span),
                        None => d,
                    }
                })
                .collect(),
        )
    })
}

async fn confirm(question: &str, auto_approve: bool, interrupt: &Interrupt) -> Result<()> {
    if auto_approve {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::msg(
            "refusing to ask for confirmation: standard input is not a terminal",
            "review the plan and pass `--auto-approve`, or apply a saved plan file",
        ));
    }
    eprint!("\n{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
    let _ = std::io::stderr().flush();
    let read = tokio::task::spawn_blocking(|| {
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer).map(|_| answer)
    });
    let answer = tokio::select! {
        r = read => r.map_err(|e| CliError::msg(format!("cannot read the answer: {e}"), "run again"))?
            .map_err(|e| CliError::msg(format!("cannot read the answer: {e}"), "run again"))?,
        _ = interrupt.requested() => return Err(CliError::Interrupted("nothing was changed".into())),
    };
    if answer.trim() != "yes" {
        return Err(CliError::msg("cancelled: nothing was changed", "answer `yes` to approve"));
    }
    Ok(())
}

/// The `force-unlock` command for a lock that can outlive its process (S3), for messages.
fn force_unlock_hint(env: &Env, lock: &state::LockInfo) -> Option<String> {
    matches!(env.backend, Backend::S3 { .. }).then(|| format!("cloudbridge force-unlock -e {} {}", env.name, lock.id))
}

/// Refresh, and compare with state: (drift, refreshed state, whether state existed).
async fn refresh_drift(ws: &Workspace, store: &dyn StateStore) -> Result<(Vec<plan::Drift>, State, bool)> {
    let (state, existed) = current_state(store, &ws.stack.name, &ws.env.name).await?;
    if state.resources.is_empty() {
        return Ok((Vec::new(), state, existed));
    }
    let p = provider(&ws.env, ws.sources()).await?;
    eprintln!("Refreshing {} resources from AWS...", state.resources.len());
    let refreshed = engine::refresh(p.as_ref(), &aws::catalog(), &state).await?;
    Ok((plan::drift(&state, &refreshed, &aws::catalog()), refreshed, existed))
}

/// `apply --refresh-only`: accept what changed outside cloudbridge into state.
async fn apply_refresh_only(ws: &Workspace, auto_approve: bool) -> Result<i32> {
    let store = open_store(&ws.dir, &ws.env, &ws.stack.name).await?;
    let lock = store.lock("apply -refresh-only").await?;
    let interrupt = Interrupt::default();
    let result = async {
        let (drift, mut refreshed, _) = refresh_drift(ws, store.as_ref()).await?;
        eprint!("{}", plan::render_drift(&drift));
        if drift.is_empty() {
            return Ok::<i32, CliError>(exit::OK);
        }
        confirm(
            &format!("Accept these changes into the state of `{}`? Nothing in AWS is changed.", ws.env.name),
            auto_approve,
            &interrupt,
        )
        .await?;
        refreshed.serial += 1;
        store.write(&refreshed).await?;
        eprintln!("\nState updated: {} resource{} refreshed.", drift.len(), if drift.len() == 1 { "" } else { "s" });
        Ok(exit::OK)
    }
    .await;
    let unlocked = store.unlock(&lock).await;
    let code = result?;
    unlocked?;
    Ok(code)
}

async fn apply_live(ws: &Workspace, pa: &PlanArgs, auto_approve: bool, destroy: bool) -> Result<i32> {
    if pa.refresh_only {
        return apply_refresh_only(ws, auto_approve).await;
    }
    let store = open_store(&ws.dir, &ws.env, &ws.stack.name).await?;
    let lock = store.lock(if destroy { "destroy" } else { "apply" }).await?;
    let interrupt = Interrupt::default();
    let handler = install_interrupts(interrupt.clone(), force_unlock_hint(&ws.env, &lock));
    let result = async {
        let (plan, mut state, vanished) = tokio::select! {
            r = make_plan(ws, store.as_ref(), pa, destroy) => r?,
            _ = interrupt.requested() => return Err(CliError::Interrupted("stopped while planning; nothing was changed".into())),
        };
        show_plan(&plan, pa, &ws.stack.warnings);
        if !plan.has_changes() {
            if pa.json_events {
                json_summary("no_changes", 0, 0, 0, 0, 0);
            }
            // Resources deleted outside cloudbridge (or by a destroy that was killed after
            // its delete call) leave state, so that state lists only what exists.
            if !vanished.is_empty() {
                state.serial += 1;
                store.write(&state).await?;
                eprintln!("Removed from state (no longer in AWS): {}", vanished.join(", "));
            }
            return Ok(exit::OK);
        }
        let question = if destroy {
            format!(
                "Do you really want to destroy all {} resources of `{}` in `{}`?",
                plan.count(plan::Action::Delete),
                ws.stack.name,
                ws.env.name
            )
        } else {
            format!("Do you want to perform these actions in `{}`?", ws.env.name)
        };
        confirm(&question, auto_approve, &interrupt).await?;
        execute(&plan, state, &ws.env, &ws.dir, store.as_ref(), pa, &interrupt).await
    }
    .await;
    let unlocked = store.unlock(&lock).await;
    handler.abort();
    let code = result?;
    unlocked?;
    Ok(code)
}

async fn apply_saved(
    dir: &Path,
    file: &Path,
    env: Option<&str>,
    stack: Option<&Path>,
    inputs: &crate::workspace::VarInputs,
    pa: &PlanArgs,
) -> Result<i32> {
    if stack.is_some() {
        return Err(CliError::msg(
            "`--stack` cannot be combined with a saved plan file",
            "the plan file already names its stack; apply it as it is, or make a new plan with `--stack`",
        ));
    }
    let bytes = std::fs::read(file).map_err(|e| {
        CliError::msg(format!("cannot read the plan file `{}`: {e}", file.display()), "check the path given to `apply`")
    })?;
    // Everything in it is checked before anything runs: digest, types, properties, graph.
    let plan = plan::open(&bytes, file, &aws::catalog()).map_err(CliError::Diagnostics)?;
    if let Some(e) = env {
        if e != plan.env {
            return Err(CliError::msg(
                format!("the plan file was made for environment `{}`, not `{e}`", plan.env),
                format!("run `cloudbridge apply {}` without `-e`, or make a new plan", file.display()),
            ));
        }
    }
    // Secrets are never written into a plan file: they are read from the stack again
    // (its env comes with it); otherwise the env alone is read.
    let mut plan = plan;
    let ws_env = if plan.changes.iter().any(|c| !c.withheld.is_empty()) {
        let ws = workspace::load(dir, &plan.env, Some(Path::new(&plan.stack_file)), inputs, &aws::catalog())
            .map_err(CliError::Diagnostics)?;
        plan::restore(&mut plan, &ws.stack).map_err(CliError::Diagnostics)?;
        ws.env
    } else {
        workspace::load_env(dir, &plan.env).map_err(CliError::Diagnostics)?
    };
    let store = open_store(dir, &ws_env, &plan.stack).await?;
    let lock = store.lock("apply").await?;
    let interrupt = Interrupt::default();
    let handler = install_interrupts(interrupt.clone(), force_unlock_hint(&ws_env, &lock));
    let result = async {
        let (mut state, existed) = current_state(store.as_ref(), &plan.stack, &plan.env).await?;
        let now = existed.then(|| (state.lineage.clone(), state.serial));
        let then = plan.state_lineage.clone().zip(plan.state_serial);
        if !existed {
            // The lineage the plan's ownership tags name.
            if let Some(lineage) = &plan.state_lineage {
                state.lineage = lineage.clone();
            }
        }
        if now != then {
            return Err(CliError::msg(
                format!("the saved plan `{}` is stale: the state changed since it was made", file.display()),
                "make a new plan with `cloudbridge plan --out FILE` and review it",
            ));
        }
        show_plan(&plan, pa, &[]);
        if !plan.has_changes() {
            if pa.json_events {
                json_summary("no_changes", 0, 0, 0, 0, 0);
            }
            return Ok(exit::OK);
        }
        execute(&plan, state, &ws_env, dir, store.as_ref(), pa, &interrupt).await
    }
    .await;
    let unlocked = store.unlock(&lock).await;
    handler.abort();
    let code = result?;
    unlocked?;
    Ok(code)
}

async fn execute(
    plan: &Plan,
    state: State,
    env: &Env,
    dir: &Path,
    store: &dyn StateStore,
    pa: &PlanArgs,
    interrupt: &Interrupt,
) -> Result<i32> {
    // The plan's `source` paths resolve from its stack's directory, through the same
    // layer (and `file_roots`) as at validate.
    let project = workspace::project(dir, env).map_err(CliError::Diagnostics)?;
    let provider = provider(env, crate::files::Sources { project, base: PathBuf::from(&plan.stack_dir) }).await?;
    eprintln!();
    let console = Console::new();
    let json_lines = JsonLines { console: &console };
    let progress: &dyn Progress = if pa.json_events { &json_lines } else { &console };
    let opts = ApplyOptions {
        catalog: aws::catalog(),
        parallelism: pa.parallelism as usize,
        heartbeat: console.heartbeat(),
        poll: poll_policy(),
        interrupt: interrupt.clone(),
    };
    let outcome = engine::apply(plan, state, provider, store, &opts, progress).await;
    if console.tty {
        eprint!("\r\x1b[2K");
    }
    let added = plan.count(plan::Action::Create) + plan.count(plan::Action::Replace);
    let changed = plan.count(plan::Action::Update);
    let destroyed = plan.count(plan::Action::Delete) + plan.count(plan::Action::Replace);
    if pa.json_events {
        let outcome_name = if outcome.state_error.is_some() {
            "state_error"
        } else if outcome.interrupted {
            "interrupted"
        } else if outcome.failures.is_empty() && outcome.skipped.is_empty() {
            "complete"
        } else {
            "failed"
        };
        json_summary(outcome_name, added, changed, destroyed, outcome.failures.len(), outcome.skipped.len());
    }
    if let Some(e) = outcome.state_error {
        return Err(e.into());
    }
    if outcome.interrupted {
        for f in &outcome.failures {
            eprintln!("\n{}", failure_diagnostic(plan, f));
        }
        let planned = plan.changes.iter().filter(|c| c.action != plan::Action::NoOp).count();
        let not_started = outcome.skipped.len();
        let done = planned.saturating_sub(not_started + outcome.failures.len());
        return Err(CliError::Interrupted(format!(
            "{done} of {planned} changes completed and saved in state; {not_started} not started"
        )));
    }
    if outcome.failures.is_empty() && outcome.skipped.is_empty() {
        if plan.destroy {
            eprintln!("\nDestroy complete! Resources: {destroyed} destroyed.");
        } else {
            eprintln!("\nApply complete! Resources: {added} added, {changed} changed, {destroyed} destroyed.");
            if !outcome.state.outputs.is_empty() {
                eprintln!("\nOutputs:\n");
                for (k, o) in &outcome.state.outputs {
                    eprintln!("{k} = {}", shown(o));
                }
            }
        }
        return Ok(exit::OK);
    }
    for f in &outcome.failures {
        eprintln!("\n{}", failure_diagnostic(plan, f));
    }
    eprintln!("\nerror: {} of the planned changes failed:", outcome.failures.len());
    for f in &outcome.failures {
        eprintln!("  - {}: {} failed", f.address, f.kind.verb());
    }
    for (addr, because) in &outcome.skipped {
        eprintln!("  - {addr}: not applied, because `{because}` did not complete");
    }
    Err(CliError::ApplyFailed {
        summary: format!("{} failed, {} not applied", outcome.failures.len(), outcome.skipped.len()),
        destroy: plan.destroy,
    })
}

/// A failed step as a diagnostic: where the resource is declared, AWS's code and message,
/// and a hint that fits the kind of error.
pub fn failure_diagnostic(plan: &Plan, f: &engine::Failure) -> crate::diag::Diagnostic {
    let mut d = crate::diag::Diagnostic::error(
        f.kind.failed(),
        format!("`{}`: {}: {}", f.address, f.error.code, f.error.message),
    );
    if let Some(span) = plan.change(&f.address).and_then(|c| c.location.as_ref()) {
        d = d.at(span);
    }
    if let Some(h) = f.error.kind.hint() {
        d = d.hint(h);
    }
    d
}

/// Polling of long operations. `CLOUDBRIDGE_POLL_INTERVAL` (e.g. `1s`) sets the first
/// interval; the emulator tests use it to wait briefly. Backoff grows to 30s at most.
fn poll_policy() -> crate::provider::PollPolicy {
    let mut p = crate::provider::PollPolicy::default();
    if let Some(secs) =
        std::env::var("CLOUDBRIDGE_POLL_INTERVAL").ok().and_then(|v| crate::schema::parse_duration(&v).ok())
    {
        p.initial = Duration::from_secs(secs);
        p.by_type = false;
    }
    p
}

/// `fmt`: format each file (relative to the project directory); print the ones that
/// change (or, with `check`, would), and exit 3 under `--check` if any would.
fn fmt_files(dir: &Path, check: bool, files: &[PathBuf]) -> Result<i32> {
    let files = if files.is_empty() { workspace::config_files(dir) } else { files.to_vec() };
    let mut diags = Vec::new();
    let mut changed = 0;
    for rel in &files {
        let kind = if rel.starts_with("envs") { crate::fmt::Kind::Env } else { crate::fmt::Kind::Stack };
        let text = workspace::read_config(dir, rel).map_err(|d| CliError::Diagnostics(vec![d]))?;
        match crate::fmt::format(&std::sync::Arc::new(rel.clone()), &text, kind) {
            Ok(done) if done != text => {
                changed += 1;
                println!("{}", rel.display());
                if !check {
                    std::fs::write(dir.join(rel), done).map_err(|e| {
                        CliError::msg(format!("cannot write `{}`: {e}", rel.display()), "check the file's permissions")
                    })?;
                }
            }
            Ok(_) => {}
            Err(d) => diags.push(d),
        }
    }
    if !diags.is_empty() {
        return Err(CliError::Diagnostics(diags));
    }
    Ok(if check && changed > 0 { 3 } else { exit::OK })
}

/// An address given on the command line, in its canonical spelling.
fn address_arg(s: &str) -> Result<String> {
    crate::addr::parse(s).map_err(|why| CliError::msg(why, "see `cloudbridge state list` for the addresses"))
}

/// Change the state under its lock: `f` edits it (or refuses, changing nothing) and says
/// what it did; the state is written once (the local store keeps the old one as
/// `.backup`; S3 keeps versions). Returns the exit code.
async fn change_state(
    dir: &Path,
    args: &EnvArgs,
    op: &str,
    f: impl FnOnce(&mut State) -> Result<Vec<String>>,
) -> Result<i32> {
    let env = workspace::load_env(dir, &args.env).map_err(CliError::Diagnostics)?;
    let stack = stack_name(dir, args, &env)?;
    let store = open_store(dir, &env, &stack).await?;
    let lock = store.lock(op).await?;
    let result = async {
        let Some(mut state) = store.read().await? else {
            return Err(CliError::msg(
                format!("no state for stack `{stack}` in environment `{}` at {}", env.name, store.location()),
                format!("run `cloudbridge apply -e {}` first", env.name),
            ));
        };
        // The state in the store need only be this stack's: `state push` must be able to
        // replace a state that later checks would refuse.
        check_owner(store.as_ref(), &state, &stack, &env.name)?;
        let before = state.clone();
        let said = f(&mut state)?;
        // What surgery leaves (a pushed file, a moved address) is held to what loading
        // requires: a state every later command would refuse is never written.
        check_loaded(store.as_ref(), &state, &stack, &env.name)?;
        if state != before {
            state.serial += 1;
            store.write(&state).await?;
        }
        for line in said {
            eprintln!("{}", crate::diag::printable(&line));
        }
        Ok(exit::OK)
    }
    .await;
    let unlocked = store.unlock(&lock).await;
    let code = result?;
    unlocked?;
    Ok(code)
}

async fn read_state_only(dir: &Path, args: &EnvArgs) -> Result<(String, State)> {
    let env = workspace::load_env(dir, &args.env).map_err(CliError::Diagnostics)?;
    let stack = stack_name(dir, args, &env)?;
    let store = open_store(dir, &env, &stack).await?;
    match store.read().await? {
        Some(s) => {
            // `list`, `show` and `pull` read even a state later checks refuse: pulling it is
            // how it is mended.
            check_owner(store.as_ref(), &s, &stack, &env.name)?;
            Ok((stack, s))
        }
        None => Err(CliError::msg(
            format!("no state for stack `{stack}` in environment `{}` at {}", env.name, store.location()),
            format!("run `cloudbridge apply -e {}` first", env.name),
        )),
    }
}

/// An output as a line shows it: a sensitive one never.
fn shown(o: &state::OutputState) -> String {
    if o.sensitive {
        plan::SENSITIVE.into()
    } else {
        o.value.to_string()
    }
}

fn print_outputs(state: &State, name: Option<&str>, json: bool) -> Result<i32> {
    if let Some(n) = name {
        let Some(o) = state.outputs.get(n) else {
            return Err(CliError::msg(
                format!("no output `{n}` in state"),
                match crate::config::suggest(n, state.outputs.keys().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "see `cloudbridge output` for the outputs there are".into(),
                },
            ));
        };
        if o.sensitive {
            return Err(CliError::msg(
                format!("output `{n}` is sensitive: its value is never stored, so it cannot be printed"),
                "read the value where it is kept (a Secrets Manager secret, say), or remove `sensitive: true` if it is not secret",
            ));
        }
        match (&o.value, json) {
            (Value::String(s), false) => println!("{s}"),
            (v, _) => println!("{}", serde_json::to_string_pretty(v).unwrap_or_default()),
        }
        return Ok(exit::OK);
    }
    if json {
        let m: serde_json::Map<String, Value> = state
            .outputs
            .iter()
            .map(|(k, o)| {
                let value = if o.sensitive { Value::Null } else { o.value.clone() };
                (k.clone(), serde_json::json!({"value": value, "sensitive": o.sensitive}))
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&m).unwrap_or_default());
    } else {
        for (k, o) in &state.outputs {
            println!("{k} = {}", shown(o));
        }
    }
    Ok(exit::OK)
}

async fn init(dir: &Path, env: &Env) -> Result<i32> {
    match &env.backend {
        Backend::Local { path } => {
            let _ = dir;
            eprintln!(
                "Local state backend: nothing to initialise; state files are created at `{path}` on first apply."
            );
        }
        Backend::S3 { bucket, region, assume_role, .. } => {
            let config = sdk_config_as(env, assume_role.as_ref()).await?;
            let region = region.clone().or_else(|| config.region().map(|r| r.to_string())).unwrap_or_default();
            let client = state::s3::client(&config, Some(&region));
            let store = S3Store::new(client, bucket.clone(), String::new(), true, &env.name);
            if store.init_bucket(&region).await? {
                eprintln!(
                    "Created state bucket `{bucket}` in {region} (versioning on, encrypted, public access blocked)."
                );
            } else {
                eprintln!("State bucket `{bucket}` already exists.");
            }
        }
    }
    Ok(exit::OK)
}

/// The plan as its JSON contract (`docs/json-format.md`), with the stack's warnings and
/// the checks' findings (errors refuse the plan).
fn plan_json(plan: &Plan, findings: &[Diagnostic]) -> String {
    serde_json::to_string_pretty(&plan::contract(plan, &aws::catalog(), findings)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_destroy_says_to_run_destroy_again() {
        let hint =
            |destroy| CliError::ApplyFailed { summary: "1 failed, 0 not applied".into(), destroy }.hints()[0].clone();
        assert!(hint(true).contains("run `cloudbridge destroy` again"), "{}", hint(true));
        assert!(hint(false).contains("run `cloudbridge apply` again"), "{}", hint(false));
        let e = CliError::ApplyFailed { summary: "x".into(), destroy: true };
        assert_eq!(e.to_string(), "destroy failed: x");
    }

    #[test]
    fn a_failed_step_is_a_located_diagnostic_with_a_hint_for_its_kind() {
        let (st, g) =
            crate::testutil::stack("resources:\n  queue:\n    type: aws.sqs.queue\n    properties: { name: orders }\n");
        let plan = crate::testutil::plan_for(&st, &g, &State::new("t", "test"), &[], false);
        let failure = engine::Failure {
            address: "queue".into(),
            kind: engine::StepKind::Create,
            error: crate::provider::ProviderError::new(
                "AccessDenied",
                "User is not authorized to perform: sqs:CreateQueue",
            ),
        };
        insta::assert_snapshot!(failure_diagnostic(&plan, &failure).to_string(), @r"
        error: Create failed
          --> stacks/t.yaml:2:3
          `queue`: AccessDenied: User is not authorized to perform: sqs:CreateQueue
          hint: the credentials in use may not do this: check the IAM policy of the caller (`aws sts get-caller-identity` shows who that is)
        ");
    }

    #[test]
    fn first_signal_continues_second_exits_naming_what_is_in_flight() {
        let i = Interrupt::default();
        i.started("msk");
        i.started("aurora");
        match on_signal(&i, Some("cloudbridge force-unlock -e prod 1234")) {
            OnSignal::Continue(m) => {
                assert!(m.contains("no new operations will start") && m.contains("aurora, msk"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        assert!(i.is_requested());
        match on_signal(&i, Some("cloudbridge force-unlock -e prod 1234")) {
            OnSignal::Exit(m) => {
                assert!(m.contains("Second interrupt: exiting now."));
                assert!(m.contains("may still be running in AWS, and are not recorded in state: aurora, msk"), "{m}");
                assert!(m.contains("run `cloudbridge force-unlock -e prod 1234`"), "{m}");
            }
            other => panic!("{other:?}"),
        }
    }
}
