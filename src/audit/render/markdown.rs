//! The audit as Markdown for a GitHub issue or pull-request comment: summary and key tables, a
//! section per key with a `- [ ]` checklist. Text from repositories is escaped so that it can
//! neither break a table nor inject HTML; keyhound's own remediation keeps its code spans.

use super::{
    DetailStyle, NOT_VERIFIED, at_head_label, details, kind_label, looked_for, megabytes,
    provenance, short_sha, sighting_day, status_label, unverified,
};
use crate::audit::model::{AuditReport, KeyEntry, RepoKey, Sighting, Summary};
use crate::report::plural;
use std::io::{self, Write};

/// Writes `report` as Markdown.
pub fn write(report: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "## keyhound audit")?;
    writeln!(out)?;
    writeln!(out, "Written by {}.", escape_md(&provenance(report)))?;
    writeln!(out)?;
    write_lead(report, out)?;
    write_summary(&report.summary, out)?;
    if !report.keys.is_empty() {
        writeln!(out, "### Keys")?;
        writeln!(out)?;
        write_keys(&report.keys, out)?;
    }
    if !report.suppressed.is_empty() {
        writeln!(out, "### Keys on allow-marked lines (listed, not hidden)")?;
        writeln!(out)?;
        write_keys(&report.suppressed, out)?;
    }
    write_incomplete(report, out)
}

/// The one-line verdict on the audit, and the notice when keys went unverified.
fn write_lead(report: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    let repos = plural(s.repositories, "repository", "repositories");
    if s.keys == 0 {
        writeln!(out, "No keys found in {repos}.")?;
    } else {
        let keys = plural(s.keys, "key", "keys");
        let live = s.live;
        let head = s.at_head;
        writeln!(
            out,
            "**{keys}** found in {repos}: **{live} live**, **{head} at HEAD**."
        )?;
    }
    writeln!(out)?;
    writeln!(out, "{}", escape_md(&looked_for(report)))?;
    writeln!(out)?;
    if unverified(report) {
        writeln!(out, "> **{NOT_VERIFIED}**")?;
        writeln!(out)?;
    }
    Ok(())
}

fn write_summary(s: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let rows = [
        ("Repositories audited", s.repositories.to_string()),
        (
            "Repositories with keys",
            s.repositories_with_keys.to_string(),
        ),
        ("Keys", s.keys.to_string()),
        ("Live", s.live.to_string()),
        ("Dead", s.dead.to_string()),
        ("Unknown", s.unknown.to_string()),
        ("Not checked", s.not_checked.to_string()),
        ("At HEAD", s.at_head.to_string()),
        ("On allow-marked lines", s.suppressed.to_string()),
        ("Commits scanned", s.commits_scanned.to_string()),
        ("Blobs scanned", s.blobs_scanned.to_string()),
        ("Bytes scanned", megabytes(s.bytes_scanned)),
        ("Incomplete repositories", s.incomplete.to_string()),
    ];
    writeln!(out, "### Summary")?;
    writeln!(out)?;
    writeln!(out, "| | |")?;
    writeln!(out, "|---|---:|")?;
    for (what, n) in rows {
        writeln!(out, "{}", table_row(&[what.to_string(), n]))?;
    }
    writeln!(out)
}

/// The table, then a section per key.
fn write_keys(keys: &[KeyEntry], out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "| # | Risk | Kind | Key | Verdict | At HEAD | Introduced | Last seen | Repos |"
    )?;
    writeln!(out, "|---:|---|---|---|---|---|---|---|---:|")?;
    for (i, key) in keys.iter().enumerate() {
        writeln!(out, "{}", table_row(&row(i + 1, key)))?;
    }
    writeln!(out)?;
    for (i, key) in keys.iter().enumerate() {
        write_details(i + 1, key, out)?;
    }
    Ok(())
}

fn row(n: usize, key: &KeyEntry) -> [String; 9] {
    let date = |s: &Option<Sighting>| cell(s.as_ref().and_then(sighting_day).unwrap_or(""));
    [
        n.to_string(),
        format!("**{}**", cell(key.risk.as_str())),
        cell(&kind_label(key)),
        code(&key.secret).replace('|', "\\|"),
        cell(&status_label(key.verification.status)),
        cell(&at_head_label(key)),
        date(&key.introduced),
        date(&key.last_seen),
        key.repositories.len().to_string(),
    ]
}

fn table_row(cells: &[String]) -> String {
    format!("| {} |", cells.join(" | "))
}

fn write_details(n: usize, key: &KeyEntry, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "#### {n}. {}: {} {}",
        escape_md(key.risk.as_str()),
        escape_md(&kind_label(key)),
        code(&key.secret)
    )?;
    writeln!(out)?;
    for (label, value) in details(key, &Md) {
        writeln!(out, "- **{label}:** {value}")?;
    }
    writeln!(out)?;
    if key.remediation.is_empty() {
        return Ok(());
    }
    writeln!(out, "What to do:")?;
    writeln!(out)?;
    for step in &key.remediation {
        writeln!(out, "- [ ] {}", step_md(step))?;
    }
    writeln!(out)
}

/// Details as Markdown.
struct Md;

impl DetailStyle for Md {
    const CAPITALISED: bool = true;
    fn text(&self, text: &str) -> String {
        escape_md(text)
    }
    fn code(&self, text: &str) -> String {
        code(text)
    }
    fn sighting(&self, s: Option<&Sighting>) -> String {
        sighting(s)
    }
    fn repository(&self, r: &RepoKey) -> String {
        escape_md(&r.path)
    }
}

