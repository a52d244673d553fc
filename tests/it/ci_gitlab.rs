//! `keyhound ci` in GitLab CI: each test builds the repository a job sees and runs the real
//! binary with GitLab's predefined variables for a merge request, a push, a new branch and a
//! scheduled pipeline; the gate covers the same commits as on GitHub and nothing on standard
//! output is a GitHub workflow command.

use crate::repo::GitRepo;
use crate::util::{CI_ENV, GIT_ENV, kh, project_key};
use serde_json::Value;
use std::path::Path;

/// GitLab's `CI_COMMIT_BEFORE_SHA` in merge-request pipelines and for new branches.
const ZERO: &str = "0000000000000000000000000000000000000000";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    /// The GitLab report's vulnerabilities: (file, commit).
    found: Vec<(String, String)>,
}

/// `keyhound ci --format gitlab -o REPORT` in `repo` as a GitLab job with `vars`.
fn ci(repo: &GitRepo, vars: &[(&str, &str)]) -> Run {
    let report = repo.path().join("../gl-secret-detection-report.json");
    let _ = std::fs::remove_file(&report);
    let mut cmd = kh();
    for var in GIT_ENV.iter().chain(CI_ENV) {
        cmd.env_remove(var);
    }
    cmd.current_dir(repo.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GITLAB_CI", "true")
        .env("CI_PROJECT_DIR", repo.path())
        .envs(vars.iter().copied())
        .args(["ci", "--format", "gitlab", "-o"])
        .arg(&report);
    let out = cmd.output().expect("keyhound runs");
    let found = match std::fs::read(&report) {
        Ok(bytes) => {
            let doc: Value = serde_json::from_slice(&bytes).expect("JSON report");
            doc["vulnerabilities"]
                .as_array()
                .expect("vulnerabilities")
                .iter()
                .map(|v| {
                    let s = |x: &Value| x.as_str().expect("string").to_string();
                    (
                        s(&v["location"]["file"]),
                        s(&v["location"]["commit"]["sha"]),
                    )
                })
                .collect()
        }
        Err(_) => Vec::new(),
    };
    let run = Run {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        found,
    };
    assert!(
        !run.stdout.lines().any(|l| l.starts_with("::")),
        "a GitHub workflow command in a GitLab job:\n{}",
        run.stdout
    );
    run
}

impl Run {
    fn why(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr)
    }
}

/// `main` with `old.env` holding a key, then `feature` checked out from it; the base commit.
fn main_with_a_key(dir: &Path) -> (GitRepo, String) {
    let repo = GitRepo::init(dir.join("ws"), 0);
    repo.write("README.md", "base\n");
    repo.write("old.env", format!("OPENAI_API_KEY={}\n", project_key(9700)));
    let base = repo.commit("base with a key");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    (repo, base)
}

#[test]
fn a_merge_request_gates_on_its_own_commits() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (repo, base) = main_with_a_key(tmp.path());
    repo.write("docs.md", "docs\n");
    repo.commit("docs");
    repo.write("app/mr.env", format!("KEY={}\n", project_key(9701)));
    let head = repo.commit("add a key");
    let vars = [
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
        ("CI_MERGE_REQUEST_DIFF_BASE_SHA", base.as_str()),
        ("CI_COMMIT_SHA", head.as_str()),
        ("CI_COMMIT_BEFORE_SHA", ZERO),
    ];
    let run = ci(&repo, &vars);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found, [("app/mr.env".to_string(), head.clone())]);

    repo.git(&["reset", "-q", "--hard", "HEAD^"]);
    repo.write("app/mr.txt", "no key\n");
    let clean = repo.commit("no key");
    let vars = [
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
        ("CI_MERGE_REQUEST_DIFF_BASE_SHA", base.as_str()),
        ("CI_COMMIT_SHA", clean.as_str()),
        ("CI_COMMIT_BEFORE_SHA", ZERO),
    ];
    let run = ci(&repo, &vars);
    assert_eq!(
        run.code,
        0,
        "the base branch's key is not the MR's: {}",
        run.why()
    );
    assert!(run.found.is_empty());
}

#[test]
fn a_push_gates_on_before_to_after() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (repo, _) = main_with_a_key(tmp.path());
    repo.write("docs.md", "docs\n");
    let before = repo.commit("docs");
    repo.write("pushed.env", format!("KEY={}\n", project_key(9702)));
    let after = repo.commit("add a key");
    let vars = [
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BEFORE_SHA", before.as_str()),
        ("CI_COMMIT_SHA", after.as_str()),
        ("CI_COMMIT_BRANCH", "feature"),
        ("CI_DEFAULT_BRANCH", "main"),
    ];
    let run = ci(&repo, &vars);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found, [("pushed.env".to_string(), after)]);
}

#[test]
fn a_new_branch_gates_on_its_commits_not_on_the_default_branch() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (repo, _) = main_with_a_key(tmp.path());
    repo.write("branch.env", format!("KEY={}\n", project_key(9703)));
    let first = repo.commit("add a key");
    repo.write("docs.md", "docs\n");
    let after = repo.commit("docs");
    let vars = [
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BEFORE_SHA", ZERO),
        ("CI_COMMIT_SHA", after.as_str()),
        ("CI_COMMIT_BRANCH", "feature"),
        ("CI_DEFAULT_BRANCH", "main"),
    ];
    let run = ci(&repo, &vars);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found, [("branch.env".to_string(), first)]);
}

#[test]
fn a_scheduled_pipeline_scans_the_whole_history() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (repo, base) = main_with_a_key(tmp.path());
    repo.remove("old.env");
    repo.commit("remove the key");
    let run = ci(&repo, &[("CI_PIPELINE_SOURCE", "schedule")]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found, [("old.env".to_string(), base)]);
}

#[test]
fn an_unknown_pipeline_source_needs_a_range_and_a_shallow_clone_names_git_depth() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (repo, base) = main_with_a_key(tmp.path());
    let run = ci(&repo, &[("CI_PIPELINE_SOURCE", "trigger")]);
    assert_eq!(run.code, 2, "{}", run.why());
    assert!(run.stderr.contains("--range"), "{}", run.why());
    let vars = [
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
        (
            "CI_MERGE_REQUEST_DIFF_BASE_SHA",
            "1234567890abcdef1234567890abcdef12345678",
        ),
        ("CI_COMMIT_SHA", base.as_str()),
    ];
    let run = ci(&repo, &vars);
    assert_eq!(run.code, 2, "{}", run.why());
    assert!(run.stderr.contains("GIT_DEPTH: 0"), "{}", run.why());
}
