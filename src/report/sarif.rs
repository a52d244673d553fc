//! SARIF 2.1.0 for GitHub code scanning: one run, one result per finding, repo-relative URIs
//! under `%SRCROOT%`, redacted snippets only (even with `--show-secrets`: SARIF gets uploaded),
//! and GitHub's limit of 25,000 results and 10 MB gzipped kept, riskiest first.

use super::sarif_model::{
    ArtifactLocation, BaseIds, ContextRegion, Driver, Help, Id, Level, Location, Log,
    PartialFingerprints, PhysicalLocation, Region, ReportingDescriptor, ResultProperties,
    RuleProperties, Run, RunProperties, SarifResult, Text, Tool, Uri,
};
use super::{Reporter, ScanReport};
use crate::finding::{Decoding, Finding, GitInfo, GitObject, sha256};
use crate::rules::Rule;
use crate::verify::{Status, Verification};
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// GitHub code scanning keeps at most this many results per run.
pub const MAX_RESULTS: usize = 25_000;
/// GitHub rejects uploads larger than this, gzipped.
const MAX_GZIPPED: usize = 10 << 20;
/// Version tag hashed into every `partialFingerprints` value.
const LOCATION_TAG: &[u8] = b"keyhound-sarif-location-v1";

/// SARIF 2.1.0.
pub struct Sarif;

impl Reporter for Sarif {
    fn finish(&self, report: &ScanReport<'_>, out: &mut dyn Write) -> io::Result<()> {
        write(report, out)
    }
}

fn write(report: &ScanReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let ids = location_ids(&report.findings);
    let mut kept: Vec<(&Finding, &str)> = report
        .findings
        .iter()
        .zip(ids.iter().map(String::as_str))
        .collect();
    kept.sort_by(|(a, _), (b, _)| {
        let sev = |f: &Finding| report.rule(f).spec.severity;
        let rank = |f: &Finding| level_rank(level(report.verdict(f)));
        rank(a)
            .cmp(&rank(b))
            .then_with(|| sev(b).total_cmp(&sev(a)))
            .then_with(|| a.sort_key().cmp(&b.sort_key()))
    });
    kept.truncate(MAX_RESULTS);
    loop {
        let doc = document(report, &kept);
        let text = serde_json::to_vec_pretty(&doc)?;
        if kept.len() <= 1 || gzipped_len(&text)? <= MAX_GZIPPED {
            out.write_all(&text)?;
            return writeln!(out);
        }
        kept.truncate(kept.len() / 2);
    }
}

/// The `partialFingerprints` value of each finding (in report order): SHA-256 over the key's
/// fingerprint, where it is (path and archive member) and which occurrence of that key there it
/// is. GitHub merges results whose fingerprints are equal, so the same key in three files must
/// give three values; lines are left out so that the value survives edits above the key.
fn location_ids(findings: &[Finding]) -> Vec<String> {
    let mut seen: HashMap<(&str, Option<&str>, &str), u64> = HashMap::new();
    findings
        .iter()
        .map(|f| {
            let place = (
                f.origin.path.as_str(),
                f.origin.member.as_deref(),
                f.fingerprint.as_str(),
            );
            let n = seen.entry(place).or_default();
            *n += 1;
            let mut data = Vec::new();
            for part in [
                LOCATION_TAG,
                f.fingerprint.as_bytes(),
                f.origin.path.as_bytes(),
                f.origin.member.as_deref().unwrap_or("").as_bytes(),
                n.to_string().as_bytes(),
            ] {
                data.extend_from_slice(part);
                data.push(0);
            }
            let digest = sha256(&data);
            let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
            format!("{hex}:{n}")
        })
        .collect()
}

/// A result's level: `error` for a live key (and for every key when nothing was verified),
/// `warning` for one that could not be verified, `note` for a dead one.
fn level(verdict: Option<&Verification>) -> &'static str {
    match verdict.map(|v| v.status) {
        None | Some(Status::Live) => "error",
        Some(Status::Unknown | Status::NotChecked) => "warning",
        Some(Status::Dead) => "note",
    }
}

