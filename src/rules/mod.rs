//! Rules are data: the TOML rule format, the built-in rule files embedded at build time, and the
//! compiled `RuleSet` (regexes compiled lazily, on a rule's first keyword hit).

pub(crate) mod checksum;
mod load;
pub mod template;

pub use load::{RuleError, load_rule_files, load_rule_files_with, redact_key_shaped, toml_error};

use regex::bytes::Regex;
use serde::Deserialize;
use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};

/// Rule files compiled into the binary, one per provider. OpenAI's come first: where two rules
/// match the same bytes, the earlier wins.
pub const BUILTIN: &[(&str, &str)] = &[
    ("openai.toml", include_str!("../../rules/openai.toml")),
    ("anthropic.toml", include_str!("../../rules/anthropic.toml")),
    ("google.toml", include_str!("../../rules/google.toml")),
    ("groq.toml", include_str!("../../rules/groq.toml")),
    ("xai.toml", include_str!("../../rules/xai.toml")),
    (
        "openrouter.toml",
        include_str!("../../rules/openrouter.toml"),
    ),
    (
        "huggingface.toml",
        include_str!("../../rules/huggingface.toml"),
    ),
    ("replicate.toml", include_str!("../../rules/replicate.toml")),
    (
        "perplexity.toml",
        include_str!("../../rules/perplexity.toml"),
    ),
    ("together.toml", include_str!("../../rules/together.toml")),
    ("fireworks.toml", include_str!("../../rules/fireworks.toml")),
    (
        "azure-openai.toml",
        include_str!("../../rules/azure-openai.toml"),
    ),
    ("deepseek.toml", include_str!("../../rules/deepseek.toml")),
    ("qwen.toml", include_str!("../../rules/qwen.toml")),
    ("mistral.toml", include_str!("../../rules/mistral.toml")),
    ("cohere.toml", include_str!("../../rules/cohere.toml")),
    ("moonshot.toml", include_str!("../../rules/moonshot.toml")),
    ("github.toml", include_str!("../../rules/github.toml")),
    ("gitlab.toml", include_str!("../../rules/gitlab.toml")),
    ("npm.toml", include_str!("../../rules/npm.toml")),
    ("pypi.toml", include_str!("../../rules/pypi.toml")),
    ("aws.toml", include_str!("../../rules/aws.toml")),
    ("stripe.toml", include_str!("../../rules/stripe.toml")),
    ("slack.toml", include_str!("../../rules/slack.toml")),
    ("gcp.toml", include_str!("../../rules/gcp.toml")),
    (
        "private-key.toml",
        include_str!("../../rules/private-key.toml"),
    ),
];

/// The built-in rule files as JSON, by file name, less their `[[verify]]` tables: `build.rs`
/// writes them from `rules/*.toml`, and the loader reads them, as serde_json reads them in a fifth
/// of the time TOML takes (see `build.rs`).
pub const BUILTIN_JSON: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_json.rs"));

/// The provider ids keyhound knows, as reports, `--provider` and `keyhound.toml` spell them.
pub const PROVIDERS: &[&str] = &[
    "openai",
    "anthropic",
    "google",
    "groq",
    "xai",
    "openrouter",
    "huggingface",
    "replicate",
    "perplexity",
    "together",
    "fireworks",
    "azure-openai",
    "deepseek",
    "qwen",
    "mistral",
    "cohere",
    "moonshot",
    "github",
    "gitlab",
    "npm",
    "pypi",
    "aws",
    "stripe",
    "slack",
    "gcp",
    "private-key",
];

/// How many lines around a key `context` looks at, and how many bytes at most on each side.
pub const CONTEXT_LINES: usize = 5;
pub const CONTEXT_BYTES: usize = 1024;

/// The bytes that may appear inside a key by default; such a byte may not touch a key on either side.
pub const DEFAULT_BOUNDARY: &str = "[A-Za-z0-9_-]";

/// One rule file: `[[rule]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// SHA-256 of public sample secrets, never reported by any rule of the file.
    #[serde(default)]
    pub deny_sha256: Vec<String>,
    #[serde(default)]
    pub rule: Vec<RuleSpec>,
    /// How the provider's keys are verified (`crate::verify::recipe`): built-in files only.
    #[serde(default)]
    pub verify: Vec<toml::Value>,
}

