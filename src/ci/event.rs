//! Which commits a GitHub Actions run gates on, read from the event that started it: a pull
//! request's `base..head`, a merge queue's `base_sha..head_sha`, a push's `before..after` (or, for
//! a new branch or a force-push, the branch's commits not on the default branch), the whole
//! history for scheduled and manual runs.

use anyhow::{Context as _, bail};
use serde_json::Value;
use std::path::PathBuf;

/// The CI service running the job: it names what the user changes in their pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Github,
    Gitlab,
}

impl Platform {
    /// How to give the job's clone the whole history.
    pub fn full_clone(self) -> &'static str {
        match self {
            Platform::Github => "check out with actions/checkout and `fetch-depth: 0`",
            Platform::Gitlab => "set the job's variable `GIT_DEPTH: 0`",
        }
    }
}

/// What GitHub tells a step about its run (GitLab's variables read as the same).
#[derive(Debug, Clone)]
pub struct GithubEnv {
    pub platform: Platform,
    pub event_name: String,
    pub event: Value,
    pub workspace: PathBuf,
    pub step_summary: Option<PathBuf>,
    pub output: Option<PathBuf>,
}

impl GithubEnv {
    /// Reads `GITHUB_EVENT_NAME`, `GITHUB_EVENT_PATH`, `GITHUB_WORKSPACE`,
    /// `GITHUB_STEP_SUMMARY` and `GITHUB_OUTPUT`.
    pub fn from_env() -> anyhow::Result<GithubEnv> {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let event_name = var("GITHUB_EVENT_NAME")
            .context("GITHUB_EVENT_NAME is not set: keyhound ci runs in GitHub Actions (elsewhere, use keyhound git --range)")?
            .to_string_lossy()
            .into_owned();
        let event = match var("GITHUB_EVENT_PATH") {
            Some(p) => {
                let text = std::fs::read_to_string(&p).with_context(|| {
                    format!(
                        "{}: cannot read the event (GITHUB_EVENT_PATH)",
                        p.to_string_lossy()
                    )
                })?;
                serde_json::from_str(&text)
                    .with_context(|| format!("{}: the event is not JSON", p.to_string_lossy()))?
            }
            None => Value::Null,
        };
        Ok(GithubEnv {
            platform: Platform::Github,
            event_name,
            event,
            workspace: var("GITHUB_WORKSPACE").map_or_else(|| PathBuf::from("."), PathBuf::from),
            step_summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            output: var("GITHUB_OUTPUT").map(PathBuf::from),
        })
    }
}

/// What to scan for the gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Commits by rev-list tokens (`A..B`, `B ^X`).
    Range(String),
    /// Every commit of every ref.
    History,
    /// Nothing (a deleted branch); the reason is shown.
    Nothing(String),
}

/// The plan for one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub scope: Scope,
    /// The commit whose keyhound.toml, .keyhoundignore and baseline apply (a PR's base).
    pub config_at: Option<String>,
    /// A ref to fetch first (`pull_request_target` checks out the base, not the PR).
    pub fetch: Option<String>,
    /// The commit the gate needs that must be in the clone (else: fetch-depth 0).
    pub needs: Vec<String>,
    /// The pull request's head, whose allow entries the summary compares with the base's.
    pub head: Option<String>,
    pub warnings: Vec<String>,
}

/// How the plan asks about the clone: whether a commit or ref exists.
pub trait CommitLookup {
    fn has_commit(&self, rev: &str) -> bool;
    /// True for a shallow clone, where a missing commit may simply not have been fetched.
    fn is_shallow(&self) -> bool;
}

const ZERO: &str = "0000000000000000000000000000000000000000";

