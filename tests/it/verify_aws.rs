//! `--verify` of AWS keys against a local stand-in for STS (`--verify-endpoint aws=…`):
//! GetCallerIdentity signed with SigV4 for sts.amazonaws.com (checked by re-signing what the
//! server received), every answer STS documents in its XML bodies, canary key ids never sent,
//! temporary keys with and without their session token, lone key ids, one request per distinct
//! key, `keyhound verify` on standard input, redirects, nothing sent without `--verify`, and a
//! cache that tells a key id's secrets apart.

use crate::util::{make, tree_owned};
use crate::verify_mock::{Mock, Reply, hound, hound_cached, scan_files, status, verdict_of};
use keyhound::verify::sigv4;
use serde_json::Value;

const BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// An AWS key id of the current format encoding `account` (AKIAQ… to AKIA7…).
fn key_id_for(account: u64, seed: u8) -> String {
    let z: u64 = (1 << 47) | (account << 7) | 0x1;
    let mut bytes = [0u8; 10];
    for (i, slot) in bytes.iter_mut().take(6).enumerate() {
        *slot = (z >> (8 * (5 - i))) as u8;
    }
    bytes[6..].copy_from_slice(&[0x5a ^ seed, 0x3c, 0x96 ^ seed, 0x0f]);
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let bits = bytes
        .iter()
        .fold(0u128, |acc, &b| (acc << 8) | u128::from(b));
    let body: String = (0..16)
        .map(|i| alphabet[((bits >> (75 - 5 * i)) & 31) as usize] as char)
        .collect();
    format!("AKIA{body}")
}

/// A key id with the Q-to-7 first letter of the current format and a random body.
fn key_id(seed: u64) -> String {
    format!(
        "AKIA{}{}",
        ["Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z"][seed as usize % 10],
        make("{upper:15}", seed)
    )
}

fn secret(seed: u64) -> String {
    make("{b64:40}", seed)
}

fn pair_file(id: &str, secret: &str) -> String {
    format!("[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n")
}

fn error_xml(code: &str, message: &str) -> Reply {
    let body = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    \
         <Type>Sender</Type>\n    <Code>{code}</Code>\n    <Message>{message}</Message>\n  \
         </Error>\n  <RequestId>9f7b3c2e-1a2b-4c5d-8e9f-0a1b2c3d4e5f</RequestId>\n</ErrorResponse>\n"
    );
    Reply::raw(403, "text/xml", &body)
        .header("x-amzn-requestid", "9f7b3c2e-1a2b-4c5d-8e9f-0a1b2c3d4e5f")
}

fn with_status(mut r: Reply, status: u16) -> Reply {
    r.status = status;
    r
}

fn identity_xml(account: &str, user: &str) -> Reply {
    let body = format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  \
         <GetCallerIdentityResult>\n    <Arn>arn:aws:iam::{account}:user/{user}</Arn>\n    \
         <UserId>AIDAEXAMPLEUSERID0001</UserId>\n    <Account>{account}</Account>\n  \
         </GetCallerIdentityResult>\n  <ResponseMetadata>\n    \
         <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>\n  </ResponseMetadata>\n\
         </GetCallerIdentityResponse>\n"
    );
    Reply::raw(200, "text/xml", &body)
        .header("x-amzn-requestid", "01234567-89ab-cdef-0123-456789abcdef")
}

/// Checks that `req` is GetCallerIdentity signed by `id` and `secret` for sts.amazonaws.com:
/// the signature is made again from what the server received, with the real host.
fn assert_signed(req: &crate::verify_mock::Request, id: &str, secret: &str, token: Option<&str>) {
    assert_eq!((req.method.as_str(), req.target.as_str()), ("POST", "/"));
    assert_eq!(req.body, BODY);
    assert_eq!(req.header("content-type"), Some(CONTENT_TYPE));
    assert!(!req.carries(secret), "the secret was sent: {req:?}");
    assert_eq!(req.header("x-amz-security-token"), token);
    let date = req.header("x-amz-date").expect("x-amz-date");
    let mut signed = vec![("content-type", CONTENT_TYPE)];
    if let Some(t) = token {
        signed.push(("x-amz-security-token", t));
    }
    let want = sigv4::authorization(
        &sigv4::Request {
            method: "POST",
            host: "sts.amazonaws.com",
            path: "/",
            headers: &signed,
            body: BODY,
            region: "us-east-1",
            service: "sts",
            amz_date: date,
        },
        id,
        secret,
    );
    assert_eq!(req.header("authorization"), Some(want.as_str()));
    let scope = format!("Credential={id}/{}/us-east-1/sts/aws4_request", &date[..8]);
    assert!(want.contains(&scope), "{want}");
}

