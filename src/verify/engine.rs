//! The generic verifier: runs a provider's recipe (`recipe.rs`) through a `Transport`, with the
//! same retry, backoff and `retry-after` rules as OpenAI's check, and turns the answer into a
//! `Verification` with the request that decided it and, for live keys, what the provider says
//! about the owner (each value shape-checked by `fields`, key-shaped ones dropped).

use super::aws;
use super::clock::Clock;
use super::endpoint::BaseUrl;
use super::fields::{self, Field};
use super::gcp;
use super::http::{Answer, Outgoing, Transport};
use super::openai::{Checked, Verifier};
use super::recipe::{self, Parsed, Recipe, Verdict};
use super::retry::RetryPolicy;
use super::{Candidate, Owner, RequestInfo, Status, Verification};
use crate::secret::Secret;

/// What one answer settles (as `classify::Outcome`, with the recipe's own reasons).
enum Step {
    Done(Status, Option<String>),
    Retry(String),
    Unknown(String),
}

/// Verifies the keys of every provider that has a recipe.
pub struct DataVerifier<'c> {
    recipes: &'c [Recipe],
    base: BaseUrl,
    transport: Box<dyn Transport + 'c>,
    /// For requests sent to a `--verify-endpoint` (loopback, no proxy); else `transport`.
    local: Option<Box<dyn Transport + 'c>>,
    clock: &'c dyn Clock,
    policy: RetryPolicy,
    /// `--verify-deep`: after a live first step, the provider's deep step decides.
    deep: bool,
}

impl<'c> DataVerifier<'c> {
    pub fn new(
        recipes: &'c [Recipe],
        base: BaseUrl,
        transport: Box<dyn Transport + 'c>,
        clock: &'c dyn Clock,
        policy: RetryPolicy,
    ) -> Self {
        DataVerifier {
            recipes,
            base,
            transport,
            local: None,
            clock,
            policy,
            deep: false,
        }
    }

    /// Runs the deep steps (`--verify-deep`) of the providers that have one.
    pub fn with_deep(mut self, deep: bool) -> Self {
        self.deep = deep;
        self
    }

    /// Sends requests to `--verify-endpoint` servers through `local`.
    pub fn with_local(mut self, local: Box<dyn Transport + 'c>) -> Self {
        self.local = Some(local);
        self
    }

