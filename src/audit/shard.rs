//! Sharding an audit over machines: the `I/N` spec, the shard key of a repository (its normalised
//! remote, else its relative path), which shard a key falls in, the subset of a repos file a shard
//! clones, and the checks shard reports pass before they are merged.
//!
//! The key and the formula are a compatibility promise: shard reports written by different
//! machines (or, were it allowed, different versions) must agree on who audits what, so nothing
//! here may depend on the platform, the locale or Rust's `DefaultHasher`.

use crate::audit::model::AuditReport;
use crate::finding::sha256;
use anyhow::{Result, bail};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// One shard of `count`: `index` runs from 1 to `count`, as in a GitHub Actions matrix (a
/// Kubernetes Indexed Job, counting from 0, passes `$((JOB_COMPLETION_INDEX+1))`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSpec {
    pub index: u64,
    pub count: u64,
}

impl FromStr for ShardSpec {
    type Err = anyhow::Error;

    /// `I/N`: two whole numbers, no spaces, `1 <= I <= N`.
    fn from_str(s: &str) -> Result<ShardSpec> {
        parse_spec(s).map_err(|why| {
            let shown = if s.is_empty() || s.contains(char::is_whitespace) {
                format!("{s:?}")
            } else {
                s.to_string()
            };
            anyhow::anyhow!("--shard {shown}: {why}")
        })
    }
}

impl fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl ShardSpec {
    /// Whether the repository with shard key `key` (see [`shard_key`]) is this shard's to audit.
    pub fn contains(&self, key: &str) -> bool {
        shard_of(key, self.count) == self.index
    }
}

/// `I/N` as a spec, or why it is not one.
fn parse_spec(s: &str) -> std::result::Result<ShardSpec, String> {
    if s.contains(char::is_whitespace) {
        return Err("no spaces allowed: write I/N, e.g. --shard 1/4".into());
    }
    let Some((i, n)) = s.split_once('/').filter(|(_, n)| !n.contains('/')) else {
        return Err("expected I/N, e.g. --shard 1/4 for the first of four shards".into());
    };
    let (index, count) = (parse_number(i)?, parse_number(n)?);
    if count == 0 {
        return Err("N, the number of shards, must be at least 1".into());
    }
    if index == 0 {
        return Err(
            "I counts from 1 (a Kubernetes Indexed Job counts from 0: pass \
                    $((JOB_COMPLETION_INDEX+1)))"
                .into(),
        );
    }
    if index > count {
        return Err("I must be between 1 and N (as in a GitHub Actions matrix: \
                    --shard ${{ matrix.shard }}/N)"
            .into());
    }
    Ok(ShardSpec { index, count })
}

/// A whole number of ASCII digits (no sign: `u64::from_str` would take `+1`).
fn parse_number(s: &str) -> std::result::Result<u64, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{s:?} is not a whole number: I and N are numbers, e.g. --shard 1/4"
        ));
    }
    s.parse()
        .map_err(|_| format!("{s} is too large a number of shards"))
}

/// The shard (1 to `count`) a shard key falls in: 1 + the first 8 bytes of its SHA-256, read
/// big-endian, mod `count`. A `count` of 0 is taken as 1 rather than dividing by zero.
pub fn shard_of(key: &str, count: u64) -> u64 {
    let digest = sha256(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    1 + u64::from_be_bytes(first) % count.max(1)
}

/// A repository's shard key: its normalised remote (see [`normalize_remote`]) if it has one,
/// else its path relative to the audit root, normalised as a local path is there (`/`-separated,
/// no `./`, no trailing `/` or `.git`: `cargo.git` and `cargo` have one key).
pub fn shard_key(remote: Option<&str>, rel_path: &str) -> String {
    match remote.map(normalize_remote).filter(|r| !r.is_empty()) {
        Some(remote) => remote,
        None => clean_local(rel_path.trim()),
    }
}

/// The clone URLs (or paths) of a repos file that fall in `spec`, in input order. One a line;
/// surrounding whitespace is trimmed, and blank lines and lines starting with `#` are skipped
/// (a `#` later in a line is part of it). A line's key is `normalize_remote(line)`: for a URL
/// that is the key of its clone, whose `origin` is that URL; for a local path it is the path's
/// normalised form, which is both the key of a clone of it when the path is absolute (git records
/// a relative source as an absolute path, so list local sources by absolute path or `file://`)
/// and the key of the repository itself, audited in place without a remote, when it is relative
/// to the audit root.
pub fn select_urls(text: &str, spec: ShardSpec) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter(|line| spec.contains(&shard_key(Some(line), line)))
        .map(str::to_string)
        .collect()
}

