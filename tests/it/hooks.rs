//! Hooks as users meet them: real `git push`es to a local bare remote through `keyhound
//! install-hook`'s pre-push hook and through the real pre-commit framework (from PyPI; the
//! framework tests skip, saying so, when `python3 -m pre_commit` cannot be imported: `.ci/run`
//! puts it on PYTHONPATH), and the framework's pre-commit hook on commits and on files.

use crate::repo::GitRepo;
use crate::util::*;
use std::path::Path;
use std::process::{Command, Output};

/// A repository at `ROOT/repo` with an empty bare remote `origin` at `ROOT/remote.git`.
struct Pushing {
    tmp: tempfile::TempDir,
    repo: GitRepo,
}

impl Pushing {
    fn new() -> Pushing {
        let tmp = tempfile::tempdir().expect("temp dir");
        let repo = GitRepo::init(tmp.path().join("repo"), 0);
        let remote = tmp.path().join("remote.git");
        let mut init = git_in(tmp.path());
        init.args(["init", "-q", "--bare", "remote.git"]);
        ok(init);
        repo.git(&["remote", "add", "origin", remote.to_str().expect("UTF-8")]);
        Pushing { tmp, repo }
    }

    /// Stages everything and commits it without running the commit hooks.
    fn commit_anyway(&self, msg: &str) -> String {
        self.repo.git(&["add", "-A"]);
        self.repo.git(&["commit", "-q", "--no-verify", "-m", msg]);
        self.repo.head()
    }

    /// `git push ARGS` with this build's keyhound first on PATH: (success, stdout + stderr).
    fn push(&self, args: &[&str]) -> (bool, String) {
        let mut all = vec!["push"];
        all.extend_from_slice(args);
        let out = self.env(self.repo.cmd(&all)).output().expect("git runs");
        (out.status.success(), text(&out))
    }

    /// `cmd` with this build's keyhound first on PATH and the framework's cache beside the
    /// repository.
    fn env(&self, mut cmd: Command) -> Command {
        let bin = assert_cmd::cargo::cargo_bin("keyhound");
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![bin.parent().expect("bin dir").to_path_buf()];
        dirs.extend(std::env::split_paths(&path));
        cmd.env("PATH", std::env::join_paths(dirs).expect("PATH"))
            .env("PRE_COMMIT_HOME", self.tmp.path().join("cache"));
        cmd
    }

    /// `git commit ARGS` with the hooks: (success, stdout + stderr).
    fn commit(&self, args: &[&str]) -> (bool, String) {
        let mut all = vec!["commit", "-q"];
        all.extend_from_slice(args);
        let out = self.env(self.repo.cmd(&all)).output().expect("git runs");
        (out.status.success(), text(&out))
    }

