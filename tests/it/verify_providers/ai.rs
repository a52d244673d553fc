//! The AI providers' answer tables: Anthropic (API and admin keys), Gemini, the OpenAI-style model
//! lists, xAI's flags, credit at OpenRouter and DeepSeek, owners at Cohere, Hugging Face, Replicate
//! and npm.

use super::*;

#[test]
fn anthropic_api_keys_every_answer() {
    let check = Check {
        provider: "anthropic",
        template: "sk-ant-api03-{b64url:93}AA",
        line: "ANTHROPIC_API_KEY={}",
        method: "GET",
        path: "/v1/models",
        header: "x-api-key",
        prefix: "",
        fixed: &[("anthropic-version", "2023-06-01")],
    };
    let models = json!({"data": [{"type": "model", "id": "claude-sonnet-4-5",
        "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z"}],
        "has_more": false, "first_id": "claude-sonnet-4-5", "last_id": "claude-sonnet-4-5"});
    let report = table(
        &check,
        vec![
            row(
                Reply::json(200, models).header("request-id", "req_1"),
                "live",
                None,
            ),
            row(
                anthropic_error(401, "authentication_error", "invalid x-api-key"),
                "dead",
                DEAD,
            ),
            row(
                anthropic_error(
                    403,
                    "permission_error",
                    "Your API key does not have permission",
                ),
                "live",
                RESTRICTED,
            ),
            row(
                anthropic_error(404, "not_found_error", "Not found"),
                "dead",
                Some("disabled or not found"),
            ),
            row(
                anthropic_error(400, "invalid_request_error", "bad"),
                "unknown",
                Some("invalid request (HTTP 400), not a key signal"),
            ),
            row(
                anthropic_error(429, "rate_limit_error", "Rate limited")
                    .header("retry-after", "60"),
                "unknown",
                Some(
                    "rate limited (HTTP 429); asked to retry after 60 s, longer than keyhound waits (20 s)",
                ),
            ),
            row(
                anthropic_error(529, "overloaded_error", "Overloaded"),
                "unknown",
                Some("overloaded (HTTP 529) (after 3 attempts)"),
            ),
        ],
    );
    let dead = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["verification"])
        .find(|v| v["status"] == "dead" && v["http_status"] == 401)
        .unwrap();
    assert_eq!(dead["request"]["error_code"], "authentication_error");
    assert_eq!(
        dead["request"]["request_id"],
        "req_011CSHoEeqs5C35K2UUqR7Fy"
    );
    assert_eq!(
        report["stats"]["verification"]["requests"],
        1 + 1 + 1 + 1 + 1 + 1 + 3
    );
}

#[test]
fn anthropic_admin_keys_read_the_organization() {
    let check = Check {
        provider: "anthropic",
        template: "sk-ant-admin01-{b64url:93}AA",
        line: "ANTHROPIC_ADMIN_KEY={}",
        method: "GET",
        path: "/v1/organizations/me",
        header: "x-api-key",
        prefix: "",
        fixed: &[("anthropic-version", "2023-06-01")],
    };
    let org = json!({"id": "12345678-1234-5678-1234-567812345678", "type": "organization",
        "name": "Acme Corp"});
    let report = table(
        &check,
        vec![
            row(Reply::json(200, org), "live", None),
            row(
                anthropic_error(401, "authentication_error", "invalid x-api-key"),
                "dead",
                DEAD,
            ),
        ],
    );
    let live = report["findings"][0]["verification"].clone();
    let live = if live["status"] == "live" {
        live
    } else {
        report["findings"][1]["verification"].clone()
    };
    assert_eq!(live["owner"]["account"], "Acme Corp");
}

fn google_error(status: u16, code: &str, reason: Option<&str>) -> Reply {
    let details = match reason {
        Some(r) => json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": r,
            "domain": "googleapis.com"}]),
        None => json!([]),
    };
    Reply::json(
        status,
        json!({"error": {"code": status, "message": "m", "status": code, "details": details}}),
    )
}

