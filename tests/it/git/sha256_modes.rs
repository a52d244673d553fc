//! What a SHA-256 repository gets beside its whole history, `--range` and `--staged` (issue 14,
//! point 17): the modes libgit2 would have read, read through git instead, with the findings a
//! SHA-1 repository gets and every id in its 64 hex digits.

use super::formats::{assert_long_ids, repo_with, sha256};
use super::*;

/// `keyhound git --format json --show-secrets ARGS` over the same history built twice by
/// `build`, in a SHA-1 and in a SHA-256 repository: asserts both give the same exit code,
/// findings, notes and counts, every object id named by what it is (`label`); returns the
/// SHA-256 repository's run.
fn same_as_sha1(build: &dyn Fn(&Repo), args: &[&str]) -> (Repo, i32, Report, String) {
    let run = |repo: Repo| {
        build(&repo);
        let mut all = vec!["--format", "json", "--show-secrets"];
        all.extend_from_slice(args);
        let out = hound_out(repo.path(), &all, &[]);
        let doc: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
        let listed = |v: &Value| -> Vec<String> {
            let mut all: Vec<String> = (v.as_array().into_iter().flatten())
                .map(|item| label(&repo, &item.to_string()))
                .collect();
            all.sort();
            all
        };
        let seen = (
            listed(&doc["findings"]),
            listed(&doc["skipped"]),
            doc["stats"]["commits"].clone(),
        );
        (repo, out, doc, seen)
    };
    let (_, out1, _, seen1) = run(repo_with(&[]));
    let (repo, out, doc, seen) = run(sha256());
    assert_eq!(out.status.code(), out1.status.code());
    assert_eq!(seen, seen1, "SHA-256 (left) and SHA-1 (right) differ");
    let report = serde_json::from_value(doc).expect("a report");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (repo, code_of(&out), report, stderr)
}

/// `text` with each object id of `repo` (40 or 64 hex digits) replaced by what it is: a
/// commit by its subject, any other object by its first path, an object no ref or reflog
/// reaches by `unknown`.
fn label(repo: &Repo, text: &str) -> String {
    let mut names = std::collections::HashMap::new();
    let abbreviated = regex::Regex::new(r"\b[0-9a-f]{7,}\b").expect("a regex");
    for line in repo
        .git(&["log", "--all", "--reflog", "--format=%H commit %s"])
        .lines()
    {
        let (id, what) = line.split_once(' ').expect("id and subject");
        // A stash's subject names its base by an abbreviated id.
        names.insert(id.to_string(), abbreviated.replace_all(what, "<id>").into());
    }
    for line in repo.git(&["rev-list", "--all", "--objects"]).lines() {
        if let Some((id, path)) = line.split_once(' ') {
            names
                .entry(id.to_string())
                .or_insert(format!("object {path}"));
        }
    }
    let ids = regex::Regex::new(r"\b[0-9a-f]{40}(?:[0-9a-f]{24})?\b").expect("a regex");
    ids.replace_all(text, |c: &regex::Captures<'_>| {
        names
            .get(&c[0])
            .cloned()
            .unwrap_or_else(|| "unknown".into())
    })
    .into_owned()
}

#[test]
fn a_shallow_sha256_clone_is_scanned_and_said_to_be_shallow() {
    let repo = sha256();
    let (old, new) = (project_key(9600), project_key(9601));
    repo.write("old.env", env_line(&old));
    repo.commit("old");
    repo.remove("old.env");
    let text = env_line(&new);
    repo.write("new.env", &text);
    let c2 = repo.commit("new");
    let url = format!("file://{}", repo.path().display());
    git_at(
        &repo.beside(""),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let (code, report, stderr) = hound(&repo.beside("shallow"), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("new.env", &new)]);
    let f = &report.findings[0];
    assert_place(f, &text, &new);
    let g = git_of(f);
    assert_eq!(
        (g.commit.as_deref(), g.last_seen.as_deref()),
        (Some(c2.as_str()), Some(c2.as_str()))
    );
    assert_eq!((g.commits, g.at_head), (Some(1), Some(true)));
    assert_eq!(g.author.as_deref(), Some(AUTHOR));
    assert_long_ids(&report);
    let shallow: Vec<&Skipped> = (report.skipped.iter())
        .filter(|s| s.reason.contains("shallow clone"))
        .collect();
    assert_eq!(shallow.len(), 1, "{:#?}", report.skipped);
    assert!(!shallow[0].incomplete);
    assert!(stderr.contains("shallow clone"), "{stderr}");
    assert!(report.complete);
    assert_eq!(report.stats.commits, Some(1));
}

