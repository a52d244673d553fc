//! The audit for a terminal: the summary, a compact table of keys, each key's details with its
//! checklist, keys on allow-marked lines, and incomplete repositories. Colour only when asked for.

use super::{
    DetailStyle, NOT_VERIFIED, at_head_label, details, kind_label, looked_for, megabytes,
    provenance, short_sha, sighting_day, status_label, unverified,
};
use crate::audit::model::{AuditReport, KeyEntry, RepoKey, Risk, Sighting};
use crate::report::plural;
use crate::style::Paint;
use std::io::{self, Write};

const HEADERS: [&str; 8] = [
    "RISK",
    "KIND",
    "KEY",
    "VERDICT",
    "AT HEAD",
    "INTRODUCED",
    "LAST SEEN",
    "REPOS",
];

/// Critical in bold red, high in red, medium in yellow, the rest plain.
fn paint_risk(paint: Paint, risk: Risk, t: &str) -> String {
    match risk {
        Risk::Critical => paint.key(t),
        Risk::High => paint.warn(t),
        Risk::Medium => paint.caution(t),
        Risk::Low | Risk::None => t.to_string(),
    }
}

/// Writes `report` for people; ANSI colour only when `color`.
pub fn write(report: &AuditReport, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let paint = Paint(color);
    write_summary(report, &paint, out)?;
    if !report.keys.is_empty() {
        writeln!(out)?;
        write_keys(&report.keys, &paint, out)?;
    }
    if !report.suppressed.is_empty() {
        writeln!(out)?;
        let title = "Keys on allow-marked lines (listed, not hidden)";
        writeln!(out, "{}", paint.bold(title))?;
        writeln!(out)?;
        write_keys(&report.suppressed, &paint, out)?;
    }
    write_incomplete(report, &paint, out)
}

fn write_summary(report: &AuditReport, paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    writeln!(
        out,
        "{} ({})",
        paint.bold("keyhound audit"),
        clean(&provenance(report))
    )?;
    let repos = plural(s.repositories, "repository", "repositories");
    if s.keys == 0 {
        writeln!(out, "No keys found in {repos}.")?;
    } else {
        writeln!(
            out,
            "Audited {repos} ({} with keys) and found {}: {} live, {} dead, {} unknown, {} not checked; {} at HEAD.",
            s.repositories_with_keys,
            plural(s.keys, "key", "keys"),
            s.live,
            s.dead,
            s.unknown,
            s.not_checked,
            s.at_head,
        )?;
    }
    let mut scanned = format!(
        "Scanned {} and {} ({})",
        plural(s.commits_scanned, "commit", "commits"),
        plural(s.blobs_scanned, "blob", "blobs"),
        megabytes(s.bytes_scanned)
    );
    if s.suppressed > 0 {
        let n = plural(s.suppressed, "key", "keys");
        scanned.push_str(&format!("; {n} on allow-marked lines, listed apart"));
    }
    if s.incomplete > 0 {
        let n = plural(s.incomplete, "repository", "repositories");
        scanned.push_str(&format!("; {n} not read in full (see the end)"));
    }
    writeln!(out, "{scanned}.")?;
    writeln!(out, "{}", clean(&looked_for(report)))?;
    if unverified(report) {
        writeln!(out, "{NOT_VERIFIED}")?;
    }
    Ok(())
}

/// The table, then each key's details.
fn write_keys(keys: &[KeyEntry], paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    write_table(keys, paint, out)?;
    for (i, key) in keys.iter().enumerate() {
        writeln!(out)?;
        write_details(i + 1, key, paint, out)?;
    }
    Ok(())
}

/// A key's cells, in `HEADERS` order.
fn row(key: &KeyEntry) -> [String; 8] {
    let date = |s: &Option<Sighting>| s.as_ref().and_then(sighting_day).unwrap_or("-").to_string();
    [
        key.risk.to_string(),
        kind_label(key),
        key.secret.clone(),
        status_label(key.verification.status),
        at_head_label(key),
        date(&key.introduced),
        date(&key.last_seen),
        key.repositories.len().to_string(),
    ]
    .map(|cell| clean(&cell))
}

fn write_table(keys: &[KeyEntry], paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    let rows: Vec<[String; 8]> = keys.iter().map(row).collect();
    let mut widths = HEADERS.map(|h| h.chars().count());
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let header: Vec<String> = HEADERS.iter().map(|h| h.to_string()).collect();
    writeln!(out, "{}", paint.bold(&join_padded(&header, &widths)))?;
    for (key, r) in keys.iter().zip(&rows) {
        let risk = pad(&r[0], widths[0]);
        let rest = join_padded(&r[1..], &widths[1..]);
        writeln!(out, "{}  {rest}", paint_risk(*paint, key.risk, &risk))?;
    }
    Ok(())
}

/// Cells padded to their widths, two spaces apart, the last one unpadded.
fn join_padded(cells: &[String], widths: &[usize]) -> String {
    let last = cells.len().saturating_sub(1);
    let padded: Vec<String> = cells
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(i, (c, w))| if i == last { c.clone() } else { pad(c, *w) })
        .collect();
    padded.join("  ")
}

