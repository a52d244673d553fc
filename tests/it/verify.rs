//! `--verify` and `keyhound verify` against a local stand-in for the OpenAI API (`server`), never
//! the internet: the verdict of every answer the real API gives, one request per distinct key,
//! the headers sent and not sent, where keys may go, retries and their pacing (with an injected
//! clock), the cache between runs, `--only-live`, `--fail-on`, and the report formats.

mod server;

use crate::util::{Report, check_schema, kh, make, project_key, tree};
use assert_cmd::Command;
use keyhound::secret::Secret;
use keyhound::verify::clock::Clock;
use keyhound::verify::endpoint::BaseUrl;
use keyhound::verify::http::{HttpTransport, Timeouts};
use keyhound::verify::openai::{OpenAi, Verifier};
use keyhound::verify::retry::RetryPolicy;
use keyhound::verify::{self, CacheConfig, Candidate, Status, VerifyConfig};
use serde_json::Value;
use server::{Reply, Server};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

const ADMIN: &str = "sk-admin-{b64url:58}T3BlbkFJ{b64url:58}";

fn admin_key(seed: u64) -> String {
    make(ADMIN, seed)
}

/// `keyhound` with its cache in `cache` and no proxy from the environment.
fn hound(cache: &Path) -> Command {
    let mut cmd = kh();
    cmd.env("KEYHOUND_CACHE_DIR", cache);
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "OPENAI_BASE_URL",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// What one run gave.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn report(&self) -> Report {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("bad JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        })
    }
}

fn run(mut cmd: Command) -> Run {
    let out = cmd.output().expect("keyhound runs");
    Run {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 report"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `keyhound scan --verify --openai-base-url <server> ARGS .` in `dir`, whole keys shown.
fn scan(server: &Server, cache: &Path, dir: &Path, args: &[&str]) -> Run {
    let mut cmd = hound(cache);
    cmd.current_dir(dir)
        .args(["scan", "--show-secrets", "--verify", "--openai-base-url"])
        .arg(server.base_url())
        .args(args)
        .arg(".");
    run(cmd)
}

/// As `scan`, as JSON: (exit code, report).
fn scan_json(server: &Server, cache: &Path, dir: &Path, args: &[&str]) -> (i32, Report) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let r = scan(server, cache, dir, &all);
    let report = r.report();
    check_schema(&serde_json::from_str(&r.stdout).expect("JSON"), None);
    (r.code, report)
}

/// A directory with `keys`, one a line, in `keys.env`.
fn fixture(keys: &[&str]) -> tempfile::TempDir {
    let text: String = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("KEY_{i}={k}\n"))
        .collect();
    tree(&[("keys.env", text.as_bytes())])
}

/// The verdicts of a report by key: (status, reason).
fn verdicts(report: &Report) -> BTreeMap<String, (String, Option<String>)> {
    report
        .findings
        .iter()
        .map(|f| {
            let v = f.verification.as_ref().expect("every finding is verified");
            (f.secret.clone(), (v.status.clone(), v.reason.clone()))
        })
        .collect()
}

fn verdict(status: &str, reason: Option<&str>) -> (String, Option<String>) {
    (status.to_string(), reason.map(String::from))
}

const MISSING_SCOPES: &str = "You have insufficient permissions for this operation. Missing \
    scopes: api.model.read. Check that you have the correct role in your organization (Reader, \
    Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it \
    has the necessary scopes.";
const NO_QUOTA: &str = "You exceeded your current quota, please check your plan and billing \
    details. For more information on this error, read the docs: \
    https://platform.openai.com/docs/guides/error-codes/api-errors.";
const DEACTIVATED: &str = "This key is associated with a deactivated account. If you feel this \
    is an error, contact us through our help center at help.openai.com.";

