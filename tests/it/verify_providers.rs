//! `--verify` for every provider with a check, against one local server per provider (never the
//! internet) pointed at with `--verify-endpoint`: each row of the provider's answer table as
//! `shared/reference/providers.md` documents it and the verdict it gets, the request sent (method,
//! path, fixed headers, the key only in its header), keys that are never sent, redirects, a
//! hanging server, one request per distinct key, and the usage errors of `--verify-endpoint`.
//! The tests are in `verify_providers/`, one file per topic; the stand-in server and the helpers
//! they share are here.

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

mod ai;
mod platforms;
mod requests;

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
