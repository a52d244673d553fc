//! What is sent and when: never keys without a free check, nothing without `--verify`, one request
//! per distinct key, no redirect followed with a key, `--verify-endpoint`'s usage errors, keys on
//! standard input, a hanging server.

use super::*;

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
