//! `--verify` for every provider with a check, against one local server per provider (never the
//! internet) pointed at with `--verify-endpoint`: each row of the provider's answer table as
//! `shared/reference/providers.md` documents it and the verdict it gets, the request sent (method,
//! path, fixed headers, the key only in its header), keys that are never sent, redirects, a
//! hanging server, one request per distinct key, and the usage errors of `--verify-endpoint`.

use crate::util::{check_schema, kh, make, tree_owned};
use keyhound::secret::Secret;
use keyhound::verify::clock::Clock;
use keyhound::verify::endpoint::BaseUrl;
use keyhound::verify::engine::DataVerifier;
use keyhound::verify::http::{HttpTransport, Timeouts};
use keyhound::verify::openai::Verifier;
use keyhound::verify::retry::RetryPolicy;
use keyhound::verify::{Candidate, Status, recipe};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One answer of a stand-in server.
#[derive(Debug, Clone)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    delay: Duration,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// A request as the server read it; header names lower-cased.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every place the key may show up except the header named: target, other headers, body.
    fn leaks(&self, key: &str, header: &str) -> bool {
        self.target.contains(key)
            || self.body.contains(key)
            || self
                .headers
                .iter()
                .any(|(n, v)| n != header && v.contains(key))
    }
}

#[derive(Default)]
struct Shared {
    replies: Mutex<HashMap<String, Reply>>,
    requests: Mutex<Vec<Request>>,
}

/// A stand-in for one provider's API on 127.0.0.1: answers each request by the key it carries
/// (found in any header), and records every request.
struct Mock {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Mock {
    fn start() -> Mock {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("address");
        let shared = Arc::new(Shared::default());
        let state = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = state.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Mock { addr, shared }
    }

    fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn answer(&self, key: &str, reply: Reply) {
        self.shared
            .replies
            .lock()
            .unwrap()
            .insert(key.to_string(), reply);
    }

    fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap().clone()
    }

    fn requests_with(&self, key: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.headers.iter().any(|(_, v)| v.contains(key)))
            .collect()
    }
}

