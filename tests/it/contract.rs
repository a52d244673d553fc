//! The JSON and JSON lines reports as a contract: every document the real binary writes must
//! match `schema/report.schema.json`, findings come sorted, `complete` and `skipped` say what
//! was not read, and `--output` takes the whole report.

use crate::util::{KINDS, Report, gzip_bytes, kh, make, project_key, scan_json, tree, zip_bytes};
use base64::Engine;
use boon::{Compiler, SchemaIndex, Schemas};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn schema_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json")
}

fn schema_value() -> Value {
    let text = std::fs::read_to_string(schema_path()).expect("schema/report.schema.json exists");
    serde_json::from_str(&text).expect("the schema is JSON")
}

/// The schema compiled twice: the whole report, and `$defs/jsonlLine`.
struct Contract {
    schemas: Schemas,
    report: SchemaIndex,
    line: SchemaIndex,
}

impl Contract {
    fn new() -> Self {
        let schema = schema_value();
        let id = schema["$id"]
            .as_str()
            .expect("the schema has an $id")
            .to_string();
        let mut compiler = Compiler::new();
        compiler.enable_format_assertions();
        compiler.add_resource(&id, schema).expect("schema added");
        let mut schemas = Schemas::new();
        // Compiling checks the schema against the draft 2020-12 meta-schema.
        let report = compiler
            .compile(&id, &mut schemas)
            .unwrap_or_else(|e| panic!("the schema does not compile: {e:#}"));
        let line = compiler
            .compile(&format!("{id}#/$defs/jsonlLine"), &mut schemas)
            .unwrap_or_else(|e| panic!("$defs/jsonlLine does not compile: {e:#}"));
        Contract {
            schemas,
            report,
            line,
        }
    }

    fn check_report(&self, doc: &Value) {
        if let Err(e) = self.schemas.validate(doc, self.report) {
            panic!("the JSON report breaks the schema: {e:#}\n{doc:#}");
        }
    }

    fn check_line(&self, line: &Value) {
        if let Err(e) = self.schemas.validate(line, self.line) {
            panic!("a JSON lines object breaks the schema: {e:#}\n{line:#}");
        }
    }

    fn rejects_report(&self, doc: &Value) -> bool {
        self.schemas.validate(doc, self.report).is_err()
    }
}

/// How many findings `fixture` holds: its keys, one of them twice and another once more.
const FIXTURE_FINDINGS: usize = 12;

/// A tree with every key kind in plain text, one key in base64, one in a zip member, one in a
/// gzip stream, and one key repeated in two files. Returns the tree and every key in it.
fn fixture() -> (tempfile::TempDir, Vec<String>) {
    let plain: Vec<String> = KINDS
        .iter()
        .enumerate()
        .map(|(i, (_, t))| make(t, 1000 + i as u64))
        .collect();
    let mut keys_txt = String::new();
    for (i, key) in plain.iter().enumerate() {
        keys_txt.push_str(&format!("# key {i}\nKEY_{i}=\"{key}\"\n"));
    }
    let repeated = project_key(1100);
    let encoded = make("sk-svcacct-{b64url:74}T3BlbkFJ{b64url:74}", 1101);
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("token={encoded}\n"));
    let zipped = make("sk-None-{b64url:74}T3BlbkFJ{b64url:74}", 1102);
    let gzipped = make("sk-admin-{b64url:58}T3BlbkFJ{b64url:58}", 1103);
    let placeholder = make("example: sk-proj-{repeat:X:40}T3BlbkFJ{repeat:X:40}\n", 0);
    let dir = tree(&[
        ("src/keys.txt", keys_txt.as_bytes()),
        (
            "src/app.py",
            format!("a = \"{repeated}\"; b = \"{}\"\n", plain[0]).as_bytes(),
        ),
        ("docs/notes.md", format!("old: {repeated}\n").as_bytes()),
        (
            "deploy/secret.yaml",
            format!("data:\n  key: {b64}\n").as_bytes(),
        ),
        (
            "dist/bundle.zip",
            &zip_bytes(&[
                ("README", b"nothing here\n", false),
                (
                    "conf/app.env",
                    format!("# app\nOPENAI_API_KEY={zipped}\n").as_bytes(),
                    false,
                ),
            ]),
        ),
        (
            "logs/run.log.gz",
            &gzip_bytes(format!("start\nadmin={gzipped}\n").as_bytes()),
        ),
        ("README.txt", placeholder.as_bytes()),
    ]);
    let mut keys = plain;
    keys.extend([repeated, encoded, zipped, gzipped]);
    (dir, keys)
}

