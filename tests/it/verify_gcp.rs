//! `--verify` of GCP service-account key files against a local stand-in for Google's public
//! certificate list (`--verify-endpoint gcp=…`): no secret is sent, the file's `client_email` is
//! checked and percent-encoded into the path, and the file's `private_key_id` listed or not
//! decides; a malformed email is never sent; retries and one request per distinct key.

use crate::util::make;
use crate::verify_mock::{Mock, Reply, scan_files, status};
use serde_json::{Value, json};

/// A key file of `email` with key id `kid`, and the PEM body's first characters (to look for).
fn key_file(email: &str, kid: &str, seed: u64) -> (String, String) {
    let body = make("{derjson:600}", seed);
    let text = format!(
        "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"demo-proj\",\n  \
         \"private_key_id\": \"{kid}\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{body}\\n\
         -----END PRIVATE KEY-----\\n\",\n  \"client_email\": \"{email}\",\n  \
         \"token_uri\": \"https://oauth2.googleapis.com/token\"\n}}\n"
    );
    (text, body[..40].to_string())
}

/// The verification of the one finding in `path`.
pub fn verdict_in<'a>(report: &'a Value, path: &str) -> &'a Value {
    let found: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"].as_str().is_some_and(|p| p.ends_with(path)))
        .collect();
    assert_eq!(found.len(), 1, "{path}: {report:#}");
    &found[0]["verification"]
}

fn certs(kids: &[&str]) -> Reply {
    let map: serde_json::Map<String, Value> = kids
        .iter()
        .map(|k| {
            (
                k.to_string(),
                json!("-----BEGIN CERTIFICATE-----\nMIIC...\n-----END CERTIFICATE-----\n"),
            )
        })
        .collect();
    Reply::json(200, Value::Object(map))
}

#[test]
fn the_public_certificate_list_decides_and_no_secret_is_sent() {
    let mock = Mock::start();
    let kid = |s| make("{hex:40}", s);
    let (k_live, k_gone, k_acct, k_bad, k_err) = (kid(1), kid(2), kid(3), kid(4), kid(5));
    let other = kid(6);
    let cases = [
        (
            "live.json",
            "bot-live@demo-proj.iam.gserviceaccount.com",
            &k_live,
        ),
        (
            "gone.json",
            "bot-gone@demo-proj.iam.gserviceaccount.com",
            &k_gone,
        ),
        (
            "acct.json",
            "bot-acct@demo-proj.iam.gserviceaccount.com",
            &k_acct,
        ),
        ("bad.json", "bot/../../evil@example.com", &k_bad),
        (
            "err.json",
            "bot-err@demo-proj.iam.gserviceaccount.com",
            &k_err,
        ),
    ];
    let mut files = Vec::new();
    let mut bodies = Vec::new();
    for (i, (path, email, kid)) in cases.iter().enumerate() {
        let (text, body) = key_file(email, kid, 40 + i as u64);
        files.push((path.to_string(), text));
        bodies.push(body);
    }
    mock.answer("bot-live%40", certs(&[&other, &k_live]));
    mock.answer("bot-gone%40", certs(&[&other]));
    mock.answer(
        "bot-acct%40",
        Reply::json(
            404,
            json!({"error": {"code": 404, "message": "Not Found", "status": "NOT_FOUND"}}),
        ),
    );
    mock.answer(
        "bot-err%40",
        Reply::raw(503, "text/html", "<html>unavailable</html>").header("retry-after", "0"),
    );
    let report = scan_files("gcp", &mock, &files, &[]);
    let want: [(&str, Option<&str>); 5] = [
        ("live", None),
        ("dead", Some("key deleted")),
        ("dead", Some("service account deleted")),
        (
            "not_checked",
            Some("no service-account client_email and private_key_id next to the key"),
        ),
        ("unknown", Some("HTTP 503 (after 3 attempts)")),
    ];
    for ((path, ..), (st, reason)) in cases.iter().zip(want) {
        let v = verdict_in(&report, path);
        assert_eq!(status(v), (Some(st), reason), "{path}: {v:#}");
        if st != "not_checked" {
            assert_eq!(v["request"]["method"], "GET");
            assert_eq!(
                v["request"]["path"],
                "/robot/v1/metadata/x509/{client_email}"
            );
        }
    }
    let sent = mock.requests();
    assert_eq!(sent.len(), 1 + 1 + 1 + 3, "{sent:#?}");
    for req in &sent {
        assert_eq!(req.method, "GET");
        assert!(
            req.target.starts_with("/robot/v1/metadata/x509/bot-"),
            "{}",
            req.target
        );
        assert!(
            req.target.ends_with("%40demo-proj.iam.gserviceaccount.com"),
            "{}",
            req.target
        );
        assert!(req.header("authorization").is_none());
        for secret in bodies
            .iter()
            .map(String::as_str)
            .chain([k_live.as_str(), k_gone.as_str()])
        {
            assert!(!req.carries(secret), "a secret was sent: {req:?}");
        }
    }
    assert!(mock.requests_with("evil").is_empty());
}

#[test]
fn one_request_per_key_file() {
    let mock = Mock::start();
    let kid = make("{hex:40}", 11);
    let (text, _) = key_file("bot-twice@demo-proj.iam.gserviceaccount.com", &kid, 12);
    mock.answer("bot-twice%40", certs(&[&kid]));
    let files = vec![
        ("a.json".to_string(), text.clone()),
        ("b.json".to_string(), text),
    ];
    let report = scan_files("gcp", &mock, &files, &[]);
    assert_eq!(status(verdict_in(&report, "a.json")).0, Some("live"));
    assert_eq!(status(verdict_in(&report, "b.json")).0, Some("live"));
    assert_eq!(mock.requests().len(), 1);
}
