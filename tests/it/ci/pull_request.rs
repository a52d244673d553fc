//! `pull_request`, `pull_request_target` and `merge_group`: the commits each gates on, annotations,
//! the summary and outputs, the SARIF's commit, merges of the base, shallow clones.

use super::*;

// ---- pull_request

#[test]
fn a_pull_request_adding_a_key_fails_with_an_annotation_a_summary_and_outputs() {
    let lab = Lab::new();
    let (repo, old, base) = base_with_a_key(&lab, 9500);
    let new = project_key(9501);
    repo.write("README.md", "docs\n");
    repo.commit("docs");
    let text = format!("# config\n{}", env_line(&new));
    repo.write("app/pr.env", &text);
    let head = repo.commit("add a key");

    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("app/pr.env", &new)]);
    let f = &run.report().findings[0];
    assert_eq!((f.line, f.column), (2, 16));
    let git = f.git.as_ref().expect("git object");
    assert_eq!(git.commit.as_deref(), Some(head.as_str()));
    assert_eq!(run.report().stats.commits, Some(2));

    // One annotation at the key, and the key itself nowhere, even with --show-secrets.
    let notes = run.annotations();
    assert_eq!(notes.len(), 1, "{}", run.why());
    assert!(
        notes[0].starts_with(
            "::error file=app/pr.env,line=2,col=16,title=Leaked key%3A kh.openai.project::"
        ),
        "{}",
        notes[0]
    );
    assert!(notes[0].contains(&head[..10]), "{}", notes[0]);
    assert_eq!(run.commands(), notes, "{}", run.why());
    assert!(!run.stdout.contains(&new) && !run.stdout.contains(&old));

    assert_eq!(run.output, "findings=1\n");
    assert!(
        run.summary.starts_with("## keyhound: 1 leaked key\n"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains(&format!("{base}..{head}")),
        "{}",
        run.summary
    );
    let rows = run.summary_rows();
    assert_eq!(rows.len(), 1, "{}", run.summary);
    assert!(
        rows[0].contains("| kh.openai.project | app/pr.env:2 |") && rows[0].contains(&head[..10]),
        "{}",
        rows[0]
    );
    assert!(!run.summary.contains(&new));

    // The SARIF is the state of the checked-out tree: the base's key too.
    assert_eq!(run.sarif_id(), Some("keyhound/tree/"));
    assert_eq!(run.sarif_uris(), ["app/pr.env", "base.env"]);
}

#[test]
fn a_clean_pull_request_passes_and_its_sarif_still_holds_the_base_branchs_key() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9502);
    repo.write("src/lib.rs", "pub fn f() {}\n");
    let head = repo.commit("code");

    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 0, "{}", run.why());
    assert_eq!(run.found(), []);
    assert!(run.commands().is_empty(), "{}", run.why());
    assert_eq!(run.output, "findings=0\n");
    assert!(
        run.summary.starts_with("## keyhound: no leaked keys\n"),
        "{}",
        run.summary
    );
    assert!(run.summary_rows().is_empty());
    assert_eq!(run.sarif_id(), Some("keyhound/tree/"));
    assert_eq!(run.sarif_uris(), ["base.env"]);
}

#[test]
fn a_pull_requests_sarif_names_its_head_or_base_never_the_temporary_merge_commit() {
    let lab = Lab::new();
    let (repo, _, _) = base_with_a_key(&lab, 9520);
    repo.write("app/pr.env", env_line(&project_key(9521)));
    let head = repo.commit("the pull request's key");
    // The base branch moves on with a key of its own; GitHub checks out the merge of both.
    repo.git(&["checkout", "-q", "main"]);
    repo.write("later.env", env_line(&project_key(9522)));
    let base = repo.commit("a key on main");
    repo.git(&["checkout", "-q", "--detach", "main"]);
    repo.git(&["merge", "-q", "--no-ff", &head, "-m", "Merge into main"]);
    let merge = repo.head();

    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    let results = run.sarif()["runs"][0]["results"]
        .as_array()
        .expect("results");
    let named: Vec<(String, String)> = results
        .iter()
        .map(|r| {
            let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .expect("uri");
            let text = r["message"]["text"].as_str().expect("message");
            assert!(
                !text.contains(&merge[..10]),
                "names the merge commit: {text}"
            );
            let commit = r["properties"]["git"]["commit"].as_str().expect("commit");
            assert!(text.contains(commit), "{text}");
            (uri.to_string(), commit.to_string())
        })
        .collect();
    let mut named = named;
    named.sort();
    assert_eq!(
        named,
        [
            ("app/pr.env".to_string(), head.clone()),
            ("base.env".to_string(), head.clone()),
            ("later.env".to_string(), base.clone()),
        ]
    );
}

