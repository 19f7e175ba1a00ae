//! The `cloudbridge` binary: parses flags, runs the command, renders errors as a cause
//! followed by `hint:` lines, and exits with the documented code.

use clap::Parser;
use cloudbridge::cli::Cli;
use cloudbridge::commands::{self, exit, CliError};

fn main() {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    let color = !cli.no_color && std::env::var_os("NO_COLOR").is_none();
    if cli.verbose > 0 {
        tracing_subscriber::fmt().with_max_level(level).with_writer(std::io::stderr).with_ansi(color).init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(exit::ERROR);
        }
    };
    let code = match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            report(&e);
            e.exit_code()
        }
    };
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    std::process::exit(code);
}

fn report(e: &CliError) {
    match e {
        CliError::Diagnostics(diags) => {
            let sorted = cloudbridge::diag::Diagnostics(diags.clone()).sorted();
            eprintln!("{sorted}");
        }
        other => {
            eprintln!("error: {other}");
            for h in other.hints() {
                eprintln!("hint: {h}");
            }
        }
    }
}