fn serve(stream: TcpStream, state: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Some(request) = read_request(&stream) else {
        return;
    };
    state.requests.lock().unwrap().push(request.clone());
    let reply = {
        let replies = state.replies.lock().unwrap();
        replies
            .iter()
            .find(|(k, _)| request.headers.iter().any(|(_, v)| v.contains(k.as_str())))
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| Reply::json(418, json!({"error": "no script for this key"})))
    };
    std::thread::sleep(reply.delay);
    let mut out = stream;
    let mut head = format!(
        "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (n, v) in &reply.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(reply.body.as_bytes());
    let _ = out.flush();
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (name, value) = l.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// `keyhound ARGS` in `dir`, with its own cache and no proxy from the environment: (exit, stdout, stderr).
fn hound(dir: &Path, args: &[String]) -> (i32, String, String) {
    let cache = tempfile::tempdir().unwrap();
    let mut cmd = kh();
    cmd.current_dir(dir).env("KEYHOUND_CACHE_DIR", cache.path());
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.args(args).output().expect("keyhound runs");
    (
        out.status.code().expect("exited"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `keyhound scan --verify --format json` of `lines` with `provider`'s checks sent to `mock`.
fn scan(provider: &str, mock: &Mock, lines: &[String]) -> Value {
    let files: Vec<(String, Vec<u8>)> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| (format!("f{i}.env"), format!("{l}\n").into_bytes()))
        .collect();
    let dir = tree_owned(&files);
    let args = [
        "scan",
        "--show-secrets",
        "--format",
        "json",
        "--verify",
        "--verify-endpoint",
        &format!("{provider}={}", mock.origin()),
        ".",
    ]
    .map(String::from);
    let (code, stdout, stderr) = hound(dir.path(), &args);
    assert!(code == 1 || code == 0, "exit {code}: {stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    check_schema(&report, None);
    report
}

/// The verification object of the finding of `key`.
fn verdict_of<'a>(report: &'a Value, key: &str) -> &'a Value {
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["secret"] == key)
        .unwrap_or_else(|| panic!("{key} not found in {report:#}"));
    &finding["verification"]
}

/// One row of a provider's table: the answer, then the verdict (status, reason).
struct Row {
    reply: Reply,
    status: &'static str,
    reason: Option<&'static str>,
}

fn row(reply: Reply, status: &'static str, reason: Option<&'static str>) -> Row {
    Row {
        reply,
        status,
        reason,
    }
}

/// How a provider's check looks on the wire.
struct Check {
    provider: &'static str,
    /// The key template and the line that holds a key (`{}` for it).
    template: &'static str,
    line: &'static str,
    method: &'static str,
    path: &'static str,
    /// The header the key goes in, and what stands before the key there.
    header: &'static str,
    prefix: &'static str,
    fixed: &'static [(&'static str, &'static str)],
}

/// Runs every row of `check`'s table through one scan and checks verdicts and requests.
fn table(check: &Check, rows: Vec<Row>) -> Value {
    let mock = Mock::start();
    let keys: Vec<String> = (0..rows.len())
        .map(|i| make(check.template, 7_000 + i as u64))
        .collect();
    for (key, r) in keys.iter().zip(&rows) {
        mock.answer(key, r.reply.clone());
    }
    let lines: Vec<String> = keys.iter().map(|k| check.line.replace("{}", k)).collect();
    let report = scan(check.provider, &mock, &lines);
    for (key, r) in keys.iter().zip(&rows) {
        let v = verdict_of(&report, key);
        let reason = v["reason"].as_str();
        assert_eq!(
            (v["status"].as_str(), reason),
            (Some(r.status), r.reason),
            "{} {}: {v:#}",
            check.provider,
            r.reply.status
        );
        assert_eq!(v["request"]["method"], check.method, "{v:#}");
        assert_eq!(v["request"]["path"], check.path, "{v:#}");
        let sent = mock.requests_with(key);
        assert!(!sent.is_empty(), "{key} was not sent");
        for req in &sent {
            assert_eq!(req.method, check.method);
            assert_eq!(req.target, check.path);
            let want = format!("{}{key}", check.prefix);
            assert_eq!(req.header(check.header), Some(want.as_str()));
            assert!(
                !req.leaks(key, check.header),
                "key outside its header: {req:?}"
            );
            for (name, value) in check.fixed {
                assert_eq!(req.header(name), Some(*value), "{name}");
            }
        }
        let retried = r.status == "unknown" && r.reason.is_some_and(|w| w.contains("attempts"));
        assert_eq!(sent.len(), if retried { 3 } else { 1 }, "{key}");
    }
    report
}

fn bearer(
    provider: &'static str,
    template: &'static str,
    line: &'static str,
    method: &'static str,
    path: &'static str,
) -> Check {
    Check {
        provider,
        template,
        line,
        method,
        path,
        header: "authorization",
        prefix: "Bearer ",
        fixed: &[],
    }
}

const DEAD: Option<&str> = Some("revoked or never valid");
const RESTRICTED: Option<&str> = Some("restricted key");
const NO_CREDIT: Option<&str> = Some("no credit");

fn anthropic_error(status: u16, kind: &str, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"type": "error", "error": {"type": kind, "message": message}}),
    )
    .header("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy")
}