fn escaped_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| escape_md(i)).collect();
    items.join(", ")
}

/// "2024-01-02, commit `1a2b3c4d5e6f`, by Ann \<ann@x\>, at api:src/a.env:3".
fn sighting(s: Option<&Sighting>) -> String {
    let Some(s) = s else {
        return "in no commit (only in a work tree)".to_string();
    };
    let mut parts = vec![
        escape_md(sighting_day(s).unwrap_or("date unknown")),
        format!("commit {}", code(short_sha(&s.commit))),
    ];
    if let Some(a) = &s.author {
        parts.push(format!("by {}", escape_md(a)));
    }
    let place = format!("{}:{}:{}", s.repository, s.path, s.line);
    parts.push(format!("at {}", escape_md(&place)));
    parts.join(", ")
}

/// A remediation step: its backticked parts stay code, the rest is escaped.
fn step_md(step: &str) -> String {
    super::step(step, code, escape_md)
}

fn write_incomplete(report: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    let incomplete: Vec<_> = report.repositories.iter().filter(|r| !r.complete).collect();
    if incomplete.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "### Repositories not read in full (keys may be missing)"
    )?;
    writeln!(out)?;
    for r in incomplete {
        let notes = if r.notes.is_empty() {
            "no reason given".to_string()
        } else {
            escaped_list(&r.notes).replace(", ", "; ")
        };
        writeln!(out, "- **{}**: {notes}", escape_md(&r.path))?;
    }
    writeln!(out)
}

pub use crate::sanitize::markdown as escape_md;

/// A table cell of repository text: escaped, and `—` when empty.
fn cell(text: &str) -> String {
    let text = escape_md(text.trim());
    if text.is_empty() {
        "—".to_string()
    } else {
        text
    }
}

/// An inline code span of `text`, fenced by more backticks than it holds in a row.
fn code(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.trim().is_empty() {
        return cell(&text);
    }
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let edge = |c: char| c == '`' || c == ' ';
    let pad = if text.starts_with(edge) || text.ends_with(edge) {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    fn render(report: &AuditReport) -> String {
        fixture::render(report, crate::audit::AuditFormat::Markdown, false)
    }

    /// The cells of a table row: split at `|` not escaped by a backslash.
    fn cells(line: &str) -> usize {
        let mut prev = ' ';
        let mut pipes = 0;
        for c in line.chars() {
            if c == '|' && prev != '\\' {
                pipes += 1;
            }
            prev = c;
        }
        pipes - 1
    }

    /// Each table: its rows' cell counts.
    fn tables(md: &str) -> Vec<Vec<usize>> {
        let mut tables = vec![];
        let mut current: Vec<usize> = vec![];
        for line in md.lines() {
            if line.starts_with('|') {
                current.push(cells(line));
            } else if !current.is_empty() {
                tables.push(std::mem::take(&mut current));
            }
        }
        tables
    }

    #[test]
    fn tables_keep_their_columns() {
        let md = render(&fixture::report());
        let tables = tables(&md);
        assert_eq!(tables.len(), 3, "summary, keys, suppressed keys");
        for t in &tables {
            assert!(t.iter().all(|n| *n == t[0]), "{t:?}\n{md}");
        }
        assert_eq!(tables[1], vec![9; 4]);
    }

    #[test]
    fn repository_text_cannot_inject_html() {
        let md = render(&fixture::report());
        assert!(!md.contains("<script>"), "{md}");
        assert!(!md.contains("<b>"), "{md}");
        assert!(md.contains("by \\<script\\>alert(1)\\</script\\>"), "{md}");
        assert!(md.contains("at api:conf\\|ig/a\\|b.env:3"), "{md}");
        assert!(md.contains("web:feat/\\<x\\>"), "{md}");
        assert!(md.contains("shallow clone \\| \\<history\\> cut"), "{md}");
    }

    #[test]
    fn checklist_keeps_code_spans() {
        let md = render(&fixture::report());
        assert!(md.contains("- [ ] Purge it: `git filter-repo --replace-text secrets.txt`."));
        assert!(md.contains("- [ ] Revoke the key at the provider's page."));
    }

    #[test]
    fn says_when_verdicts_were_not_checked() {
        let md = render(&fixture::unverified());
        assert!(md.contains(
            "run keyhound audit --verify to ask each provider whether the keys still work"
        ));
        assert!(!render(&fixture::report()).contains("--verify"));
    }

    #[test]
    fn says_plainly_when_there_are_no_keys() {
        let md = render(&fixture::empty());
        assert!(md.contains("No keys found in 3 repositories."), "{md}");
        assert_eq!(tables(&md).len(), 1, "only the summary");
    }

    #[test]
    fn escapes_what_markdown_acts_on() {
        assert_eq!(escape_md("a|b\nc"), "a\\|b c");
        assert_eq!(escape_md("*_[x](y)_*"), "\\*\\_\\[x\\](y)\\_\\*");
        assert_eq!(escape_md("<img src=x>"), "\\<img src=x\\>");
        assert_eq!(escape_md("\\` # ! ~ & $"), "\\\\\\` \\# \\! \\~ \\& \\$");
        assert_eq!(cell("  "), "—");
        assert_eq!(escape_md("@team"), "@\u{200B}team", "no mention");
    }

    #[test]
    fn code_spans_hold_backticks() {
        assert_eq!(code("abc"), "`abc`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`a"), "`` `a ``");
        assert_eq!(code("a\nb"), "`a b`");
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&fixture::report()));
    }
}
