//! SARIF 2.1.0 for GitHub code scanning: one run, one result per finding, repo-relative URIs
//! under `%SRCROOT%`, redacted snippets only (even with `--show-secrets`: SARIF gets uploaded),
//! and GitHub's limit of 25,000 results and 10 MB gzipped kept, riskiest first.

use super::ScanReport;
use crate::finding::Finding;
use crate::rules::Rule;
use serde_json::{Value, json};
use std::io::{self, Write};
use std::path::Path;

/// GitHub code scanning keeps at most this many results per run.
pub const MAX_RESULTS: usize = 25_000;
/// GitHub rejects uploads larger than this, gzipped.
const MAX_GZIPPED: usize = 10 << 20;

pub fn write(report: &ScanReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut kept: Vec<&Finding> = report.findings.iter().collect();
    kept.sort_by(|a, b| {
        let sev = |f: &Finding| report.rule(f).spec.severity;
        sev(b)
            .total_cmp(&sev(a))
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

fn gzipped_len(bytes: &[u8]) -> io::Result<usize> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes)?;
    Ok(gz.finish()?.len())
}

fn document(report: &ScanReport<'_>, kept: &[&Finding]) -> Value {
    let mut sorted = kept.to_vec();
    sorted.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let results: Vec<Value> = sorted.iter().map(|f| result(report, f)).collect();
    let mut run = json!({
        "tool": {"driver": {
            "name": "keyhound",
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://github.com/keyhound/keyhound",
            "rules": report.rules.rules.iter().map(rule).collect::<Vec<_>>(),
        }},
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    if let Some(root) = src_root() {
        run["originalUriBaseIds"] = json!({"%SRCROOT%": {"uri": root}});
    }
    if kept.len() < report.findings.len() {
        run["properties"] = json!({
            "truncated": true,
            "resultsTotal": report.findings.len(),
            "resultsKept": kept.len(),
            "note": "GitHub code scanning keeps at most 25,000 results and 10 MB gzipped per upload: \
                     the riskiest were kept. Use --format json for the full list.",
        });
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    })
}

fn rule(r: &Rule) -> Value {
    let s = &r.spec;
    let mut help = format!("{}\n\n{}", s.description, s.remediation.trim());
    if !s.references.is_empty() {
        help.push_str("\n\nReferences:\n");
        for reference in &s.references {
            help.push_str(&format!("- {reference}\n"));
        }
    }
    json!({
        "id": s.id,
        "name": s.name,
        "shortDescription": {"text": s.description},
        "fullDescription": {"text": format!("{}. Leaked keys let anyone use the account they belong to.", s.description)},
        "help": {"text": help, "markdown": help},
        "helpUri": s.references.first().cloned().unwrap_or_else(|| "https://github.com/keyhound/keyhound".into()),
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "tags": ["security", "secret"],
            "precision": "high",
            "security-severity": format!("{:.1}", s.severity),
        },
    })
}

fn result(report: &ScanReport<'_>, f: &Finding) -> Value {
    let r = report.rule(f);
    let index = f.rule;
    let redacted = f.secret.redacted();
    let mut where_ = String::new();
    if let Some(member) = &f.origin.member {
        where_ = format!(" in archive member {member}, line {}", f.line);
    } else if f.decoded.iter().any(|d| d == "gzip") {
        where_ = format!(" in the decompressed content, line {}", f.line);
    }
    let located_inside = !where_.is_empty();
    let message = format!(
        "{} {redacted} found{where_}. Revoke it at {}, replace it, and purge it from history.",
        r.spec.description,
        r.spec.revoke_url.as_deref().unwrap_or("the provider"),
    );
    let region = if located_inside {
        json!({"startLine": 1})
    } else {
        json!({
            "startLine": f.line,
            "startColumn": f.column_chars,
            "endColumn": f.column_chars + redacted_span(f),
            "snippet": {"text": f.context},
        })
    };
    json!({
        "ruleId": r.spec.id,
        "ruleIndex": index,
        "level": "error",
        "message": {"text": message},
        "locations": [{"physicalLocation": {"artifactLocation": artifact(&f.origin.path), "region": region}}],
        "partialFingerprints": {"keyhound/v1": f.fingerprint},
        "properties": {"kind": r.spec.kind, "fingerprint": f.fingerprint, "decoded": f.decoded},
    })
}

/// Length of the key in characters, for `endColumn` (keys are ASCII).
fn redacted_span(f: &Finding) -> u64 {
    if f.decoded.is_empty() {
        f.secret.expose().chars().count() as u64
    } else {
        1
    }
}

/// A repo-relative URI under `%SRCROOT%` (the working directory), or an absolute `file://` URI.
fn artifact(path: &str) -> Value {
    let p = Path::new(path);
    let cwd = std::env::current_dir().ok();
    let relative = if p.is_absolute() {
        cwd.as_deref().and_then(|c| p.strip_prefix(c).ok())
    } else {
        Some(p)
    };
    match relative {
        Some(rel) => json!({"uri": encode_path(&rel.to_string_lossy()), "uriBaseId": "%SRCROOT%"}),
        None => json!({"uri": format!("file://{}", encode_path(path))}),
    }
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

    #[test]
    fn paths_are_percent_encoded() {
        assert_eq!(encode_path("a b/c%d|e.txt"), "a%20b/c%25d%7Ce.txt");
    }
}
