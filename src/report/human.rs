//! The human report: findings grouped by file, the verdict of what to do, and a closing summary.
//! Colour only when asked for or on a terminal. Every text an input controls (names of files,
//! archive members and authors, rules a repository supplies, verdict reasons from a server or
//! the cache) goes through `sanitize::terminal`, so none can send the terminal an escape.

use super::{Hook, Reporter, ScanReport, plural};
use crate::finding::{Decoding, Finding, GitInfo, GitObject, Reach};
use crate::sanitize::terminal;
use crate::stats::Suppressed;
use crate::style::Paint;
use crate::verify::{Status, Verification, VerifyStats};
use std::io::{self, Write};

/// A verdict: live in bold red, unknown in yellow, dead and not checked dimmed.
fn paint_verdict(paint: Paint, v: &Verification, now: i64) -> String {
    let label = v.label(now);
    let label = terminal(&label);
    match v.status {
        Status::Live => paint.key(&label),
        Status::Unknown => paint.caution(&label),
        Status::Dead | Status::NotChecked => paint.dim(&label),
    }
}

/// The human report.
pub struct Human;

impl Reporter for Human {
    fn finish(&self, report: &ScanReport<'_>, out: &mut dyn Write) -> io::Result<()> {
        write(report, out)
    }
}

fn write(report: &ScanReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let clean = report.findings.is_empty() && report.skipped.is_empty() && report.complete;
    if report.hook.is_some() && clean {
        // A hook that lets the commit or push through says nothing.
        return Ok(());
    }
    let paint = Paint(report.color);
    let mut current: Option<String> = None;
    for f in &report.findings {
        let place = match &f.git {
            Some(g) if g.in_message() => {
                format!("message of commit {}", f.origin.path)
            }
            _ => f.origin.display(),
        };
        if current.as_deref() != Some(&place) {
            if current.is_some() {
                writeln!(out)?;
            }
            writeln!(out, "{}", paint.path(&terminal(&place)))?;
            current = Some(place);
        }
        write_finding(report, f, &paint, out)?;
    }
    if !report.findings.is_empty() {
        writeln!(out)?;
        write_advice(report, out)?;
    }
    write_summary(report, out)
}

fn write_finding(
    report: &ScanReport<'_>,
    f: &Finding,
    paint: &Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    let rule = report.rule(f);
    let pos = format!("{}:{}", f.line, f.column);
    let decoded = if f.decoded.is_empty() {
        String::new()
    } else {
        let decoded = Decoding::join(f.decoded.iter().copied(), " in ");
        format!(" (in {}{})", terminal(&decoded), pieces(f))
    };
    let verdict = match report.verdict(f) {
        Some(v) => format!("{} · ", paint_verdict(*paint, v, report.now)),
        None => String::new(),
    };
    writeln!(
        out,
        "  {} {verdict}{}  {}{}",
        // Padded before it is painted: the colour codes take no columns.
        paint.pos(&format!("{pos:<9}")),
        terminal(&rule.spec.description),
        paint.key(&f.secret.display(report.show_secrets)),
        decoded
    )?;
    writeln!(out, "  {:<9} {}", "", terminal(&f.context))?;
    if let Some(g) = &f.git {
        writeln!(
            out,
            "  {:<9} {}",
            "",
            paint.dim(&terminal(&history_line(g)))
        )?;
    }
    let id = format!("{} · {}", rule.spec.id, f.fingerprint);
    writeln!(out, "  {:<9} {}", "", paint.dim(&terminal(&id)))
}

/// How many pieces a key split over literals or lines was put back together from.
fn pieces(f: &Finding) -> String {
    f.pieces
        .map(|n| format!(", joined from {n} pieces"))
        .unwrap_or_default()
}

/// Where in history: "added in 1a2b3c4d (Ann <ann@x>, 2024-01-02); in 3 commits, last 5e6f7a8b; still at HEAD".
fn history_line(g: &GitInfo) -> String {
    let short = |c: &str| c.chars().take(10).collect::<String>();
    let mut parts = Vec::new();
    match (&g.commit, g.object) {
        (Some(c), GitObject::CommitMessage) => {
            parts.push(format!("in the message of {}", short(c)));
        }
        (Some(c), GitObject::Blob) => parts.push(format!("added in {}", short(c))),
        (None, _) if g.staged() => parts.push("staged, not yet committed".into()),
        (None, _) => parts.push(format!(
            "blob {} in no commit",
            short(g.blob.as_deref().unwrap_or("?"))
        )),
    }
    if let (Some(a), Some(d)) = (&g.author, &g.date) {
        let day = d.get(..10).unwrap_or(d);
        let last = parts.pop().unwrap_or_default();
        parts.push(format!("{last} ({a}, {day})"));
    }
    if let (Some(n), Some(last)) = (g.commits, &g.last_seen) {
        let commits = plural(n, "commit", "commits");
        parts.push(format!("in {commits}, last {}", short(last)));
    }
    match g.at_head {
        Some(true) => parts.push("still at HEAD".into()),
        Some(false) => parts.push("no longer at HEAD, but still in history".into()),
        None => {}
    }
    if !matches!(g.reached_by, Reach::Refs | Reach::Index) {
        parts.push(format!("reached only by {}", g.reached_by.as_str()));
    }
    parts.join("; ")
}

