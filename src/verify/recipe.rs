//! Verification as data: the `[[verify]]` tables of the built-in rule files, each saying how one
//! provider's keys are checked (method, fixed HTTPS URL on the provider's own host, the header
//! the key goes in, fixed extra headers, and a table from status, error code, JSON field or
//! header to verdict). Only the built-in files may carry them (a rule file given on the command
//! line or by a repository cannot send keys anywhere); `validate` keeps every recipe read-only
//! in shape: a fixed https URL without credentials or query, the key in a header only.

use super::Status;
use super::classify::REVOKED;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// One provider's check, as written in `rules/<provider>.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    pub provider: String,
    /// Only keys starting with one of these (all keys of the provider when empty).
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// Only admin keys (true), only other keys (false), or both (absent).
    #[serde(default)]
    pub admin: Option<bool>,
    /// No free read-only check exists: the key is `not_checked` with this reason, nothing sent.
    #[serde(default)]
    pub not_checked: Option<String>,
    /// `GET`, or `POST` for the few documented read-only POST checks (Slack's `auth.test`).
    #[serde(default = "get")]
    pub method: String,
    #[serde(default)]
    pub url: String,
    /// The header the key goes in (`authorization`, `x-api-key`, `private-token`, …).
    #[serde(default)]
    pub key_header: String,
    /// Put before the key in that header (`Bearer `, `token `).
    #[serde(default)]
    pub key_prefix: String,
    /// Fixed extra headers (`anthropic-version`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A fixed request body (for a POST), never holding the key.
    #[serde(default)]
    pub body: Option<String>,
    /// Where the answer's error code is: a JSON pointer (`/error/type`).
    #[serde(default)]
    pub error_code: Option<String>,
    /// The header carrying the provider's request id (`request-id`, `x-github-request-id`).
    #[serde(default = "x_request_id")]
    pub request_id: String,
    /// What a live answer says about the key's owner: field name → `json:/pointer` or
    /// `header:name` (names: login, scopes, account, arn, user, credit_remaining).
    #[serde(default)]
    pub owner: BTreeMap<String, String>,
    /// How the request is signed instead of carrying the key: `aws-sigv4` (the key id and its
    /// paired secret sign the request; `src/verify/aws.rs`), or `gcp-jwt` (the body is a
    /// jwt-bearer grant whose assertion the private key signs; `src/verify/gcp.rs`).
    #[serde(default)]
    pub sign: Option<String>,
    /// A second step, sent only with `--verify-deep` and only after the provider's first recipe
    /// found the key live; its answer decides (GCP's token exchange).
    #[serde(default)]
    pub deep: bool,
    /// AWS accounts that canary-token services use: a key id that decodes to one of them is
    /// never sent (it would set off the owner's alarm) and is `not_checked`, `canary token`.
    #[serde(default)]
    pub canary_accounts: Vec<String>,
    /// Answers are XML (AWS): each leaf element is read as a field of a flat JSON object
    /// (`/Code`, `/Arn`), as is a JSON answer's each leaf.
    #[serde(default)]
    pub xml: bool,
    /// Hints (`[[rule.hint]]`) the URL takes as `{name}`: each must have been found next to the
    /// key, and be of the shape `hint_shape` allows, else the key is `not_checked` (`missing`).
    #[serde(default)]
    pub needs: Vec<String>,
    /// Why a key is `not_checked` when a hint it `needs` is missing.
    #[serde(default)]
    pub missing: Option<String>,
    /// A hint naming hosts found next to the key: when one of them is not this recipe's host
    /// (or below it), the key is someone else's instance's and is `not_checked` (`other_host`).
    #[serde(default)]
    pub host_hint: Option<String>,
    #[serde(default)]
    pub other_host: Option<String>,
    /// When a `dead` answer is no proof, because the key may be another region's or
    /// resource's than the one asked: then it is `unknown`, with the doubt's reason.
    #[serde(default)]
    pub doubt: Option<Doubt>,
    /// False when the check sends no secret at all (GCP's public certificate list).
    #[serde(default = "yes")]
    pub sends_key: bool,
    /// Answer rows, the first that fits decides; answers no row fits are retried (429, 408,
    /// 409, 5xx) or `unknown`, never `dead`.
    #[serde(default)]
    pub answer: Vec<Row>,
}

