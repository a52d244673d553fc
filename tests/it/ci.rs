//! `keyhound ci`: the GitHub Action's logic. Each test builds, at run time, the repositories a
//! workflow run sees (a developer's repository, a bare `origin`, the runner's workspace cloned
//! from it) and the event file GitHub writes, then runs the real binary with GitHub's
//! environment: which commits each event gates on, the allow-lists a pull request cannot change
//! for itself, the annotations, job summary, step outputs and the SARIF state, and `action.yml`.

use crate::util::{CI_ENV, EPOCH, GIT_ENV, Report, check_schema, git_in, kh, ok, project_key};
use serde_json::{Value, json};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::{Command as Std, Output};
use std::time::Duration;

/// A push event's `before` for a new branch, and `after` for a deleted one.
const ZERO: &str = "0000000000000000000000000000000000000000";

/// A `file://` URL, so clones and fetches go through git's transport (a plain path would copy
/// every object, unreachable ones too).
fn url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A `.env` line carrying `key`.
fn env_line(key: &str) -> String {
    format!("OPENAI_API_KEY={key}\n")
}

fn pair(path: &str, key: &str) -> (String, String) {
    (path.to_string(), key.to_string())
}

/// A temporary directory holding the repositories of one test and the files of its runs; every
/// git command is dated one minute after the one before.
struct Lab {
    tmp: tempfile::TempDir,
    clock: Cell<u64>,
    runs: Cell<u32>,
}

/// A repository (or clone) in a lab.
struct Repo<'l> {
    lab: &'l Lab,
    dir: PathBuf,
}

impl Lab {
    fn new() -> Lab {
        Lab {
            tmp: tempfile::tempdir().expect("temp dir"),
            clock: Cell::new(0),
            runs: Cell::new(0),
        }
    }

    fn at(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// `git ARGS` in `dir`, dated, whatever its exit status.
    fn cmd(&self, dir: &Path, args: &[&str]) -> Std {
        let t = EPOCH + 60 * self.clock.get();
        self.clock.set(self.clock.get() + 1);
        let mut cmd = git_in(dir);
        cmd.env("GIT_AUTHOR_DATE", format!("{t} +0200"))
            .env("GIT_COMMITTER_DATE", format!("{} +0000", t + 30))
            .args(args);
        cmd
    }

    /// `git init` with branch `main` at `name`.
    fn repo(&self, name: &str) -> Repo<'_> {
        ok(self.cmd(self.tmp.path(), &["init", "-q", name]));
        Repo {
            lab: self,
            dir: self.at(name),
        }
    }

    /// An empty bare repository at `name`, the `origin` of later clones.
    fn bare(&self, name: &str) -> PathBuf {
        ok(self.cmd(self.tmp.path(), &["init", "-q", "--bare", name]));
        self.at(name)
    }

    /// `git clone -q ARGS file://ORIGIN NAME`: a workspace as actions/checkout leaves it.
    fn clone_of(&self, origin: &Path, name: &str, args: &[&str]) -> Repo<'_> {
        let mut all = vec!["clone", "-q"];
        all.extend_from_slice(args);
        let from = url(origin);
        all.extend_from_slice(&[from.as_str(), name]);
        ok(self.cmd(self.tmp.path(), &all));
        Repo {
            lab: self,
            dir: self.at(name),
        }
    }

    /// The directory of the next run's files (event, summary, outputs, reports), created.
    fn next_run_dir(&self) -> PathBuf {
        let dir = self.at(&format!("run-{}", self.runs.get()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        dir
    }

    /// `keyhound ci ARGS` in workspace `ws` for event `name` with payload `event`, the JSON
    /// report (secrets shown) written to a file and SARIF to another: standard output holds only
    /// what `ci` writes for the runner (annotations, warnings).
    fn ci(&self, ws: &Path, name: &str, event: &Value, args: &[&str]) -> Run {
        self.run_ci(ws, Some(name), Some(event), args, false)
    }

    /// `keyhound ci ARGS` as action.yml runs it: the human report on standard output.
    fn ci_human(&self, ws: &Path, name: &str, event: &Value, args: &[&str]) -> Run {
        self.run_ci(ws, Some(name), Some(event), args, true)
    }

    fn run_ci(
        &self,
        ws: &Path,
        name: Option<&str>,
        event: Option<&Value>,
        args: &[&str],
        human: bool,
    ) -> Run {
        let dir = self.next_run_dir();
        self.runs.set(self.runs.get() + 1);
        let (summary, output) = (dir.join("summary.md"), dir.join("output.txt"));
        let (report, sarif) = (dir.join("report.json"), dir.join("state.sarif"));
        let mut cmd = kh();
        for var in GIT_ENV.iter().chain(CI_ENV) {
            cmd.env_remove(var);
        }
        cmd.env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GITHUB_WORKSPACE", ws)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_OUTPUT", &output);
        if let Some(name) = name {
            cmd.env("GITHUB_EVENT_NAME", name);
        }
        if let Some(event) = event {
            let path = dir.join("event.json");
            std::fs::write(&path, serde_json::to_vec_pretty(event).expect("JSON")).expect("write");
            cmd.env("GITHUB_EVENT_PATH", path);
        }
        cmd.current_dir(ws)
            .timeout(Duration::from_secs(120))
            .arg("ci")
            .arg("--sarif")
            .arg(&sarif);
        if !human {
            cmd.args(["--format", "json", "--show-secrets", "-o"])
                .arg(&report);
        }
        let out = cmd.args(args).output().expect("keyhound runs");
        Run::new(&out, &summary, &output, &report, &sarif)
    }

    /// `keyhound git ARGS` in `dir`: the whole output.
    fn keyhound_git(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = kh();
        for var in GIT_ENV.iter().chain(CI_ENV) {
            cmd.env_remove(var);
        }
        cmd.env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .current_dir(dir)
            .timeout(Duration::from_secs(120))
            .arg("git")
            .args(args)
            .output()
            .expect("keyhound runs")
    }
}