#[test]
fn gemini_every_answer() {
    let check = Check {
        provider: "google",
        template: "AIza{b64url:35}",
        line: "GEMINI_API_KEY={}",
        method: "GET",
        path: "/v1beta/models",
        header: "x-goog-api-key",
        prefix: "",
        fixed: &[],
    };
    table(
        &check,
        vec![
            row(
                Reply::json(
                    200,
                    json!({"models": [{"name": "models/gemini-2.5-flash"}]}),
                ),
                "live",
                None,
            ),
            row(
                google_error(400, "INVALID_ARGUMENT", Some("API_KEY_INVALID")),
                "dead",
                DEAD,
            ),
            row(
                google_error(403, "PERMISSION_DENIED", Some("API_KEY_SERVICE_BLOCKED")),
                "live",
                RESTRICTED,
            ),
            row(
                google_error(400, "FAILED_PRECONDITION", None),
                "live",
                RESTRICTED,
            ),
            row(
                google_error(429, "RESOURCE_EXHAUSTED", None).header("retry-after", "0"),
                "unknown",
                Some("rate limited (HTTP 429) (after 3 attempts)"),
            ),
        ],
    );
}

fn openai_style_error(status: u16, code: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": {"message": "Invalid API Key", "type": "invalid_request_error", "code": code}}),
    )
}

#[test]
fn groq_mistral_together_and_fireworks_list_models() {
    let list = || {
        Reply::json(
            200,
            json!({"object": "list", "data": [{"id": "m", "object": "model"}]}),
        )
    };
    let unauthorized = || openai_style_error(401, "invalid_api_key");
    let checks = [
        bearer(
            "groq",
            "gsk_{alnum:20}WGdyb3FY{alnum:24}",
            "GROQ_API_KEY={}",
            "GET",
            "/openai/v1/models",
        ),
        bearer(
            "mistral",
            "{alnum:30}42",
            "MISTRAL_API_KEY={}",
            "GET",
            "/v1/models",
        ),
        bearer(
            "fireworks",
            "fw_{base58:24}",
            "FIREWORKS_API_KEY={}",
            "GET",
            "/inference/v1/models",
        ),
    ];
    for check in &checks {
        table(
            check,
            vec![row(list(), "live", None), row(unauthorized(), "dead", DEAD)],
        );
    }
    let together = bearer(
        "together",
        "tgp_v1_{b64url:43}",
        "TOGETHER_API_KEY={}",
        "GET",
        "/v1/models",
    );
    let models = Reply::json(
        200,
        json!([{"id": "meta-llama/Llama-3.3-70B", "object": "model"}]),
    );
    table(
        &together,
        vec![row(models, "live", None), row(unauthorized(), "dead", DEAD)],
    );
}

#[test]
fn xai_blocked_and_disabled_flags_in_a_200_are_dead() {
    let check = bearer(
        "xai",
        "xai-{alnum:80}",
        "XAI_API_KEY={}",
        "GET",
        "/v1/api-key",
    );
    let key = |blocked: bool, disabled: bool, team: bool| {
        Reply::json(
            200,
            json!({"redacted_api_key": "xai-...abcd", "user_id": "u-1234", "name": "dev",
                "team_id": "t-5678", "acls": ["api-key:model:*", "api-key:endpoint:*"],
                "team_blocked": team, "api_key_blocked": blocked, "api_key_disabled": disabled}),
        )
    };
    let report = table(
        &check,
        vec![
            row(key(false, false, false), "live", None),
            row(key(true, false, false), "dead", Some("key blocked")),
            row(key(false, true, false), "dead", Some("key disabled")),
            row(key(false, false, true), "dead", Some("team blocked")),
            row(
                Reply::json(400, json!({"error": "Incorrect API key provided"})),
                "dead",
                DEAD,
            ),
            row(
                Reply::json(401, json!({"error": "unauthorized"})),
                "dead",
                DEAD,
            ),
        ],
    );
    let live = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["verification"]["status"] == "live")
        .unwrap();
    let owner = &live["verification"]["owner"];
    assert_eq!(owner["user"], "u-1234");
    assert_eq!(owner["account"], "t-5678");
    assert_eq!(owner["scopes"], "api-key:model:*, api-key:endpoint:*");
}

