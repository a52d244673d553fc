//! A stand-in provider API on 127.0.0.1 for the verification tests of verify_aws.rs,
//! verify_gcp.rs and verify_hosts.rs: it answers each request by a string it carries (the key in
//! any header, or a service account in the path), records every request, and can answer late,
//! in XML, or with a redirect. Also the shared way to run keyhound against it.

use crate::util::{check_schema, kh, tree_owned};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One answer of the stand-in server.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply::raw(status, "application/json", &body.to_string())
    }

    pub fn raw(status: u16, content_type: &str, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

pub use crate::http_wire::Request;
use crate::http_wire::{read_request, write_head};

/// Answers a request by looking at all of it (a signature to check), or leaves it to the markers.
type Responder = Box<dyn Fn(&Request) -> Option<Reply> + Send + Sync>;

#[derive(Default)]
struct Shared {
    replies: Mutex<HashMap<String, Reply>>,
    responders: Mutex<Vec<Responder>>,
    requests: Mutex<Vec<Request>>,
}

/// The stand-in server.
pub struct Mock {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Mock {
    pub fn start() -> Mock {
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

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers `reply` to requests carrying `marker` in a header or the path.
    pub fn answer(&self, marker: &str, reply: Reply) {
        self.shared
            .replies
            .lock()
            .unwrap()
            .insert(marker.to_string(), reply);
    }

    /// Answers requests for which `f` returns a reply, before any marker is looked at.
    pub fn respond(&self, f: impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static) {
        self.shared.responders.lock().unwrap().push(Box::new(f));
    }

    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap().clone()
    }

    pub fn requests_with(&self, marker: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.carries(marker))
            .collect()
    }
}

fn serve(stream: TcpStream, state: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Some(request) = read_request(&stream) else {
        return;
    };
    state.requests.lock().unwrap().push(request.clone());
    let responded = {
        let responders = state.responders.lock().unwrap();
        responders.iter().find_map(|f| f(&request))
    };
    let reply = if let Some(reply) = responded {
        reply
    } else {
        let replies = state.replies.lock().unwrap();
        replies
            .iter()
            .find(|(k, _)| {
                request.target.contains(k.as_str())
                    || request.headers.iter().any(|(_, v)| v.contains(k.as_str()))
            })
            .map_or_else(
                || Reply::json(418, json!({"error": "no script for this request"})),
                |(_, r)| r.clone(),
            )
    };
    std::thread::sleep(reply.delay);
    let mut out = stream;
    if write_head(
        &mut out,
        reply.status,
        "X",
        &reply.headers,
        reply.body.len(),
    )
    .is_ok()
    {
        let _ = out.write_all(reply.body.as_bytes());
        let _ = out.flush();
    }
}

/// `keyhound ARGS` in `dir`, with its own cache (`cache`, else a fresh one) and no proxy from
/// the environment: (exit, stdout, stderr).
pub fn hound(dir: &Path, args: &[String], stdin: Option<&str>) -> (i32, String, String) {
    let cache = tempfile::tempdir().unwrap();
    hound_cached(dir, args, stdin, cache.path())
}

/// `hound` with the verification cache in `cache`, which outlives the run.
pub fn hound_cached(
    dir: &Path,
    args: &[String],
    stdin: Option<&str>,
    cache: &Path,
) -> (i32, String, String) {
    let mut cmd = kh();
    cmd.current_dir(dir).env("KEYHOUND_CACHE_DIR", cache);
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
    if let Some(input) = stdin {
        cmd.write_stdin(input.to_string());
    }
    let out = cmd.args(args).output().expect("keyhound runs");
    (
        out.status.code().expect("exited"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `keyhound scan --verify --format json` of `files` with `provider`'s checks sent to `mock`
/// (and `extra` arguments), checked against the schema.
pub fn scan_files(
    provider: &str,
    mock: &Mock,
    files: &[(String, String)],
    extra: &[&str],
) -> Value {
    let files: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(p, t)| (p.clone(), t.clone().into_bytes()))
        .collect();
    let dir = tree_owned(&files);
    let mut args: Vec<String> = [
        "scan",
        "--show-secrets",
        "--format",
        "json",
        "--verify",
        "--verify-endpoint",
        &format!("{provider}={}", mock.origin()),
    ]
    .map(String::from)
    .to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(".".into());
    let (code, stdout, stderr) = hound(dir.path(), &args, None);
    assert!(code == 1 || code == 0, "exit {code}: {stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    check_schema(&report, None);
    report
}

/// The verification object of the finding of `key`.
pub fn verdict_of<'a>(report: &'a Value, key: &str) -> &'a Value {
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["secret"] == key)
        .unwrap_or_else(|| panic!("{key} not found in {report:#}"));
    &finding["verification"]
}

/// (status, reason) of a verification object.
pub fn status(v: &Value) -> (Option<&str>, Option<&str>) {
    (v["status"].as_str(), v["reason"].as_str())
}