    /// The commit the remote's `branch` points at, if it has that branch.
    fn remote_tip(&self, branch: &str) -> Option<String> {
        let mut cmd = git_in(&self.tmp.path().join("remote.git"));
        cmd.args([
            "rev-parse",
            "--verify",
            "-q",
            &format!("refs/heads/{branch}"),
        ]);
        let out = cmd.output().expect("git runs");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn env_line(key: &str) -> String {
    format!("OPENAI_API_KEY={key}\n")
}

/// Asserts a push was refused by keyhound, naming `path`.
fn assert_refused(pushed: (bool, String), path: &str) {
    let (ok, log) = pushed;
    assert!(!ok, "the push should have been refused:\n{log}");
    assert!(log.contains(path), "the message names {path}:\n{log}");
    assert!(log.contains("Push stopped"), "keyhound's message:\n{log}");
    for way_out in ["keyhound:allow", ".keyhoundignore", "baseline"] {
        assert!(log.contains(way_out), "the message names {way_out}:\n{log}");
    }
}

fn install_hook(p: &Pushing) {
    let out = kh()
        .current_dir(p.repo.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .arg("install-hook")
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", text(&out));
}

// ---- keyhound install-hook

#[test]
fn the_first_push_to_an_empty_remote_is_scanned() {
    let p = Pushing::new();
    install_hook(&p);
    p.repo.write("app.env", env_line(&project_key(9401)));
    p.commit_anyway("root with a key");
    assert_refused(p.push(&["origin", "main"]), "app.env");
    assert_eq!(p.remote_tip("main"), None);
}

#[test]
fn a_new_branch_and_a_force_push_are_scanned_and_what_the_remote_has_is_not() {
    let p = Pushing::new();
    install_hook(&p);
    p.repo.write("README.md", "clean\n");
    p.commit_anyway("base");
    let (ok, log) = p.push(&["-u", "origin", "main"]);
    assert!(ok, "{log}");
    // A new branch: its commits the remote has not.
    p.repo.git(&["checkout", "-q", "-b", "feature"]);
    p.repo.write("feature.env", env_line(&project_key(9402)));
    p.commit_anyway("feature key");
    assert_refused(p.push(&["origin", "feature"]), "feature.env");
    assert_eq!(p.remote_tip("feature"), None);
    // A force-push replacing main's tip with a commit holding a key.
    p.repo.git(&["checkout", "-q", "main"]);
    p.repo.write("README.md", "clean, amended\n");
    p.repo.write("forced.env", env_line(&project_key(9403)));
    p.repo.git(&["add", "-A"]);
    p.repo
        .git(&["commit", "-q", "--no-verify", "--amend", "-m", "base"]);
    assert_refused(p.push(&["--force", "origin", "main"]), "forced.env");
    // A key the remote has already (pushed without the hook) does not stop a later clean push.
    p.repo.git(&["reset", "-q", "--hard", "origin/main"]);
    p.repo.git(&["checkout", "-q", "feature"]);
    let (ok, log) = p.push(&["--no-verify", "origin", "feature"]);
    assert!(ok, "{log}");
    p.repo.write("notes.txt", "clean\n");
    let tip = p.commit_anyway("clean");
    let (ok, log) = p.push(&["origin", "feature"]);
    assert!(ok, "{log}");
    assert_eq!(p.remote_tip("feature"), Some(tip));
}

#[test]
fn push_all_scans_every_branch_not_only_the_first() {
    let p = Pushing::new();
    install_hook(&p);
    p.repo.write("README.md", "clean\n");
    p.commit_anyway("base");
    p.repo.git(&["branch", "a-clean"]);
    p.repo.git(&["checkout", "-q", "-b", "z-leak"]);
    p.repo.write("leak.env", env_line(&project_key(9404)));
    p.commit_anyway("key on the last branch");
    assert_refused(p.push(&["--all", "origin"]), "leak.env");
    assert_eq!(p.remote_tip("main"), None, "nothing was pushed");
    p.repo.git(&["checkout", "-q", "main"]);
    p.repo.git(&["branch", "-D", "z-leak"]);
    let (ok, log) = p.push(&["--all", "origin"]);
    assert!(ok, "{log}");
    assert!(
        !log.contains("keyhound"),
        "a clean push prints nothing: {log}"
    );
}

// ---- the real pre-commit framework

/// Whether `python3 -m pre_commit` runs here; when not, says why the test is skipped.
fn framework_available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import pre_commit"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!(
            "SKIPPED: the pre-commit framework is not importable by python3 (install it, or put \
             it on PYTHONPATH as .ci/run does, to run this test)"
        );
    }
    found
}

/// This repository's `.pre-commit-hooks.yaml`, as its `-system` variants would run it (keyhound
/// from PATH, not built by cargo), committed in a hooks repository beside `p`'s; a
/// `.pre-commit-config.yaml` using its hooks `ids` is committed in `p`'s repository, and the
/// framework is installed for `git commit` and `git push`.
fn use_framework(p: &Pushing, ids: &[&str]) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
    let manifest = std::fs::read_to_string(manifest).expect("the hooks manifest");
    let hooks = GitRepo::init(p.tmp.path().join("hooks"), 0);
    hooks.write(
        ".pre-commit-hooks.yaml",
        manifest.replace("language: rust", "language: system"),
    );
    let rev = hooks.commit("hooks");
    let ids: String = ids.iter().map(|id| format!("      - id: {id}\n")).collect();
    p.repo.write(
        ".pre-commit-config.yaml",
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n{ids}",
            hooks.path().display()
        ),
    );
    p.commit_anyway("use the pre-commit framework");
    let out = framework(p, &["install", "-t", "pre-commit", "-t", "pre-push"]);
    assert!(out.status.success(), "{}", text(&out));
}

