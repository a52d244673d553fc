//! `keyhound git`: a repository's history, a range, the index, a commit message or a push, as
//! the hooks run it; `--pre-receive` within its time budget.

use crate::config::{Budget, GitConfig, GitMode};
use crate::exit::Exit;
use crate::output;
use crate::pipeline;
use crate::report::Hook;
use std::path::Path;
use std::sync::mpsc::RecvTimeoutError;

/// Runs `keyhound git`.
pub fn run(cfg: GitConfig) -> anyhow::Result<Exit> {
    match cfg.budget {
        Some(budget) => pre_receive(cfg, budget),
        None => git(&cfg),
    }
}

fn git(cfg: &GitConfig) -> anyhow::Result<Exit> {
    let opts = cfg.git_options();
    let mut out = output::report(cfg.common.output.as_deref())?;
    let (pipe, mut gathered) = pipeline::repository(&cfg.common, &opts, None)?;
    if let Some(only) = &cfg.only {
        gathered
            .findings
            .retain(|f| only.iter().any(|p| Path::new(&f.origin.path) == p));
    }
    let reporter = pipe.reporter();
    if reporter.streams() {
        pipe.progress.finish();
        let mut findings = gathered.findings.clone();
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let lines = reporter.found(&findings, &gathered.skipped, &pipe.rules, &mut out);
        output::ignore_broken_pipe(lines)?;
    }
    let hook = match cfg.mode {
        GitMode::Staged | GitMode::CommitMsg(_) => Some(Hook::Commit),
        GitMode::PrePush => Some(Hook::Push),
        GitMode::PreReceive => Some(Hook::Receive),
        _ => None,
    };
    pipe.finish(gathered, out, hook)
}

/// `keyhound git --pre-receive`: the scan within its time budget. Past it the push goes through
/// with a warning (a hook that outlives the server's limit fails every push), or with
/// `--fail-closed` is rejected.
fn pre_receive(cfg: GitConfig, budget: Budget) -> anyhow::Result<Exit> {
    let (tx, rx) = std::sync::mpsc::channel();
    crate::threads::spawn("keyhound-pre-receive", move || {
        let _ = tx.send(git(&cfg));
    })
    .map_err(anyhow::Error::msg)?;
    let secs = budget.timeout.as_secs_f64();
    match rx.recv_timeout(budget.timeout) {
        Ok(result) => result,
        Err(RecvTimeoutError::Timeout) if budget.fail_closed => {
            crate::diag::eprint(&format!(
                "keyhound: the pushed commits could not be scanned for leaked keys within {secs}s: \
                 push rejected (--fail-closed). Push fewer commits at a time."
            ));
            Ok(Exit::Error)
        }
        Err(RecvTimeoutError::Timeout) => {
            crate::diag::eprint(&format!(
                "keyhound: warning: the pushed commits could not be scanned for leaked keys within \
                 {secs}s: push let through unscanned. Scan them with `keyhound git --range OLD..NEW`."
            ));
            Ok(Exit::Clean)
        }
        Err(RecvTimeoutError::Disconnected) => {
            anyhow::bail!("the pre-receive scan stopped without a result")
        }
    }
}