/// Riskiest first, for truncation.
fn level_rank(level: &str) -> u8 {
    match level {
        "error" => 0,
        "warning" => 1,
        _ => 2,
    }
}

fn gzipped_len(bytes: &[u8]) -> io::Result<usize> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes)?;
    Ok(gz.finish()?.len())
}

fn document(report: &ScanReport<'_>, kept: &[(&Finding, &str)]) -> Log {
    let mut sorted = kept.to_vec();
    sorted.sort_by(|(a, _), (b, _)| a.sort_key().cmp(&b.sort_key()));
    let cwd = std::env::current_dir().ok();
    let secrets = line_secrets(&report.findings);
    let results = sorted
        .iter()
        .map(|(f, id)| {
            let context = redact_context(f, &secrets);
            result(report, f, id, &context, cwd.as_deref())
        })
        .collect();
    let run = Run {
        automation_details: report.automation_id.clone().map(|id| Id { id }),
        column_kind: "unicodeCodePoints",
        original_uri_base_ids: src_root().map(|uri| BaseIds {
            src_root: Uri { uri },
        }),
        properties: run_properties(report, kept.len()),
        results,
        tool: Tool {
            driver: Driver {
                information_uri: "https://github.com/keyhound/keyhound",
                name: "keyhound",
                rules: report.rules.rules.iter().map(rule).collect(),
                semantic_version: env!("CARGO_PKG_VERSION"),
            },
        },
    };
    Log {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        runs: [run],
        version: "2.1.0",
    }
}

/// The providers whose keys were looked for (a run without results says nothing of others),
/// and whether results were dropped to fit GitHub's limits.
fn run_properties(report: &ScanReport<'_>, kept: usize) -> RunProperties {
    let truncated = kept < report.findings.len();
    RunProperties {
        note: truncated.then_some(
            "GitHub code scanning keeps at most 25,000 results and 10 MB gzipped per upload: \
             the riskiest were kept. Use --format json for the full list.",
        ),
        providers: report.stats.providers.clone(),
        results_kept: truncated.then_some(kept),
        results_total: truncated.then_some(report.findings.len()),
        truncated: truncated.then_some(true),
    }
}

fn rule(r: &Rule) -> ReportingDescriptor {
    let s = &r.spec;
    let mut help = format!("{}\n\n{}", s.description, s.remediation.trim());
    if !s.references.is_empty() {
        help.push_str("\n\nReferences:\n");
        for reference in &s.references {
            help.push_str(&format!("- {reference}\n"));
        }
    }
    ReportingDescriptor {
        default_configuration: Level { level: "error" },
        full_description: Text {
            text: format!(
                "{}. Leaked keys let anyone use the account they belong to.",
                s.description
            ),
        },
        help: Help {
            markdown: help.clone(),
            text: help,
        },
        help_uri: s
            .references
            .first()
            .cloned()
            .unwrap_or_else(|| "https://github.com/keyhound/keyhound".into()),
        id: s.id.clone(),
        name: s.name.clone(),
        properties: RuleProperties {
            precision: "high",
            security_severity: format!("{:.1}", s.severity),
            tags: ["security", "secret"],
        },
        short_description: Text {
            text: s.description.clone(),
        },
    }
}

/// Where a finding's context comes from: the blob and the line.
type LineKey<'a> = (&'a str, Option<&'a str>, u64);

/// The keys found on each line, for `redact_context`.
fn line_secrets(findings: &[Finding]) -> HashMap<LineKey<'_>, Vec<&Finding>> {
    let mut map: HashMap<LineKey<'_>, Vec<&Finding>> = HashMap::new();
    for f in findings {
        let key = (f.origin.path.as_str(), f.origin.member.as_deref(), f.line);
        map.entry(key).or_default().push(f);
    }
    map
}

