//! `keyhound rules list|check`, user rules from `--rules`, `--disable-rule`, and deny lists.

use crate::util::*;
use keyhound::rules::RuleSet;
use std::path::Path;

const OPENAI_IDS: &[&str] = &[
    "kh.openai.project",
    "kh.openai.service-account",
    "kh.openai.admin",
    "kh.openai.none",
    "kh.openai.user",
    "kh.openai.named-service-account",
];

/// A user rule for `acme_tok_` + 32 lowercase letters or digits; `extra` is appended to the table.
fn acme_rule(extra: &str) -> String {
    format!(
        r#"# A user rule, as a team would write one.
[[rule]]
id = "acme.token"
name = "AcmeToken"
provider = "acme"
kind = "token"
description = "Acme API token"
severity = 6.5
keywords = ["acme_tok_"]
pattern = '''acme_tok_(?P<body>[a-z0-9]{{32}})'''
min_distinct = 10
max_run = 5
remediation = "Revoke it in the Acme console."
revoke_url = "https://acme.test/tokens"
examples = ["ACME_TOKEN=acme_tok_{{lower:32}}", "t = 'acme_tok_{{lower:16}}{{digit:16}}';"]
negative_examples = ["acme_tok_{{repeat:a:32}}", "acme_tok_{{lower:31}}", "xacme_tok_{{lower:32}}"]
{extra}"#
    )
}

fn acme_token(seed: u64) -> String {
    make("acme_tok_{lower:32}", seed)
}