/// A remote URL reduced to what names the repository, so every spelling of one remote gives one
/// shard key. A compatibility promise (changing it re-shards every user):
///
/// - the scheme is dropped (`https://`, `http://`, `ssh://`, `git://`, `git+ssh://`, …), so are
///   credentials (`user@`, `user:password@`, a token); a query or fragment stays in the path;
/// - the host is lower-cased (ASCII only: hosts are punycode), the path keeps its case;
/// - an explicit port is kept as `host:port` unless it is the scheme's default (http 80,
///   https 443, ssh 22, git 9418) or empty; `[v6]` hosts keep their brackets;
/// - scp-like `[user@]host:path` (git's rule: a `:` before any `/`, and not a drive letter like
///   `C:`) is the same repository as `ssh://host/path`: both give `host/path`;
/// - empty and `.` path segments, trailing `/` and one trailing `.git` are dropped, so
///   `https://user:tok@GitHub.com/Org/Repo.git/`, `ssh://git@github.com:22/Org/Repo.git` and
///   `git@github.com:Org/Repo` all give `github.com/Org/Repo`;
/// - `file://` URLs and plain paths give the path, `\` turned into `/`, absolute paths keeping
///   their leading `/` (`file:///srv/git/x.git` and `/srv/git/x` give `/srv/git/x`).
pub fn normalize_remote(url: &str) -> String {
    let url = url.trim();
    let unsecret = scp_without_password(url);
    let url = unsecret.as_deref().unwrap_or(url);
    if let Some((scheme, rest)) = split_scheme(url) {
        let scheme = scheme.to_ascii_lowercase();
        if scheme == "file" {
            return clean_local(file_path(rest));
        }
        let (authority, path) = split_authority(rest);
        let host = host_port(after_userinfo(authority), default_port(&scheme));
        return join_host_path(&host, path);
    }
    match split_scp(url) {
        Some((user_host, path)) => {
            let host = host_port(after_userinfo(user_host), None);
            join_host_path(&host, path)
        }
        None => clean_local(url),
    }
}

/// A remote URL as reports show it: the same text without secrets. For `ssh://` (and
/// `git+ssh://`, `ssh+git://`) the user name is kept and only a password dropped
/// (`ssh://git@host/x`); every other scheme (`https://`, `http://`, `git://`, …) loses its whole
/// `user[:password]@` part, since there a user name is often a token. Scp-like `git@host:path`
/// is kept as it is (ssh takes no password there); `user:password@host:path` loses the password.
/// Local paths are returned unchanged; surrounding whitespace is trimmed.
pub fn strip_credentials(url: &str) -> String {
    let url = url.trim();
    if let Some((scheme, rest)) = split_scheme(url) {
        let (authority, path) = split_authority(rest);
        let Some((userinfo, host)) = authority.rsplit_once('@') else {
            return url.to_string();
        };
        let user = match userinfo.split_once(':') {
            Some((user, _)) => user,
            None => userinfo,
        };
        let keep_user = is_ssh(&scheme.to_ascii_lowercase()) && !user.is_empty();
        let user = if keep_user {
            format!("{user}@")
        } else {
            String::new()
        };
        return format!("{scheme}://{user}{host}{path}");
    }
    scp_without_password(url).unwrap_or_else(|| url.to_string())
}

/// `scheme` and what follows `scheme://`, if `url` starts with a URL scheme (a letter, then
/// letters, digits, `+`, `-` or `.`).
fn split_scheme(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    (first_ok && rest_ok).then_some((scheme, rest))
}

