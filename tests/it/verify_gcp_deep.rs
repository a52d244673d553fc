//! `--verify-deep` of GCP service-account key files against a local stand-in for Google
//! (`--verify-endpoint gcp=…` replaces the host of both steps): after the public certificate
//! list has the key id, a jwt-bearer token request whose JWT the stand-in checks as Google would
//! (the RS256 signature with the account's public key, iss, aud, scope, iat and exp), posted to
//! `/token` whatever the file's `token_uri` says; every answer Google documents and its verdict;
//! the private key never sent; one verification per key, cached; nothing posted without the flag.

use crate::util::{make, tree_owned};
use crate::verify_gcp::verdict_in;
use crate::verify_mock::{Mock, Reply, Request, hound, hound_cached, status};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_2048_8192_SHA256, RsaKeyPair, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const GRANT: &str = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform.read-only";
const AUD: &str = "https://oauth2.googleapis.com/token";

/// A service account's key: made at test time, never committed.
struct Account {
    email: String,
    kid: String,
    /// The PEM body's base64 (one line), to look for in what is sent.
    b64: String,
    /// The key file, its `token_uri` naming another host.
    file: String,
    public: Vec<u8>,
}

fn account(name: &str, seed: u64) -> Account {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let der = AsDer::<Pkcs8V1Der>::as_der(&pair).unwrap();
    let b64 = STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let email = format!("{name}@demo-proj.iam.gserviceaccount.com");
    let kid = make("{hex:40}", seed);
    let file = format!(
        "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"demo-proj\",\n  \
         \"private_key_id\": \"{kid}\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{}\\n\
         -----END PRIVATE KEY-----\\n\",\n  \"client_email\": \"{email}\",\n  \
         \"token_uri\": \"https://token.evil.example/token\"\n}}\n",
        lines.join("\\n")
    );
    Account {
        email,
        kid,
        b64,
        file,
        public: pair.public_key().as_ref().to_vec(),
    }
}

fn certs(kids: &[&str]) -> Reply {
    let map: serde_json::Map<String, Value> = kids
        .iter()
        .map(|k| (k.to_string(), json!("-----BEGIN CERTIFICATE-----\nMIIC\n")))
        .collect();
    Reply::json(200, Value::Object(map))
}

fn grant_error(status: u16, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": error, "error_description": description}),
    )
}

/// What the stand-in token host found wrong in the requests it was sent.
type Faults = Arc<Mutex<Vec<String>>>;

/// The stand-in's `/token`: checks the grant as Google does, then answers by the issuer. A JWT
/// whose signature does not verify with the public key on record for its `kid` gets Google's
/// `Invalid JWT Signature.`; anything else wrong is recorded in the faults.
fn token_host(
    mock: &Mock,
    keys: HashMap<String, Vec<u8>>,
    replies: HashMap<String, Reply>,
) -> Faults {
    let faults: Faults = Arc::default();
    let found = faults.clone();
    mock.respond(move |req| {
        if req.method != "POST" {
            return None;
        }
        let fault = |why: String| {
            found.lock().unwrap().push(why);
            Some(Reply::json(418, json!({"error": "fault"})))
        };
        if req.target != "/token"
            || req.header("content-type") != Some("application/x-www-form-urlencoded")
            || req.header("authorization").is_some()
        {
            return fault(format!("not a token request: {req:?}"));
        }
        let Some(jwt) = req
            .body
            .strip_prefix(&format!("grant_type={GRANT}&assertion="))
        else {
            return fault(format!("body: {}", req.body));
        };
        let parts: Vec<&str> = jwt.split('.').collect();
        let json = |i: usize| -> Value {
            let bytes = URL_SAFE_NO_PAD.decode(parts[i]).unwrap_or_default();
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        if parts.len() != 3 {
            return fault(format!("not a JWT: {jwt}"));
        }
        let (header, claims) = (json(0), json(1));
        let kid = header["kid"].as_str().unwrap_or_default();
        if header["alg"] != "RS256" || header["typ"] != "JWT" || !keys.contains_key(kid) {
            return fault(format!("header: {header}"));
        }
        let signed = format!("{}.{}", parts[0], parts[1]);
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap_or_default();
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &keys[kid]);
        if public.verify(signed.as_bytes(), &signature).is_err() {
            return Some(grant_error(400, "invalid_grant", "Invalid JWT Signature."));
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let (iat, exp) = (claims["iat"].as_i64(), claims["exp"].as_i64());
        let timely = iat.is_some_and(|t| (t - now).abs() < 300)
            && exp.zip(iat).is_some_and(|(e, i)| e - i == 3600);
        if claims["aud"] != AUD || claims["scope"] != SCOPE || !timely {
            return fault(format!("claims: {claims}"));
        }
        let iss = claims["iss"].as_str().unwrap_or_default();
        Some(
            replies.get(iss).cloned().unwrap_or_else(|| {
                Reply::json(418, json!({"error": format!("no script for {iss}")}))
            }),
        )
    });
    faults
}

/// `scan --verify [--verify-deep]` of `files` against `mock`, with the cache in `cache`.
fn scan(mock: &Mock, files: &[(String, String)], deep: bool, cache: &std::path::Path) -> Value {
    let files: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(p, t)| (p.clone(), t.clone().into_bytes()))
        .collect();
    let dir = tree_owned(&files);
    let mut args: Vec<String> = [
        "scan",
        "--format",
        "json",
        "--verify",
        "--verify-endpoint",
        &format!("gcp={}", mock.origin()),
    ]
    .map(String::from)
    .to_vec();
    if deep {
        args.push("--verify-deep".into());
    }
    args.push(".".into());
    let (code, stdout, stderr) = hound_cached(dir.path(), &args, None, cache);
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    crate::util::check_schema(&report, None);
    report
}