    fn recipe(&self, key: &Candidate<'_>) -> Option<&'c Recipe> {
        recipe::find(self.recipes, key.provider, key.secret.expose(), key.admin)
    }

    /// The request of `recipe` for `key`, its origin replaced by the provider's endpoint, or
    /// why nothing is sent (a hint missing, another instance's host, an AWS canary).
    fn request(
        &self,
        recipe: &Recipe,
        key: &Secret,
    ) -> Result<(Outgoing, bool), Box<Verification>> {
        if recipe.other_host_near(key) {
            let why = recipe
                .other_host
                .clone()
                .unwrap_or_else(|| "another host".into());
            return Err(Box::new(Verification::not_checked(why)));
        }
        let Some(url) = recipe.url_for(key) else {
            let why = recipe
                .missing
                .clone()
                .unwrap_or_else(|| "a value it needs is missing".into());
            return Err(Box::new(Verification::not_checked(why)));
        };
        let endpoint = self.base.endpoint(&recipe.provider);
        let url = match endpoint {
            Some(origin) => format!("{origin}{}", path_of(&url)),
            None => url,
        };
        let mut request = Outgoing {
            method: recipe.method.clone(),
            url,
            headers: recipe
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect(),
            key_header: recipe.key_header.clone(),
            key_value: format!("{}{}", recipe.key_prefix, key.expose()),
            body: recipe.body.clone(),
        };
        if !recipe.sends_key {
            request.key_header.clear();
            request.key_value.clear();
        }
        if recipe.sign.as_deref() == Some("gcp-jwt") {
            match gcp::plan(recipe, key, self.clock.now()) {
                gcp::Plan::Send(body) => request.body = Some(body),
                gcp::Plan::NotChecked(why) => return Err(Box::new(Verification::not_checked(why))),
            }
        } else if recipe.sign.is_some() {
            match aws::plan(recipe, key, self.clock.now()) {
                aws::Plan::Send(auth, extra) => {
                    request.key_value = auth;
                    request.headers.extend(extra);
                }
                aws::Plan::NotChecked(why) => return Err(Box::new(Verification::not_checked(why))),
                aws::Plan::Unknown(why) => {
                    return Err(Box::new(Verification::unknown(why, self.clock.now())));
                }
            }
        }
        Ok((request, endpoint.is_some()))
    }

    /// An answer's body as the rows read it: JSON, or XML's leaves for XML recipes.
    fn parse(recipe: &Recipe, body: &[u8]) -> Option<serde_json::Value> {
        if recipe.xml {
            aws::flatten(body)
        } else {
            serde_json::from_slice(body).ok()
        }
    }

    /// One attempt's outcome.
    fn classify(&self, recipe: &Recipe, key: &Secret, answer: &Answer) -> Step {
        let json = Self::parse(recipe, &answer.body);
        let vars = vars(recipe, key);
        let parsed = Parsed {
            status: answer.status,
            json,
            headers: &answer.headers,
            vars: &vars,
        };
        match recipe.decide(&parsed) {
            Some((Verdict::Retry, why)) => Step::Retry(why.unwrap_or_else(|| http(answer))),
            Some((Verdict::Unknown, why)) => {
                Step::Unknown(why.unwrap_or_else(|| unexpected(answer)))
            }
            Some((Verdict::Dead, why)) => match recipe.doubted(key) {
                Some(doubt) => Step::Unknown(format!("{}: {doubt}", http(answer))),
                None => Step::Done(Status::Dead, why),
            },
            Some((v, why)) => Step::Done(recipe::status(v), why),
            None => match answer.status {
                429 => Step::Retry("rate limited (HTTP 429)".into()),
                408 | 409 | 500..=599 => Step::Retry(http(answer)),
                _ => Step::Unknown(unexpected(answer)),
            },
        }
    }

    fn verdict(
        &self,
        recipe: &Recipe,
        key: &Secret,
        status: Status,
        reason: Option<String>,
        answer: Option<&Answer>,
    ) -> Verification {
        let json = answer.and_then(|a| Self::parse(recipe, &a.body));
        let code = recipe
            .code(json.as_ref())
            .and_then(|c| fields::checked(Field::ErrorCode, &c, key));
        let request_id = answer
            .and_then(|a| header(a, &recipe.request_id))
            .and_then(|v| fields::checked(Field::RequestId, v, key));
        let owner = match (status, answer) {
            (Status::Live, Some(a)) => owner(recipe, a, json.as_ref(), key),
            _ => None,
        };
        Verification {
            status,
            reason,
            http_status: answer.map(|a| a.status),
            error_code: code.clone(),
            request_id: request_id.clone(),
            organization: None,
            checked_at: Some(self.clock.now()),
            cached: false,
            request: Some(RequestInfo {
                method: recipe.method.clone(),
                path: shown_path(recipe),
                status: answer.map(|a| a.status),
                error_code: code,
                request_id,
            }),
            owner,
        }
    }

    /// Runs `recipe` for `key`: attempts until one decides or the policy gives up.
    fn run(&self, recipe: &Recipe, key: &Secret) -> Checked {
        if let Some(why) = &recipe.not_checked {
            return Checked {
                verification: Verification::not_checked(why.clone()),
                requests: 0,
            };
        }
        let (request, local) = match self.request(recipe, key) {
            Ok(r) => r,
            Err(verification) => {
                return Checked {
                    verification: *verification,
                    requests: 0,
                };
            }
        };
        let transport = match (&self.local, local) {
            (Some(t), true) => t.as_ref(),
            _ => self.transport.as_ref(),
        };
        let mut attempt = 0;
        loop {
            let (outcome, answer) = match transport.send(&request) {
                Ok(a) => (self.classify(recipe, key, &a), Some(a)),
                Err(failure) => (Step::Retry(failure.reason()), None),
            };
            let requests = attempt + 1;
            let done = |status, reason| Checked {
                verification: self.verdict(recipe, key, status, reason, answer.as_ref()),
                requests,
            };
            let why = match outcome {
                Step::Done(status, reason) => return done(status, reason),
                Step::Unknown(why) => return done(Status::Unknown, Some(why)),
                Step::Retry(why) => why,
            };
            if let Some(why) = self.policy.pause(self.clock, attempt, answer.as_ref(), why) {
                return done(Status::Unknown, Some(why));
            }
            attempt += 1;
        }
    }
}

impl DataVerifier<'_> {
    /// The deep step after a live `first`: its verdict decides, and both steps' requests count
    /// as one verification; when it cannot be sent, `first` stands and says why.
    fn then_deep(&self, first: Checked, deep: &Recipe, key: &Secret) -> Checked {
        let second = self.run(deep, key);
        if second.requests == 0 && second.verification.status == Status::NotChecked {
            let mut verification = first.verification;
            let why = second.verification.reason.unwrap_or_default();
            verification.reason = Some(format!("no token asked for: {why}"));
            return Checked {
                verification,
                requests: first.requests,
            };
        }
        Checked {
            verification: second.verification,
            requests: first.requests + second.requests,
        }
    }
}

