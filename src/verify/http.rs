//! One HTTP attempt: the `Transport` trait, so the retry logic is tested without a network, and
//! its reqwest implementation. TLS is rustls (no OpenSSL) trusting the platform's certificate
//! store plus Mozilla's bundled roots, so it also works behind an inspecting corporate proxy.
//! A request carries `Authorization: Bearer <key>` (marked sensitive), a `User-Agent` naming
//! keyhound and `Accept: application/json`, nothing else; redirects are not followed. An attempt
//! has one deadline for everything (connecting, headers and the whole body, of which at most
//! `MAX_BODY` bytes are read): a server dripping bytes cannot hold it longer.

use super::endpoint::BaseUrl;
use crate::secret::Secret;
use reqwest::blocking::{Client, Response};
use reqwest::header::{self, HeaderMap, HeaderValue};
use std::io::Read;
use std::time::{Duration, Instant};

/// `keyhound/<version>`.
pub const USER_AGENT: &str = concat!("keyhound/", env!("CARGO_PKG_VERSION"));

/// The most of a body read: a models list is tens of kilobytes.
const MAX_BODY: u64 = 1 << 20;

/// What the server answered, with the headers the verdict and the report use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// `x-request-id`.
    pub request_id: Option<String>,
    /// `openai-organization`.
    pub organization: Option<String>,
    /// `retry-after-ms`, as sent.
    pub retry_after_ms: Option<String>,
    /// `retry-after`, as sent (seconds or an HTTP date).
    pub retry_after: Option<String>,
    /// `x-should-retry`, as sent.
    pub should_retry: Option<String>,
    /// Every header (names lower-cased), for the recipes of other providers; at most
    /// `MAX_HEADERS`, each value at most `MAX_HEADER_VALUE` bytes (longer ones are left out).
    pub headers: Vec<(String, String)>,
}

/// The most headers of an answer kept.
const MAX_HEADERS: usize = 64;
/// The longest header value kept.
const MAX_HEADER_VALUE: usize = 512;

/// One request of a provider's check: the key only in `key_header`, never in the URL or body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub method: String,
    pub url: String,
    /// Fixed headers, none holding the key.
    pub headers: Vec<(String, String)>,
    /// The header holding the key (or a signature made with it), marked sensitive; empty when
    /// the check sends no secret (GCP's public certificate list).
    pub key_header: String,
    pub key_value: String,
    pub body: Option<String>,
}

/// An attempt that got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Timeout,
    Connect(String),
    Other(String),
}

impl Failure {
    /// For the report: never holds the key or the URL.
    pub fn reason(&self) -> String {
        match self {
            Failure::Timeout => "timed out".to_string(),
            Failure::Connect(e) => format!("connection failed: {e}"),
            Failure::Other(e) => format!("request failed: {e}"),
        }
    }
}

/// Sends one GET with the key as a bearer token (`get`, OpenAI's check), or one request of
/// another provider's check (`send`).
pub trait Transport: Sync {
    fn get(&self, url: &str, key: &Secret) -> Result<Answer, Failure>;
    /// Sends `request`; transports that only speak OpenAI's check refuse.
    fn send(&self, request: &Outgoing) -> Result<Answer, Failure> {
        let _ = request;
        Err(Failure::Other(
            "this transport sends OpenAI's check only".into(),
        ))
    }
}

/// Per-attempt limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    /// The whole attempt, connecting and reading the body included.
    pub attempt: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            attempt: Duration::from_secs(10),
        }
    }
}

/// The real transport: one reqwest client shared by every worker.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: Client,
    /// The deadline of each attempt, from sending the request to the body's last byte.
    attempt: Duration,
}

impl HttpTransport {
    /// A client for `base`. `HTTPS_PROXY`/`NO_PROXY` are honoured, except for a loopback base.
    pub fn new(base: &BaseUrl, timeouts: Timeouts) -> Result<Self, String> {
        Self::build(base.is_loopback(), timeouts)
    }