#[test]
fn anthropic_api_keys_every_answer() {
    let check = Check {
        provider: "anthropic",
        template: "sk-ant-api03-{b64url:93}AA",
        line: "ANTHROPIC_API_KEY={}",
        method: "GET",
        path: "/v1/models",
        header: "x-api-key",
        prefix: "",
        fixed: &[("anthropic-version", "2023-06-01")],
    };
    let models = json!({"data": [{"type": "model", "id": "claude-sonnet-4-5",
        "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z"}],
        "has_more": false, "first_id": "claude-sonnet-4-5", "last_id": "claude-sonnet-4-5"});
    let report = table(
        &check,
        vec![
            row(
                Reply::json(200, models).header("request-id", "req_1"),
                "live",
                None,
            ),
            row(
                anthropic_error(401, "authentication_error", "invalid x-api-key"),
                "dead",
                DEAD,
            ),
            row(
                anthropic_error(
                    403,
                    "permission_error",
                    "Your API key does not have permission",
                ),
                "live",
                RESTRICTED,
            ),
            row(
                anthropic_error(404, "not_found_error", "Not found"),
                "dead",
                Some("disabled or not found"),
            ),
            row(
                anthropic_error(400, "invalid_request_error", "bad"),
                "unknown",
                Some("invalid request (HTTP 400), not a key signal"),
            ),
            row(
                anthropic_error(429, "rate_limit_error", "Rate limited")
                    .header("retry-after", "60"),
                "unknown",
                Some(
                    "rate limited (HTTP 429); asked to retry after 60 s, longer than keyhound waits (20 s)",
                ),
            ),
            row(
                anthropic_error(529, "overloaded_error", "Overloaded"),
                "unknown",
                Some("overloaded (HTTP 529) (after 3 attempts)"),
            ),
        ],
    );
    let dead = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["verification"])
        .find(|v| v["status"] == "dead" && v["http_status"] == 401)
        .unwrap();
    assert_eq!(dead["request"]["error_code"], "authentication_error");
    assert_eq!(
        dead["request"]["request_id"],
        "req_011CSHoEeqs5C35K2UUqR7Fy"
    );
    assert_eq!(
        report["stats"]["verification"]["requests"],
        1 + 1 + 1 + 1 + 1 + 1 + 3
    );
}

#[test]
fn anthropic_admin_keys_read_the_organization() {
    let check = Check {
        provider: "anthropic",
        template: "sk-ant-admin01-{b64url:93}AA",
        line: "ANTHROPIC_ADMIN_KEY={}",
        method: "GET",
        path: "/v1/organizations/me",
        header: "x-api-key",
        prefix: "",
        fixed: &[("anthropic-version", "2023-06-01")],
    };
    let org = json!({"id": "12345678-1234-5678-1234-567812345678", "type": "organization",
        "name": "Acme Corp"});
    let report = table(
        &check,
        vec![
            row(Reply::json(200, org), "live", None),
            row(
                anthropic_error(401, "authentication_error", "invalid x-api-key"),
                "dead",
                DEAD,
            ),
        ],
    );
    let live = report["findings"][0]["verification"].clone();
    let live = if live["status"] == "live" {
        live
    } else {
        report["findings"][1]["verification"].clone()
    };
    assert_eq!(live["owner"]["account"], "Acme Corp");
}

fn google_error(status: u16, code: &str, reason: Option<&str>) -> Reply {
    let details = match reason {
        Some(r) => json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": r,
            "domain": "googleapis.com"}]),
        None => json!([]),
    };
    Reply::json(
        status,
        json!({"error": {"code": status, "message": "m", "status": code, "details": details}}),
    )
}

#[test]
fn gemini_every_answer() {
    let check = Check {
        provider: "google",
        template: "AIza{b64url:35}",
        line: "GEMINI_API_KEY={}",
        method: "GET",
        path: "/v1beta/models",
        header: "x-goog-api-key",
        prefix: "",
        fixed: &[],
    };
    table(
        &check,
        vec![
            row(
                Reply::json(
                    200,
                    json!({"models": [{"name": "models/gemini-2.5-flash"}]}),
                ),
                "live",
                None,
            ),
            row(
                google_error(400, "INVALID_ARGUMENT", Some("API_KEY_INVALID")),
                "dead",
                DEAD,
            ),
            row(
                google_error(403, "PERMISSION_DENIED", Some("API_KEY_SERVICE_BLOCKED")),
                "live",
                RESTRICTED,
            ),
            row(
                google_error(400, "FAILED_PRECONDITION", None),
                "live",
                RESTRICTED,
            ),
            row(
                google_error(429, "RESOURCE_EXHAUSTED", None).header("retry-after", "0"),
                "unknown",
                Some("rate limited (HTTP 429) (after 3 attempts)"),
            ),
        ],
    );
}