#[test]
fn every_answer_of_the_api_gets_its_verdict() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let rows: Vec<(String, Reply, (String, Option<String>))> = vec![
        (project_key(1), Reply::models(), verdict("live", None)),
        (admin_key(2), Reply::admin_keys(), verdict("live", None)),
        (
            project_key(3),
            Reply::error(403, "invalid_request_error", None, MISSING_SCOPES),
            verdict("live", Some("restricted key")),
        ),
        (
            project_key(4),
            Reply::error(401, "invalid_request_error", None, MISSING_SCOPES),
            verdict("live", Some("restricted key")),
        ),
        (
            project_key(5),
            Reply::error(
                429,
                "insufficient_quota",
                Some("insufficient_quota"),
                NO_QUOTA,
            ),
            verdict("live", Some("no credit")),
        ),
        (
            project_key(6),
            Reply::invalid_key("sk-proj-****"),
            verdict("dead", Some("revoked or never valid")),
        ),
        (
            project_key(7),
            Reply::error(
                401,
                "invalid_request_error",
                Some("account_deactivated"),
                DEACTIVATED,
            ),
            verdict("dead", Some("account deactivated")),
        ),
        (
            project_key(8),
            Reply::html(200, "<html><body>Sign in to continue</body></html>"),
            verdict(
                "unknown",
                Some("HTTP 200 without the list asked for (a portal or proxy page?)"),
            ),
        ),
        (
            project_key(9),
            Reply::error(
                401,
                "invalid_request_error",
                Some("mismatched_organization"),
                "OpenAI-Organization header should match organization for API key",
            ),
            verdict("unknown", Some("unexpected answer: HTTP 401")),
        ),
        (
            project_key(10),
            Reply::error(
                404,
                "invalid_request_error",
                Some("unknown_url"),
                "Unknown request URL",
            ),
            verdict("unknown", Some("unexpected answer: HTTP 404")),
        ),
    ];
    for (key, reply, _) in &rows {
        server.script(key, vec![reply.clone()]);
    }
    let keys: Vec<&str> = rows.iter().map(|(k, _, _)| k.as_str()).collect();
    let dir = fixture(&keys);
    let (code, report) = scan_json(&server, cache.path(), dir.path(), &["--no-verify-cache"]);
    assert_eq!(code, 1);
    let want: BTreeMap<String, (String, Option<String>)> = rows
        .iter()
        .map(|(k, _, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(verdicts(&report), want);
    for (key, _, _) in &rows {
        assert_eq!(server.requests_for(key), 1, "one request per key");
    }
    let stats = report.stats.verification.expect("verification stats");
    assert_eq!(
        (stats.keys, stats.live, stats.dead, stats.unknown),
        (10, 5, 2, 3)
    );
    assert_eq!((stats.requests, stats.cached), (10, 0));
}

#[test]
fn a_verdict_records_the_answer() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let (live, dead) = (project_key(20), project_key(21));
    server.script(&live, vec![Reply::models()]);
    let dir = fixture(&[&live, &dead]);
    let (_, report) = scan_json(&server, cache.path(), dir.path(), &[]);
    let at = |key: &str| {
        let f = report.findings.iter().find(|f| f.secret == key).unwrap();
        f.verification.clone().unwrap()
    };
    let v = at(&dead);
    assert_eq!(v.http_status, Some(401));
    assert_eq!(v.error_code.as_deref(), Some("invalid_api_key"));
    assert_eq!(
        v.request_id.as_deref(),
        Some("req_0123456789abcdef0123456789abcdef")
    );
    assert_eq!(v.organization.as_deref(), Some("user-abc123"));
    assert!(!v.cached);
    let at_time = v.checked_at.expect("checked_at");
    assert_eq!(at_time.len(), 20, "{at_time}");
    assert!(at_time.ends_with('Z') && at_time.as_bytes()[10] == b'T');
    let v = at(&live);
    assert_eq!((v.http_status, v.error_code), (Some(200), None));
}

#[test]
fn each_distinct_key_is_checked_once() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let key = project_key(30);
    server.script(&key, vec![Reply::models()]);
    let line = format!("a={key} b=\"{key}\"\n");
    let dir = tree(&[
        ("one.txt", line.as_bytes()),
        ("two.txt", line.as_bytes()),
        ("deep/three.py", line.as_bytes()),
    ]);
    let (code, report) = scan_json(&server, cache.path(), dir.path(), &[]);
    assert_eq!((code, report.findings.len()), (1, 6));
    assert_eq!(server.requests().len(), 1);
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.verification.as_ref().unwrap().status == "live")
    );
}