impl Repo<'_> {
    fn path(&self) -> &Path {
        &self.dir
    }

    /// `git ARGS`, asserting success; its output, trimmed.
    fn git(&self, args: &[&str]) -> String {
        ok(self.lab.cmd(&self.dir, args))
    }

    fn write(&self, path: &str, data: impl AsRef<[u8]>) {
        let p = self.dir.join(path);
        std::fs::create_dir_all(p.parent().expect("has parent")).expect("mkdir");
        std::fs::write(p, data).expect("write");
    }

    fn remove(&self, path: &str) {
        std::fs::remove_file(self.dir.join(path)).expect("rm");
    }

    /// Stages everything and commits it; the new commit's id.
    fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", msg]);
        self.head()
    }

    fn head(&self) -> String {
        self.rev("HEAD")
    }

    fn rev(&self, spec: &str) -> String {
        self.git(&["rev-parse", spec])
    }

    /// Whether commit `id` is in this clone.
    fn has(&self, id: &str) -> bool {
        self.lab
            .cmd(&self.dir, &["cat-file", "-e", &format!("{id}^{{commit}}")])
            .output()
            .expect("git runs")
            .status
            .success()
    }
}

/// What one `keyhound ci` run left behind.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    /// GITHUB_STEP_SUMMARY after the run.
    summary: String,
    /// GITHUB_OUTPUT after the run.
    output: String,
    /// The `-o` JSON report, when one was asked for and written (checked against the schema).
    report: Option<Report>,
    sarif: Option<Value>,
}

impl Run {
    fn new(out: &Output, summary: &Path, output: &Path, report: &Path, sarif: &Path) -> Run {
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{stderr}");
        let code = out
            .status
            .code()
            .unwrap_or_else(|| panic!("killed (a hang?); stderr: {stderr}"));
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        let report = std::fs::read(report).ok().map(|bytes| {
            let doc: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "bad JSON report ({e}):\n{}",
                    String::from_utf8_lossy(&bytes)
                )
            });
            check_schema(&doc, None);
            serde_json::from_value(doc).unwrap_or_else(|e| panic!("bad report ({e})"))
        });
        let sarif = std::fs::read(sarif)
            .ok()
            .map(|bytes| serde_json::from_slice(&bytes).expect("SARIF is JSON"));
        Run {
            code,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr,
            summary: read(summary),
            output: read(output),
            report,
            sarif,
        }
    }

    /// Everything, for assertion messages.
    fn why(&self) -> String {
        format!(
            "exit {}\nstdout:\n{}\nstderr:\n{}\nsummary:\n{}\noutput:\n{}",
            self.code, self.stdout, self.stderr, self.summary, self.output
        )
    }

    fn report(&self) -> &Report {
        self.report
            .as_ref()
            .unwrap_or_else(|| panic!("no report written\n{}", self.why()))
    }

    /// (path, secret) of every finding, sorted.
    fn found(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .report()
            .findings
            .iter()
            .map(|f| (f.path.clone(), f.secret.clone()))
            .collect();
        v.sort();
        v
    }

    /// The lines of standard output, split as the runner splits them.
    fn lines(&self) -> impl Iterator<Item = &str> {
        self.stdout.split(['\n', '\r'])
    }

    /// Every line the runner would take for a workflow command: it trims leading white space and
    /// looks for `::` (or the legacy `##[`), except between `::stop-commands::TOKEN` and
    /// `::TOKEN::`, which turn command processing off and on again.
    fn commands(&self) -> Vec<&str> {
        let mut stopped: Option<String> = None;
        let mut out = Vec::new();
        for line in self.lines() {
            let t = line.trim_start();
            if let Some(token) = &stopped {
                if t == format!("::{token}::") {
                    stopped = None;
                }
                continue;
            }
            if let Some(token) = t.strip_prefix("::stop-commands::") {
                stopped = Some(token.to_string());
            } else if t.starts_with("::") || t.contains("##[") {
                out.push(line);
            }
        }
        assert!(stopped.is_none(), "commands stay stopped: {}", self.stdout);
        out
    }

    fn annotations(&self) -> Vec<&str> {
        self.commands()
            .into_iter()
            .filter(|l| l.starts_with("::error "))
            .collect()
    }

    fn warnings(&self) -> Vec<&str> {
        self.commands()
            .into_iter()
            .filter(|l| l.starts_with("::warning "))
            .collect()
    }

    /// The rows of the summary's findings table.
    fn summary_rows(&self) -> Vec<&str> {
        self.summary
            .lines()
            .filter(|l| l.starts_with("| `"))
            .collect()
    }

    fn sarif(&self) -> &Value {
        self.sarif
            .as_ref()
            .unwrap_or_else(|| panic!("no SARIF written\n{}", self.why()))
    }

    /// `runs[0].automationDetails.id` of the SARIF.
    fn sarif_id(&self) -> Option<&str> {
        self.sarif()["runs"][0]["automationDetails"]["id"].as_str()
    }

    /// The file of every SARIF result, sorted.
    fn sarif_uris(&self) -> Vec<String> {
        let results = self.sarif()["runs"][0]["results"]
            .as_array()
            .expect("results");
        let mut v: Vec<String> = results
            .iter()
            .map(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .expect("uri")
                    .to_string()
            })
            .collect();
        v.sort();
        v
    }
}

/// A `pull_request` (or `pull_request_target`) event for pull request #1.
fn pr_event(base: &str, head: &str) -> Value {
    json!({
        "action": "synchronize",
        "number": 1,
        "pull_request": {
            "number": 1,
            "base": {"ref": "main", "sha": base},
            "head": {"ref": "feature", "sha": head},
        },
        "repository": {"default_branch": "main"},
    })
}

/// A `push` event to `branch`.
fn push_event(branch: &str, before: &str, after: &str, default_branch: &str) -> Value {
    json!({
        "ref": format!("refs/heads/{branch}"),
        "before": before,
        "after": after,
        "created": before == ZERO,
        "deleted": false,
        "forced": false,
        "repository": {"default_branch": default_branch},
    })
}

/// A repository `ws` whose `main` has `base.env` with a key; `feature` is checked out, forked
/// from it. Returns the repository, the key and the base commit.
fn base_with_a_key(lab: &Lab, seed: u64) -> (Repo<'_>, String, String) {
    let repo = lab.repo("ws");
    let key = project_key(seed);
    repo.write("README.md", "base\n");
    repo.write("base.env", env_line(&key));
    let base = repo.commit("base with a key");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    (repo, key, base)
}

