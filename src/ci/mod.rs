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

use crate::config::{CiConfig, Format, GitMode};
use crate::scan::git::{self, GitOptions};
use crate::suppress::project::Project;
use crate::{Exit, report::ScanReport};
use anyhow::{Context as _, bail};
use event::{CommitLookup, GithubEnv, Plan, Scope};
use std::path::Path;

/// Runs `keyhound ci`.
pub fn run(cfg: &CiConfig) -> anyhow::Result<Exit> {
    let on_gitlab = gitlab::detected();
    let env = if on_gitlab {
        gitlab::from_env()?
    } else {
        crate::diag::for_runner();
        GithubEnv::from_env()?
    };
    let lookup = Lookup(
        git2::Repository::open_ext(
            &env.workspace,
            git2::RepositoryOpenFlags::empty(),
            std::iter::empty::<&std::ffi::OsStr>(),
        )
        .with_context(|| {
            let (var, how) = if on_gitlab {
                ("CI_PROJECT_DIR", "check the job's GIT_STRATEGY")
            } else {
                ("GITHUB_WORKSPACE", "run actions/checkout first")
            };
            format!(
                "{}: not a git repository ({var}); {how}",
                env.workspace.display()
            )
        })?,
    );
    let plan = event::plan(&env, cfg.range.as_deref(), &lookup)?;
    for w in &plan.warnings {
        if on_gitlab {
            crate::diag::eprint(&format!("keyhound: warning: {w}"));
        } else {
            github::warning(w);
        }
    }
    if let Some(refspec) = &plan.fetch {
        fetch(&env.workspace, refspec)?;
    }
    if let Some(missing) = plan.needs.iter().find(|c| !lookup.has_commit(c)) {
        let how = if on_gitlab {
            "set the job's variable `GIT_DEPTH: 0`"
        } else {
            "check out with actions/checkout and `fetch-depth: 0`"
        };
        bail!(
            "commit {missing} is not in this clone, so the event's commits cannot be scanned: {how}"
        );
    }
    let (what, mode) = match &plan.scope {
        Scope::Nothing(why) => return nothing(cfg, &env, why),
        Scope::Range(r) => (format!("the commits of `{r}`"), GitMode::Range(r.clone())),
        Scope::History => (
            "the whole history (every branch and tag)".to_string(),
            GitMode::History,
        ),
    };
    let opts = options(cfg, &env.workspace, mode);
    let common = &cfg.common;
    // What the scan and the report print holds file names and file content that a pull request
    // controls: the runner must not read workflow commands in it.
    let to_stdout = crate::output::is_stdout(common.output.as_deref());
    let paused = github::Paused::start(!on_gitlab && to_stdout && common.format == Format::Human);
    let (rules, done, common) = crate::git_outcome(common, &opts, plan.config_at.as_deref())?;
    let common = &common;
    let (mut report, gate_hit) = crate::build_report(common, &rules, done);
    let mut out = crate::open_output(common)?;
    let written = crate::write_report(common, &report, &mut out).and_then(|()| out.commit());
    crate::ignore_broken_pipe(written)?;
    paused.resume();
    if !on_gitlab && (common.format == Format::Human || !to_stdout) {
        let notes = github::annotations(&report, &mut std::io::stdout().lock());
        crate::ignore_broken_pipe(notes)?;
    }
    let added = allows_added(cfg, &env.workspace, &plan)?;
    publish(&env, &report, &what, &added)?;
    if let Some(path) = &cfg.sarif {
        write_state(cfg, &env, &plan, &mut report, path)?;
    }
    Ok(crate::exit_for(
        gate_hit,
        report.complete,
        common.allow_incomplete,
    ))
}

struct Lookup(git2::Repository);

impl CommitLookup for Lookup {
    fn has_commit(&self, rev: &str) -> bool {
        self.0
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .is_ok()
    }

    fn is_shallow(&self) -> bool {
        self.0.is_shallow()
    }
}

fn options(cfg: &CiConfig, workspace: &Path, mode: GitMode) -> GitOptions {
    GitOptions {
        repo: Some(workspace.to_path_buf()),
        mode,
        all_objects: false,
        max_blob_size: cfg.max_blob_size,
        threads: cfg.common.threads,
        audit: false,
    }
}

/// `pull_request_target` checks out the base: the pull request's commits are fetched first.
fn fetch(workspace: &Path, refspec: &str) -> anyhow::Result<()> {
    let status = crate::scan::git::command::git()
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

fn nothing(cfg: &CiConfig, env: &GithubEnv, why: &str) -> anyhow::Result<Exit> {
    crate::diag::print(&format!("keyhound: {why}"));
    if let Some(path) = &cfg.sarif {
        // An upload step that always runs still finds a (result-free) file.
        let rules = crate::load_rules(&cfg.common.rules)?;
        let (mut report, _) = crate::build_report(&cfg.common, &rules, crate::Done::empty());
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
fn publish(
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
fn allows_added(cfg: &CiConfig, workspace: &Path, plan: &Plan) -> anyhow::Result<Vec<String>> {
    let Some(base) = &plan.config_at else {
        return Ok(Vec::new());
    };
    let opts = options(cfg, workspace, GitMode::History);
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
fn write_state(
    cfg: &CiConfig,
    env: &GithubEnv,
    plan: &Plan,
    gate: &mut ScanReport<'_>,
    path: &Path,
) -> anyhow::Result<()> {
    if plan.scope == Scope::History {
        return write_sarif(gate, "keyhound/history/", path);
    }
    let opts = options(cfg, &env.workspace, GitMode::Tree);
    let (rules, done, common) = crate::git_outcome(&cfg.common, &opts, plan.config_at.as_deref())?;
    let (mut state, _) = crate::build_report(&common, &rules, done);
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
    report.write(Format::Sarif, &mut file)?;
    Ok(file.commit()?)
}