#[test]
fn only_the_bearer_header_user_agent_and_accept_are_sent() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let (key, admin) = (project_key(40), admin_key(41));
    server.script(&key, vec![Reply::models()]);
    server.script(&admin, vec![Reply::admin_keys()]);
    let dir = fixture(&[&key, &admin]);
    let mut cmd = hound(cache.path());
    cmd.current_dir(dir.path())
        .env("OPENAI_ORG_ID", "org-from-the-environment")
        .env("OPENAI_PROJECT_ID", "proj_from_the_environment")
        .env("OPENAI_API_KEY", "sk-the-users-own-key")
        .args(["scan", "--verify", "--openai-base-url"])
        .arg(server.base_url());
    assert_eq!(run(cmd).code, 1);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.method, "GET");
        let sent = r.key().expect("a bearer key");
        assert!(sent == key || sent == admin);
        assert!(!r.target.contains(sent), "the key is never in the URL");
        let user_agent = format!("keyhound/{}", env!("CARGO_PKG_VERSION"));
        assert_eq!(r.header("user-agent"), Some(user_agent.as_str()));
        let mut names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["accept", "authorization", "host", "user-agent"]);
    }
    let target = |k: &str| {
        requests
            .iter()
            .find(|r| r.key() == Some(k))
            .unwrap()
            .target
            .clone()
    };
    assert_eq!(target(&key), "/v1/models");
    assert_eq!(target(&admin), "/v1/organization/admin_api_keys?limit=1");
}

#[test]
fn openai_base_url_in_the_environment_is_ignored() {
    let (decoy, server) = (Server::start(), Server::start());
    let cache = tempfile::tempdir().unwrap();
    let key = project_key(50);
    server.script(&key, vec![Reply::models()]);
    let dir = fixture(&[&key]);
    let mut cmd = hound(cache.path());
    cmd.current_dir(dir.path())
        .env("OPENAI_BASE_URL", decoy.base_url())
        .args(["scan", "--verify", "--openai-base-url"])
        .arg(server.base_url());
    assert_eq!(run(cmd).code, 1);
    assert_eq!(server.requests().len(), 1);
    assert!(decoy.requests().is_empty(), "keys went to OPENAI_BASE_URL");
}

#[test]
fn without_verify_nothing_is_sent() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let key = project_key(60);
    let dir = fixture(&[&key]);
    let mut cmd = hound(cache.path());
    cmd.current_dir(dir.path())
        .env("OPENAI_BASE_URL", server.base_url())
        .args(["scan", "--format", "json"]);
    let r = run(cmd);
    assert_eq!(r.code, 1);
    let report = r.report();
    assert!(report.findings[0].verification.is_none());
    assert!(report.stats.verification.is_none());
    assert!(server.requests().is_empty());
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
}

#[test]
fn verification_options_need_verify() {
    let cache = tempfile::tempdir().unwrap();
    let dir = fixture(&[]);
    for args in [
        &["--fail-on", "live"][..],
        &["--only-live"],
        &["--openai-base-url", "http://127.0.0.1:9/v1"],
        &["--no-verify-cache"],
        &["--verify-concurrency", "2"],
        &["--verify-cache-ttl", "1h"],
    ] {
        let mut cmd = hound(cache.path());
        cmd.current_dir(dir.path()).arg("scan").args(args);
        let r = run(cmd);
        assert_eq!(r.code, 2, "{args:?}");
        assert!(
            r.stderr.contains("needs --verify"),
            "{args:?}: {}",
            r.stderr
        );
    }
}

#[test]
fn plain_http_goes_to_loopback_only() {
    let cache = tempfile::tempdir().unwrap();
    let dir = fixture(&[&project_key(70)]);
    for url in [
        "http://10.1.2.3/v1",
        "http://api.openai.com/v1",
        "file:///etc/passwd",
        "https://user:pass@example.com/v1",
    ] {
        let mut cmd = hound(cache.path());
        cmd.current_dir(dir.path())
            .args(["scan", "--verify", "--openai-base-url", url]);
        let r = run(cmd);
        assert_eq!(r.code, 2, "{url}");
        assert!(
            r.stderr.contains("--openai-base-url"),
            "{url}: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "nothing was scanned or sent");
    }
}

#[test]
fn a_server_failing_twice_then_answering_is_retried() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let key = project_key(80);
    let busy = Reply::error(
        503,
        "server_error",
        None,
        "The engine is currently overloaded",
    )
    .with_header("retry-after-ms", "5");
    server.script(&key, vec![busy.clone(), busy, Reply::models()]);
    let dir = fixture(&[&key]);
    let (_, report) = scan_json(&server, cache.path(), dir.path(), &[]);
    assert_eq!(verdicts(&report)[&key], verdict("live", None));
    assert_eq!(server.requests_for(&key), 3);
    assert_eq!(report.stats.verification.unwrap().requests, 3);
}