fn pad(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(text.chars().count());
    format!("{text}{}", " ".repeat(fill))
}

fn write_details(n: usize, key: &KeyEntry, paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    let title = format!("{n}. {} · {} · {}", key.risk, kind_label(key), key.secret);
    writeln!(out, "{}", paint_risk(*paint, key.risk, &clean(&title)))?;
    for (label, value) in details(key, &Plain) {
        writeln!(out, "   {label:<13} {}", clean(&value))?;
    }
    if key.remediation.is_empty() {
        return Ok(());
    }
    writeln!(out, "   what to do")?;
    for (i, step) in key.remediation.iter().enumerate() {
        writeln!(out, "     {}. {}", i + 1, clean(step))?;
    }
    Ok(())
}

/// Details as plain text (`write_details` makes each line safe for a terminal).
struct Plain;

impl DetailStyle for Plain {
    const CAPITALISED: bool = false;
    fn text(&self, text: &str) -> String {
        text.to_string()
    }
    fn code(&self, text: &str) -> String {
        text.to_string()
    }
    fn sighting(&self, s: Option<&Sighting>) -> String {
        sighting(s)
    }
    fn repository(&self, r: &RepoKey) -> String {
        repository(r)
    }
}

/// "2024-01-02  1a2b3c4d5e6f  Ann <ann@x>  api:src/a.env:3".
fn sighting(s: Option<&Sighting>) -> String {
    let Some(s) = s else {
        return "in no commit (only in a work tree)".to_string();
    };
    let mut parts = vec![
        sighting_day(s).unwrap_or("date unknown").to_string(),
        short_sha(&s.commit).to_string(),
    ];
    if let Some(a) = &s.author {
        parts.push(a.clone());
    }
    parts.push(format!("{}:{}:{}", s.repository, s.path, s.line));
    parts.join("  ")
}

/// "api", "web (also in the work tree)".
fn repository(r: &RepoKey) -> String {
    if r.in_worktree {
        format!("{} (also in the work tree)", r.path)
    } else {
        r.path.clone()
    }
}

fn write_incomplete(report: &AuditReport, paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    let incomplete: Vec<_> = report.repositories.iter().filter(|r| !r.complete).collect();
    if incomplete.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        paint.bold("Repositories not read in full (keys may be missing)")
    )?;
    for r in incomplete {
        let notes = super::notes_of(r);
        writeln!(out, "  {}: {}", clean(&r.path), clean(&notes))?;
    }
    Ok(())
}

/// Repository text made safe for a terminal (see `sanitize::terminal`).
fn clean(text: &str) -> String {
    Paint::clean(text)
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    fn render(report: &AuditReport, color: bool) -> String {
        fixture::render(report, crate::audit::AuditFormat::Human, color)
    }

    #[test]
    fn no_colour_codes_without_colour() {
        let mut report = fixture::report();
        if let Some(s) = report.keys[0].introduced.as_mut() {
            s.author = Some("evil\x1b[2J name".into());
        }
        let text = render(&report, false);
        assert!(!text.contains('\x1b'), "{text}");
        assert!(text.contains("evil?[2J name"), "{text}");
    }

    #[test]
    fn colours_risks_when_asked() {
        let text = render(&fixture::report(), true);
        assert!(text.contains("\x1b[1;31mcritical"), "{text}");
        assert!(text.contains("\x1b[33m3. medium") || text.contains("\x1b[33mmedium"));
    }

    #[test]
    fn shows_the_table_details_and_checklist() {
        let text = render(&fixture::report(), false);
        let header = text
            .lines()
            .find(|l| l.starts_with("RISK"))
            .expect("header");
        for h in HEADERS {
            assert!(header.contains(h), "{header}");
        }
        assert!(
            text.contains("Audited 3 repositories (2 with keys) and found 2 keys: 1 live, 1 dead")
        );
        assert!(text.contains("1a2b3c4d5e6f  <script>alert(1)</script>  api:conf|ig/a|b.env:3"));
        assert!(!text.contains(fixture::SHA_A), "short commit ids only");
        assert!(text.contains("on branches   api:main, web:feat/<x>"));
        assert!(text.contains("     2. Replace it; load it with `export OPENAI_API_KEY=…`."));
        assert!(text.contains("Keys on allow-marked lines (listed, not hidden)"));
        assert!(text.contains("introduced    in no commit (only in a work tree)"));
        assert!(text.contains("  web: shallow clone | <history> cut"));
        assert!(!text.contains("--verify"));
        let critical = text.find("critical").expect("critical");
        assert!(
            critical < text.find("sk-admin").expect("dead key"),
            "order kept"
        );
    }

    #[test]
    fn says_when_verdicts_were_not_checked() {
        let text = render(&fixture::unverified(), false);
        assert!(text.contains(
            "run keyhound audit --verify to ask each provider whether the keys still work"
        ));
        assert!(text.contains("2 not checked"));
    }

    #[test]
    fn says_plainly_when_there_are_no_keys() {
        let text = render(&fixture::empty(), false);
        assert!(text.contains("No keys found in 3 repositories."), "{text}");
        assert!(!text.contains("RISK"));
    }
}