    /// A client that uses the proxy from the environment unless `direct`.
    pub fn build(direct: bool, timeouts: Timeouts) -> Result<Self, String> {
        let bundled = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .filter_map(|der| reqwest::Certificate::from_der(der.as_ref()).ok());
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        let mut builder = Client::builder()
            .user_agent(USER_AGENT)
            .default_headers(headers)
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.attempt)
            .redirect(reqwest::redirect::Policy::none())
            .tls_certs_merge(bundled);
        if direct {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot set up the HTTPS client: {}", chain(&e)))?;
        Ok(HttpTransport {
            client,
            attempt: timeouts.attempt,
        })
    }
}

impl Transport for HttpTransport {
    fn get(&self, url: &str, key: &Secret) -> Result<Answer, Failure> {
        let deadline = Instant::now() + self.attempt;
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
            .map_err(|_| Failure::Other("the key cannot be sent in a header".into()))?;
        auth.set_sensitive(true);
        let response = self
            .client
            .get(url)
            .header(header::AUTHORIZATION, auth)
            // Per request, reqwest's timeout covers the body too; the client's covers each read.
            .timeout(self.attempt)
            .send()
            .map_err(failure)?;
        read_answer(response, deadline)
    }

    fn send(&self, request: &Outgoing) -> Result<Answer, Failure> {
        let deadline = Instant::now() + self.attempt;
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| Failure::Other("bad method".into()))?;
        let mut builder = self
            .client
            .request(method, &request.url)
            .timeout(self.attempt);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if !request.key_header.is_empty() {
            let mut key = HeaderValue::from_str(&request.key_value)
                .map_err(|_| Failure::Other("the key cannot be sent in a header".into()))?;
            key.set_sensitive(true);
            builder = builder.header(request.key_header.as_str(), key);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let response = builder.send().map_err(failure)?;
        read_answer(response, deadline)
    }
}

fn read_answer(response: Response, deadline: Instant) -> Result<Answer, Failure> {
    let status = response.status().as_u16();
    let text = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_string())
    };
    let mut answer = Answer {
        status,
        body: Vec::new(),
        request_id: text("x-request-id"),
        organization: text("openai-organization"),
        retry_after_ms: text("retry-after-ms"),
        retry_after: text("retry-after"),
        should_retry: text("x-should-retry"),
        headers: all_headers(response.headers()),
    };
    answer.body = read_body(response.take(MAX_BODY), deadline)?;
    Ok(answer)
}

fn all_headers(map: &HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .filter_map(|(name, value)| {
            let value = value.to_str().ok()?.trim();
            (value.len() <= MAX_HEADER_VALUE)
                .then(|| (name.as_str().to_string(), value.to_string()))
        })
        .take(MAX_HEADERS)
        .collect()
}

/// Reads `body` to its end, failing with `Timeout` once `deadline` has passed.
fn read_body(mut body: impl Read, deadline: Instant) -> Result<Vec<u8>, Failure> {
    let mut data = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let read = body.read(&mut buf);
        if Instant::now() >= deadline {
            return Err(Failure::Timeout);
        }
        match read {
            Ok(0) => return Ok(data),
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut || is_timeout(&e) => {
                return Err(Failure::Timeout);
            }
            Err(e) => return Err(Failure::Other(format!("reading the answer: {e}"))),
        }
    }
}

/// Whether an I/O error comes from a reqwest timeout (its body deadline).
fn is_timeout(e: &std::io::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = e.get_ref().map(|e| e as _);
    while let Some(s) = source {
        if s.downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_timeout)
        {
            return true;
        }
        source = s.source();
    }
    false
}

fn failure(e: reqwest::Error) -> Failure {
    let e = e.without_url();
    if e.is_timeout() {
        Failure::Timeout
    } else if e.is_connect() {
        Failure::Connect(root_cause(&e))
    } else {
        Failure::Other(chain(&e))
    }
}

/// The innermost source of an error: "Connection refused (os error 111)".
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The error and its sources, the way `anyhow` prints `{:#}`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