/// A rule as written in TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    /// PascalCase name, used by SARIF.
    pub name: String,
    pub provider: String,
    pub kind: String,
    pub description: String,
    /// SARIF `security-severity`, 0.0 to 10.0.
    pub severity: f32,
    pub keywords: Vec<String>,
    pub pattern: String,
    /// A regex character class: bytes that may not touch the match on either side.
    #[serde(default)]
    pub boundary: Option<String>,
    /// Two capture names whose texts must be of equal length.
    #[serde(default)]
    pub balanced: Option<[String; 2]>,
    /// Minimum number of distinct characters in the body.
    #[serde(default)]
    pub min_distinct: Option<usize>,
    /// Minimum number of digits in the body (formats without a prefix: words are not keys).
    #[serde(default)]
    pub min_digits: Option<usize>,
    /// Longest run of repeated or sequential characters allowed in the body.
    #[serde(default)]
    pub max_run: Option<usize>,
    /// How far around a keyword hit a match can reach, in bytes.
    #[serde(default = "default_max_len")]
    pub max_len: usize,
    /// SHA-256 (hex) of public sample secrets that must never be reported.
    #[serde(default)]
    pub deny_sha256: Vec<String>,
    /// An offline checksum the `check` group must carry for the `body` group: `crc32-base62`
    /// (GitHub, npm), `sha256-base32` (GitHub fine-grained) or `marvin32` (Azure). A key that fails
    /// it is a placeholder.
    #[serde(default)]
    pub checksum: Option<Checksum>,
    /// Case-insensitive regexes, one of which must match within `CONTEXT_LINES` lines of the key
    /// (the provider's name, environment variable or base URL). Without it the key shape is not
    /// a finding, only counted as unattributed.
    #[serde(default)]
    pub context: Vec<String>,
    /// The keywords are context words, not part of the key: the pattern is searched in the lines
    /// around each keyword hit rather than through it (formats without a prefix).
    #[serde(default)]
    pub near_keywords: bool,
    /// A secret starting with one of these belongs to someone else (`sk-ant-` is Anthropic's).
    #[serde(default)]
    pub exclude_prefixes: Vec<String>,
    /// A secret containing one of these belongs to someone else (`T3BlbkFJ` is OpenAI's marker).
    #[serde(default)]
    pub exclude_containing: Vec<String>,
    /// Every match is a placeholder: public values that look like keys (`pk_live_`).
    #[serde(default)]
    pub placeholder: bool,
    /// A secret holding one of these (ASCII case ignored) is a placeholder: a name part that
    /// reads `your-…-here` is filler, not a service account's name.
    #[serde(default)]
    pub placeholder_words: Vec<String>,
    /// The user named this rule's provider for the keys given (`keyhound verify --provider X`,
    /// one provider): no context is needed, and a rule that searches only near its keywords
    /// searches everywhere. Never set by a rule file.
    #[serde(skip)]
    pub attested: bool,
    /// The second part of a two-part key (AWS's secret access key), looked for within
    /// `CONTEXT_LINES` lines of each key the rule finds; alone it is never a finding.
    #[serde(default)]
    pub pair: Option<PairSpec>,
    /// What verification needs from around the key (`[[rule.hint]]`): a host, an account
    /// email, a session token. Never reported; only `src/verify` reads them.
    #[serde(default)]
    pub hint: Vec<HintSpec>,
    #[serde(default)]
    pub references: Vec<String>,
    pub remediation: String,
    #[serde(default)]
    pub revoke_url: Option<String>,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

/// How a rule's key finds its second part: the nearest match of `pattern` (its `secret` group,
/// else the whole match) within `CONTEXT_LINES` lines that passes the placeholder checks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairSpec {
    pub pattern: String,
    /// A regex character class: bytes that may not touch the second part on either side.
    #[serde(default)]
    pub boundary: Option<String>,
    #[serde(default)]
    pub min_distinct: Option<usize>,
    #[serde(default)]
    pub min_digits: Option<usize>,
    #[serde(default)]
    pub max_run: Option<usize>,
    /// The severity of a key found with its second part (the rule's own is the key alone).
    pub severity: f32,
}

