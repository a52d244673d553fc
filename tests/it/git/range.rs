//! `--range`: only the commits it names, merges of the base, evil merges, moved keys and renamed
//! files, unknown ends, root commits and commit messages.

use super::*;

// ---- --range

/// A repository with `main` checked out and `feature` forked at its first commit.
fn forked() -> Repo {
    let repo = Repo::new();
    repo.write("README.md", "base\n");
    repo.commit("base");
    repo.git(&["branch", "feature"]);
    repo
}

#[test]
fn a_range_covers_only_the_commits_it_names() {
    let repo = Repo::new();
    let (before, on_feature, on_main) = (project_key(9070), project_key(9071), project_key(9072));
    // A key committed before the fork is outside both ranges.
    repo.write("before.env", env_line(&before));
    repo.commit("base with a key");
    repo.checkout(&["-b", "feature"]);
    let text = format!("# feature\n{}", env_line(&on_feature));
    repo.write("feature.env", &text);
    let f1 = repo.commit("feature key");
    repo.write("notes.txt", "more\n");
    repo.commit("feature notes");
    repo.checkout(&["main"]);
    repo.write("main.env", env_line(&on_main));
    let m1 = repo.commit("main key");

    let (code, report, stderr) = hound(repo.path(), &["--range", "main..feature"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("feature.env", &on_feature)]);
    let f = at(&report, "feature.env");
    assert_place(f, &text, &on_feature);
    assert_added(&repo, f, &f1, "feature.env");
    assert_eq!(report.stats.commits, Some(2));

    let (code, report, stderr) = hound(repo.path(), &["--range", "feature..main"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("main.env", &on_main)]);
    assert_added(&repo, at(&report, "main.env"), &m1, "main.env");
}

#[test]
fn a_key_added_then_removed_inside_the_range_is_found() {
    let repo = forked();
    let key = project_key(9073);
    repo.checkout(&["feature"]);
    repo.write("tmp.env", env_line(&key));
    let f1 = repo.commit("try a key");
    std::fs::remove_file(repo.path().join("tmp.env")).expect("rm");
    repo.commit("remove it again");
    let (code, report, stderr) = hound(repo.path(), &["--range", "main..feature"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("tmp.env", &key)]);
    assert_added(&repo, &report.findings[0], &f1, "tmp.env");
}

#[test]
fn merging_main_into_the_branch_does_not_report_mains_keys() {
    let repo = Repo::new();
    let (main_key, other_main_key, branch_key) =
        (project_key(9074), project_key(9075), project_key(9076));
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
    repo.commit("main keys");
    // feature: another line of the shared file, then main merged in.
    repo.checkout(&["feature"]);
    repo.write("shared.txt", format!("line one\n{}", lines[1..].concat()));
    repo.commit("feature edit");
    repo.git(&["merge", "-q", "--no-ff", "main", "-m", "merge main"]);
    let merged = std::fs::read_to_string(repo.path().join("shared.txt")).expect("read");
    assert!(
        merged.starts_with("line one\n") && merged.contains(&main_key),
        "{merged}"
    );
    let (code, report, stderr) = hound(repo.path(), &["--range", "main..feature"]);
    assert_eq!(code, 0, "{stderr}\n{:#?}", report.findings);

    // A key the branch adds after the merge is still reported.
    repo.write("branch.env", env_line(&branch_key));
    let f3 = repo.commit("branch key");
    let (code, report, stderr) = hound(repo.path(), &["--range", "main..feature"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("branch.env", &branch_key)]);
    assert_added(&repo, &report.findings[0], &f3, "branch.env");
}

#[test]
fn an_evil_merge_in_the_range_is_reported_at_the_merge() {
    let repo = forked();
    let key = project_key(9077);
    repo.write("main.txt", "main\n");
    repo.commit("main work");
    repo.checkout(&["feature"]);
    repo.write("feature.txt", "feature\n");
    repo.commit("feature work");
    repo.git(&["merge", "-q", "--no-ff", "--no-commit", "main"]);
    repo.write("main.txt", format!("main\n{}", env_line(&key)));
    repo.git(&["add", "main.txt"]);
    repo.git(&["commit", "-q", "-m", "merge main"]);
    let merge = repo.head();
    let (code, report, stderr) = hound(repo.path(), &["--range", "main..feature"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("main.txt", &key)]);
    assert_added(&repo, &report.findings[0], &merge, "main.txt");
}

#[test]
fn a_key_moved_within_its_file_is_not_new_in_a_range() {
    let repo = Repo::new();
    let (old, new) = (project_key(9078), project_key(9079));
    repo.write(
        "config.txt",
        format!("a = 1\nb = 2\n{}c = 3\n", env_line(&old)),
    );
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let text = format!("{}a = 1\nb = 2\nc = 3\nnew = {new}\n", env_line(&old));
    repo.write("config.txt", &text);
    let f1 = repo.commit("reorder, and one new key");
    let (code, report, stderr) = hound(repo.path(), &["--range", "main..feature"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("config.txt", &new)]);
    assert_place(&report.findings[0], &text, &new);
    assert_added(&repo, &report.findings[0], &f1, "config.txt");
}

#[test]
fn a_renamed_file_is_not_new_in_a_range() {
    let repo = Repo::new();
    let (old, new) = (project_key(9080), project_key(9081));
    repo.write("old.env", env_line(&old));
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.git(&["mv", "old.env", "renamed.env"]);
    repo.write("added.env", env_line(&new));
    let f1 = repo.commit("rename, and a new key");
    let (code, report, stderr) = hound(repo.path(), &["--range", "main..feature"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("added.env", &new)]);
    assert_added(&repo, &report.findings[0], &f1, "added.env");
}

#[test]
fn a_range_with_an_unknown_end_is_an_error() {
    let repo = forked();
    let out = hound_out(repo.path(), &["--range", "main..no-such-branch"], &[]);
    assert_eq!(code_of(&out), 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no-such-branch"), "{stderr}");
}

#[test]
fn a_range_reaching_a_root_commit_compares_it_with_the_empty_tree() {
    let repo = Repo::new();
    let key = project_key(9082);
    repo.write("README.md", "base\n");
    repo.commit("base");
    repo.checkout(&["--orphan", "fresh"]);
    repo.git(&["rm", "-rq", "--cached", "."]);
    std::fs::remove_file(repo.path().join("README.md")).expect("rm");
    repo.write("fresh.env", env_line(&key));
    let root = repo.commit("a new root");
    let (code, report, stderr) = hound(repo.path(), &["--range", "main..fresh"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair("fresh.env", &key)]);
    assert_added(&repo, &report.findings[0], &root, "fresh.env");
}

#[test]
fn a_commit_message_in_a_range_has_no_history_fields() {
    let repo = forked();
    let key = project_key(9083);
    repo.checkout(&["feature"]);
    repo.write("feature.txt", "work\n");
    let f1 = repo.commit(&format!("feature, tested with {key}"));
    let (code, report, stderr) = hound(repo.path(), &["--range", "main..feature"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found(&report), [pair(&f1, &key)]);
    let g = git_of(&report.findings[0]);
    assert_eq!(g.object, "commit-message");
    assert_eq!(g.commit.as_deref(), Some(f1.as_str()));
    assert_eq!(
        (g.last_seen.as_deref(), g.commits, g.at_head),
        (None, None, None)
    );
}