/// Whether `req` carries any part of the private key (any 24 characters of its base64).
fn leaks_key(req: &Request, b64: &str) -> bool {
    b64.as_bytes()
        .chunks(24)
        .filter(|c| c.len() == 24)
        .any(|c| req.carries(std::str::from_utf8(c).unwrap()))
}

#[test]
fn the_token_exchange_decides_and_the_private_key_never_leaves() {
    let mock = Mock::start();
    let names = [
        "live", "mismatch", "gone", "disabled", "skew", "busy", "limited", "deleted",
    ];
    let accounts: Vec<Account> = names
        .iter()
        .enumerate()
        .map(|(i, n)| account(&format!("bot-{n}"), 300 + i as u64))
        .collect();
    let by = |n: &str| &accounts[names.iter().position(|x| *x == n).unwrap()];
    let mut keys: HashMap<String, Vec<u8>> = accounts
        .iter()
        .map(|a| (a.kid.clone(), a.public.clone()))
        .collect();
    // Google has another public key on record for this key id than the file's private key's.
    keys.insert(by("mismatch").kid.clone(), account("other", 399).public);
    let access_token = format!("ya29.{}", make("{b64url:120}", 398));
    let replies = google_answers(&|n| by(n).email.clone(), &access_token);
    let faults = token_host(&mock, keys, replies);
    for a in &accounts {
        let listed = if a.email.starts_with("bot-deleted@") {
            certs(&[])
        } else {
            certs(&[&a.kid])
        };
        mock.answer(
            &format!("{}%40", a.email.split('@').next().unwrap()),
            listed,
        );
    }
    let files: Vec<(String, String)> = names
        .iter()
        .zip(&accounts)
        .map(|(n, a)| (format!("{n}.json"), a.file.clone()))
        .collect();
    let cache = tempfile::tempdir().unwrap();
    let report = scan(&mock, &files, true, cache.path());
    assert!(
        faults.lock().unwrap().is_empty(),
        "{:#?}",
        faults.lock().unwrap()
    );
    check_verdicts(&report, &mock, &names, &accounts);
    let sent = mock.requests();
    let gets = sent.iter().filter(|r| r.method == "GET").count();
    assert_eq!(gets, names.len(), "one certificate list per key file");
    assert_eq!(sent.len(), names.len() + 1 + 1 + 1 + 1 + 1 + 3 + 3);
    assert_eq!(
        report["stats"]["verification"]["requests"],
        json!(sent.len())
    );
    for req in &sent {
        for a in &accounts {
            assert!(!leaks_key(req, &a.b64), "the private key was sent: {req:?}");
        }
        assert!(!req.carries("token.evil.example"));
    }
    let text = report.to_string();
    assert!(!text.contains(&access_token), "the token is reported");
}

/// Google's token answers, each for the account named (by `email`).
fn google_answers(email: &dyn Fn(&str) -> String, access_token: &str) -> HashMap<String, Reply> {
    let skew = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable \
                timeframe. Check your iat and exp values in the JWT claim.";
    let mut replies: HashMap<String, Reply> = HashMap::new();
    let mut script = |n: &str, r: Reply| replies.insert(email(n), r);
    script(
        "live",
        Reply::json(
            200,
            json!({"access_token": access_token, "expires_in": 3599, "token_type": "Bearer"}),
        ),
    );
    script(
        "gone",
        grant_error(400, "invalid_grant", "Invalid grant: account not found"),
    );
    script(
        "disabled",
        grant_error(400, "invalid_grant", "Robot is disabled."),
    );
    script("skew", grant_error(400, "invalid_grant", skew));
    script(
        "busy",
        Reply::raw(503, "text/html", "<html>unavailable</html>").header("retry-after", "0"),
    );
    script(
        "limited",
        Reply::json(429, json!({"error": "rate_limit_exceeded"})).header("retry-after", "0"),
    );
    replies
}