#[test]
fn merging_main_into_the_pull_request_does_not_report_mains_keys() {
    let lab = Lab::new();
    let repo = lab.repo("ws");
    let (main_key, other_main_key, branch_key) =
        (project_key(9503), project_key(9504), project_key(9505));
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
    let base = repo.commit("main keys");
    // feature: another line of the shared file, then main merged in.
    repo.git(&["checkout", "-q", "feature"]);
    repo.write("shared.txt", format!("line one\n{}", lines[1..].concat()));
    repo.commit("feature edit");
    repo.git(&["merge", "-q", "--no-ff", "main", "-m", "merge main"]);
    let head = repo.head();

    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 0, "{}", run.why());
    assert_eq!(run.found(), []);
    assert!(run.annotations().is_empty(), "{}", run.why());
    assert_eq!(run.output, "findings=0\n");
    assert_eq!(run.sarif_uris(), ["main.env", "shared.txt"]);

    // A key the branch adds after the merge is still reported.
    repo.write("branch.env", env_line(&branch_key));
    let head = repo.commit("branch key");
    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("branch.env", &branch_key)]);
    assert_eq!(run.output, "findings=1\n");
}

#[test]
fn a_key_in_a_pull_request_commit_message_is_annotated_without_a_file() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9506);
    let key = project_key(9507);
    repo.write("notes.txt", "notes\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", &format!("try it\n\nwith {key}\n")]);
    let head = repo.head();

    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.report().findings.len(), 1);
    let notes = run.annotations();
    assert_eq!(notes.len(), 1, "{}", run.why());
    assert!(
        notes[0].starts_with("::error title=Leaked key%3A kh.openai.project::"),
        "{}",
        notes[0]
    );
    assert!(
        notes[0].contains(&format!("the message of commit {}", &head[..10])),
        "{}",
        notes[0]
    );
    assert!(!run.stdout.contains(&key));
}

#[test]
fn a_shallow_clone_without_the_base_commit_is_an_error_naming_fetch_depth() {
    let lab = Lab::new();
    let dev = lab.repo("dev");
    dev.write("README.md", "one\n");
    dev.commit("one");
    dev.write("README.md", "two\n");
    let base = dev.commit("two");
    dev.git(&["checkout", "-q", "-b", "feature"]);
    dev.write("pr.env", env_line(&project_key(9508)));
    let head = dev.commit("key");
    let origin = lab.bare("origin.git");
    dev.git(&["push", "-q", &url(&origin), "main", "feature"]);
    let ws = lab.clone_of(&origin, "ws", &["--depth", "1", "-b", "feature"]);
    assert!(ws.has(&head) && !ws.has(&base), "a shallow clone");

    let run = lab.ci(ws.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 2, "{}", run.why());
    assert!(run.stderr.contains("fetch-depth: 0"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&base),
        "names the missing commit: {}",
        run.stderr
    );
    assert!(run.annotations().is_empty());
}

// ---- pull_request_target

