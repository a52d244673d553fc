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

/// `keyhound ARGS` in `dir` whose network goes nowhere: any request fails at once, locally.
fn offline(dir: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = kh()
        .current_dir(dir)
        .env("KEYHOUND_CACHE_DIR", dir.join(".no-cache-here"))
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("https_proxy", "http://127.0.0.1:9")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}); stderr: {stderr}"));
    (out.status.code().expect("exited"), report, stderr)
}

#[test]
fn r14_a_repository_cannot_turn_verification_on() {
    let key = project_key(1405);
    let dir = tree(&[
        ("a.env", format!("K={key}\n").as_bytes()),
        ("keyhound.toml", b"[verify]\nenabled = true\n"),
    ]);
    let (code, report, stderr) = offline(dir.path(), &["scan", "--format", "json", "."]);
    assert_eq!(code, 1, "{stderr}");
    assert!(report["stats"].get("verification").is_none(), "{report}");
    assert!(report["findings"][0].get("verification").is_none());
    assert!(stderr.contains("[verify] enabled is ignored"), "{stderr}");
}

#[test]
fn r14_thread_counts_are_clamped() {
    let key = project_key(1406);
    let dir = tree(&[
        ("a.env", format!("K={key}\n").as_bytes()),
        (
            "keyhound.toml",
            b"[verify]\nconcurrency = 1000000\ncache_ttl = \"999d\"\n",
        ),
    ]);
    let (code, _, stderr) = offline(
        dir.path(),
        &["scan", "--format", "json", "-j", "20000", "."],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("-j/--threads 20000 is more than 256; using 256"),
        "{stderr}"
    );
    let args = [
        "scan",
        "--format",
        "json",
        "--verify",
        "--no-verify-cache",
        ".",
    ];
    let (_, report, stderr) = offline(dir.path(), &args);
    assert!(
        stderr.contains("[verify] concurrency 1000000 is more than 256"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cache_ttl is more than 7d; using 7d"),
        "{stderr}"
    );
    assert_eq!(report["stats"]["verification"]["unknown"], 1, "{report}");
    let args = [
        "scan",
        "--format",
        "json",
        "--verify-concurrency",
        "99999",
        "--verify",
        ".",
    ];
    let (_, _, stderr) = offline(dir.path(), &args);
    assert!(
        stderr.contains("--verify-concurrency 99999 is more than 256"),
        "{stderr}"
    );
}

/// Issue 14.17: `keyhound verify` streams standard input instead of reading it whole.
#[test]
fn r14_verify_streams_standard_input() {
    use std::io::Write as _;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("keyhound"))
        .args(["verify", "-q", "--format", "json"])
        .env(
            "KEYHOUND_CACHE_DIR",
            std::env::temp_dir().join("kh-no-cache-here"),
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let line = format!("{}\n", "x".repeat(1023));
    let block = line.repeat(1024);
    for _ in 0..256 {
        stdin.write_all(block.as_bytes()).unwrap();
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("more lines without a key"), "{stderr}");
    let peak_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    // 256 MiB went through; a reader that kept it would peak above that.
    assert!(
        peak_kb < 128 << 10,
        "peak {peak_kb} kB after 256 MiB of input"
    );
}
