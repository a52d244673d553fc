//! `keyhound ci`: the event's commits gated, annotations, job summary, step outputs and SARIF
//! written. What the event means, GitHub's and GitLab's formats and the state SARIF live in `ci`.

use crate::ci::event::{self, CommitLookup as _, GithubEnv, Scope};
use crate::ci::{self, Lookup, github, gitlab};
use crate::config::{CiConfig, GitMode};
use crate::exit::Exit;
use crate::output;
use crate::pipeline;
use crate::report::Format;
use anyhow::{Context as _, bail};

/// Runs `keyhound ci`.
pub fn run(cfg: &CiConfig) -> anyhow::Result<Exit> {
    let on_gitlab = gitlab::detected();
    let env = if on_gitlab {
        gitlab::from_env()?
    } else {
        crate::diag::for_runner();
        GithubEnv::from_env()?
    };
    let lookup = open(&env, on_gitlab)?;
    let plan = event::plan(&env, cfg.range.as_deref(), &lookup)?;
    for w in &plan.warnings {
        if on_gitlab {
            crate::diag::eprint(&format!("keyhound: warning: {w}"));
        } else {
            github::warning(w);
        }
    }
    if let Some(refspec) = &plan.fetch {
        ci::fetch(&env.workspace, refspec)?;
    }
    if let Some(missing) = plan.needs.iter().find(|c| !lookup.has_commit(c)) {
        bail!(
            "commit {missing} is not in this clone, so the event's commits cannot be scanned: {}",
            env.platform.full_clone()
        );
    }
    let (what, mode) = match &plan.scope {
        Scope::Nothing(why) => return ci::nothing(cfg, &env, why),
        Scope::Range(r) => (format!("the commits of `{r}`"), GitMode::Range(r.clone())),
        Scope::History => (
            "the whole history (every branch and tag)".to_string(),
            GitMode::History,
        ),
    };
    let opts = cfg.git_options(&env.workspace, mode);
    let common = &cfg.common;
    // What the scan and the report print holds file names and file content that a pull request
    // controls: the runner must not read workflow commands in it.
    let to_stdout = output::is_stdout(common.output.as_deref());
    let paused = github::Paused::start(!on_gitlab && to_stdout && common.format == Format::Human);
    let (pipe, gathered) = pipeline::repository(common, &opts, plan.config_at.as_deref())?;
    let (mut report, gate_hit) = pipe.report(gathered);
    let mut out = output::report(pipe.common.output.as_deref())?;
    let written = pipe.write(&report, &mut out).and_then(|()| out.commit());
    output::ignore_broken_pipe(written)?;
    paused.resume();
    if !on_gitlab && (pipe.common.format == Format::Human || !to_stdout) {
        let notes = github::annotations(&report, &mut std::io::stdout().lock());
        output::ignore_broken_pipe(notes)?;
    }
    let added = ci::allows_added(cfg, &env.workspace, &plan)?;
    ci::publish(&env, &report, &what, &added)?;
    if let Some(path) = &cfg.sarif {
        ci::write_state(cfg, &env, &plan, &mut report, path)?;
    }
    Ok(pipe.exit(gate_hit, &report))
}

/// The repository the job checked out.
fn open(env: &GithubEnv, on_gitlab: bool) -> anyhow::Result<Lookup> {
    let repo = git2::Repository::open_ext(
        &env.workspace,
        git2::RepositoryOpenFlags::empty(),
        std::iter::empty::<&std::ffi::OsStr>(),
    );
    let lookup = match repo {
        Ok(repo) => Ok(Lookup::Libgit2(repo)),
        // A format libgit2 refuses is read through git.
        Err(e) => crate::scan::git::ByGit::open(&env.workspace)
            .map(Lookup::Git)
            .ok_or(e),
    };
    lookup.with_context(|| {
        let (var, how) = if on_gitlab {
            ("CI_PROJECT_DIR", "check the job's GIT_STRATEGY")
        } else {
            ("GITHUB_WORKSPACE", "run actions/checkout first")
        };
        format!(
            "{}: not a git repository ({var}); {how}",
            env.workspace.display()
        )
    })
}
