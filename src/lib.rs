//! keyhound finds leaked API keys in files, archives and git histories, verifies them, and
//! reports them. `run` is the only place that dispatches a command; see ARCHITECTURE.md.
//!
//! Data flows one way: sources (`scan::walk`, `scan::git`, standard input) → blobs (`scan`) →
//! `matcher` → findings (`finding`) → suppressions (`suppress`) → verification (`verify`) →
//! `report` (or, for audits, `audit`). The layers, each importing only the ones below it:
//!
//! 1. `main.rs` parses the command line (`cli`, the only clap types) into a `config::Config`.
//! 2. `run` (here) hands each command its part of the `Config`.
//! 3. `cmd`: one module per command; `ci` and `audit` hold the parts of theirs.
//! 4. `pipeline`: rules, matcher, scanner, suppressions and progress built once from the
//!    settings, and gathered findings turned into one report; `exit` (codes and the gate) and
//!    `output` (where reports go).
//! 5. `config`: the resolved settings, in the core's own types.
//! 6. The core: `scan`, `matcher`, `rules`, `suppress`, `verify`, `report`.
//! 7. Shared below everything: `finding`, `secret`, `progress`, `diag`, `sanitize`.

// Every diagnostic goes through `diag`, which sanitises it and cannot panic on a closed stream.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod audit;
pub mod ci;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod diag;
pub mod exit;
pub mod finding;
pub mod hooks;
pub mod matcher;
pub mod output;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod rules;
pub mod sanitize;
pub mod scan;
pub mod secret;
mod stdin_lines;
pub mod suppress;
pub mod verify;

pub use exit::Exit;

use config::Config;

/// Runs one command.
pub fn run(config: Config) -> anyhow::Result<Exit> {
    match config {
        Config::Scan(cfg) => cmd::scan::run(&cfg),
        Config::Git(cfg) => cmd::git::run(cfg),
        Config::Verify(common) => cmd::verify::run(&common),
        Config::RulesList(src) => cmd::rules::list(&src),
        Config::RulesCheck(src) => cmd::rules::check(&src),
        Config::InstallHook(repo) => cmd::hook::run(repo.as_deref()),
        Config::Ci(cfg) => cmd::ci::run(&cfg),
        Config::Audit(cfg) => cmd::audit::run(&cfg),
        Config::AuditMerge(cfg) => cmd::merge::run(&cfg),
        Config::Print(text) => cmd::print(&text),
    }
}
