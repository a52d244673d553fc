//! The audit as one self-contained HTML page: inline style, no script, nothing fetched. A header
//! with the summary numbers, a timeline of each key's exposure on a shared date axis, the key
//! table and each key's details with its checklist. Every piece of text is escaped.

use super::forge::Links;
use super::{
    DetailStyle, NOT_VERIFIED, at_head_label, day, details, kind_label, looked_for, megabytes,
    provenance, short_sha, sighting_day, status_label, unverified,
};
use crate::audit::model::{
    AuditReport, KeyEntry, Location, RepoKey, Risk, Sighting, Source, Summary,
};
use crate::report::plural;
use crate::verify::clock::rfc3339;
use std::io::{self, Write};

/// Locations listed per key; the JSON report has them all.
const LOCATIONS_SHOWN: usize = 20;

const STYLE: &str = r#"
:root{--fg:#1f2328;--bg:#fff;--muted:#59636e;--line:#d1d9e0;--panel:#f6f8fa;
--critical:#b42318;--high:#d92d20;--medium:#b54708;--low:#175cd3;--none:#667085}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;
--line:#3d444d;--panel:#151b23;--critical:#f97066;--high:#fda29b;--medium:#fdb022;
--low:#84caff;--none:#98a2b3}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:78rem;padding:1.5rem;font:15px/1.5 system-ui,-apple-system,
"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
h1{margin:0;font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid var(--line)}
code{font:0.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.meta,.hint{color:var(--muted)}
.lead{font-size:1.15rem}
.notice{border-left:4px solid var(--medium);background:var(--panel);padding:.6rem 1rem}
.cards{display:flex;flex-wrap:wrap;gap:.6rem;margin:1rem 0}
.card{border:1px solid var(--line);border-radius:6px;padding:.5rem .9rem;min-width:8.5rem;
background:var(--panel)}
.card .n{display:block;font-size:1.5rem;font-weight:600}.card .l{color:var(--muted);font-size:.85rem}
.card.alert .n{color:var(--critical)}
table{border-collapse:collapse;width:100%;margin:.8rem 0}
th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
th{font-size:.85rem;color:var(--muted)}td.num{text-align:right}
.risk{font-weight:600;text-transform:uppercase;font-size:.8rem;letter-spacing:.03em}
.risk-critical{color:var(--critical)}.risk-high{color:var(--high)}
.risk-medium{color:var(--medium)}.risk-low{color:var(--low)}.risk-none{color:var(--none)}
.status-live{color:var(--critical);font-weight:600}
.tl{margin:1rem 0}
.tl-row{display:grid;grid-template-columns:minmax(10rem,18rem) 1fr minmax(9rem,13rem);
gap:.8rem;align-items:center;padding:.2rem 0}
.tl-label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.tl-track{position:relative;height:1rem;background:var(--panel);border-radius:3px}
.tl-bar{position:absolute;top:0;bottom:0;min-width:3px;border-radius:3px;background:var(--none)}
.tl-bar.open{border-right:3px dashed var(--fg)}
.tl-bar.risk-critical{background:var(--critical)}.tl-bar.risk-high{background:var(--high)}
.tl-bar.risk-medium{background:var(--medium)}.tl-bar.risk-low{background:var(--low)}
.tl-dates{font-size:.85rem;color:var(--muted)}
.tl-axis .tl-track{background:none;height:1.4rem;border-top:1px solid var(--line)}
.tick{position:absolute;top:.2rem;font-size:.75rem;color:var(--muted);transform:translateX(-50%);
white-space:nowrap}.tick.first{transform:none}.tick.last{transform:translateX(-100%)}
.detail{border:1px solid var(--line);border-radius:6px;padding:.2rem 1rem .8rem;margin:1rem 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{color:var(--muted)}dd{margin:0}
ol.checklist{padding-left:1.4rem}ol.checklist li{margin:.25rem 0}
@media print{.detail{break-inside:avoid}body{max-width:none}}
"#;

/// Writes `report` as an HTML page.
pub fn write(report: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    write_head(report, out)?;
    write_header(report, out)?;
    let links = Links::of(report);
    if !report.keys.is_empty() {
        write_timeline(report, out)?;
        writeln!(out, "<section id=\"keys\">\n<h2>Keys</h2>")?;
        write_keys(&report.keys, "key", "key", &links, out)?;
        writeln!(out, "</section>")?;
    }
    if !report.suppressed.is_empty() {
        writeln!(out, "<section id=\"suppressed\">")?;
        writeln!(
            out,
            "<h2>Keys on allow-marked lines (listed, not hidden)</h2>"
        )?;
        write_keys(&report.suppressed, "suppressed-key", "allowed", &links, out)?;
        writeln!(out, "</section>")?;
    }
    write_incomplete(report, out)?;
    writeln!(out, "</body>\n</html>")
}

fn write_head(report: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    let title = format!(
        "keyhound audit: {} in {}",
        plural(s.keys, "key", "keys"),
        plural(s.repositories, "repository", "repositories")
    );
    writeln!(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>")?;
    writeln!(out, "<meta charset=\"utf-8\">")?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(out, "<title>{}</title>", escape_html(&title))?;
    writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>")
}

/// The title, the lead sentence, the notice on unverified keys and the summary cards.
fn write_header(report: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    writeln!(out, "<header>\n<h1>keyhound audit</h1>")?;
    writeln!(
        out,
        "<p class=\"meta\">{}</p>",
        escape_html(&provenance(report))
    )?;
    let repos = plural(s.repositories, "repository", "repositories");
    let lead = if s.keys == 0 {
        format!("No keys found in {repos}.")
    } else {
        let keys = plural(s.keys, "key", "keys");
        format!(
            "{keys} found in {repos}: {} live, {} at HEAD.",
            s.live, s.at_head
        )
    };
    writeln!(out, "<p class=\"lead\">{}</p>", escape_html(&lead))?;
    writeln!(
        out,
        "<p class=\"meta\" id=\"providers\">{}</p>",
        escape_html(&looked_for(report))
    )?;
    if unverified(report) {
        writeln!(
            out,
            "<p class=\"notice\" id=\"not-verified\">{}</p>",
            escape_html(NOT_VERIFIED)
        )?;
    }
    write_cards(s, out)?;
    writeln!(out, "</header>")
}

fn write_cards(s: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let cards = [
        (
            "repositories",
            s.repositories.to_string(),
            "repositories audited",
        ),
        (
            "repositories-with-keys",
            s.repositories_with_keys.to_string(),
            "with keys",
        ),
        ("keys", s.keys.to_string(), "keys"),
        ("live", s.live.to_string(), "live"),
        ("dead", s.dead.to_string(), "dead"),
        ("unknown", s.unknown.to_string(), "unknown"),
        ("not-checked", s.not_checked.to_string(), "not checked"),
        ("at-head", s.at_head.to_string(), "at HEAD"),
        (
            "suppressed",
            s.suppressed.to_string(),
            "on allow-marked lines",
        ),
        ("commits", s.commits_scanned.to_string(), "commits scanned"),
        ("blobs", s.blobs_scanned.to_string(), "blobs scanned"),
        ("", megabytes(s.bytes_scanned), "scanned"),
        (
            "incomplete",
            s.incomplete.to_string(),
            "incomplete repositories",
        ),
    ];
    writeln!(out, "<div class=\"cards\">")?;
    for (id, n, label) in cards {
        let alert = matches!(id, "live" | "at-head" | "incomplete") && n != "0";
        let id = if id.is_empty() {
            String::new()
        } else {
            format!(" id=\"summary-{id}\"")
        };
        writeln!(
            out,
            "<div class=\"card{}\"><span class=\"n\"{id}>{}</span><span class=\"l\">{label}</span></div>",
            if alert { " alert" } else { "" },
            escape_html(&n),
        )?;
    }
    writeln!(out, "</div>")
}

/// The span of days the timeline's axis covers.
struct Axis {
    first: i64,
    last: i64,
}

impl Axis {
    /// From the earliest introduction to the report's date (or the latest sighting after it).
    fn of(report: &AuditReport, windows: &[Option<(i64, i64)>]) -> Option<Axis> {
        let spans = windows.iter().flatten();
        let first = spans.clone().map(|w| w.0).min()?;
        let last = spans.map(|w| w.1).chain(days(&report.generated_at)).max()?;
        Some(Axis {
            first,
            last: last.max(first + 1),
        })
    }

    /// Where `day` falls, in percent of the axis.
    fn percent(&self, day: i64) -> f64 {
        (day - self.first) as f64 * 100.0 / (self.last - self.first) as f64
    }
}

/// The days a key was exposed: introduced to last seen, or to the report's date while at HEAD.
fn window(key: &KeyEntry, today: Option<i64>) -> Option<(i64, i64)> {
    let start = days(key.introduced.as_ref()?.date.as_deref()?)?;
    let seen = key
        .last_seen
        .as_ref()
        .and_then(|s| days(s.date.as_deref()?))
        .unwrap_or(start);
    let end = if key.at_head {
        today.unwrap_or(seen)
    } else {
        seen
    };
    Some((start, end.max(start)))
}

fn write_timeline(report: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    let today = days(&report.generated_at);
    let windows: Vec<Option<(i64, i64)>> = report.keys.iter().map(|k| window(k, today)).collect();
    writeln!(out, "<section id=\"timeline\">\n<h2>Exposure timeline</h2>")?;
    writeln!(
        out,
        "<p class=\"hint\">Each bar runs from the commit that introduced the key to the last \
         commit holding it, or to this report's date (dashed end) while the key is at HEAD.</p>"
    )?;
    let Some(axis) = Axis::of(report, &windows) else {
        writeln!(out, "<p>No key has a commit date to draw.</p>\n</section>")?;
        return Ok(());
    };
    writeln!(out, "<div class=\"tl\">")?;
    for (i, (key, w)) in report.keys.iter().zip(&windows).enumerate() {
        write_bar(i + 1, key, *w, &axis, out)?;
    }
    write_ticks(&axis, out)?;
    writeln!(out, "</div>\n</section>")
}

fn write_bar(
    n: usize,
    key: &KeyEntry,
    window: Option<(i64, i64)>,
    axis: &Axis,
    out: &mut dyn Write,
) -> io::Result<()> {
    let label = format!("{n}. {} {}", kind_label(key), key.secret);
    writeln!(
        out,
        "<div class=\"tl-row\"><div class=\"tl-label\"><a href=\"#key-{n}\">{}</a></div>",
        escape_html(&label)
    )?;
    let (bar, dates) = match window {
        Some((start, end)) => {
            let open = if key.at_head { " open" } else { "" };
            let left = axis.percent(start);
            let width = axis.percent(end) - left;
            let to = if key.at_head {
                "now (at HEAD)".to_string()
            } else {
                date_of(end)
            };
            let dates = format!("{} → {to}", date_of(start));
            let bar = format!(
                "<div class=\"tl-bar {}{open}\" style=\"left:{left:.2}%;width:{width:.2}%\" title=\"{}\"></div>",
                risk_class(key.risk),
                escape_html(&dates)
            );
            (bar, dates)
        }
        None => (String::new(), "no commit date (work tree only)".to_string()),
    };
    writeln!(
        out,
        "<div class=\"tl-track\">{bar}</div><div class=\"tl-dates\">{}</div></div>",
        escape_html(&dates)
    )
}

/// Five dates along the axis.
fn write_ticks(axis: &Axis, out: &mut dyn Write) -> io::Result<()> {
    write!(
        out,
        "<div class=\"tl-row tl-axis\"><div></div><div class=\"tl-track\">"
    )?;
    for i in 0..=4_i64 {
        let d = axis.first + (axis.last - axis.first) * i / 4;
        let class = match i {
            0 => " first",
            4 => " last",
            _ => "",
        };
        write!(
            out,
            "<span class=\"tick{class}\" style=\"left:{:.2}%\">{}</span>",
            axis.percent(d),
            date_of(d)
        )?;
    }
    writeln!(out, "</div><div></div></div>")
}

/// The key table, then each key's details. `class` marks the rows, `anchor` prefixes the ids.
fn write_keys(
    keys: &[KeyEntry],
    class: &str,
    anchor: &str,
    links: &Links,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "<table class=\"key-table\">\n<thead><tr><th>#</th><th>Risk</th><th>Kind</th><th>Key</th>\
         <th>Verdict</th><th>At HEAD</th><th>Location</th><th>Introduced</th><th>Last seen</th><th>Repos</th></tr></thead>\n<tbody>"
    )?;
    for (i, key) in keys.iter().enumerate() {
        write_row(i + 1, key, class, anchor, links, out)?;
    }
    writeln!(out, "</tbody>\n</table>")?;
    for (i, key) in keys.iter().enumerate() {
        write_details(i + 1, key, anchor, links, out)?;
    }
    Ok(())
}

fn write_row(
    n: usize,
    key: &KeyEntry,
    class: &str,
    anchor: &str,
    links: &Links,
    out: &mut dyn Write,
) -> io::Result<()> {
    let status = key.verification.status;
    writeln!(
        out,
        "<tr class=\"{class}\" data-fingerprint=\"{}\" data-risk=\"{}\" data-status=\"{}\" data-at-head=\"{}\">",
        escape_html(&key.fingerprint),
        key.risk,
        status.as_str(),
        key.at_head
    )?;
    writeln!(
        out,
        "<td class=\"num\"><a href=\"#{anchor}-{n}\">{n}</a></td><td>{}</td><td>{}</td><td><code>{}</code></td>",
        risk_span(key.risk),
        escape_html(&kind_label(key)),
        escape_html(&key.secret)
    )?;
    writeln!(
        out,
        "<td class=\"status-{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>\n</tr>",
        status.as_str(),
        escape_html(&status_label(status)),
        escape_html(&at_head_label(key)),
        location_cell(&key.locations, links),
        date_cell(key.introduced.as_ref()),
        date_cell(key.last_seen.as_ref()),
        key.repositories.len()
    )
}

/// The key's first place (`repo:path:line`, linked on a known forge), and how many more.
fn location_cell(locations: &[Location], links: &Links) -> String {
    let Some(l) = locations.first() else {
        return "—".to_string();
    };
    let mut cell = place_html(l, links);
    if locations.len() > 1 {
        cell.push_str(&format!(" +{} more", locations.len() - 1));
    }
    cell
}

/// `repo:path:line` of a place (a commit message: `repo: message of 1a2b3c4d5e`), linked to the
/// file (or commit) on a known forge.
fn place_html(l: &Location, links: &Links) -> String {
    let commit = l.commit.as_deref().unwrap_or("");
    let (text, url) = match l.source {
        Source::CommitMessage => (
            format!("{}: message of {}", l.repository, short_sha(commit)),
            links.commit(&l.repository, commit),
        ),
        Source::History => (
            format!("{}:{}:{}", l.repository, l.path, l.line),
            links.file(&l.repository, commit, &l.path, l.line),
        ),
        Source::Worktree => (format!("{}:{}:{}", l.repository, l.path, l.line), None),
    };
    link(url, &format!("<code>{}</code>", escape_html(&text)))
}

/// `inner` (HTML) as a link to `url` when there is one.
fn link(url: Option<String>, inner: &str) -> String {
    match url {
        Some(u) => format!(
            "<a href=\"{}\" rel=\"noopener noreferrer\">{inner}</a>",
            escape_html(&u)
        ),
        None => inner.to_string(),
    }
}

/// A sighting's day, with its full commit id as the title.
fn date_cell(s: Option<&Sighting>) -> String {
    match s {
        Some(s) => format!(
            "<span title=\"{}\">{}</span>",
            escape_html(&s.commit),
            escape_html(sighting_day(s).unwrap_or("date unknown"))
        ),
        None => "—".to_string(),
    }
}

fn write_details(
    n: usize,
    key: &KeyEntry,
    anchor: &str,
    links: &Links,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "<section class=\"detail\" id=\"{anchor}-{n}\">\n<h3>{n}. {} {} <code>{}</code></h3>\n<dl>",
        risk_span(key.risk),
        escape_html(&kind_label(key)),
        escape_html(&key.secret)
    )?;
    for (label, value) in details(key, &Html(links)) {
        writeln!(out, "<dt>{label}</dt><dd>{value}</dd>")?;
    }
    writeln!(out, "</dl>")?;
    write_locations(&key.locations, links, out)?;
    if !key.remediation.is_empty() {
        writeln!(out, "<h4>What to do</h4>\n<ol class=\"checklist\">")?;
        for step in &key.remediation {
            writeln!(
                out,
                "<li><label><input type=\"checkbox\"> {}</label></li>",
                step_html(step)
            )?;
        }
        writeln!(out, "</ol>")?;
    }
    writeln!(out, "</section>")
}

/// Details as HTML, commits linked on a known forge.
struct Html<'a>(&'a Links);

impl DetailStyle for Html<'_> {
    const CAPITALISED: bool = true;
    fn text(&self, text: &str) -> String {
        escape_html(text)
    }
    fn code(&self, text: &str) -> String {
        format!("<code>{}</code>", escape_html(text))
    }
    fn sighting(&self, s: Option<&Sighting>) -> String {
        sighting(s, self.0)
    }
    fn repository(&self, r: &RepoKey) -> String {
        repository(r)
    }
}