#[test]
fn openrouter_and_deepseek_report_credit() {
    let check = bearer(
        "openrouter",
        "sk-or-v1-{hex:64}",
        "OPENROUTER_API_KEY={}",
        "GET",
        "/api/v1/key",
    );
    let key = |remaining: Value| {
        Reply::json(
            200,
            json!({"data": {"label": "sk-or-v1-abc...123", "limit": 20, "limit_remaining": remaining,
                "usage": 7.5, "is_free_tier": false}}),
        )
    };
    let report = table(
        &check,
        vec![
            row(key(json!(12.5)), "live", None),
            row(key(json!(0)), "live", NO_CREDIT),
            row(key(Value::Null), "live", None),
            row(
                Reply::json(
                    401,
                    json!({"error": {"message": "No auth credentials found", "code": 401}}),
                ),
                "dead",
                DEAD,
            ),
        ],
    );
    let credits: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["verification"]["owner"]["credit_remaining"])
        .collect();
    assert!(credits.contains(&&json!("12.5")), "{credits:?}");

    let check = bearer(
        "deepseek",
        "sk-{hex:32}",
        "DEEPSEEK_API_KEY={}",
        "GET",
        "/user/balance",
    );
    let balance = |available: bool, total: &str| {
        Reply::json(
            200,
            json!({"is_available": available, "balance_infos": [{"currency": "CNY",
                "total_balance": total, "granted_balance": "0.00", "topped_up_balance": total}]}),
        )
    };
    table(
        &check,
        vec![
            row(balance(true, "110.00"), "live", None),
            row(balance(false, "0.00"), "live", NO_CREDIT),
            row(
                openai_style_error(401, "invalid_request_error"),
                "dead",
                DEAD,
            ),
        ],
    );
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one table of four providers' answers"
)]
fn cohere_huggingface_replicate_and_npm_say_who_owns_the_key() {
    let check = bearer(
        "cohere",
        "{alnum:38}42",
        "COHERE_API_KEY={}",
        "POST",
        "/v1/check-api-key",
    );
    table(
        &check,
        vec![
            row(
                Reply::json(
                    200,
                    json!({"valid": true, "organization_id": "org-1", "owner_id": "own-1"}),
                ),
                "live",
                None,
            ),
            row(Reply::json(200, json!({"valid": false})), "dead", DEAD),
            row(
                Reply::json(401, json!({"message": "invalid api token"})),
                "dead",
                DEAD,
            ),
        ],
    );
    let check = bearer(
        "huggingface",
        "hf_{letters:34}",
        "HF_TOKEN={}",
        "GET",
        "/api/whoami-v2",
    );
    let report = table(
        &check,
        vec![
            row(
                Reply::json(
                    200,
                    json!({"type": "user", "name": "alice",
                    "auth": {"type": "access_token", "accessToken": {"displayName": "ci", "role": "write"}}}),
                ),
                "live",
                None,
            ),
            row(
                Reply::json(
                    401,
                    json!({"error": "Invalid credentials in Authorization header"}),
                ),
                "dead",
                DEAD,
            ),
        ],
    );
    let owners: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["verification"]["owner"])
        .collect();
    assert!(
        owners
            .iter()
            .any(|o| o["login"] == "alice" && o["scopes"] == "write"),
        "{owners:?}"
    );
    let check = bearer(
        "replicate",
        "r8_{alnum:37}",
        "REPLICATE_API_TOKEN={}",
        "GET",
        "/v1/account",
    );
    table(
        &check,
        vec![
            row(
                Reply::json(
                    200,
                    json!({"type": "user", "username": "bob", "name": "Bob"}),
                ),
                "live",
                None,
            ),
            row(
                Reply::json(401, json!({"detail": "Invalid token."})),
                "dead",
                DEAD,
            ),
        ],
    );
    let check = bearer(
        "npm",
        "npm_{alnum:30}{crc32:30}",
        "NPM_TOKEN={}",
        "GET",
        "/-/whoami",
    );
    table(
        &check,
        vec![
            row(Reply::json(200, json!({"username": "carol"})), "live", None),
            row(
                Reply::json(401, json!({"error": "Unauthorized"})),
                "dead",
                DEAD,
            ),
        ],
    );
}