/// The finding's context with every key found on its line redacted. With `--show-secrets` the
/// scanner puts keys whole into contexts, and SARIF, which gets uploaded, must never hold one.
fn redact_context(f: &Finding, secrets: &HashMap<LineKey<'_>, Vec<&Finding>>) -> String {
    let mut context = f.context.clone();
    let key = (f.origin.path.as_str(), f.origin.member.as_deref(), f.line);
    let mut on_line: Vec<&Finding> = secrets.get(&key).cloned().unwrap_or_default();
    on_line.sort_by_key(|g| std::cmp::Reverse(g.secret.expose().len()));
    for g in on_line {
        let whole = g.secret.expose();
        if !whole.is_empty() && context.contains(whole) {
            context = context.replace(whole, &g.secret.redacted());
        }
    }
    context
}

fn result(
    report: &ScanReport<'_>,
    f: &Finding,
    location_id: &str,
    context: &str,
    cwd: Option<&Path>,
) -> SarifResult {
    let r = report.rule(f);
    let index = f.rule;
    let redacted = f.secret.redacted();
    let mut where_ = String::new();
    if let Some(member) = &f.origin.member {
        where_ = format!(" in archive member {member}, line {}", f.line);
    } else if f.decoded.iter().any(|d| d.is_stream()) {
        where_ = format!(" in the decompressed content, line {}", f.line);
    }
    let located_inside = !where_.is_empty();
    let encodings = f.decoded.iter().copied().filter(|d| !d.is_stream());
    let encodings = Decoding::join(encodings, " in ");
    if !encodings.is_empty() {
        where_.push_str(&format!(" (in {encodings})"));
    }
    if let Some(g) = &f.git {
        where_.push_str(&history_note(g));
    }
    let verdict = report.verdict(f);
    let checked = match verdict {
        Some(v) => format!("Verified {}: ", v.label(report.now)),
        None => String::new(),
    };
    let message = format!(
        "{checked}{} {redacted} found{where_}. Revoke it at {}, replace it, and purge it from history.",
        r.spec.description,
        r.spec.revoke_url.as_deref().unwrap_or("the provider"),
    );
    SarifResult {
        level: level(verdict),
        locations: [Location {
            physical_location: physical_location(f, cwd, context, located_inside),
        }],
        message: Text { text: message },
        partial_fingerprints: PartialFingerprints {
            location: location_id.to_string(),
        },
        properties: ResultProperties {
            decoded: f.decoded.clone(),
            fingerprint: f.fingerprint.clone(),
            git: f.git.as_ref().map(to_value),
            kind: r.spec.kind.clone(),
            verification: verdict.map(to_value),
        },
        rule_id: r.spec.id.clone(),
        rule_index: index,
    }
}

/// As a JSON value, whose keys serde_json keeps sorted.
fn to_value<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

/// Where the key is. In an archive member or a decompressed stream, the location is the file
/// that holds it (line 1), and the message says where inside.
fn physical_location(
    f: &Finding,
    cwd: Option<&Path>,
    context: &str,
    located_inside: bool,
) -> PhysicalLocation {
    let artifact_location = artifact(&f.origin.path, cwd);
    if located_inside {
        return PhysicalLocation {
            artifact_location,
            context_region: None,
            region: Region {
                end_column: None,
                snippet: None,
                start_column: None,
                start_line: 1,
            },
        };
    }
    // When the region holds the key itself, its snippet is the key, redacted.
    let snippet = f.decoded.is_empty().then(|| Text {
        text: f.secret.redacted(),
    });
    PhysicalLocation {
        artifact_location,
        context_region: Some(ContextRegion {
            snippet: Text {
                text: context.to_string(),
            },
            start_line: f.line,
        }),
        region: Region {
            end_column: Some(f.column_chars + redacted_span(f)),
            snippet,
            start_column: Some(f.column_chars),
            start_line: f.line,
        },
    }
}

