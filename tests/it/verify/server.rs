//! A local stand-in for the OpenAI API, on 127.0.0.1 and a port of its own, so that no test
//! reaches the internet. It answers each key with a script of replies (the n-th request for a
//! key gets the n-th reply, the last one repeating; keys without a script get the 401 that a
//! revoked key gets) and records every request, how many were in flight at once, and the headers.
//! Plain `std::net`: one thread per connection, HTTP/1.1 with `Connection: close`.

use std::collections::HashMap;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// How long to wait before answering.
    pub delay: Duration,
    /// When set, the body is sent one byte at a time with this pause before each byte.
    pub drip: Option<Duration>,
}

impl Reply {
    fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply {
            status,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                (
                    "x-request-id".into(),
                    "req_0123456789abcdef0123456789abcdef".into(),
                ),
                ("openai-organization".into(), "user-abc123".into()),
                ("openai-version".into(), "2020-10-01".into()),
            ],
            body: body.to_string(),
            delay: Duration::ZERO,
            drip: None,
        }
    }

    /// 200 with the models list `GET /v1/models` returns.
    pub fn models() -> Reply {
        Reply::json(
            200,
            serde_json::json!({"object": "list", "data": [
                {"id": "gpt-4o", "object": "model", "created": 1_715_367_049, "owned_by": "system"},
                {"id": "gpt-4o-mini", "object": "model", "created": 1_721_172_741, "owned_by": "system"},
            ]}),
        )
    }

    /// 200 with the list `GET /v1/organization/admin_api_keys?limit=1` returns.
    pub fn admin_keys() -> Reply {
        Reply::json(
            200,
            serde_json::json!({"object": "list", "data": [{
                "object": "organization.admin_api_key", "id": "key_abc", "name": "Main Admin Key",
                "redacted_value": "sk-admin...xyz", "created_at": 1_711_471_533,
            }], "first_id": "key_abc", "last_id": "key_abc", "has_more": false}),
        )
    }

    /// The API's error envelope.
    pub fn error(status: u16, kind: &str, code: Option<&str>, message: &str) -> Reply {
        Reply::json(
            status,
            serde_json::json!({"error": {
                "message": message, "type": kind, "param": null, "code": code,
            }}),
        )
    }

    /// 401 `invalid_api_key`, as for a revoked or made-up key (`mask` is the key as masked there).
    pub fn invalid_key(mask: &str) -> Reply {
        let message = format!(
            "Incorrect API key provided: {mask}. You can find your API key at \
             https://platform.openai.com/account/api-keys."
        );
        Reply::error(
            401,
            "invalid_request_error",
            Some("invalid_api_key"),
            &message,
        )
    }

    /// An HTML page, as a gateway or a captive portal sends.
    pub fn html(status: u16, page: &str) -> Reply {
        Reply {
            status,
            headers: vec![
                ("content-type".into(), "text/html".into()),
                ("server".into(), "cloudflare".into()),
            ],
            body: page.to_string(),
            delay: Duration::ZERO,
            drip: None,
        }
    }

    /// Sets header `name` to `value`, replacing what the reply had for it.
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sends the headers at once, then the body a byte at a time, `pause` before each byte.
    pub fn dripping(mut self, pause: Duration) -> Reply {
        self.drip = Some(pause);
        self
    }

    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

pub use crate::http_wire::Request;
use crate::http_wire::{read_request, write_head};

#[derive(Default)]
struct Shared {
    scripts: Mutex<HashMap<String, Vec<Reply>>>,
    requests: Mutex<Vec<Request>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    stop: AtomicBool,
}

/// The running server; dropping it stops it.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared::default());
        let state = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if state.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let state = state.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Server { addr, shared }
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Answers requests with `key` by `replies`, in order, the last one repeating.
    pub fn script(&self, key: &str, replies: Vec<Reply>) {
        assert!(!replies.is_empty());
        self.shared
            .scripts
            .lock()
            .unwrap()
            .insert(key.to_string(), replies);
    }

    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// How many requests carried `key`.
    pub fn requests_for(&self, key: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.key() == Some(key))
            .count()
    }

    /// The most requests that were being answered at one time.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

fn serve(stream: TcpStream, state: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Some(request) = read_request(&stream) else {
        return;
    };
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let reply = {
        let mut requests = state.requests.lock().unwrap();
        requests.push(request.clone());
        let key = request.key().unwrap_or_default();
        let nth = requests.iter().filter(|r| r.key() == Some(key)).count() - 1;
        let scripts = state.scripts.lock().unwrap();
        match scripts.get(key) {
            Some(replies) => replies[nth.min(replies.len() - 1)].clone(),
            None => Reply::invalid_key("sk-****"),
        }
    };
    std::thread::sleep(reply.delay);
    // Out of flight before the answer leaves: once the client reads it, it may send its next
    // request, which must not be counted beside this one.
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    let _ = write_reply(stream, &reply);
}

fn write_reply(mut stream: TcpStream, reply: &Reply) -> std::io::Result<()> {
    write_head(
        &mut stream,
        reply.status,
        reason(reply.status),
        &reply.headers,
        reply.body.len(),
    )?;
    match reply.drip {
        None => stream.write_all(reply.body.as_bytes())?,
        Some(pause) => {
            for byte in reply.body.as_bytes() {
                std::thread::sleep(pause);
                stream.write_all(&[*byte])?;
                stream.flush()?;
            }
        }
    }
    stream.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        408 => "Request Timeout",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