/// One value verification needs, looked for around each key the rule finds: every distinct
/// match of `pattern` (its `secret` group, else the whole match), nearest first, within
/// `CONTEXT_LINES` lines (`scope = "near"`) or `FILE_HINT_BYTES` bytes (`scope = "file"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HintSpec {
    pub name: String,
    pub pattern: String,
    #[serde(default)]
    pub scope: HintScope,
}

/// How far from the key a hint may stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HintScope {
    /// Within `CONTEXT_LINES` lines (and `HINT_BYTES` bytes) of the key.
    #[default]
    Near,
    /// Anywhere within `FILE_HINT_BYTES` bytes of the key: the same file, in practice.
    File,
}

/// How far a `near` hint may reach, in bytes (a session token is longer than `CONTEXT_BYTES`).
pub const HINT_BYTES: usize = 4096;
/// How far a `file` hint may reach, in bytes, either side of the key.
pub const FILE_HINT_BYTES: usize = 64 * 1024;

/// The largest `max_len` a rule may ask for: the matcher's work per keyword hit grows with it.
pub const MAX_LEN_LIMIT: usize = 4096;

fn default_max_len() -> usize {
    256
}

/// The offline checksums a rule can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Checksum {
    /// base62 of the CRC-32 of `body`, 6 characters (GitHub classic tokens, npm).
    Crc32Base62,
    /// The first characters of base32(SHA-256(`body`)) (GitHub fine-grained tokens).
    Sha256Base32,
    /// The last 4 characters (`check`) start the base62 (or base64) of the Marvin32 checksum of
    /// the 60 bytes `body` (the first 80 characters) decodes to: Azure's annotated keys.
    Marvin32,
    /// `body` is base64 (line breaks and `\n` escapes allowed) of one DER structure whose length
    /// is its own, or of an `openssh-key-v1` key: PEM private keys (no `check` group).
    PemBody,
}

/// A loaded rule: its spec plus what matching needs, the regex compiled on first use.
#[derive(Debug)]
pub struct Rule {
    pub spec: RuleSpec,
    /// Where the rule came from (`builtin:openai.toml` or a path).
    pub origin: String,
    regex: OnceLock<Regex>,
    context: OnceLock<Option<Regex>>,
    boundary: [bool; 256],
    deny: HashSet<[u8; 32]>,
    /// The `pair` pattern, compiled on first use, and its boundary bytes.
    pair: OnceLock<Regex>,
    pair_boundary: [bool; 256],
    /// The `hint` patterns, compiled on first use.
    hints: OnceLock<Vec<Regex>>,
}

impl Rule {
    fn new(spec: RuleSpec, origin: String) -> Result<Self, String> {
        if spec.max_len > MAX_LEN_LIMIT {
            return Err(format!(
                "max_len {}: at most {MAX_LEN_LIMIT} (the bytes matched either side of a keyword)",
                spec.max_len
            ));
        }
        let boundary = boundary_table(spec.boundary.as_deref().unwrap_or(DEFAULT_BOUNDARY))?;
        let deny = spec
            .deny_sha256
            .iter()
            .map(|h| {
                parse_sha256(h)
                    .ok_or_else(|| format!("deny_sha256 entry {h:?} is not 64 hex digits"))
            })
            .collect::<Result<_, _>>()?;
        let pair_boundary = match spec.pair.as_ref().and_then(|p| p.boundary.as_deref()) {
            Some(class) => boundary_table(class)?,
            None => boundary,
        };
        Ok(Rule {
            spec,
            origin,
            regex: OnceLock::new(),
            context: OnceLock::new(),
            boundary,
            deny,
            pair: OnceLock::new(),
            pair_boundary,
            hints: OnceLock::new(),
        })
    }

    /// The compiled pattern. Patterns are validated when loaded, so compiling cannot fail here.
    pub fn regex(&self) -> &Regex {
        self.regex.get_or_init(|| {
            compile_pattern(&self.spec.pattern).expect("rule patterns are validated when loaded")
        })
    }

