//! `--staged`, alone and as git's own pre-commit hook: commit -a, named paths, amend, linked
//! worktrees, the first commit, `GIT_DIR` and `GIT_INDEX_FILE`.

use super::*;

// ---- --staged

/// Installs a pre-commit hook running `keyhound git --staged` that appends each exit code to a
/// log beside the repository; returns the log's path.
fn install_hook(repo: &Repo) -> PathBuf {
    let log = repo.beside("hook.log");
    let bin = assert_cmd::cargo::cargo_bin("keyhound");
    let script = format!(
        "#!/bin/sh\n'{}' git --staged >&2\ncode=$?\necho $code >> '{}'\nexit $code\n",
        bin.display(),
        log.display()
    );
    let hook = repo.path().join(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().expect("hooks dir")).expect("mkdir");
    std::fs::write(&hook, script).expect("write hook");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    log
}

/// The exit codes the hook logged, oldest first.
fn hook_codes(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Asserts `git ARGS` fails (the hook refused) and HEAD is still `head`.
fn refused(repo: &Repo, args: &[&str], head: &str) {
    let out = repo.try_git(args);
    assert!(
        !out.status.success(),
        "git {args:?} should have been stopped by the hook"
    );
    assert_eq!(repo.head(), head, "git {args:?} made a commit");
}

/// The staged blob finding at `path`: reached by the index, no commit, the index's blob.
fn assert_staged(repo: &Repo, report: &Report, path: &str) {
    let g = git_of(at(report, path));
    assert_eq!(g.object, "blob");
    assert_eq!(g.reached_by, "index");
    assert_eq!(g.commit, None);
    assert_eq!(g.blob, Some(repo.rev(&format!(":{path}"))));
}

#[test]
fn a_staged_key_is_reported_with_the_index_blob() {
    assert_staged_key_found(&Repo::new(), 9050);
}

/// A key staged in `repo` over one commit is found by `--staged` with the index's blob; the
/// report.
pub(super) fn assert_staged_key_found(repo: &Repo, seed: u64) -> Report {
    let key = project_key(seed);
    repo.write("README.md", "base\n");
    repo.commit("base");
    let text = format!("# local\n{}", env_line(&key));
    repo.write("app.env", &text);
    repo.git(&["add", "app.env"]);
    let (code, report, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("app.env", &key)]);
    assert_place(&report.findings[0], &text, &key);
    assert_staged(repo, &report, "app.env");
    report
}

#[test]
fn the_pre_commit_hook_stops_commit_all() {
    let repo = Repo::new();
    let key = project_key(9051);
    repo.write("config.txt", "name = demo\n");
    repo.commit("base");
    let log = install_hook(&repo);
    repo.write("config.txt", "name = demo2\n");
    repo.git(&["commit", "-q", "-a", "-m", "clean change"]);
    let head = repo.head();
    assert_eq!(hook_codes(&log), ["0"]);
    repo.write("config.txt", format!("name = demo2\n{}", env_line(&key)));
    refused(&repo, &["commit", "-q", "-a", "-m", "leak"], &head);
    assert_eq!(hook_codes(&log), ["0", "1"]);
}

#[test]
fn the_pre_commit_hook_stops_a_commit_of_named_paths() {
    let repo = Repo::new();
    let key = project_key(9052);
    repo.write("config.txt", "name = demo\n");
    repo.write("other.txt", "x\n");
    repo.commit("base");
    let log = install_hook(&repo);
    repo.write("other.txt", "y\n");
    repo.git(&["commit", "-q", "other.txt", "-m", "clean change"]);
    let head = repo.head();
    repo.write("config.txt", format!("name = demo\n{}", env_line(&key)));
    refused(&repo, &["commit", "-q", "config.txt", "-m", "leak"], &head);
    repo.write("new.env", env_line(&key));
    repo.git(&["add", "-N", "new.env"]);
    refused(&repo, &["commit", "-q", "new.env", "-m", "leak"], &head);
    assert_eq!(hook_codes(&log), ["0", "1", "1"]);
}

