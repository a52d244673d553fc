//! SARIF for GitHub code scanning: a snapshot of the whole document for a fixed fixture, and the
//! properties GitHub relies on (one result per finding, rule metadata, relative URIs, stable
//! partial fingerprints, redaction, and its 25,000-result limit).

use crate::util::{KINDS, gzip_bytes, kh, make, project_key, tree, zip_bytes};
use base64::Engine;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// Runs `keyhound scan --format sarif ARGS` in `dir`: (exit code, document, raw text).
fn sarif(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = kh()
        .current_dir(dir)
        .args(["scan", "--format", "sarif"])
        .args(args)
        .output()
        .expect("keyhound runs");
    let text = String::from_utf8(out.stdout).expect("UTF-8 SARIF");
    let doc = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "bad SARIF ({e}):\n{text}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().expect("exited"), doc, text)
}

fn results(doc: &Value) -> &Vec<Value> {
    doc["runs"][0]["results"].as_array().expect("results")
}

fn rules(doc: &Value) -> &Vec<Value> {
    doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
}

fn uri(result: &Value) -> &str {
    result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .expect("uri")
}

/// A fixed fixture (keys from fixed seeds): every key kind in plain text, one project key in
/// three files, a base64-encoded key, a key in a zip member, one in a gzip stream, and a
/// non-ASCII line. Returns the tree and every key in it.
fn fixture() -> (tempfile::TempDir, Vec<String>) {
    let plain: Vec<String> = KINDS
        .iter()
        .enumerate()
        .map(|(i, (_, t))| make(t, 500 + i as u64))
        .collect();
    let mut settings = String::from("[openai]\n");
    for (i, key) in plain.iter().enumerate() {
        settings.push_str(&format!("key_{i} = \"{key}\"\n"));
    }
    let shared = project_key(600);
    let encoded = make("sk-svcacct-{b64url:74}T3BlbkFJ{b64url:74}", 601);
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("OPENAI_API_KEY={encoded}"));
    let zipped = make("sk-None-{b64url:74}T3BlbkFJ{b64url:74}", 602);
    let gzipped = make("sk-admin-{b64url:58}T3BlbkFJ{b64url:58}", 603);
    let dir = tree(&[
        ("config/settings.toml", settings.as_bytes()),
        (
            "src/app.py",
            format!("import openai\nclient = openai.OpenAI(api_key=\"{shared}\")\n").as_bytes(),
        ),
        (
            "docs/setup guide.md",
            format!("Use `{shared}`.\n").as_bytes(),
        ),
        ("notes/héllo.txt", format!("clé: {shared}\n").as_bytes()),
        (
            "deploy/secret.yaml",
            format!("kind: Secret\ndata:\n  env: {b64}\n").as_bytes(),
        ),
        (
            "dist/bundle.zip",
            &zip_bytes(&[(
                "conf/app.env",
                format!("# app\nOPENAI_API_KEY={zipped}\n").as_bytes(),
                false,
            )]),
        ),
        (
            "logs/run.log.gz",
            &gzip_bytes(format!("start\nadmin={gzipped}\n").as_bytes()),
        ),
    ]);
    let mut keys = plain;
    keys.extend([shared, encoded, zipped, gzipped]);
    (dir, keys)
}

/// The document with what differs between machines and releases replaced.
fn normalized(mut doc: Value) -> Value {
    let run = &mut doc["runs"][0];
    let root = &mut run["originalUriBaseIds"]["%SRCROOT%"]["uri"];
    assert!(
        root.as_str()
            .is_some_and(|u| u.starts_with("file:///") && u.ends_with('/'))
    );
    *root = "file:///[SRCROOT]/".into();
    let version = &mut run["tool"]["driver"]["semanticVersion"];
    assert_eq!(version.as_str(), Some(env!("CARGO_PKG_VERSION")));
    *version = "[VERSION]".into();
    doc
}

#[test]
fn the_sarif_of_a_fixed_fixture_is_stable() {
    // OpenAI's rules only: the snapshot pins the SARIF of OpenAI findings; every provider's
    // rules are checked by `rules_carry_what_github_shows`.
    let (dir, _) = fixture();
    let (code, doc, _) = sarif(dir.path(), &["--provider", "openai"]);
    assert_eq!(code, 1);
    let text = serde_json::to_string_pretty(&normalized(doc)).expect("JSON");
    insta::assert_snapshot!("fixture", text);
}

