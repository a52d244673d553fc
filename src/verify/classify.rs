//! From an answer to a verdict, as the OpenAI API really answers (bodies and sources in
//! `shared/reference/api-keys.md`): by `error.code` first, by the message only as a fallback.
//! Only a 200 with the list asked for is live without a reason; nothing undecided is ever dead.

use super::Status;
use super::http::Answer;
use serde::Deserialize;

/// Why a key is live or dead, as reports show it.
pub const RESTRICTED: &str = "restricted key";
pub const NO_CREDIT: &str = "no credit";
pub const REVOKED: &str = "revoked or never valid";
pub const DEACTIVATED: &str = "account deactivated";

/// What one answer settles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `live` or `dead`, with a reason when there is one. Never retried.
    Verdict(Status, Option<&'static str>),
    /// Undecided but worth another attempt (rate limits, gateways, server errors).
    Retry(String),
    /// Undecided, and another attempt would answer the same.
    Unknown(String),
}

/// The `{"error": {…}}` envelope of the API's error answers.
#[derive(Debug, Default, Deserialize)]
struct Envelope {
    error: Option<ApiError>,
}

/// An API error; every field may be missing or null.
#[derive(Debug, Default, Deserialize)]
pub struct ApiError {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
}

/// The error in a body, if the body is the API's JSON error envelope.
pub fn api_error(body: &[u8]) -> Option<ApiError> {
    serde_json::from_slice::<Envelope>(body).ok()?.error
}

/// The verdict of one answer.
pub fn classify(answer: &Answer) -> Outcome {
    let outcome = decide(answer);
    match (outcome, answer.should_retry.as_deref()) {
        (Outcome::Retry(why), Some("false")) => Outcome::Unknown(why),
        (Outcome::Unknown(why), Some("true")) => Outcome::Retry(why),
        (outcome, _) => outcome,
    }
}

fn decide(answer: &Answer) -> Outcome {
    let status = answer.status;
    if status == 200 {
        return if is_list(&answer.body) {
            Outcome::Verdict(Status::Live, None)
        } else {
            Outcome::Unknown("HTTP 200 without the list asked for (a portal or proxy page?)".into())
        };
    }
    let error = api_error(&answer.body).unwrap_or_default();
    if let Some(outcome) = by_code(status, error.code.as_deref()) {
        return outcome;
    }
    if let Some(outcome) = by_message(status, &error) {
        return outcome;
    }
    match status {
        429 => Outcome::Retry("rate limited (HTTP 429)".into()),
        408 | 409 | 500..=599 => Outcome::Retry(format!("HTTP {status}")),
        _ => Outcome::Unknown(format!("unexpected answer: HTTP {status}")),
    }
}

/// A 200 body is what was asked for: the models list or the admin keys list.
fn is_list(body: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return false;
    };
    v["object"] == "list" && v["data"].is_array()
}

fn by_code(status: u16, code: Option<&str>) -> Option<Outcome> {
    Some(match (status, code?) {
        (401, "invalid_api_key") => Outcome::Verdict(Status::Dead, Some(REVOKED)),
        (401, "account_deactivated") => Outcome::Verdict(Status::Dead, Some(DEACTIVATED)),
        (429, "insufficient_quota") => Outcome::Verdict(Status::Live, Some(NO_CREDIT)),
        (429, "rate_limit_exceeded") => Outcome::Retry("rate limited".into()),
        _ => return None,
    })
}

