//! `push`: before to after, new branches with or without the default branch, force pushes, shallow
//! checkouts, deleted branches.

use super::*;

// ---- push

#[test]
fn a_push_gates_on_before_to_after() {
    let lab = Lab::new();
    let repo = lab.repo("ws");
    let (old, new) = (project_key(9520), project_key(9521));
    repo.write("old.env", env_line(&old));
    repo.commit("old key");
    repo.write("README.md", "readme\n");
    let before = repo.commit("readme");
    repo.write("new.env", env_line(&new));
    repo.commit("new key");
    repo.write("README.md", "readme 2\n");
    let after = repo.commit("readme 2");

    let event = push_event("main", &before, &after, "main");
    let run = lab.ci(repo.path(), "push", &event, &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("new.env", &new)]);
    assert_eq!(run.report().stats.commits, Some(2));
    assert!(run.warnings().is_empty(), "{}", run.why());
    assert_eq!(run.annotations().len(), 1);
    assert_eq!(run.output, "findings=1\n");
    assert!(
        run.summary.contains(&format!("{before}..{after}")),
        "{}",
        run.summary
    );
    assert_eq!(run.sarif_id(), Some("keyhound/tree/"));
    assert_eq!(run.sarif_uris(), ["new.env", "old.env"]);
}

/// A developer's repository with default branch `trunk` (a key before the fork and one after,
/// merged into the branch) and `feature` (a key of its own), pushed to a bare origin.
/// Returns (developer repository, origin, feature's key).
fn branch_off_trunk(lab: &Lab) -> (Repo<'_>, PathBuf, String) {
    let dev = lab.repo("dev");
    dev.git(&["checkout", "-q", "-b", "trunk"]);
    dev.write("trunk-old.env", env_line(&project_key(9522)));
    dev.commit("trunk key");
    dev.git(&["checkout", "-q", "-b", "feature"]);
    let key = project_key(9523);
    dev.write("feature.env", env_line(&key));
    dev.commit("feature key");
    dev.git(&["checkout", "-q", "trunk"]);
    dev.write("trunk-new.env", env_line(&project_key(9524)));
    dev.commit("another trunk key");
    dev.git(&["checkout", "-q", "feature"]);
    dev.git(&["merge", "-q", "--no-ff", "trunk", "-m", "merge trunk"]);
    dev.write("README.md", "feature\n");
    dev.commit("feature readme");
    let origin = lab.bare("origin.git");
    dev.git(&["push", "-q", &url(&origin), "trunk", "feature"]);
    let mut head = git_in(&origin);
    head.args(["symbolic-ref", "HEAD", "refs/heads/trunk"]);
    ok(head);
    (dev, origin, key)
}

#[test]
fn a_new_branch_gates_on_its_commits_not_on_the_remote_default_branch() {
    let lab = Lab::new();
    let (dev, origin, key) = branch_off_trunk(&lab);
    let after = dev.rev("feature");
    // As actions/checkout leaves it: the pushed branch checked out, the rest as remote branches.
    let ws = lab.clone_of(&origin, "ws", &[]);
    ws.git(&["checkout", "-q", "-b", "feature", "origin/feature"]);
    ws.git(&["branch", "-q", "-D", "trunk"]);

    let event = push_event("feature", ZERO, &after, "trunk");
    let run = lab.ci(ws.path(), "push", &event, &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("feature.env", &key)]);
    assert!(run.warnings().is_empty(), "{}", run.why());
    assert_eq!(run.output, "findings=1\n");
}

#[test]
fn a_new_branch_without_a_remote_gates_on_its_commits_not_on_the_local_default_branch() {
    let lab = Lab::new();
    let (dev, _, key) = branch_off_trunk(&lab);
    let event = push_event("feature", ZERO, &dev.head(), "trunk");
    let run = lab.ci(dev.path(), "push", &event, &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("feature.env", &key)]);
    assert!(run.warnings().is_empty(), "{}", run.why());
}