// ---- pull_request

#[test]
fn a_pull_request_adding_a_key_fails_with_an_annotation_a_summary_and_outputs() {
    let lab = Lab::new();
    let (repo, old, base) = base_with_a_key(&lab, 9500);
    let new = project_key(9501);
    repo.write("README.md", "docs\n");
    repo.commit("docs");
    let text = format!("# config\n{}", env_line(&new));
    repo.write("app/pr.env", &text);
    let head = repo.commit("add a key");

    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("app/pr.env", &new)]);
    let f = &run.report().findings[0];
    assert_eq!((f.line, f.column), (2, 16));
    let git = f.git.as_ref().expect("git object");
    assert_eq!(git.commit.as_deref(), Some(head.as_str()));
    assert_eq!(run.report().stats.commits, Some(2));

    // One annotation at the key, and the key itself nowhere, even with --show-secrets.
    let notes = run.annotations();
    assert_eq!(notes.len(), 1, "{}", run.why());
    assert!(
        notes[0].starts_with(
            "::error file=app/pr.env,line=2,col=16,title=Leaked key%3A kh.openai.project::"
        ),
        "{}",
        notes[0]
    );
    assert!(notes[0].contains(&head[..10]), "{}", notes[0]);
    assert_eq!(run.commands(), notes, "{}", run.why());
    assert!(!run.stdout.contains(&new) && !run.stdout.contains(&old));

    assert_eq!(run.output, "findings=1\n");
    assert!(
        run.summary.starts_with("## keyhound: 1 leaked key\n"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains(&format!("{base}..{head}")),
        "{}",
        run.summary
    );
    let rows = run.summary_rows();
    assert_eq!(rows.len(), 1, "{}", run.summary);
    assert!(
        rows[0].contains("| kh.openai.project | app/pr.env:2 |") && rows[0].contains(&head[..10]),
        "{}",
        rows[0]
    );
    assert!(!run.summary.contains(&new));

    // The SARIF is the state of the checked-out tree: the base's key too.
    assert_eq!(run.sarif_id(), Some("keyhound/tree/"));
    assert_eq!(run.sarif_uris(), ["app/pr.env", "base.env"]);
}

#[test]
fn a_clean_pull_request_passes_and_its_sarif_still_holds_the_base_branchs_key() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9502);
    repo.write("src/lib.rs", "pub fn f() {}\n");
    let head = repo.commit("code");

    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 0, "{}", run.why());
    assert_eq!(run.found(), []);
    assert!(run.commands().is_empty(), "{}", run.why());
    assert_eq!(run.output, "findings=0\n");
    assert!(
        run.summary.starts_with("## keyhound: no leaked keys\n"),
        "{}",
        run.summary
    );
    assert!(run.summary_rows().is_empty());
    assert_eq!(run.sarif_id(), Some("keyhound/tree/"));
    assert_eq!(run.sarif_uris(), ["base.env"]);
}

#[test]
fn a_pull_requests_sarif_names_its_head_or_base_never_the_temporary_merge_commit() {
    let lab = Lab::new();
    let (repo, _, _) = base_with_a_key(&lab, 9520);
    repo.write("app/pr.env", env_line(&project_key(9521)));
    let head = repo.commit("the pull request's key");
    // The base branch moves on with a key of its own; GitHub checks out the merge of both.
    repo.git(&["checkout", "-q", "main"]);
    repo.write("later.env", env_line(&project_key(9522)));
    let base = repo.commit("a key on main");
    repo.git(&["checkout", "-q", "--detach", "main"]);
    repo.git(&["merge", "-q", "--no-ff", &head, "-m", "Merge into main"]);
    let merge = repo.head();

    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    let results = run.sarif()["runs"][0]["results"]
        .as_array()
        .expect("results");
    let named: Vec<(String, String)> = results
        .iter()
        .map(|r| {
            let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .expect("uri");
            let text = r["message"]["text"].as_str().expect("message");
            assert!(
                !text.contains(&merge[..10]),
                "names the merge commit: {text}"
            );
            let commit = r["properties"]["git"]["commit"].as_str().expect("commit");
            assert!(text.contains(commit), "{text}");
            (uri.to_string(), commit.to_string())
        })
        .collect();
    let mut named = named;
    named.sort();
    assert_eq!(
        named,
        [
            ("app/pr.env".to_string(), head.clone()),
            ("base.env".to_string(), head.clone()),
            ("later.env".to_string(), base.clone()),
        ]
    );
}

#[test]
fn merging_main_into_the_pull_request_does_not_report_mains_keys() {
    let lab = Lab::new();
    let repo = lab.repo("ws");
    let (main_key, other_main_key, branch_key) =
        (project_key(9503), project_key(9504), project_key(9505));
    let lines: Vec<String> = (1..=10).map(|i| format!("line {i}\n")).collect();
    repo.write("shared.txt", lines.concat());
    repo.commit("base");
    repo.git(&["branch", "feature"]);
    // main: a key appended to the shared file, and a file of its own.
    repo.write(
        "shared.txt",
        format!("{}{}", lines.concat(), env_line(&main_key)),
    );
    repo.write("main.env", env_line(&other_main_key));
    let base = repo.commit("main keys");
    // feature: another line of the shared file, then main merged in.
    repo.git(&["checkout", "-q", "feature"]);
    repo.write("shared.txt", format!("line one\n{}", lines[1..].concat()));
    repo.commit("feature edit");
    repo.git(&["merge", "-q", "--no-ff", "main", "-m", "merge main"]);
    let head = repo.head();

    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 0, "{}", run.why());
    assert_eq!(run.found(), []);
    assert!(run.annotations().is_empty(), "{}", run.why());
    assert_eq!(run.output, "findings=0\n");
    assert_eq!(run.sarif_uris(), ["main.env", "shared.txt"]);

    // A key the branch adds after the merge is still reported.
    repo.write("branch.env", env_line(&branch_key));
    let head = repo.commit("branch key");
    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("branch.env", &branch_key)]);
    assert_eq!(run.output, "findings=1\n");
}

