//! `--verify` of the keys whose host comes from the file they are in, against local stand-ins:
//! Azure OpenAI keys go only to the `*.openai.azure.com` resource named in the same file (else
//! `not_checked`), GitLab tokens next to a self-managed instance are never sent, Moonshot keys
//! report their credit and China-platform keys stay home, and Qwen keys are never sent. A 401
//! that may come from the wrong region or resource is `unknown`, not `dead`: a Moonshot key
//! without api.moonshot.ai named next to it, an Azure key in a file naming several resources.

use crate::util::make;
use crate::verify_mock::{Mock, Reply, scan_files, status, verdict_of};
use serde_json::json;

const AZURE: &str = "{alnum:52}JQQJ99{alnum:1}C{alnum:12}AAABACOG{marvin:80}";
const AZURE_PATH: &str = "/openai/models?api-version=2024-10-21";

fn azure_401() -> Reply {
    Reply::json(
        401,
        json!({"error": {"code": "401", "message": "Access denied due to invalid subscription key or wrong API endpoint."}}),
    )
    .header("apim-request-id", "0b6a2f4e-1c2d-4e5f-9a8b-7c6d5e4f3a2b")
}

#[test]
fn azure_keys_go_only_to_the_resource_named_in_their_file() {
    let mock = Mock::start();
    let far = make(AZURE, 1);
    let legacy = make("{hex:32}", 2);
    let refused = make(AZURE, 3);
    let alone = make(AZURE, 4);
    let lookalike = make(AZURE, 5);
    let filler: String = (0..30).map(|i| format!("# line {i}\n")).collect();
    let files = vec![
        // The host 30 lines away, in upper case: the same file, lower-cased.
        (
            "far.env".to_string(),
            format!(
                "AZURE_OPENAI_ENDPOINT=https://Contoso-AI.openai.azure.com/\n{filler}AZURE_OPENAI_API_KEY={far}\n"
            ),
        ),
        (
            "legacy.env".to_string(),
            format!(
                "AZURE_OPENAI_ENDPOINT=https://contoso-legacy.openai.azure.com/\nAZURE_OPENAI_API_KEY={legacy}\n"
            ),
        ),
        (
            "refused.env".to_string(),
            format!("endpoint: https://private-res.openai.azure.com\nkey: {refused}\n"),
        ),
        (
            "alone.env".to_string(),
            format!("AZURE_OPENAI_API_KEY={alone}\n"),
        ),
        (
            "lookalike.env".to_string(),
            format!(
                "endpoint: https://x.openai.azure.com.evil.example/\nalso: https://evil.example/openai\nkey: {lookalike}\n"
            ),
        ),
    ];
    mock.answer(
        &far,
        Reply::json(200, json!({"object": "list", "data": [{"id": "gpt-4o"}]})),
    );
    mock.answer(&legacy, azure_401());
    mock.answer(&refused, Reply::json(403, json!({"error": {"code": "AuthenticationTypeDisabled", "message": "Public access is disabled."}})));
    let report = scan_files("azure-openai", &mock, &files, &[]);
    let missing =
        Some("no *.openai.azure.com host in the same file: the key goes only to its own resource");
    for (key, want) in [
        (&far, (Some("live"), None)),
        (&legacy, (Some("dead"), Some("revoked or never valid"))),
        (
            &refused,
            (
                Some("unknown"),
                Some("the resource refuses this network (HTTP 403)"),
            ),
        ),
        (&alone, (Some("not_checked"), missing)),
        (&lookalike, (Some("not_checked"), missing)),
    ] {
        let v = verdict_of(&report, key);
        assert_eq!(status(v), want, "{v:#}");
    }
    assert_eq!(
        verdict_of(&report, &legacy)["request"]["request_id"],
        "0b6a2f4e-1c2d-4e5f-9a8b-7c6d5e4f3a2b"
    );
    assert_eq!(
        verdict_of(&report, &far)["request"]["path"],
        "/openai/models?api-version=2024-10-21"
    );
    for key in [&far, &legacy, &refused] {
        let sent = mock.requests_with(key);
        assert_eq!(sent.len(), 1);
        assert_eq!(
            (sent[0].method.as_str(), sent[0].target.as_str()),
            ("GET", AZURE_PATH)
        );
        assert_eq!(sent[0].header("api-key"), Some(key.as_str()));
        assert!(sent[0].header("authorization").is_none());
    }
    assert_eq!(mock.requests().len(), 3);
}

#[test]
fn gitlab_tokens_next_to_another_instance_are_not_sent() {
    let mock = Mock::start();
    let own = make("glpat-{alnum:20}", 11);
    let remote = make("glpat-{alnum:20}", 12);
    let server = make("glpat-{alnum:20}", 13);
    let files = vec![
        (
            "own.env".to_string(),
            format!("GITLAB_URL=https://gitlab.com/api/v4\nGITLAB_TOKEN={own}\n"),
        ),
        (
            "remote.cfg".to_string(),
            format!("url = git@gitlab.corp.example:team/app.git\ntoken = {remote}\n"),
        ),
        (
            "server.env".to_string(),
            format!("CI_SERVER_HOST=gitlab.internal.example\nGITLAB_TOKEN={server}\n"),
        ),
    ];
    mock.answer(
        &own,
        Reply::json(
            200,
            json!({"id": 7, "name": "ci", "active": true, "user_id": 42, "scopes": ["read_api"]}),
        ),
    );
    let report = scan_files("gitlab", &mock, &files, &[]);
    assert_eq!(status(verdict_of(&report, &own)).0, Some("live"));
    for key in [&remote, &server] {
        let v = verdict_of(&report, key);
        assert_eq!(
            status(v),
            (
                Some("not_checked"),
                Some("next to a self-managed GitLab host: its instance is not gitlab.com")
            ),
            "{v:#}"
        );
        assert!(mock.requests_with(key).is_empty());
    }
    assert_eq!(mock.requests().len(), 1);
}