/// A URL's authority (`user@host:port`) and the rest (from the first `/`, `?` or `#` on).
fn split_authority(rest: &str) -> (&str, &str) {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    rest.split_at(end)
}

/// The host (and port) of an authority: what follows its last `@`.
fn after_userinfo(authority: &str) -> &str {
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

/// Scp-like `[user@]host:path` split at its first `:` outside `[…]`, if `url` is one by git's
/// rule: no `/` before that `:`, something before it, and not a drive letter (`C:\x`).
fn split_scp(url: &str) -> Option<(&str, &str)> {
    let mut in_brackets = false;
    let colon = url.char_indices().find_map(|(i, c)| {
        match c {
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            ':' if !in_brackets => return Some(i),
            _ => {}
        }
        None
    })?;
    let (user_host, path) = (&url[..colon], &url[colon + 1..]);
    let drive = user_host.len() == 1 && user_host.chars().all(|c| c.is_ascii_alphabetic());
    (!user_host.is_empty() && !user_host.contains('/') && !drive).then_some((user_host, path))
}

/// `user:password@host:path` (not a working scp-like URL, but a secret all the same) as
/// `user@host:path`; None for anything else.
fn scp_without_password(url: &str) -> Option<String> {
    let (user, rest) = split_scp(url).filter(|(user, _)| !user.contains('@'))?;
    let head = &rest[..rest.find('/').unwrap_or(rest.len())];
    let (_, host_path) = head.rsplit_once('@')?;
    split_scp(host_path)?;
    let at = rest.len() - rest[head.len()..].len() - host_path.len();
    Some(format!("{user}@{}", &rest[at..]))
}

/// The port a scheme uses when none is given.
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        "git" => Some(9418),
        s if is_ssh(s) => Some(22),
        _ => None,
    }
}

/// `ssh`, `git+ssh` or `ssh+git` (lower-case).
fn is_ssh(scheme: &str) -> bool {
    matches!(scheme, "ssh" | "git+ssh" | "ssh+git")
}

/// `host[:port]` with the host lower-cased and the port dropped when empty or `default`.
fn host_port(host: &str, default: Option<u16>) -> String {
    let (name, port) = match host.strip_prefix('[').and_then(|h| h.split_once(']')) {
        Some((v6, after)) => (format!("[{v6}]"), after.strip_prefix(':')),
        None => match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => {
                (name.to_string(), Some(port))
            }
            _ => (host.to_string(), None),
        },
    };
    let name = name.to_ascii_lowercase();
    match port.map(|p| (p, p.parse::<u16>().ok())) {
        None | Some(("", _)) => name,
        Some((_, Some(n))) if Some(n) == default => name,
        Some((_, Some(n))) => format!("{name}:{n}"),
        Some((p, None)) => format!("{name}:{p}"),
    }
}

/// `host/path` with the path's segments cleaned (see [`clean_segments`]).
fn join_host_path(host: &str, path: &str) -> String {
    let path = clean_segments(path);
    match (host.is_empty(), path.is_empty()) {
        (_, true) => host.to_string(),
        (true, false) => path,
        (false, false) => format!("{host}/{path}"),
    }
}

/// The path of a `file://` URL: what follows `file://`, without a `localhost` host, and without
/// the `/` before a drive letter (`file:///C:/x` is `C:/x`).
fn file_path(rest: &str) -> &str {
    let rest = match rest.get(..10) {
        Some(host) if host.eq_ignore_ascii_case("localhost/") => &rest[9..],
        _ => rest,
    };
    let bytes = rest.as_bytes();
    let drive = bytes.len() >= 3 && bytes[0] == b'/' && bytes[1].is_ascii_alphabetic();
    if drive && bytes[2] == b':' {
        &rest[1..]
    } else {
        rest
    }
}

/// A local path as a key: `\` as `/`, segments cleaned, a leading `/` kept.
fn clean_local(path: &str) -> String {
    let path = path.replace('\\', "/");
    let cleaned = clean_segments(&path);
    if path.starts_with('/') {
        format!("/{cleaned}")
    } else {
        cleaned
    }
}

