//! Issue 14.12: a repository's own `.git/config` never makes keyhound's git children run a
//! program. Each test plants one hostile setting whose command would write a marker file, runs
//! every keyhound command that starts git there, and checks the marker was never written.

use crate::repo::GitRepo;
use crate::util::{GIT_ENV, kh, project_key};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

/// A repository with a committed key and a staged one, and a script that leaves a marker.
struct Hostile {
    _tmp: tempfile::TempDir,
    repo: GitRepo,
    script: PathBuf,
    marker: PathBuf,
}

impl Hostile {
    fn new() -> Hostile {
        let tmp = tempfile::tempdir().unwrap();
        let marker = tmp.path().join("ran");
        let script = tmp.path().join("hostile.sh");
        let body = format!(
            "#!/bin/sh\necho \"$0 $*\" >> '{}'\ncat >/dev/null\n",
            marker.display()
        );
        std::fs::write(&script, body).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let repo = GitRepo::init(tmp.path().join("repo"), 0);
        repo.write(".gitattributes", "* diff=hostile filter=hostile\n");
        repo.write("a.env", format!("OPENAI_API_KEY={}\n", project_key(1)));
        repo.commit("first");
        repo.write("b.env", format!("OPENAI_API_KEY={}\n", project_key(2)));
        repo.git(&["add", "-A"]);
        Hostile {
            _tmp: tmp,
            repo,
            script,
            marker,
        }
    }

    /// Sets `key` to the script in `.git/config`.
    fn set(&self, key: &str) -> &Hostile {
        self.repo
            .git(&["config", key, &self.script.display().to_string()]);
        self
    }

    /// Runs every keyhound command that starts git here, then checks the marker is absent.
    fn assert_nothing_runs(&self) {
        let dir = self.repo.path();
        run(dir, &["git", "--staged"], &[]);
        run(dir, &["git", "."], &[("KEYHOUND_GIT_READER", "git")]);
        run(dir, &["git", "--all-objects", "."], &[]);
        run(dir, &["audit", "-q", "."], &[]);
        let ran = std::fs::read_to_string(&self.marker).unwrap_or_default();
        assert!(ran.is_empty(), "a hostile command ran: {ran}");
    }
}

/// `keyhound ARGS` in `dir` away from the user's configuration; it must find the keys.
fn run(dir: &Path, args: &[&str], envs: &[(&str, &str)]) {
    let mut cmd = kh();
    for var in GIT_ENV {
        cmd.env_remove(var);
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("KEYHOUND_CACHE_DIR", dir.join(".no-cache-here"))
        .envs(envs.iter().copied())
        .current_dir(dir)
        .args(args);
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn r14_fsmonitor_never_runs() {
    Hostile::new().set("core.fsmonitor").assert_nothing_runs();
}

#[test]
fn r14_external_diff_never_runs() {
    Hostile::new().set("diff.external").assert_nothing_runs();
}

#[test]
fn r14_textconv_never_runs() {
    Hostile::new()
        .set("diff.hostile.textconv")
        .set("diff.hostile.command")
        .assert_nothing_runs();
}

#[test]
fn r14_filters_never_run() {
    Hostile::new()
        .set("filter.hostile.clean")
        .set("filter.hostile.smudge")
        .set("filter.hostile.process")
        .assert_nothing_runs();
}

#[test]
fn r14_pager_never_runs() {
    Hostile::new()
        .set("core.pager")
        .set("pager.diff")
        .set("pager.cat-file")
        .assert_nothing_runs();
}

#[test]
fn r14_hooks_never_run() {
    let h = Hostile::new();
    let hooks = h.repo.path().join("hostile-hooks");
    std::fs::create_dir(&hooks).unwrap();
    for name in [
        "reference-transaction",
        "post-index-change",
        "pre-auto-gc",
        "post-checkout",
    ] {
        std::os::unix::fs::symlink(&h.script, hooks.join(name)).unwrap();
    }
    h.repo
        .git(&["config", "core.hooksPath", &hooks.display().to_string()]);
    h.assert_nothing_runs();
}

#[test]
fn r14_included_config_runs_nothing() {
    let h = Hostile::new();
    let included = h.repo.path().join("hostile.cfg");
    let script = h.script.display();
    let text = format!(
        "[core]\n\tfsmonitor = {script}\n\tpager = {script}\n[diff]\n\texternal = {script}\n\
         [diff \"hostile\"]\n\ttextconv = {script}\n[filter \"hostile\"]\n\tclean = {script}\n"
    );
    std::fs::write(&included, text).unwrap();
    h.repo
        .git(&["config", "include.path", &included.display().to_string()]);
    h.assert_nothing_runs();
}

/// `git init` with `extra` options, one commit holding a key: the repository's path.
fn formatted_repo(tmp: &Path, extra: &[&str]) -> PathBuf {
    let dir = tmp.join("repo");
    let mut init = crate::util::git_in(tmp);
    init.args(["init", "-q"]).args(extra).arg(&dir);
    crate::util::ok(init);
    std::fs::write(dir.join("a.env"), format!("K={}\n", project_key(1701))).unwrap();
    crate::util::ok({
        let mut c = crate::util::git_in(&dir);
        c.args(["add", "-A"]);
        c
    });
    crate::util::ok({
        let mut c = crate::util::git_in(&dir);
        c.args(["commit", "-q", "-m", "first"]);
        c
    });
    dir
}

// `keyhound git` reads these formats through git (tests/it/git/formats.rs), and so does an
// audit, its work tree included (tests/it/audit/sha256.rs): complete, the key found.

#[test]
fn r14_a_sha256_or_reftable_repository_audit_is_complete() {
    for format in ["--object-format=sha256", "--ref-format=reftable"] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = formatted_repo(tmp.path(), &[format]);
        std::fs::write(dir.join("new.env"), format!("K={}\n", project_key(1702))).unwrap();
        let mut cmd = kh();
        for var in GIT_ENV {
            cmd.env_remove(var);
        }
        let out = cmd
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .current_dir(&dir)
            .args(["audit", "-q", "--format", "json", "."])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{format}: {text}");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let repo = &doc["repositories"][0];
        assert_eq!(repo["complete"], true, "{format}: {text}");
        assert_eq!(repo["worktree_files"], 1, "{format}: {text}");
        assert_eq!(
            doc["keys"].as_array().map(Vec::len),
            Some(2),
            "{format}: {text}"
        );
    }
}
