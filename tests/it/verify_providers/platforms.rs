//! The platforms' answer tables: Stripe's restricted keys, GitHub tokens by kind, GitLab's header
//! and instance tokens, Slack's 200 for dead tokens.

use super::*;

#[test]
fn stripe_403_is_a_restricted_key() {
    let check = bearer(
        "stripe",
        "rk_live_{alnum:99}",
        "STRIPE_KEY={}",
        "GET",
        "/v1/account",
    );
    let err = |status, kind: &str| {
        Reply::json(status, json!({"error": {"message": "m", "type": kind}}))
            .header("request-id", "req_AbC123")
    };
    let report = table(
        &check,
        vec![
            row(
                Reply::json(
                    200,
                    json!({"id": "acct_1Nv0FGQ9RKHgCVdK", "object": "account"}),
                ),
                "live",
                None,
            ),
            row(err(401, "invalid_request_error"), "dead", DEAD),
            row(err(403, "invalid_request_error"), "live", RESTRICTED),
        ],
    );
    let ids: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["verification"]["request"]["request_id"])
        .collect();
    assert!(ids.contains(&&json!("req_AbC123")));
}

#[test]
fn github_tokens_by_kind() {
    let user = || {
        Reply::json(200, json!({"login": "octocat", "id": 1}))
            .header("x-oauth-scopes", "repo, read:org")
            .header("x-github-request-id", "CAFE:1234:5678")
    };
    let bad = || Reply::json(401, json!({"message": "Bad credentials"}));
    let limited = || {
        Reply::json(403, json!({"message": "API rate limit exceeded"}))
            .header("x-ratelimit-remaining", "0")
    };
    let sso = || {
        Reply::json(
            403,
            json!({"message": "Resource protected by organization SAML enforcement."}),
        )
    };
    let check = bearer(
        "github",
        "ghp_{alnum:30}{crc32:30}",
        "GITHUB_TOKEN={}",
        "GET",
        "/user",
    );
    let report = table(
        &check,
        vec![
            row(user(), "live", None),
            row(bad(), "dead", DEAD),
            row(limited(), "unknown", Some("rate limited (HTTP 403)")),
            row(sso(), "live", RESTRICTED),
        ],
    );
    let owner = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["verification"])
        .find(|v| v["status"] == "live" && v["reason"].is_null())
        .unwrap();
    assert_eq!(owner["owner"]["login"], "octocat");
    assert_eq!(owner["owner"]["scopes"], "repo, read:org");
    assert_eq!(owner["request_id"], "CAFE:1234:5678");

    let installation = bearer(
        "github",
        "ghs_{alnum:30}{crc32:30}",
        "GITHUB_TOKEN={}",
        "GET",
        "/installation/repositories?per_page=1",
    );
    table(
        &installation,
        vec![
            row(
                Reply::json(200, json!({"total_count": 3, "repositories": []})),
                "live",
                None,
            ),
            row(bad(), "dead", DEAD),
        ],
    );
    let refresh = bearer(
        "github",
        "ghr_{alnum:70}{crc32:70}",
        "GITHUB_TOKEN={}",
        "GET",
        "/user",
    );
    table(
        &refresh,
        vec![row(
            bad(),
            "unknown",
            Some("a refresh token cannot call the API (HTTP 401 is not a verdict)"),
        )],
    );
}

#[test]
fn gitlab_tokens_go_in_private_token_and_instance_tokens_stay_home() {
    let check = Check {
        provider: "gitlab",
        template: "glpat-{alnum:20}",
        line: "GITLAB_TOKEN={}",
        method: "GET",
        path: "/api/v4/personal_access_tokens/self",
        header: "private-token",
        prefix: "",
        fixed: &[],
    };
    let token = |active: bool| {
        Reply::json(
            200,
            json!({"id": 42, "name": "ci", "revoked": !active, "active": active,
                "scopes": ["api", "read_user"], "user_id": 7}),
        )
    };
    let report = table(
        &check,
        vec![
            row(token(true), "live", None),
            row(token(false), "dead", Some("revoked or expired")),
            row(
                Reply::json(401, json!({"message": "401 Unauthorized"})),
                "dead",
                DEAD,
            ),
            row(
                Reply::json(403, json!({"message": "403 Forbidden"})),
                "live",
                RESTRICTED,
            ),
        ],
    );
    let live = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["verification"])
        .find(|v| v["status"] == "live" && v["reason"].is_null())
        .unwrap();
    assert_eq!(live["owner"]["scopes"], "api, read_user");
    assert_eq!(live["owner"]["user"], "7");

    let mock = Mock::start();
    let key = make("mycorp-glpat-{b64url:36}.01.{lower:9}", 9);
    let report = scan("gitlab", &mock, &[format!("GITLAB_TOKEN={key}")]);
    let v = verdict_of(&report, &key);
    assert_eq!(v["status"], "not_checked");
    assert!(mock.requests().is_empty());
}

#[test]
fn slack_answers_200_for_dead_tokens() {
    let check = bearer(
        "slack",
        "xoxb-{digit:12}-{digit:13}-{alnum:24}",
        "SLACK_BOT_TOKEN={}",
        "POST",
        "/api/auth.test",
    );
    let not_ok = |error: &str| Reply::json(200, json!({"ok": false, "error": error}));
    let report = table(
        &check,
        vec![
            row(
                Reply::json(
                    200,
                    json!({"ok": true, "url": "https://acme.slack.com/", "team": "Acme",
                    "user": "deploybot", "team_id": "T12345", "user_id": "U12345"}),
                ),
                "live",
                None,
            ),
            row(not_ok("invalid_auth"), "dead", DEAD),
            row(not_ok("token_revoked"), "dead", Some("revoked")),
            row(
                not_ok("account_inactive"),
                "dead",
                Some("account deactivated"),
            ),
            row(
                not_ok("not_allowed_token_type"),
                "unknown",
                Some("ok:false with another error"),
            ),
        ],
    );
    let live = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["verification"])
        .find(|v| v["status"] == "live")
        .unwrap();
    assert_eq!(
        (
            live["owner"]["user"].as_str(),
            live["owner"]["account"].as_str()
        ),
        (Some("deploybot"), Some("Acme"))
    );
    let dead = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["verification"])
        .find(|v| v["reason"] == "revoked")
        .unwrap();
    assert_eq!(dead["request"]["error_code"], "token_revoked");
}