#[test]
fn sts_every_answer_from_its_xml() {
    let mock = Mock::start();
    let rows: Vec<(Reply, &str, Option<&str>, usize)> = vec![
        (identity_xml("123456789012", "deploy"), "live", None, 1),
        (
            error_xml(
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            ),
            "dead",
            Some("revoked or never valid"),
            1,
        ),
        (
            error_xml(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            ),
            "unknown",
            Some("the key id exists, but the secret next to it is not its own"),
            1,
        ),
        (
            with_status(
                error_xml(
                    "ExpiredToken",
                    "The security token included in the request is expired",
                ),
                400,
            ),
            "dead",
            Some("expired"),
            1,
        ),
        (
            with_status(error_xml("Throttling", "Rate exceeded"), 400).header("retry-after", "0"),
            "unknown",
            Some("rate limited (after 3 attempts)"),
            3,
        ),
        (
            with_status(error_xml("InternalFailure", "internal"), 500).header("retry-after", "0"),
            "unknown",
            Some("HTTP 500 (after 3 attempts)"),
            3,
        ),
        (
            Reply::raw(200, "text/html", "<html><body>captive portal</body></html>"),
            "unknown",
            Some("unexpected answer: HTTP 200"),
            1,
        ),
    ];
    let keys: Vec<(String, String)> = (0..rows.len() as u64)
        .map(|i| (key_id(900 + i), secret(950 + i)))
        .collect();
    let files: Vec<(String, String)> = keys
        .iter()
        .enumerate()
        .map(|(i, (id, s))| (format!("c{i}.ini"), pair_file(id, s)))
        .collect();
    for ((id, _), (reply, ..)) in keys.iter().zip(&rows) {
        mock.answer(id, reply.clone());
    }
    let report = scan_files("aws", &mock, &files, &[]);
    for ((id, s), (_, want, reason, count)) in keys.iter().zip(&rows) {
        let v = verdict_of(&report, id);
        assert_eq!(status(v), (Some(*want), *reason), "{v:#}");
        assert_eq!(v["request"]["method"], "POST");
        assert_eq!(v["request"]["path"], "/");
        let sent = mock.requests_with(id);
        assert_eq!(sent.len(), *count, "{id}");
        for req in &sent {
            assert_signed(req, id, s, None);
        }
    }
    let live = verdict_of(&report, &keys[0].0);
    assert_eq!(
        live["owner"]["arn"],
        "arn:aws:iam::123456789012:user/deploy"
    );
    assert_eq!(live["owner"]["account"], "123456789012");
    assert_eq!(
        live["request"]["request_id"],
        "01234567-89ab-cdef-0123-456789abcdef"
    );
    let dead = verdict_of(&report, &keys[1].0);
    assert_eq!(dead["request"]["error_code"], "InvalidClientTokenId");
    assert_eq!(dead["request"]["status"], 403);
    assert!(dead.get("owner").is_none_or(Value::is_null));
}

#[test]
fn canary_key_ids_are_never_sent() {
    let mock = Mock::start();
    let canary = key_id_for(171_436_882_533, 1);
    let knockoff = key_id_for(44_858_866_125, 2);
    let ordinary = key_id_for(123_456_789_012, 3);
    let files: Vec<(String, String)> = [&canary, &knockoff, &ordinary]
        .iter()
        .enumerate()
        .map(|(i, id)| (format!("k{i}.ini"), pair_file(id, &secret(70 + i as u64))))
        .collect();
    mock.answer(&ordinary, identity_xml("123456789012", "ci"));
    let report = scan_files("aws", &mock, &files, &[]);
    for id in [&canary, &knockoff] {
        let v = verdict_of(&report, id);
        assert_eq!(
            status(v),
            (Some("not_checked"), Some("canary token")),
            "{v:#}"
        );
        assert!(mock.requests_with(id).is_empty(), "a canary was sent");
    }
    assert_eq!(status(verdict_of(&report, &ordinary)).0, Some("live"));
    assert_eq!(mock.requests().len(), 1);
}

#[test]
fn temporary_keys_need_their_session_token() {
    let mock = Mock::start();
    let bare = format!("ASIA{}", make("{upper:16}", 31));
    let with = format!("ASIA{}", make("{upper:16}", 32));
    let token = make("{b64:360}", 33);
    let (s1, s2) = (secret(34), secret(35));
    let files = vec![
        ("bare.ini".to_string(), pair_file(&bare, &s1)),
        (
            "with.ini".to_string(),
            format!("{}aws_session_token = {token}\n", pair_file(&with, &s2)),
        ),
    ];
    mock.answer(&with, identity_xml("210987654321", "assumed"));
    let report = scan_files("aws", &mock, &files, &[]);
    let v = verdict_of(&report, &bare);
    assert_eq!(status(v).0, Some("unknown"));
    assert!(status(v).1.unwrap().contains("session token"), "{v:#}");
    assert!(mock.requests_with(&bare).is_empty());
    assert_eq!(status(verdict_of(&report, &with)).0, Some("live"));
    let sent = mock.requests_with(&with);
    assert_eq!(sent.len(), 1);
    assert_signed(&sent[0], &with, &s2, Some(&token));
    assert!(
        !format!("{report}").contains(&token),
        "the session token is reported"
    );
}

