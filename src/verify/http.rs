//! One HTTP attempt: the `Transport` trait, so the retry logic is tested without a network, and
//! its reqwest implementation. TLS is rustls (no OpenSSL) trusting the platform's certificate
//! store plus Mozilla's bundled roots, so it also works behind an inspecting corporate proxy.
//! A request carries `Authorization: Bearer <key>` (marked sensitive), a `User-Agent` naming
//! keyhound and `Accept: application/json`, nothing else; redirects are not followed.

use super::endpoint::BaseUrl;
use crate::secret::Secret;
use reqwest::blocking::{Client, Response};
use reqwest::header::{self, HeaderMap, HeaderValue};
use std::io::Read;
use std::time::Duration;

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

/// Sends one GET with the key as a bearer token.
pub trait Transport: Sync {
    fn get(&self, url: &str, key: &Secret) -> Result<Answer, Failure>;
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
}

impl HttpTransport {
    /// A client for `base`. `HTTPS_PROXY`/`NO_PROXY` are honoured, except for a loopback base.
    pub fn new(base: &BaseUrl, timeouts: Timeouts) -> Result<Self, String> {
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
        if base.is_loopback() {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot set up the HTTPS client: {}", chain(&e)))?;
        Ok(HttpTransport { client })
    }
}

impl Transport for HttpTransport {
    fn get(&self, url: &str, key: &Secret) -> Result<Answer, Failure> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
            .map_err(|_| Failure::Other("the key cannot be sent in a header".into()))?;
        auth.set_sensitive(true);
        let response = self
            .client
            .get(url)
            .header(header::AUTHORIZATION, auth)
            .send()
            .map_err(failure)?;
        read_answer(response)
    }
}

fn read_answer(response: Response) -> Result<Answer, Failure> {
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
    };
    response
        .take(MAX_BODY)
        .read_to_end(&mut answer.body)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::TimedOut => Failure::Timeout,
            _ => Failure::Other(format!("reading the answer: {e}")),
        })?;
    Ok(answer)
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