#[test]
fn a_key_in_a_pull_request_commit_message_is_annotated_without_a_file() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9506);
    let key = project_key(9507);
    repo.write("notes.txt", "notes\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", &format!("try it\n\nwith {key}\n")]);
    let head = repo.head();

    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.report().findings.len(), 1);
    let notes = run.annotations();
    assert_eq!(notes.len(), 1, "{}", run.why());
    assert!(
        notes[0].starts_with("::error title=Leaked key%3A kh.openai.project::"),
        "{}",
        notes[0]
    );
    assert!(
        notes[0].contains(&format!("the message of commit {}", &head[..10])),
        "{}",
        notes[0]
    );
    assert!(!run.stdout.contains(&key));
}

#[test]
fn a_shallow_clone_without_the_base_commit_is_an_error_naming_fetch_depth() {
    let lab = Lab::new();
    let dev = lab.repo("dev");
    dev.write("README.md", "one\n");
    dev.commit("one");
    dev.write("README.md", "two\n");
    let base = dev.commit("two");
    dev.git(&["checkout", "-q", "-b", "feature"]);
    dev.write("pr.env", env_line(&project_key(9508)));
    let head = dev.commit("key");
    let origin = lab.bare("origin.git");
    dev.git(&["push", "-q", &url(&origin), "main", "feature"]);
    let ws = lab.clone_of(&origin, "ws", &["--depth", "1", "-b", "feature"]);
    assert!(ws.has(&head) && !ws.has(&base), "a shallow clone");

    let run = lab.ci(ws.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 2, "{}", run.why());
    assert!(run.stderr.contains("fetch-depth: 0"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&base),
        "names the missing commit: {}",
        run.stderr
    );
    assert!(run.annotations().is_empty());
}

// ---- pull_request_target

/// A developer's repository pushed to a bare origin: `main` (with `base.env`'s key) and the pull
/// request's commits as `refs/pull/1/head`; the workspace is a clone of origin with `main`
/// checked out, as pull_request_target runs. Returns (workspace, base, head).
fn pull_request_target_lab<'l>(
    lab: &'l Lab,
    base_key: &str,
    pr: &dyn Fn(&Repo<'_>),
) -> (Repo<'l>, String, String) {
    let dev = lab.repo("dev");
    dev.write("README.md", "base\n");
    dev.write("base.env", env_line(base_key));
    let base = dev.commit("base");
    dev.git(&["checkout", "-q", "-b", "feature"]);
    pr(&dev);
    let head = dev.head();
    let origin = lab.bare("origin.git");
    dev.git(&[
        "push",
        "-q",
        &url(&origin),
        "main",
        "feature:refs/pull/1/head",
    ]);
    let ws = lab.clone_of(&origin, "ws", &["-b", "main"]);
    assert!(!ws.has(&head), "the workspace has the base only");
    (ws, base, head)
}

#[test]
fn pull_request_target_fetches_the_pull_request_and_gates_on_its_commits() {
    let lab = Lab::new();
    let (old, new) = (project_key(9510), project_key(9511));
    let (ws, base, head) = pull_request_target_lab(&lab, &old, &|dev| {
        dev.write("pr.env", env_line(&new));
        dev.commit("a key");
        dev.write("more.txt", "more\n");
        dev.commit("more");
    });

    let run = lab.ci(
        ws.path(),
        "pull_request_target",
        &pr_event(&base, &head),
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.why());
    assert!(ws.has(&head), "fetched refs/pull/1/head");
    assert_eq!(run.found(), [pair("pr.env", &new)]);
    assert_eq!(run.report().stats.commits, Some(2));
    assert_eq!(run.output, "findings=1\n");
    assert_eq!(run.annotations().len(), 1, "{}", run.why());
    assert!(run.annotations()[0].starts_with("::error file=pr.env,line=1,col=16,"));
    // The checked-out tree is the base: its SARIF holds the base's key, not the PR's.
    assert_eq!(run.sarif_id(), Some("keyhound/tree/"));
    assert_eq!(run.sarif_uris(), ["base.env"]);
}

#[test]
fn pull_request_target_cannot_allow_its_own_key_and_the_summary_lists_the_entry() {
    let lab = Lab::new();
    let (old, new) = (project_key(9512), project_key(9513));
    // The key's fingerprint, from a scan of the key alone.
    let probe = lab.repo("probe");
    probe.write("pr.env", env_line(&new));
    probe.commit("key");
    let out = lab.keyhound_git(probe.path(), &["--format", "json"]);
    let report: Report = serde_json::from_slice(&out.stdout).expect("JSON report");
    let fp = report.findings[0].fingerprint.clone();

    let (ws, base, head) = pull_request_target_lab(&lab, &old, &|dev| {
        dev.write("pr.env", env_line(&new));
        dev.write(".keyhoundignore", format!("{fp}\n"));
        dev.commit("a key, allowed");
    });
    let run = lab.ci(
        ws.path(),
        "pull_request_target",
        &pr_event(&base, &head),
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("pr.env", &new)]);
    assert!(
        run.summary
            .contains("### Allow entries this pull request adds")
            && run.summary.contains(&format!("- `{fp}`")),
        "the summary lists the entry the pull request adds:\n{}",
        run.summary
    );
}

// ---- merge_group

#[test]
fn merge_group_gates_on_base_sha_to_head_sha() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9515);
    let key = project_key(9516);
    repo.git(&["checkout", "-q", "-b", "gh-readonly-queue/main/pr-1"]);
    repo.write("queued.env", env_line(&key));
    let head = repo.commit("queued change");
    let event = json!({
        "action": "checks_requested",
        "merge_group": {
            "base_ref": "refs/heads/main",
            "base_sha": base,
            "head_ref": "refs/heads/gh-readonly-queue/main/pr-1",
            "head_sha": head,
        },
    });

    let run = lab.ci(repo.path(), "merge_group", &event, &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("queued.env", &key)]);
    assert_eq!(run.report().stats.commits, Some(1));
    assert_eq!(run.output, "findings=1\n");
    assert!(
        run.summary.contains(&format!("{base}..{head}")),
        "{}",
        run.summary
    );
    assert_eq!(run.sarif_id(), Some("keyhound/tree/"));
    assert_eq!(run.sarif_uris(), ["base.env", "queued.env"]);
}

