//! `--emit-replacements`: one `git filter-repo` line per key, chosen by fingerprint.

use super::*;

// ---- --emit-replacements

#[test]
fn emit_replacements_writes_one_filter_repo_line_per_key() {
    let root = Root::new();
    let repo = root.repo("repo");
    let (k1, k2, k3) = (project_key(7120), project_key(7121), project_key(7122));
    repo.write("a.env", env_line(&k1));
    repo.write("b.env", env_line(&k2));
    repo.commit("keys");
    repo.remove("b.env");
    repo.commit("drop one");
    repo.write(".env.local", env_line(&k3));
    let path = repo.path().to_str().unwrap();
    let (_, report, _) = audit_shown(root.path(), &[path]);
    let fp = |key: &str| entry(&report, key).fingerprint.clone();
    let (f1, f2, f3) = (fp(&k1), fp(&k2), fp(&k3));
    let out = audit_out(root.path(), &[path, "--emit-replacements", &f1]);
    assert_eq!(code_of(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{k1}==>{REMOVED}\n"));
    // Several, in the order given, from history and the work tree, also into a file.
    let file = root.path().join("replacements.txt");
    let list = format!("{f3},{f2}");
    let out = audit_out(
        root.path(),
        &[
            path,
            "--emit-replacements",
            &list,
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(code_of(&out), 0, "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(&file).expect("written"),
        format!("{k3}==>{REMOVED}\n{k2}==>{REMOVED}\n")
    );
}

#[test]
fn emit_replacements_takes_the_fingerprints_not_the_path_after_them() {
    let root = Root::new();
    let repo = root.repo("repo");
    let key = project_key(7123);
    repo.write("a.env", env_line(&key));
    repo.commit("a key");
    let path = repo.path().to_str().unwrap();
    let (_, report, _) = audit_shown(root.path(), &[path]);
    let fp = entry(&report, &key).fingerprint.clone();
    // As the brief and the remediation text write it: `--emit-replacements FP[,FP]`, then PATH.
    let out = audit_out(root.path(), &["--emit-replacements", &fp, path]);
    assert_eq!(
        (code_of(&out), stdout(&out)),
        (0, format!("{key}==>{REMOVED}\n")),
        "PATH after `--emit-replacements FP` is taken as a second fingerprint: {}",
        stderr(&out)
    );
}
