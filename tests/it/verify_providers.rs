//! `--verify` for every provider with a check, against one local server per provider (never the
//! internet) pointed at with `--verify-endpoint`: each row of the provider's answer table as
//! `shared/reference/providers.md` documents it and the verdict it gets, the request sent (method,
//! path, fixed headers, the key only in its header), keys that are never sent, redirects, a
//! hanging server, one request per distinct key, and the usage errors of `--verify-endpoint`.
//! The tests are in `verify_providers/`, one file per topic; the stand-in server and the helpers
//! they share are here; the server itself is `verify_mock`'s.

use crate::util::{kh, make, tree_owned};
use keyhound::secret::Secret;
use keyhound::verify::clock::Clock;
use keyhound::verify::endpoint::BaseUrl;
use keyhound::verify::engine::DataVerifier;
use keyhound::verify::http::{HttpTransport, Timeouts};
use keyhound::verify::openai::Verifier;
use keyhound::verify::retry::RetryPolicy;
use keyhound::verify::{Candidate, Status, recipe};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

pub use crate::verify_mock::{Mock, Reply, Request};

mod ai;
mod platforms;
mod requests;

impl Reply {
    fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

impl Request {
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

/// `keyhound ARGS` in `dir`, with its own cache and no proxy from the environment: (exit, stdout, stderr).
fn hound(dir: &Path, args: &[String]) -> (i32, String, String) {
    crate::verify_mock::hound(dir, args, None)
}

/// `keyhound scan --verify --format json` of `lines` with `provider`'s checks sent to `mock`.
fn scan(provider: &str, mock: &Mock, lines: &[String]) -> Value {
    let files: Vec<(String, String)> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| (format!("f{i}.env"), format!("{l}\n")))
        .collect();
    crate::verify_mock::scan_files(provider, mock, &files, &[])
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
