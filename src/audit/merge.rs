//! The JSON reports of every shard of a sharded audit, joined into the report one machine
//! auditing the same repositories writes (timestamps aside); `keyhound audit merge` runs it.

use super::aggregate::{self, Core, Gathered, ReportHead};
use super::model::{AuditReport, KeyEntry, Verdict};
use crate::verify::Status;
use anyhow::Context as _;
use std::collections::HashMap;
use std::path::PathBuf;

/// The shard reports `files`, each with its path.
pub fn read_parts(files: &[PathBuf]) -> anyhow::Result<Vec<(PathBuf, AuditReport)>> {
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("{}: cannot read the shard report", f.display()))?;
            let report: AuditReport = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{}: not a keyhound audit JSON report (write shards with --format json)",
                    f.display()
                )
            })?;
            Ok((f.clone(), report))
        })
        .collect()
}

/// Every provider any part looked for, sorted, each once.
fn providers(parts: &[AuditReport]) -> Vec<String> {
    let mut all: Vec<String> = parts.iter().flat_map(|p| p.providers.clone()).collect();
    all.sort();
    all.dedup();
    all
}

/// Joins checked shard reports; `redact` shortens whole keys to their redacted form.
pub fn merge(parts: Vec<AuditReport>, redact: bool) -> anyhow::Result<AuditReport> {
    let first = parts.first().context("no shard reports to merge")?;
    let head = ReportHead {
        version: first.keyhound.clone(),
        shard: None,
        generated_at: crate::verify::clock::rfc3339(crate::verify::clock::unix_now()),
        secrets_shown: first.secrets_shown && !redact,
        verified: first.verified,
        providers: providers(&parts),
    };
    let redactor = Redactor::new(redact)?;
    let mut gathered = Vec::new();
    let mut verdicts: HashMap<String, Verdict> = HashMap::new();
    let mut repos = Vec::new();
    for part in parts {
        repos.extend(part.repositories);
        for e in part.keys.into_iter().chain(part.suppressed) {
            let v = verdicts
                .entry(e.fingerprint.clone())
                .or_insert(e.verification.clone());
            if rank(&e.verification) < rank(v) {
                *v = e.verification.clone();
            }
            gathered.push(gathered_of(e, &redactor));
        }
    }
    let entries = aggregate::join(gathered)
        .into_iter()
        .map(|g| {
            let v = verdicts[&g.core.fingerprint].clone();
            aggregate::entry(g, v)
        })
        .collect();
    Ok(aggregate::report(entries, repos, head))
}

/// When shards disagree on a key, the most alarming verdict wins.
fn rank(v: &Verdict) -> usize {
    match v.status {
        Status::Live => 0,
        Status::Unknown => 1,
        Status::NotChecked => 2,
        Status::Dead => 3,
    }
}

fn gathered_of(e: KeyEntry, redactor: &Redactor) -> Gathered {
    Gathered {
        core: Core {
            secret: redactor.apply(&e.secret),
            fingerprint: e.fingerprint,
            kind: e.kind,
            provider: e.provider,
            rule: e.rule,
        },
        repos: e.repositories,
        locations: e.locations,
    }
}

/// Redacts whole keys as a scan would: the rules find each key's kind prefix.
struct Redactor(Option<crate::matcher::Matcher>);

impl Redactor {
    fn new(on: bool) -> anyhow::Result<Redactor> {
        if !on {
            return Ok(Redactor(None));
        }
        let rules = std::sync::Arc::new(crate::rules::RuleSet::builtin()?);
        Ok(Redactor(Some(crate::matcher::Matcher::new(rules, 1))))
    }

    fn apply(&self, secret: &str) -> String {
        let Some(matcher) = &self.0 else {
            return secret.to_string();
        };
        let scanner = crate::scan::Scanner {
            matcher,
            limits: crate::scan::Limits::default(),
            inline_allow: false,
            progress: crate::progress::Progress::hidden(),
        };
        let mut out = crate::scan::BlobOutcome::default();
        let origin = crate::finding::Origin::file("-");
        scanner.scan_reader(&mut secret.as_bytes(), &origin, 0, &mut out);
        match out.findings.first() {
            Some(f) => f.secret.redacted(),
            None => crate::secret::Secret::new(secret.to_string(), 0).redacted(),
        }
    }
}
