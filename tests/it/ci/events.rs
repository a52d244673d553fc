//! `schedule`, `workflow_dispatch` and other events: the whole history, unknown events, a missing
//! event name or event file.

use super::*;

// ---- schedule, workflow_dispatch, other events

/// `main` with a key added and removed again, and an unmerged branch with another.
fn history_repo(lab: &Lab) -> Repo<'_> {
    let repo = lab.repo("ws");
    repo.write("README.md", "base\n");
    repo.commit("base");
    repo.write("gone.env", env_line(&project_key(9530)));
    repo.commit("a key");
    repo.remove("gone.env");
    repo.commit("removed again");
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.write("side.env", env_line(&project_key(9531)));
    repo.commit("side key");
    repo.git(&["checkout", "-q", "main"]);
    repo
}

#[test]
fn schedule_and_workflow_dispatch_scan_the_whole_history() {
    let lab = Lab::new();
    let repo = history_repo(&lab);
    for (name, event) in [
        ("schedule", json!({"schedule": "17 3 * * 1"})),
        (
            "workflow_dispatch",
            json!({"inputs": {}, "ref": "refs/heads/main"}),
        ),
    ] {
        let run = lab.ci(repo.path(), name, &event, &[]);
        assert_eq!(run.code, 1, "{name}: {}", run.why());
        let found: Vec<String> = run.found().into_iter().map(|(p, _)| p).collect();
        assert_eq!(found, ["gone.env", "side.env"], "{name}");
        assert_eq!(run.output, "findings=2\n", "{name}");
        assert!(
            run.summary.contains("whole history"),
            "{name}: {}",
            run.summary
        );
        assert_eq!(run.summary_rows().len(), 2, "{name}");
        // The SARIF is the history, under its own category.
        assert_eq!(run.sarif_id(), Some("keyhound/history/"), "{name}");
        assert_eq!(run.sarif_uris(), ["gone.env", "side.env"], "{name}");
    }
}

#[test]
fn an_unknown_event_is_an_error_unless_given_a_range() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9532);
    let key = project_key(9533);
    repo.write("pr.env", env_line(&key));
    repo.commit("key");
    let event = json!({"action": "opened", "issue": {"number": 3}});

    let run = lab.ci(repo.path(), "issues", &event, &[]);
    assert_eq!(run.code, 2, "{}", run.why());
    assert!(
        run.stderr.contains("\"issues\"") && run.stderr.contains("--range"),
        "{}",
        run.stderr
    );
    assert!(run.commands().is_empty());

    let range = format!("{base}..feature");
    let run = lab.ci(repo.path(), "issues", &event, &["--range", &range]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("pr.env", &key)]);
    assert_eq!(run.output, "findings=1\n");
    assert_eq!(run.sarif_id(), Some("keyhound/tree/"));
}

#[test]
fn a_missing_event_name_or_event_is_an_error() {
    let lab = Lab::new();
    let (repo, _, _) = base_with_a_key(&lab, 9534);
    let run = lab.run_ci(repo.path(), None, None, &[], false);
    assert_eq!(run.code, 2, "{}", run.why());
    assert!(run.stderr.contains("GITHUB_EVENT_NAME"), "{}", run.stderr);
    assert!(run.output.is_empty() && run.summary.is_empty());
    let run = lab.run_ci(repo.path(), Some(""), None, &[], false);
    assert_eq!(run.code, 2, "empty is unset: {}", run.why());
    assert!(run.stderr.contains("GITHUB_EVENT_NAME"), "{}", run.stderr);
    // A pull request needs its event file.
    let run = lab.run_ci(repo.path(), Some("pull_request"), None, &[], false);
    assert_eq!(run.code, 2, "{}", run.why());
    assert!(
        run.stderr.contains("/pull_request/base/sha"),
        "{}",
        run.stderr
    );
}
