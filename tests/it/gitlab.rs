//! `--format gitlab`: GitLab's secret-detection report, validated against GitLab's own schema
//! 15.2.1 (tests/data/gitlab), with one vulnerability per finding and no key text anywhere.

use crate::repo::GitRepo;
use crate::util::{GIT_ENV, KINDS, kh, make, project_key, scan_json, tree, zip_bytes};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// Fails unless `doc` passes GitLab's secret-detection schema 15.2.1.
fn check_gitlab_schema(doc: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/gitlab/secret-detection-report-format-15.2.1.json");
    let text = std::fs::read_to_string(path).expect("the schema is in tests/data");
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    let id = schema["$id"].as_str().expect("$id").to_string();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource(&id, schema).expect("schema added");
    let mut schemas = boon::Schemas::new();
    let index = compiler
        .compile(&id, &mut schemas)
        .expect("the schema compiles");
    if let Err(e) = schemas.validate(doc, index) {
        panic!("the report breaks GitLab's schema: {e:#}\n{doc:#}");
    }
}

/// `keyhound ARGS --format gitlab` in `dir`: (exit code, document, raw text).
fn gitlab(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let mut cmd = kh();
    for var in GIT_ENV {
        cmd.env_remove(var);
    }
    let out = cmd
        .current_dir(dir)
        .env("GIT_CEILING_DIRECTORIES", dir.parent().expect("has parent"))
        .args(args)
        .args(["--format", "gitlab"])
        .output()
        .expect("keyhound runs");
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "bad report ({e}):\n{text}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    check_gitlab_schema(&doc);
    (out.status.code().expect("exited"), doc, text)
}

fn vulns(doc: &Value) -> &Vec<Value> {
    doc["vulnerabilities"].as_array().expect("vulnerabilities")
}

/// Fails if `text` holds any of `keys`, or any 10-character run of their bodies (after the
/// prefix), so neither a whole key nor a redacted head or tail of one is in the report.
fn assert_no_key_text(text: &str, keys: &[String]) {
    for key in keys {
        assert!(!text.contains(key.as_str()), "a whole key is in the report");
        let body: Vec<char> = key.chars().skip(12).collect();
        for w in body.windows(10) {
            let piece: String = w.iter().collect();
            assert!(
                !text.contains(&piece),
                "key text {piece:?} is in the report"
            );
        }
    }
}

/// Every kind of key, one key in two files, one in a zip member: a fixture outside any
/// repository.
fn fixture() -> (tempfile::TempDir, Vec<String>) {
    let keys: Vec<String> = KINDS
        .iter()
        .enumerate()
        .map(|(i, (_, t))| make(t, 900 + i as u64))
        .collect();
    let shared = project_key(950);
    let zipped = project_key(951);
    let mut settings = String::new();
    for (i, k) in keys.iter().enumerate() {
        settings.push_str(&format!("key_{i} = \"{k}\"\n"));
    }
    let member = format!("OPENAI_API_KEY={zipped}\n");
    let dir = tree(&[
        ("outer/config/settings.toml", settings.as_bytes()),
        ("outer/a.env", format!("K={shared}\n").as_bytes()),
        ("outer/b.py", format!("\n\nkey = '{shared}'\n").as_bytes()),
        (
            "outer/dist/bundle.zip",
            &zip_bytes(&[("conf/app.env", member.as_bytes(), true)]),
        ),
    ]);
    let mut all = keys;
    all.extend([shared, zipped]);
    (dir, all)
}

