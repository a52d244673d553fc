//! What a SHA-256 repository gets beside its whole history, `--range` and `--staged` (issue 14,
//! point 17): the modes libgit2 would have read, read through git instead, with the findings a
//! SHA-1 repository gets and every id in its 64 hex digits.

use super::formats::{assert_long_ids, sha256};
use super::*;

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
