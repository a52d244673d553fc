//! The OpenAI verifier: one read-only GET per key (`/organization/admin_api_keys?limit=1` for
//! admin keys, `/models` for every other), retried while the answer is undecided, and the
//! answer turned into a `Verification`. The key goes only into the `Authorization` header.

use super::classify::{self, Outcome};
use super::clock::Clock;
use super::endpoint::BaseUrl;
use super::fields::{self, Field};
use super::http::{Answer, Transport};
use super::retry::RetryPolicy;
use super::{Candidate, Status, Verification};
use crate::secret::Secret;

/// A verdict and how many HTTP requests it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub verification: Verification,
    pub requests: u32,
}

/// Checks one key against one provider.
pub trait Verifier: Sync {
    /// The provider whose keys it checks (`openai`).
    fn provider(&self) -> &str;
    /// Checks `key`; `admin` picks the endpoint for admin keys.
    fn check(&self, key: &Secret, admin: bool) -> Checked;
    /// Whether it checks this key (by default: the keys of its provider).
    fn handles(&self, key: &Candidate<'_>) -> bool {
        key.provider == self.provider()
    }
    /// Checks one distinct key.
    fn check_candidate(&self, key: &Candidate<'_>) -> Checked {
        self.check(key.secret, key.admin)
    }
    /// The host the key's check goes to: at most `--verify-concurrency` checks per host at once.
    fn host(&self, key: &Candidate<'_>) -> String {
        let _ = key;
        self.provider().to_string()
    }
}

/// Verifies OpenAI keys through a `Transport`, pacing retries with a `Clock`.
pub struct OpenAi<'c> {
    base: BaseUrl,
    transport: Box<dyn Transport + 'c>,
    clock: &'c dyn Clock,
    policy: RetryPolicy,
}

impl<'c> OpenAi<'c> {
    pub fn new(
        base: BaseUrl,
        transport: Box<dyn Transport + 'c>,
        clock: &'c dyn Clock,
        policy: RetryPolicy,
    ) -> Self {
        OpenAi {
            base,
            transport,
            clock,
            policy,
        }
    }

    /// The verification an answer (or no answer) ends with.
    /// What the server said goes in only as `fields::checked` lets it.
    fn verdict(
        &self,
        key: &Secret,
        status: Status,
        reason: Option<String>,
        answer: Option<&Answer>,
    ) -> Verification {
        let error = answer.and_then(|a| classify::api_error(&a.body));
        let field = |f, v: Option<&str>| v.and_then(|v| fields::checked(f, v, key));
        Verification {
            status,
            reason,
            http_status: answer.map(|a| a.status),
            error_code: field(Field::ErrorCode, error.and_then(|e| e.code).as_deref()),
            request_id: field(
                Field::RequestId,
                answer.and_then(|a| a.request_id.as_deref()),
            ),
            organization: field(
                Field::Organization,
                answer.and_then(|a| a.organization.as_deref()),
            ),
            checked_at: Some(self.clock.now()),
            cached: false,
            request: None,
            owner: None,
        }
    }
}

