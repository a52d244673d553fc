//! `Finding`: one key at one place, with the fingerprint that identifies the key wherever it is;
//! `Skipped`: an input that was not (fully) scanned.

use crate::secret::Secret;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Version tag hashed into every fingerprint; bump it only with a format change.
const FINGERPRINT_TAG: &[u8] = b"keyhound-fingerprint-v1";

/// `kh1:` + 32 hex of SHA-256 over a version tag, the provider and the secret: the same key gives
/// the same fingerprint in any file, line, rule or encoding.
pub fn fingerprint(provider: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(FINGERPRINT_TAG);
    h.update([0]);
    h.update(provider.as_bytes());
    h.update([0]);
    h.update(secret.as_bytes());
    let digest = h.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("kh1:{hex}")
}

/// A decoding applied to find a key, outermost first in `decoded`: the blob's (a compressed
/// stream), then the key's text's. Reports write its name (`Decoding::as_str`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decoding {
    Gzip,
    Bzip2,
    Xz,
    Zstd,
    Base64,
    Utf16,
    /// Plain hex or `\x73` escapes.
    Hex,
    /// `%73`.
    Url,
    /// `\u0073`, `\/`.
    JsonEscape,
    /// `&#115;`, `&#x73;`, `&sol;`.
    HtmlEntity,
    /// Put together from string literals joined in code.
    Concatenation,
    /// Put together from lines it was wrapped over.
    LineJoin,
}

impl Decoding {
    /// The name reports give it (the schema's `decoding`).
    pub fn as_str(self) -> &'static str {
        match self {
            Decoding::Gzip => "gzip",
            Decoding::Bzip2 => "bzip2",
            Decoding::Xz => "xz",
            Decoding::Zstd => "zstd",
            Decoding::Base64 => "base64",
            Decoding::Utf16 => "utf-16",
            Decoding::Hex => "hex",
            Decoding::Url => "url",
            Decoding::JsonEscape => "json-escape",
            Decoding::HtmlEntity => "html-entity",
            Decoding::Concatenation => "concatenation",
            Decoding::LineJoin => "line-join",
        }
    }

    /// Whether it decoded the whole blob (a compressed stream), not the key's text.
    pub fn is_stream(self) -> bool {
        matches!(
            self,
            Decoding::Gzip | Decoding::Bzip2 | Decoding::Xz | Decoding::Zstd
        )
    }

    /// `names` joined by `sep`: `base64 in gzip`.
    pub fn join(decodings: impl IntoIterator<Item = Decoding>, sep: &str) -> String {
        let names: Vec<&str> = decodings.into_iter().map(Decoding::as_str).collect();
        names.join(sep)
    }
}

impl Serialize for Decoding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Where a blob came from: a file (or standard input), possibly a member of an archive in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The outer path as the user named it (relative paths stay relative), `-` for standard input.
    pub path: String,
    /// The member path inside the archive(s), nested members joined with `!`.
    pub member: Option<String>,
    /// Decodings applied to the whole blob before matching (`gzip`).
    pub decoded: Vec<Decoding>,
}

impl Origin {
    pub fn file(path: impl Into<String>) -> Self {
        Origin {
            path: path.into(),
            ..Default::default()
        }
    }

    /// `archive.zip!inner/file`, or just the path.
    pub fn display(&self) -> String {
        match &self.member {
            Some(m) => format!("{}!{}", self.path, m),
            None => self.path.clone(),
        }
    }

    /// The origin of a member `name` of the archive this origin is.
    pub fn member(&self, name: &str) -> Origin {
        let member = match &self.member {
            Some(m) => format!("{m}!{name}"),
            None => name.to_string(),
        };
        Origin {
            path: self.path.clone(),
            member: Some(member),
            decoded: self.decoded.clone(),
        }
    }

    /// This origin seen through one more decoding.
    pub fn decoded(&self, layer: Decoding) -> Origin {
        let mut o = self.clone();
        o.decoded.push(layer);
        o
    }
}

/// One key found at one place.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Index of the rule in the active `RuleSet`.
    pub rule: usize,
    pub origin: Origin,
    /// Decodings applied to find this key: the blob's (`gzip`) then the match's (`base64`).
    pub decoded: Vec<Decoding>,
    /// 1-based line.
    pub line: u64,
    /// 1-based column in bytes.
    pub column: u64,
    /// 1-based column in Unicode characters (SARIF's `unicodeCodePoints`).
    pub column_chars: u64,
    /// Byte offset of the key (or its encoded form) in the blob.
    pub offset: u64,
    pub secret: Secret,
    pub fingerprint: String,
    /// Up to 40 bytes each side on the key's line, every key in it redacted (always), control
    /// bytes escaped.
    pub context: String,
    /// Where in a repository's history, for `keyhound git`.
    pub git: Option<Box<GitInfo>>,
    /// The key's line carries an allow marker (reported only when markers are not honoured).
    pub allowed: bool,
    /// How many literals or lines the key was put together from (`concatenation`, `line-join`).
    pub pieces: Option<u8>,
}