/// For answers whose code is null or new: the wording the API has used for years.
fn by_message(status: u16, error: &ApiError) -> Option<Outcome> {
    let message = error.message.as_deref().unwrap_or("").to_ascii_lowercase();
    let says = |text: &str| message.contains(text);
    let restricted = says("insufficient permissions") || says("missing scopes");
    Some(match status {
        401 | 403 if restricted => Outcome::Verdict(Status::Live, Some(RESTRICTED)),
        401 if error.code.is_none() && says("incorrect api key provided") => {
            Outcome::Verdict(Status::Dead, Some(REVOKED))
        }
        401 if error.code.is_none() && says("deactivated") => {
            Outcome::Verdict(Status::Dead, Some(DEACTIVATED))
        }
        429 if error.kind.as_deref() == Some("insufficient_quota")
            || says("exceeded your current quota") =>
        {
            Outcome::Verdict(Status::Live, Some(NO_CREDIT))
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.as_bytes().to_vec(),
            ..Answer::default()
        }
    }

    fn error(status: u16, kind: &str, code: Option<&str>, message: &str) -> Answer {
        let body = serde_json::json!({"error": {
            "message": message, "type": kind, "param": null, "code": code,
        }});
        answer(status, &body.to_string())
    }

    const MODELS: &str = r#"{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"}]}"#;

    #[test]
    fn a_list_is_live() {
        assert_eq!(
            classify(&answer(200, MODELS)),
            Outcome::Verdict(Status::Live, None)
        );
        let admin =
            r#"{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}"#;
        assert_eq!(
            classify(&answer(200, admin)),
            Outcome::Verdict(Status::Live, None)
        );
    }

    #[test]
    fn a_200_without_the_list_is_unknown() {
        for body in [
            "<html>Sign in to the Wi-Fi</html>",
            "{}",
            r#"{"object":"model"}"#,
        ] {
            assert!(
                matches!(classify(&answer(200, body)), Outcome::Unknown(_)),
                "{body}"
            );
        }
    }

    #[test]
    fn restricted_keys_are_live() {
        let msg =
            "You have insufficient permissions for this operation. Missing scopes: api.model.read.";
        for status in [401, 403] {
            let a = error(status, "invalid_request_error", None, msg);
            assert_eq!(
                classify(&a),
                Outcome::Verdict(Status::Live, Some(RESTRICTED))
            );
        }
    }

    #[test]
    fn no_credit_is_live() {
        let msg = "You exceeded your current quota, please check your plan and billing details.";
        let a = error(429, "insufficient_quota", Some("insufficient_quota"), msg);
        assert_eq!(
            classify(&a),
            Outcome::Verdict(Status::Live, Some(NO_CREDIT))
        );
        let older = error(429, "insufficient_quota", None, msg);
        assert_eq!(
            classify(&older),
            Outcome::Verdict(Status::Live, Some(NO_CREDIT))
        );
    }

    #[test]
    fn invalid_and_deactivated_keys_are_dead() {
        let a = error(
            401,
            "invalid_request_error",
            Some("invalid_api_key"),
            "Incorrect API key provided: sk-proj-****",
        );
        assert_eq!(classify(&a), Outcome::Verdict(Status::Dead, Some(REVOKED)));
        let a = error(
            401,
            "invalid_request_error",
            Some("account_deactivated"),
            "This key is associated with a deactivated account.",
        );
        assert_eq!(
            classify(&a),
            Outcome::Verdict(Status::Dead, Some(DEACTIVATED))
        );
    }

    #[test]
    fn the_code_wins_over_the_message() {
        let a = error(
            401,
            "invalid_request_error",
            Some("invalid_api_key"),
            "insufficient permissions",
        );
        assert_eq!(classify(&a), Outcome::Verdict(Status::Dead, Some(REVOKED)));
    }

    #[test]
    fn a_dead_code_on_another_status_is_not_dead() {
        let a = error(403, "invalid_request_error", Some("invalid_api_key"), "");
        assert!(matches!(classify(&a), Outcome::Unknown(_)));
        let a = error(500, "server_error", Some("invalid_api_key"), "");
        assert!(matches!(classify(&a), Outcome::Retry(_)));
    }

    #[test]
    fn rate_limits_gateways_and_server_errors_are_retried() {
        let a = error(
            429,
            "requests",
            Some("rate_limit_exceeded"),
            "Rate limit reached",
        );
        assert!(matches!(classify(&a), Outcome::Retry(_)));
        for status in [408, 409, 429, 500, 502, 503, 520, 524] {
            let a = answer(status, "<html><body>Bad gateway</body></html>");
            assert!(matches!(classify(&a), Outcome::Retry(_)), "{status}");
        }
    }

    #[test]
    fn anything_else_is_unknown_never_dead() {
        let a = error(
            401,
            "invalid_request_error",
            Some("mismatched_organization"),
            "OpenAI-Organization header should match",
        );
        assert!(matches!(classify(&a), Outcome::Unknown(_)));
        for status in [301, 400, 404, 418] {
            assert!(
                matches!(classify(&answer(status, "")), Outcome::Unknown(_)),
                "{status}"
            );
        }
    }

    #[test]
    fn x_should_retry_overrides_undecided_answers_only() {
        let mut a = answer(503, "");
        a.should_retry = Some("false".into());
        assert!(matches!(classify(&a), Outcome::Unknown(_)));
        let mut a = answer(404, "");
        a.should_retry = Some("true".into());
        assert!(matches!(classify(&a), Outcome::Retry(_)));
        let mut a = answer(200, MODELS);
        a.should_retry = Some("true".into());
        assert_eq!(classify(&a), Outcome::Verdict(Status::Live, None));
    }
}