/// The plan for `env`'s event; `range` (from the command line) overrides it.
pub fn plan(
    env: &GithubEnv,
    range: Option<&str>,
    clone: &dyn CommitLookup,
) -> anyhow::Result<Plan> {
    let mut plan = Plan {
        scope: Scope::History,
        config_at: None,
        fetch: None,
        needs: Vec::new(),
        head: None,
        warnings: Vec::new(),
    };
    if let Some(r) = range {
        plan.scope = Scope::Range(r.to_string());
        return Ok(plan);
    }
    let e = &env.event;
    match env.event_name.as_str() {
        "pull_request" | "pull_request_target" => {
            pull_request(e, env.event_name.as_str(), &mut plan)?;
        }
        "merge_group" => {
            let (base, head) = (
                sha(e, "/merge_group/base_sha")?,
                sha(e, "/merge_group/head_sha")?,
            );
            plan.scope = Scope::Range(format!("{base}..{head}"));
            plan.config_at = Some(base.clone());
            plan.needs = vec![base, head];
        }
        "push" => push(e, clone, env.platform, &mut plan)?,
        "workflow_dispatch" | "schedule" => plan.scope = Scope::History,
        other => bail!(
            "keyhound ci does not know which commits a {other:?} event covers; give them with --range A..B"
        ),
    }
    Ok(plan)
}

fn pull_request(e: &Value, name: &str, plan: &mut Plan) -> anyhow::Result<()> {
    let (base, head) = (
        sha(e, "/pull_request/base/sha")?,
        sha(e, "/pull_request/head/sha")?,
    );
    if name == "pull_request_target" {
        let number = e
            .pointer("/pull_request/number")
            .or_else(|| e.get("number"))
            .and_then(Value::as_u64)
            .context("the pull_request_target event has no pull request number")?;
        plan.fetch = Some(format!("refs/pull/{number}/head"));
    }
    plan.scope = Scope::Range(format!("{base}..{head}"));
    plan.config_at = Some(base.clone());
    plan.head = Some(head.clone());
    plan.needs = vec![base, head];
    Ok(())
}

fn push(
    e: &Value,
    clone: &dyn CommitLookup,
    platform: Platform,
    plan: &mut Plan,
) -> anyhow::Result<()> {
    if e.get("deleted").and_then(Value::as_bool) == Some(true) {
        plan.scope = Scope::Nothing("the push deleted the branch: nothing to scan".into());
        return Ok(());
    }
    let after = sha(e, "/after")?;
    let before = e.get("before").and_then(Value::as_str).unwrap_or(ZERO);
    // A new branch's `before` is all zeros: 40 of them, or 64 in a SHA-256 repository.
    let created = before.bytes().all(|b| b == b'0');
    if !created && clone.has_commit(before) {
        plan.scope = Scope::Range(format!("{before}..{after}"));
        plan.needs = vec![after];
        return Ok(());
    }
    if !created && clone.is_shallow() {
        bail!(
            "the commit before the push ({before}) is not in this shallow clone, so the pushed commits \
             cannot be told apart: {}",
            platform.full_clone()
        );
    }
    let default = e
        .pointer("/repository/default_branch")
        .and_then(Value::as_str)
        .unwrap_or("main");
    if e.get("ref").and_then(Value::as_str) == Some(&format!("refs/heads/{default}")) {
        // A new or force-pushed default branch has no other branch to compare with.
        plan.warnings.push(format!(
            "the push replaced the default branch {default:?} and its old tip is not in this clone: \
             scanning the branch's whole history"
        ));
        plan.scope = Scope::Range(after.clone());
        plan.needs = vec![after];
        return Ok(());
    }
    if !created {
        plan.warnings.push(format!(
            "the commit before the push ({before}) is not in this clone (a force-push?): \
             scanning the branch's commits that are not on the default branch"
        ));
    }
    let candidates = [
        format!("refs/remotes/origin/{default}"),
        format!("refs/heads/{default}"),
    ];
    plan.scope = if let Some(r) = candidates.iter().find(|r| clone.has_commit(r)) {
        Scope::Range(format!("{after} ^{r}"))
    } else {
        plan.warnings.push(format!(
            "the default branch {default:?} is not in this clone: scanning all of the branch's history \
             ({})",
            platform.full_clone()
        ));
        Scope::Range(after.clone())
    };
    plan.needs = vec![after];
    Ok(())
}

