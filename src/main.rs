//! The `keyhound` binary: parse the command line, build the `Config`, run, exit.

#![deny(clippy::print_stdout, clippy::print_stderr)]

use clap::Parser;
use keyhound::cli::Cli;
use keyhound::config::Config;
use keyhound::{Exit, run};
use std::process::ExitCode;

fn main() -> ExitCode {
    keyhound::alloc::tune();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Exit::Error as u8
            } else {
                Exit::Clean as u8
            });
        }
    };
    let result = Config::from_cli(cli)
        .map_err(anyhow::Error::from)
        .and_then(run);
    match result {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(e) => {
            keyhound::diag::eprint(&format!("keyhound: error: {e:#}"));
            ExitCode::from(Exit::Error as u8)
        }
    }
}