fn rules_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
    tree(&refs)
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn listed_ids(out: &std::process::Output) -> Vec<String> {
    stdout(out)
        .lines()
        .filter(|l| !l.starts_with("# "))
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn rules_list_lists_every_builtin_rule() {
    let out = kh().args(["rules", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let builtin: Vec<String> = RuleSet::builtin()
        .unwrap()
        .rules
        .iter()
        .map(|r| r.spec.id.clone())
        .collect();
    assert_eq!(listed_ids(&out), builtin);
    for id in OPENAI_IDS {
        assert!(builtin.iter().any(|b| b == id), "{id} is not built in");
    }
    let text = stdout(&out);
    assert_eq!(text.lines().next(), Some("# openai (6 rules)"));
    let first = text.lines().nth(1).unwrap();
    assert!(
        first.contains("OpenAI project API key (sk-proj-)"),
        "{first}"
    );
    assert!(
        text.lines()
            .all(|l| l.ends_with("[builtin:openai.toml]") || !l.contains("kh.openai"))
    );
}

/// (rules, examples) in the built-in rule files.
fn builtin_counts() -> (usize, usize) {
    let set = RuleSet::builtin().unwrap();
    let examples = set
        .rules
        .iter()
        .map(|r| r.spec.examples.len() + r.spec.negative_examples.len())
        .sum();
    (set.rules.len(), examples)
}

/// Parses "N rules, M examples checked: VERDICT".
fn check_line(text: &str) -> (usize, usize, String) {
    let line = text.lines().last().unwrap_or("");
    let (counts, verdict) = line.split_once(" examples checked: ").expect(line);
    let (rules, examples) = counts.split_once(" rules, ").expect(line);
    (
        rules.parse().unwrap(),
        examples.parse().unwrap(),
        verdict.to_string(),
    )
}

#[test]
fn rules_check_passes_and_says_so() {
    let out = kh().args(["rules", "check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (rules, examples, verdict) = check_line(&stdout(&out));
    let (want_rules, templates) = builtin_counts();
    assert_eq!((rules, verdict.as_str()), (want_rules, "all pass"));
    // Every template is run with the same number of seeds.
    assert!(
        examples >= templates && examples % templates == 0,
        "{examples} for {templates}"
    );
    assert!(stderr(&out).is_empty());
}

#[test]
fn a_user_rule_is_listed_checked_and_used_by_scan() {
    let rules = rules_dir(&[("acme.toml", &acme_rule(""))]);
    let rdir = rules.path().to_str().unwrap();
    let file = format!("{rdir}/acme.toml");

    let out = kh()
        .args(["rules", "list", "--rules", rdir])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ids = listed_ids(&out);
    assert_eq!(ids.last().map(String::as_str), Some("acme.token"));
    assert_eq!(ids.len(), builtin_counts().0 + 1);
    let last = stdout(&out).lines().last().unwrap().to_string();
    assert!(
        last.contains("Acme API token") && last.ends_with(&format!("[{file}]")),
        "{last}"
    );

    let out = kh()
        .args(["rules", "check", "--rules", rdir])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (n, _, verdict) = check_line(&stdout(&out));
    assert_eq!((n, verdict.as_str()), (builtin_counts().0 + 1, "all pass"));

    let token = acme_token(1);
    let key = project_key(2);
    let dir = tree(&[(
        "app.env",
        format!("ACME_TOKEN={token}\nOPENAI_API_KEY={key}\n").as_bytes(),
    )]);
    for rules_arg in [rdir, file.as_str()] {
        let (code, report) = scan_json(dir.path(), &["--rules", rules_arg]);
        assert_eq!(code, 1);
        assert_eq!(secrets(&report), [token.clone(), key.clone()]);
        let f = &report.findings[0];
        assert_eq!(
            (
                f.rule.as_str(),
                f.provider.as_str(),
                f.kind.as_str(),
                f.severity
            ),
            ("acme.token", "acme", "token", 6.5)
        );
        assert_eq!((f.line, f.column), (1, 12));
        assert_eq!(f.remediation, "Revoke it in the Acme console.");
        assert_eq!(f.revoke_url.as_deref(), Some("https://acme.test/tokens"));
    }
    // Without --rules the token is not a key.
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!((code, secrets(&report)), (1, vec![key]));
    // Redacted, the rule's prefix (before the `body` group) stays visible.
    let out = kh()
        .current_dir(dir.path())
        .args(["scan", "--format", "json", "--rules", rdir])
        .output()
        .unwrap();
    let report: Report = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report.findings[0].secret,
        format!("acme_tok_…{}", &token[token.len() - 4..])
    );
}

#[test]
fn a_user_rule_with_a_failing_example_fails_rules_check() {
    let bad = acme_rule("").replace(
        r#"examples = ["ACME_TOKEN"#,
        r#"examples = ["acme_tok_{upper:32}", "ACME_TOKEN"#,
    );
    let rules = rules_dir(&[("acme.toml", &bad)]);
    let out = kh()
        .args(["rules", "check", "--rules", rules.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let (_, _, verdict) = check_line(&stdout(&out));
    assert!(
        verdict.ends_with("failures") && !verdict.starts_with('0'),
        "{verdict}"
    );
    let err = stderr(&out);
    assert!(
        err.contains("keyhound: rule acme.token: example \"acme_tok_{upper:32}\""),
        "{err}"
    );
}

fn assert_rejected(rules: &Path, file: &str, message: &str) {
    let rdir = rules.to_str().unwrap();
    let work = tree(&[("a.txt", b"x")]);
    for args in [
        vec!["rules", "check", "--rules", rdir],
        vec!["rules", "list", "--rules", rdir],
        vec!["scan", "--rules", rdir, "."],
    ] {
        let out = kh().current_dir(work.path()).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains(file) && err.contains(message),
            "{args:?}: {err}"
        );
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
}

#[test]
fn a_user_rule_without_keywords_is_rejected_naming_the_file() {
    let bad = acme_rule("").replace(r#"keywords = ["acme_tok_"]"#, "keywords = []");
    let rules = rules_dir(&[
        (
            "good.toml",
            &acme_rule("").replace("acme.token", "acme.other"),
        ),
        ("bad.toml", &bad),
    ]);
    assert_rejected(rules.path(), "bad.toml", "no keywords");
}

#[test]
fn a_user_rule_with_only_empty_keywords_is_rejected() {
    let bad = acme_rule("").replace(r#"keywords = ["acme_tok_"]"#, r#"keywords = [""]"#);
    let rules = rules_dir(&[("empty.toml", &bad)]);
    assert_rejected(rules.path(), "empty.toml", "no keywords");
}

#[test]
fn a_user_rule_reusing_a_builtin_id_is_rejected() {
    let bad = acme_rule("").replace("acme.token", "kh.openai.project");
    let rules = rules_dir(&[("dup.toml", &bad)]);
    assert_rejected(
        rules.path(),
        "dup.toml",
        "kh.openai.project: the id is already taken",
    );
}

#[test]
fn a_malformed_deny_hash_is_rejected() {
    let rules = rules_dir(&[("deny.toml", &acme_rule(r#"deny_sha256 = ["abc"]"#))]);
    assert_rejected(rules.path(), "deny.toml", "is not 64 hex digits");
}

#[test]
fn disable_rule_stops_project_keys_being_found() {
    let (proj, svc) = (
        project_key(3),
        make("sk-svcacct-{b64url:74}T3BlbkFJ{b64url:74}", 4),
    );
    let dir = tree(&[
        ("p.env", format!("OPENAI_API_KEY={proj}\n").as_bytes()),
        ("s.env", format!("OPENAI_API_KEY={svc}\n").as_bytes()),
    ]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(
        (code, secrets(&report)),
        (1, vec![proj.clone(), svc.clone()])
    );
    let (code, report) = scan_json(dir.path(), &["--disable-rule", "kh.openai.project"]);
    assert_eq!(code, 1);
    assert_eq!(secrets(&report), [svc]);
    assert_eq!(report.stats.placeholders, 0);
    let (code, report) = scan_json(
        dir.path(),
        &["p.env", "--disable-rule", "kh.openai.project"],
    );
    assert_eq!((code, report.findings.len()), (0, 0));
    // Both rules off: nothing.
    let (code, report) = scan_json(
        dir.path(),
        &[
            "--disable-rule",
            "kh.openai.project",
            "--disable-rule",
            "kh.openai.service-account",
        ],
    );
    assert_eq!((code, report.findings.len()), (0, 0));
    // And the rule is gone from the list.
    let out = kh()
        .args(["rules", "list", "--disable-rule", "kh.openai.project"])
        .output()
        .unwrap();
    let ids = listed_ids(&out);
    assert!(!ids.iter().any(|i| i == "kh.openai.project"));
    assert_eq!(ids.len(), builtin_counts().0 - 1);
}

#[test]
fn a_user_rule_keyword_is_also_searched_in_base64() {
    let rules = rules_dir(&[("acme.toml", &acme_rule(""))]);
    let token = acme_token(20);
    let text = format!("data:\n  token: {}\n", b64(format!("{token}\n").as_bytes()));
    let dir = tree(&[("secret.yaml", text.as_bytes())]);
    let (code, report) = scan_json(dir.path(), &["--rules", rules.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(secrets(&report), [token]);
    let f = &report.findings[0];
    assert_eq!((f.rule.as_str(), f.line, f.column), ("acme.token", 2, 10));
    assert_eq!(f.decoded, ["base64"]);
}

#[test]
fn a_missing_rules_path_is_an_error_naming_it() {
    let dir = tree(&[("a.txt", b"x")]);
    for args in [
        vec!["rules", "list", "--rules", "no/such/rules"],
        vec!["scan", "--rules", "no/such/rules", "."],
    ] {
        let out = kh().current_dir(dir.path()).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains("no/such/rules"), "{}", stderr(&out));
    }
}

fn sha256_hex(s: &str) -> String {
    keyhound::finding::sha256(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn deny_sha256_in_a_user_rule_suppresses_that_key_and_counts_it_as_a_placeholder() {
    let (denied_by_rule, denied_by_file, kept) = (acme_token(10), acme_token(11), acme_token(12));
    let text = format!(
        "deny_sha256 = [\"{}\"]\n\n{}",
        sha256_hex(&denied_by_file),
        acme_rule(&format!(
            "deny_sha256 = [\"{}\"]\n",
            sha256_hex(&denied_by_rule)
        ))
    );
    let rules = rules_dir(&[("acme.toml", &text)]);
    let rdir = rules.path().to_str().unwrap();
    let out = kh()
        .args(["rules", "check", "--rules", rdir])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let dir = tree(&[(
        "tokens.txt",
        format!("a={denied_by_rule}\nb={denied_by_file}\nc={kept}\n").as_bytes(),
    )]);
    let (code, report) = scan_json(dir.path(), &["--rules", rdir]);
    assert_eq!(code, 1);
    assert_eq!(secrets(&report), [kept]);
    assert_eq!(report.findings[0].line, 3);
    assert_eq!(report.stats.placeholders, 2);
    // Only the denied ones: a clean scan.
    let dir = tree(&[(
        "t.txt",
        format!("{denied_by_rule} {denied_by_file}\n").as_bytes(),
    )]);
    let (code, report) = scan_json(dir.path(), &["--rules", rdir]);
    assert_eq!(
        (code, report.findings.len(), report.stats.placeholders),
        (0, 0, 2)
    );
}