// ---- push

#[test]
fn a_push_gates_on_before_to_after() {
    let lab = Lab::new();
    let repo = lab.repo("ws");
    let (old, new) = (project_key(9520), project_key(9521));
    repo.write("old.env", env_line(&old));
    repo.commit("old key");
    repo.write("README.md", "readme\n");
    let before = repo.commit("readme");
    repo.write("new.env", env_line(&new));
    repo.commit("new key");
    repo.write("README.md", "readme 2\n");
    let after = repo.commit("readme 2");

    let event = push_event("main", &before, &after, "main");
    let run = lab.ci(repo.path(), "push", &event, &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("new.env", &new)]);
    assert_eq!(run.report().stats.commits, Some(2));
    assert!(run.warnings().is_empty(), "{}", run.why());
    assert_eq!(run.annotations().len(), 1);
    assert_eq!(run.output, "findings=1\n");
    assert!(
        run.summary.contains(&format!("{before}..{after}")),
        "{}",
        run.summary
    );
    assert_eq!(run.sarif_id(), Some("keyhound/tree/"));
    assert_eq!(run.sarif_uris(), ["new.env", "old.env"]);
}

/// A developer's repository with default branch `trunk` (a key before the fork and one after,
/// merged into the branch) and `feature` (a key of its own), pushed to a bare origin.
/// Returns (developer repository, origin, feature's key).
fn branch_off_trunk(lab: &Lab) -> (Repo<'_>, PathBuf, String) {
    let dev = lab.repo("dev");
    dev.git(&["checkout", "-q", "-b", "trunk"]);
    dev.write("trunk-old.env", env_line(&project_key(9522)));
    dev.commit("trunk key");
    dev.git(&["checkout", "-q", "-b", "feature"]);
    let key = project_key(9523);
    dev.write("feature.env", env_line(&key));
    dev.commit("feature key");
    dev.git(&["checkout", "-q", "trunk"]);
    dev.write("trunk-new.env", env_line(&project_key(9524)));
    dev.commit("another trunk key");
    dev.git(&["checkout", "-q", "feature"]);
    dev.git(&["merge", "-q", "--no-ff", "trunk", "-m", "merge trunk"]);
    dev.write("README.md", "feature\n");
    dev.commit("feature readme");
    let origin = lab.bare("origin.git");
    dev.git(&["push", "-q", &url(&origin), "trunk", "feature"]);
    let mut head = git_in(&origin);
    head.args(["symbolic-ref", "HEAD", "refs/heads/trunk"]);
    ok(head);
    (dev, origin, key)
}

#[test]
fn a_new_branch_gates_on_its_commits_not_on_the_remote_default_branch() {
    let lab = Lab::new();
    let (dev, origin, key) = branch_off_trunk(&lab);
    let after = dev.rev("feature");
    // As actions/checkout leaves it: the pushed branch checked out, the rest as remote branches.
    let ws = lab.clone_of(&origin, "ws", &[]);
    ws.git(&["checkout", "-q", "-b", "feature", "origin/feature"]);
    ws.git(&["branch", "-q", "-D", "trunk"]);

    let event = push_event("feature", ZERO, &after, "trunk");
    let run = lab.ci(ws.path(), "push", &event, &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("feature.env", &key)]);
    assert!(run.warnings().is_empty(), "{}", run.why());
    assert_eq!(run.output, "findings=1\n");
}

#[test]
fn a_new_branch_without_a_remote_gates_on_its_commits_not_on_the_local_default_branch() {
    let lab = Lab::new();
    let (dev, _, key) = branch_off_trunk(&lab);
    let event = push_event("feature", ZERO, &dev.head(), "trunk");
    let run = lab.ci(dev.path(), "push", &event, &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("feature.env", &key)]);
    assert!(run.warnings().is_empty(), "{}", run.why());
}

#[test]
fn a_new_branch_without_the_default_branch_scans_the_branchs_history_with_a_warning() {
    let lab = Lab::new();
    let (dev, _, key) = branch_off_trunk(&lab);
    let event = push_event("feature", ZERO, &dev.head(), "nowhere");
    let run = lab.ci(dev.path(), "push", &event, &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    let found: Vec<String> = run.found().into_iter().map(|(p, _)| p).collect();
    assert_eq!(found, ["feature.env", "trunk-new.env", "trunk-old.env"]);
    assert!(run.found().contains(&pair("feature.env", &key)));
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{}", run.why());
    assert!(
        warnings[0].contains("\"nowhere\"") && warnings[0].contains("fetch-depth: 0"),
        "{}",
        warnings[0]
    );
}

#[test]
fn a_force_push_gates_on_the_branchs_commits_not_on_the_default_branch_with_a_warning() {
    let lab = Lab::new();
    let dev = lab.repo("dev");
    dev.write("main.env", env_line(&project_key(9525)));
    dev.commit("main key");
    let origin = lab.bare("origin.git");
    dev.git(&["checkout", "-q", "-b", "feature"]);
    dev.write("draft.txt", "draft\n");
    let before = dev.commit("draft");
    dev.git(&["push", "-q", &url(&origin), "main", "feature"]);
    // Rewritten and force-pushed: `before` is gone from origin's branches.
    dev.git(&["reset", "-q", "--hard", "main"]);
    let key = project_key(9526);
    dev.write("feature.env", env_line(&key));
    let after = dev.commit("rewritten");
    dev.git(&["push", "-q", "--force", &url(&origin), "feature"]);
    let ws = lab.clone_of(&origin, "ws", &["-b", "feature"]);
    assert!(!ws.has(&before), "the old tip is not in a fresh clone");

    let mut event = push_event("feature", &before, &after, "main");
    event["forced"] = json!(true);
    let run = lab.ci(ws.path(), "push", &event, &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("feature.env", &key)]);
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{}", run.why());
    assert!(
        warnings[0].starts_with("::warning title=keyhound::") && warnings[0].contains(&before),
        "{}",
        warnings[0]
    );
    assert_eq!(run.commands().len(), 2, "the warning and one annotation");
    assert_eq!(run.output, "findings=1\n");
}