fn openai_style_error(status: u16, code: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": {"message": "Invalid API Key", "type": "invalid_request_error", "code": code}}),
    )
}

#[test]
fn groq_mistral_together_and_fireworks_list_models() {
    let list = || {
        Reply::json(
            200,
            json!({"object": "list", "data": [{"id": "m", "object": "model"}]}),
        )
    };
    let unauthorized = || openai_style_error(401, "invalid_api_key");
    let checks = [
        bearer(
            "groq",
            "gsk_{alnum:20}WGdyb3FY{alnum:24}",
            "GROQ_API_KEY={}",
            "GET",
            "/openai/v1/models",
        ),
        bearer(
            "mistral",
            "{alnum:30}42",
            "MISTRAL_API_KEY={}",
            "GET",
            "/v1/models",
        ),
        bearer(
            "fireworks",
            "fw_{base58:24}",
            "FIREWORKS_API_KEY={}",
            "GET",
            "/inference/v1/models",
        ),
    ];
    for check in &checks {
        table(
            check,
            vec![row(list(), "live", None), row(unauthorized(), "dead", DEAD)],
        );
    }
    let together = bearer(
        "together",
        "tgp_v1_{b64url:43}",
        "TOGETHER_API_KEY={}",
        "GET",
        "/v1/models",
    );
    let models = Reply::json(
        200,
        json!([{"id": "meta-llama/Llama-3.3-70B", "object": "model"}]),
    );
    table(
        &together,
        vec![row(models, "live", None), row(unauthorized(), "dead", DEAD)],
    );
}

#[test]
fn xai_blocked_and_disabled_flags_in_a_200_are_dead() {
    let check = bearer(
        "xai",
        "xai-{alnum:80}",
        "XAI_API_KEY={}",
        "GET",
        "/v1/api-key",
    );
    let key = |blocked: bool, disabled: bool, team: bool| {
        Reply::json(
            200,
            json!({"redacted_api_key": "xai-...abcd", "user_id": "u-1234", "name": "dev",
                "team_id": "t-5678", "acls": ["api-key:model:*", "api-key:endpoint:*"],
                "team_blocked": team, "api_key_blocked": blocked, "api_key_disabled": disabled}),
        )
    };
    let report = table(
        &check,
        vec![
            row(key(false, false, false), "live", None),
            row(key(true, false, false), "dead", Some("key blocked")),
            row(key(false, true, false), "dead", Some("key disabled")),
            row(key(false, false, true), "dead", Some("team blocked")),
            row(
                Reply::json(400, json!({"error": "Incorrect API key provided"})),
                "dead",
                DEAD,
            ),
            row(
                Reply::json(401, json!({"error": "unauthorized"})),
                "dead",
                DEAD,
            ),
        ],
    );
    let live = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["verification"]["status"] == "live")
        .unwrap();
    let owner = &live["verification"]["owner"];
    assert_eq!(owner["user"], "u-1234");
    assert_eq!(owner["account"], "t-5678");
    assert_eq!(owner["scopes"], "api-key:model:*, api-key:endpoint:*");
}

#[test]
fn openrouter_and_deepseek_report_credit() {
    let check = bearer(
        "openrouter",
        "sk-or-v1-{hex:64}",
        "OPENROUTER_API_KEY={}",
        "GET",
        "/api/v1/key",
    );
    let key = |remaining: Value| {
        Reply::json(
            200,
            json!({"data": {"label": "sk-or-v1-abc...123", "limit": 20, "limit_remaining": remaining,
                "usage": 7.5, "is_free_tier": false}}),
        )
    };
    let report = table(
        &check,
        vec![
            row(key(json!(12.5)), "live", None),
            row(key(json!(0)), "live", NO_CREDIT),
            row(key(Value::Null), "live", None),
            row(
                Reply::json(
                    401,
                    json!({"error": {"message": "No auth credentials found", "code": 401}}),
                ),
                "dead",
                DEAD,
            ),
        ],
    );
    let credits: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["verification"]["owner"]["credit_remaining"])
        .collect();
    assert!(credits.contains(&&json!("12.5")), "{credits:?}");

    let check = bearer(
        "deepseek",
        "sk-{hex:32}",
        "DEEPSEEK_API_KEY={}",
        "GET",
        "/user/balance",
    );
    let balance = |available: bool, total: &str| {
        Reply::json(
            200,
            json!({"is_available": available, "balance_infos": [{"currency": "CNY",
                "total_balance": total, "granted_balance": "0.00", "topped_up_balance": total}]}),
        )
    };
    table(
        &check,
        vec![
            row(balance(true, "110.00"), "live", None),
            row(balance(false, "0.00"), "live", NO_CREDIT),
            row(
                openai_style_error(401, "invalid_request_error"),
                "dead",
                DEAD,
            ),
        ],
    );
}