#[test]
fn a_gateway_page_that_does_not_go_away_is_unknown_never_dead() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let key = project_key(90);
    let page = "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>";
    server.script(
        &key,
        vec![Reply::html(502, page).with_header("retry-after-ms", "5")],
    );
    let dir = fixture(&[&key]);
    let (code, report) = scan_json(&server, cache.path(), dir.path(), &["--fail-on", "live"]);
    assert_eq!(code, 1, "an undecided key fails a --fail-on live gate");
    let v = report.findings[0].verification.clone().unwrap();
    assert_eq!(v.status, "unknown");
    assert_eq!(v.reason.as_deref(), Some("HTTP 502 (after 3 attempts)"));
    assert_eq!((v.http_status, v.error_code), (Some(502), None));
    assert_eq!(server.requests_for(&key), 3, "the first try and 2 retries");
}

#[test]
fn a_retry_after_over_20_s_is_unknown_at_once() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let key = project_key(100);
    let limited = Reply::error(
        429,
        "requests",
        Some("rate_limit_exceeded"),
        "Rate limit reached for requests in organization org-x on requests per min (RPM).",
    )
    .with_header("retry-after", "60");
    server.script(&key, vec![limited]);
    let dir = fixture(&[&key]);
    let started = Instant::now();
    let (_, report) = scan_json(&server, cache.path(), dir.path(), &[]);
    assert!(started.elapsed() < Duration::from_secs(15), "no stall");
    let v = report.findings[0].verification.clone().unwrap();
    assert_eq!(v.status, "unknown");
    assert!(v.reason.as_deref().unwrap().contains("60 s"), "{v:?}");
    assert_eq!(v.error_code.as_deref(), Some("rate_limit_exceeded"));
    assert_eq!(server.requests_for(&key), 1);
}

#[test]
fn the_cache_spares_the_second_run_its_requests() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let (live, dead, odd) = (project_key(110), project_key(111), project_key(112));
    server.script(&live, vec![Reply::models()]);
    server.script(&odd, vec![Reply::html(418, "teapot")]);
    let dir = fixture(&[&live, &dead, &odd]);
    let (_, first) = scan_json(&server, cache.path(), dir.path(), &[]);
    assert_eq!(server.requests().len(), 3);
    let (_, second) = scan_json(&server, cache.path(), dir.path(), &[]);
    assert_eq!(
        server.requests_for(&live),
        1,
        "live, cached for up to an hour"
    );
    assert_eq!(server.requests_for(&dead), 1, "dead, cached for the TTL");
    assert_eq!(server.requests_for(&odd), 2, "unknown is never cached");
    let at = |r: &Report, key: &str| {
        let f = r.findings.iter().find(|f| f.secret == key).unwrap();
        f.verification.clone().unwrap()
    };
    let (before, after) = (at(&first, &dead), at(&second, &dead));
    assert!(after.cached && !before.cached);
    assert_eq!(after.status, "dead");
    assert_eq!(after.reason, before.reason);
    assert_eq!(after.checked_at, before.checked_at);
    assert_eq!((after.http_status, after.request_id), (None, None));
    let stats = second.stats.verification.unwrap();
    assert_eq!((stats.cached, stats.requests), (2, 1));

    scan_json(&server, cache.path(), dir.path(), &["--no-verify-cache"]);
    assert_eq!(
        server.requests_for(&dead),
        2,
        "--no-verify-cache asks again"
    );
    scan_json(
        &server,
        cache.path(),
        dir.path(),
        &["--verify-cache-ttl", "0s"],
    );
    assert_eq!(
        server.requests_for(&dead),
        3,
        "an expired verdict is asked again"
    );
}

#[test]
fn the_cache_holds_hashes_not_keys() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let (live, dead) = (project_key(120), project_key(121));
    server.script(&live, vec![Reply::models()]);
    let dir = fixture(&[&live, &dead]);
    scan_json(&server, cache.path(), dir.path(), &[]);
    let mut files: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        2,
        "the verdicts and their (empty) lock: {files:?}"
    );
    assert_eq!(std::fs::metadata(&files[1]).unwrap().len(), 0);
    assert!(files[1].extension().is_some_and(|e| e == "lock"));
    let text = std::fs::read_to_string(&files[0]).unwrap();
    for key in [&live, &dead] {
        assert!(!text.contains(key.as_str()));
        assert!(
            !text.contains(&key[key.len() - 8..]),
            "not even a piece of a key"
        );
    }
    let doc: Value = serde_json::from_str(&text).unwrap();
    let entries = doc["entries"].as_object().unwrap();
    assert_eq!(entries.len(), 2);
    for (id, entry) in entries {
        assert!(id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()));
        let mut fields: Vec<&str> = entry
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        fields.sort_unstable();
        assert_eq!(fields, ["checked_at", "reason", "status"]);
    }
}

