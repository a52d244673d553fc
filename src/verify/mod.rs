//! Verification: asking the provider whether each distinct key found still works, opt-in with
//! `--verify` (or `keyhound verify`). It owns the verdict types the reports show, the settings,
//! and `verify_findings`, which checks each distinct key once — from the cache when a recent
//! verdict is there, else through a `Verifier` — with a bounded number of keys in flight.

pub mod aws;
pub mod cache;
pub mod classify;
pub mod clock;
pub mod endpoint;
pub mod engine;
pub mod fields;
pub mod gcp;
pub mod http;
pub mod openai;
pub mod recipe;
pub mod retry;
pub mod sigv4;

use crate::finding::Finding;
use crate::rules::RuleSet;
use crate::secret::Secret;
use cache::Cache;
use clock::{Clock, SystemClock};
use endpoint::BaseUrl;
use engine::DataVerifier;
use http::{HttpTransport, Timeouts};
use openai::{Checked, OpenAi, Verifier};
use retry::RetryPolicy;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// What is known about a key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The provider accepted it: anyone holding it can use the account.
    Live,
    /// The provider rejected it: revoked, never valid, or its account deactivated.
    Dead,
    /// Checked, but no answer settled it (network, rate limits, server errors, odd answers).
    Unknown,
    /// Not checked: keyhound has no verifier for this provider.
    #[default]
    NotChecked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Live => "live",
            Status::Dead => "dead",
            Status::Unknown => "unknown",
            Status::NotChecked => "not_checked",
        }
    }

    /// Whether the key might still work: everything but a proven `dead`.
    pub fn may_work(self) -> bool {
        self != Status::Dead
    }
}

/// The verdict on one key, as every report shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub status: Status,
    /// Why: `restricted key`, `no credit`, `revoked or never valid`, `account deactivated`, or
    /// what kept the verdict open; null for a plainly live key.
    pub reason: Option<String>,
    /// The last answer's HTTP status (null when none came, or when cached).
    pub http_status: Option<u16>,
    /// The last answer's `error.code`. This and the next two come from the server: each is kept
    /// only when `fields::checked` finds it of the expected shape and not key-shaped.
    pub error_code: Option<String>,
    /// The last answer's `x-request-id`.
    pub request_id: Option<String>,
    /// The last answer's `openai-organization`.
    pub organization: Option<String>,
    /// When the verdict was made, in seconds since the epoch (RFC 3339 on the wire).
    #[serde(serialize_with = "serialize_time")]
    pub checked_at: Option<i64>,
    /// True when the verdict comes from the cache of an earlier run.
    pub cached: bool,
    /// The request that decided (providers other than OpenAI, whose fields above say it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestInfo>,
    /// What the provider's answer says about a live key's owner, when it says something.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
}

/// `verification.request`: which request decided, and what came back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RequestInfo {
    pub method: String,
    /// The path and fixed query (`/v1/models`); never the key.
    pub path: String,
    pub status: Option<u16>,
    pub error_code: Option<String>,
    pub request_id: Option<String>,
}

/// `verification.owner`: the blast radius of a live key, as its provider tells it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Owner {
    pub login: Option<String>,
    pub scopes: Option<String>,
    pub account: Option<String>,
    pub arn: Option<String>,
    pub user: Option<String>,
    pub credit_remaining: Option<String>,
}

impl Owner {
    /// Sets the field `name` (one of `recipe::OWNER_FIELDS`).
    pub fn set(&mut self, name: &str, value: String) {
        let slot = match name {
            "login" => &mut self.login,
            "scopes" => &mut self.scopes,
            "account" => &mut self.account,
            "arn" => &mut self.arn,
            "user" => &mut self.user,
            "credit_remaining" => &mut self.credit_remaining,
            _ => return,
        };
        *slot = Some(value);
    }
}

#[allow(
    clippy::ref_option,
    reason = "serde's serialize_with passes a reference to the field"
)]
fn serialize_time<S: Serializer>(t: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(secs) => s.serialize_str(&clock::rfc3339(*secs)),
        None => s.serialize_none(),
    }
}