#[test]
fn a_force_push_to_the_default_branch_still_scans_the_pushed_commits() {
    let lab = Lab::new();
    let dev = lab.repo("dev");
    dev.write("README.md", "one\n");
    dev.commit("one");
    dev.write("draft.txt", "draft\n");
    let before = dev.commit("draft");
    let origin = lab.bare("origin.git");
    dev.git(&["push", "-q", &url(&origin), "main"]);
    dev.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let key = project_key(9527);
    dev.write("app.env", env_line(&key));
    let after = dev.commit("rewritten with a key");
    dev.git(&["push", "-q", "--force", &url(&origin), "main"]);
    let ws = lab.clone_of(&origin, "ws", &["-b", "main"]);
    assert!(!ws.has(&before));

    let mut event = push_event("main", &before, &after, "main");
    event["forced"] = json!(true);
    let run = lab.ci(ws.path(), "push", &event, &[]);
    assert_eq!(
        run.code,
        1,
        "a force-push to the default branch that adds a key must not pass\n{}",
        run.why()
    );
    assert!(run.found().contains(&pair("app.env", &key)));
}

#[test]
fn a_push_checked_out_shallow_is_an_error_naming_fetch_depth() {
    // actions/checkout's default is fetch-depth 1: the push's `before` is not in the clone
    // because the clone is shallow, not because of a force-push.
    let lab = Lab::new();
    let dev = lab.repo("dev");
    dev.write("README.md", "one\n");
    let before = dev.commit("one");
    dev.write("app.env", env_line(&project_key(9528)));
    dev.commit("key");
    dev.write("README.md", "two\n");
    let after = dev.commit("two");
    let origin = lab.bare("origin.git");
    dev.git(&["push", "-q", &url(&origin), "main"]);
    let ws = lab.clone_of(&origin, "ws", &["--depth", "1", "-b", "main"]);
    assert!(!ws.has(&before));

    let run = lab.ci(
        ws.path(),
        "push",
        &push_event("main", &before, &after, "main"),
        &[],
    );
    assert_eq!(
        run.code,
        2,
        "the push's commits were not all scanned\n{}",
        run.why()
    );
    assert!(run.stderr.contains("fetch-depth: 0"), "{}", run.stderr);
}

#[test]
fn a_push_deleting_the_branch_scans_nothing() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9529);
    let event = json!({
        "ref": "refs/heads/feature",
        "before": base,
        "after": ZERO,
        "created": false,
        "deleted": true,
        "forced": false,
        "repository": {"default_branch": "main"},
    });
    let run = lab.ci(repo.path(), "push", &event, &[]);
    assert_eq!(run.code, 0, "{}", run.why());
    assert!(run.stdout.contains("deleted the branch"), "{}", run.why());
    assert!(run.commands().is_empty(), "{}", run.why());
    assert_eq!(run.output, "findings=0\n");
    assert!(run.summary.starts_with("## keyhound\n"), "{}", run.summary);
}

// ---- schedule, workflow_dispatch, other events

/// `main` with a key added and removed again, and an unmerged branch with another.
fn history_repo(lab: &Lab) -> Repo<'_> {
    let repo = lab.repo("ws");
    repo.write("README.md", "base\n");
    repo.commit("base");
    repo.write("gone.env", env_line(&project_key(9530)));
    repo.commit("a key");
    repo.remove("gone.env");
    repo.commit("removed again");
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.write("side.env", env_line(&project_key(9531)));
    repo.commit("side key");
    repo.git(&["checkout", "-q", "main"]);
    repo
}

#[test]
fn schedule_and_workflow_dispatch_scan_the_whole_history() {
    let lab = Lab::new();
    let repo = history_repo(&lab);
    for (name, event) in [
        ("schedule", json!({"schedule": "17 3 * * 1"})),
        (
            "workflow_dispatch",
            json!({"inputs": {}, "ref": "refs/heads/main"}),
        ),
    ] {
        let run = lab.ci(repo.path(), name, &event, &[]);
        assert_eq!(run.code, 1, "{name}: {}", run.why());
        let found: Vec<String> = run.found().into_iter().map(|(p, _)| p).collect();
        assert_eq!(found, ["gone.env", "side.env"], "{name}");
        assert_eq!(run.output, "findings=2\n", "{name}");
        assert!(
            run.summary.contains("whole history"),
            "{name}: {}",
            run.summary
        );
        assert_eq!(run.summary_rows().len(), 2, "{name}");
        // The SARIF is the history, under its own category.
        assert_eq!(run.sarif_id(), Some("keyhound/history/"), "{name}");
        assert_eq!(run.sarif_uris(), ["gone.env", "side.env"], "{name}");
    }
}

#[test]
fn an_unknown_event_is_an_error_unless_given_a_range() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9532);
    let key = project_key(9533);
    repo.write("pr.env", env_line(&key));
    repo.commit("key");
    let event = json!({"action": "opened", "issue": {"number": 3}});

    let run = lab.ci(repo.path(), "issues", &event, &[]);
    assert_eq!(run.code, 2, "{}", run.why());
    assert!(
        run.stderr.contains("\"issues\"") && run.stderr.contains("--range"),
        "{}",
        run.stderr
    );
    assert!(run.commands().is_empty());

    let range = format!("{base}..feature");
    let run = lab.ci(repo.path(), "issues", &event, &["--range", &range]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("pr.env", &key)]);
    assert_eq!(run.output, "findings=1\n");
    assert_eq!(run.sarif_id(), Some("keyhound/tree/"));
}