/// A developer's repository pushed to a bare origin: `main` (with `base.env`'s key) and the pull
/// request's commits as `refs/pull/1/head`; the workspace is a clone of origin with `main`
/// checked out, as pull_request_target runs. Returns (workspace, base, head).
fn pull_request_target_lab<'l>(
    lab: &'l Lab,
    base_key: &str,
    pr: &dyn Fn(&Repo<'_>),
) -> (Repo<'l>, String, String) {
    let dev = lab.repo("dev");
    dev.write("README.md", "base\n");
    dev.write("base.env", env_line(base_key));
    let base = dev.commit("base");
    dev.git(&["checkout", "-q", "-b", "feature"]);
    pr(&dev);
    let head = dev.head();
    let origin = lab.bare("origin.git");
    dev.git(&[
        "push",
        "-q",
        &url(&origin),
        "main",
        "feature:refs/pull/1/head",
    ]);
    let ws = lab.clone_of(&origin, "ws", &["-b", "main"]);
    assert!(!ws.has(&head), "the workspace has the base only");
    (ws, base, head)
}

#[test]
fn pull_request_target_fetches_the_pull_request_and_gates_on_its_commits() {
    let lab = Lab::new();
    let (old, new) = (project_key(9510), project_key(9511));
    let (ws, base, head) = pull_request_target_lab(&lab, &old, &|dev| {
        dev.write("pr.env", env_line(&new));
        dev.commit("a key");
        dev.write("more.txt", "more\n");
        dev.commit("more");
    });

    let run = lab.ci(
        ws.path(),
        "pull_request_target",
        &pr_event(&base, &head),
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.why());
    assert!(ws.has(&head), "fetched refs/pull/1/head");
    assert_eq!(run.found(), [pair("pr.env", &new)]);
    assert_eq!(run.report().stats.commits, Some(2));
    assert_eq!(run.output, "findings=1\n");
    assert_eq!(run.annotations().len(), 1, "{}", run.why());
    assert!(run.annotations()[0].starts_with("::error file=pr.env,line=1,col=16,"));
    // The checked-out tree is the base: its SARIF holds the base's key, not the PR's.
    assert_eq!(run.sarif_id(), Some("keyhound/tree/"));
    assert_eq!(run.sarif_uris(), ["base.env"]);
}

#[test]
fn pull_request_target_cannot_allow_its_own_key_and_the_summary_lists_the_entry() {
    let lab = Lab::new();
    let (old, new) = (project_key(9512), project_key(9513));
    // The key's fingerprint, from a scan of the key alone.
    let probe = lab.repo("probe");
    probe.write("pr.env", env_line(&new));
    probe.commit("key");
    let out = lab.keyhound_git(probe.path(), &["--format", "json"]);
    let report: Report = serde_json::from_slice(&out.stdout).expect("JSON report");
    let fp = report.findings[0].fingerprint.clone();

    let (ws, base, head) = pull_request_target_lab(&lab, &old, &|dev| {
        dev.write("pr.env", env_line(&new));
        dev.write(".keyhoundignore", format!("{fp}\n"));
        dev.commit("a key, allowed");
    });
    let run = lab.ci(
        ws.path(),
        "pull_request_target",
        &pr_event(&base, &head),
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("pr.env", &new)]);
    assert!(
        run.summary
            .contains("### Allow entries this pull request adds")
            && run.summary.contains(&format!("- `{fp}`")),
        "the summary lists the entry the pull request adds:\n{}",
        run.summary
    );
}

// ---- merge_group

#[test]
fn merge_group_gates_on_base_sha_to_head_sha() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9515);
    let key = project_key(9516);
    repo.git(&["checkout", "-q", "-b", "gh-readonly-queue/main/pr-1"]);
    repo.write("queued.env", env_line(&key));
    let head = repo.commit("queued change");
    let event = json!({
        "action": "checks_requested",
        "merge_group": {
            "base_ref": "refs/heads/main",
            "base_sha": base,
            "head_ref": "refs/heads/gh-readonly-queue/main/pr-1",
            "head_sha": head,
        },
    });

    let run = lab.ci(repo.path(), "merge_group", &event, &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("queued.env", &key)]);
    assert_eq!(run.report().stats.commits, Some(1));
    assert_eq!(run.output, "findings=1\n");
    assert!(
        run.summary.contains(&format!("{base}..{head}")),
        "{}",
        run.summary
    );
    assert_eq!(run.sarif_id(), Some("keyhound/tree/"));
    assert_eq!(run.sarif_uris(), ["base.env", "queued.env"]);
}
