//! The `cloudbridge` binary: parses flags, runs the command, renders errors as a cause
//! followed by `hint:` lines, and exits with the documented code.

use cloudbridge::cli;
use cloudbridge::commands::{self, exit, CliError};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

fn main() {
    let cli = match cli::parse(std::env::args_os()) {
        Ok(cli) => cli,
        Err((message, code)) => {
            if code == 0 {
                print!("{message}");
            } else {
                eprint!("{message}");
            }
            std::process::exit(code);
        }
    };
    let color = !cli.no_color && std::env::var_os("NO_COLOR").is_none();
    if cli.verbose > 0 {
        let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(color);
        tracing_subscriber::registry().with(fmt).with(cli::log_filter(cli.verbose)).init();
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
            eprintln!("error: {}", cloudbridge::diag::printable(&other.to_string()));
            for h in other.hints() {
                eprintln!("hint: {}", cloudbridge::diag::printable(&h));
            }
        }
    }
}