#[test]
fn scan_report_passes_gitlabs_schema_with_one_vulnerability_per_finding() {
    let (dir, keys) = fixture();
    let root = dir.path().join("outer");
    let (code, json) = scan_json(&root, &[]);
    assert_eq!(code, 1);
    for show in [false, true] {
        let mut args = vec!["scan", "."];
        if show {
            args.push("--show-secrets");
        }
        let (code, doc, text) = gitlab(&root, &args);
        assert_eq!(code, 1);
        assert_no_key_text(&text, &keys);
        assert!(!text.contains("raw_source_code_extract"));
        assert_eq!(doc["version"], "15.2.1");
        assert_eq!(doc["scan"]["type"], "secret_detection");
        assert_eq!(doc["scan"]["status"], "success");
        assert!(doc["scan"].get("messages").is_none());
        let v = vulns(&doc);
        assert_eq!(
            v.len(),
            json.findings.len(),
            "one vulnerability per finding"
        );
        let ids: BTreeSet<&str> = v.iter().map(|x| x["id"].as_str().expect("id")).collect();
        assert_eq!(ids.len(), v.len(), "ids are unique");
        for (x, f) in v.iter().zip(&json.findings) {
            assert_eq!(x["identifiers"][0]["type"], "keyhound_rule_id");
            assert_eq!(x["identifiers"][0]["value"], f.rule.as_str());
            assert_eq!(x["location"]["file"], f.path.trim_start_matches("./"));
            assert_eq!(x["location"]["start_line"], f.line);
            assert_eq!(x["location"]["commit"]["sha"], "0000000");
            assert_eq!(x["severity"], "High", "not verified");
            let solution = x["solution"].as_str().expect("solution");
            assert!(solution.contains("Revoke"), "{solution}");
            let sig = &x["tracking"]["items"][0]["signatures"][0];
            assert_eq!(sig["value"], f.fingerprint.as_str());
        }
    }
}

#[test]
fn ids_are_stable_across_runs_and_follow_path_and_line() {
    let (dir, _) = fixture();
    let root = dir.path().join("outer");
    let ids = |doc: &Value| -> Vec<String> {
        vulns(doc)
            .iter()
            .map(|x| x["id"].as_str().expect("id").to_string())
            .collect()
    };
    let (_, first, _) = gitlab(&root, &["scan", "."]);
    let (_, second, _) = gitlab(&root, &["scan", "."]);
    assert_eq!(ids(&first), ids(&second));
    let shared: Vec<&Value> = vulns(&first)
        .iter()
        .filter(|x| x["location"]["file"] == "a.env" || x["location"]["file"] == "b.py")
        .collect();
    assert_eq!(shared.len(), 2);
    assert_eq!(
        shared[0]["tracking"]["items"][0]["signatures"][0],
        shared[1]["tracking"]["items"][0]["signatures"][0],
        "one key, one fingerprint"
    );
    assert_ne!(shared[0]["id"], shared[1]["id"], "two places, two ids");
}

#[test]
fn incomplete_scan_is_a_failure_with_a_warning() {
    let (dir, _) = fixture();
    let root = dir.path().join("outer");
    let (code, doc, _) = gitlab(&root, &["scan", ".", "--max-filesize", "400"]);
    assert_eq!(code, 1, "keys found in what was read");
    assert!(
        !vulns(&doc).is_empty(),
        "the keys in what was read are still reported"
    );
    assert_eq!(doc["scan"]["status"], "failure");
    let messages = doc["scan"]["messages"].as_array().expect("messages");
    assert_eq!(messages[0]["level"], "warn");
    let text = messages[0]["value"].as_str().expect("value");
    assert!(text.contains("settings.toml"), "{text}");
}

#[test]
fn clean_scan_is_an_empty_success() {
    let dir = tree(&[("outer/notes.txt", b"nothing here\n")]);
    let (code, doc, _) = gitlab(&dir.path().join("outer"), &["scan", "."]);
    assert_eq!(code, 0);
    assert_eq!(doc["scan"]["status"], "success");
    assert!(vulns(&doc).is_empty());
}

#[test]
fn git_findings_carry_their_commit_and_files_carry_head() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = GitRepo::init(dir.path().join("repo"), 0);
    let key = project_key(960);
    repo.write("app.env", format!("OPENAI_API_KEY={key}\n"));
    let added = repo.commit("add config");
    repo.write("README", "docs\n");
    let head = repo.commit("docs");
    let (code, doc, text) = gitlab(repo.path(), &["git", "--show-secrets"]);
    assert_eq!(code, 1);
    assert_no_key_text(&text, std::slice::from_ref(&key));
    let v = vulns(&doc);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["location"]["commit"]["sha"], added.as_str());
    assert_eq!(v[0]["location"]["file"], "app.env");
    let (_, doc, _) = gitlab(repo.path(), &["scan", "."]);
    assert_eq!(vulns(&doc)[0]["location"]["commit"]["sha"], head.as_str());
}