/// What in a repository held a key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GitObject {
    /// A file's content (a blob of some commit, of the index, or of no commit).
    #[default]
    Blob,
    /// A commit's message (or the message being committed).
    CommitMessage,
}

/// How a commit or blob was reached: from the refs, with `--all-objects` also from the stash,
/// the reflogs or nothing at all, or (staged changes, the message being committed) the index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reach {
    #[default]
    Refs,
    Reflog,
    Stash,
    Unreachable,
    Index,
}

impl Reach {
    /// The label reports use: `refs`, `reflog`, `stash`, `unreachable`, `index`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Refs => "refs",
            Reach::Reflog => "reflog",
            Reach::Stash => "stash",
            Reach::Unreachable => "unreachable",
            Reach::Index => "index",
        }
    }
}

/// Where a key was found in a git repository; every field is always written (null when unknown).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct GitInfo {
    /// `blob` or `commit-message`.
    pub object: GitObject,
    /// `refs`, `reflog`, `stash`, `unreachable` (the last three with `--all-objects`) or `index`.
    pub reached_by: Reach,
    /// The commit that introduced the key at this path (the message's own commit).
    pub commit: Option<String>,
    /// `Name <email>` of the commit's author.
    pub author: Option<String>,
    /// The commit's author date, RFC 3339 in UTC.
    pub date: Option<String>,
    pub blob: Option<String>,
    /// The last commit, in topological order, that still carries the key at this path.
    pub last_seen: Option<String>,
    /// How many commits carry the key at this path.
    pub commits: Option<u64>,
    /// Whether HEAD's tree still carries it at this path.
    pub at_head: Option<bool>,
}

impl GitInfo {
    /// Whether the key is in a commit message rather than a file.
    pub fn in_message(&self) -> bool {
        self.object == GitObject::CommitMessage
    }

    /// Whether the key is only staged (or in the message being committed): not yet committed.
    pub fn staged(&self) -> bool {
        self.reached_by == Reach::Index
    }
}

impl Finding {
    /// The order of every report but streaming `jsonl`: path, member, line, column, rule.
    pub fn sort_key(&self) -> (&str, Option<&str>, u64, u64, usize) {
        (
            &self.origin.path,
            self.origin.member.as_deref(),
            self.line,
            self.column,
            self.rule,
        )
    }
}

/// An input, or part of one, that was not (fully) scanned.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
    /// True when a key could hide in what was not read (an error or a limit): the exit code is 2.
    pub incomplete: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_format_is_pinned() {
        // Golden value: changing it breaks every baseline users keep. Bump FINGERPRINT_TAG instead.
        assert_eq!(
            fingerprint("openai", "sk-example"),
            "kh1:947dcfbd3d1fabaff55ee7c1ebce34d9"
        );
    }

    #[test]
    fn fingerprint_ignores_everything_but_provider_and_secret() {
        assert_eq!(fingerprint("openai", "a"), fingerprint("openai", "a"));
        assert_ne!(fingerprint("openai", "a"), fingerprint("other", "a"));
    }

    #[test]
    fn decodings_are_written_as_the_schema_names_them() {
        let all = [
            Decoding::Gzip,
            Decoding::Bzip2,
            Decoding::Xz,
            Decoding::Zstd,
            Decoding::Base64,
            Decoding::Utf16,
            Decoding::Hex,
            Decoding::Url,
            Decoding::JsonEscape,
            Decoding::HtmlEntity,
            Decoding::Concatenation,
            Decoding::LineJoin,
        ];
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../schema/report.schema.json")).unwrap();
        let names = &schema["$defs"]["decoding"]["enum"];
        assert_eq!(serde_json::to_value(all).unwrap(), *names);
        let streams: Vec<&str> = (all.iter().filter(|d| d.is_stream()))
            .map(|d| d.as_str())
            .collect();
        assert_eq!(streams, ["gzip", "bzip2", "xz", "zstd"]);
        assert_eq!(
            Decoding::join([Decoding::Base64, Decoding::Gzip], " in "),
            "base64 in gzip"
        );
    }

    #[test]
    fn origins_nest() {
        let o = Origin::file("a.zip").member("b.tar").member("c.txt");
        assert_eq!(o.display(), "a.zip!b.tar!c.txt");
    }
}