impl Verification {
    pub(crate) fn not_checked(reason: String) -> Self {
        Verification {
            reason: Some(reason),
            ..Verification::default()
        }
    }

    pub(crate) fn unknown(reason: String, now: i64) -> Self {
        Verification {
            status: Status::Unknown,
            reason: Some(reason),
            checked_at: Some(now),
            ..Verification::default()
        }
    }

    /// For people: "live — no credit", "dead — revoked or never valid (cached 3 h ago)".
    pub fn label(&self, now: i64) -> String {
        let mut text = self.status.as_str().replace('_', " ");
        if let Some(reason) = &self.reason {
            text.push_str(" — ");
            text.push_str(reason);
        }
        if let (true, Some(at)) = (self.cached, self.checked_at) {
            text.push_str(&format!(" (cached {} ago)", clock::age(now - at)));
        }
        text
    }
}

/// Verdicts by key fingerprint.
pub type Verdicts = HashMap<String, Verification>;

/// Counters of a verification run (`stats.verification` in JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyStats {
    /// Distinct keys.
    pub keys: u64,
    pub live: u64,
    pub dead: u64,
    pub unknown: u64,
    pub not_checked: u64,
    /// Verdicts taken from the cache.
    pub cached: u64,
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Findings left out of the report by `--only-live`.
    pub hidden: u64,
}

/// Where verdicts are kept between runs, and for how long.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// None: no cache directory could be found; nothing is cached.
    pub dir: Option<PathBuf>,
    /// Use cached verdicts (not in `keyhound verify`, which always asks afresh).
    pub read: bool,
    /// Keep this run's verdicts.
    pub write: bool,
    /// How long a `dead` verdict is trusted (`live`: at most `cache::LIVE_MAX_AGE`).
    pub ttl: Duration,
}

impl CacheConfig {
    /// `KEYHOUND_CACHE_DIR`, else `keyhound` in the user's cache directory.
    pub fn default_dir() -> Option<PathBuf> {
        match std::env::var_os("KEYHOUND_CACHE_DIR") {
            Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
            _ => dirs::cache_dir().map(|d| d.join("keyhound")),
        }
    }
}

/// How to verify.
#[derive(Debug, Clone)]
pub struct VerifyConfig {
    pub base_url: BaseUrl,
    /// Most keys checked at once.
    pub concurrency: usize,
    pub cache: CacheConfig,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    /// `--verify-deep`: also the steps that prove more at a cost (GCP's token exchange).
    pub deep: bool,
}

/// The default number of keys checked at once.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// The default time a `dead` verdict is trusted.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(24 * 3600);

/// One distinct key to check.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub fingerprint: &'a str,
    pub secret: &'a Secret,
    pub provider: &'a str,
    /// An admin key (checked at the admin endpoint).
    pub admin: bool,
}

/// What verifying a scan's keys found.
#[derive(Debug, Clone, Default)]
pub struct Verified {
    pub verdicts: Verdicts,
    pub stats: VerifyStats,
}

/// Verifies each distinct key of `findings` once, over the network with the real clock.
pub fn verify_findings(findings: &[Finding], rules: &RuleSet, cfg: &VerifyConfig) -> Verified {
    let keys = candidates(findings, rules);
    let clock = SystemClock;
    let transports = HttpTransport::new(&cfg.base_url, cfg.timeouts)
        .and_then(|t| Ok((t, HttpTransport::build(false, cfg.timeouts)?)))
        .and_then(|(o, d)| Ok((o, d, HttpTransport::build(true, cfg.timeouts)?)));
    match transports {
        Ok((openai, data, local)) => {
            let openai = OpenAi::new(cfg.base_url.clone(), Box::new(openai), &clock, cfg.retry);
            let data = DataVerifier::new(
                recipe::builtin(),
                cfg.base_url.clone(),
                Box::new(data),
                &clock,
                cfg.retry,
            )
            .with_local(Box::new(local))
            .with_deep(cfg.deep);
            let both = Chain(vec![&openai, &data]);
            verify_keys(&keys, cfg, &both, &clock)
        }
        Err(e) => {
            crate::diag::eprint(&format!("keyhound: error: {e}"));
            let now = clock.now();
            let verdicts = keys
                .iter()
                .map(|k| {
                    (
                        k.fingerprint.to_string(),
                        Verification::unknown(e.clone(), now),
                    )
                })
                .collect();
            Verified {
                stats: count(&verdicts, 0, 0),
                verdicts,
            }
        }
    }
}