/// " in commit 1a2b3c4d5e (no longer at HEAD)", for a finding in git history.
fn history_note(g: &GitInfo) -> String {
    let mut note = match (&g.commit, g.object) {
        (Some(c), GitObject::CommitMessage) => format!(" in the message of commit {c}"),
        (Some(c), GitObject::Blob) => format!(" in commit {c}"),
        (None, _) if g.staged() => " in the staged changes".to_string(),
        (None, _) => format!(" in blob {}", g.blob.as_deref().unwrap_or("?")),
    };
    match g.at_head {
        Some(false) => note.push_str(" (no longer at HEAD, still in history)"),
        Some(true) => note.push_str(" (still at HEAD)"),
        None => {}
    }
    note
}

/// Length of the key in characters, for `endColumn` (keys are ASCII); 1 when the key is encoded,
/// since the region then points at the start of its encoded form.
fn redacted_span(f: &Finding) -> u64 {
    if f.decoded.is_empty() {
        f.secret.expose().chars().count() as u64
    } else {
        1
    }
}

/// A URI relative to `%SRCROOT%` (the working directory) for a path under it, or an absolute
/// `file://` URI for a path outside it (`../x`, `/elsewhere/x`): GitHub resolves relative URIs
/// against the checkout, so one that climbs out of it would point at nothing.
fn artifact(path: &str, cwd: Option<&Path>) -> ArtifactLocation {
    let under_root = |uri: String| ArtifactLocation {
        uri,
        uri_base_id: Some("%SRCROOT%"),
    };
    let p = Path::new(path);
    let Some(cwd) = cwd else {
        return under_root(encode_path(path));
    };
    let full = normalize(&cwd.join(p));
    match full.strip_prefix(cwd) {
        Ok(rel) if !rel.as_os_str().is_empty() => {
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            under_root(encode_path(&parts.join("/")))
        }
        _ => ArtifactLocation {
            uri: format!("file://{}", encode_path(&full.to_string_lossy())),
            uri_base_id: None,
        },
    }
}

/// `path` with `.` and `..` resolved lexically (without following links).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn src_root() -> Option<String> {
    let cwd = std::env::current_dir().ok()?;
    let mut s = format!("file://{}", encode_path(&cwd.to_string_lossy()));
    if !s.ends_with('/') {
        s.push('/');
    }
    Some(s)
}

/// Percent-encodes everything but unreserved characters and `/`.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_are_percent_encoded() {
        assert_eq!(encode_path("a b/c%d|e.txt"), "a%20b/c%25d%7Ce.txt");
    }

    #[test]
    fn uris_are_relative_under_the_working_directory_only() {
        let cwd = Path::new("/work/repo");
        let uri = |p: &str| serde_json::to_value(artifact(p, Some(cwd))).unwrap();
        assert_eq!(
            uri("src/a b.py"),
            json!({"uri": "src/a%20b.py", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            uri("./src/../x.py"),
            json!({"uri": "x.py", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            uri("/work/repo/x.py"),
            json!({"uri": "x.py", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            uri("../other/x.py"),
            json!({"uri": "file:///work/other/x.py"})
        );
        assert_eq!(uri("/etc/x"), json!({"uri": "file:///etc/x"}));
    }

    #[test]
    fn location_ids_differ_by_place_and_occurrence_only() {
        use crate::finding::Origin;
        use crate::secret::Secret;
        let at = |path: &str, line: u64| Finding {
            rule: 0,
            origin: Origin::file(path),
            decoded: vec![],
            line,
            column: 1,
            column_chars: 1,
            offset: 0,
            secret: Secret::new("k".into(), 0),
            fingerprint: "kh1:00".into(),
            context: String::new(),
            git: None,
            allowed: false,
            pieces: None,
        };
        let ids = location_ids(&[at("a", 1), at("a", 9), at("b", 1)]);
        assert_ne!(ids[0], ids[1]);
        assert_ne!(ids[0], ids[2]);
        assert_eq!(ids[0], location_ids(&[at("a", 5)])[0], "lines do not count");
    }
}