/// Path segments without empty or `.` ones, joined by `/`, less one trailing `.git`.
fn clean_segments(path: &str) -> String {
    let joined = path
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect::<Vec<_>>()
        .join("/");
    match joined.strip_suffix(".git") {
        Some(stem) => stem.trim_end_matches('/').to_string(),
        None => joined,
    }
}

/// Checks shard reports before `merge` joins them, and returns N: one `keyhound` version, the
/// same `--show-secrets` and `--verify`, every report a shard of the same N, each shard exactly
/// once. Every error names the file(s) at fault.
pub fn check_parts(parts: &[(PathBuf, AuditReport)]) -> Result<u64> {
    let Some((first_path, first)) = parts.first() else {
        bail!(
            "no shard reports to merge: pass every shard's JSON report (keyhound audit merge shard-*.json)"
        );
    };
    for (path, report) in parts {
        same_run(first_path, first, path, report)?;
    }
    let specs = parts
        .iter()
        .map(|(path, report)| part_spec(path, report))
        .collect::<Result<Vec<_>>>()?;
    let count = specs[0].count;
    let mut seen: BTreeMap<u64, &Path> = BTreeMap::new();
    for ((path, _), spec) in parts.iter().zip(&specs) {
        if spec.count != count {
            bail!(
                "{} is shard {} but {} is shard {spec}: every shard of one audit has the same N",
                first_path.display(),
                specs[0],
                path.display()
            );
        }
        if let Some(other) = seen.insert(spec.index, path.as_path()) {
            bail!(
                "{} and {} are both shard {spec}: pass each shard's report once",
                other.display(),
                path.display()
            );
        }
    }
    check_complete(&seen, count)?;
    Ok(count)
}

/// Whether two reports were written by one version with the same flags.
fn same_run(a_path: &Path, a: &AuditReport, b_path: &Path, b: &AuditReport) -> Result<()> {
    let (a_name, b_name) = (a_path.display(), b_path.display());
    if a.keyhound != b.keyhound {
        bail!(
            "{a_name} was written by keyhound {}, {b_name} by {}: re-run the shards with one version",
            a.keyhound,
            b.keyhound
        );
    }
    let says = |yes: bool, does: &str, doesnt: &str| if yes { does } else { doesnt }.to_string();
    if a.secrets_shown != b.secrets_shown {
        bail!(
            "{a_name} {} whole keys (--show-secrets) and {b_name} {}: re-run the shards with the same flags",
            says(a.secrets_shown, "shows", "does not show"),
            says(b.secrets_shown, "does", "does not")
        );
    }
    if a.verified != b.verified {
        bail!(
            "{a_name} {} verified (--verify) and {b_name} {}: re-run the shards with the same flags",
            says(a.verified, "was", "was not"),
            says(b.verified, "was", "was not")
        );
    }
    Ok(())
}

/// A report's shard spec; an error for a whole audit or a spec that does not parse.
fn part_spec(path: &Path, report: &AuditReport) -> Result<ShardSpec> {
    let Some(shard) = &report.shard else {
        bail!(
            "{}: a whole audit, not a shard (its `shard` is null): merging it makes no sense; \
             merge the reports of `keyhound audit --shard I/N`",
            path.display()
        );
    };
    parse_spec(shard).map_err(|why| {
        anyhow::anyhow!(
            "{}: its shard {shard:?} is not valid ({why}): re-run that shard",
            path.display()
        )
    })
}

/// An error listing the shards of `1..=count` not in `seen` (as ranges, so a huge N is cheap),
/// naming the files that were given.
fn check_complete(seen: &BTreeMap<u64, &Path>, count: u64) -> Result<()> {
    let mut gaps = Vec::new();
    let mut next = 1u128;
    let present = seen.keys().map(|&i| u128::from(i));
    for index in present.chain([u128::from(count) + 1]) {
        if index > next {
            gaps.push((next as u64, (index - 1) as u64));
        }
        next = index + 1;
    }
    if gaps.is_empty() {
        return Ok(());
    }
    let missing: u64 = gaps
        .iter()
        .map(|(a, b)| b - a + 1)
        .fold(0, u64::saturating_add);
    let listed = gaps
        .iter()
        .map(|&g| gap_text(g))
        .collect::<Vec<_>>()
        .join(", ");
    let (noun, verb) = if missing == 1 {
        ("shard", "is")
    } else {
        ("shards", "are")
    };
    bail!(
        "{noun} {listed} of {count} {verb} missing (given: {}): pass every shard's report",
        given_text(seen, count)
    );
}