/// "api (https://…/api.git)": a remote is text, never a link.
fn repository(r: &RepoKey) -> String {
    let mut text = escape_html(&r.path);
    if let Some(remote) = &r.remote {
        text.push_str(&format!(" (<code>{}</code>)", escape_html(remote)));
    }
    if r.in_worktree {
        text.push_str(", also in the work tree");
    }
    text
}

/// "2024-01-02 · 1a2b3c4d5e6f (the full id as its title) · author · api:src/a.env:3".
fn sighting(s: Option<&Sighting>, links: &Links) -> String {
    let Some(s) = s else {
        return "in no commit (only in a work tree)".to_string();
    };
    let mut parts = vec![
        escape_html(sighting_day(s).unwrap_or("date unknown")),
        link(
            links.commit(&s.repository, &s.commit),
            &format!(
                "<code title=\"{}\">{}</code>",
                escape_html(&s.commit),
                escape_html(short_sha(&s.commit))
            ),
        ),
    ];
    if let Some(a) = &s.author {
        parts.push(escape_html(a));
    }
    let place = format!("{}:{}:{}", s.repository, s.path, s.line);
    parts.push(format!("<code>{}</code>", escape_html(&place)));
    parts.join(" · ")
}

fn write_locations(locations: &[Location], links: &Links, out: &mut dyn Write) -> io::Result<()> {
    if locations.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "<table class=\"locations\">\n<thead><tr><th>Repository</th><th>Where</th><th>Place</th>\
         <th>Commit</th><th>Commits</th><th>At HEAD</th></tr></thead>\n<tbody>"
    )?;
    for l in locations.iter().take(LOCATIONS_SHOWN) {
        let yes_no = |b: Option<bool>| match b {
            Some(true) => "yes",
            Some(false) => "no",
            None => "—",
        };
        let allowed = if l.allowed { " (allow-marked)" } else { "" };
        writeln!(
            out,
            "<tr><td>{}</td><td>{}{allowed}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape_html(&l.repository),
            l.source.as_str(),
            link(
                (l.source == Source::History)
                    .then(|| links.file(&l.repository, l.commit.as_deref()?, &l.path, l.line))
                    .flatten(),
                &format!(
                    "<code>{}</code>",
                    escape_html(&format!("{}:{}:{}", l.path, l.line, l.column))
                )
            ),
            link(
                l.commit
                    .as_deref()
                    .and_then(|c| links.commit(&l.repository, c)),
                &format!(
                    "<code>{}</code>",
                    escape_html(l.commit.as_deref().map_or("—", short_sha))
                )
            ),
            l.commits.map_or("—".to_string(), |n| n.to_string()),
            yes_no(l.at_head)
        )?;
    }
    writeln!(out, "</tbody>\n</table>")?;
    if locations.len() > LOCATIONS_SHOWN {
        let more = (locations.len() - LOCATIONS_SHOWN) as u64;
        writeln!(
            out,
            "<p class=\"hint\">… and {} not shown (the JSON report lists them all).</p>",
            plural(more, "place", "places")
        )?;
    }
    Ok(())
}

