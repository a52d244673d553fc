//! Verdicts of providers other than OpenAI through every consumer of a verdict, against one local
//! stand-in (`--verify-endpoint` for each provider): the human report, SARIF levels, `--fail-on
//! live`, `--only-live`, the audit's risk levels, the cache of a second run, and `--provider`
//! choosing which keys are verified at all.

use crate::util::{git_in, make, ok, tree_owned};
use crate::verify_mock::{Mock, Reply, hound, hound_cached};
use serde_json::{Value, json};
use std::path::Path;

/// An Anthropic key the stand-in says is live, a Stripe key it says is restricted (403), and a
/// Hugging Face token it says is dead (401): (anthropic, stripe, huggingface).
fn keys(mock: &Mock) -> (String, String, String) {
    let anthropic = make("sk-ant-api03-{b64url:93}AA", 600);
    let stripe = make("rk_live_{alnum:99}", 601);
    let hf = make("hf_{letters:34}", 602);
    mock.answer(
        &anthropic,
        Reply::json(200, json!({"data": [{"id": "claude", "type": "model"}]})),
    );
    mock.answer(
        &stripe,
        Reply::json(
            403,
            json!({"error": {"message": "m", "type": "invalid_request_error"}}),
        ),
    );
    mock.answer(
        &hf,
        Reply::json(401, json!({"error": "Invalid credentials"})),
    );
    (anthropic, stripe, hf)
}

fn endpoints(mock: &Mock) -> Vec<String> {
    ["anthropic", "stripe", "huggingface"]
        .iter()
        .flat_map(|p| {
            [
                "--verify-endpoint".to_string(),
                format!("{p}={}", mock.origin()),
            ]
        })
        .collect()
}

fn env_file(anthropic: &str, stripe: &str, hf: &str) -> String {
    format!("ANTHROPIC_API_KEY={anthropic}\nSTRIPE_KEY={stripe}\nHF_TOKEN={hf}\n")
}

fn args(mock: &Mock, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["scan".to_string(), "--verify".to_string()];
    args.extend(endpoints(mock));
    args.extend(extra.iter().map(|s| (*s).to_string()));
    args.push(".".into());
    args
}

#[test]
fn human_sarif_and_the_gate_read_every_providers_verdict() {
    let mock = Mock::start();
    let (anthropic, stripe, hf) = keys(&mock);
    let dir = tree_owned(&[(
        ".env".to_string(),
        env_file(&anthropic, &stripe, &hf).into_bytes(),
    )]);
    let (code, human, stderr) = hound(dir.path(), &args(&mock, &["--color", "never"]), None);
    assert_eq!(code, 1, "{stderr}");
    for label in [
        "live",
        "live — restricted key",
        "dead — revoked or never valid",
    ] {
        assert!(human.contains(label), "{label}: {human}");
    }
    let (_, sarif, _) = hound(dir.path(), &args(&mock, &["--format", "sarif"]), None);
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    let mut levels: Vec<(String, String)> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let rule = r["ruleId"].as_str().unwrap().to_string();
            (rule, r["level"].as_str().unwrap().to_string())
        })
        .collect();
    levels.sort();
    let level = |provider: &str| {
        levels
            .iter()
            .find(|(rule, _)| rule.contains(provider))
            .map(|(_, l)| l.as_str())
    };
    assert_eq!(level("anthropic"), Some("error"), "{levels:?}");
    assert_eq!(level("stripe"), Some("error"), "{levels:?}");
    assert_eq!(level("huggingface"), Some("note"), "{levels:?}");
    // The gate: live keys fail it; a file holding only the dead token passes.
    let (code, _, _) = hound(dir.path(), &args(&mock, &["--fail-on", "live"]), None);
    assert_eq!(code, 1);
    let dead_only = tree_owned(&[(".env".to_string(), format!("HF_TOKEN={hf}\n").into_bytes())]);
    let (code, _, stderr) = hound(dead_only.path(), &args(&mock, &["--fail-on", "live"]), None);
    assert_eq!(code, 0, "{stderr}");
    let (_, only_live, _) = hound(
        dir.path(),
        &args(
            &mock,
            &["--only-live", "--format", "json", "--show-secrets"],
        ),
        None,
    );
    let only_live: Value = serde_json::from_str(&only_live).unwrap();
    let shown: Vec<&str> = only_live["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["secret"].as_str().unwrap())
        .collect();
    assert!(shown.contains(&anthropic.as_str()) && !shown.contains(&hf.as_str()));
}