/// Verifiers tried in order: the first that handles a key checks it.
pub struct Chain<'v>(pub Vec<&'v dyn Verifier>);

impl Chain<'_> {
    fn pick(&self, key: &Candidate<'_>) -> Option<&dyn Verifier> {
        self.0.iter().copied().find(|v| v.handles(key))
    }
}

impl Verifier for Chain<'_> {
    fn provider(&self) -> &'static str {
        "*"
    }
    fn check(&self, key: &Secret, admin: bool) -> Checked {
        match self.0.first() {
            Some(v) => v.check(key, admin),
            None => Checked {
                verification: Verification::not_checked("no verifier".into()),
                requests: 0,
            },
        }
    }
    fn handles(&self, key: &Candidate<'_>) -> bool {
        self.pick(key).is_some()
    }
    fn check_candidate(&self, key: &Candidate<'_>) -> Checked {
        match self.pick(key) {
            Some(v) => v.check_candidate(key),
            None => Checked {
                verification: Verification::not_checked(cannot_verify(key.provider)),
                requests: 0,
            },
        }
    }
    fn host(&self, key: &Candidate<'_>) -> String {
        self.pick(key)
            .map_or_else(|| key.provider.to_string(), |v| v.host(key))
    }
}

fn cannot_verify(provider: &str) -> String {
    format!("keyhound cannot verify {provider} keys")
}

/// The distinct keys of `findings`, in report order: of a key found several times, the place
/// that knows most about it (an AWS key id with its secret, a key with hints), so it is still
/// verified once.
pub fn candidates<'a>(findings: &'a [Finding], rules: &'a RuleSet) -> Vec<Candidate<'a>> {
    let mut at: HashMap<&str, usize> = HashMap::new();
    let mut out: Vec<Candidate<'a>> = Vec::new();
    for f in findings {
        let spec = &rules.rules[f.rule].spec;
        let key = Candidate {
            fingerprint: &f.fingerprint,
            secret: &f.secret,
            provider: &spec.provider,
            admin: spec.kind == "admin" || f.secret.expose().starts_with("sk-admin-"),
        };
        match at.get(f.fingerprint.as_str()) {
            Some(&i) if knows(&key) > knows(&out[i]) => out[i] = key,
            Some(_) => {}
            None => {
                at.insert(&f.fingerprint, out.len());
                out.push(key);
            }
        }
    }
    out
}

/// How much a place tells about its key beyond the key: a paired secret, then hints.
fn knows(key: &Candidate<'_>) -> (bool, usize) {
    (key.secret.paired().is_some(), key.secret.hint_count())
}