#[test]
fn the_pre_commit_hook_checks_only_what_a_path_commit_commits() {
    let repo = Repo::new();
    let key = project_key(9064);
    repo.write("b.txt", "one\n");
    repo.commit("base");
    let log = install_hook(&repo);
    repo.write("keys.env", env_line(&key));
    repo.git(&["add", "keys.env"]);
    repo.write("b.txt", "two\n");
    // `git commit b.txt` commits b.txt alone: the key staged in .git/index is not in it.
    repo.git(&["commit", "-q", "b.txt", "-m", "only b.txt"]);
    let head = repo.head();
    assert_eq!(
        repo.git(&["show", "--name-only", "--format=", "HEAD"]),
        "b.txt"
    );
    assert_eq!(hook_codes(&log), ["0"]);
    refused(&repo, &["commit", "-q", "-m", "the rest"], &head);
    assert_eq!(hook_codes(&log), ["0", "1"]);
}

#[test]
fn the_pre_commit_hook_stops_a_plainly_staged_key() {
    let repo = Repo::new();
    let key = project_key(9053);
    repo.write("README.md", "base\n");
    let head = repo.commit("base");
    let log = install_hook(&repo);
    repo.write("keys.env", env_line(&key));
    repo.git(&["add", "keys.env"]);
    refused(&repo, &["commit", "-q", "-m", "leak"], &head);
    assert_eq!(hook_codes(&log), ["1"]);
}

#[test]
fn the_pre_commit_hook_stops_an_amend() {
    let repo = Repo::new();
    let key = project_key(9054);
    repo.write("config.txt", "name = demo\n");
    repo.commit("base");
    repo.write("config.txt", "name = demo2\n");
    let head = repo.commit("rename");
    let log = install_hook(&repo);
    repo.write("config.txt", format!("name = demo2\n{}", env_line(&key)));
    refused(
        &repo,
        &["commit", "-q", "--amend", "-a", "--no-edit"],
        &head,
    );
    repo.git(&["add", "config.txt"]);
    refused(&repo, &["commit", "-q", "--amend", "--no-edit"], &head);
    assert_eq!(hook_codes(&log), ["1", "1"]);
    repo.write("config.txt", "name = demo3\n");
    repo.git(&["commit", "-q", "--amend", "-a", "--no-edit"]);
    assert_ne!(repo.head(), head);
    assert_eq!(hook_codes(&log), ["1", "1", "0"]);
}

#[test]
fn the_pre_commit_hook_works_in_a_linked_worktree() {
    let repo = Repo::new();
    let key = project_key(9063);
    repo.write("config.txt", "name = demo\n");
    repo.commit("base");
    let log = install_hook(&repo);
    let wt = repo.beside("wt");
    repo.git(&["worktree", "add", "-q", wt.to_str().unwrap(), "-b", "wt"]);
    let in_wt = |args: &[&str]| {
        let mut cmd = git_in(&wt);
        cmd.args(args);
        cmd.output().expect("git runs")
    };
    let head = git_at(&wt, &["rev-parse", "HEAD"]);
    std::fs::write(
        wt.join("config.txt"),
        format!("name = demo\n{}", env_line(&key)),
    )
    .unwrap();
    assert!(
        !in_wt(&["commit", "-q", "-a", "-m", "leak"])
            .status
            .success()
    );
    assert!(
        !in_wt(&["commit", "-q", "config.txt", "-m", "leak"])
            .status
            .success()
    );
    assert_eq!(git_at(&wt, &["add", "config.txt"]), "");
    assert!(!in_wt(&["commit", "-q", "-m", "leak"]).status.success());
    assert_eq!(git_at(&wt, &["rev-parse", "HEAD"]), head);
    assert_eq!(hook_codes(&log), ["1", "1", "1"]);
    // The main work tree's index is not the linked one's.
    let (code, _, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, report, stderr) = hound(&wt, &["--staged"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("config.txt", &key)]);
}

#[test]
fn a_staged_key_before_the_first_commit_is_reported() {
    let repo = Repo::new();
    let key = project_key(9055);
    repo.write("first.env", env_line(&key));
    repo.git(&["add", "first.env"]);
    let (code, report, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("first.env", &key)]);
    assert_staged(&repo, &report, "first.env");

    let log = install_hook(&repo);
    let out = repo.try_git(&["commit", "-q", "-m", "first"]);
    assert!(
        !out.status.success(),
        "the hook should stop the first commit"
    );
    assert!(
        !repo
            .try_git(&["rev-parse", "-q", "--verify", "HEAD"])
            .status
            .success()
    );
    repo.git(&["rm", "-q", "--cached", "first.env"]);
    repo.write("README.md", "clean\n");
    repo.git(&["add", "README.md"]);
    repo.git(&["commit", "-q", "-m", "first"]);
    assert_eq!(hook_codes(&log), ["1", "0"]);
}

