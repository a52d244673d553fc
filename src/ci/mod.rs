//! `keyhound ci`: the GitHub Action's logic, so it is tested like the rest of the binary. It
//! gates on the event's commits (`event`), reads the repository's allow-lists from a pull
//! request's base so a PR cannot allow its own keys, and writes annotations, the job summary,
//! step outputs (`github`) and, with `--sarif`, the state of the checked-out tree for code
//! scanning. In GitLab CI (`gitlab`) it reads the pipeline's variables instead and prints no
//! GitHub workflow commands.

mod attribute;
pub mod event;
pub mod github;
pub mod gitlab;

use crate::config::{CiConfig, GitMode};
use crate::exit::Exit;
use crate::pipeline::{self, Gathered, Pipeline};
use crate::progress::Progress;
use crate::report::ScanReport;
use crate::scan::git;
use crate::suppress::project::Project;
use anyhow::{Context as _, bail};
use event::{CommitLookup, GithubEnv, Plan, Scope};
use std::path::Path;

/// The checked-out repository, asked which commits it has: through libgit2, or through git
/// for a format libgit2 refuses (SHA-256 ids, reftable refs).
pub(crate) enum Lookup {
    Libgit2(git2::Repository),
    Git(git::ByGit),
}

impl CommitLookup for Lookup {
    fn has_commit(&self, rev: &str) -> bool {
        match self {
            Lookup::Libgit2(repo) => repo
                .revparse_single(rev)
                .and_then(|o| o.peel_to_commit())
                .is_ok(),
            Lookup::Git(repo) => repo.has_commit(rev),
        }
    }

    fn is_shallow(&self) -> bool {
        match self {
            Lookup::Libgit2(repo) => repo.is_shallow(),
            Lookup::Git(repo) => repo.is_shallow(),
        }
    }
}

/// `pull_request_target` checks out the base: the pull request's commits are fetched first.
pub(crate) fn fetch(workspace: &Path, refspec: &str) -> anyhow::Result<()> {
    let status = crate::scan::git::command::git_fetch()
        .arg("-C")
        .arg(workspace)
        .args(["fetch", "--no-tags", "--quiet", "origin", refspec])
        .status()
        .context("cannot run git to fetch the pull request")?;
    if !status.success() {
        bail!("git fetch origin {refspec} failed: the pull request's commits cannot be scanned");
    }
    Ok(())
}

pub(crate) fn nothing(cfg: &CiConfig, env: &GithubEnv, why: &str) -> anyhow::Result<Exit> {
    crate::diag::print(&format!("keyhound: {why}"));
    if let Some(path) = &cfg.sarif {
        // An upload step that always runs still finds a (result-free) file.
        let pipe = Pipeline::new(&cfg.common, Progress::hidden())?;
        let (mut report, _) = pipe.report(Gathered::default());
        write_sarif(&mut report, TREE, path)?;
    }
    if let Some(p) = &env.step_summary {
        github::append(p, &format!("## keyhound\n\n{why}.\n"))?;
    }
    if let Some(p) = &env.output {
        github::append(p, "findings=0\n")?;
    }
    Ok(Exit::Clean)
}

/// The job summary and the step outputs.
pub(crate) fn publish(
    env: &GithubEnv,
    report: &ScanReport<'_>,
    what: &str,
    added: &[String],
) -> anyhow::Result<()> {
    if let Some(p) = &env.step_summary {
        github::append(p, &github::summary(report, what, added))?;
    }
    if let Some(p) = &env.output {
        let mut text = format!("findings={}\n", report.findings.len());
        if let Some(v) = &report.stats.verification {
            text.push_str(&format!("live={}\n", v.live));
        }
        github::append(p, &text)?;
    }
    Ok(())
}

/// Allow entries (paths, fingerprints) the checked-out tree has and the base does not.
pub(crate) fn allows_added(
    cfg: &CiConfig,
    workspace: &Path,
    plan: &Plan,
) -> anyhow::Result<Vec<String>> {
    let Some(base) = &plan.config_at else {
        return Ok(Vec::new());
    };
    let opts = cfg.git_options(workspace, GitMode::History);
    let entries = |at: Option<&str>| -> anyhow::Result<Vec<String>> {
        let (files, _) = git::root_files(&opts, at)?;
        let p = Project::parse(&files, None).unwrap_or_default();
        Ok(p.allow_paths
            .into_iter()
            .chain(p.allow_fingerprints)
            .collect())
    };
    let before = entries(Some(base))?;
    Ok(entries(plan.head.as_deref())?
        .into_iter()
        .filter(|e| !before.contains(e))
        .collect())
}

/// The SARIF for code scanning: every key in the checked-out tree (`keyhound/tree/`), or, when
/// the gate scanned the whole history, that history (`keyhound/history/`). Code scanning takes
/// each upload as the whole truth for its category, so a pull request's SARIF must still hold
/// the keys already on its base branch.
pub(crate) fn write_state(
    cfg: &CiConfig,
    env: &GithubEnv,
    plan: &Plan,
    gate: &mut ScanReport<'_>,
    path: &Path,
) -> anyhow::Result<()> {
    if plan.scope == Scope::History {
        return write_sarif(gate, "keyhound/history/", path);
    }
    let opts = cfg.git_options(&env.workspace, GitMode::Tree);
    let (pipe, gathered) = pipeline::repository(&cfg.common, &opts, plan.config_at.as_deref())?;
    let (mut state, _) = pipe.report(gathered);
    if env.event_name == "pull_request"
        && let (Some(base), Some(head)) = (&plan.config_at, &plan.head)
    {
        attribute::to_pull_request(&mut state.findings, &env.workspace, base, head);
    }
    write_sarif(&mut state, TREE, path)
}

/// The category of the checked-out tree's state in code scanning.
const TREE: &str = "keyhound/tree/";

/// Writes `report` as SARIF to `path` under code scanning category `id`.
fn write_sarif(report: &mut ScanReport<'_>, id: &str, path: &Path) -> anyhow::Result<()> {
    report.automation_id = Some(id.into());
    let mut file = crate::output::open(Some(path), "the SARIF", crate::output::Access::Shared)?;
    crate::report::Reporter::finish(&crate::report::Sarif, report, &mut file)?;
    Ok(file.commit()?)
}
