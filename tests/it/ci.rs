//! `keyhound ci`: the GitHub Action's logic. Each test builds, at run time, the repositories a
//! workflow run sees (a developer's repository, a bare `origin`, the runner's workspace cloned
//! from it) and the event file GitHub writes, then runs the real binary with GitHub's
//! environment: which commits each event gates on, the allow-lists a pull request cannot change
//! for itself, the annotations, job summary, step outputs and the SARIF state, and `action.yml`.
//! The tests are in `ci/`, one file per topic; the lab and the helpers they share are here.

use crate::util::{CI_ENV, EPOCH, GIT_ENV, Report, check_schema, git_in, kh, ok, project_key};
use serde_json::{Value, json};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::{Command as Std, Output};
use std::time::Duration;

mod action_yml;
mod allow_lists;
mod events;
mod pull_request;
mod push;
mod runner;
mod sha256;

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
