//! The pipeline over a git repository (`keyhound git`, `keyhound ci`): its root files' settings,
//! read at a trusted commit when one is given, then its objects scanned.

use super::{Gathered, Pipeline, load_baseline};
use crate::config::{Common, GitMode};
use crate::scan::git::{self, GitOptions};
use crate::stats::Suppressed;
use crate::suppress::project::Project;
use anyhow::Context as _;
use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

/// Scans a repository as `opts` says, with the rules and suppressions of its root files (read
/// from commit `config_at` when given, so a pull request cannot allow its own keys).
pub fn repository(
    common: &Common,
    opts: &GitOptions,
    config_at: Option<&str>,
) -> anyhow::Result<(Pipeline, Gathered)> {
    let started = Instant::now();
    let (files, workdir) = match git::root_files(opts, config_at) {
        Err(_) if matches!(opts.mode, GitMode::CommitMsg(_)) => Default::default(),
        r => r?,
    };
    // `--staged`: git reads the index while the rules load and the matcher is built.
    let begun = git::start(opts, workdir.as_deref());
    let project = Project::parse(&files, workdir.as_deref())?;
    let baseline = |common: &Common| match (config_at, &common.baseline) {
        (Some(at), Some(path)) => baseline_at(opts, at, path),
        _ => load_baseline(common),
    };
    let pipe = Pipeline::for_project(common, &project, Path::new(""), baseline, started)?;
    let scanner = pipe.scanner();
    let diag = crate::diag::Diagnostics::new(pipe.progress.clone());
    let mut outcome = git::scan(opts, begun, &scanner, &|s| diag.skipped(s))?;
    diag.finish();
    let mut suppressed = Suppressed {
        inline: outcome.suppressed_inline,
        ..Suppressed::default()
    };
    let findings = std::mem::take(&mut outcome.findings);
    outcome.findings = pipe
        .suppressions
        .apply(findings, Path::new(""), &mut suppressed);
    Ok((pipe, Gathered::of_git(outcome, suppressed)))
}

/// The baseline as commit `at` has it (a relative path is read from that commit's tree).
fn baseline_at(opts: &GitOptions, at: &str, path: &Path) -> anyhow::Result<HashSet<String>> {
    let rel = path.to_string_lossy().replace('\\', "/");
    match git::file_at(opts, at, &rel)? {
        Some(text) => crate::suppress::baseline::parse(&text).with_context(|| {
            format!("--baseline {rel} at {at}: not a keyhound JSON or JSON lines report")
        }),
        None => Ok(HashSet::new()),
    }
}
