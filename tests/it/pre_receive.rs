//! `keyhound git --pre-receive` as a server's hook: a real bare repository with the hook
//! installed, and real `git push`es to it over `file://` (so receive-pack quarantines the objects).

use crate::repo::GitRepo;
use crate::util::{git_in, ok, project_key};
use std::path::{Path, PathBuf};
use std::process::Output;

/// A bare `server.git` with keyhound as its pre-receive hook (with `hook_args`), and a client
/// repository whose `origin` it is.
struct Server {
    _tmp: tempfile::TempDir,
    bare: PathBuf,
    client: GitRepo,
}

impl Server {
    fn new(hook_args: &str) -> Server {
        let tmp = tempfile::tempdir().expect("temp dir");
        let bare = tmp.path().join("server.git");
        ok({
            let mut c = git_in(tmp.path());
            c.args(["init", "-q", "--bare", "server.git"]);
            c
        });
        let client = GitRepo::init(tmp.path().join("client"), 0);
        client.git(&[
            "remote",
            "add",
            "origin",
            &format!("file://{}", bare.display()),
        ]);
        let server = Server {
            _tmp: tmp,
            bare,
            client,
        };
        server.install(hook_args);
        server
    }

    fn install(&self, hook_args: &str) {
        let hook = self.bare.join("hooks/pre-receive");
        let bin = assert_cmd::cargo::cargo_bin("keyhound");
        let script = format!(
            "#!/bin/sh\nexec '{}' git --pre-receive {hook_args}\n",
            bin.display()
        );
        std::fs::write(&hook, script).expect("write hook");
        set_executable(&hook);
    }

    fn uninstall(&self) {
        std::fs::remove_file(self.bare.join("hooks/pre-receive")).expect("remove hook");
    }

    fn push(&self, args: &[&str]) -> Output {
        let mut all = vec!["push", "-q", "origin"];
        all.extend_from_slice(args);
        self.client.try_git(&all)
    }

    /// The commit the server's `name` points at, if any.
    fn server_ref(&self, name: &str) -> Option<String> {
        let mut c = git_in(&self.bare);
        c.args(["rev-parse", "--verify", "--quiet", name]);
        let out = c.output().expect("git runs");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

#[cfg(unix)]
fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_push_adding_a_key_is_rejected_with_keyhounds_message_and_a_clean_one_accepted() {
    let s = Server::new("");
    s.client.write("README.md", "hello\n");
    let clean = s.client.commit("clean");
    let out = s.push(&["main"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(s.server_ref("main").as_deref(), Some(clean.as_str()));

    let key = project_key(9800);
    s.client.write("app.env", format!("OPENAI_API_KEY={key}\n"));
    s.client.commit("add a key");
    s.client.write("docs.md", "docs\n");
    s.client.commit("docs on top");
    let out = s.push(&["main"]);
    let err = stderr(&out);
    assert!(!out.status.success(), "the key was accepted:\n{err}");
    assert!(
        err.contains("remote: Push rejected by keyhound on the server: 1 leaked key"),
        "{err}"
    );
    assert!(err.contains("app.env"), "{err}");
    assert!(
        !err.contains(&key),
        "the key is echoed to the pusher:\n{err}"
    );
    assert_eq!(s.server_ref("main").as_deref(), Some(clean.as_str()));

    // A tag bringing the same commits is rejected too; one on a clean commit passes.
    s.client.git(&["tag", "-a", "-m", "release", "v1"]);
    let out = s.push(&["v1"]);
    assert!(!out.status.success(), "{}", stderr(&out));
    assert_eq!(s.server_ref("refs/tags/v1"), None);
    s.client.git(&["tag", "-a", "-m", "old", "v0", &clean]);
    let out = s.push(&["v0"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn commits_the_server_has_already_and_deletions_pass() {
    let s = Server::new("");
    s.uninstall();
    s.client
        .write("app.env", format!("KEY={}\n", project_key(9801)));
    let old = s.client.commit("a key from before the hook");
    let out = s.push(&["main"]);
    assert!(out.status.success(), "{}", stderr(&out));
    s.install("");
    // A new branch at a commit the server has: no new commits, nothing to reject.
    s.client.git(&["branch", "topic", &old]);
    let out = s.push(&["topic"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(s.server_ref("topic").as_deref(), Some(old.as_str()));
    let out = s.push(&["--delete", "topic"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(s.server_ref("topic"), None);
}

/// `count` commits on the client's `main`, each changing one file, made in one `git fast-import`;
/// commit `key_at`, if given, adds a key.
fn many_commits(repo: &GitRepo, count: usize, key_at: Option<usize>) {
    use std::io::Write;
    let mut stream = String::new();
    for i in 0..count {
        let data = match key_at {
            Some(k) if k == i => format!("KEY={}\n", project_key(9802)),
            _ => format!("line {i}\n"),
        };
        let msg = format!("commit {i}\n");
        stream.push_str(&format!(
            "commit refs/heads/main\ncommitter Cy <cy@example.com> {} +0000\ndata {}\n{msg}",
            1_704_164_645 + i,
            msg.len()
        ));
        stream.push_str(&format!(
            "M 100644 inline file-{}.txt\ndata {}\n{data}\n",
            i % 50,
            data.len()
        ));
    }
    let mut cmd = git_in(repo.path());
    cmd.args(["fast-import", "--quiet"])
        .stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("git fast-import runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stream.as_bytes())
        .expect("stream written");
    assert!(child.wait().expect("waited").success());
    repo.git(&["reset", "-q", "--hard", "main"]);
}

#[test]
fn a_push_of_a_thousand_commits_is_scanned_within_the_default_budget() {
    let s = Server::new("");
    many_commits(&s.client, 1000, None);
    let out = s.push(&["main"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("warning"), "the budget ran out:\n{err}");
    assert_eq!(s.server_ref("main"), Some(s.client.head()));

    // The same with a key in commit 500 of 1,000: found within the budget.
    let s = Server::new("");
    many_commits(&s.client, 1000, Some(500));
    let out = s.push(&["main"]);
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("Push rejected by keyhound"), "{err}");
}

#[test]
fn past_the_budget_the_push_passes_with_a_warning_or_fails_closed() {
    let s = Server::new("--timeout 0.000001");
    many_commits(&s.client, 200, None);
    let out = s.push(&["main"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("push let through unscanned"), "{err}");

    let s = Server::new("--timeout 0.000001 --fail-closed");
    many_commits(&s.client, 200, None);
    let out = s.push(&["main"]);
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("push rejected (--fail-closed)"), "{err}");
    assert_eq!(s.server_ref("main"), None);
}