/// The path and query of a URL (`https://host/p?q` → `/p?q`).
fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    rest.find('/').map_or("/", |i| &rest[i..])
}

/// The path `verification.request` shows: the recipe's, `{hint}` names left as they are (a
/// service account's email is the user's, not the provider's, to show).
fn shown_path(recipe: &Recipe) -> String {
    recipe.path().to_string()
}

/// The values rows may name (`{private_key_id}`): the hints the recipe needs, checked.
fn vars(recipe: &Recipe, key: &Secret) -> Vec<(String, String)> {
    recipe
        .needs
        .iter()
        .filter_map(|name| {
            let value = key.hints(name).next()?;
            Some((name.clone(), recipe::hint_shape(name, value)?))
        })
        .collect()
}

fn http(answer: &Answer) -> String {
    format!("HTTP {}", answer.status)
}

fn unexpected(answer: &Answer) -> String {
    format!("unexpected answer: HTTP {}", answer.status)
}

fn header<'a>(answer: &'a Answer, name: &str) -> Option<&'a str> {
    answer
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The owner fields a recipe names, each as the provider sent it if it has the field's shape.
fn owner(
    recipe: &Recipe,
    answer: &Answer,
    json: Option<&serde_json::Value>,
    key: &Secret,
) -> Option<Owner> {
    let mut out = Owner::default();
    for (name, source) in &recipe.owner {
        let value = if let Some(pointer) = source.strip_prefix("json:") {
            json.and_then(|j| j.pointer(pointer)).and_then(text)
        } else {
            source
                .strip_prefix("header:")
                .and_then(|h| header(answer, h))
                .map(String::from)
        };
        let field = match name.as_str() {
            "scopes" => Field::Scopes,
            "arn" => Field::Arn,
            "account" => Field::Account,
            "credit_remaining" => Field::Credit,
            _ => Field::Login,
        };
        let Some(value) = value.and_then(|v| fields::checked(field, &v, key)) else {
            continue;
        };
        out.set(name, value);
    }
    (out != Owner::default()).then_some(out)
}

/// A JSON value as report text: strings, numbers, and arrays of strings joined with `, `.
fn text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Array(items) => {
            let parts: Option<Vec<&str>> = items.iter().map(|i| i.as_str()).collect();
            parts.filter(|p| !p.is_empty()).map(|p| p.join(", "))
        }
        _ => None,
    }
}

impl Verifier for DataVerifier<'_> {
    fn provider(&self) -> &'static str {
        "*"
    }

    fn check(&self, _key: &Secret, _admin: bool) -> Checked {
        Checked {
            verification: Verification::not_checked("no provider given".into()),
            requests: 0,
        }
    }

    fn handles(&self, key: &Candidate<'_>) -> bool {
        self.recipe(key).is_some()
    }

    fn check_candidate(&self, key: &Candidate<'_>) -> Checked {
        let Some(recipe) = self.recipe(key) else {
            return self.check(key.secret, key.admin);
        };
        let first = self.run(recipe, key.secret);
        let deep = recipe::find_deep(self.recipes, key.provider, key.secret.expose(), key.admin);
        match deep {
            Some(deep) if self.deep && first.verification.status == Status::Live => {
                self.then_deep(first, deep, key.secret)
            }
            _ => first,
        }
    }

    fn host(&self, key: &Candidate<'_>) -> String {
        self.recipe(key)
            .map_or_else(|| key.provider.to_string(), |r| r.host().to_string())
    }
}
