//! GitLab's secret-detection report (schema 15.2.1, `gl-secret-detection-report.json`): one
//! vulnerability per finding, identified by the rule, tracked by the key's fingerprint. It never
//! holds key text, `--show-secrets` or not: GitLab shows the report to everyone with access to
//! the pipeline, so the schema's unsanitized `raw_source_code_extract` is left out.

use super::gitlab_model::{
    Commit, Identifier, Link, Location, Message, Report, Scan, Signature, Tool, Tracking,
    TrackingItem, Vendor, Vulnerability,
};
use super::{Reporter, ScanReport};
use crate::finding::{Decoding, Finding, sha256};
use crate::verify::clock::rfc3339;
use crate::verify::{Status, Verification};
use std::collections::HashMap;
use std::io::{self, Write};

/// The schema version the report declares; GitLab validates it against that version.
pub const SCHEMA_VERSION: &str = "15.2.1";
const SCHEMA_URL: &str = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v15.2.1/dist/secret-detection-report-format.json";
/// GitLab's placeholder for "not in a commit" (its own analyzer used it for working trees).
const NO_COMMIT: &str = "0000000";
/// Skipped inputs named in the `warn` message of an incomplete scan.
const MAX_NAMED_SKIPS: usize = 20;

/// GitLab's secret-detection report.
pub struct Gitlab;

impl Reporter for Gitlab {
    fn finish(&self, report: &ScanReport<'_>, out: &mut dyn Write) -> io::Result<()> {
        write(report, out)
    }
}

