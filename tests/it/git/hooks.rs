//! The commit-msg and pre-push hooks: the message without comments or the verbose diff, and what a
//! push sends (from standard input or pre-commit's environment).

use super::*;

// ---------------------------------------------------------------------------------------------
// Hooks and suppression in history

#[test]
fn commit_msg_scans_the_message_without_comments_or_the_verbose_diff() {
    let repo = Repo::new();
    let (key, diff_key) = (project_key(9101), project_key(9102));
    let msg = repo.beside("COMMIT_EDITMSG");
    std::fs::write(
        &msg,
        format!(
            "Add client\n\nkey: {key}\n# comment {diff_key}\n\
             # ------------------------ >8 ------------------------\n+K={diff_key}\n"
        ),
    )
    .unwrap();
    let msg_arg = msg.to_str().unwrap();
    let (code, report, _) = hound(repo.path(), &["--commit-msg", msg_arg]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [pair(msg_arg, &key)]);
    assert_eq!(report.findings[0].line, 3);
    assert_eq!(git_of(&report.findings[0]).object, "commit-message");
    std::fs::write(&msg, "Clean message\n").unwrap();
    assert_eq!(hound(repo.path(), &["--commit-msg", msg_arg]).0, 0);
}

#[test]
fn pre_push_scans_what_the_push_sends_from_stdin_or_pre_commit_env() {
    let repo = Repo::new();
    repo.write("a.txt", "clean\n");
    let base = repo.commit("base");
    let key = project_key(9103);
    repo.write("b.env", env_line(&key));
    let tip = repo.commit("add key");
    let stdin = |line: String| {
        let out = kh()
            .current_dir(repo.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env_remove("PRE_COMMIT_FROM_REF")
            .env_remove("PRE_COMMIT_TO_REF")
            .args(["git", "--pre-push", "--format", "json", "--show-secrets"])
            .write_stdin(line)
            .output()
            .unwrap();
        let report: Report = serde_json::from_slice(&out.stdout).expect("JSON");
        (out.status.code(), report)
    };
    let zero = "0".repeat(40);
    // An update of an existing remote branch: only base..tip.
    let (code, report) = stdin(format!("refs/heads/main {tip} refs/heads/main {base}\n"));
    assert_eq!(code, Some(1));
    assert_eq!(found(&report), [pair("b.env", &key)]);
    // Pushing what the remote has already: nothing new.
    let (code, _) = stdin(format!("refs/heads/main {tip} refs/heads/main {tip}\n"));
    assert_eq!(code, Some(0));
    // A deleted branch sends nothing.
    let (code, _) = stdin(format!("(delete) {zero} refs/heads/old {base}\n"));
    assert_eq!(code, Some(0));
    // A new branch with no remote-tracking refs: all its commits.
    let (code, report) = stdin(format!("refs/heads/main {tip} refs/heads/main {zero}\n"));
    assert_eq!(code, Some(1));
    assert_eq!(report.findings.len(), 1);
    // The pre-commit framework's variables.
    let out = kh()
        .current_dir(repo.path())
        .env("PRE_COMMIT_FROM_REF", &base)
        .env("PRE_COMMIT_TO_REF", &tip)
        .args(["git", "--pre-push"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