/// Runs `keyhound scan ARGS` in `dir`: (exit code, stdout, stderr).
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = kh()
        .current_dir(dir)
        .arg("scan")
        .args(args)
        .output()
        .expect("keyhound runs");
    (
        out.status.code().expect("exited"),
        String::from_utf8(out.stdout).expect("UTF-8 report"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn lines(text: &str) -> Vec<Value> {
    text.lines().map(json).collect()
}

fn property_names(schema: &Value) -> BTreeSet<String> {
    schema["properties"]
        .as_object()
        .expect("has properties")
        .keys()
        .cloned()
        .collect()
}

/// Every object schema in `v` (at `path`) closes its properties and describes each of them.
/// Fields only `keyhound git` writes may be optional; their description says so.
const GIT_ONLY: &str = "`keyhound git` only";
/// Fields only verification writes may be optional too; their description says so.
const VERIFY_ONLY: &str = "With `--verify` only";
/// Optional fields of two-part keys start with this (AWS's `paired_secret`).
const PAIRED_ONLY: &str = "With a paired secret only";
/// Optional fields of keys put back together from pieces start with this (`pieces`).
const JOINED_ONLY: &str = "For a key put back together only";

/// The description of `prop`, or of what its `$ref` points at within the schema.
fn description_of<'a>(root: &'a Value, prop: &'a Value) -> Option<&'a str> {
    if let Some(d) = prop.get("description").and_then(Value::as_str) {
        return Some(d);
    }
    let target = prop.get("$ref")?.as_str()?.strip_prefix('#')?;
    description_of(root, root.pointer(target)?)
}

fn check_closed(v: &Value, path: &str, problems: &mut Vec<String>) {
    check_closed_in(v, v, path, problems);
}

fn check_closed_in(root: &Value, v: &Value, path: &str, problems: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = map.get("properties") {
                let is_condition = path.ends_with("/if") || path.ends_with("/then");
                if !is_condition && map.get("additionalProperties") != Some(&Value::Bool(false)) {
                    problems.push(format!("{path}: additionalProperties is not false"));
                }
                if !is_condition {
                    let required: BTreeSet<&str> = map
                        .get("required")
                        .and_then(Value::as_array)
                        .map(|r| r.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    for (name, prop) in props {
                        let git_only = description_of(root, prop).is_some_and(|d| {
                            [GIT_ONLY, VERIFY_ONLY, PAIRED_ONLY, JOINED_ONLY]
                                .iter()
                                .any(|p| d.starts_with(p))
                        });
                        if !required.contains(name.as_str()) && !git_only {
                            problems.push(format!("{path}: {name} is not required"));
                        }
                    }
                }
                for (name, prop) in props {
                    let described = prop.get("description").is_some() || prop.get("$ref").is_some();
                    if !is_condition && !described {
                        problems.push(format!("{path}/properties/{name}: no description"));
                    }
                }
            }
            let is_definition = path.starts_with("#/$defs/") && path.matches('/').count() == 2;
            if is_definition && map.get("description").is_none() {
                problems.push(format!("{path}: no description"));
            }
            for (k, child) in map {
                check_closed_in(root, child, &format!("{path}/{k}"), problems);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                check_closed_in(root, child, &format!("{path}/{i}"), problems);
            }
        }
        _ => {}
    }
}

#[test]
fn the_schema_compiles_is_closed_and_describes_every_field() {
    Contract::new();
    let schema = schema_value();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert!(schema["description"].is_string());
    let mut problems = Vec::new();
    check_closed(&schema, "#", &mut problems);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn jsonl_line_definitions_carry_the_same_fields_as_the_report() {
    let schema = schema_value();
    let defs = &schema["$defs"];
    let with_type = |mut names: BTreeSet<String>| {
        names.insert("type".into());
        names
    };
    assert_eq!(
        property_names(&defs["jsonlFinding"]),
        with_type(property_names(&defs["finding"]))
    );
    assert_eq!(
        property_names(&defs["jsonlSkipped"]),
        with_type(property_names(&defs["skipped"]))
    );
    let mut summary = property_names(&schema);
    summary.remove("skipped");
    summary.remove("findings");
    assert_eq!(property_names(&defs["jsonlSummary"]), with_type(summary));
    let kinds: BTreeSet<&str> = ["jsonlFinding", "jsonlSkipped", "jsonlSummary"]
        .iter()
        .map(|d| {
            defs[d]["properties"]["type"]["const"]
                .as_str()
                .expect("const type")
        })
        .collect();
    assert_eq!(kinds, BTreeSet::from(["finding", "skipped", "summary"]));
}

#[test]
fn the_schema_rejects_what_the_contract_forbids() {
    type Breakage = Box<dyn Fn(&mut Value)>;
    let contract = Contract::new();
    let (dir, _) = fixture();
    let (_, out, _) = run(dir.path(), &["--format", "json"]);
    let doc = json(&out);
    contract.check_report(&doc);
    let broken: Vec<(&str, Breakage)> = vec![
        (
            "an unknown top-level field",
            Box::new(|d| d["extra"] = 1.into()),
        ),
        (
            "an unknown finding field",
            Box::new(|d| d["findings"][0]["extra"] = 1.into()),
        ),
        (
            "an unknown stats field",
            Box::new(|d| d["stats"]["extra"] = 1.into()),
        ),
        (
            "a missing field",
            Box::new(|d| {
                d["findings"][0].as_object_mut().unwrap().remove("offset");
            }),
        ),
        ("another version", Box::new(|d| d["version"] = 2.into())),
        ("line 0", Box::new(|d| d["findings"][0]["line"] = 0.into())),
        (
            "a bad fingerprint",
            Box::new(|d| d["findings"][0]["fingerprint"] = "kh1:xyz".into()),
        ),
        (
            "an unknown decoding",
            Box::new(|d| d["findings"][0]["decoded"] = serde_json::json!(["rot13"])),
        ),
        (
            "a whole secret marked redacted",
            Box::new(|d| {
                d["findings"][0]["secret"] = project_key(1).into();
            }),
        ),
    ];
    for (what, breakage) in broken {
        let mut bad = doc.clone();
        breakage(&mut bad);
        assert!(contract.rejects_report(&bad), "the schema accepts {what}");
    }
}

#[test]
fn the_json_report_matches_the_schema_with_every_kind_of_key() {
    let contract = Contract::new();
    let (dir, keys) = fixture();

    // Redacted (the default).
    let (code, out, err) = run(dir.path(), &["--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let doc = json(&out);
    contract.check_report(&doc);
    let findings = doc["findings"].as_array().expect("findings");
    assert!(findings.iter().all(|f| f["redacted"] == true));
    for key in &keys {
        assert!(
            !out.contains(key.as_str()),
            "a whole key in a redacted report"
        );
    }

    // Whole secrets, read also through the README's types (which deny unknown fields).
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let (_, out, _) = run(dir.path(), &["--format", "json", "--show-secrets"]);
    contract.check_report(&json(&out));
    assert!(report.complete);
    assert!(report.skipped.is_empty());
    assert_eq!(report.findings.len(), FIXTURE_FINDINGS);
    assert_eq!(report.stats.findings as usize, report.findings.len());
    assert_eq!(report.stats.skipped, 0);
    assert!(report.stats.placeholders >= 1, "the placeholder is counted");
    let found: BTreeSet<&str> = report.findings.iter().map(|f| f.secret.as_str()).collect();
    let wanted: BTreeSet<&str> = keys.iter().map(String::as_str).collect();
    assert_eq!(found, wanted);
    assert!(report.findings.iter().all(|f| !f.redacted));

    let by_secret = |k: &str| {
        report
            .findings
            .iter()
            .filter(|f| f.secret == k)
            .collect::<Vec<_>>()
    };
    let n = KINDS.len();
    let repeated = by_secret(&keys[n]);
    assert_eq!(repeated.len(), 2, "one finding per place");
    assert_eq!(repeated[0].fingerprint, repeated[1].fingerprint);
    let encoded = by_secret(&keys[n + 1]);
    assert_eq!(encoded[0].path, "deploy/secret.yaml");
    assert_eq!(encoded[0].decoded, ["base64"]);
    let zipped = by_secret(&keys[n + 2]);
    assert_eq!(zipped[0].path, "dist/bundle.zip");
    assert_eq!(zipped[0].archive_member.as_deref(), Some("conf/app.env"));
    assert_eq!((zipped[0].line, zipped[0].column), (2, 16));
    let gzipped = by_secret(&keys[n + 3]);
    assert_eq!(gzipped[0].path, "logs/run.log.gz");
    assert_eq!(gzipped[0].decoded, ["gzip"]);
    assert_eq!(gzipped[0].rule, "kh.openai.admin");
    for ((rule, _), key) in KINDS.iter().zip(&keys) {
        let f = by_secret(key);
        assert!(f.iter().any(|f| f.rule == *rule), "{rule} names its key");
    }
}

#[test]
fn every_jsonl_line_matches_the_schema_and_agrees_with_the_json_report() {
    let contract = Contract::new();
    let (dir, _) = fixture();
    for extra in [&[][..], &["--show-secrets"][..]] {
        let args = |format| [&["missing.txt", ".", "--format", format][..], extra].concat();
        let (code, out, err) = run(dir.path(), &args("jsonl"));
        assert_eq!(code, 1, "{err}");
        let lines = lines(&out);
        for l in &lines {
            contract.check_line(l);
        }
        let (last, rest) = lines.split_last().expect("lines");
        assert_eq!(last["type"], "summary", "the summary closes the output");
        assert!(rest.iter().all(|l| l["type"] != "summary"));
        assert_eq!(last["complete"], false);

        let (_, out, _) = run(dir.path(), &args("json"));
        let doc = json(&out);
        contract.check_report(&doc);
        let strip = |v: &Value| {
            let mut v = v.clone();
            v.as_object_mut().expect("object").remove("type");
            v
        };
        let streamed: Vec<Value> = rest
            .iter()
            .filter(|l| l["type"] == "finding")
            .map(strip)
            .collect();
        let reported = doc["findings"].as_array().expect("findings");
        assert_eq!(streamed.len(), FIXTURE_FINDINGS);
        assert_eq!(reported.len(), FIXTURE_FINDINGS);
        for f in &streamed {
            assert!(reported.contains(f), "streamed but not reported: {f:#}");
        }
        let skipped: Vec<Value> = rest
            .iter()
            .filter(|l| l["type"] == "skipped")
            .map(strip)
            .collect();
        assert_eq!(Value::Array(skipped), doc["skipped"]);
        for field in ["version", "tool", "complete", "ignored_env_files"] {
            assert_eq!(last[field], doc[field], "{field}");
        }
        let mut stats = last["stats"].clone();
        stats["elapsed_ms"] = doc["stats"]["elapsed_ms"].clone();
        assert_eq!(stats, doc["stats"]);
    }
}

/// Many files, several keys per line and per file, so that the parallel walk finishes them in
/// no set order.
#[test]
fn findings_are_sorted_by_path_member_line_and_column() {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut seed = 2000;
    let mut key = || {
        seed += 1;
        project_key(seed)
    };
    for d in ["b", "a", "a/b", "c.d", "a-b"] {
        for f in ["z.txt", "y.txt", "a.txt", "A.txt", "10.txt", "9.txt"] {
            let text = format!(
                "{} {}\n\nx={} y={} z={}\n",
                key(),
                key(),
                key(),
                key(),
                key()
            );
            files.push((format!("{d}/{f}"), text.into_bytes()));
        }
    }
    let member = |k: String| format!("k={k}\n").into_bytes();
    let (last, first, middle) = (
        member(key()),
        format!("{}\n{}\n", key(), key()).into_bytes(),
        member(key()),
    );
    let archive = zip_bytes(&[
        ("z/last.txt", &last, false),
        ("a/first.txt", &first, false),
        ("m.txt", &middle, false),
    ]);
    files.push(("b/archive.zip".into(), archive));
    let entries: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    let dir = tree(&entries);
    let (_, report) = scan_json(dir.path(), &["-j", "2"]);
    assert_eq!(report.findings.len(), 30 * 5 + 4);
    let keys: Vec<(&str, Option<&str>, u64, u64)> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.path.as_str(),
                f.archive_member.as_deref(),
                f.line,
                f.column,
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let first_member = report
        .findings
        .iter()
        .find_map(|f| f.archive_member.as_deref());
    assert_eq!(first_member, Some("a/first.txt"));
}

fn skipped_only(report: &Report, path: &str) {
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    let s = &report.skipped[0];
    assert_eq!(s.path, path);
    assert!(s.incomplete);
    assert!(!s.reason.is_empty());
    assert_eq!(report.stats.skipped, 1);
}

#[test]
fn a_missing_path_makes_the_scan_incomplete() {
    let contract = Contract::new();
    let key = project_key(3000);
    let dir = tree(&[
        ("clean.txt", b"nothing\n"),
        ("leak.txt", format!("k={key}\n").as_bytes()),
    ]);

    // Everything read: complete, nothing skipped.
    let (code, report) = scan_json(dir.path(), &["clean.txt"]);
    assert_eq!(code, 0);
    assert!(report.complete);
    assert!(report.skipped.is_empty());

    // A missing path and nothing found: incomplete, exit 2.
    let (code, report) = scan_json(dir.path(), &["missing.txt", "clean.txt"]);
    assert_eq!(code, 2);
    assert!(!report.complete);
    skipped_only(&report, "missing.txt");
    assert_eq!(report.stats.files, 1);

    // --allow-incomplete changes the exit code, not the report.
    let (code, report) = scan_json(
        dir.path(),
        &["--allow-incomplete", "missing.txt", "clean.txt"],
    );
    assert_eq!(code, 0);
    assert!(!report.complete);
    skipped_only(&report, "missing.txt");

    // Keys found win over the missing path: exit 1, still incomplete.
    let (code, report) = scan_json(dir.path(), &["missing.txt", "leak.txt"]);
    assert_eq!(code, 1);
    assert!(!report.complete);
    skipped_only(&report, "missing.txt");
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].secret, key);

    let (_, out, err) = run(dir.path(), &["--format", "json", "missing.txt", "leak.txt"]);
    contract.check_report(&json(&out));
    assert!(
        err.contains("missing.txt"),
        "the diagnostic names the path: {err}"
    );

    let (_, out, _) = run(
        dir.path(),
        &["--format", "jsonl", "missing.txt", "clean.txt"],
    );
    let lines = lines(&out);
    for l in &lines {
        contract.check_line(l);
    }
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["type"], "skipped");
    assert_eq!(lines[0]["path"], "missing.txt");
    assert_eq!(lines[0]["incomplete"], true);
    assert_eq!(lines[1]["type"], "summary");
    assert_eq!(lines[1]["complete"], false);
    assert_eq!(lines[1]["stats"]["skipped"], 1);
}

#[test]
fn output_writes_the_report_to_the_file_and_nothing_to_stdout() {
    let contract = Contract::new();
    let (dir, _) = fixture();
    let out_dir = tempfile::tempdir().expect("temp dir");

    let file = out_dir.path().join("report.json");
    let file_arg = file.to_str().expect("UTF-8 path");
    let (code, stdout, err) = run(dir.path(), &["--format", "json", "-o", file_arg]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(stdout, "", "nothing on stdout");
    let written = std::fs::read_to_string(&file).expect("the report file");
    let doc = json(&written);
    contract.check_report(&doc);
    let (_, direct, _) = run(dir.path(), &["--format", "json"]);
    let mut direct = json(&direct);
    direct["stats"]["elapsed_ms"] = doc["stats"]["elapsed_ms"].clone();
    assert_eq!(doc, direct, "the same report as on stdout");
    assert_eq!(
        doc["findings"].as_array().map(Vec::len),
        Some(FIXTURE_FINDINGS)
    );

    let file = out_dir.path().join("report.jsonl");
    let file_arg = file.to_str().expect("UTF-8 path");
    let (code, stdout, _) = run(dir.path(), &["--format", "jsonl", "--output", file_arg]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    let written = lines(&std::fs::read_to_string(&file).expect("the lines file"));
    for l in &written {
        contract.check_line(l);
    }
    assert_eq!(written.last().map(|l| &l["type"]), Some(&"summary".into()));
    assert_eq!(written.len(), FIXTURE_FINDINGS + 1);

    for format in ["sarif", "human"] {
        let file = out_dir.path().join(format!("report.{format}"));
        let file_arg = file.to_str().expect("UTF-8 path");
        let (_, stdout, _) = run(dir.path(), &["--format", format, "-o", file_arg]);
        assert_eq!(stdout, "", "{format}: nothing on stdout");
        let written = std::fs::read_to_string(&file).expect("the report file");
        assert!(!written.is_empty(), "{format}: the report is in the file");
    }
}
