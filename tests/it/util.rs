//! Shared test helpers: the binary, key builders, and the JSON report decoded into test-owned
//! types (so the wire format is checked as a contract, not by the crate's own structs).

#![allow(dead_code)]

use assert_cmd::Command;
use keyhound::rules::template::{Rng, expand};
use serde::Deserialize;
use std::path::Path;

/// The `keyhound` binary, with colour and the user's environment kept out.
pub fn kh() -> Command {
    let mut cmd = Command::cargo_bin("keyhound").expect("binary is built");
    cmd.env_remove("NO_COLOR");
    cmd
}

/// Every key kind as a template: (rule id, template).
pub const KINDS: &[(&str, &str)] = &[
    ("kh.openai.user", "sk-{alnum:20}T3BlbkFJ{alnum:20}"),
    ("kh.openai.project", "sk-proj-{alnum:20}T3BlbkFJ{alnum:20}"),
    (
        "kh.openai.project",
        "sk-proj-{b64url:74}T3BlbkFJ{b64url:74}",
    ),
    (
        "kh.openai.service-account",
        "sk-svcacct-{b64url:74}T3BlbkFJ{b64url:74}",
    ),
    ("kh.openai.admin", "sk-admin-{b64url:58}T3BlbkFJ{b64url:58}"),
    ("kh.openai.none", "sk-None-{b64url:74}T3BlbkFJ{b64url:74}"),
];

/// A fresh key from `template`, reproducible by `seed`.
pub fn make(template: &str, seed: u64) -> String {
    expand(template, &mut Rng::new(seed)).expect("valid template")
}

/// A current-format project key.
pub fn project_key(seed: u64) -> String {
    make("sk-proj-{b64url:74}T3BlbkFJ{b64url:74}", seed)
}

/// The report as the README documents it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub version: u32,
    pub tool: Tool,
    pub complete: bool,
    pub stats: Stats,
    pub ignored_env_files: Vec<String>,
    pub skipped: Vec<Skipped>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stats {
    pub files: u64,
    pub bytes: u64,
    pub findings: u64,
    pub placeholders: u64,
    pub skipped: u64,
    pub ignored: u64,
    pub symlinks_not_followed: u64,
    pub elapsed_ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
    pub incomplete: bool,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub rule: String,
    pub provider: String,
    pub kind: String,
    pub path: String,
    pub archive_member: Option<String>,
    pub decoded: Vec<String>,
    pub line: u64,
    pub column: u64,
    pub offset: u64,
    pub secret: String,
    pub redacted: bool,
    pub fingerprint: String,
    pub context: String,
    pub severity: f32,
    pub remediation: String,
    pub revoke_url: Option<String>,
}

/// Runs `keyhound scan --format json --show-secrets ARGS` in `dir`; returns the exit code and report.
pub fn scan_json(dir: &Path, args: &[&str]) -> (i32, Report) {
    let out = kh()
        .current_dir(dir)
        .args(["scan", "--format", "json", "--show-secrets"])
        .args(args)
        .output()
        .expect("keyhound runs");
    let report: Report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bad JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().expect("exited"), report)
}

/// The secrets found, in report order.
pub fn secrets(report: &Report) -> Vec<String> {
    report.findings.iter().map(|f| f.secret.clone()).collect()
}

/// Writes `files` (path, contents) under a new temporary directory.
pub fn tree(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, data) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("has parent")).expect("mkdir");
        std::fs::write(p, data).expect("write");
    }
    dir
}