#[test]
fn cohere_huggingface_replicate_and_npm_say_who_owns_the_key() {
    let check = bearer(
        "cohere",
        "{alnum:38}42",
        "COHERE_API_KEY={}",
        "POST",
        "/v1/check-api-key",
    );
    table(
        &check,
        vec![
            row(
                Reply::json(
                    200,
                    json!({"valid": true, "organization_id": "org-1", "owner_id": "own-1"}),
                ),
                "live",
                None,
            ),
            row(Reply::json(200, json!({"valid": false})), "dead", DEAD),
            row(
                Reply::json(401, json!({"message": "invalid api token"})),
                "dead",
                DEAD,
            ),
        ],
    );
    let check = bearer(
        "huggingface",
        "hf_{letters:34}",
        "HF_TOKEN={}",
        "GET",
        "/api/whoami-v2",
    );
    let report = table(
        &check,
        vec![
            row(
                Reply::json(
                    200,
                    json!({"type": "user", "name": "alice",
                    "auth": {"type": "access_token", "accessToken": {"displayName": "ci", "role": "write"}}}),
                ),
                "live",
                None,
            ),
            row(
                Reply::json(
                    401,
                    json!({"error": "Invalid credentials in Authorization header"}),
                ),
                "dead",
                DEAD,
            ),
        ],
    );
    let owners: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["verification"]["owner"])
        .collect();
    assert!(
        owners
            .iter()
            .any(|o| o["login"] == "alice" && o["scopes"] == "write"),
        "{owners:?}"
    );
    let check = bearer(
        "replicate",
        "r8_{alnum:37}",
        "REPLICATE_API_TOKEN={}",
        "GET",
        "/v1/account",
    );
    table(
        &check,
        vec![
            row(
                Reply::json(
                    200,
                    json!({"type": "user", "username": "bob", "name": "Bob"}),
                ),
                "live",
                None,
            ),
            row(
                Reply::json(401, json!({"detail": "Invalid token."})),
                "dead",
                DEAD,
            ),
        ],
    );
    let check = bearer(
        "npm",
        "npm_{alnum:30}{crc32:30}",
        "NPM_TOKEN={}",
        "GET",
        "/-/whoami",
    );
    table(
        &check,
        vec![
            row(Reply::json(200, json!({"username": "carol"})), "live", None),
            row(
                Reply::json(401, json!({"error": "Unauthorized"})),
                "dead",
                DEAD,
            ),
        ],
    );
}

#[test]
fn stripe_403_is_a_restricted_key() {
    let check = bearer(
        "stripe",
        "rk_live_{alnum:99}",
        "STRIPE_KEY={}",
        "GET",
        "/v1/account",
    );
    let err = |status, kind: &str| {
        Reply::json(status, json!({"error": {"message": "m", "type": kind}}))
            .header("request-id", "req_AbC123")
    };
    let report = table(
        &check,
        vec![
            row(
                Reply::json(
                    200,
                    json!({"id": "acct_1Nv0FGQ9RKHgCVdK", "object": "account"}),
                ),
                "live",
                None,
            ),
            row(err(401, "invalid_request_error"), "dead", DEAD),
            row(err(403, "invalid_request_error"), "live", RESTRICTED),
        ],
    );
    let ids: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["verification"]["request"]["request_id"])
        .collect();
    assert!(ids.contains(&&json!("req_AbC123")));
}