/// A remediation step: its backticked parts as `<code>`, all of it escaped.
fn step_html(step: &str) -> String {
    super::step(
        step,
        |c| format!("<code>{}</code>", escape_html(c)),
        escape_html,
    )
}

fn write_incomplete(report: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    let incomplete: Vec<_> = report.repositories.iter().filter(|r| !r.complete).collect();
    if incomplete.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "<section id=\"incomplete\">\n<h2>Repositories not read in full (keys may be missing)</h2>\n<ul>"
    )?;
    for r in incomplete {
        let notes = super::notes_of(r);
        writeln!(
            out,
            "<li><strong>{}</strong>: {}</li>",
            escape_html(&r.path),
            escape_html(&notes)
        )?;
    }
    writeln!(out, "</ul>\n</section>")
}

fn risk_span(risk: Risk) -> String {
    format!("<span class=\"risk {}\">{risk}</span>", risk_class(risk))
}

/// `risk-critical` …
fn risk_class(risk: Risk) -> String {
    format!("risk-{risk}")
}

/// Days since 1970-01-01 of a date starting `YYYY-MM-DD`, or None.
fn days(date: &str) -> Option<i64> {
    let d = day(date);
    let mut parts = d.splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let dd: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&dd) {
        return None;
    }
    Some(days_from_civil(y, m, dd))
}