#[test]
fn a_lone_key_id_is_not_checked_and_each_key_is_asked_once() {
    let mock = Mock::start();
    let lone = key_id(41);
    let twice = key_id(42);
    let s = secret(43);
    let files = vec![
        ("lone.txt".to_string(), format!("id: {lone}\n")),
        // The same id first without its secret, then with it, then again: one request, signed.
        ("a.txt".to_string(), format!("id: {twice}\n")),
        ("b.ini".to_string(), pair_file(&twice, &s)),
        ("c.ini".to_string(), pair_file(&twice, &s)),
    ];
    mock.answer(&twice, error_xml("InvalidClientTokenId", "invalid"));
    let report = scan_files("aws", &mock, &files, &[]);
    let v = verdict_of(&report, &lone);
    assert_eq!(status(v).0, Some("not_checked"), "{v:#}");
    assert_eq!(status(verdict_of(&report, &twice)).0, Some("dead"));
    assert_eq!(mock.requests().len(), 1);
    assert_signed(&mock.requests()[0], &twice, &s, None);
    assert_eq!(report["stats"]["verification"]["requests"], 1);
}

#[test]
fn nothing_is_sent_without_verify() {
    let mock = Mock::start();
    let id = key_id(51);
    let dir = tree_owned(&[(
        "c.ini".to_string(),
        pair_file(&id, &secret(52)).into_bytes(),
    )]);
    let args = [
        "scan",
        "--format",
        "json",
        "--verify-endpoint",
        &format!("aws={}", mock.origin()),
        ".",
    ]
    .map(String::from);
    let (code, _, stderr) = hound(dir.path(), &args, None);
    assert!(code == 1 || code == 2, "{stderr}");
    assert!(mock.requests().is_empty());
}

#[test]
fn keyhound_verify_reads_an_aws_pair_on_stdin() {
    let mock = Mock::start();
    let id = key_id(61);
    let s = secret(62);
    mock.answer(&id, identity_xml("123456789012", "stdin"));
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "verify",
        "--format",
        "json",
        "--show-secrets",
        "--verify-endpoint",
        &format!("aws={}", mock.origin()),
    ]
    .map(String::from);
    let (code, stdout, stderr) = hound(dir.path(), &args, Some(&format!("{id} {s}\n")));
    assert_eq!(code, 1, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(status(verdict_of(&report, &id)).0, Some("live"));
    assert_eq!(mock.requests().len(), 1);
}

#[test]
fn a_redirect_is_not_followed_with_the_signature() {
    let mock = Mock::start();
    let elsewhere = Mock::start();
    let id = key_id(71);
    mock.answer(
        &id,
        Reply::raw(307, "text/plain", "").header("location", &format!("{}/", elsewhere.origin())),
    );
    let report = scan_files(
        "aws",
        &mock,
        &[("c.ini".into(), pair_file(&id, &secret(72)))],
        &[],
    );
    let v = verdict_of(&report, &id);
    assert_eq!(
        status(v),
        (Some("unknown"), Some("unexpected answer: HTTP 307"))
    );
    assert_eq!(mock.requests().len(), 1);
    assert!(elsewhere.requests().is_empty());
}

/// The cache's entry of an AWS key hashes the id with its secret (and session token): a second
/// secret found with a key id already found dead is asked about on its own, not given `dead`.
#[test]
fn the_cache_keeps_each_secret_of_a_key_id_apart() {
    let mock = Mock::start();
    let cache = tempfile::tempdir().unwrap();
    let id = key_id(71);
    let (old, new) = (secret(72), secret(73));
    let run = |s: &str| {
        let dir = tree_owned(&[("c.ini".to_string(), pair_file(&id, s).into_bytes())]);
        let args = [
            "scan",
            "--format",
            "json",
            "--show-secrets",
            "--verify",
            "--verify-endpoint",
            &format!("aws={}", mock.origin()),
            ".",
        ]
        .map(String::from);
        let (code, stdout, stderr) = hound_cached(dir.path(), &args, None, cache.path());
        assert!(code == 0 || code == 1, "{stderr}");
        let report: Value = serde_json::from_str(&stdout).unwrap();
        let v = verdict_of(&report, &id).clone();
        (status(&v).0.map(String::from), v["cached"].as_bool())
    };
    mock.answer(&id, error_xml("InvalidClientTokenId", "invalid"));
    assert_eq!(run(&old), (Some("dead".into()), Some(false)));
    assert_eq!(
        run(&old),
        (Some("dead".into()), Some(true)),
        "the same pair is cached"
    );
    assert_eq!(mock.requests().len(), 1);
    mock.answer(&id, identity_xml("123456789012", "rotated"));
    assert_eq!(run(&new), (Some("live".into()), Some(false)));
    assert_eq!(mock.requests().len(), 2);
    assert_signed(&mock.requests()[1], &id, &new, None);
    for entry in std::fs::read_dir(cache.path()).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        assert!(!text.contains(&id) && !text.contains(&new) && !text.contains(&old));
    }
}