impl Verifier for OpenAi<'_> {
    fn provider(&self) -> &'static str {
        "openai"
    }

    fn check(&self, key: &Secret, admin: bool) -> Checked {
        let url = self.base.check_url(admin);
        let mut attempt = 0;
        loop {
            let (outcome, answer) = match self.transport.get(&url, key) {
                Ok(a) => (classify::classify(&a), Some(a)),
                Err(failure) => (Outcome::Retry(failure.reason()), None),
            };
            let requests = attempt + 1;
            let done = |status, reason| Checked {
                verification: self.verdict(key, status, reason, answer.as_ref()),
                requests,
            };
            let why = match outcome {
                Outcome::Verdict(status, reason) => return done(status, reason.map(String::from)),
                Outcome::Unknown(why) => return done(Status::Unknown, Some(why)),
                Outcome::Retry(why) => why,
            };
            if let Some(why) = self.policy.pause(self.clock, attempt, answer.as_ref(), why) {
                return done(Status::Unknown, Some(why));
            }
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::http::Failure;
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    /// A clock that only records the waits asked of it.
    #[derive(Default)]
    struct FakeClock {
        slept: Mutex<Vec<Duration>>,
    }

    impl Clock for FakeClock {
        fn now(&self) -> i64 {
            1_700_000_000
        }
        fn sleep(&self, d: Duration) {
            self.slept.lock().unwrap().push(d);
        }
    }

    /// Answers from a script, one per attempt, and records the URLs asked.
    struct Script {
        answers: Mutex<Vec<Result<Answer, Failure>>>,
        urls: Mutex<Vec<String>>,
    }

    impl Script {
        fn new(mut answers: Vec<Result<Answer, Failure>>) -> Self {
            answers.reverse();
            Script {
                answers: Mutex::new(answers),
                urls: Mutex::default(),
            }
        }
    }

    impl Transport for &Script {
        fn get(&self, url: &str, _key: &Secret) -> Result<Answer, Failure> {
            self.urls.lock().unwrap().push(url.to_string());
            self.answers.lock().unwrap().pop().expect("no more answers")
        }
    }

    #[allow(
        clippy::unnecessary_wraps,
        reason = "the stand-in transport answers as the real one does"
    )]
    fn status(code: u16, body: &str) -> Result<Answer, Failure> {
        Ok(Answer {
            status: code,
            body: body.as_bytes().to_vec(),
            request_id: Some("req_1".into()),
            ..Answer::default()
        })
    }

    const LIST: &str = r#"{"object":"list","data":[]}"#;

    fn run(script: &Script, clock: &FakeClock, admin: bool) -> Checked {
        let v = OpenAi::new(
            BaseUrl::openai(),
            Box::new(script),
            clock,
            RetryPolicy::default(),
        );
        v.check(&Secret::new("sk-test".into(), 3), admin)
    }

    #[test]
    fn a_decisive_answer_is_one_request() {
        let script = Script::new(vec![status(200, LIST)]);
        let clock = FakeClock::default();
        let c = run(&script, &clock, false);
        assert_eq!(c.requests, 1);
        assert_eq!(c.verification.status, Status::Live);
        assert_eq!(c.verification.http_status, Some(200));
        assert_eq!(c.verification.request_id.as_deref(), Some("req_1"));
        assert_eq!(c.verification.checked_at, Some(1_700_000_000));
        assert!(clock.slept.lock().unwrap().is_empty());
        assert_eq!(
            *script.urls.lock().unwrap(),
            ["https://api.openai.com/v1/models"]
        );
    }

    #[test]
    fn admin_keys_list_admin_keys() {
        let script = Script::new(vec![status(200, LIST)]);
        run(&script, &FakeClock::default(), true);
        assert_eq!(
            *script.urls.lock().unwrap(),
            ["https://api.openai.com/v1/organization/admin_api_keys?limit=1"]
        );
    }

    #[test]
    fn two_failures_then_success_waits_with_backoff() {
        let script = Script::new(vec![
            status(502, "<html>bad gateway</html>"),
            Err(Failure::Timeout),
            status(200, LIST),
        ]);
        let clock = FakeClock::default();
        let c = run(&script, &clock, false);
        assert_eq!((c.requests, c.verification.status), (3, Status::Live));
        let slept = clock.slept.lock().unwrap().clone();
        assert_eq!(slept.len(), 2);
        assert!((375..=500).contains(&slept[0].as_millis()), "{slept:?}");
        assert!((750..=1000).contains(&slept[1].as_millis()), "{slept:?}");
    }

    #[test]
    fn three_failures_are_unknown_never_dead() {
        let script = Script::new(vec![
            status(500, ""),
            Err(Failure::Connect("refused".into())),
            status(503, ""),
        ]);
        let c = run(&script, &FakeClock::default(), false);
        assert_eq!(c.requests, 3);
        assert_eq!(c.verification.status, Status::Unknown);
        assert_eq!(c.verification.http_status, Some(503));
        assert_eq!(
            c.verification.reason.as_deref(),
            Some("HTTP 503 (after 3 attempts)")
        );
    }

    #[test]
    fn a_long_retry_after_is_unknown_at_once() {
        let mut answer = status(429, "").unwrap();
        answer.retry_after = Some("60".into());
        let script = Script::new(vec![Ok(answer)]);
        let clock = FakeClock::default();
        let c = run(&script, &clock, false);
        assert_eq!((c.requests, c.verification.status), (1, Status::Unknown));
        assert!(clock.slept.lock().unwrap().is_empty());
        assert!(c.verification.reason.unwrap().contains("60 s"));
    }

    #[test]
    fn retry_after_is_waited_exactly() {
        let mut answer = status(429, "").unwrap();
        answer.retry_after = Some("2".into());
        let script = Script::new(vec![Ok(answer), status(200, LIST)]);
        let clock = FakeClock::default();
        let c = run(&script, &clock, false);
        assert_eq!(c.verification.status, Status::Live);
        assert_eq!(*clock.slept.lock().unwrap(), [Duration::from_secs(2)]);
    }
}