/// `3`, `3, 4` or `3-9`.
fn gap_text((a, b): (u64, u64)) -> String {
    match b - a {
        0 => a.to_string(),
        1 => format!("{a}, {b}"),
        _ => format!("{a}-{b}"),
    }
}

/// `a.json (1/4), b.json (3/4)`, at most 8 of them.
fn given_text(seen: &BTreeMap<u64, &Path>, count: u64) -> String {
    const SHOWN: usize = 8;
    let mut text = seen
        .iter()
        .take(SHOWN)
        .map(|(index, path)| format!("{} ({index}/{count})", path.display()))
        .collect::<Vec<_>>()
        .join(", ");
    if seen.len() > SHOWN {
        text.push_str(&format!(" and {} more", seen.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::model::Summary;

    fn spec(s: &str) -> ShardSpec {
        s.parse().unwrap()
    }

    fn err(s: &str) -> String {
        s.parse::<ShardSpec>().unwrap_err().to_string()
    }

    #[test]
    fn parses_and_displays_specs() {
        assert_eq!(spec("1/4"), ShardSpec { index: 1, count: 4 });
        assert_eq!(spec("4/4"), ShardSpec { index: 4, count: 4 });
        assert_eq!(spec("1/1"), ShardSpec { index: 1, count: 1 });
        assert_eq!(spec("01/04").to_string(), "1/4");
        assert_eq!(spec("3/7").to_string(), "3/7");
        let max = format!("{}/{}", u64::MAX, u64::MAX);
        assert_eq!(spec(&max).to_string(), max);
    }

    #[test]
    fn rejects_bad_specs() {
        let range = "I must be between 1 and N (as in a GitHub Actions matrix: --shard ${{ matrix.shard }}/N)";
        assert_eq!(err("3/2"), format!("--shard 3/2: {range}"));
        assert!(
            err("0/4").contains("JOB_COMPLETION_INDEX+1"),
            "{}",
            err("0/4")
        );
        assert!(err("1/0").contains("at least 1"));
        assert!(err("0/0").contains("at least 1"));
        for bad in [
            "", "1", "1/", "/4", "1/2/3", "1-4", "a/4", "1/b", "+1/4", "-1/4", "1.0/4",
        ] {
            assert!(err(bad).starts_with("--shard "), "{bad}: {}", err(bad));
        }
        assert!(err("1").contains("expected I/N"));
        assert!(err("x/4").contains("not a whole number"));
        assert!(err("99999999999999999999/4").contains("too large"));
        for spaced in [" 1/4", "1/4 ", "1 /4", "1/ 4", "1/4\n", "\t1/4"] {
            assert!(err(spaced).contains("no spaces"), "{spaced:?}");
        }
        assert!(err(" 1/4").starts_with("--shard \" 1/4\":"));
    }

    #[test]
    fn normalises_remotes() {
        let table = [
            (
                "https://user:token@GitHub.com/Org/Repo.git",
                "github.com/Org/Repo",
            ),
            ("https://ghp_abc@github.com/org/repo", "github.com/org/repo"),
            ("http://github.com/org/repo.git/", "github.com/org/repo"),
            ("HTTPS://GITHUB.COM/org/repo", "github.com/org/repo"),
            ("https://github.com:443/org/repo", "github.com/org/repo"),
            ("http://github.com:80/org/repo", "github.com/org/repo"),
            (
                "https://git.example.com:8443/org/repo.git",
                "git.example.com:8443/org/repo",
            ),
            (
                "https://git.example.com:/org/repo",
                "git.example.com/org/repo",
            ),
            (
                "ssh://git@github.com:22/org/repo.git",
                "github.com/org/repo",
            ),
            ("ssh://git@github.com/org/repo.git", "github.com/org/repo"),
            (
                "ssh://git:pw@GitHub.com:2222/org/repo.git",
                "github.com:2222/org/repo",
            ),
            ("git+ssh://git@github.com/org/repo", "github.com/org/repo"),
            ("git@github.com:org/repo.git", "github.com/org/repo"),
            ("git@GitHub.com:Org/Repo.git/", "github.com/Org/Repo"),
            ("github.com:org/repo", "github.com/org/repo"),
            ("git@host:/srv/git/repo.git", "host/srv/git/repo"),
            ("ssh://host/srv/git/repo.git", "host/srv/git/repo"),
            ("git://github.com/org/repo.git", "github.com/org/repo"),
            ("git://github.com:9418/org/repo.git", "github.com/org/repo"),
            ("ssh://git@[::1]:2222/org/repo", "[::1]:2222/org/repo"),
            ("ssh://git@[::1]:22/org/repo", "[::1]/org/repo"),
            ("https://github.com//org//./repo.git", "github.com/org/repo"),
            ("https://github.com", "github.com"),
            (
                "  https://github.com/org/repo.git \n",
                "github.com/org/repo",
            ),
            ("file:///srv/git/repo.git", "/srv/git/repo"),
            ("file://localhost/srv/git/repo.git/", "/srv/git/repo"),
            ("file:///C:/git/repo.git", "C:/git/repo"),
            ("/srv/git/repo.git", "/srv/git/repo"),
            ("/srv/git/repo/.git", "/srv/git/repo"),
            ("./org/Repo.git/", "org/Repo"),
            ("org\\repo", "org/repo"),
            ("C:\\git\\repo.git", "C:/git/repo"),
            ("", ""),
        ];
        for (url, want) in table {
            assert_eq!(normalize_remote(url), want, "{url:?}");
        }
    }

    #[test]
    fn scp_like_and_ssh_forms_agree() {
        let forms = [
            "git@github.com:org/repo.git",
            "ssh://git@github.com/org/repo.git",
            "ssh://git@github.com:22/org/repo",
            "https://github.com/org/repo",
        ];
        for form in forms {
            assert_eq!(normalize_remote(form), "github.com/org/repo", "{form}");
        }
    }

    #[test]
    fn strips_credentials() {
        let table = [
            (
                "https://user:token@github.com/org/repo.git",
                "https://github.com/org/repo.git",
            ),
            (
                "https://ghp_abc@GitHub.com/Org/repo",
                "https://GitHub.com/Org/repo",
            ),
            ("http://u:p@a@host:8080/x?y#z", "http://host:8080/x?y#z"),
            ("git://u@host/x.git", "git://host/x.git"),
            (
                "ssh://git:secret@github.com:22/org/repo.git",
                "ssh://git@github.com:22/org/repo.git",
            ),
            (
                "ssh://git@github.com/org/repo.git",
                "ssh://git@github.com/org/repo.git",
            ),
            ("ssh://:secret@host/x", "ssh://host/x"),
            ("git+ssh://me:pw@host/x", "git+ssh://me@host/x"),
            ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
            ("user:secret@host:org/repo.git", "user@host:org/repo.git"),
            ("https://github.com/org/repo", "https://github.com/org/repo"),
            ("/srv/git/repo.git", "/srv/git/repo.git"),
            ("", ""),
        ];
        for (url, want) in table {
            assert_eq!(strip_credentials(url), want, "{url:?}");
            assert_eq!(
                normalize_remote(&strip_credentials(url)),
                normalize_remote(url),
                "{url:?}"
            );
        }
    }

    #[test]
    fn keys_prefer_the_remote() {
        assert_eq!(
            shard_key(Some("git@github.com:org/repo.git"), "repo"),
            "github.com/org/repo"
        );
        assert_eq!(shard_key(None, "./org/repo.git/"), "org/repo");
        assert_eq!(shard_key(None, "org/repo"), "org/repo");
        assert_eq!(shard_key(Some(""), "org/repo"), "org/repo");
        assert_eq!(shard_key(Some("  "), "org/repo"), "org/repo");
    }

    /// Pinned: changing these values (the key or the formula) re-shards every user's audit, so
    /// shard reports of two versions would overlap and leave gaps.
    #[test]
    fn shard_of_is_stable() {
        assert_eq!(shard_of("github.com/org/repo", 4), GOLDEN[0]);
        assert_eq!(shard_of("github.com/rust-lang/cargo", 7), GOLDEN[1]);
        assert_eq!(shard_of("", 1000), GOLDEN[2]);
        assert_eq!(shard_of("github.com/org/repo", 1), 1);
        assert_eq!(shard_of("github.com/org/repo", 0), 1);
    }

    const GOLDEN: [u64; 3] = [2, 3, 653];

    #[test]
    fn shards_spread_keys() {
        let mut counts = [0u32; 4];
        for i in 0..1000 {
            let shard = shard_of(&format!("github.com/org/repo-{i}"), 4);
            assert!((1..=4).contains(&shard));
            counts[shard as usize - 1] += 1;
        }
        assert!(counts.iter().all(|&c| c > 150), "{counts:?}");
    }

    #[test]
    fn each_key_is_in_exactly_one_shard() {
        for i in 0..100 {
            let key = format!("k{i}");
            let n = (1..=5)
                .filter(|&index| ShardSpec { index, count: 5 }.contains(&key))
                .count();
            assert_eq!(n, 1, "{key}");
        }
    }

    #[test]
    fn selects_a_shards_lines() {
        let urls: Vec<String> = (0..40)
            .map(|i| format!("https://github.com/org/r{i}.git"))
            .collect();
        let text = format!(
            "\u{feff}# the organisation\n\n{}\n   \n  # indented comment\r\n",
            urls.iter()
                .map(|u| format!("  {u}\r"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let mut all = Vec::new();
        for index in 1..=3 {
            let part = select_urls(&text, ShardSpec { index, count: 3 });
            for url in &part {
                assert!(ShardSpec { index, count: 3 }.contains(&shard_key(Some(url), "")));
            }
            all.extend(part);
        }
        all.sort();
        let mut want = urls.clone();
        want.sort();
        assert_eq!(all, want);
        let one = select_urls(&text, spec("1/1"));
        assert_eq!(
            one, urls,
            "input order, trimmed, comments and blanks skipped"
        );
    }

    #[test]
    fn selects_as_the_audit_of_the_clone_keys() {
        let lines = [
            "git@github.com:org/a.git",
            "/srv/git/b.git",
            "org/c",
            "file:///srv/git/d.git",
        ];
        for line in lines {
            let index = shard_of(&normalize_remote(line), 3);
            let clone = shard_key(Some(&strip_credentials(line)), "d.git");
            assert!(ShardSpec { index, count: 3 }.contains(&clone), "{line}");
            assert_eq!(select_urls(line, ShardSpec { index, count: 3 }), [line]);
        }
        let index = shard_of(&shard_key(None, "org/c"), 3);
        assert_eq!(
            select_urls("./org/c/", ShardSpec { index, count: 3 }),
            ["./org/c/"]
        );
    }

    fn report(shard: Option<&str>) -> AuditReport {
        AuditReport {
            keyhound: "0.1.0".into(),
            shard: shard.map(str::to_string),
            generated_at: "2025-01-01T00:00:00Z".into(),
            secrets_shown: false,
            verified: false,
            providers: vec![],
            keys: vec![],
            suppressed: vec![],
            repositories: vec![],
            summary: Summary::default(),
        }
    }

    fn parts(shards: &[&str]) -> Vec<(PathBuf, AuditReport)> {
        shards
            .iter()
            .enumerate()
            .map(|(i, s)| (PathBuf::from(format!("s{i}.json")), report(Some(s))))
            .collect()
    }

    fn check_err(parts: &[(PathBuf, AuditReport)]) -> String {
        check_parts(parts).unwrap_err().to_string()
    }

    #[test]
    fn accepts_a_full_set() {
        assert_eq!(check_parts(&parts(&["2/3", "1/3", "3/3"])).unwrap(), 3);
        assert_eq!(check_parts(&parts(&["1/1"])).unwrap(), 1);
    }

    #[test]
    fn rejects_no_parts_and_whole_audits() {
        assert!(check_err(&[]).contains("no shard reports"));
        let mut p = parts(&["1/2", "2/2"]);
        p[1].1.shard = None;
        let e = check_err(&p);
        assert!(e.starts_with("s1.json: a whole audit, not a shard"), "{e}");
        p[1].1.shard = Some("3/2".into());
        let e = check_err(&p);
        assert!(
            e.starts_with("s1.json: its shard \"3/2\" is not valid"),
            "{e}"
        );
    }

    #[test]
    fn rejects_mixed_n_and_duplicates() {
        let e = check_err(&parts(&["1/4", "2/5"]));
        assert!(
            e.contains("s0.json is shard 1/4 but s1.json is shard 2/5"),
            "{e}"
        );
        let e = check_err(&parts(&["1/3", "2/3", "2/3", "3/3"]));
        assert!(e.contains("s1.json and s2.json are both shard 2/3"), "{e}");
    }

    #[test]
    fn lists_missing_shards() {
        let e = check_err(&parts(&["1/5", "3/5", "5/5"]));
        assert!(
            e.starts_with("shards 2, 4 of 5 are missing (given: s0.json (1/5), s1.json (3/5)"),
            "{e}"
        );
        let e = check_err(&parts(&["1/4", "2/4", "3/4"]));
        assert!(e.starts_with("shard 4 of 4 is missing"), "{e}");
        let e = check_err(&parts(&["4/10", "5/10"]));
        assert!(e.starts_with("shards 1-3, 6-10 of 10 are missing"), "{e}");
        let huge = format!("1/{}", u64::MAX);
        let e = check_err(&parts(&[&huge]));
        assert!(
            e.starts_with(&format!("shards 2-{} of {}", u64::MAX, u64::MAX)),
            "{e}"
        );
        let many: Vec<String> = (1..=20).map(|i| format!("{i}/21")).collect();
        let e = check_err(&parts(&many.iter().map(String::as_str).collect::<Vec<_>>()));
        assert!(e.contains("and 12 more"), "{e}");
    }

    #[test]
    fn rejects_mixed_versions_and_flags() {
        let mut p = parts(&["1/2", "2/2"]);
        p[1].1.keyhound = "0.2.0".into();
        let e = check_err(&p);
        assert_eq!(
            e,
            "s0.json was written by keyhound 0.1.0, s1.json by 0.2.0: re-run the shards with one version"
        );
        let mut p = parts(&["1/2", "2/2"]);
        p[1].1.secrets_shown = true;
        let e = check_err(&p);
        assert!(
            e.starts_with("s0.json does not show whole keys (--show-secrets) and s1.json does"),
            "{e}"
        );
        let mut p = parts(&["1/2", "2/2"]);
        p[0].1.verified = true;
        let e = check_err(&p);
        assert!(
            e.starts_with("s0.json was verified (--verify) and s1.json was not"),
            "{e}"
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = normalize_remote(&s);
            let _ = strip_credentials(&s);
            let _ = s.parse::<ShardSpec>();
            let _ = select_urls(&s, ShardSpec { index: 1, count: 2 });
        }

        #[test]
        fn stripping_keeps_the_key(
            scheme in "(https|http|ssh|git|git\\+ssh)",
            user in "[a-z_]{0,5}(:[a-zA-Z0-9@]{1,8})?",
            host in "[A-Za-z][A-Za-z0-9.-]{0,10}",
            port in "(:[0-9]{1,5})?",
            path in "(/[A-Za-z0-9._-]{1,6}){0,4}/?",
        ) {
            let at = if user.is_empty() { "" } else { "@" };
            let url = format!("{scheme}://{user}{at}{host}{port}{path}");
            let shown = strip_credentials(&url);
            let name = user.split(':').next().unwrap_or("");
            let ssh = scheme.contains("ssh") && !name.is_empty();
            let kept = if ssh { format!("{name}@") } else { String::new() };
            proptest::prop_assert_eq!(&shown, &format!("{scheme}://{kept}{host}{port}{path}"));
            proptest::prop_assert_eq!(normalize_remote(&shown), normalize_remote(&url));
        }
    }
}
