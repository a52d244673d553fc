//! Git repositories built at test time with the `git` command line, every command dated a
//! minute after the one before, for the `git` and `audit` tests.

use crate::util::{EPOCH, git_in, ok};
use std::cell::Cell;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command as Std, Output, Stdio};

/// A repository whose every git command is dated a minute after the one before.
pub struct GitRepo {
    dir: PathBuf,
    clock: Cell<u64>,
}

impl GitRepo {
    /// `git init` (branch `main`) at `dir`, its first command `minutes` after `EPOCH`.
    pub fn init(dir: PathBuf, minutes: u64) -> GitRepo {
        std::fs::create_dir_all(&dir).expect("mkdir");
        let repo = GitRepo {
            dir,
            clock: Cell::new(minutes),
        };
        repo.git(&["init", "-q"]);
        repo
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// `git ARGS` in the repository, dated one minute after the previous command.
    pub fn cmd(&self, args: &[&str]) -> Std {
        let t = EPOCH + 60 * self.clock.get();
        self.clock.set(self.clock.get() + 1);
        let mut cmd = git_in(&self.dir);
        cmd.env("GIT_AUTHOR_DATE", format!("{t} +0200"))
            .env("GIT_COMMITTER_DATE", format!("{} +0000", t + 30))
            .args(args);
        cmd
    }

    /// `git ARGS`, whatever its exit status.
    pub fn try_git(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("git runs")
    }

    /// `git ARGS`, asserting success; its output, trimmed.
    pub fn git(&self, args: &[&str]) -> String {
        ok(self.cmd(args))
    }

    pub fn write(&self, path: &str, data: impl AsRef<[u8]>) {
        let p = self.dir.join(path);
        std::fs::create_dir_all(p.parent().expect("has parent")).expect("mkdir");
        std::fs::write(p, data).expect("write");
    }

    pub fn remove(&self, path: &str) {
        std::fs::remove_file(self.dir.join(path)).expect("remove");
    }

    /// Stages everything and commits it; the new commit's id.
    pub fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", msg]);
        self.head()
    }

    /// Stages everything and commits it with author and committer date `time` (Unix seconds).
    pub fn commit_at(&self, msg: &str, time: u64) -> String {
        self.git(&["add", "-A"]);
        let mut cmd = self.cmd(&["commit", "-q", "-m", msg]);
        cmd.env("GIT_AUTHOR_DATE", format!("{time} +0000"))
            .env("GIT_COMMITTER_DATE", format!("{time} +0000"));
        ok(cmd);
        self.head()
    }

    pub fn head(&self) -> String {
        self.rev("HEAD")
    }

    /// The object id `spec` names (`HEAD`, `C:path`, `:path`).
    pub fn rev(&self, spec: &str) -> String {
        let mut cmd = git_in(&self.dir);
        cmd.args(["rev-parse", spec]);
        ok(cmd)
    }

    /// `git checkout -q ARGS`.
    pub fn checkout(&self, args: &[&str]) {
        let mut all = vec!["checkout", "-q"];
        all.extend_from_slice(args);
        self.git(&all);
    }

    /// The author date of `commit` in UTC, as git itself prints it in RFC 3339.
    pub fn date(&self, commit: &str) -> String {
        let mut cmd = git_in(&self.dir);
        cmd.env("TZ", "UTC").args([
            "show",
            "-s",
            "--format=%ad",
            "--date=format-local:%Y-%m-%dT%H:%M:%SZ",
            commit,
        ]);
        ok(cmd)
    }

    /// (count, total size) of the distinct blobs `git rev-list --objects --all` lists.
    pub fn reachable_blobs(&self) -> (u64, u64) {
        let mut list = git_in(&self.dir);
        list.args(["rev-list", "--objects", "--all"]);
        let ids: String = ok(list)
            .lines()
            .map(|l| format!("{}\n", l.split(' ').next().expect("id")))
            .collect();
        let mut cmd = git_in(&self.dir);
        cmd.args(["cat-file", "--batch-check=%(objecttype) %(objectsize)"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut child = cmd.spawn().expect("git runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(ids.as_bytes())
            .expect("feed ids");
        let out = child.wait_with_output().expect("git runs");
        let sizes: Vec<u64> = String::from_utf8(out.stdout)
            .expect("UTF-8")
            .lines()
            .filter_map(|l| l.strip_prefix("blob "))
            .map(|n| n.parse().expect("size"))
            .collect();
        (sizes.len() as u64, sizes.iter().sum())
    }
}