    /// The context regexes as one case-insensitive alternation; `None` when the rule needs none.
    pub fn context_regex(&self) -> Option<&Regex> {
        self.context
            .get_or_init(|| {
                context_pattern(&self.spec.context).map(|p| {
                    compile_pattern(&p).expect("context regexes are validated when loaded")
                })
            })
            .as_ref()
    }

    /// The compiled `pair` pattern (validated when loaded); `None` for one-part keys.
    pub fn pair_regex(&self) -> Option<&Regex> {
        let spec = self.spec.pair.as_ref()?;
        Some(self.pair.get_or_init(|| {
            compile_pattern(&spec.pattern).expect("pair patterns are validated when loaded")
        }))
    }

    /// The compiled `hint` patterns, in the order of `spec.hint` (validated when loaded).
    pub fn hint_regexes(&self) -> &[Regex] {
        self.hints.get_or_init(|| {
            self.spec
                .hint
                .iter()
                .map(|h| {
                    compile_pattern(&h.pattern).expect("hint patterns are validated when loaded")
                })
                .collect()
        })
    }

    /// Whether `b` may appear inside the second part of a two-part key.
    pub fn is_pair_byte(&self, b: u8) -> bool {
        self.pair_boundary[b as usize]
    }

    /// The severity of a finding: the pair's when the key was found with its second part.
    pub fn severity_of(&self, secret: &crate::secret::Secret) -> f32 {
        match (&self.spec.pair, secret.paired()) {
            (Some(pair), Some(_)) => pair.severity,
            _ => self.spec.severity,
        }
    }

    /// Whether `b` may appear inside a key, so may not sit right next to one.
    pub fn is_key_byte(&self, b: u8) -> bool {
        self.boundary[b as usize]
    }

    /// Whether the secret is a known public sample.
    pub fn is_denied(&self, secret: &[u8]) -> bool {
        !self.deny.is_empty() && self.deny.contains(&crate::finding::sha256(secret))
    }

    /// Validates the pattern and its named groups; used on load.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.spec.keywords.iter().all(|k| k.is_empty()) {
            return Err("rule has no keywords: the prefilter could never select it".into());
        }
        let re = compile_pattern(&self.spec.pattern).map_err(|e| format!("pattern: {e}"))?;
        let names: Vec<&str> = re.capture_names().flatten().collect();
        for group in self.spec.balanced.iter().flatten() {
            if !names.contains(&group.as_str()) {
                return Err(format!(
                    "balanced names group {group:?}, which the pattern lacks"
                ));
            }
        }
        if let Some(p) = context_pattern(&self.spec.context) {
            compile_pattern(&p).map_err(|e| format!("context: {e}"))?;
        }
        if self.spec.near_keywords && self.spec.context.is_empty() {
            return Err("near_keywords needs context regexes (the keywords' own words)".into());
        }
        let check_group = self.spec.checksum != Some(Checksum::PemBody);
        if self.spec.checksum.is_some()
            && !(names.contains(&"body") && (names.contains(&"check") || !check_group))
        {
            return Err("checksum needs the groups `body` and `check` in the pattern".into());
        }
        if let Some(pair) = &self.spec.pair {
            compile_pattern(&pair.pattern).map_err(|e| format!("pair pattern: {e}"))?;
            if !(0.0..=10.0).contains(&pair.severity) {
                return Err("pair severity must be between 0.0 and 10.0".into());
            }
        }
        for hint in &self.spec.hint {
            compile_pattern(&hint.pattern).map_err(|e| format!("hint {}: {e}", hint.name))?;
        }
        if !(0.0..=10.0).contains(&self.spec.severity) {
            return Err("severity must be between 0.0 and 10.0".into());
        }
        Ok(())
    }
}

fn compile_pattern(pattern: &str) -> Result<Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(pattern)
        .unicode(false)
        .build()
}

fn context_pattern(context: &[String]) -> Option<String> {
    if context.is_empty() {
        return None;
    }
    let alts: Vec<String> = context.iter().map(|c| format!("(?:{c})")).collect();
    Some(format!("(?i){}", alts.join("|")))
}

