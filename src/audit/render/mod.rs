//! Writes an `AuditReport` in each format: JSON here, the others in their own modules, and the
//! few labels they share (dates, short commit ids, verdicts, sizes) so the formats agree.

mod forge;
mod html;
mod human;
mod markdown;

use super::AuditFormat;
use super::model::{AuditReport, KeyEntry, RepoKey, Sighting, Verdict};
use crate::verify::Status;
use std::io::{self, Write};

/// Writes `report` as `format`; `color` only matters to the human table.
pub fn write(
    report: &AuditReport,
    format: AuditFormat,
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        AuditFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        AuditFormat::Human => human::write(report, color, out),
        AuditFormat::Markdown => markdown::write(report, out),
        AuditFormat::Html => html::write(report, out),
    }
}

/// What to tell a reader of an unverified report.
const NOT_VERIFIED: &str = "Verdicts were not checked: run keyhound audit --verify to ask each \
                            provider whether the keys still work.";

/// Whether to print `NOT_VERIFIED`: keys were listed, and none was verified.
/// Which providers' keys were looked for: an audit without keys says nothing of the others.
fn looked_for(report: &AuditReport) -> String {
    let providers = match report.providers.as_slice() {
        [] => "none".to_string(),
        list => list.join(", "),
    };
    format!("Keys looked for: {providers} (no other provider's keys).")
}

fn unverified(report: &AuditReport) -> bool {
    !report.verified && (!report.keys.is_empty() || !report.suppressed.is_empty())
}

/// Commit ids as people read them: the first 12 hex digits.
fn short_sha(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// The day of an RFC 3339 date (`2024-01-02`), or the text as it is when it has no such prefix.
fn day(date: &str) -> &str {
    date.get(..10).unwrap_or(date)
}

/// The day of a sighting, when its date is known.
fn sighting_day(s: &Sighting) -> Option<&str> {
    s.date.as_deref().map(day)
}

/// `not_checked` as people say it.
fn status_label(status: Status) -> String {
    status.as_str().replace('_', " ")
}

/// "live", "dead: revoked (HTTP 401)", "unknown: timed out".
fn verdict_label(v: &Verdict) -> String {
    let mut label = status_label(v.status);
    let detail = match (&v.reason, v.http_status) {
        (Some(r), Some(code)) => Some(format!("{r} (HTTP {code})")),
        (Some(r), None) => Some(r.clone()),
        (None, Some(code)) => Some(format!("HTTP {code}")),
        (None, None) => None,
    };
    if let Some(d) = detail {
        label.push_str(": ");
        label.push_str(&d);
    }
    label
}

/// How one format writes the parts of a key's details block (`details`).
trait DetailStyle {
    /// Labels as `At HEAD` (true) or `at HEAD`.
    const CAPITALISED: bool;
    /// Text made inert for the format.
    fn text(&self, text: &str) -> String;
    /// An identifier (a fingerprint, a rule id) as code.
    fn code(&self, text: &str) -> String;
    fn sighting(&self, s: Option<&Sighting>) -> String;
    fn repository(&self, r: &RepoKey) -> String;
}

/// A key's labelled details, in the order every format shows them.
fn details<S: DetailStyle>(key: &KeyEntry, style: &S) -> Vec<(String, String)> {
    let label = |l: &str| match l.split_at(1) {
        (first, rest) if S::CAPITALISED => format!("{}{rest}", first.to_uppercase()),
        _ => l.to_string(),
    };
    let fingerprint = format!(
        "{} (rule {})",
        style.code(&key.fingerprint),
        style.code(&key.rule)
    );
    let mut lines = vec![
        (label("fingerprint"), fingerprint),
        (
            label("verdict"),
            style.text(&verdict_label(&key.verification)),
        ),
        (label("introduced"), style.sighting(key.introduced.as_ref())),
        (label("last seen"), style.sighting(key.last_seen.as_ref())),
        (label("at HEAD"), style.text(&at_head_label(key))),
    ];
    if !key.on_branches.is_empty() {
        lines.push((
            label("on branches"),
            style.text(&key.on_branches.join(", ")),
        ));
    }
    if !key.repositories.is_empty() {
        let repos: Vec<String> = key
            .repositories
            .iter()
            .map(|r| style.repository(r))
            .collect();
        lines.push((label("repositories"), repos.join(", ")));
    }
    lines.push((label("commits"), key.commits.to_string()));
    lines
}

/// "openai project".
fn kind_label(key: &KeyEntry) -> String {
    format!("{} {}", key.provider, key.kind)
}

/// "yes (origin/main)", "yes", "no".
fn at_head_label(key: &KeyEntry) -> String {
    match (key.at_head, &key.default_branch) {
        (true, Some(b)) => format!("yes ({b})"),
        (true, None) => "yes".to_string(),
        (false, _) => "no".to_string(),
    }
}

/// "1.2 MB".
fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// "keyhound 0.1.0, 2024-05-01T10:00:00Z, shard 2/4".
fn provenance(report: &AuditReport) -> String {
    let mut text = format!("keyhound {}, {}", report.keyhound, report.generated_at);
    if let Some(shard) = &report.shard {
        text.push_str(&format!(", shard {shard}"));
    }
    if report.secrets_shown {
        text.push_str(", whole keys shown");
    }
    text
}

/// Why a repository was not read in full, for people.
fn notes_of(r: &super::model::RepoAudit) -> String {
    if r.notes.is_empty() {
        "no reason given".to_string()
    } else {
        r.notes.join("; ")
    }
}

/// A remediation step in a format: its code parts through `code`, the rest through `text`.
fn step(step: &str, code: fn(&str) -> String, text: fn(&str) -> String) -> String {
    code_parts(step)
        .iter()
        .map(|(is_code, part)| if *is_code { code(part) } else { text(part) })
        .collect()
}

/// A remediation step cut at its backticks: `(false, text)` and `(true, code)` in order. An
/// unmatched backtick stays text.
fn code_parts(step: &str) -> Vec<(bool, String)> {
    let pieces: Vec<&str> = step.split('`').collect();
    let closed = if pieces.len().is_multiple_of(2) {
        pieces.len() - 1
    } else {
        pieces.len()
    };
    let mut parts: Vec<(bool, String)> = pieces[..closed]
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.is_empty())
        .map(|(i, p)| (i % 2 == 1, p.to_string()))
        .collect();
    if closed < pieces.len() {
        parts.push((false, format!("`{}", pieces[closed])));
    }
    parts
}