#[test]
fn a_second_run_takes_every_providers_verdicts_from_the_cache() {
    let mock = Mock::start();
    let (anthropic, stripe, hf) = keys(&mock);
    let dir = tree_owned(&[(
        ".env".to_string(),
        env_file(&anthropic, &stripe, &hf).into_bytes(),
    )]);
    let cache = tempfile::tempdir().unwrap();
    let json_args = args(&mock, &["--format", "json"]);
    let (_, first, _) = hound_cached(dir.path(), &json_args, None, cache.path());
    let first: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["stats"]["verification"]["requests"], 3);
    let (_, again, _) = hound_cached(dir.path(), &json_args, None, cache.path());
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again["stats"]["verification"]["cached"], 3, "{again:#}");
    assert_eq!(again["stats"]["verification"]["requests"], 0);
    assert_eq!(mock.requests().len(), 3);
}

#[test]
fn verify_checks_only_the_keys_of_the_providers_named() {
    let mock = Mock::start();
    let (anthropic, stripe, hf) = keys(&mock);
    let dir = tree_owned(&[(
        ".env".to_string(),
        env_file(&anthropic, &stripe, &hf).into_bytes(),
    )]);
    let (code, out, stderr) = hound(
        dir.path(),
        &args(&mock, &["--provider", "stripe", "--format", "json"]),
        None,
    );
    assert_eq!(code, 1, "{stderr}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 1);
    assert_eq!(report["stats"]["verification"]["keys"], 1);
    let sent = mock.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].target, "/v1/account");
}

fn audit_risks(repo: &Path, mock: &Mock) -> Vec<(String, String)> {
    let mut args = vec![
        "audit".to_string(),
        "--verify".to_string(),
        "--format".to_string(),
        "json".to_string(),
        "--show-secrets".to_string(),
    ];
    args.extend(endpoints(mock));
    args.push(repo.display().to_string());
    let (code, out, stderr) = hound(repo, &args, None);
    assert_eq!(code, 1, "{stderr}");
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    report["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let risk = k["risk"].as_str().unwrap().to_string();
            (k["secret"].as_str().unwrap().to_string(), risk)
        })
        .collect()
}

#[test]
fn the_audit_ranks_every_providers_keys_by_their_verdict() {
    let mock = Mock::start();
    let (anthropic, stripe, hf) = keys(&mock);
    let repo = tempfile::tempdir().unwrap();
    ok({
        let mut c = git_in(repo.path());
        c.arg("init");
        c
    });
    std::fs::write(repo.path().join(".env"), env_file(&anthropic, &stripe, &hf)).unwrap();
    ok({
        let mut c = git_in(repo.path());
        c.args(["add", "-f", ".env"]);
        c
    });
    ok({
        let mut c = git_in(repo.path());
        c.args(["commit", "-q", "-m", "keys"]);
        c
    });
    let risks = audit_risks(repo.path(), &mock);
    let risk = |key: &str| {
        risks
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, r)| r.as_str())
    };
    assert_eq!(risk(&anthropic), Some("critical"), "{risks:?}");
    assert_eq!(risk(&stripe), Some("critical"), "{risks:?}");
    assert_eq!(risk(&hf), Some("none"), "{risks:?}");
}

/// What a provider's server sends back goes into the report only when it has its field's shape
/// and holds nothing key-shaped: a server echoing the key (or another key) in the owner's name,
/// its role, an account id or a request id gets those fields dropped, and the key stays out.
#[test]
fn server_fields_echoing_a_key_stay_out_of_the_report() {
    let mock = Mock::start();
    let hf = make("hf_{letters:34}", 610);
    let stripe = make("rk_live_{alnum:99}", 611);
    let other = make("sk-ant-api03-{b64url:93}AA", 612);
    mock.answer(
        &hf,
        Reply::json(
            200,
            json!({"name": hf, "auth": {"accessToken": {"role": other}}}),
        )
        .header("x-request-id", &hf),
    );
    mock.answer(
        &stripe,
        Reply::json(200, json!({"id": stripe, "object": "account"})).header("request-id", &other),
    );
    let dir = tree_owned(&[(
        ".env".to_string(),
        format!("HF_TOKEN={hf}\nSTRIPE_KEY={stripe}\n").into_bytes(),
    )]);
    let (code, out, stderr) = hound(dir.path(), &args(&mock, &["--format", "json"]), None);
    assert_eq!(code, 1, "{stderr}");
    for key in [&hf, &stripe, &other] {
        assert!(!out.contains(key.as_str()), "a key is in the report: {out}");
    }
    let report: Value = serde_json::from_str(&out).unwrap();
    for f in report["findings"].as_array().unwrap() {
        let v = &f["verification"];
        assert_eq!(v["status"], "live", "{v:#}");
        assert!(v["owner"].is_null(), "{v:#}");
        assert!(v["request"]["request_id"].is_null(), "{v:#}");
    }
}