/// Howard Hinnant's day count of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` of a day count.
fn date_of(days: i64) -> String {
    day(&rfc3339(days.saturating_mul(86_400))).to_string()
}

/// Text made safe anywhere in HTML, attribute values included.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    fn render(report: &AuditReport) -> String {
        fixture::render(report, crate::audit::AuditFormat::Html, false)
    }

    /// The text of the element with `id`.
    fn text_of<'a>(html: &'a str, id: &str) -> &'a str {
        let open = format!("id=\"{id}\">");
        let start = html.find(&open).expect(id) + open.len();
        let len = html[start..].find('<').expect("closed");
        &html[start..start + len]
    }

    #[test]
    fn is_self_contained_and_script_free() {
        let html = render(&fixture::report());
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<meta charset=\"utf-8\">"));
        assert!(html.contains("<title>keyhound audit: 2 keys in 3 repositories</title>"));
        assert!(!html.to_lowercase().contains("<script"), "{html}");
        for external in ["src=", "href=\"http", "href=\"//", "url(", "@import"] {
            assert!(!html.contains(external), "{external}");
        }
        assert!(html.ends_with("</html>\n"));
    }

    #[test]
    fn repository_text_is_escaped() {
        let html = render(&fixture::report());
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("api:conf|ig/a|b.env:3"));
        assert!(html.contains("web:feat/&lt;x&gt;"));
        assert!(html.contains("the key works | &lt;b&gt;"));
        assert!(!html.contains("<b>"));
        assert_eq!(escape_html("a&<>\"'"), "a&amp;&lt;&gt;&quot;&#39;");
    }

    #[test]
    fn summary_ids_hold_the_numbers() {
        let html = render(&fixture::report());
        let expect = [
            ("summary-repositories", "3"),
            ("summary-keys", "2"),
            ("summary-live", "1"),
            ("summary-dead", "1"),
            ("summary-unknown", "0"),
            ("summary-not-checked", "0"),
            ("summary-at-head", "1"),
            ("summary-suppressed", "1"),
        ];
        for (id, n) in expect {
            assert_eq!(text_of(&html, id), n, "{id}");
        }
    }

    #[test]
    fn rows_carry_machine_readable_data() {
        let html = render(&fixture::report());
        assert!(html.contains(
            "<tr class=\"key\" data-fingerprint=\"fp-live-0001\" data-risk=\"critical\" data-status=\"live\" data-at-head=\"true\">"
        ));
        assert!(html.contains(
            "<tr class=\"key\" data-fingerprint=\"fp-dead-0002\" data-risk=\"none\" data-status=\"dead\" data-at-head=\"false\">"
        ));
        assert!(html.contains("<tr class=\"suppressed-key\" data-fingerprint=\"fp-allowed-0003\""));
        assert_eq!(html.matches("<tr class=\"key\"").count(), 2);
        let full = format!("<code title=\"{}\">1a2b3c4d5e6f</code>", fixture::SHA_A);
        assert!(html.contains(&full), "full commit ids as titles");
    }

    #[test]
    fn timeline_spans_each_exposure() {
        let html = render(&fixture::report());
        // 2022-06-15 to 2024-05-01: 686 days. The live key: 2023-03-01 (259) to the report date.
        assert!(
            html.contains("style=\"left:37.76%;width:62.24%\""),
            "{html}"
        );
        assert!(html.contains("2023-03-01 → now (at HEAD)"));
        assert!(html.contains("style=\"left:0.00%;width:0.00%\""));
        assert!(html.contains("2022-06-15 → 2022-06-15"));
        assert!(
            html.contains(">2024-05-01</span>"),
            "axis ends at the report date"
        );
    }

    #[test]
    fn missing_dates_are_drawn_without_bars() {
        let mut report = fixture::report();
        for k in &mut report.keys {
            k.introduced = None;
            k.last_seen = None;
        }
        let html = render(&report);
        assert!(html.contains("No key has a commit date to draw."));
        assert!(html.contains("in no commit (only in a work tree)"));
        report.keys[1].introduced = fixture::report().keys[1].introduced.clone();
        let html = render(&report);
        assert!(html.contains("no commit date (work tree only)"));
    }

    #[test]
    fn locations_are_listed_up_to_a_cap() {
        let mut report = fixture::report();
        let place = Location {
            repository: "api".into(),
            source: Source::History,
            path: "<p>.env".into(),
            line: 3,
            column: 1,
            commit: Some(fixture::SHA_A.into()),
            commits: Some(2),
            at_head: Some(true),
            allowed: false,
        };
        report.keys[0].locations = vec![place; LOCATIONS_SHOWN + 2];
        let html = render(&report);
        assert_eq!(
            html.matches("<code>&lt;p&gt;.env:3:1</code>").count(),
            LOCATIONS_SHOWN
        );
        assert!(html.contains("… and 2 places not shown"));
    }

    #[test]
    fn checklist_keeps_code() {
        let html = render(&fixture::report());
        assert!(html.contains(
            "<li><label><input type=\"checkbox\"> Purge it: <code>git filter-repo --replace-text secrets.txt</code>.</label></li>"
        ));
        assert!(html.contains("Revoke the key at the provider&#39;s page."));
    }

    #[test]
    fn says_when_verdicts_were_not_checked() {
        let html = render(&fixture::unverified());
        assert!(html.contains(
            "run keyhound audit --verify to ask each provider whether the keys still work"
        ));
        assert_eq!(text_of(&html, "summary-not-checked"), "2");
        assert!(!render(&fixture::report()).contains("not-verified"));
    }

    #[test]
    fn says_plainly_when_there_are_no_keys() {
        let html = render(&fixture::empty());
        assert!(html.contains("No keys found in 3 repositories."));
        assert!(!html.contains("id=\"timeline\""));
        assert_eq!(text_of(&html, "summary-keys"), "0");
    }

    #[test]
    fn dates_count_days() {
        assert_eq!(days("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(days("2024-03-01"), Some(19_783));
        assert_eq!(days("garbage"), None);
        assert_eq!(date_of(19_783), "2024-03-01");
    }
}