fn write(report: &ScanReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let head = head_commit();
    let ids = uuids(&report.findings);
    let vulnerabilities = (report.findings.iter().zip(ids))
        .map(|(f, id)| vulnerability(report, f, id, &head))
        .collect();
    let doc = Report {
        version: SCHEMA_VERSION,
        schema: SCHEMA_URL,
        scan: scan(report),
        vulnerabilities,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// The commit of the current directory's repository, for findings not in history (files,
/// staged changes); `0000000` outside a repository.
fn head_commit() -> String {
    let out = crate::scan::git::command::git()
        .args(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
        .stderr(std::process::Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let sha = String::from_utf8_lossy(&o.stdout).trim().to_string();
            if sha.is_empty() {
                NO_COMMIT.into()
            } else {
                sha
            }
        }
        _ => NO_COMMIT.into(),
    }
}

/// `scan`: keyhound as analyzer and scanner, the times, and `failure` with a warning naming
/// what was not read when the scan was incomplete.
fn scan(report: &ScanReport<'_>) -> Scan {
    let tool = Tool {
        id: "keyhound",
        name: "keyhound",
        version: env!("CARGO_PKG_VERSION"),
        vendor: Vendor { name: "keyhound" },
        url: "https://github.com/keyhound/keyhound",
    };
    let end = report.now;
    let start = end - (report.stats.elapsed_ms / 1000) as i64;
    Scan {
        analyzer: tool.clone(),
        scanner: tool,
        kind: "secret_detection",
        status: if report.complete {
            "success"
        } else {
            "failure"
        },
        start_time: gitlab_time(start),
        end_time: gitlab_time(end),
        messages: (!report.complete).then(|| {
            [Message {
                level: "warn",
                value: incomplete_message(report),
            }]
        }),
    }
}

/// GitLab's time format: UTC, no zone and no fraction.
fn gitlab_time(secs: i64) -> String {
    rfc3339(secs).trim_end_matches('Z').to_string()
}

fn incomplete_message(report: &ScanReport<'_>) -> String {
    let incomplete: Vec<String> = report
        .skipped
        .iter()
        .filter(|s| s.incomplete)
        .map(|s| format!("{} ({})", s.path, s.reason))
        .collect();
    let mut text = format!(
        "The scan is incomplete: {} could not be read fully, so keys may hide there: ",
        super::plural(incomplete.len() as u64, "input", "inputs")
    );
    text.push_str(&incomplete[..incomplete.len().min(MAX_NAMED_SKIPS)].join("; "));
    if incomplete.len() > MAX_NAMED_SKIPS {
        text.push_str(&format!(
            "; and {} more",
            incomplete.len() - MAX_NAMED_SKIPS
        ));
    }
    text
}

/// Each finding's `id`: a UUID (version 5 layout) from SHA-256 over its fingerprint, path,
/// archive member and line, made unique by an occurrence count where those repeat.
fn uuids(findings: &[Finding]) -> Vec<String> {
    let mut seen: HashMap<(&str, &str, Option<&str>, u64), u64> = HashMap::new();
    findings
        .iter()
        .map(|f| {
            let place = (
                f.fingerprint.as_str(),
                f.origin.path.as_str(),
                f.origin.member.as_deref(),
                f.line,
            );
            let n = seen.entry(place).or_default();
            *n += 1;
            let mut data = b"keyhound-gitlab-v1".to_vec();
            for part in [
                place.0,
                place.1,
                place.2.unwrap_or(""),
                &place.3.to_string(),
                &n.to_string(),
            ] {
                data.push(0);
                data.extend_from_slice(part.as_bytes());
            }
            uuid_from(&sha256(&data))
        })
        .collect()
}

fn uuid_from(digest: &[u8]) -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// `Critical` for a live key, `High` for one not verified or not settled, `Low` for one the
/// provider rejected (it still belongs out of the repository).
fn severity(verdict: Option<&Verification>) -> &'static str {
    match verdict.map(|v| v.status) {
        Some(Status::Live) => "Critical",
        None | Some(Status::Unknown | Status::NotChecked) => "High",
        Some(Status::Dead) => "Low",
    }
}

fn vulnerability(report: &ScanReport<'_>, f: &Finding, id: String, head: &str) -> Vulnerability {
    let spec = &report.rule(f).spec;
    let file = f.origin.path.strip_prefix("./").unwrap_or(&f.origin.path);
    let mut solution = spec.remediation.trim().to_string();
    if let Some(url) = &spec.revoke_url {
        solution = format!("Revoke the key at {url}. {solution}");
    }
    let links = (spec.references.iter())
        .map(|u| Link { url: u.clone() })
        .collect();
    Vulnerability {
        id,
        name: spec.description.clone(),
        description: description(report, f),
        severity: severity(report.verdict(f)),
        solution,
        identifiers: [Identifier {
            kind: "keyhound_rule_id",
            name: spec.name.clone(),
            value: spec.id.clone(),
        }],
        links,
        location: Location {
            file: file.to_string(),
            start_line: f.line,
            end_line: f.line,
            commit: commit(f, head),
        },
        tracking: Tracking {
            kind: "source",
            items: [TrackingItem {
                file: file.to_string(),
                start_line: f.line,
                end_line: f.line,
                signatures: [Signature {
                    algorithm: "keyhound_fingerprint",
                    value: f.fingerprint.clone(),
                }],
            }],
        },
    }
}

/// The commit that added `f`'s key with its author and date, or `head` for a key not in a
/// commit.
fn commit(f: &Finding, head: &str) -> Commit {
    match f.git.as_ref().and_then(|g| Some((g, g.commit.as_ref()?))) {
        Some((g, c)) => Commit {
            sha: c.clone(),
            author: g.author.clone(),
            date: g.date.clone(),
        },
        None => Commit {
            sha: head.to_string(),
            author: None,
            date: None,
        },
    }
}

/// Where the key is and what is known of it, in words, without any of its text.
fn description(report: &ScanReport<'_>, f: &Finding) -> String {
    let spec = &report.rule(f).spec;
    let mut text = format!("{} (fingerprint {})", spec.description, f.fingerprint);
    if let Some(member) = &f.origin.member {
        text.push_str(&format!(", in archive member {member} line {}", f.line));
    }
    if !f.decoded.is_empty() {
        let encodings = Decoding::join(f.decoded.iter().copied(), " in ");
        text.push_str(&format!(", encoded ({encodings})"));
    }
    if let Some(c) = f.git.as_ref().and_then(|g| g.commit.as_deref()) {
        text.push_str(&format!(", added in commit {c}"));
    }
    if let Some(v) = report.verdict(f) {
        text.push_str(&format!(". Verified {}", v.label(report.now)));
    }
    text.push_str(". Anyone who can read the repository can use it until it is revoked.");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_have_the_version_5_layout() {
        let id = uuid_from(&sha256(b"x"));
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "5");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn times_have_no_zone() {
        assert_eq!(gitlab_time(0), "1970-01-01T00:00:00");
    }
}