#[test]
fn one_result_per_finding_and_one_run() {
    let (dir, keys) = fixture();
    let (_, doc, _) = sarif(dir.path(), &[]);
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(doc["runs"].as_array().map(Vec::len), Some(1));
    // Every key once, and the shared key in its three files.
    assert_eq!(results(&doc).len(), keys.len() + 2);
    let shared: Vec<&Value> = results(&doc)
        .iter()
        .filter(|r| r["ruleId"] == "kh.openai.project" && !uri(r).starts_with("config"))
        .collect();
    assert_eq!(shared.len(), 3, "the same key in 3 files gives 3 results");
    let uris: BTreeSet<&str> = shared.iter().map(|r| uri(r)).collect();
    assert_eq!(
        uris,
        BTreeSet::from([
            "docs/setup%20guide.md",
            "notes/h%C3%A9llo.txt",
            "src/app.py"
        ])
    );
    // The key's fingerprint ties them together; GitHub's partial fingerprints keep them apart.
    let key_fps: BTreeSet<String> = shared
        .iter()
        .map(|r| r["properties"]["fingerprint"].to_string())
        .collect();
    assert_eq!(key_fps.len(), 1);
    let partial: BTreeSet<String> = results(&doc)
        .iter()
        .map(|r| r["partialFingerprints"].to_string())
        .collect();
    assert_eq!(
        partial.len(),
        results(&doc).len(),
        "partialFingerprints are distinct"
    );
    for r in results(&doc) {
        let fps = r["partialFingerprints"]
            .as_object()
            .expect("partialFingerprints");
        assert!(!fps.is_empty());
        assert!(
            fps.values()
                .all(|v| v.as_str().is_some_and(|s| !s.is_empty()))
        );
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules(&doc)[index]["id"], r["ruleId"]);
        assert_eq!(r["level"], "error");
        assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
    }
}