fn get() -> String {
    "GET".into()
}

fn yes() -> bool {
    true
}

fn x_request_id() -> String {
    "x-request-id".into()
}

/// When a recipe's `dead` is doubted, from the hosts a hint found around the key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Doubt {
    /// The hint naming hosts (`moonshot_host`, `azure_host`).
    pub hint: String,
    pub when: DoubtWhen,
    pub reason: String,
}

/// Which hosts around a key make its `dead` doubtful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DoubtWhen {
    /// The recipe's own host is not named near the key (a platform with regions of their own
    /// keys: the key may be the other region's).
    OwnHostAbsent,
    /// The hint names more than one distinct host (several resources in one file: the one
    /// asked may not be the key's).
    SeveralHosts,
}

/// One row of a recipe's answer table: every condition given must hold.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub status: u16,
    /// The error code (at the recipe's `error_code` pointer) is one of these.
    #[serde(default)]
    pub code: Vec<String>,
    /// A JSON pointer into the body that must be present and not null …
    #[serde(default)]
    pub field: Option<String>,
    /// … and, when given, equal to this value (numbers compare by value) …
    #[serde(default)]
    pub equals: Option<serde_json::Value>,
    /// … or, when given, a string containing this text.
    #[serde(default)]
    pub contains: Option<String>,
    /// A response header that must be present …
    #[serde(default)]
    pub header: Option<String>,
    /// … and, when given, equal to this (after trimming).
    #[serde(default)]
    pub header_equals: Option<String>,
    pub verdict: Verdict,
    /// Why; defaults: `revoked or never valid` for dead, none for live.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a row decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Live,
    Dead,
    Unknown,
    /// Undecided, worth another attempt.
    Retry,
}

/// The owner fields a recipe may ask for.
pub const OWNER_FIELDS: &[&str] = &[
    "login",
    "scopes",
    "account",
    "arn",
    "user",
    "credit_remaining",
];

/// The hosts a provider's keys may go to: its own.
fn allowed_hosts(provider: &str) -> &'static [&'static str] {
    match provider {
        "anthropic" => &["api.anthropic.com"],
        "google" => &["generativelanguage.googleapis.com"],
        "groq" => &["api.groq.com"],
        "xai" => &["api.x.ai"],
        "openrouter" => &["openrouter.ai"],
        "huggingface" => &["huggingface.co"],
        "replicate" => &["api.replicate.com"],
        "together" => &["api.together.xyz"],
        "fireworks" => &["api.fireworks.ai"],
        "deepseek" => &["api.deepseek.com"],
        "mistral" => &["api.mistral.ai"],
        "cohere" => &["api.cohere.com"],
        "moonshot" => &["api.moonshot.ai"],
        "github" => &["api.github.com"],
        "gitlab" => &["gitlab.com"],
        "npm" => &["registry.npmjs.org"],
        "stripe" => &["api.stripe.com"],
        "slack" => &["slack.com"],
        "aws" => &["sts.amazonaws.com"],
        "gcp" => &["www.googleapis.com", "oauth2.googleapis.com"],
        // `{azure_host}` is a hint of the shape `hint_shape` allows (`*.openai.azure.com`).
        "azure-openai" => &["{azure_host}"],
        _ => &[],
    }
}

impl Recipe {
    /// Whether this recipe checks `key` (an admin key when `admin`).
    pub fn fits(&self, key: &str, admin: bool) -> bool {
        (self.prefixes.is_empty() || self.prefixes.iter().any(|p| key.starts_with(p.as_str())))
            && self.admin.is_none_or(|a| a == admin)
    }

    /// The URL's path and query (`/v1/models`), for `verification.request`.
    pub fn path(&self) -> &str {
        let rest = self.url.split_once("://").map_or("", |(_, r)| r);
        rest.find('/').map_or("/", |i| &rest[i..])
    }

    /// The URL's host.
    pub fn host(&self) -> &str {
        let rest = self.url.split_once("://").map_or("", |(_, r)| r);
        rest.split(['/', '?']).next().unwrap_or("")
    }

