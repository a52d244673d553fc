//! `keyhound scan`: files, directories, archives and standard input, walked in parallel, with
//! the settings of the repository they are in.

use crate::config::ScanConfig;
use crate::exit::Exit;
use crate::output::{self, Output};
use crate::pipeline::{Gathered, Pipeline};
use crate::report::Reporter;
use crate::scan::BlobOutcome;
use crate::stats::Suppressed;
use crate::suppress::project::{self, Project, RootFiles};
use anyhow::Context as _;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

/// Runs `keyhound scan`.
pub fn run(cfg: &ScanConfig) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let root = project::find_root(cfg.paths.first().map_or(Path::new("."), |p| {
        if p.as_os_str() == "-" {
            Path::new(".")
        } else {
            p
        }
    }));
    let mut project = Project::parse(&RootFiles::from_dir(&root)?, Some(&root))?;
    if cfg.walk.no_ignore {
        // --no-ignore reads every path, allowed ones included.
        project.allow_paths.clear();
    }
    let baseline = crate::pipeline::load_baseline;
    let pipe = Pipeline::for_project(&cfg.common, &project, &root, baseline, started)?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let scanner = pipe.scanner();
    let out = Mutex::new(output::report(pipe.common.output.as_deref())?);
    let diag = crate::diag::Diagnostics::new(pipe.progress.clone());
    let gathered = Mutex::new(Gathered::default());
    let reporter = pipe.reporter();
    let sink = |mut outcome: BlobOutcome| {
        outcome.skipped.iter().for_each(|s| diag.skipped(s));
        let mut suppressed = Suppressed::default();
        outcome.findings = pipe
            .suppressions
            .apply(outcome.findings, &cwd, &mut suppressed);
        if reporter.streams() {
            stream_lines(&pipe, &*reporter, &outcome, &out);
        }
        let mut g = gathered.lock().unwrap_or_else(|p| p.into_inner());
        g.add(outcome, &suppressed);
    };
    let walked = crate::scan::walk::scan_paths(&cfg.paths, &cfg.walk, &scanner, &sink);
    diag.finish();
    let mut gathered = gathered.into_inner().unwrap_or_else(|p| p.into_inner());
    gathered.stats.ignored = walked.ignored;
    gathered.stats.symlinks_not_followed = walked.symlinks_not_followed;
    gathered.ignored_env = walked.ignored_env;
    let out = out.into_inner().unwrap_or_else(|p| p.into_inner());
    pipe.finish(gathered, out, None)
}

/// Hands one blob's findings to a reporter that streams them (JSON lines) while the scan goes on.
fn stream_lines(
    pipe: &Pipeline,
    reporter: &dyn Reporter,
    outcome: &BlobOutcome,
    out: &Mutex<Output>,
) {
    let mut out = out.lock().unwrap_or_else(|p| p.into_inner());
    let result = reporter.found(&outcome.findings, &outcome.skipped, &pipe.rules, &mut *out);
    if let Err(e) = output::ignore_broken_pipe(result) {
        crate::diag::eprint(&format!("keyhound: error: writing the report: {e}"));
    }
}