#[test]
fn partial_fingerprints_survive_edits_above_the_key() {
    let key = project_key(610);
    let before = tree(&[("a.py", format!("k = '{key}'\n").as_bytes())]);
    let after = tree(&[("a.py", format!("import os\n\n\nk = '{key}'\n").as_bytes())]);
    let (_, a, _) = sarif(before.path(), &[]);
    let (_, b, _) = sarif(after.path(), &[]);
    assert_eq!(
        results(&a)[0]["partialFingerprints"],
        results(&b)[0]["partialFingerprints"]
    );
    assert_ne!(
        results(&a)[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        results(&b)[0]["locations"][0]["physicalLocation"]["region"]["startLine"]
    );
}

fn is_pascal_case(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

#[test]
fn rules_carry_what_github_shows() {
    let (dir, _) = fixture();
    let (_, doc, _) = sarif(dir.path(), &[]);
    let mut severities = Vec::new();
    for rule in rules(&doc) {
        let id = rule["id"].as_str().expect("id");
        let name = rule["name"].as_str().expect("name");
        assert!(!id.is_empty() && !id.contains(char::is_whitespace), "{id}");
        assert!(is_pascal_case(name), "{name}");
        assert_ne!(id, name);
        assert_eq!(
            rule["properties"]["tags"],
            serde_json::json!(["security", "secret"])
        );
        let severity = rule["properties"]["security-severity"]
            .as_str()
            .expect("security-severity is a string");
        let value: f64 = severity.parse().expect("a number in the string");
        assert!((0.0..=10.0).contains(&value));
        severities.push((value, id.to_string()));
        for field in ["shortDescription", "fullDescription", "help"] {
            assert!(
                rule[field]["text"].as_str().is_some_and(|t| !t.is_empty()),
                "{field}"
            );
        }
        assert!(
            rule["helpUri"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://"))
        );
    }
    severities.retain(|(_, id)| id.starts_with("kh.openai."));
    severities.sort_by(|a, b| b.0.total_cmp(&a.0));
    assert_eq!(
        severities[0].1, "kh.openai.admin",
        "admin keys rank highest"
    );
    assert!(severities[0].0 > severities[1].0);
}

#[test]
fn uris_are_relative_to_srcroot() {
    let (dir, _) = fixture();
    let (_, doc, _) = sarif(dir.path(), &[]);
    let root = doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .expect("%SRCROOT%");
    assert!(root.starts_with("file:///") && root.ends_with('/'));
    for r in results(&doc) {
        let loc = &r["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(loc["uriBaseId"], "%SRCROOT%");
        let u = uri(r);
        assert!(
            !u.starts_with('/') && !u.contains(':') && !u.starts_with('.'),
            "{u}"
        );
        assert!(!u.contains(' '), "{u} is percent-encoded");
        assert!(r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64() >= Some(1));
    }

    // Paths named as ./x, as absolute paths under the working directory, or climbing out of it.
    let key = project_key(620);
    let outer = tree(&[
        ("repo/src/a.txt", format!("{key}\n").as_bytes()),
        ("other/b.txt", format!("{key}\n").as_bytes()),
    ]);
    let repo = outer.path().join("repo");
    let absolute = repo.join("src/a.txt");
    let absolute = absolute.to_str().expect("UTF-8 path");
    for arg in ["./src/a.txt", "src/../src/a.txt", absolute] {
        let (_, doc, _) = sarif(&repo, &[arg]);
        assert_eq!(uri(&results(&doc)[0]), "src/a.txt", "{arg}");
    }
    let (_, doc, _) = sarif(&repo, &["../other/b.txt"]);
    let loc = &results(&doc)[0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert!(loc["uriBaseId"].is_null(), "outside %SRCROOT%: {loc}");
    let u = loc["uri"].as_str().expect("uri");
    assert!(
        u.starts_with("file:///") && u.ends_with("/other/b.txt"),
        "{u}"
    );
}

#[test]
fn an_archive_member_is_located_at_its_archive() {
    let (dir, keys) = fixture();
    let (_, doc, _) = sarif(dir.path(), &[]);
    let zipped = results(&doc)
        .iter()
        .find(|r| uri(r) == "dist/bundle.zip")
        .expect("a result at the archive");
    let message = zipped["message"]["text"].as_str().expect("message");
    assert!(message.contains("conf/app.env"), "{message}");
    assert!(message.contains("line 2"), "{message}");
    let tail = &keys[keys.len() - 2][keys[keys.len() - 2].len() - 4..];
    assert!(message.contains(&format!("sk-None-…{tail}")), "{message}");
    assert_eq!(
        zipped["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );

    let gzipped = results(&doc)
        .iter()
        .find(|r| uri(r) == "logs/run.log.gz")
        .expect("a result at the gzip file");
    let message = gzipped["message"]["text"].as_str().expect("message");
    assert!(
        message.contains("decompressed") && message.contains("line 2"),
        "{message}"
    );

    let encoded = results(&doc)
        .iter()
        .find(|r| uri(r) == "deploy/secret.yaml")
        .expect("a result for the base64 key");
    assert_eq!(
        encoded["properties"]["decoded"],
        serde_json::json!(["base64"])
    );
    assert!(
        encoded["message"]["text"]
            .as_str()
            .is_some_and(|m| m.contains("base64"))
    );
    assert_eq!(
        encoded["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
}

/// Every string of `v`, joined.
fn strings(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.iter().for_each(|(k, x)| {
            out.push_str(k);
            out.push('\n');
            strings(x, out);
        }),
        _ => {}
    }
}

/// Fails when 12 consecutive characters of `secret` (which is random) appear in `text`.
fn assert_no_part_of(secret: &str, text: &str) {
    let chars: Vec<char> = secret.chars().collect();
    for window in chars.windows(12) {
        let part: String = window.iter().collect();
        assert!(
            !text.contains(&part),
            "the SARIF holds part of a key: …{part}…"
        );
    }
}

#[test]
fn no_key_in_the_sarif_even_with_show_secrets() {
    let (dir, keys) = fixture();
    let (_, doc, raw) = sarif(dir.path(), &["--show-secrets"]);
    let (_, plain_doc, _) = sarif(dir.path(), &[]);
    assert_eq!(doc, plain_doc, "--show-secrets changes nothing in SARIF");
    let mut text = String::new();
    strings(&doc, &mut text);
    for key in &keys {
        assert_no_part_of(&key["sk-".len()..], &text);
        assert_no_part_of(&key["sk-".len()..], &raw);
    }
    // Nor the base64 text the service-account key hides in.
    let encoded = &keys[keys.len() - 3];
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("OPENAI_API_KEY={encoded}"));
    assert_no_part_of(&b64[24..], &text);
}

#[test]
fn an_empty_scan_is_an_empty_run() {
    let dir = tree(&[("a.txt", b"nothing here\n")]);
    let (code, doc, _) = sarif(dir.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(results(&doc).len(), 0);
    assert!(!rules(&doc).is_empty());
    let props = &doc["runs"][0]["properties"];
    assert!(props["truncated"].is_null(), "not truncated: {props}");
    // It says which providers' keys were looked for: a run without results says nothing of others.
    let providers = props["providers"].as_array().expect("providers");
    assert!(providers.contains(&"openai".into()), "{props}");
}

#[test]
fn results_are_capped_at_25000_keeping_the_riskiest() {
    // 25,010 legacy user keys (the shortest), one per line over 25 files (the scanner is quicker
    // with fewer keys per file), and one admin key.
    const KEYS: usize = 25_010;
    const FILES: usize = 25;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for f in 0..FILES {
        let mut text = String::with_capacity(KEYS / FILES * 52);
        for i in (f..KEYS).step_by(FILES) {
            text.push_str(&make(
                "sk-{alnum:20}T3BlbkFJ{alnum:20}\n",
                10_000 + i as u64,
            ));
        }
        files.push((format!("many/{f:02}.txt"), text.into_bytes()));
    }
    let admin = make("sk-admin-{b64url:58}T3BlbkFJ{b64url:58}", 9);
    files.push(("zz/admin.txt".into(), format!("{admin}\n").into_bytes()));
    let entries: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    let dir = tree(&entries);

    let (code, doc, _) = sarif(dir.path(), &[]);
    assert_eq!(code, 1);
    let run = &doc["runs"][0];
    assert_eq!(results(&doc).len(), 25_000);
    assert_eq!(run["properties"]["truncated"], true);
    assert_eq!(run["properties"]["resultsTotal"], KEYS + 1);
    assert_eq!(run["properties"]["resultsKept"], 25_000);
    assert!(
        results(&doc)
            .iter()
            .any(|r| r["ruleId"] == "kh.openai.admin"),
        "the admin key is kept"
    );
    let order: Vec<(&str, u64)> = results(&doc)
        .iter()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            (uri(r), loc["region"]["startLine"].as_u64().expect("line"))
        })
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] <= w[1]),
        "kept results stay sorted"
    );
}