/// Issue 14, point 15: runs at the same time each add their verdicts to the one cache (unfixed,
/// 16 runs kept 3 to 5 of their 16 verdicts).
#[test]
fn r14_sixteen_runs_at_once_keep_all_their_verdicts() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let keys: Vec<String> = (0..16).map(|i| project_key(300 + i)).collect();
    for key in &keys {
        let dead = Reply::invalid_key("sk-proj-****").after(Duration::from_millis(200));
        server.script(key, vec![dead]);
    }
    std::thread::scope(|s| {
        for key in &keys {
            let (server, cache) = (&server, cache.path());
            s.spawn(move || {
                let dir = fixture(&[key]);
                let r = scan(server, cache, dir.path(), &["--format", "json"]);
                assert_eq!(r.code, 1, "{}", r.stderr);
                assert!(!r.stderr.contains("warning"), "{}", r.stderr);
            });
        }
    });
    let all: Vec<&str> = keys.iter().map(String::as_str).collect();
    let dir = fixture(&all);
    let (_, report) = scan_json(&server, cache.path(), dir.path(), &[]);
    let stats = report.stats.verification.expect("verification stats");
    assert_eq!((stats.cached, stats.requests), (16, 0));
}

#[test]
fn keyhound_verify_reads_keys_from_stdin_and_always_asks_afresh() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let (live, dead) = (project_key(130), admin_key(131));
    server.script(&live, vec![Reply::models()]);
    let dir = fixture(&[&live, &dead]);
    scan_json(&server, cache.path(), dir.path(), &[]);
    assert_eq!(server.requests().len(), 2);
    let input = format!("{live}\n\nnot a key\n  {dead}  \n");
    let mut cmd = hound(cache.path());
    cmd.args([
        "verify",
        "--format",
        "json",
        "--show-secrets",
        "--openai-base-url",
    ])
    .arg(server.base_url())
    .write_stdin(input);
    let r = run(cmd);
    assert_eq!(r.code, 1);
    assert_eq!(
        server.requests().len(),
        4,
        "keyhound verify does not read the cache"
    );
    let report = r.report();
    assert_eq!(
        verdicts(&report),
        BTreeMap::from([
            (live.clone(), verdict("live", None)),
            (
                dead.clone(),
                verdict("dead", Some("revoked or never valid"))
            ),
        ])
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| !f.verification.as_ref().unwrap().cached)
    );
    assert!(
        r.stderr.contains("line 3 of standard input"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("line 2 "),
        "blank lines are not warned about"
    );

    let mut cmd = hound(cache.path());
    cmd.args(["verify", "--fail-on", "live", "--openai-base-url"])
        .arg(server.base_url())
        .write_stdin(format!("{dead}\n"));
    assert_eq!(run(cmd).code, 0, "a dead key passes --fail-on live");
}

#[test]
fn only_live_leaves_dead_keys_out() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let (live, dead, odd) = (project_key(140), project_key(141), project_key(142));
    server.script(&live, vec![Reply::models()]);
    server.script(&odd, vec![Reply::html(404, "nothing")]);
    let dir = tree(&[
        ("a.env", format!("A={live}\nB={dead}\n").as_bytes()),
        ("b.env", format!("C={dead}\nD={odd}\n").as_bytes()),
    ]);
    let (code, report) = scan_json(&server, cache.path(), dir.path(), &["--only-live"]);
    assert_eq!(code, 1);
    let shown: Vec<&str> = report.findings.iter().map(|f| f.secret.as_str()).collect();
    assert_eq!(shown, [live.as_str(), odd.as_str()]);
    assert_eq!(report.stats.findings, 2);
    assert_eq!(report.stats.verification.unwrap().hidden, 2);
}

#[test]
fn fail_on_live_passes_only_when_every_key_is_dead() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let (live, dead) = (project_key(150), project_key(151));
    server.script(&live, vec![Reply::models()]);
    let dead_only = fixture(&[&dead]);
    let both = fixture(&[&live, &dead]);
    let code = |dir: &Path, args: &[&str]| scan_json(&server, cache.path(), dir, args).0;
    assert_eq!(code(dead_only.path(), &[]), 1, "default: any finding");
    assert_eq!(code(dead_only.path(), &["--fail-on", "any"]), 1);
    assert_eq!(code(dead_only.path(), &["--fail-on", "live"]), 0);
    assert_eq!(code(both.path(), &["--fail-on", "live"]), 1);
}