#[test]
fn github_tokens_by_kind() {
    let user = || {
        Reply::json(200, json!({"login": "octocat", "id": 1}))
            .header("x-oauth-scopes", "repo, read:org")
            .header("x-github-request-id", "CAFE:1234:5678")
    };
    let bad = || Reply::json(401, json!({"message": "Bad credentials"}));
    let limited = || {
        Reply::json(403, json!({"message": "API rate limit exceeded"}))
            .header("x-ratelimit-remaining", "0")
    };
    let sso = || {
        Reply::json(
            403,
            json!({"message": "Resource protected by organization SAML enforcement."}),
        )
    };
    let check = bearer(
        "github",
        "ghp_{alnum:30}{crc32:30}",
        "GITHUB_TOKEN={}",
        "GET",
        "/user",
    );
    let report = table(
        &check,
        vec![
            row(user(), "live", None),
            row(bad(), "dead", DEAD),
            row(limited(), "unknown", Some("rate limited (HTTP 403)")),
            row(sso(), "live", RESTRICTED),
        ],
    );
    let owner = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["verification"])
        .find(|v| v["status"] == "live" && v["reason"].is_null())
        .unwrap();
    assert_eq!(owner["owner"]["login"], "octocat");
    assert_eq!(owner["owner"]["scopes"], "repo, read:org");
    assert_eq!(owner["request_id"], "CAFE:1234:5678");

    let installation = bearer(
        "github",
        "ghs_{alnum:30}{crc32:30}",
        "GITHUB_TOKEN={}",
        "GET",
        "/installation/repositories?per_page=1",
    );
    table(
        &installation,
        vec![
            row(
                Reply::json(200, json!({"total_count": 3, "repositories": []})),
                "live",
                None,
            ),
            row(bad(), "dead", DEAD),
        ],
    );
    let refresh = bearer(
        "github",
        "ghr_{alnum:70}{crc32:70}",
        "GITHUB_TOKEN={}",
        "GET",
        "/user",
    );
    table(
        &refresh,
        vec![row(
            bad(),
            "unknown",
            Some("a refresh token cannot call the API (HTTP 401 is not a verdict)"),
        )],
    );
}

#[test]
fn gitlab_tokens_go_in_private_token_and_instance_tokens_stay_home() {
    let check = Check {
        provider: "gitlab",
        template: "glpat-{alnum:20}",
        line: "GITLAB_TOKEN={}",
        method: "GET",
        path: "/api/v4/personal_access_tokens/self",
        header: "private-token",
        prefix: "",
        fixed: &[],
    };
    let token = |active: bool| {
        Reply::json(
            200,
            json!({"id": 42, "name": "ci", "revoked": !active, "active": active,
                "scopes": ["api", "read_user"], "user_id": 7}),
        )
    };
    let report = table(
        &check,
        vec![
            row(token(true), "live", None),
            row(token(false), "dead", Some("revoked or expired")),
            row(
                Reply::json(401, json!({"message": "401 Unauthorized"})),
                "dead",
                DEAD,
            ),
            row(
                Reply::json(403, json!({"message": "403 Forbidden"})),
                "live",
                RESTRICTED,
            ),
        ],
    );
    let live = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["verification"])
        .find(|v| v["status"] == "live" && v["reason"].is_null())
        .unwrap();
    assert_eq!(live["owner"]["scopes"], "api, read_user");
    assert_eq!(live["owner"]["user"], "7");

    let mock = Mock::start();
    let key = make("mycorp-glpat-{b64url:36}.01.{lower:9}", 9);
    let report = scan("gitlab", &mock, &[format!("GITLAB_TOKEN={key}")]);
    let v = verdict_of(&report, &key);
    assert_eq!(v["status"], "not_checked");
    assert!(mock.requests().is_empty());
}