/// For a hook: the key has not left the machine yet (for a commit hook, not even been committed).
fn write_hook_advice(hook: Hook, n: u64, urls: &[&str], out: &mut dyn Write) -> io::Result<()> {
    let keys = plural(n, "leaked key", "leaked keys");
    let (stopped, remove) = match hook {
        Hook::Commit => (
            format!("Commit stopped: {keys} in what is being committed."),
            "Remove it, load it from an environment variable or a secret store, and stage again.",
        ),
        Hook::Push => (
            format!("Push stopped: {keys} in commits this push sends; nothing was sent."),
            "Remove it from the commits that hold it (`git commit --amend` for the last one, \
             `git rebase -i` for older ones), load it from an environment variable or a secret \
             store, and push again.",
        ),
        Hook::Receive => (
            format!(
                "Push rejected by keyhound on the server: {keys} in the pushed commits; \
                 the server kept none of them."
            ),
            "Remove it from the commits that hold it (`git commit --amend` for the last one, \
             `git rebase -i` for older ones), load it from an environment variable or a secret \
             store, and push again.",
        ),
    };
    writeln!(out, "{stopped} For each, one of:")?;
    writeln!(out, "  1. {remove}")?;
    writeln!(
        out,
        "  2. If it ever left this machine (pushed, pasted, shared), revoke it at {}.",
        terminal(&urls.join(", "))
    )?;
    writeln!(
        out,
        "  3. If it is a test fixture and not a real key, end its line with a `keyhound:allow` \
         comment, or add its fingerprint (the `kh1:…` above) or its path to .keyhoundignore, or \
         accept the keys known today with a baseline (`--baseline FILE`, an earlier JSON report)."
    )?;
    writeln!(out)
}

fn write_advice(report: &ScanReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let keys: std::collections::HashSet<&str> = report
        .findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    let mut urls: Vec<&str> = report
        .findings
        .iter()
        .filter_map(|f| report.rule(f).spec.revoke_url.as_deref())
        .collect();
    urls.sort_unstable();
    urls.dedup();
    let not_committed = report
        .findings
        .iter()
        .all(|f| f.git.as_ref().is_some_and(|g| g.staged()));
    let hook = report.hook.or(not_committed.then_some(Hook::Commit));
    if let Some(hook) = hook {
        return write_hook_advice(hook, report.findings.len() as u64, &urls, out);
    }
    let verdicts = match &report.stats.verification {
        Some(v) => format!(": {}", verdict_counts(v)),
        None => String::new(),
    };
    writeln!(
        out,
        "{} found ({}{verdicts}). What to do, for each key{}:",
        plural(report.findings.len() as u64, "leaked key", "leaked keys"),
        plural(keys.len() as u64, "distinct key", "distinct keys"),
        if verdicts.is_empty() {
            ""
        } else {
            ", live ones first"
        },
    )?;
    writeln!(
        out,
        "  1. Revoke it now at {} (a key shows there by its last 4 characters).",
        terminal(&urls.join(", "))
    )?;
    writeln!(
        out,
        "  2. Create a replacement and load it from an environment variable or a secret store."
    )?;
    writeln!(
        out,
        "  3. If it was ever committed, purge it from git history after revoking it."
    )?;
    writeln!(out)
}

/// "1 live, 2 dead, 1 unknown": the verdicts there are.
fn verdict_counts(v: &VerifyStats) -> String {
    let counts = [
        (v.live, "live"),
        (v.dead, "dead"),
        (v.unknown, "unknown"),
        (v.not_checked, "not checked"),
    ];
    let parts: Vec<String> = counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    parts.join(", ")
}

/// "Verified 3 distinct keys: 1 live, 2 dead (2 from the cache, 1 request); …".
fn write_verification(v: &VerifyStats, out: &mut dyn Write) -> io::Result<()> {
    let mut line = format!(
        "Verified {}",
        plural(v.keys, "distinct key", "distinct keys")
    );
    if v.keys > 0 {
        line.push_str(&format!(": {}", verdict_counts(v)));
    }
    line.push_str(&format!(
        " ({} from the cache, {})",
        v.cached,
        plural(v.requests, "request", "requests")
    ));
    if v.hidden > 0 {
        let n = plural(v.hidden, "finding", "findings");
        line.push_str(&format!("; {n} of dead keys not shown (--only-live)"));
    }
    writeln!(out, "{line}.")
}

/// Skipped inputs shown in the summary; the rest are counted (all are in `--format json`).
const SKIPPED_SHOWN: usize = 10;