#[test]
fn concurrency_is_bounded() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let keys: Vec<String> = (0..6).map(|i| project_key(160 + i)).collect();
    for k in &keys {
        server.script(k, vec![Reply::models().after(Duration::from_millis(300))]);
    }
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let dir = fixture(&refs);
    let (_, report) = scan_json(
        &server,
        cache.path(),
        dir.path(),
        &["--verify-concurrency", "2", "--no-verify-cache"],
    );
    assert_eq!(report.stats.verification.unwrap().live, 6);
    assert_eq!(server.max_in_flight(), 2);
}

#[test]
fn json_lines_carry_the_verdicts_and_follow_the_schema() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let (live, dead) = (project_key(170), project_key(171));
    server.script(&live, vec![Reply::models()]);
    let dir = fixture(&[&live, &dead]);
    let r = scan(&server, cache.path(), dir.path(), &["--format", "jsonl"]);
    let lines: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 3);
    for line in &lines {
        check_schema(line, Some("jsonlLine"));
    }
    let status = |i: usize| {
        lines[i]["verification"]["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!((status(0), status(1)), ("live".into(), "dead".into()));
    assert_eq!(lines[2]["type"], "summary");
    assert_eq!(lines[2]["stats"]["verification"]["keys"], 2);
}

#[test]
fn sarif_raises_live_keys_and_says_the_verdict() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let (live, dead, odd) = (project_key(180), project_key(181), project_key(182));
    server.script(
        &live,
        vec![Reply::error(
            429,
            "insufficient_quota",
            Some("insufficient_quota"),
            NO_QUOTA,
        )],
    );
    server.script(&odd, vec![Reply::html(404, "nothing")]);
    let dir = fixture(&[&live, &dead, &odd]);
    let r = scan(&server, cache.path(), dir.path(), &["--format", "sarif"]);
    let doc: Value = serde_json::from_str(&r.stdout).expect("SARIF is JSON");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let by_level: BTreeMap<&str, &Value> = results
        .iter()
        .map(|r| (r["level"].as_str().unwrap(), r))
        .collect();
    assert_eq!(by_level.len(), 3);
    let message = |level: &str| {
        by_level[level]["message"]["text"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(
        message("error").starts_with("Verified live — no credit: "),
        "{}",
        message("error")
    );
    assert!(message("note").starts_with("Verified dead — revoked or never valid: "));
    assert!(message("warning").starts_with("Verified unknown — "));
    let props = &by_level["error"]["properties"]["verification"];
    assert_eq!(props["status"], "live");
    assert_eq!(props["error_code"], "insufficient_quota");
    assert!(
        !r.stdout.contains(&live) && !r.stdout.contains(&dead),
        "SARIF stays redacted"
    );
}

#[test]
fn the_human_report_puts_the_verdict_first() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let (live, dead) = (project_key(190), project_key(191));
    server.script(
        &live,
        vec![Reply::error(
            429,
            "insufficient_quota",
            Some("insufficient_quota"),
            NO_QUOTA,
        )],
    );
    let dir = fixture(&[&live, &dead]);
    let first = scan(&server, cache.path(), dir.path(), &["--color", "never"]);
    let line = |out: &str, key: &str| {
        out.lines()
            .find(|l| l.contains(key) && l.contains("OpenAI"))
            .unwrap_or_else(|| panic!("no line for the key in:\n{out}"))
            .to_string()
    };
    let l = line(&first.stdout, &live);
    assert!(
        l.contains("1:7       live — no credit · OpenAI project API key"),
        "{l}"
    );
    let l = line(&first.stdout, &dead);
    assert!(l.contains("dead — revoked or never valid · OpenAI"), "{l}");
    assert!(
        first.stdout.contains("(2 distinct keys: 1 live, 1 dead)"),
        "{}",
        first.stdout
    );
    assert!(
        first
            .stdout
            .contains("Verified 2 distinct keys: 1 live, 1 dead (0 from the cache, 2 requests).")
    );
    let second = scan(&server, cache.path(), dir.path(), &["--color", "never"]);
    let l = line(&second.stdout, &dead);
    assert!(
        l.contains("dead — revoked or never valid (cached moments ago) · "),
        "{l}"
    );
}

#[test]
fn keyhound_git_verifies_too() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let key = project_key(200);
    server.script(&key, vec![Reply::models()]);
    let repo = fixture(&[&key]);
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(repo.path())
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_WORK_TREE")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
            .args(["-c", "commit.gpgsign=false"])
            .args(args)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "keys.env"]);
    git(&["commit", "-q", "-m", "add keys"]);
    let mut cmd = hound(cache.path());
    cmd.current_dir(repo.path())
        .args([
            "git",
            "--format",
            "json",
            "--show-secrets",
            "--verify",
            "--openai-base-url",
        ])
        .arg(server.base_url());
    let r = run(cmd);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let report = r.report();
    check_schema(&serde_json::from_str(&r.stdout).unwrap(), None);
    assert_eq!(verdicts(&report)[&key], verdict("live", None));
    assert!(report.findings[0].git.is_some());
    assert_eq!(server.requests().len(), 1);
}