#[test]
fn a_new_branch_without_the_default_branch_scans_the_branchs_history_with_a_warning() {
    let lab = Lab::new();
    let (dev, _, key) = branch_off_trunk(&lab);
    let event = push_event("feature", ZERO, &dev.head(), "nowhere");
    let run = lab.ci(dev.path(), "push", &event, &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    let found: Vec<String> = run.found().into_iter().map(|(p, _)| p).collect();
    assert_eq!(found, ["feature.env", "trunk-new.env", "trunk-old.env"]);
    assert!(run.found().contains(&pair("feature.env", &key)));
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{}", run.why());
    assert!(
        warnings[0].contains("\"nowhere\"") && warnings[0].contains("fetch-depth: 0"),
        "{}",
        warnings[0]
    );
}

#[test]
fn a_force_push_gates_on_the_branchs_commits_not_on_the_default_branch_with_a_warning() {
    let lab = Lab::new();
    let dev = lab.repo("dev");
    dev.write("main.env", env_line(&project_key(9525)));
    dev.commit("main key");
    let origin = lab.bare("origin.git");
    dev.git(&["checkout", "-q", "-b", "feature"]);
    dev.write("draft.txt", "draft\n");
    let before = dev.commit("draft");
    dev.git(&["push", "-q", &url(&origin), "main", "feature"]);
    // Rewritten and force-pushed: `before` is gone from origin's branches.
    dev.git(&["reset", "-q", "--hard", "main"]);
    let key = project_key(9526);
    dev.write("feature.env", env_line(&key));
    let after = dev.commit("rewritten");
    dev.git(&["push", "-q", "--force", &url(&origin), "feature"]);
    let ws = lab.clone_of(&origin, "ws", &["-b", "feature"]);
    assert!(!ws.has(&before), "the old tip is not in a fresh clone");

    let mut event = push_event("feature", &before, &after, "main");
    event["forced"] = json!(true);
    let run = lab.ci(ws.path(), "push", &event, &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("feature.env", &key)]);
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{}", run.why());
    assert!(
        warnings[0].starts_with("::warning title=keyhound::") && warnings[0].contains(&before),
        "{}",
        warnings[0]
    );
    assert_eq!(run.commands().len(), 2, "the warning and one annotation");
    assert_eq!(run.output, "findings=1\n");
}

#[test]
fn a_force_push_to_the_default_branch_still_scans_the_pushed_commits() {
    let lab = Lab::new();
    let dev = lab.repo("dev");
    dev.write("README.md", "one\n");
    dev.commit("one");
    dev.write("draft.txt", "draft\n");
    let before = dev.commit("draft");
    let origin = lab.bare("origin.git");
    dev.git(&["push", "-q", &url(&origin), "main"]);
    dev.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let key = project_key(9527);
    dev.write("app.env", env_line(&key));
    let after = dev.commit("rewritten with a key");
    dev.git(&["push", "-q", "--force", &url(&origin), "main"]);
    let ws = lab.clone_of(&origin, "ws", &["-b", "main"]);
    assert!(!ws.has(&before));

    let mut event = push_event("main", &before, &after, "main");
    event["forced"] = json!(true);
    let run = lab.ci(ws.path(), "push", &event, &[]);
    assert_eq!(
        run.code,
        1,
        "a force-push to the default branch that adds a key must not pass\n{}",
        run.why()
    );
    assert!(run.found().contains(&pair("app.env", &key)));
}

#[test]
fn a_push_checked_out_shallow_is_an_error_naming_fetch_depth() {
    // actions/checkout's default is fetch-depth 1: the push's `before` is not in the clone
    // because the clone is shallow, not because of a force-push.
    let lab = Lab::new();
    let dev = lab.repo("dev");
    dev.write("README.md", "one\n");
    let before = dev.commit("one");
    dev.write("app.env", env_line(&project_key(9528)));
    dev.commit("key");
    dev.write("README.md", "two\n");
    let after = dev.commit("two");
    let origin = lab.bare("origin.git");
    dev.git(&["push", "-q", &url(&origin), "main"]);
    let ws = lab.clone_of(&origin, "ws", &["--depth", "1", "-b", "main"]);
    assert!(!ws.has(&before));

    let run = lab.ci(
        ws.path(),
        "push",
        &push_event("main", &before, &after, "main"),
        &[],
    );
    assert_eq!(
        run.code,
        2,
        "the push's commits were not all scanned\n{}",
        run.why()
    );
    assert!(run.stderr.contains("fetch-depth: 0"), "{}", run.stderr);
}

#[test]
fn a_push_deleting_the_branch_scans_nothing() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9529);
    let event = json!({
        "ref": "refs/heads/feature",
        "before": base,
        "after": ZERO,
        "created": false,
        "deleted": true,
        "forced": false,
        "repository": {"default_branch": "main"},
    });
    let run = lab.ci(repo.path(), "push", &event, &[]);
    assert_eq!(run.code, 0, "{}", run.why());
    assert!(run.stdout.contains("deleted the branch"), "{}", run.why());
    assert!(run.commands().is_empty(), "{}", run.why());
    assert_eq!(run.output, "findings=0\n");
    assert!(run.summary.starts_with("## keyhound\n"), "{}", run.summary);
}