    /// Checks that the recipe can only send the key, in a header, to its provider's own host.
    pub fn validate(&self) -> Result<(), String> {
        if self.not_checked.is_some() {
            return Ok(());
        }
        let url =
            reqwest::Url::parse(&self.template_free_url()).map_err(|e| format!("url: {e}"))?;
        let host = url.host_str().unwrap_or("");
        let host = if self.host().starts_with('{') {
            self.host()
        } else {
            host
        };
        if url.scheme() != "https"
            || !url.username().is_empty()
            || url.password().is_some()
            || url.port().is_some()
            || url.fragment().is_some()
        {
            return Err(format!("url {}: must be https://HOST/PATH", self.url));
        }
        if !allowed_hosts(&self.provider).contains(&host) || self.host() != host {
            return Err(format!(
                "url {}: {host} is not a host of {}",
                self.url, self.provider
            ));
        }
        for name in &self.needs {
            if hint_shape(name, "").is_none() && !KNOWN_HINTS.contains(&name.as_str()) {
                return Err(format!(
                    "needs {name:?}: not a hint keyhound knows the shape of"
                ));
            }
        }
        if self
            .sign
            .as_deref()
            .is_some_and(|s| s != "aws-sigv4" && s != "gcp-jwt")
        {
            return Err("sign: aws-sigv4 or gcp-jwt".into());
        }
        if !matches!(self.method.as_str(), "GET" | "POST") {
            return Err(format!("method {}: GET or POST only", self.method));
        }
        let header = self.key_header.to_ascii_lowercase();
        if !self.sends_key && header.is_empty() {
            // Nothing secret is sent.
        } else if header.is_empty()
            || header == "host"
            || reqwest::header::HeaderName::from_bytes(header.as_bytes()).is_err()
        {
            return Err(format!("key_header {:?}: a header name", self.key_header));
        }
        for name in self.owner.keys() {
            if !OWNER_FIELDS.contains(&name.as_str()) {
                return Err(format!("owner.{name}: one of {}", OWNER_FIELDS.join(", ")));
            }
        }
        for (name, source) in &self.owner {
            if !(source.starts_with("json:/") || source.starts_with("header:")) {
                return Err(format!("owner.{name}: json:/POINTER or header:NAME"));
            }
        }
        if self.answer.is_empty() {
            return Err("no answer rows".into());
        }
        Ok(())
    }

    /// The URL with each `{hint}` replaced by a placeholder of its shape, for validation.
    fn template_free_url(&self) -> String {
        let mut url = self.url.clone();
        for (name, sample) in [
            ("azure_host", "a0.openai.azure.com"),
            ("client_email", "a%40b.iam.gserviceaccount.com"),
            ("private_key_id", "0"),
        ] {
            url = url.replace(&format!("{{{name}}}"), sample);
        }
        url
    }

    /// The URL with each `{hint}` it needs replaced by the key's nearest value of that hint, checked
    /// and percent-encoded; `None` when one is missing or of another shape.
    pub fn url_for(&self, key: &crate::secret::Secret) -> Option<String> {
        let mut url = self.url.clone();
        for name in &self.needs {
            let value = key.hints(name).next()?;
            let value = hint_shape(name, value)?;
            url = url.replace(&format!("{{{name}}}"), &value);
        }
        Some(url)
    }

    /// Whether `key` was found next to a host of another instance than this recipe's.
    pub fn other_host_near(&self, key: &crate::secret::Secret) -> bool {
        let Some(hint) = &self.host_hint else {
            return false;
        };
        let own = self.host();
        key.hints(hint).any(|h| {
            let h = h.to_ascii_lowercase();
            h != own && !h.ends_with(&format!(".{own}"))
        })
    }

    /// Whether a `dead` answer about `key` is doubtful (`doubt`): the reason, if it is.
    pub fn doubted(&self, key: &crate::secret::Secret) -> Option<&str> {
        let doubt = self.doubt.as_ref()?;
        let mut hosts: Vec<String> = key
            .hints(&doubt.hint)
            .map(str::to_ascii_lowercase)
            .collect();
        hosts.sort_unstable();
        hosts.dedup();
        let doubtful = match doubt.when {
            DoubtWhen::OwnHostAbsent => !hosts.iter().any(|h| h == self.host()),
            DoubtWhen::SeveralHosts => hosts.len() > 1,
        };
        doubtful.then_some(doubt.reason.as_str())
    }