/// A clock that never sleeps: it records each wait and moves its time on by it.
struct FakeClock {
    now: AtomicI64,
    slept: Mutex<Vec<Duration>>,
}

impl FakeClock {
    fn at(now: i64) -> Self {
        FakeClock {
            now: AtomicI64::new(now),
            slept: Mutex::default(),
        }
    }
    fn slept(&self) -> Vec<Duration> {
        self.slept.lock().unwrap().clone()
    }
}

impl Clock for FakeClock {
    fn now(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
    fn sleep(&self, d: Duration) {
        self.slept.lock().unwrap().push(d);
        self.now.fetch_add(d.as_secs() as i64, Ordering::SeqCst);
    }
}

/// The real HTTP client against `server`, paced by `clock`.
fn verifier<'c>(server: &Server, clock: &'c FakeClock, timeouts: Timeouts) -> OpenAi<'c> {
    let base = BaseUrl::parse(&server.base_url()).unwrap();
    let transport = HttpTransport::new(&base, timeouts).expect("client");
    OpenAi::new(base, Box::new(transport), clock, RetryPolicy::default())
}

fn secret(key: &str) -> Secret {
    Secret::new(key.to_string(), 8)
}

#[test]
fn retries_are_paced_by_retry_after_then_backoff() {
    let server = Server::start();
    let clock = FakeClock::at(1_700_000_000);
    let key = project_key(210);
    let limited = Reply::error(
        429,
        "requests",
        Some("rate_limit_exceeded"),
        "Rate limit reached",
    )
    .with_header("retry-after", "2");
    let html = Reply::html(502, "<html>Bad gateway</html>");
    server.script(&key, vec![limited, html, Reply::models()]);
    let started = Instant::now();
    let checked = verifier(&server, &clock, Timeouts::default()).check(&secret(&key), false);
    assert_eq!(checked.verification.status, Status::Live);
    assert_eq!(checked.requests, 3);
    let slept = clock.slept();
    assert_eq!(slept[0], Duration::from_secs(2), "retry-after is honoured");
    let backoff = slept[1].as_millis();
    assert!((750..=1000).contains(&backoff), "second wait {backoff} ms");
    assert!(started.elapsed() < Duration::from_secs(2), "no real sleeps");
}

#[test]
fn retry_after_ms_wins_and_rate_limits_end_unknown() {
    let server = Server::start();
    let clock = FakeClock::at(1_700_000_000);
    let key = project_key(220);
    let limited = Reply::error(
        429,
        "tokens",
        Some("rate_limit_exceeded"),
        "Rate limit reached",
    )
    .with_header("retry-after-ms", "1500")
    .with_header("retry-after", "9");
    server.script(&key, vec![limited]);
    let checked = verifier(&server, &clock, Timeouts::default()).check(&secret(&key), false);
    let v = checked.verification;
    assert_eq!((v.status, checked.requests), (Status::Unknown, 3));
    assert_eq!(v.reason.as_deref(), Some("rate limited (after 3 attempts)"));
    assert_eq!(clock.slept(), [Duration::from_millis(1500); 2]);
}

#[test]
fn a_server_that_hangs_is_unknown_after_the_timeout() {
    let server = Server::start();
    let clock = FakeClock::at(1_700_000_000);
    let key = project_key(230);
    server.script(&key, vec![Reply::models().after(Duration::from_secs(3))]);
    let timeouts = Timeouts {
        connect: Duration::from_millis(500),
        attempt: Duration::from_millis(200),
    };
    let started = Instant::now();
    let checked = verifier(&server, &clock, timeouts).check(&secret(&key), false);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "each attempt timed out"
    );
    let v = checked.verification;
    assert_eq!(v.status, Status::Unknown);
    assert_eq!(v.reason.as_deref(), Some("timed out (after 3 attempts)"));
    assert_eq!(v.http_status, None);
    assert_eq!(clock.slept().len(), 2);
}