/// Each account's verdict, and how many token requests it took.
fn check_verdicts(report: &Value, mock: &Mock, names: &[&str], accounts: &[Account]) {
    let want: [(&str, Option<&str>, usize); 8] = [
        ("live", None, 1),
        ("dead", Some("key deleted, or not this account's"), 1),
        ("dead", Some("service account deleted"), 1),
        ("dead", Some("service account disabled"), 1),
        ("unknown", Some("unexpected answer: HTTP 400"), 1),
        ("unknown", Some("HTTP 503 (after 3 attempts)"), 3),
        (
            "unknown",
            Some("rate limited (HTTP 429) (after 3 attempts)"),
            3,
        ),
        ("dead", Some("key deleted"), 0),
    ];
    for ((n, a), (st, reason, posts)) in names.iter().zip(accounts).zip(want) {
        let v = verdict_in(report, &format!("{n}.json"));
        assert_eq!(status(v), (Some(st), reason), "{n}: {v:#}");
        let sent = mock.requests();
        let posted: Vec<&Request> = sent
            .iter()
            .filter(|r| {
                r.method == "POST" && {
                    let jwt = r.body.rsplit('=').next().unwrap_or_default();
                    let claims = jwt.split('.').nth(1).unwrap_or_default();
                    let claims = URL_SAFE_NO_PAD.decode(claims).unwrap_or_default();
                    String::from_utf8_lossy(&claims).contains(&a.email)
                }
            })
            .collect();
        assert_eq!(posted.len(), posts, "{n}");
        if posts > 0 {
            assert_eq!(v["request"]["method"], "POST", "{n}: {v:#}");
            assert_eq!(v["request"]["path"], "/token", "{n}: {v:#}");
        }
    }
    assert_eq!(
        verdict_in(report, "gone.json")["request"]["error_code"],
        "invalid_grant"
    );
}

#[test]
fn the_deep_step_is_asked_for_only_with_verify_deep_and_is_cached() {
    let mock = Mock::start();
    let a = account("bot-once", 410);
    let faults = token_host(
        &mock,
        HashMap::from([(a.kid.clone(), a.public.clone())]),
        HashMap::from([(
            a.email.clone(),
            Reply::json(200, json!({"access_token": "ya29.x", "expires_in": 3599})),
        )]),
    );
    mock.answer("bot-once%40", certs(&[&a.kid]));
    let files = vec![
        ("a.json".to_string(), a.file.clone()),
        ("b.json".to_string(), a.file.clone()),
    ];
    let cache = tempfile::tempdir().unwrap();
    let shallow = scan(&mock, &files, false, cache.path());
    assert_eq!(status(verdict_in(&shallow, "a.json")).0, Some("live"));
    assert_eq!(
        mock.requests().len(),
        1,
        "no token asked for without --verify-deep"
    );
    // The first run's cached live verdict (the key id is listed) does not answer a deep run.
    let deep = scan(&mock, &files, true, cache.path());
    let v = verdict_in(&deep, "b.json");
    assert_eq!(
        (status(v).0, v["cached"].as_bool()),
        (Some("live"), Some(false))
    );
    assert_eq!(v["request"]["path"], "/token");
    assert_eq!(
        deep["stats"]["verification"]["requests"], 2,
        "two steps, one verification"
    );
    let again = scan(&mock, &files, true, cache.path());
    let v = verdict_in(&again, "a.json");
    assert_eq!(
        (status(v).0, v["cached"].as_bool()),
        (Some("live"), Some(true))
    );
    assert_eq!(mock.requests().len(), 3);
    assert!(faults.lock().unwrap().is_empty());
}

#[test]
fn verify_deep_without_verify_is_a_usage_error() {
    let mock = Mock::start();
    let a = account("bot-usage", 420);
    let dir = tree_owned(&[("k.json".to_string(), a.file.into_bytes())]);
    let args = ["scan", "--verify-deep", "--format", "json", "."].map(String::from);
    let (code, _, stderr) = hound(dir.path(), &args, None);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--verify-deep needs --verify"), "{stderr}");
    assert!(mock.requests().is_empty());
}