/// Verifies `keys`: from the cache where it has a recent verdict, else with `verifier`, at
/// most `cfg.concurrency` at once; fresh verdicts go into the cache.
pub fn verify_keys(
    keys: &[Candidate<'_>],
    cfg: &VerifyConfig,
    verifier: &dyn Verifier,
    clock: &dyn Clock,
) -> Verified {
    let mut cache = cfg
        .cache
        .dir
        .as_deref()
        .map(|d| Cache::open_named(d, &cache_name(cfg)));
    let now = clock.now();
    let mut verdicts = Verdicts::new();
    let mut todo = Vec::new();
    let mut cached = 0;
    for key in keys {
        if !verifier.handles(key) {
            let why = cannot_verify(key.provider);
            verdicts.insert(key.fingerprint.to_string(), Verification::not_checked(why));
            continue;
        }
        let hit = cache
            .as_ref()
            .filter(|_| cfg.cache.read)
            .and_then(|c| c.get(key.secret, now, cfg.cache.ttl));
        match hit {
            Some(v) => {
                cached += 1;
                verdicts.insert(key.fingerprint.to_string(), v);
            }
            None => todo.push(*key),
        }
    }
    let checked = check_all(&todo, cfg.concurrency, verifier);
    let requests = checked.iter().map(|c| u64::from(c.requests)).sum();
    for (key, c) in todo.iter().zip(checked) {
        if let Some(cache) = cache.as_mut().filter(|_| cfg.cache.write) {
            cache.put(key.secret, &c.verification);
        }
        verdicts.insert(key.fingerprint.to_string(), c.verification);
    }
    let saved = match cache.as_ref().filter(|_| cfg.cache.write) {
        Some(cache) => cache.save(clock.now(), cfg.cache.ttl),
        None => Ok(()),
    };
    if let Err(e) = saved {
        crate::diag::eprint(&format!(
            "keyhound: warning: cannot write the verification cache: {e}"
        ));
    }
    Verified {
        stats: count(&verdicts, cached, requests),
        verdicts,
    }
}

/// Checks `keys` with at most `concurrency` in flight per host; results in the order of `keys`.
fn check_all(keys: &[Candidate<'_>], concurrency: usize, verifier: &dyn Verifier) -> Vec<Checked> {
    let mut by_host: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let host = verifier.host(key);
        match by_host.iter_mut().find(|(h, _)| *h == host) {
            Some((_, list)) => list.push(i),
            None => by_host.push((host, vec![i])),
        }
    }
    let results: Mutex<Vec<Option<Checked>>> = Mutex::new(vec![None; keys.len()]);
    std::thread::scope(|s| {
        let mut failed = None;
        for (_, list) in &by_host {
            let next = std::sync::Arc::new(AtomicUsize::new(0));
            let work = |next: &AtomicUsize| {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = list.get(n) else { break };
                    let checked = verifier.check_candidate(&keys[i]);
                    results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(checked);
                }
            };
            let workers = concurrency.clamp(1, list.len().max(1));
            let mut started = 0;
            for _ in 0..workers {
                let next = next.clone();
                let spawned = std::thread::Builder::new()
                    .name("keyhound-verify".into())
                    .spawn_scoped(s, move || work(&next));
                match spawned {
                    Ok(_) => started += 1,
                    Err(e) => {
                        failed.get_or_insert(e);
                        break;
                    }
                }
            }
            if started == 0 {
                // No thread could start: this host's keys are checked here, one by one.
                work(&next);
            }
        }
        if let Some(e) = failed {
            crate::diag::eprint(&format!(
                "keyhound: warning: cannot start a verification thread ({e}); checking fewer keys at once"
            ));
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|c| {
            c.unwrap_or_else(|| Checked {
                verification: Verification::unknown("not checked: a worker stopped".into(), 0),
                requests: 0,
            })
        })
        .collect()
}

/// What names a run's cache file: the endpoints, and `--verify-deep` (whose live verdicts say
/// more than the others').
fn cache_name(cfg: &VerifyConfig) -> String {
    let name = cfg.base_url.cache_id();
    if cfg.deep {
        format!("{name};deep")
    } else {
        name
    }
}

fn count(verdicts: &Verdicts, cached: u64, requests: u64) -> VerifyStats {
    let n = |s: Status| verdicts.values().filter(|v| v.status == s).count() as u64;
    VerifyStats {
        keys: verdicts.len() as u64,
        live: n(Status::Live),
        dead: n(Status::Dead),
        unknown: n(Status::Unknown),
        not_checked: n(Status::NotChecked),
        cached,
        requests,
        hidden: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    /// Says `live` to every key after `pause`, counting calls and the most in flight at once.
    #[derive(Default)]
    struct Counting {
        pause: Duration,
        calls: AtomicU32,
        in_flight: AtomicUsize,
        most: AtomicUsize,
    }

    impl Verifier for Counting {
        fn provider(&self) -> &'static str {
            "openai"
        }
        fn check(&self, _key: &Secret, _admin: bool) -> Checked {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(self.pause);
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            let verification = Verification {
                status: Status::Live,
                checked_at: Some(100),
                ..Verification::default()
            };
            Checked {
                verification,
                requests: 1,
            }
        }
    }

    struct Fixed;
    impl Clock for Fixed {
        fn now(&self) -> i64 {
            100
        }
        fn sleep(&self, _: Duration) {}
    }

    fn config(concurrency: usize, cache: Option<&std::path::Path>) -> VerifyConfig {
        VerifyConfig {
            base_url: BaseUrl::openai(),
            concurrency,
            cache: CacheConfig {
                dir: cache.map(|d| d.to_path_buf()),
                read: true,
                write: true,
                ttl: DEFAULT_CACHE_TTL,
            },
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            deep: false,
        }
    }

    fn secrets(n: usize) -> Vec<(String, Secret)> {
        (0..n)
            .map(|i| (format!("kh1:{i}"), Secret::new(format!("sk-{i}"), 3)))
            .collect()
    }

    fn candidates<'a>(keys: &'a [(String, Secret)], provider: &'a str) -> Vec<Candidate<'a>> {
        keys.iter()
            .map(|(fp, s)| Candidate {
                fingerprint: fp,
                secret: s,
                provider,
                admin: false,
            })
            .collect()
    }

    #[test]
    fn keys_of_other_providers_are_not_checked() {
        let keys = secrets(2);
        let v = Counting::default();
        let out = verify_keys(&candidates(&keys, "acme"), &config(2, None), &v, &Fixed);
        assert_eq!(v.calls.load(Ordering::SeqCst), 0);
        let verdict = &out.verdicts["kh1:0"];
        assert_eq!(verdict.status, Status::NotChecked);
        assert_eq!(
            verdict.label(0),
            "not checked — keyhound cannot verify acme keys"
        );
        assert_eq!((out.stats.keys, out.stats.not_checked), (2, 2));
    }

    #[test]
    fn at_most_concurrency_keys_are_in_flight() {
        let keys = secrets(9);
        let v = Counting {
            pause: Duration::from_millis(20),
            ..Counting::default()
        };
        let out = verify_keys(&candidates(&keys, "openai"), &config(3, None), &v, &Fixed);
        assert_eq!(v.calls.load(Ordering::SeqCst), 9);
        assert!(v.most.load(Ordering::SeqCst) <= 3);
        assert_eq!((out.stats.live, out.stats.requests), (9, 9));
    }

    #[test]
    fn a_second_run_reads_the_cache_unless_told_not_to() {
        let dir = tempfile::tempdir().unwrap();
        let keys = secrets(2);
        let keys = candidates(&keys, "openai");
        let v = Counting::default();
        let mut cfg = config(1, Some(dir.path()));
        verify_keys(&keys, &cfg, &v, &Fixed);
        let again = verify_keys(&keys, &cfg, &v, &Fixed);
        assert_eq!(v.calls.load(Ordering::SeqCst), 2);
        assert_eq!((again.stats.cached, again.stats.requests), (2, 0));
        assert!(again.verdicts["kh1:1"].cached);
        cfg.cache.read = false;
        verify_keys(&keys, &cfg, &v, &Fixed);
        assert_eq!(v.calls.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn labels_put_the_status_first() {
        let v = Verification {
            status: Status::Dead,
            reason: Some("revoked or never valid".into()),
            checked_at: Some(0),
            cached: true,
            ..Verification::default()
        };
        assert_eq!(
            v.label(3 * 3600),
            "dead — revoked or never valid (cached 3 h ago)"
        );
        let live = Verification {
            status: Status::Live,
            ..Verification::default()
        };
        assert_eq!(live.label(0), "live");
    }
}