fn write_skipped(report: &ScanReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    for s in report.skipped.iter().take(SKIPPED_SHOWN) {
        let what = if s.incomplete {
            "not fully scanned"
        } else {
            "skipped"
        };
        writeln!(
            out,
            "  {what}: {}: {}",
            terminal(&s.path),
            terminal(&s.reason)
        )?;
    }
    if report.skipped.len() > SKIPPED_SHOWN {
        let more = (report.skipped.len() - SKIPPED_SHOWN) as u64;
        writeln!(out, "  … and {more} more (--format json lists them all)")?;
    }
    Ok(())
}

/// "3 suppressed (2 by allow comments, 1 by the baseline)", or None when nothing was.
fn suppressed(s: &Suppressed) -> Option<String> {
    let reasons = [
        (s.inline, "by allow comments"),
        (s.path, "at allowed paths"),
        (s.fingerprint, "by .keyhoundignore"),
        (s.baseline, "by the baseline"),
    ];
    let total: u64 = reasons.iter().map(|(n, _)| n).sum();
    let why: Vec<String> = reasons
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, why)| format!("{n} {why}"))
        .collect();
    (total > 0).then(|| format!("{total} suppressed ({})", why.join(", ")))
}

fn write_summary(report: &ScanReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.stats;
    let secs = s.elapsed_ms as f64 / 1000.0;
    let mb = s.bytes as f64 / 1e6;
    let rate = if secs > 0.0 {
        format!(", {:.0} MB/s", mb / secs)
    } else {
        String::new()
    };
    let what = match &s.git {
        Some(g) => format!(
            "{} and {}",
            plural(g.commits, "commit", "commits"),
            plural(g.blobs_scanned, "blob", "blobs")
        ),
        None => plural(s.files, "file", "files"),
    };
    let mut parts = vec![format!(
        "Scanned {what} ({mb:.1} MB) in {secs:.2} s{rate}: {}",
        plural(s.findings, "finding", "findings")
    )];
    if s.placeholders > 0 {
        parts.push(format!(
            "{} ignored",
            plural(s.placeholders, "placeholder", "placeholders")
        ));
    }
    if s.unattributed > 0 {
        parts.push(format!(
            "{} with no provider named next to {} (not reported)",
            plural(s.unattributed, "key-shaped string", "key-shaped strings"),
            if s.unattributed == 1 { "it" } else { "them" }
        ));
    }
    if let Some(text) = suppressed(&s.suppressed) {
        parts.push(text);
    }
    if s.skipped > 0 {
        parts.push(plural(s.skipped, "input skipped", "inputs skipped"));
    }
    parts.push(format!("keys looked for: {}", s.providers.join(", ")));
    writeln!(out, "{}.", parts.join("; "))?;
    if let Some(v) = &s.verification {
        write_verification(v, out)?;
    }
    write_skipped(report, out)?;
    if s.ignored > 0 {
        let env = match report.ignored_env.first() {
            Some(e) => format!(", including {}", terminal(e)),
            None => String::new(),
        };
        let n = plural(s.ignored, "ignored path", "ignored paths");
        writeln!(out, "{n} not scanned{env} — use --no-ignore to scan them.")?;
    }
    if s.symlinks_not_followed > 0 {
        let n = plural(s.symlinks_not_followed, "symbolic link", "symbolic links");
        writeln!(out, "{n} not followed — use --follow-links to follow them.")?;
    }
    if !report.complete {
        writeln!(
            out,
            "The scan is incomplete: some input could not be fully read (see the warnings above)."
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Origin;
    use crate::rules::RuleSet;
    use crate::secret::Secret;
    use crate::stats::Stats;
    use crate::verify::Verification;

    #[test]
    fn a_cached_verdict_reason_and_an_author_cannot_send_escapes() {
        let rules = RuleSet::builtin().unwrap();
        let finding = Finding {
            rule: 0,
            origin: Origin::file("a\x1b[2J.env"),
            decoded: vec![],
            line: 1,
            column: 1,
            column_chars: 1,
            offset: 0,
            secret: Secret::new("sk-test".into(), 3),
            fingerprint: "kh1:00".into(),
            context: String::new(),
            git: Some(Box::new(GitInfo {
                commit: Some("1a2b3c4d5e".into()),
                author: Some("Eve\x1b]0;x\x07".into()),
                date: Some("2024-01-02T00:00:00Z".into()),
                ..GitInfo::default()
            })),
            allowed: false,
            pieces: None,
        };
        let verdict = Verification {
            status: Status::Dead,
            reason: Some("revoked\x1b[31m\r\nforged".into()),
            checked_at: Some(0),
            cached: true,
            ..Verification::default()
        };
        let report = ScanReport {
            rules: &rules,
            findings: vec![finding],
            skipped: vec![],
            stats: Stats::default(),
            complete: true,
            ignored_env: vec![],
            show_secrets: false,
            color: false,
            verdicts: Some([("kh1:00".to_string(), verdict)].into_iter().collect()),
            automation_id: None,
            hook: None,
            now: 0,
        };
        let mut out = Vec::new();
        write(&report, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains(['\x1b', '\x07', '\r']), "{text:?}");
        assert!(text.contains("revoked?[31m  forged"), "{text}");
        assert!(text.contains("Eve?]0;x?"), "{text}");
    }
}