/// The commit id at `pointer` in the event.
fn sha(e: &Value, pointer: &str) -> anyhow::Result<String> {
    let s = e
        .pointer(pointer)
        .and_then(Value::as_str)
        .with_context(|| format!("the event has no {pointer}"))?;
    if s.len() < 4 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("the event's {pointer} is not a commit id: {s:?}");
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Has(Vec<&'static str>);
    impl CommitLookup for Has {
        fn has_commit(&self, rev: &str) -> bool {
            self.0.contains(&rev)
        }
        fn is_shallow(&self) -> bool {
            false
        }
    }

    fn env(name: &str, event: Value) -> GithubEnv {
        GithubEnv {
            platform: Platform::Github,
            event_name: name.into(),
            event,
            workspace: ".".into(),
            step_summary: None,
            output: None,
        }
    }

    #[test]
    fn events_gate_on_their_commits() {
        let none = Has(vec![]);
        let pr = json!({"number": 7, "pull_request": {"number": 7, "base": {"sha": "aaaa"}, "head": {"sha": "bbbb"}}});
        let p = plan(&env("pull_request", pr.clone()), None, &none).unwrap();
        assert_eq!(p.scope, Scope::Range("aaaa..bbbb".into()));
        assert_eq!(p.config_at.as_deref(), Some("aaaa"));
        let p = plan(&env("pull_request_target", pr), None, &none).unwrap();
        assert_eq!(p.fetch.as_deref(), Some("refs/pull/7/head"));
        let mg = json!({"merge_group": {"base_sha": "cccc", "head_sha": "dddd"}});
        let p = plan(&env("merge_group", mg), None, &none).unwrap();
        assert_eq!(p.scope, Scope::Range("cccc..dddd".into()));
        let p = plan(&env("schedule", Value::Null), None, &none).unwrap();
        assert_eq!(p.scope, Scope::History);
        assert!(plan(&env("issues", Value::Null), None, &none).is_err());
        let p = plan(&env("issues", Value::Null), Some("x..y"), &none).unwrap();
        assert_eq!(p.scope, Scope::Range("x..y".into()));
    }

    #[test]
    fn pushes_cover_new_branches_force_pushes_and_deletions() {
        let after = "bbbb";
        let push = |before: &str| json!({"before": before, "after": after, "repository": {"default_branch": "trunk"}});
        let has = Has(vec!["aaaa", "refs/remotes/origin/trunk"]);
        let p = plan(&env("push", push("aaaa")), None, &has).unwrap();
        assert_eq!(p.scope, Scope::Range("aaaa..bbbb".into()));
        let p = plan(&env("push", push(ZERO)), None, &has).unwrap();
        assert_eq!(
            p.scope,
            Scope::Range("bbbb ^refs/remotes/origin/trunk".into())
        );
        assert!(p.warnings.is_empty());
        let p = plan(&env("push", push("eeee")), None, &has).unwrap();
        assert_eq!(
            p.scope,
            Scope::Range("bbbb ^refs/remotes/origin/trunk".into())
        );
        assert_eq!(p.warnings.len(), 1);
        let p = plan(
            &env("push", json!({"deleted": true, "after": ZERO})),
            None,
            &has,
        )
        .unwrap();
        assert!(matches!(p.scope, Scope::Nothing(_)));
    }

    /// A shallow clone that holds only the pushed commit.
    struct Shallow;
    impl CommitLookup for Shallow {
        fn has_commit(&self, rev: &str) -> bool {
            rev == "bbbb"
        }
        fn is_shallow(&self) -> bool {
            true
        }
    }

    #[test]
    fn a_gitlab_job_is_told_gitlab_s_fix_for_a_shallow_clone() {
        let push =
            |before: &str| json!({"before": before, "after": "bbbb", "ref": "refs/heads/feature"});
        let mut gitlab = env("push", push("aaaa"));
        gitlab.platform = Platform::Gitlab;
        let e = plan(&gitlab, None, &Shallow).expect_err("before is not in the clone");
        assert!(e.to_string().contains("GIT_DEPTH: 0"), "{e}");
        assert!(!e.to_string().contains("actions/checkout"), "{e}");
        gitlab.event = push(ZERO);
        let p = plan(&gitlab, None, &Shallow).expect("the branch's history");
        assert_eq!(p.warnings.len(), 1);
        assert!(p.warnings[0].contains("GIT_DEPTH: 0"), "{:?}", p.warnings);
        assert!(
            !p.warnings[0].contains("actions/checkout"),
            "{:?}",
            p.warnings
        );
        let e = plan(&env("push", push("aaaa")), None, &Shallow).expect_err("on GitHub too");
        assert!(e.to_string().contains("actions/checkout"), "{e}");
    }
}
