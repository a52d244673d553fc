//! Suppression in history: `.keyhoundignore` paths and fingerprints, a baseline after a rebase and
//! a move, `keyhound.toml`'s allowed paths (and it never sets the endpoint).

use super::*;

#[test]
fn keyhoundignore_paths_and_fingerprints_suppress_history_findings() {
    let repo = Repo::new();
    let (fixture, allowed, real) = (project_key(9104), project_key(9105), project_key(9106));
    repo.write("tests/fixtures/keys.env", env_line(&fixture));
    repo.write(
        "app.env",
        format!("{}{}", env_line(&allowed), env_line(&real)),
    );
    repo.commit("keys");
    let (_, before, _) = hound(repo.path(), &[]);
    let fp = before
        .findings
        .iter()
        .find(|f| f.secret == allowed)
        .expect("found")
        .fingerprint
        .clone();
    repo.write(
        ".keyhoundignore",
        format!("# test data\ntests/fixtures/\n{fp}  # rotated 2024-05\n"),
    );
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [pair("app.env", &real)]);
    assert_eq!(report.stats.suppressed.path, 1);
    assert_eq!(report.stats.suppressed.fingerprint, 1);
}

#[test]
fn a_baseline_suppresses_known_keys_after_a_rebase_and_move() {
    let repo = Repo::new();
    let (old, new) = (project_key(9107), project_key(9108));
    repo.write("a.env", env_line(&old));
    repo.commit("old key");
    let baseline = repo.beside("baseline.json");
    let out = hound_out(
        repo.path(),
        &["--format", "json", "-o", baseline.to_str().unwrap()],
        &[],
    );
    assert_eq!(code_of(&out), 1);
    // The key moves to another file and line, and a new key arrives.
    repo.write("a.env", "");
    repo.write(
        "b/config.env",
        format!("\n\n{}{}", env_line(&old), env_line(&new)),
    );
    repo.commit("move");
    let (code, report, _) = hound(repo.path(), &["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [pair("b/config.env", &new)]);
    assert_eq!(
        report.stats.suppressed.baseline, 2,
        "a.env and b/config.env"
    );
    let bad = repo.beside("bad.json");
    std::fs::write(&bad, "{}").unwrap();
    let out = hound_out(repo.path(), &["--baseline", bad.to_str().unwrap()], &[]);
    assert_eq!(code_of(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a keyhound JSON"));
}

#[test]
fn keyhound_toml_allows_paths_and_never_sets_the_endpoint() {
    let repo = Repo::new();
    let key = project_key(9109);
    repo.write("docs/example.md", env_line(&key));
    repo.write("keyhound.toml", "[allow]\npaths = [\"docs/**\"]\n");
    repo.commit("docs");
    let (code, report, _) = hound(repo.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(report.stats.suppressed.path, 1);
    repo.write(
        "keyhound.toml",
        "[verify]\nbase_url = \"https://collector.example\"\n",
    );
    let out = hound_out(repo.path(), &[], &[]);
    assert_eq!(code_of(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot choose where keys are sent"));
}