/// `keyhound git --pre-push` in `repo` told `line` on standard input, as git tells its hook:
/// (exit code, report, stderr).
fn pre_push(repo: &Repo, line: &str) -> (Option<i32>, Report, String) {
    let out = kh()
        .current_dir(repo.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("PRE_COMMIT_FROM_REF")
        .env_remove("PRE_COMMIT_TO_REF")
        .env_remove("PRE_COMMIT_LOCAL_BRANCH")
        .args(["git", "--pre-push", "--format", "json", "--show-secrets"])
        .write_stdin(line.to_string())
        .output()
        .expect("keyhound runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}); stderr:\n{stderr}"));
    (out.status.code(), report, stderr)
}

#[test]
fn a_sha256_pre_push_scans_what_the_push_sends() {
    let repo = sha256();
    repo.write("a.txt", "clean\n");
    let base = repo.commit("base");
    let key = project_key(9610);
    let text = env_line(&key);
    repo.write("b.env", &text);
    let tip = repo.commit("add key");
    let zero = "0".repeat(64);
    // An update of an existing remote branch: only base..tip.
    let (code, report, stderr) = pre_push(
        &repo,
        &format!("refs/heads/main {tip} refs/heads/main {base}\n"),
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(found(&report), [pair("b.env", &key)]);
    assert_place(&report.findings[0], &text, &key);
    assert_added(&repo, &report.findings[0], &tip, "b.env");
    assert_long_ids(&report);
    // Pushing what the remote has already: nothing new.
    let (code, report, stderr) = pre_push(
        &repo,
        &format!("refs/heads/main {tip} refs/heads/main {tip}\n"),
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(report.findings.is_empty());
    // A deleted branch sends nothing.
    let (code, _, stderr) = pre_push(&repo, &format!("(delete) {zero} refs/heads/old {base}\n"));
    assert_eq!(code, Some(0), "{stderr}");
    // A new branch, the remote's tracking branch already at base: base's commits are hidden.
    repo.git(&["update-ref", "refs/remotes/origin/main", &base]);
    let (code, report, stderr) = pre_push(
        &repo,
        &format!("refs/heads/main {tip} refs/heads/topic {zero}\n"),
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(found(&report), [pair("b.env", &key)]);
    assert_eq!(report.stats.commits, Some(1));
    // The pre-commit framework's variables.
    let out = kh()
        .current_dir(repo.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("PRE_COMMIT_FROM_REF", &base)
        .env("PRE_COMMIT_TO_REF", &tip)
        .args(["git", "--pre-push"])
        .output()
        .expect("keyhound runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_sha256_server_rejects_a_push_adding_a_key_with_pre_receive() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let bare = tmp.path().join("server.git");
    git_at(
        tmp.path(),
        &[
            "init",
            "-q",
            "--bare",
            "--object-format=sha256",
            "server.git",
        ],
    );
    let report_file = tmp.path().join("report.json");
    let hook = bare.join("hooks/pre-receive");
    let script = format!(
        "#!/bin/sh\nexec '{}' git --pre-receive --format json --show-secrets -o '{}'\n",
        assert_cmd::cargo::cargo_bin("keyhound").display(),
        report_file.display()
    );
    std::fs::write(&hook, script).expect("write hook");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let client = sha256();
    let url = format!("file://{}", bare.display());
    client.git(&["remote", "add", "origin", &url]);
    client.write("README.md", "hello\n");
    let clean = client.commit("clean");
    let out = client.try_git(&["push", "-q", "origin", "main"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = project_key(9620);
    let text = env_line(&key);
    client.write("app.env", &text);
    let added = client.commit("add a key");
    client.write("docs.md", "docs\n");
    client.commit("docs on top");
    let out = client.try_git(&["push", "-q", "origin", "main"]);
    assert!(!out.status.success(), "the key was accepted");
    let report: Report =
        serde_json::from_slice(&std::fs::read(&report_file).expect("the hook's report"))
            .expect("JSON");
    assert_eq!(found(&report), [pair("app.env", &key)]);
    assert_place(&report.findings[0], &text, &key);
    assert_added(&client, &report.findings[0], &added, "app.env");
    assert_long_ids(&report);
    assert_eq!(
        report.stats.commits,
        Some(2),
        "the server's commit is hidden"
    );
    let mut server = git_in(&bare);
    server.args(["rev-parse", "main"]);
    assert_eq!(ok(server), clean, "the server's main did not move");
}

#[test]
fn warnings_during_a_sha256_scan_name_objects_by_their_full_ids() {
    let repo = sha256();
    repo.write("README.md", "hello\n");
    repo.commit("first");
    // A corrupt gzip stream in a blob a tag points at directly: no path names it, its id does.
    let file = repo.beside("broken.gz");
    let mut gz = vec![0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3];
    gz.extend(b"not a deflate stream at all".repeat(4));
    std::fs::write(&file, gz).expect("write");
    let blob = repo.git(&["hash-object", "-w", &file.display().to_string()]);
    assert_eq!(blob.len(), 64, "a SHA-256 repository");
    repo.git(&["tag", "broken", &blob]);
    let (code, report, stderr) = hound(repo.path(), &[]);
    assert_eq!(code, 2, "incomplete: {stderr}");
    let noted: Vec<&Skipped> = (report.skipped.iter()).filter(|s| s.incomplete).collect();
    assert_eq!(noted.len(), 1, "{:#?}", report.skipped);
    assert!(noted[0].path.starts_with(&blob), "{:#?}", noted[0]);
    let warnings: Vec<&str> = (stderr.lines())
        .filter(|l| l.contains(&blob[..40]))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].contains(&blob), "the full id: {}", warnings[0]);
}

#[test]
fn a_sha256_repository_is_scanned_with_all_objects_as_a_sha1_one_is() {
    let keys = [9650, 9651, 9652, 9653, 9654, 9655].map(project_key);
    let build = |repo: &Repo| {
        repo.write("README.md", "hello\n");
        repo.write("config.toml", format!("api_key = \"{}\"\n", keys[0]));
        repo.commit("a key on the branch");
        // A commit only the reflog remembers.
        repo.write("gone.env", env_line(&keys[1]));
        repo.commit("a key reset away");
        repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
        // A stash entry.
        repo.write("README.md", format!("hello\n{}", env_line(&keys[2])));
        repo.git(&["stash", "-q"]);
        // A blob and a tree nothing points at.
        let loose = repo.beside("loose.env");
        std::fs::write(&loose, env_line(&keys[3])).expect("write");
        repo.git(&["hash-object", "-w", &loose.display().to_string()]);
        let inner = repo.beside("inner.env");
        std::fs::write(&inner, env_line(&keys[4])).expect("write");
        let blob = repo.git(&["hash-object", "-w", &inner.display().to_string()]);
        let tree = repo.cmd(&["mktree"]);
        let tree = pipe_in(tree, &format!("100644 blob {blob}\tdangling.env\n"));
        // A commit nothing reaches, holding a key in its tree and one in its message.
        let msg = format!("dangling\n\n{}\n", keys[5]);
        repo.git(&["commit-tree", &tree, "-m", &msg]);
    };
    let (_, code, report, stderr) = same_as_sha1(&build, &["--all-objects"]);
    assert_eq!(code, 1, "{stderr}");
    let mut reach: Vec<(String, String)> = (report.findings.iter())
        .map(|f| (f.secret.clone(), git_of(f).reached_by.clone()))
        .collect();
    reach.sort();
    let mut want: Vec<(String, String)> = [
        (0, "refs"),
        (1, "reflog"),
        (2, "stash"),
        (3, "unreachable"),
        (4, "unreachable"),
        (5, "unreachable"),
    ]
    .map(|(i, r)| (keys[i].clone(), r.to_string()))
    .to_vec();
    want.sort();
    assert_eq!(reach, want, "{:#?}", report.findings);
    assert_long_ids(&report);
}

/// Runs `cmd` with `input` on its standard input; its standard output, trimmed.
fn pipe_in(mut cmd: std::process::Command, input: &str) -> String {
    use std::io::Write as _;
    let mut child = (cmd.stdin(std::process::Stdio::piped()))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("git runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("git runs");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
