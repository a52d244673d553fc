//! `keyhound ci` in a SHA-256 repository (issue 14, point 17), which libgit2 cannot open: the
//! event's commits are asked of git, the gate scans their range and the SARIF the checked-out
//! tree, with the findings a SHA-1 repository gets and 64-digit ids.

use super::*;

/// `git init --object-format=sha256` at `name`, branch `main`.
fn sha256_repo<'l>(lab: &'l Lab, name: &str) -> Repo<'l> {
    let init = ["init", "-q", "--object-format=sha256", name];
    ok(lab.cmd(lab.tmp.path(), &init));
    Repo {
        lab,
        dir: lab.at(name),
    }
}

/// Every commit and blob id of `run`'s report is 64 hex digits long.
fn assert_long_ids(run: &Run) {
    for f in &run.report().findings {
        let g = f.git.as_ref().expect("a git finding");
        for id in [&g.commit, &g.blob, &g.last_seen].into_iter().flatten() {
            assert_eq!(id.len(), 64, "{f:#?}");
        }
    }
}

#[test]
fn a_push_to_a_sha256_repository_gates_on_its_commits_and_writes_the_trees_sarif() {
    let lab = Lab::new();
    let repo = sha256_repo(&lab, "ws");
    let (old, new) = (project_key(9640), project_key(9641));
    repo.write("old.env", env_line(&old));
    repo.commit("old key");
    repo.write("README.md", "readme\n");
    let before = repo.commit("readme");
    repo.write("deploy/new.env", env_line(&new));
    let added = repo.commit("new key");
    repo.write("README.md", "readme 2\n");
    let after = repo.commit("readme 2");
    assert_eq!(after.len(), 64, "a SHA-256 repository");

    let event = push_event("main", &before, &after, "main");
    let run = lab.ci(repo.path(), "push", &event, &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("deploy/new.env", &new)]);
    let g = run.report().findings[0].git.as_ref().expect("git");
    assert_eq!(g.commit.as_deref(), Some(added.as_str()));
    assert_long_ids(&run);
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
    assert_eq!(run.sarif_uris(), ["deploy/new.env", "old.env"]);

    // A new branch (`before` is 64 zeros): its commits that are not on the default branch.
    repo.git(&["checkout", "-q", "-b", "topic"]);
    let key = project_key(9642);
    repo.write("topic.env", env_line(&key));
    let tip = repo.commit("topic key");
    let event = push_event("topic", &"0".repeat(64), &tip, "main");
    let run = lab.ci(repo.path(), "push", &event, &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("topic.env", &key)]);
    assert_long_ids(&run);
    assert!(run.warnings().is_empty(), "{}", run.why());
    assert_eq!(run.sarif_uris(), ["deploy/new.env", "old.env", "topic.env"]);
}

#[test]
fn a_sha256_pull_requests_sarif_names_its_head_or_base_never_the_merge_commit() {
    let lab = Lab::new();
    let repo = sha256_repo(&lab, "ws");
    repo.write("README.md", "base\n");
    repo.write("base.env", env_line(&project_key(9643)));
    repo.commit("base with a key");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("app/pr.env", env_line(&project_key(9644)));
    let head = repo.commit("the pull request's key");
    // The base branch moves on with a key of its own; GitHub checks out the merge of both.
    repo.git(&["checkout", "-q", "main"]);
    repo.write("later.env", env_line(&project_key(9645)));
    let base = repo.commit("a key on main");
    repo.git(&["checkout", "-q", "--detach", "main"]);
    repo.git(&["merge", "-q", "--no-ff", &head, "-m", "Merge into main"]);

    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_long_ids(&run);
    let results = run.sarif()["runs"][0]["results"]
        .as_array()
        .expect("results");
    let mut named: Vec<(String, String)> = (results.iter())
        .map(|r| {
            let uri = &r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
            let commit = &r["properties"]["git"]["commit"];
            (
                uri.as_str().expect("uri").into(),
                commit.as_str().expect("commit").into(),
            )
        })
        .collect();
    named.sort();
    let want = [
        ("app/pr.env", &head),
        ("base.env", &head),
        ("later.env", &base),
    ];
    assert_eq!(named, want.map(|(p, c)| (p.to_string(), c.clone())));
}