/// `python3 -m pre_commit ARGS` in `p`'s repository, its cache beside it.
fn framework(p: &Pushing, args: &[&str]) -> Output {
    framework_cmd(p, args).output().expect("python3 runs")
}

fn framework_cmd(p: &Pushing, args: &[&str]) -> Command {
    let mut cmd = Command::new("python3");
    for var in GIT_ENV {
        cmd.env_remove(var);
    }
    cmd.current_dir(p.repo.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    let mut cmd = p.env(cmd);
    cmd.args(["-m", "pre_commit"]).args(args);
    cmd
}

#[test]
fn the_framework_push_hook_gates_a_first_push_and_every_ref_of_push_all() {
    if !framework_available() {
        return;
    }
    let p = Pushing::new();
    use_framework(&p, &["keyhound-push"]);
    p.repo.write("app.env", env_line(&project_key(9405)));
    p.commit_anyway("a key in the first push");
    assert_refused(p.push(&["origin", "main"]), "app.env");
    assert_eq!(p.remote_tip("main"), None);
    // Without the key, the first push goes through; then `--all` with the key on a branch
    // that is not the first ref pushed.
    p.repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let (ok, log) = p.push(&["-u", "origin", "main"]);
    assert!(ok, "{log}");
    p.repo.git(&["branch", "a-clean"]);
    p.repo.git(&["checkout", "-q", "-b", "z-leak"]);
    p.repo.write("leak.env", env_line(&project_key(9406)));
    p.commit_anyway("key on the last branch");
    p.repo.git(&["checkout", "-q", "a-clean"]);
    p.repo.write("clean.txt", "clean\n");
    p.commit_anyway("clean");
    assert_refused(p.push(&["--all", "origin"]), "leak.env");
    assert_eq!(p.remote_tip("a-clean"), None);
}

#[test]
fn the_framework_commit_hook_checks_staged_changes_and_run_on_files_reports_every_key() {
    if !framework_available() {
        return;
    }
    let p = Pushing::new();
    let (a, b) = (project_key(9407), project_key(9408));
    p.repo.write("a.env", env_line(&a));
    p.repo.write("b.env", env_line(&b));
    p.commit_anyway("two keys at HEAD");
    use_framework(&p, &["keyhound"]);
    // `pre-commit run --all-files` and `--files` read the files' content.
    let out = framework(&p, &["run", "--all-files"]);
    assert!(!out.status.success(), "{}", text(&out));
    let log = text(&out);
    assert!(log.contains("a.env") && log.contains("b.env"), "{log}");
    let out = framework(&p, &["run", "--files", "b.env"]);
    let log = text(&out);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains("b.env") && !log.contains("a.env"), "{log}");
    // A commit through git: an unrelated edit to a file whose key HEAD has passes ...
    p.repo.write("a.env", format!("# local\n{}", env_line(&a)));
    p.repo.git(&["add", "a.env"]);
    let (ok, log) = p.commit(&["-m", "edit"]);
    assert!(ok, "{log}");
    // ... and a newly staged key is stopped.
    p.repo.write("c.env", env_line(&project_key(9409)));
    p.repo.git(&["add", "c.env"]);
    let head = p.repo.head();
    let (ok, log) = p.commit(&["-m", "key"]);
    assert!(!ok, "{log}");
    assert!(
        log.contains("c.env") && log.contains("Commit stopped"),
        "{log}"
    );
    assert_eq!(p.repo.head(), head);
}