    /// The verdict of the first row that fits the answer, if one does.
    pub fn decide(&self, answer: &Parsed<'_>) -> Option<(Verdict, Option<String>)> {
        let row = self.answer.iter().find(|r| r.fits(self, answer))?;
        let reason = row.reason.clone().or(match row.verdict {
            Verdict::Dead => Some(REVOKED.to_string()),
            _ => None,
        });
        Some((row.verdict, reason))
    }

    /// The error code of an answer, from the recipe's pointer.
    pub fn code(&self, json: Option<&serde_json::Value>) -> Option<String> {
        let pointer = self.error_code.as_deref()?;
        match json?.pointer(pointer)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// An answer as the rows read it.
pub struct Parsed<'a> {
    pub status: u16,
    pub json: Option<serde_json::Value>,
    pub headers: &'a [(String, String)],
    /// Values rows' JSON pointers may name as `{name}` (`/{private_key_id}`).
    pub vars: &'a [(String, String)],
}

impl Parsed<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Row {
    fn fits(&self, recipe: &Recipe, a: &Parsed<'_>) -> bool {
        if self.status != a.status {
            return false;
        }
        if !self.code.is_empty() {
            let code = recipe.code(a.json.as_ref());
            if !code.is_some_and(|c| self.code.contains(&c)) {
                return false;
            }
        }
        if let Some(pointer) = &self.field {
            let mut pointer = pointer.clone();
            for (name, value) in a.vars {
                pointer = pointer.replace(&format!("{{{name}}}"), value);
            }
            if pointer.contains('{') {
                return false;
            }
            let value = a.json.as_ref().and_then(|j| j.pointer(&pointer));
            let present = value.is_some_and(|v| !v.is_null());
            let equal = match (&self.equals, value) {
                (None, _) => true,
                (Some(want), Some(got)) => same(want, got),
                (Some(_), None) => false,
            };
            let equal = equal
                && self.contains.as_deref().is_none_or(|text| {
                    value
                        .and_then(serde_json::Value::as_str)
                        .is_some_and(|v| v.contains(text))
                });
            if !(present && equal) {
                return false;
            }
        }
        if let Some(name) = &self.header {
            let value = a.header(name).map(str::trim);
            let ok = match (&self.header_equals, value) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(want), Some(got)) => want == got,
            };
            if !ok {
                return false;
            }
        }
        true
    }
}

/// JSON equality, numbers by value (`0` equals `0.0`).
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// The hints a recipe may need whose shape `hint_shape` checks.
const KNOWN_HINTS: &[&str] = &[
    "azure_host",
    "client_email",
    "private_key_id",
    "session_token",
];

/// A hint's value as it goes into a URL: checked against the shape its name allows and
/// percent-encoded, or `None`. `azure_host` is `^[a-z0-9-]{2,64}\.openai\.azure\.com$`
/// (lower-cased first: host names are case-insensitive); `client_email` is a service account
/// (`name@project.iam.gserviceaccount.com`, `@` percent-encoded); `private_key_id` is 40 hex.
pub fn hint_shape(name: &str, value: &str) -> Option<String> {
    let label = |s: &str, min: usize, max: usize| {
        (min..=max).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    match name {
        "azure_host" => {
            let host = value.to_ascii_lowercase();
            let sub = host.strip_suffix(".openai.azure.com")?;
            label(sub, 2, 64).then_some(host)
        }
        "client_email" => {
            let (user, domain) = value.split_once('@')?;
            let project = domain.strip_suffix(".gserviceaccount.com")?;
            let ok = label(user, 1, 64)
                && !project.is_empty()
                && project.len() <= 128
                && project.split('.').all(|p| label(p, 1, 63));
            ok.then(|| format!("{user}%40{domain}"))
        }
        "private_key_id" => (value.len() == 40 && value.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| value.to_ascii_lowercase()),
        _ => None,
    }
}

/// What a row's verdict and reason become, for the verdicts of `mod.rs`.
pub fn status(verdict: Verdict) -> Status {
    match verdict {
        Verdict::Live => Status::Live,
        Verdict::Dead => Status::Dead,
        Verdict::Unknown | Verdict::Retry => Status::Unknown,
    }
}

/// Only the `[[verify]]` tables of a rule file.
#[derive(Debug, Deserialize)]
struct VerifyTables {
    #[serde(default)]
    verify: Vec<Recipe>,
}

/// The recipes of the built-in rule files, parsed and validated once.
pub fn builtin() -> &'static [Recipe] {
    static RECIPES: OnceLock<Vec<Recipe>> = OnceLock::new();
    RECIPES.get_or_init(|| {
        crate::rules::BUILTIN
            .iter()
            // The rule loader refuses a built-in file that does not parse, long before this.
            .filter_map(|(_, text)| toml::from_str::<VerifyTables>(text).ok())
            .flat_map(|tables| tables.verify)
            .filter(|r| r.validate().is_ok())
            .collect()
    })
}

