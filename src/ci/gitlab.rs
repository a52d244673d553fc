//! GitLab CI for `keyhound ci`: its predefined variables read as the GitHub event they match (a
//! merge request as a pull request, a push as a push, a schedule or a manual run as a scheduled
//! run), so both platforms gate on the same commits through one planner (`event::plan`).

use super::event::{GithubEnv, Platform};
use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use std::path::PathBuf;

/// GitLab's all-zero commit: `CI_COMMIT_BEFORE_SHA` in merge-request pipelines, for a new branch
/// or tag, and for pipelines not started by a push.
const ZERO: &str = "0000000000000000000000000000000000000000";

/// True inside a GitLab CI job (`GITLAB_CI=true`) that is not also a GitHub Actions step.
pub fn detected() -> bool {
    std::env::var_os("GITHUB_ACTIONS").is_none()
        && std::env::var("GITLAB_CI").is_ok_and(|v| v == "true")
}

/// The job's pipeline, read from the process's variables.
pub fn from_env() -> anyhow::Result<GithubEnv> {
    from_vars(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
}

/// The pipeline as the GitHub event it matches, from `var` (GitLab's predefined variables).
pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<GithubEnv> {
    let source = var("CI_PIPELINE_SOURCE")
        .context("CI_PIPELINE_SOURCE is not set: is this a GitLab CI job?")?;
    let (event_name, event) = match source.as_str() {
        "merge_request_event" => ("pull_request", merge_request(&var)?),
        "external_pull_request_event" => ("pull_request", external_pull_request(&var)?),
        "push" => ("push", push(&var)?),
        // Scheduled and manual pipelines, as GitHub's schedule and workflow_dispatch.
        "schedule" | "web" => ("schedule", Value::Null),
        // Others (trigger, api, pipeline, …) need --range, as unknown GitHub events do.
        other => (other, Value::Null),
    };
    Ok(GithubEnv {
        platform: Platform::Gitlab,
        event_name: event_name.into(),
        event,
        workspace: var("CI_PROJECT_DIR").map_or_else(|| PathBuf::from("."), PathBuf::from),
        step_summary: None,
        output: None,
    })
}

/// A merge request: the commits between the diff base (where the source branch left the target)
/// and the source branch's head. A merged-results pipeline runs on a merge commit
/// (`CI_COMMIT_SHA`) that holds the target's newer commits too: its source head is
/// `CI_MERGE_REQUEST_SOURCE_BRANCH_SHA`.
fn merge_request(var: &impl Fn(&str) -> Option<String>) -> anyhow::Result<Value> {
    let base = commit(var, "CI_MERGE_REQUEST_DIFF_BASE_SHA")?;
    let head = match var("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA") {
        Some(_) => commit(var, "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA")?,
        None => commit(var, "CI_COMMIT_SHA")?,
    };
    Ok(pull_request(&base, &head))
}

/// A pipeline for a GitHub pull request of a repository mirrored into GitLab.
fn external_pull_request(var: &impl Fn(&str) -> Option<String>) -> anyhow::Result<Value> {
    let base = commit(var, "CI_EXTERNAL_PULL_REQUEST_TARGET_BRANCH_SHA")?;
    let head = commit(var, "CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_SHA")?;
    Ok(pull_request(&base, &head))
}

fn pull_request(base: &str, head: &str) -> Value {
    json!({"pull_request": {"base": {"sha": base}, "head": {"sha": head}}})
}

/// A push: `CI_COMMIT_BEFORE_SHA..CI_COMMIT_SHA`, or for a new branch or tag (before all zeros)
/// its commits not on `CI_DEFAULT_BRANCH`.
fn push(var: &impl Fn(&str) -> Option<String>) -> anyhow::Result<Value> {
    let after = commit(var, "CI_COMMIT_SHA")?;
    let before = match var("CI_COMMIT_BEFORE_SHA") {
        Some(_) => commit(var, "CI_COMMIT_BEFORE_SHA")?,
        None => ZERO.to_string(),
    };
    let git_ref = match (var("CI_COMMIT_TAG"), var("CI_COMMIT_BRANCH")) {
        (Some(tag), _) => format!("refs/tags/{tag}"),
        (None, Some(branch)) => format!("refs/heads/{branch}"),
        (None, None) => String::new(),
    };
    let default = var("CI_DEFAULT_BRANCH").unwrap_or_else(|| "main".into());
    Ok(json!({
        "ref": git_ref,
        "before": before,
        "after": after,
        "repository": {"default_branch": default},
    }))
}

/// The commit id in variable `name`.
fn commit(var: &impl Fn(&str) -> Option<String>, name: &str) -> anyhow::Result<String> {
    let s = var(name).with_context(|| format!("{name} is not set"))?;
    if s.len() < 4 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("{name} is not a commit id: {s:?}");
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> anyhow::Result<GithubEnv> {
        from_vars(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn merge_requests_read_as_pull_requests_of_their_own_commits() {
        let e = env(&[
            ("CI_PIPELINE_SOURCE", "merge_request_event"),
            ("CI_MERGE_REQUEST_DIFF_BASE_SHA", "aaaa"),
            ("CI_COMMIT_SHA", "bbbb"),
            ("CI_COMMIT_BEFORE_SHA", ZERO),
        ])
        .unwrap();
        assert_eq!(e.event_name, "pull_request");
        assert_eq!(e.event, pull_request("aaaa", "bbbb"));
        let merged_results = env(&[
            ("CI_PIPELINE_SOURCE", "merge_request_event"),
            ("CI_MERGE_REQUEST_DIFF_BASE_SHA", "aaaa"),
            ("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA", "cccc"),
            ("CI_COMMIT_SHA", "dddd"),
        ])
        .unwrap();
        assert_eq!(merged_results.event, pull_request("aaaa", "cccc"));
    }

    #[test]
    fn pushes_schedules_and_unknown_sources() {
        let e = env(&[
            ("CI_PIPELINE_SOURCE", "push"),
            ("CI_COMMIT_BEFORE_SHA", "aaaa"),
            ("CI_COMMIT_SHA", "bbbb"),
            ("CI_COMMIT_BRANCH", "feature"),
            ("CI_DEFAULT_BRANCH", "trunk"),
        ])
        .unwrap();
        assert_eq!(e.event["before"], "aaaa");
        assert_eq!(e.event["ref"], "refs/heads/feature");
        assert_eq!(e.event["repository"]["default_branch"], "trunk");
        let s = env(&[("CI_PIPELINE_SOURCE", "schedule")]).unwrap();
        assert_eq!(s.event_name, "schedule");
        let t = env(&[("CI_PIPELINE_SOURCE", "trigger")]).unwrap();
        assert_eq!(t.event_name, "trigger", "event::plan asks for --range");
        assert!(env(&[]).is_err());
        let bad = env(&[
            ("CI_PIPELINE_SOURCE", "push"),
            ("CI_COMMIT_SHA", "not a sha"),
        ]);
        assert!(bad.is_err());
    }
}