#[test]
fn a_missing_event_name_or_event_is_an_error() {
    let lab = Lab::new();
    let (repo, _, _) = base_with_a_key(&lab, 9534);
    let run = lab.run_ci(repo.path(), None, None, &[], false);
    assert_eq!(run.code, 2, "{}", run.why());
    assert!(run.stderr.contains("GITHUB_EVENT_NAME"), "{}", run.stderr);
    assert!(run.output.is_empty() && run.summary.is_empty());
    let run = lab.run_ci(repo.path(), Some(""), None, &[], false);
    assert_eq!(run.code, 2, "empty is unset: {}", run.why());
    assert!(run.stderr.contains("GITHUB_EVENT_NAME"), "{}", run.stderr);
    // A pull request needs its event file.
    let run = lab.run_ci(repo.path(), Some("pull_request"), None, &[], false);
    assert_eq!(run.code, 2, "{}", run.why());
    assert!(
        run.stderr.contains("/pull_request/base/sha"),
        "{}",
        run.stderr
    );
}

// ---- What the runner is shown

#[test]
fn a_file_name_cannot_inject_workflow_commands() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9535);
    let name = "50%:odd,name\r\n::warning::injected.env";
    repo.write(name, env_line(&project_key(9536)));
    let head = repo.commit("odd name");

    // As action.yml runs it: the human report follows the annotations on standard output.
    let run = lab.ci_human(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    let notes = run.annotations();
    assert_eq!(notes.len(), 1, "{}", run.why());
    assert!(
        notes[0].starts_with(
            "::error file=50%25%3Aodd%2Cname%0D%0A%3A%3Awarning%3A%3Ainjected.env,line=1,col=16,\
             title=Leaked key%3A kh.openai.project::"
        ),
        "{}",
        notes[0]
    );
    assert_eq!(
        run.commands(),
        notes,
        "nothing but the annotation is a workflow command:\n{}",
        run.stdout
    );
    // The summary's row stays one row of the table.
    let rows = run.summary_rows();
    assert_eq!(rows.len(), 1, "{}", run.summary);
    assert!(rows[0].contains("kh.openai.project"), "{}", rows[0]);
}

#[test]
fn a_line_of_a_file_cannot_inject_workflow_commands() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9537);
    let key = project_key(9538);
    repo.write(
        "notes.txt",
        // The report's context shows up to 40 characters before a key.
        format!("::error::forged {}", env_line(&key)),
    );
    let head = repo.commit("notes");

    let run = lab.ci_human(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    let notes = run.annotations();
    assert_eq!(notes.len(), 1, "{}", run.why());
    assert!(
        notes[0].starts_with("::error file=notes.txt,line=1,"),
        "{}",
        notes[0]
    );
    assert_eq!(
        run.commands(),
        notes,
        "nothing but the annotation is a workflow command:\n{}",
        run.stdout
    );
}

#[test]
fn at_most_ten_annotations_but_the_summary_lists_every_finding() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9540);
    for i in 1..=12u64 {
        repo.write(
            &format!("keys/k{i:02}.env"),
            env_line(&project_key(9540 + i)),
        );
    }
    let head = repo.commit("twelve keys");

    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    let report = run.report();
    assert_eq!(report.findings.len(), 12);
    let notes = run.annotations();
    assert_eq!(notes.len(), 10, "{}", run.why());
    // The first ten of the report, in its order.
    for (note, f) in notes.iter().zip(&report.findings) {
        assert!(
            note.starts_with(&format!("::error file={},line=1,col=16,", f.path)),
            "{note}"
        );
    }
    assert_eq!(run.output, "findings=12\n");
    assert!(
        run.summary.starts_with("## keyhound: 12 leaked keys\n"),
        "{}",
        run.summary
    );
    let rows = run.summary_rows();
    assert_eq!(rows.len(), 12, "{}", run.summary);
    for f in &report.findings {
        let place = format!("| {}:1 |", f.path);
        assert_eq!(
            rows.iter().filter(|r| r.contains(&place)).count(),
            1,
            "{place}"
        );
    }
}

#[test]
fn annotations_stay_out_of_a_report_written_to_standard_output() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9553);
    repo.write("pr.env", env_line(&project_key(9554)));
    let head = repo.commit("key");
    let run = lab.run_ci(
        repo.path(),
        Some("pull_request"),
        Some(&pr_event(&base, &head)),
        &["--format", "json"],
        true,
    );
    assert_eq!(run.code, 1, "{}", run.why());
    let doc: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is the JSON report only ({e}):\n{}", run.stdout));
    check_schema(&doc, None);
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(1));
    assert_eq!(run.output, "findings=1\n");
}

#[test]
fn outputs_and_the_summary_are_appended_to_what_earlier_steps_wrote() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9555);
    repo.write("a.env", env_line(&project_key(9556)));
    repo.write("b.env", env_line(&project_key(9557)));
    let head = repo.commit("two keys");
    let dir = lab.next_run_dir();
    std::fs::write(dir.join("output.txt"), "sarif=keyhound.sarif\n").expect("write");
    std::fs::write(dir.join("summary.md"), "# Earlier step\n\n").expect("write");

    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.output, "sarif=keyhound.sarif\nfindings=2\n");
    assert!(
        run.summary
            .starts_with("# Earlier step\n\n## keyhound: 2 leaked keys\n"),
        "{}",
        run.summary
    );

    // A clean run says so too.
    repo.write("a.env", "");
    repo.write("b.env", "");
    let clean = repo.commit("keys gone");
    let run = lab.ci(repo.path(), "pull_request", &pr_event(&head, &clean), &[]);
    assert_eq!(run.code, 0, "{}", run.why());
    assert_eq!(run.output, "findings=0\n");
}

// ---- Allow-lists come from the base

#[test]
fn a_pull_request_cannot_allow_its_own_key_and_the_summary_lists_the_entries() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9560);
    let key = project_key(9561);
    repo.write("pr.env", env_line(&key));
    let first = repo.commit("a key");
    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &first), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    let fp = run.report().findings[0].fingerprint.clone();

    repo.write(
        ".keyhoundignore",
        format!("# not a real key\n{fp}\nsecrets/\n"),
    );
    repo.write("keyhound.toml", "[allow]\npaths = [\"pr.env\"]\n");
    let head = repo.commit("allow it");
    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("pr.env", &key)]);
    let s = &run.report().stats.suppressed;
    assert_eq!((s.path, s.fingerprint, s.baseline), (0, 0, 0));
    assert_eq!(run.output, "findings=1\n");
    assert!(
        run.summary
            .contains("### Allow entries this pull request adds"),
        "{}",
        run.summary
    );
    for entry in [fp.as_str(), "secrets/", "pr.env"] {
        assert!(
            run.summary.contains(&format!("- `{entry}`\n")),
            "{entry}:\n{}",
            run.summary
        );
    }

    // The same entries do apply where they are the repository's own (here: no pull request).
    let range = format!("{base}..{head}");
    let run = lab.ci(repo.path(), "issues", &json!({}), &["--range", &range]);
    assert_eq!(run.code, 0, "{}", run.why());
    assert_eq!(run.found(), []);
}

