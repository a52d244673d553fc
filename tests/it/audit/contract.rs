//! Redaction and the JSON contract: whole keys only with `--show-secrets`, keys ordered by risk with
//! consistent totals.

use super::*;

// ---- Secrets

#[test]
fn whole_keys_are_shown_only_with_show_secrets() {
    let root = Root::new();
    let (repo, keys) = every_place(&root, "repo", 7130);
    let path = repo.path().to_str().unwrap();
    for format in ["json", "human", "markdown", "html"] {
        let out = audit_out(root.path(), &["--format", format, path]);
        assert_eq!(code_of(&out), 1, "{format}: {}", stderr(&out));
        for text in [stdout(&out), stderr(&out)] {
            for key in &keys {
                assert!(
                    !shows_part_of(&text, key),
                    "{format} shows (part of) {key}:\n{text}"
                );
            }
        }
    }
    let (_, redacted, _) = audit_json(root.path(), &[path]);
    assert!(!redacted.secrets_shown);
    for k in redacted.keys.iter().chain(&redacted.suppressed) {
        assert!(k.secret.starts_with("sk-proj-…"), "{}", k.secret);
    }
    let (_, shown, _) = audit_shown(root.path(), &[path]);
    assert!(shown.secrets_shown);
    let mut all: Vec<String> = secrets_of(&shown.keys);
    all.extend(secrets_of(&shown.suppressed));
    all.sort();
    let mut want = keys.clone();
    want.sort();
    assert_eq!(all, want, "every key, whole");
}

// ---- The JSON contract

#[test]
fn the_json_report_orders_keys_by_risk_with_consistent_totals() {
    let root = Root::new();
    let (repo, keys) = every_place(&root, "repo", 7140);
    let (code, report, err) = audit_shown(root.path(), &[repo.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    // At HEAD first, then the work tree's (both medium); then the history-only keys, the most
    // recently seen first (the commit message is the newest commit).
    assert_eq!(
        secrets_of(&report.keys),
        [0, 4, 3, 2, 1].map(|i| keys[i].as_str())
    );
    let risks: Vec<&str> = report.keys.iter().map(|k| k.risk.as_str()).collect();
    assert_eq!(risks, ["medium", "medium", "low", "low", "low"]);
    assert_eq!(secrets_of(&report.suppressed), [keys[5].clone()]);
    let mut count = git_in(repo.path());
    count.args(["rev-list", "--all", "--count"]);
    let commits: u64 = ok(count).parse().expect("a number");
    assert_eq!(
        report.summary,
        Summary {
            repositories: 1,
            repositories_with_keys: 1,
            keys: 5,
            live: 0,
            dead: 0,
            unknown: 0,
            not_checked: 5,
            at_head: 1,
            suppressed: 1,
            commits_scanned: commits,
            blobs_scanned: report.repositories[0].blobs_scanned,
            bytes_scanned: report.repositories[0].bytes_scanned,
            incomplete: 0,
        }
    );
    assert_eq!(commits, 4);
    // Every field of the model is there, and nothing else (deny_unknown_fields above): a key
    // only in the work tree has null history fields rather than missing ones.
    let raw: serde_json::Value = serde_json::from_str(&stdout(&audit_out(
        root.path(),
        &["--format", "json", repo.path().to_str().unwrap()],
    )))
    .expect("JSON");
    let wt = &raw["keys"][1];
    for field in ["introduced", "last_seen"] {
        assert!(wt[field].is_null(), "{field}: {wt:#}");
    }
    for field in ["commit", "commits", "at_head"] {
        assert!(wt["locations"][0][field].is_null(), "{field}: {wt:#}");
    }
}