/// Issue 14, point 6: the attempt's deadline covers the body. Each byte comes well within the
/// per-read limit, so only a deadline on the whole attempt ends it (unfixed, it ran to `live`).
#[test]
fn r14_a_body_sent_a_byte_at_a_time_is_unknown_after_the_timeout() {
    let server = Server::start();
    let clock = FakeClock::at(1_700_000_000);
    let key = project_key(231);
    let slow = Reply::models().dripping(Duration::from_millis(40));
    server.script(&key, vec![slow]);
    let timeouts = Timeouts {
        connect: Duration::from_millis(500),
        attempt: Duration::from_millis(300),
    };
    let checked = verifier(&server, &clock, timeouts).check(&secret(&key), false);
    let v = checked.verification;
    assert_eq!(v.status, Status::Unknown);
    assert_eq!(v.reason.as_deref(), Some("timed out (after 3 attempts)"));
    assert_eq!(checked.requests, 3);
}

/// Issue 14, point 14: a proxy echoing the key in `x-request-id`, `openai-organization` and
/// `error.code` does not get it into the JSON or SARIF report (unfixed, it was there three times).
#[test]
fn r14_fields_echoing_the_key_stay_out_of_the_reports() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let legacy = make("sk-{alnum:20}T3BlbkFJ{alnum:20}", 250);
    let keys = [legacy, project_key(251)];
    for key in &keys {
        let echo = Reply::error(401, "invalid_request_error", Some(key), "no")
            .with_header("x-request-id", key)
            .with_header("openai-organization", key);
        server.script(key, vec![echo]);
    }
    let dir = fixture(&[&keys[0], &keys[1]]);
    for format in ["json", "sarif"] {
        let mut cmd = hound(cache.path());
        cmd.current_dir(dir.path())
            .args(["scan", "--verify", "--no-verify-cache", "--format", format])
            .args(["--openai-base-url", &server.base_url(), "."]);
        let r = run(cmd);
        assert_eq!(r.code, 1, "{}", r.stderr);
        for key in &keys {
            assert!(!r.stdout.contains(&key[12..36]), "{format} holds the key");
        }
        if format == "json" {
            for f in &r.report().findings {
                let v = f.verification.as_ref().unwrap();
                assert_eq!(v.status, "unknown");
                assert_eq!((&v.request_id, &v.organization), (&None, &None));
                assert_eq!(v.error_code, None);
            }
        }
    }
}

#[test]
fn cached_live_verdicts_last_an_hour_dead_ones_the_ttl() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let (live, dead) = (project_key(240), project_key(241));
    server.script(&live, vec![Reply::models()]);
    let cfg = VerifyConfig {
        base_url: BaseUrl::parse(&server.base_url()).unwrap(),
        concurrency: 2,
        cache: CacheConfig {
            dir: Some(cache.path().to_path_buf()),
            read: true,
            write: true,
            ttl: Duration::from_secs(24 * 3600),
        },
        timeouts: Timeouts::default(),
        retry: RetryPolicy::default(),
        deep: false,
    };
    let secrets = [secret(&live), secret(&dead)];
    let fingerprints = ["kh1:live", "kh1:dead"];
    let candidates: Vec<Candidate<'_>> = secrets
        .iter()
        .zip(fingerprints)
        .map(|(s, fp)| Candidate {
            fingerprint: fp,
            secret: s,
            provider: "openai",
            admin: false,
        })
        .collect();
    let run_at = |now: i64| {
        let clock = FakeClock::at(now);
        let v = verifier(&server, &clock, Timeouts::default());
        verify::verify_keys(&candidates, &cfg, &v, &clock)
    };
    let t0 = 1_700_000_000;
    assert_eq!(run_at(t0).stats.requests, 2);
    let later = run_at(t0 + 3599);
    assert_eq!((later.stats.requests, later.stats.cached), (0, 2));
    let after_an_hour = run_at(t0 + 3600);
    assert_eq!(
        after_an_hour.stats.requests, 1,
        "only the live key is asked again"
    );
    assert!(after_an_hour.verdicts["kh1:dead"].cached);
    assert!(!after_an_hour.verdicts["kh1:live"].cached);
    assert_eq!(server.requests_for(&live), 2);
    assert_eq!(server.requests_for(&dead), 1);
}
