//! `keyhound verify --provider X` for the weak formats on standard input (DeepSeek, Mistral,
//! Cohere, Moonshot, Qwen, old Azure keys): with one provider named, a bare key is that
//! provider's and is verified against it alone (a local stand-in, `--verify-endpoint`); without
//! `--provider` it is counted as unattributed, reported nowhere, and nothing is sent; with two
//! providers named, nothing is attributed by the name.

use crate::util::make;
use crate::verify_mock::{Mock, Reply, hound, status, verdict_of};
use serde_json::{Value, json};

/// `keyhound verify --format json [--provider P] --verify-endpoint E=mock` with `input`.
fn verify(
    provider: Option<&str>,
    endpoint: &str,
    mock: &Mock,
    input: &str,
) -> (i32, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = [
        "verify",
        "--format",
        "json",
        "--show-secrets",
        "--verify-endpoint",
        &format!("{endpoint}={}", mock.origin()),
    ]
    .map(String::from)
    .to_vec();
    if let Some(p) = provider {
        args.extend(["--provider".to_string(), p.to_string()]);
    }
    let (code, stdout, stderr) = hound(dir.path(), &args, Some(input));
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    crate::util::check_schema(&report, None);
    (code, report, stderr)
}

/// One weak format: provider, key template, the request its check sends, a live answer.
struct Weak {
    provider: &'static str,
    template: &'static str,
    method: &'static str,
    path: &'static str,
    live: Reply,
}

fn weak_formats() -> Vec<Weak> {
    vec![
        Weak {
            provider: "deepseek",
            template: "sk-{hex:32}",
            method: "GET",
            path: "/user/balance",
            live: Reply::json(
                200,
                json!({"is_available": true, "balance_infos": [{"currency": "CNY", "total_balance": "9.00"}]}),
            ),
        },
        Weak {
            provider: "mistral",
            template: "{alnum:30}42",
            method: "GET",
            path: "/v1/models",
            live: Reply::json(200, json!({"object": "list", "data": [{"id": "m"}]})),
        },
        Weak {
            provider: "cohere",
            template: "{alnum:38}42",
            method: "POST",
            path: "/v1/check-api-key",
            live: Reply::json(200, json!({"valid": true, "organization_id": "org-1"})),
        },
        Weak {
            provider: "moonshot",
            template: "sk-{alnum:48}",
            method: "GET",
            path: "/v1/users/me/balance",
            live: Reply::json(200, json!({"code": 0, "data": {"available_balance": 3.5}})),
        },
    ]
}

#[test]
fn a_weak_format_key_is_verified_against_the_one_provider_named() {
    for (i, weak) in weak_formats().into_iter().enumerate() {
        let mock = Mock::start();
        let key = make(weak.template, 500 + i as u64);
        mock.answer(&key, weak.live.clone());
        let (code, report, stderr) = verify(
            Some(weak.provider),
            weak.provider,
            &mock,
            &format!("{key}\n"),
        );
        assert_eq!(code, 1, "{}: {stderr}", weak.provider);
        let v = verdict_of(&report, &key);
        assert_eq!(status(v).0, Some("live"), "{}: {v:#}", weak.provider);
        assert_eq!(report["findings"][0]["line"], 1);
        assert_eq!(report["findings"][0]["column"], 1);
        let sent = mock.requests();
        assert_eq!(sent.len(), 1, "{}", weak.provider);
        assert_eq!(
            (sent[0].method.as_str(), sent[0].target.as_str()),
            (weak.method, weak.path)
        );
        let bearer = format!("Bearer {key}");
        assert_eq!(sent[0].header("authorization"), Some(bearer.as_str()));
    }
}

#[test]
fn without_provider_a_weak_format_key_is_unattributed_and_nothing_is_sent() {
    for (i, weak) in weak_formats().into_iter().enumerate() {
        let mock = Mock::start();
        let key = make(weak.template, 520 + i as u64);
        mock.answer(&key, weak.live.clone());
        let (code, report, stderr) = verify(None, weak.provider, &mock, &format!("{key}\n"));
        assert_eq!(code, 0, "{}: {stderr}", weak.provider);
        assert_eq!(report["findings"], json!([]), "{}", weak.provider);
        // A prefixed shape (`sk-`) is counted as unattributed; a bare run of letters and
        // digits is no one's key shape without its provider's name, so it is not even counted.
        let shaped = u64::from(weak.template.starts_with("sk-"));
        assert_eq!(
            report["stats"]["unattributed"], shaped,
            "{}: {report:#}",
            weak.provider
        );
        assert!(
            stderr.contains("line 1 of standard input holds no key"),
            "{stderr}"
        );
        assert!(
            mock.requests().is_empty(),
            "{}: a key was sent",
            weak.provider
        );
    }
}

#[test]
fn qwen_and_hostless_azure_keys_named_on_stdin_are_found_but_never_sent() {
    let mock = Mock::start();
    let qwen = make("sk-{hex:32}", 540);
    let (code, report, stderr) = verify(Some("qwen"), "qwen", &mock, &format!("{qwen}\n"));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(status(verdict_of(&report, &qwen)).0, Some("not_checked"));
    let azure = make("{hex:32}", 541);
    let (code, report, stderr) = verify(
        Some("azure-openai"),
        "azure-openai",
        &mock,
        &format!("{azure}\n"),
    );
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        status(verdict_of(&report, &azure)),
        (
            Some("not_checked"),
            Some(
                "no *.openai.azure.com host in the same file: the key goes only to its own resource"
            )
        )
    );
    assert!(mock.requests().is_empty());
}

#[test]
fn an_old_azure_key_named_on_stdin_goes_to_the_resource_on_its_line() {
    let mock = Mock::start();
    let key = make("{hex:32}", 542);
    mock.answer(
        &key,
        Reply::json(200, json!({"object": "list", "data": [{"id": "gpt-4o"}]})),
    );
    let input = format!("https://contoso.openai.azure.com {key}\n");
    let (code, report, stderr) = verify(Some("azure-openai"), "azure-openai", &mock, &input);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(status(verdict_of(&report, &key)).0, Some("live"));
    let sent = mock.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("api-key"), Some(key.as_str()));
}

#[test]
fn two_providers_named_attribute_nothing_by_the_name() {
    // DeepSeek's and Qwen's keys share a shape: naming both must not send the key to either.
    let mock = Mock::start();
    let key = make("sk-{hex:32}", 550);
    let (code, report, stderr) = verify(
        Some("deepseek,qwen"),
        "deepseek",
        &mock,
        &format!("{key}\n"),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["findings"], json!([]));
    assert!(mock.requests().is_empty());
}