/// A report to test the renderers with: two keys (one live at HEAD in two repositories, one dead
/// and only in history), one on an allow-marked line, and hostile text from repositories.
#[cfg(test)]
mod fixture {
    use crate::audit::AuditFormat;
    use crate::audit::model::*;
    use crate::verify::Status;

    /// `report` written as `format`.
    pub fn render(report: &AuditReport, format: AuditFormat, color: bool) -> String {
        let mut out = Vec::new();
        super::write(report, format, color, &mut out).expect("written");
        String::from_utf8(out).expect("utf-8")
    }

    pub const AUTHOR: &str = "<script>alert(1)</script>";
    pub const PATH: &str = "conf|ig/a|b.env";
    pub const BRANCH: &str = "feat/<x>";
    pub const SHA_A: &str = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";
    pub const SHA_B: &str = "ffeeddccbbaa99887766554433221100ffeeddcc";

    fn sighting(repo: &str, commit: &str, date: &str, path: &str, order: u64) -> Sighting {
        Sighting {
            repository: repo.into(),
            commit: commit.into(),
            author: Some(AUTHOR.into()),
            date: Some(date.into()),
            path: path.into(),
            line: 3,
            order,
        }
    }

    fn repo_key(path: &str, at_head: bool, introduced: &Sighting) -> RepoKey {
        RepoKey {
            name: path.into(),
            path: path.into(),
            remote: Some(format!("https://git.example/acme/{path}.git")),
            introduced: Some(introduced.clone()),
            last_seen: Some(introduced.clone()),
            at_head,
            default_branch: Some("main".into()),
            on_branches: if at_head { vec!["main".into()] } else { vec![] },
            commits: 2,
            in_worktree: false,
        }
    }

    fn verdict(status: Status, reason: Option<&str>) -> Verdict {
        Verdict {
            status,
            reason: reason.map(Into::into),
            http_status: None,
            error_code: None,
            organization: None,
            checked_at: None,
            cached: false,
        }
    }

    fn live_key() -> KeyEntry {
        let intro = sighting("api", SHA_A, "2023-03-01T09:00:00Z", PATH, 1);
        let last = sighting("web", SHA_B, "2024-02-10T12:00:00Z", "app/.env", 9);
        KeyEntry {
            fingerprint: "fp-live-0001".into(),
            kind: "project".into(),
            provider: "openai".into(),
            rule: "openai-project-key".into(),
            secret: "sk-proj-…AbCd".into(),
            risk: Risk::Critical,
            introduced: Some(intro.clone()),
            last_seen: Some(last.clone()),
            at_head: true,
            default_branch: Some("main".into()),
            on_branches: vec!["api:main".into(), format!("web:{BRANCH}")],
            repositories: vec![repo_key("api", true, &intro), repo_key("web", true, &last)],
            locations: vec![],
            commits: 4,
            verification: verdict(Status::Live, Some("the key works | <b>")),
            remediation: vec![
                "Revoke the key at the provider's page.".into(),
                "Replace it; load it with `export OPENAI_API_KEY=…`.".into(),
                "Purge it: `git filter-repo --replace-text secrets.txt`.".into(),
            ],
        }
    }

