//! AWS access keys (issue 16): a key id with its secret access key within 5 lines is one finding
//! at the id, the secret in `paired_secret` (redacted like any key), with the pair's severity;
//! the id alone is a finding of lower severity; a secret alone is never a finding; the
//! fingerprint is over the id. Keys are made from templates at run time.

use crate::util::*;

const ID: &str = "AKIA{upper:16}";
const SECRET: &str = "{b64:40}";

fn scan_text(text: &str, args: &[&str]) -> (i32, Report, serde_json::Value) {
    let dir = tree(&[("creds", text.as_bytes())]);
    let out = kh()
        .current_dir(dir.path())
        .args(["scan", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    check_schema(&doc, None);
    let report: Report = serde_json::from_value(doc.clone()).unwrap();
    (out.status.code().unwrap(), report, doc)
}

#[test]
fn an_id_with_its_secret_within_five_lines_is_one_finding_at_the_id() {
    let (id, secret) = (make(ID, 1), make(SECRET, 2));
    let (_, alone, _) = scan_text(&format!("{id}\n"), &["--show-secrets"]);
    let layouts = [
        format!("[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"),
        format!("AWS_SECRET_ACCESS_KEY={secret}\n\n\n\n\nAWS_ACCESS_KEY_ID={id}\n"),
        format!("{{\"AccessKeyId\": \"{id}\",\n\"SecretAccessKey\": \"{secret}\"}}\n"),
        format!("creds = ('{id}', '{secret}')\n"),
    ];
    for text in &layouts {
        let (code, report, _) = scan_text(text, &["--show-secrets"]);
        assert_eq!(code, 1, "{text}");
        assert_eq!(report.findings.len(), 1, "{text}");
        let f = &report.findings[0];
        assert_eq!(f.rule, "kh.aws.access-key");
        assert_eq!(f.secret, id, "{text}");
        assert_eq!(f.paired_secret.as_deref(), Some(secret.as_str()), "{text}");
        assert_eq!(f.severity, 9.0);
        assert_eq!(f.fingerprint, alone.findings[0].fingerprint, "over the id");
        let id_line = text.lines().position(|l| l.contains(&id)).unwrap() as u64 + 1;
        assert_eq!(f.line, id_line);
    }
}

#[test]
fn the_paired_secret_is_redacted_in_the_report_and_in_every_context() {
    let (id, secret) = (make(ID, 3), make(SECRET, 4));
    let text = format!("k {id} s {secret} tail\nnext {secret}\n");
    let (_, report, doc) = scan_text(&text, &[]);
    let tail = &secret[36..];
    assert_eq!(report.findings.len(), 1);
    let f = &report.findings[0];
    assert_eq!(
        f.paired_secret.as_deref(),
        Some(format!("…{tail}").as_str())
    );
    assert_eq!(f.context, format!("k AKIA…{} s …{tail}", &id[16..]));
    // Cut by the context's edge, the secret is still redacted, never shown in part.
    let wide = format!("{id}{}{secret}\n", " ".repeat(30));
    let (_, report, _) = scan_text(&wide, &[]);
    assert_eq!(report.findings[0].context.matches('…').count(), 2);
    let all = doc.to_string();
    assert!(!all.contains(&secret[..10]) && !all.contains(&id[4..]));
    // JSON lines carries it too, redacted.
    let dir = tree(&[("creds", text.as_bytes())]);
    let out = kh()
        .current_dir(dir.path())
        .args(["scan", "--format", "jsonl"])
        .output()
        .unwrap();
    let first: serde_json::Value =
        serde_json::from_slice(out.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    check_schema(&first, Some("jsonlFinding"));
    assert_eq!(first["paired_secret"], format!("…{tail}"));
}

#[test]
fn an_id_alone_is_a_finding_of_lower_severity_without_a_pair() {
    let (id, secret) = (make(ID, 5), make(SECRET, 6));
    // The secret six lines away is too far.
    let text = format!("AWS_ACCESS_KEY_ID={id}\n\n\n\n\n\nAWS_SECRET_ACCESS_KEY={secret}\n");
    let (code, report, doc) = scan_text(&text, &[]);
    assert_eq!(code, 1);
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].paired_secret, None);
    assert_eq!(report.findings[0].severity, 6.0);
    assert!(doc["findings"][0].get("paired_secret").is_none());
    let session = make("ASIA{upper:16}", 7);
    let (_, report, _) = scan_text(&format!("{session}\n"), &[]);
    let (_, paired, _) = scan_text(&format!("{session}\n{secret}\n"), &[]);
    assert_eq!(report.findings[0].severity, 5.0);
    assert_eq!(paired.findings[0].severity, 8.0);
}

#[test]
fn a_secret_alone_is_never_a_finding() {
    let secret = make(SECRET, 8);
    let text = format!("aws_secret_access_key = {secret}\nAWS_SECRET_ACCESS_KEY={secret}\n");
    let (code, report, _) = scan_text(&text, &[]);
    assert_eq!((code, report.findings.len()), (0, 0));
    assert_eq!(report.stats.placeholders, 0);
}

#[test]
fn digests_partial_strings_and_documented_secrets_are_not_paired() {
    let id = make(ID, 9);
    let documented = ["wJalrXUtnFEMI/K7MDENG/bPxRfiCY", "EXAMPLEKEY"].concat();
    let not_secrets = [
        make("{hex:40}", 10),
        format!("{}x", make(SECRET, 11)),
        format!("={}", make(SECRET, 12)).replace('=', "+"),
        make("{repeat:a:20}{b64:20}", 13),
        make("{letters:40}", 14),
        documented,
    ];
    for other in &not_secrets {
        let text = format!("id={id}\nsecret={other}\n");
        let (code, report, _) = scan_text(&text, &["--show-secrets"]);
        assert_eq!(code, 1);
        assert_eq!(report.findings[0].paired_secret, None, "{other}");
        assert_eq!(report.findings[0].severity, 6.0);
    }
}

#[test]
fn the_nearest_secret_is_the_pair() {
    let (id, near, far) = (make(ID, 15), make(SECRET, 16), make(SECRET, 17));
    let text = format!("a={far}\n\nid={id}\nb={near}\n");
    let (_, report, _) = scan_text(&text, &["--show-secrets"]);
    assert_eq!(
        report.findings[0].paired_secret.as_deref(),
        Some(near.as_str())
    );
}
