//! keyhound finds leaked API keys in files, archives and git histories, verifies them, and
//! reports them. `run` is the only place that dispatches a command; ARCHITECTURE.md has the map.
//!
//! Data flows one way: sources (`scan::walk`, `scan::git`, standard input) → blobs (`scan`) →
//! `matcher` → findings (`finding`) → suppressions (`suppress`) → verification (`verify`) → the
//! gate (`exit`) → `report` (or, for audits, `audit`) → `output`.
//!
//! The layers, from the bottom; each module imports only its own layer and those below
//! (`tests/it/layers.rs` checks it):
//!
//! 1. `secret`, `sanitize`, `style` (colour), `output`, `threads`.
//! 2. `finding`, `progress`, `diag`.
//! 3. The core: `rules`, `matcher`, `scan`, `suppress`, `verify`, `stats` (a scan's counters),
//!    `report`, `audit` (its parts), `hooks`, `stdin_lines`, `exit` (codes and the gate).
//! 4. Settings: `cli` (the only clap types) and `config` (`Config::from_cli`, `Common::resolve`
//!    with the repository's keyhound.toml and .keyhoundignore); only these two name clap.
//! 5. `pipeline`: rules, matcher, scanner, suppressions and progress built once from the
//!    settings, and gathered findings turned into one report.
//! 6. Commands: `cmd` (one `run` per command) and `ci` (the parts of `keyhound ci`).
//! 7. `run` (here) and `main.rs`.
//!
//! The library is one binary's: modules that neither `main.rs` nor the integration tests reach are
//! private, so an item's `pub` means "used across modules", not "a published API".

// Every diagnostic goes through `diag`, which sanitises it and cannot panic on a closed stream.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod alloc;
mod audit;
mod ci;
pub mod cli;
mod cmd;
pub mod config;
pub mod diag;
pub mod exit;
pub mod finding;
mod hooks;
pub mod matcher;
mod output;
mod pipeline;
pub mod progress;
mod report;
pub mod rules;
mod sanitize;
pub mod scan;
pub mod secret;
mod stats;
mod stdin_lines;
mod style;
pub mod suppress;
pub mod threads;
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