#[test]
fn slack_answers_200_for_dead_tokens() {
    let check = bearer(
        "slack",
        "xoxb-{digit:12}-{digit:13}-{alnum:24}",
        "SLACK_BOT_TOKEN={}",
        "POST",
        "/api/auth.test",
    );
    let not_ok = |error: &str| Reply::json(200, json!({"ok": false, "error": error}));
    let report = table(
        &check,
        vec![
            row(
                Reply::json(
                    200,
                    json!({"ok": true, "url": "https://acme.slack.com/", "team": "Acme",
                    "user": "deploybot", "team_id": "T12345", "user_id": "U12345"}),
                ),
                "live",
                None,
            ),
            row(not_ok("invalid_auth"), "dead", DEAD),
            row(not_ok("token_revoked"), "dead", Some("revoked")),
            row(
                not_ok("account_inactive"),
                "dead",
                Some("account deactivated"),
            ),
            row(
                not_ok("not_allowed_token_type"),
                "unknown",
                Some("ok:false with another error"),
            ),
        ],
    );
    let live = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["verification"])
        .find(|v| v["status"] == "live")
        .unwrap();
    assert_eq!(
        (
            live["owner"]["user"].as_str(),
            live["owner"]["account"].as_str()
        ),
        (Some("deploybot"), Some("Acme"))
    );
    let dead = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["verification"])
        .find(|v| v["reason"] == "revoked")
        .unwrap();
    assert_eq!(dead["request"]["error_code"], "token_revoked");
}

#[test]
fn keys_without_a_free_check_are_never_sent() {
    let mock = Mock::start();
    let keys = [
        ("pypi", make("pypi-AgEIcHlwaS5vcmc{b64url:160}", 1)),
        ("perplexity", make("pplx-{alnum:48}", 2)),
        (
            "slack",
            make(
                "https://hooks.slack.com/services/T{upper:10}/B{upper:10}/{alnum:24}",
                3,
            ),
        ),
    ];
    for (provider, key) in &keys {
        let report = scan(provider, &mock, &[format!("KEY={key}")]);
        let v = verdict_of(&report, key);
        assert_eq!(v["status"], "not_checked", "{provider}: {v:#}");
        assert!(
            v["reason"]
                .as_str()
                .unwrap()
                .contains("no free read-only check"),
            "{v:#}"
        );
        assert!(v.get("request").is_none());
    }
    assert!(mock.requests().is_empty());
}

#[test]
fn nothing_is_sent_without_verify() {
    let mock = Mock::start();
    let key = make("sk-ant-api03-{b64url:93}AA", 11);
    let dir = tree_owned(&[("a.env".into(), format!("K={key}\n").into_bytes())]);
    let (code, _, _) = hound(dir.path(), &["scan".into(), ".".into()]);
    assert_eq!(code, 1);
    let endpoint = format!("anthropic={}", mock.origin());
    let args = ["scan", "--verify-endpoint", &endpoint, "."].map(String::from);
    let (code, _, stderr) = hound(dir.path(), &args);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--verify-endpoint needs --verify"),
        "{stderr}"
    );
    assert!(mock.requests().is_empty());
}

#[test]
fn one_request_per_distinct_key() {
    let mock = Mock::start();
    let key = make("gsk_{alnum:20}WGdyb3FY{alnum:24}", 12);
    mock.answer(
        &key,
        Reply::json(200, json!({"object": "list", "data": []})),
    );
    let line = format!("GROQ_API_KEY={key}");
    let report = scan("groq", &mock, &[line.clone(), line.clone(), line]);
    assert_eq!(report["findings"].as_array().unwrap().len(), 3);
    assert_eq!(mock.requests().len(), 1);
    assert_eq!(report["stats"]["verification"]["requests"], 1);
    assert_eq!(report["stats"]["verification"]["keys"], 1);
}

#[test]
fn a_redirect_is_not_followed_with_the_key() {
    let (mock, elsewhere) = (Mock::start(), Mock::start());
    let key = make("hf_{letters:34}", 13);
    let to = format!("{}/api/whoami-v2", elsewhere.origin());
    mock.answer(&key, Reply::json(302, json!({})).header("location", &to));
    let report = scan("huggingface", &mock, &[format!("HF_TOKEN={key}")]);
    let v = verdict_of(&report, &key);
    assert_eq!(v["status"], "unknown", "{v:#}");
    assert_eq!(v["http_status"], 302);
    assert!(elsewhere.requests().is_empty(), "the redirect was followed");
}

