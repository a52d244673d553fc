//! Issue 14.4 and 14.5: a repository's `keyhound.toml` (and the rule files it names) can neither
//! read files outside the repository, nor print a key from one, nor turn verification on.

use crate::util::{kh, project_key, tree};
use std::path::Path;
use std::process::Output;

/// `keyhound scan .` in `dir` with `envs`.
fn scan_in(dir: &Path, envs: &[(&str, &str)]) -> Output {
    kh().current_dir(dir)
        .envs(envs.iter().copied())
        .env("KEYHOUND_CACHE_DIR", dir.join(".no-cache-here"))
        .args(["scan", "."])
        .output()
        .unwrap()
}

/// Exit 2, with `expected` in the message and `secret` nowhere in the output.
fn refused(out: &Output, expected: &str, secret: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(expected), "{stderr}");
    assert!(
        !stderr.contains(secret) && !stdout.contains(secret),
        "{stderr}"
    );
}

#[test]
fn r14_rule_paths_outside_the_repository_are_refused() {
    let secret = project_key(1401);
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("x.toml"), format!("K = {secret}\n")).unwrap();
    let out_rel = format!(
        "../{}",
        outside.path().file_name().unwrap().to_str().unwrap()
    );
    let envs = [("KH_PROBE", secret.as_str())];
    for path in ["/proc/self/environ", out_rel.as_str(), "rules/../../x"] {
        let toml = format!("[rules]\npaths = [{path:?}]\n");
        let dir = tree(&[("keyhound.toml", toml.as_bytes())]);
        refused(
            &scan_in(dir.path(), &envs),
            "is not inside the repository",
            &secret,
        );
    }
}

#[test]
fn r14_a_symlinked_keyhound_toml_is_not_followed() {
    let secret = project_key(1402);
    let dir = tree(&[("a.txt", b"nothing\n")]);
    std::os::unix::fs::symlink("/proc/self/environ", dir.path().join("keyhound.toml")).unwrap();
    let out = scan_in(dir.path(), &[("KH_PROBE", secret.as_str())]);
    refused(&out, "a symbolic link", &secret);
    let ignore = dir.path().join(".keyhoundignore");
    std::fs::remove_file(dir.path().join("keyhound.toml")).unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", ignore).unwrap();
    refused(&scan_in(dir.path(), &[]), "a symbolic link", &secret);
}

#[test]
fn r14_rule_paths_through_symlinks_are_not_followed() {
    let secret = project_key(1403);
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("x.toml"), format!("K = {secret}\n")).unwrap();
    let dir = tree(&[
        (
            "keyhound.toml",
            b"[rules]\npaths = [\"linked\", \"rules\"]\n",
        ),
        ("rules/ok.toml", b""),
    ]);
    std::os::unix::fs::symlink(outside.path(), dir.path().join("linked")).unwrap();
    refused(&scan_in(dir.path(), &[]), "symbolic link", &secret);
    std::fs::remove_file(dir.path().join("linked")).unwrap();
    let inner = dir.path().join("rules/env.toml");
    std::os::unix::fs::symlink(outside.path().join("x.toml"), inner).unwrap();
    std::fs::write(
        dir.path().join("keyhound.toml"),
        "[rules]\npaths = [\"rules\"]\n",
    )
    .unwrap();
    refused(
        &scan_in(dir.path(), &[]),
        "symbolic link, not followed",
        &secret,
    );
}

#[test]
fn r14_rule_files_that_are_not_rules_quote_no_key() {
    let secret = project_key(1404);
    let env = format!("# settings\nOPENAI_API_KEY={secret}\n");
    let quoted = format!("[[rule]]\nid = \"x\"\nname = {secret:?}\nbogus = {secret:?}\n");
    let dir = tree(&[
        ("keyhound.toml", b"[rules]\npaths = [\".env\"]\n"),
        (".env", env.as_bytes()),
        ("rules/env.toml", env.as_bytes()),
        ("rules2/quoted.toml", quoted.as_bytes()),
    ]);
    refused(&scan_in(dir.path(), &[]), "not a .toml file", &secret);
    std::fs::write(
        dir.path().join("keyhound.toml"),
        "[rules]\npaths = [\"rules\"]\n",
    )
    .unwrap();
    refused(&scan_in(dir.path(), &[]), "line 2, column", &secret);
    std::fs::write(
        dir.path().join("keyhound.toml"),
        "[rules]\npaths = [\"rules2\"]\n",
    )
    .unwrap();
    refused(&scan_in(dir.path(), &[]), "quoted.toml", &secret);
    let bad_config = format!("[allow]\npaths = [\"a\"]\nOPENAI = {secret}\n");
    std::fs::write(dir.path().join("keyhound.toml"), bad_config).unwrap();
    refused(&scan_in(dir.path(), &[]), "keyhound.toml", &secret);
}