/// `keyhound git --format json -o PATH` in `repo` (every key in its history).
fn write_baseline(lab: &Lab, repo: &Repo<'_>, path: &Path) {
    let out = lab.keyhound_git(
        repo.path(),
        &["--format", "json", "-o", path.to_str().expect("UTF-8")],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

#[test]
fn a_baseline_committed_on_the_base_suppresses_a_known_key() {
    let lab = Lab::new();
    let (repo, known, _) = base_with_a_key(&lab, 9562);
    repo.git(&["checkout", "-q", "main"]);
    let tmp = lab.at("baseline.json");
    write_baseline(&lab, &repo, &tmp);
    repo.write("base.json", std::fs::read(&tmp).expect("read"));
    let base = repo.commit("baseline");
    repo.git(&["checkout", "-q", "-B", "feature"]);
    // The known key moves to another file in the pull request.
    repo.write("moved/app.env", format!("\n{}", env_line(&known)));
    let head = repo.commit("move the known key");

    let event = pr_event(&base, &head);
    let run = lab.ci(
        repo.path(),
        "pull_request",
        &event,
        &["--baseline", "base.json"],
    );
    assert_eq!(run.code, 0, "{}", run.why());
    assert_eq!(run.found(), []);
    assert_eq!(run.report().stats.suppressed.baseline, 1);
    assert_eq!(run.output, "findings=0\n");
    // Without the baseline, the moved key is reported.
    let run = lab.ci(repo.path(), "pull_request", &event, &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("moved/app.env", &known)]);
}

#[test]
fn a_baseline_added_or_extended_by_the_pull_request_does_not_suppress_its_key() {
    // Only in the pull request.
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9563);
    let key = project_key(9564);
    repo.write("pr.env", env_line(&key));
    repo.commit("a key");
    let tmp = lab.at("pr-baseline.json");
    write_baseline(&lab, &repo, &tmp);
    repo.write("base.json", std::fs::read(&tmp).expect("read"));
    let head = repo.commit("baseline it");
    let run = lab.ci(
        repo.path(),
        "pull_request",
        &pr_event(&base, &head),
        &["--baseline", "base.json"],
    );
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("pr.env", &key)]);
    assert_eq!(run.report().stats.suppressed.baseline, 0);

    // On the base, and rewritten by the pull request to hold its key too.
    let lab = Lab::new();
    let (repo, _, _) = base_with_a_key(&lab, 9565);
    repo.git(&["checkout", "-q", "main"]);
    let tmp = lab.at("baseline.json");
    write_baseline(&lab, &repo, &tmp);
    repo.write("base.json", std::fs::read(&tmp).expect("read"));
    let base = repo.commit("baseline");
    repo.git(&["checkout", "-q", "-B", "feature"]);
    let key = project_key(9566);
    repo.write("pr.env", env_line(&key));
    repo.commit("a key");
    write_baseline(&lab, &repo, &tmp);
    repo.write("base.json", std::fs::read(&tmp).expect("read"));
    let head = repo.commit("baseline it");
    let run = lab.ci(
        repo.path(),
        "pull_request",
        &pr_event(&base, &head),
        &["--baseline", "base.json"],
    );
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("pr.env", &key)]);
}

// ---- action.yml

/// The script of every `run:` key: a block scalar's lines, or the inline value.
fn run_blocks(yml: &str) -> Vec<String> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let lines: Vec<&str> = yml.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim_start();
        let key = trimmed.strip_prefix("- ").unwrap_or(trimmed);
        let Some(value) = key.strip_prefix("run:") else {
            i += 1;
            continue;
        };
        let value = value.trim();
        if value.starts_with('|') || value.starts_with('>') {
            let at = indent(lines[i]);
            let mut block = String::new();
            i += 1;
            while i < lines.len() && (lines[i].trim().is_empty() || indent(lines[i]) > at) {
                block.push_str(lines[i]);
                block.push('\n');
                i += 1;
            }
            blocks.push(block);
        } else {
            blocks.push(value.to_string());
            i += 1;
        }
    }
    blocks
}

#[test]
fn action_yml_passes_inputs_only_through_env_and_runs_keyhound_ci() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml");
    let yml = std::fs::read_to_string(path).expect("action.yml exists");
    assert!(yml.contains("using: composite"), "a composite action");
    let blocks = run_blocks(&yml);
    assert!(blocks.len() >= 2, "install and scan steps: {blocks:#?}");
    for b in &blocks {
        assert!(
            !b.contains("${{"),
            "an expression inside a script is evaluated into it before the shell runs; \
             pass it through env: instead:\n{b}"
        );
    }
    assert!(
        blocks
            .iter()
            .any(|b| b.contains("scripts/install-action.sh\" \\\n")
                && b.contains("https://github.com/keyhound/keyhound/releases/download")),
        "{blocks:#?}"
    );
    let runs_ci = |b: &String| {
        b.lines().any(|l| l.trim_start().starts_with("keyhound ci"))
            || (b.contains("args=(ci)")
                && b.lines()
                    .any(|l| l.trim_start().starts_with("keyhound \"${args[@]}\"")))
    };
    assert!(blocks.iter().any(runs_ci), "{blocks:#?}");
    // Every input reaches a script through a variable.
    for input in ["args", "sarif", "verify", "fail-on"] {
        assert!(
            yml.lines().any(|l| l.trim_start().starts_with("KEYHOUND_")
                && l.contains(&format!("${{{{ inputs.{input} }}}}"))),
            "{input}"
        );
    }
}