#[test]
fn moonshot_reports_credit_and_leaves_china_platform_keys_alone() {
    let mock = Mock::start();
    let t = "sk-{alnum:48}";
    let (rich, broke, dead, china) = (make(t, 21), make(t, 22), make(t, 23), make(t, 24));
    let unsure = make(t, 25);
    let balance = |b: f64| {
        Reply::json(
            200,
            json!({"code": 0, "data": {"available_balance": b, "voucher_balance": b, "cash_balance": 0}, "scode": "0x0", "status": true}),
        )
    };
    mock.answer(&rich, balance(12.5));
    mock.answer(&broke, balance(0.0));
    let invalid = Reply::json(
        401,
        json!({"error": {"message": "Invalid Authentication", "type": "invalid_authentication_error"}}),
    );
    mock.answer(&dead, invalid.clone());
    mock.answer(&unsure, invalid);
    let files = vec![
        ("a.env".to_string(), format!("MOONSHOT_API_KEY={rich}\n")),
        ("b.env".to_string(), format!("MOONSHOT_API_KEY={broke}\n")),
        (
            "c.env".to_string(),
            format!("MOONSHOT_BASE_URL=https://api.moonshot.ai/v1\nMOONSHOT_API_KEY={dead}\n"),
        ),
        // No host named: a China-platform key gets the same 401 from api.moonshot.ai.
        ("e.env".to_string(), format!("MOONSHOT_API_KEY={unsure}\n")),
        (
            "d.py".to_string(),
            format!(
                "client = OpenAI(api_key=\"{china}\", base_url=\"https://api.moonshot.cn/v1\")  # kimi\n"
            ),
        ),
    ];
    let report = scan_files("moonshot", &mock, &files, &[]);
    let v = verdict_of(&report, &rich);
    assert_eq!(status(v), (Some("live"), None));
    assert_eq!(v["owner"]["credit_remaining"], "12.5");
    assert_eq!(
        status(verdict_of(&report, &broke)),
        (Some("live"), Some("no credit"))
    );
    assert_eq!(
        status(verdict_of(&report, &dead)),
        (Some("dead"), Some("revoked or never valid"))
    );
    assert_eq!(
        verdict_of(&report, &dead)["request"]["error_code"],
        "invalid_authentication_error"
    );
    let v = verdict_of(&report, &unsure);
    assert_eq!(
        status(v),
        (
            Some("unknown"),
            Some(
                "HTTP 401: no api.moonshot.ai next to the key, and a key of Moonshot's China \
                 platform (api.moonshot.cn) gets the same answer there"
            )
        ),
        "{v:#}"
    );
    assert_eq!(status(verdict_of(&report, &china)).0, Some("not_checked"));
    for key in [&rich, &broke, &dead, &unsure] {
        let sent = mock.requests_with(key);
        assert_eq!(sent.len(), 1);
        assert_eq!(
            (sent[0].method.as_str(), sent[0].target.as_str()),
            ("GET", "/v1/users/me/balance")
        );
        assert_eq!(
            sent[0].header("authorization"),
            Some(format!("Bearer {key}").as_str())
        );
    }
    assert_eq!(mock.requests().len(), 4);
}

#[test]
fn qwen_keys_are_never_sent() {
    let mock = Mock::start();
    let key = make("sk-{hex:32}", 31);
    let files = vec![("q.env".to_string(), format!("DASHSCOPE_API_KEY={key}\n"))];
    let report = scan_files("qwen", &mock, &files, &[]);
    assert_eq!(status(verdict_of(&report, &key)).0, Some("not_checked"));
    assert!(mock.requests().is_empty());
}

#[test]
fn an_azure_401_in_a_file_naming_several_resources_is_unknown() {
    let mock = Mock::start();
    let (several, same) = (make(AZURE, 41), make(AZURE, 42));
    let files = vec![
        (
            "two.env".to_string(),
            format!(
                "EAST=https://contoso-east.openai.azure.com/\nWEST=https://contoso-west.openai.azure.com/\nKEY={several}\n"
            ),
        ),
        // One resource named twice, in two cases: one resource, so its 401 is proof.
        (
            "one.env".to_string(),
            format!(
                "A=https://contoso-one.openai.azure.com/\nB=https://CONTOSO-ONE.openai.azure.com\nKEY={same}\n"
            ),
        ),
    ];
    mock.answer(&several, azure_401());
    mock.answer(&same, azure_401());
    let report = scan_files("azure-openai", &mock, &files, &[]);
    let v = verdict_of(&report, &several);
    assert_eq!(
        status(v),
        (
            Some("unknown"),
            Some(
                "HTTP 401: the file names several Azure OpenAI resources, and the key may be \
                 another one's than the nearest, which was asked"
            )
        ),
        "{v:#}"
    );
    assert_eq!(v["request"]["status"], 401);
    assert_eq!(
        status(verdict_of(&report, &same)),
        (Some("dead"), Some("revoked or never valid"))
    );
    assert_eq!(mock.requests_with(&several).len(), 1);
    assert_eq!(mock.requests().len(), 2);
}