    fn dead_key() -> KeyEntry {
        let intro = sighting("api", SHA_B, "2022-06-15T08:00:00Z", "old/key.txt", 0);
        KeyEntry {
            fingerprint: "fp-dead-0002".into(),
            kind: "admin".into(),
            provider: "openai".into(),
            rule: "openai-admin-key".into(),
            secret: "sk-admin-…WxYz".into(),
            risk: Risk::None,
            introduced: Some(intro.clone()),
            last_seen: Some(intro.clone()),
            at_head: false,
            default_branch: Some("main".into()),
            on_branches: vec![],
            repositories: vec![repo_key("api", false, &intro)],
            locations: vec![],
            commits: 1,
            verification: verdict(Status::Dead, Some("revoked")),
            remediation: vec!["Nothing to revoke: the key is dead.".into()],
        }
    }

    fn allowed_key() -> KeyEntry {
        KeyEntry {
            fingerprint: "fp-allowed-0003".into(),
            risk: Risk::Medium,
            secret: "sk-proj-…Test".into(),
            introduced: None,
            last_seen: None,
            at_head: false,
            repositories: vec![],
            commits: 0,
            verification: verdict(Status::NotChecked, None),
            ..live_key()
        }
    }

    fn repo(path: &str, keys: u64, complete: bool) -> RepoAudit {
        RepoAudit {
            name: path.into(),
            path: path.into(),
            remote: None,
            default_branch: Some("main".into()),
            head: Some(SHA_A.into()),
            commits: 10,
            blobs_scanned: 200,
            bytes_scanned: 1_500_000,
            worktree_files: 5,
            keys,
            complete,
            notes: if complete {
                vec![]
            } else {
                vec!["shallow clone | <history> cut".into()]
            },
        }
    }

    /// The report, verified.
    pub fn report() -> AuditReport {
        let keys = vec![live_key(), dead_key()];
        let suppressed = vec![allowed_key()];
        let repositories = vec![
            repo("api", 2, true),
            repo("web", 1, false),
            repo("docs", 0, true),
        ];
        AuditReport {
            keyhound: "0.1.0".into(),
            shard: None,
            generated_at: "2024-05-01T10:00:00Z".into(),
            secrets_shown: false,
            verified: true,
            providers: vec!["openai".into()],
            summary: Summary::of(&keys, &suppressed, &repositories),
            keys,
            suppressed,
            repositories,
        }
    }

    /// The report as an audit without `--verify` writes it.
    pub fn unverified() -> AuditReport {
        let mut r = report();
        r.verified = false;
        for k in &mut r.keys {
            k.verification = verdict(Status::NotChecked, None);
        }
        r.summary = Summary::of(&r.keys, &r.suppressed, &r.repositories);
        r
    }

    /// An audit that found nothing.
    pub fn empty() -> AuditReport {
        let mut r = report();
        r.keys.clear();
        r.suppressed.clear();
        for repo in &mut r.repositories {
            repo.keys = 0;
        }
        r.summary = Summary::of(&r.keys, &r.suppressed, &r.repositories);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remediation_steps_split_at_backticks() {
        let parts = code_parts("run `git gc` now");
        assert_eq!(
            parts,
            vec![
                (false, "run ".to_string()),
                (true, "git gc".to_string()),
                (false, " now".to_string())
            ]
        );
        assert_eq!(
            code_parts("a `b"),
            vec![(false, "a ".into()), (false, "`b".into())]
        );
        assert!(code_parts("").is_empty());
    }

    #[test]
    fn labels_read_as_people_say_them() {
        assert_eq!(short_sha(fixture::SHA_A), "1a2b3c4d5e6f");
        assert_eq!(short_sha("abc"), "abc");
        assert_eq!(day("2024-01-02T03:04:05Z"), "2024-01-02");
        assert_eq!(status_label(Status::NotChecked), "not checked");
        assert_eq!(megabytes(1_500_000), "1.5 MB");
    }

    #[test]
    fn every_format_writes() {
        let report = fixture::report();
        for format in [
            AuditFormat::Human,
            AuditFormat::Json,
            AuditFormat::Markdown,
            AuditFormat::Html,
        ] {
            let mut out = Vec::new();
            write(&report, format, false, &mut out).expect("written");
            assert!(!out.is_empty(), "{format:?}");
        }
    }
}