/// The recipe that checks `key` of `provider` first, if any.
pub fn find<'r>(
    recipes: &'r [Recipe],
    provider: &str,
    key: &str,
    admin: bool,
) -> Option<&'r Recipe> {
    recipes
        .iter()
        .find(|r| !r.deep && r.provider == provider && r.fits(key, admin))
}

/// The `--verify-deep` step of `provider` for `key`, if it has one.
pub fn find_deep<'r>(
    recipes: &'r [Recipe],
    provider: &str,
    key: &str,
    admin: bool,
) -> Option<&'r Recipe> {
    recipes
        .iter()
        .find(|r| r.deep && r.provider == provider && r.fits(key, admin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_recipe_is_valid() {
        for (name, text) in crate::rules::BUILTIN {
            let tables: VerifyTables = toml::from_str(text).unwrap();
            for r in &tables.verify {
                r.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
        assert!(builtin().len() >= 10);
    }

    fn recipe(url: &str) -> Recipe {
        toml::from_str::<VerifyTables>(&format!(
            "[[verify]]\nprovider = \"anthropic\"\nurl = \"{url}\"\nkey_header = \"x-api-key\"\n\
             [[verify.answer]]\nstatus = 200\nverdict = \"live\"\n"
        ))
        .unwrap()
        .verify
        .remove(0)
    }

    #[test]
    fn keys_go_only_to_the_providers_own_host_over_https() {
        assert!(
            recipe("https://api.anthropic.com/v1/models")
                .validate()
                .is_ok()
        );
        for bad in [
            "http://api.anthropic.com/v1/models",
            "https://api.anthropic.com.evil.example/v1/models",
            "https://user:pw@api.anthropic.com/v1/models",
            "https://api.anthropic.com:8443/v1/models",
            "https://api.openai.com/v1/models",
        ] {
            assert!(recipe(bad).validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn rows_match_status_code_field_and_header() {
        let r: Recipe = toml::from_str::<VerifyTables>(
            r#"
[[verify]]
provider = "slack"
url = "https://slack.com/api/auth.test"
key_header = "authorization"
error_code = "/error"
[[verify.answer]]
status = 200
field = "/ok"
equals = true
verdict = "live"
[[verify.answer]]
status = 200
code = ["invalid_auth"]
verdict = "dead"
[[verify.answer]]
status = 403
header = "x-ratelimit-remaining"
header_equals = "0"
verdict = "unknown"
reason = "rate limited"
"#,
        )
        .unwrap()
        .verify
        .remove(0);
        let parsed = |status, body: &str, headers: &'static [(String, String)]| Parsed {
            status,
            json: serde_json::from_str(body).ok(),
            headers,
            vars: &[],
        };
        let live = parsed(200, r#"{"ok":true}"#, &[]);
        assert_eq!(r.decide(&live), Some((Verdict::Live, None)));
        let dead = parsed(200, r#"{"ok":false,"error":"invalid_auth"}"#, &[]);
        assert_eq!(r.decide(&dead), Some((Verdict::Dead, Some(REVOKED.into()))));
        let other = parsed(200, r#"{"ok":false,"error":"ratelimited"}"#, &[]);
        assert_eq!(r.decide(&other), None);
        assert_eq!(r.decide(&parsed(403, "", &[])), None);
    }
}