/// The bytes class `class` matches. Each class is compiled once per process: nearly every
/// rule has the default one, and a regex compiled per rule cost a one-line scan about 1 ms.
fn boundary_table(class: &str) -> Result<[bool; 256], String> {
    static BUILT: Mutex<Vec<(String, [bool; 256])>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, table)) = built.iter().find(|(c, _)| c == class) {
        return Ok(*table);
    }
    let table = compile_boundary(class)?;
    built.push((class.to_string(), table));
    Ok(table)
}

fn compile_boundary(class: &str) -> Result<[bool; 256], String> {
    let re = regex::bytes::RegexBuilder::new(&format!("^{class}$"))
        .unicode(false)
        .build()
        .map_err(|e| format!("boundary: {e}"))?;
    let mut table = [false; 256];
    for (b, slot) in table.iter_mut().enumerate() {
        *slot = re.is_match(&[b as u8]);
    }
    Ok(table)
}

fn parse_sha256(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// All active rules, in priority order: where two rules match the same bytes, the earlier wins.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

impl RuleSet {
    /// The built-in rules only.
    pub fn builtin() -> Result<Self, RuleError> {
        load_rule_files(&[], &[])
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.spec.id == id)
    }

    /// Keeps the rules of the providers in `only` (all when empty), minus those in `exclude`.
    /// A provider id that neither keyhound nor a loaded rule knows is an error listing the ids.
    pub fn select_providers(
        &mut self,
        only: &[String],
        exclude: &[String],
    ) -> Result<(), RuleError> {
        let mut known: Vec<&str> = PROVIDERS.to_vec();
        for r in &self.rules {
            if !known.contains(&r.spec.provider.as_str()) {
                known.push(&r.spec.provider);
            }
        }
        if let Some(bad) = only
            .iter()
            .chain(exclude)
            .find(|p| !known.contains(&p.as_str()))
        {
            return Err(RuleError::UnknownProvider(bad.clone(), known.join(", ")));
        }
        self.rules.retain(|r| {
            let p = &r.spec.provider;
            (only.is_empty() || only.contains(p)) && !exclude.contains(p)
        });
        Ok(())
    }

    /// Takes the user's word that the keys are `provider`'s (`keyhound verify --provider`, one
    /// provider): its rules need no context next to a key (`RuleSpec::attested`).
    pub fn attest(&mut self, provider: &str) {
        for rule in self
            .rules
            .iter_mut()
            .filter(|r| r.spec.provider == provider)
        {
            rule.spec.attested = true;
            rule.spec.context.clear();
            rule.context = OnceLock::new();
        }
    }

    /// The providers of the loaded rules, in rule order, each once.
    pub fn providers(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in &self.rules {
            if !out.contains(&r.spec.provider.as_str()) {
                out.push(&r.spec.provider);
            }
        }
        out
    }
}

/// The longest run of repeated (`aaaa`) or sequential (`abcd`, `4321`) characters in `s`.
pub fn longest_run(s: &[u8]) -> usize {
    if s.is_empty() {
        return 0;
    }
    let (mut best, mut same, mut up, mut down) = (1, 1, 1, 1);
    for w in s.windows(2) {
        let (a, b) = (w[0], w[1]);
        same = if b == a { same + 1 } else { 1 };
        up = if a.is_ascii_alphanumeric() && b == a.wrapping_add(1) {
            up + 1
        } else {
            1
        };
        down = if a.is_ascii_alphanumeric() && b == a.wrapping_sub(1) {
            down + 1
        } else {
            1
        };
        best = best.max(same).max(up).max(down);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_load_and_validate() {
        let set = RuleSet::builtin().unwrap();
        assert!(set.rules.len() >= 5);
        for rule in &set.rules {
            rule.validate().unwrap();
            let _ = rule.regex();
        }
    }

    #[test]
    fn boundary_table_matches_the_key_alphabet() {
        let t = boundary_table(DEFAULT_BOUNDARY).unwrap();
        assert!(t[b'a' as usize] && t[b'-' as usize] && t[b'_' as usize] && t[b'9' as usize]);
        assert!(!t[b'"' as usize] && !t[b'%' as usize] && !t[b' ' as usize] && !t[b'\\' as usize]);
    }
}