#[test]
fn verify_endpoint_usage_errors() {
    let dir = tree_owned(&[("a.env".into(), b"nothing\n".to_vec())]);
    for (args, want) in [
        (
            vec!["--verify-endpoint", "acme=http://127.0.0.1:9"],
            "unknown provider",
        ),
        (
            vec!["--verify-endpoint", "groq=http://10.0.0.1:9"],
            "only plain http:// to this machine",
        ),
        (
            vec!["--verify-endpoint", "groq=https://127.0.0.1:9"],
            "only plain http://",
        ),
        (
            vec!["--verify-endpoint", "groq=http://127.0.0.1:9/v1"],
            "a path is not allowed",
        ),
        (
            vec!["--verify-endpoint", "groq=http://u:p@127.0.0.1:9"],
            "credentials",
        ),
        (
            vec![
                "--verify-endpoint",
                "groq=http://127.0.0.1:9",
                "--verify-endpoint",
                "groq=http://127.0.0.1:8",
            ],
            "named twice",
        ),
        (
            vec![
                "--verify-endpoint",
                "openai=http://127.0.0.1:9",
                "--openai-base-url",
                "http://127.0.0.1:8/v1",
            ],
            "not both",
        ),
    ] {
        let mut all = vec!["scan", "--verify"];
        all.extend(args.iter());
        all.push(".");
        let args: Vec<String> = all.iter().map(|s| s.to_string()).collect();
        let (code, _, stderr) = hound(dir.path(), &args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
}

#[test]
fn keyhound_verify_reads_any_providers_keys_on_stdin() {
    let mock = Mock::start();
    let key = make("sk-ant-api03-{b64url:93}AA", 14);
    mock.answer(
        &key,
        anthropic_error(401, "authentication_error", "invalid x-api-key"),
    );
    let cache = tempfile::tempdir().unwrap();
    let out = kh()
        .env("KEYHOUND_CACHE_DIR", cache.path())
        .args([
            "verify",
            "--format",
            "json",
            "--show-secrets",
            "--verify-endpoint",
        ])
        .arg(format!("anthropic={}", mock.origin()))
        .write_stdin(format!("{key}\n"))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let v = verdict_of(&report, &key);
    assert_eq!(
        (v["status"].as_str(), v["reason"].as_str()),
        (Some("dead"), DEAD)
    );
    assert_eq!(mock.requests().len(), 1);
}

/// A clock that never sleeps.
struct NoSleep;

impl Clock for NoSleep {
    fn now(&self) -> i64 {
        1_700_000_000
    }
    fn sleep(&self, _: Duration) {}
}

#[test]
fn a_hanging_server_is_unknown_after_the_timeout() {
    let mock = Mock::start();
    let key = make("gsk_{alnum:20}WGdyb3FY{alnum:24}", 15);
    mock.answer(
        &key,
        Reply::json(200, json!({"data": []})).after(Duration::from_secs(3)),
    );
    let timeouts = Timeouts {
        connect: Duration::from_millis(500),
        attempt: Duration::from_millis(200),
    };
    let base = BaseUrl::openai()
        .with_endpoints(&[format!("groq={}", mock.origin())], false, &["groq"])
        .unwrap();
    let transport = HttpTransport::build(true, timeouts).unwrap();
    let verifier = DataVerifier::new(
        recipe::builtin(),
        base,
        Box::new(transport),
        &NoSleep,
        RetryPolicy::default(),
    );
    let secret = Secret::new(key.clone(), 4);
    let candidate = Candidate {
        fingerprint: "kh1:x",
        secret: &secret,
        provider: "groq",
        admin: false,
    };
    let started = Instant::now();
    let checked = verifier.check_candidate(&candidate);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(checked.verification.status, Status::Unknown);
    assert_eq!(
        checked.verification.reason.as_deref(),
        Some("timed out (after 3 attempts)")
    );
    assert_eq!(checked.requests, 3);
}