#[test]
fn an_unstaged_edit_is_not_reported() {
    let repo = Repo::new();
    repo.write("config.txt", "name = demo\n");
    repo.commit("base");
    repo.write(
        "config.txt",
        format!("name = demo\n{}", env_line(&project_key(9056))),
    );
    repo.write("untracked.env", env_line(&project_key(9057)));
    let (code, report, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 0, "{stderr}\n{:#?}", report.findings);
}

#[test]
fn a_committed_key_is_not_reported_when_another_line_is_staged() {
    let repo = Repo::new();
    let key = project_key(9058);
    repo.write("config.txt", format!("name = demo\n{}", env_line(&key)));
    repo.commit("base");
    repo.write("config.txt", format!("name = demo2\n{}", env_line(&key)));
    repo.git(&["add", "config.txt"]);
    let (code, report, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 0, "{stderr}\n{:#?}", report.findings);
    // Moved to another line of the same file: still not new.
    repo.write("config.txt", format!("{}name = demo3\n", env_line(&key)));
    repo.git(&["add", "config.txt"]);
    let (code, report, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 0, "{stderr}\n{:#?}", report.findings);
}

#[test]
fn a_staged_key_is_reported_after_the_work_tree_drops_it() {
    let repo = Repo::new();
    let key = project_key(9059);
    repo.write("README.md", "base\n");
    repo.commit("base");
    repo.write("a.env", env_line(&key));
    repo.git(&["add", "a.env"]);
    repo.write("a.env", "OPENAI_API_KEY=\n");
    let (code, report, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("a.env", &key)]);
    assert_staged(&repo, &report, "a.env");
}

#[test]
fn a_staged_rename_of_a_committed_key_is_not_reported() {
    let repo = Repo::new();
    let key = project_key(9060);
    let settings: String = (1..=20)
        .map(|i| format!("SETTING_{i}=value {i}\n"))
        .collect();
    let text = format!("{settings}{}", env_line(&key));
    repo.write("old.env", &text);
    repo.commit("base");
    repo.git(&["mv", "old.env", "new.env"]);
    let (code, report, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 0, "{stderr}\n{:#?}", report.findings);
    // Renamed and edited: only the key the edit adds is new.
    let added = project_key(9062);
    repo.write("new.env", format!("{text}{}", env_line(&added)));
    repo.git(&["add", "new.env"]);
    let (code, report, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("new.env", &added)]);
}

#[test]
fn staged_honours_git_dir_and_git_index_file() {
    let repo = Repo::new();
    let key = project_key(9061);
    repo.write("README.md", "base\n");
    repo.commit("base");
    repo.write("k.env", env_line(&key));
    let alt = repo.beside("alt-index");
    for args in [&["read-tree", "HEAD"][..], &["add", "k.env"][..]] {
        let mut cmd = git_in(repo.path());
        cmd.env("GIT_INDEX_FILE", &alt).args(args);
        ok(cmd);
    }
    let (code, _, stderr) = hound(repo.path(), &["--staged"]);
    assert_eq!(code, 0, "the default index has no key: {stderr}");
    let index: &[(&str, &Path)] = &[("GIT_INDEX_FILE", &alt)];
    let (code, report, stderr) = hound_env(repo.path(), &["--staged"], index);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("k.env", &key)]);
    let elsewhere = repo.beside("");
    let git_dir = repo.path().join(".git");
    let both: &[(&str, &Path)] = &[("GIT_DIR", &git_dir), ("GIT_INDEX_FILE", &alt)];
    let (code, report, stderr) = hound_env(&elsewhere, &["--staged"], both);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("k.env", &key)]);
    let dir_only: &[(&str, &Path)] = &[("GIT_DIR", &git_dir)];
    let (code, _, stderr) = hound_env(&elsewhere, &["--staged"], dir_only);
    assert_eq!(code, 0, "{stderr}");
}
