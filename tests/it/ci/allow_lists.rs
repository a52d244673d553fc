//! Allow-lists come from the base: a pull request cannot allow its own key, and a baseline counts
//! only as the base has it.

use super::*;

// ---- Allow-lists come from the base

#[test]
fn a_pull_request_cannot_allow_its_own_key_and_the_summary_lists_the_entries() {
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9560);
    let key = project_key(9561);
    repo.write("pr.env", env_line(&key));
    let first = repo.commit("a key");
    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &first), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    let fp = run.report().findings[0].fingerprint.clone();

    repo.write(
        ".keyhoundignore",
        format!("# not a real key\n{fp}\nsecrets/\n"),
    );
    repo.write("keyhound.toml", "[allow]\npaths = [\"pr.env\"]\n");
    let head = repo.commit("allow it");
    let run = lab.ci(repo.path(), "pull_request", &pr_event(&base, &head), &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("pr.env", &key)]);
    let s = &run.report().stats.suppressed;
    assert_eq!((s.path, s.fingerprint, s.baseline), (0, 0, 0));
    assert_eq!(run.output, "findings=1\n");
    assert!(
        run.summary
            .contains("### Allow entries this pull request adds"),
        "{}",
        run.summary
    );
    for entry in [fp.as_str(), "secrets/", "pr.env"] {
        assert!(
            run.summary.contains(&format!("- `{entry}`\n")),
            "{entry}:\n{}",
            run.summary
        );
    }

    // The same entries do apply where they are the repository's own (here: no pull request).
    let range = format!("{base}..{head}");
    let run = lab.ci(repo.path(), "issues", &json!({}), &["--range", &range]);
    assert_eq!(run.code, 0, "{}", run.why());
    assert_eq!(run.found(), []);
}

/// `keyhound git --format json -o PATH` in `repo` (every key in its history).
fn write_baseline(lab: &Lab, repo: &Repo<'_>, path: &Path) {
    let out = lab.keyhound_git(
        repo.path(),
        &["--format", "json", "-o", path.to_str().expect("UTF-8")],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

#[test]
fn a_baseline_committed_on_the_base_suppresses_a_known_key() {
    let lab = Lab::new();
    let (repo, known, _) = base_with_a_key(&lab, 9562);
    repo.git(&["checkout", "-q", "main"]);
    let tmp = lab.at("baseline.json");
    write_baseline(&lab, &repo, &tmp);
    repo.write("base.json", std::fs::read(&tmp).expect("read"));
    let base = repo.commit("baseline");
    repo.git(&["checkout", "-q", "-B", "feature"]);
    // The known key moves to another file in the pull request.
    repo.write("moved/app.env", format!("\n{}", env_line(&known)));
    let head = repo.commit("move the known key");

    let event = pr_event(&base, &head);
    let run = lab.ci(
        repo.path(),
        "pull_request",
        &event,
        &["--baseline", "base.json"],
    );
    assert_eq!(run.code, 0, "{}", run.why());
    assert_eq!(run.found(), []);
    assert_eq!(run.report().stats.suppressed.baseline, 1);
    assert_eq!(run.output, "findings=0\n");
    // Without the baseline, the moved key is reported.
    let run = lab.ci(repo.path(), "pull_request", &event, &[]);
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("moved/app.env", &known)]);
}

#[test]
fn a_baseline_added_or_extended_by_the_pull_request_does_not_suppress_its_key() {
    // Only in the pull request.
    let lab = Lab::new();
    let (repo, _, base) = base_with_a_key(&lab, 9563);
    let key = project_key(9564);
    repo.write("pr.env", env_line(&key));
    repo.commit("a key");
    let tmp = lab.at("pr-baseline.json");
    write_baseline(&lab, &repo, &tmp);
    repo.write("base.json", std::fs::read(&tmp).expect("read"));
    let head = repo.commit("baseline it");
    let run = lab.ci(
        repo.path(),
        "pull_request",
        &pr_event(&base, &head),
        &["--baseline", "base.json"],
    );
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("pr.env", &key)]);
    assert_eq!(run.report().stats.suppressed.baseline, 0);

    // On the base, and rewritten by the pull request to hold its key too.
    let lab = Lab::new();
    let (repo, _, _) = base_with_a_key(&lab, 9565);
    repo.git(&["checkout", "-q", "main"]);
    let tmp = lab.at("baseline.json");
    write_baseline(&lab, &repo, &tmp);
    repo.write("base.json", std::fs::read(&tmp).expect("read"));
    let base = repo.commit("baseline");
    repo.git(&["checkout", "-q", "-B", "feature"]);
    let key = project_key(9566);
    repo.write("pr.env", env_line(&key));
    repo.commit("a key");
    write_baseline(&lab, &repo, &tmp);
    repo.write("base.json", std::fs::read(&tmp).expect("read"));
    let head = repo.commit("baseline it");
    let run = lab.ci(
        repo.path(),
        "pull_request",
        &pr_event(&base, &head),
        &["--baseline", "base.json"],
    );
    assert_eq!(run.code, 1, "{}", run.why());
    assert_eq!(run.found(), [pair("pr.env", &key)]);
}
