//! `keyhound audit`: repositories found, each collected on its own worker, their keys verified
//! once, joined per key and written in the audit's formats (the parts live in `audit`).

use crate::audit::aggregate::{self, ReportHead};
use crate::audit::discover::{self, Found};
use crate::audit::{AuditFormat, collect, model, remedy, render, shard};
use crate::config::AuditConfig;
use crate::diag;
use crate::exit::{self, Exit, FailOn};
use crate::finding::Finding;
use crate::output::{self, Access};
use crate::pipeline::Pipeline;
use crate::progress::Progress;
use anyhow::Context as _;
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::Write;

/// Runs `keyhound audit`.
pub fn run(cfg: &AuditConfig) -> anyhow::Result<Exit> {
    if let Some(file) = cfg.repos.as_deref() {
        return list_urls(cfg, file);
    }
    let d = discover::discover(&cfg.paths);
    for e in &d.errors {
        diag::eprint(&format!("keyhound: error: {e}"));
    }
    // An audit of nothing is no clean audit; only a shard may be empty (the others have them).
    if d.found.is_empty() && (cfg.shard.is_none() || !d.errors.is_empty()) {
        anyhow::bail!(
            "no git repositories to audit in {} (looked {} levels deep); give a work tree, a bare clone or a folder holding clones",
            shown(&cfg.paths),
            discover::MAX_DEPTH
        );
    }
    for n in &d.notes {
        diag::eprint(&format!("keyhound: warning: {n}"));
    }
    let missing = !d.errors.is_empty();
    let found = in_shard(d.found, cfg);
    if cfg.list {
        let mut out = output::report(cfg.common.output.as_deref())?;
        let listed = (found.iter())
            .try_for_each(|f| writeln!(out, "{}", f.rel))
            .and_then(|()| out.commit());
        output::ignore_broken_pipe(listed)?;
        return Ok(if missing { Exit::Error } else { Exit::Clean });
    }
    let exit = audit(cfg, &found)?;
    // A path that is not there fails the audit as an unreadable file fails a scan.
    Ok(match exit {
        Exit::Clean if missing && !cfg.common.allow_incomplete => Exit::Error,
        exit => exit,
    })
}

fn shown(paths: &[std::path::PathBuf]) -> String {
    let p: Vec<_> = paths.iter().map(|p| p.display().to_string()).collect();
    p.join(", ")
}

/// `--list --repos FILE`: the clone URLs of the shard.
fn list_urls(cfg: &AuditConfig, file: &std::path::Path) -> anyhow::Result<Exit> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("{}: cannot read the list of repositories", file.display()))?;
    let spec = cfg.shard.unwrap_or(shard::ShardSpec { index: 1, count: 1 });
    let mut out = output::report(cfg.common.output.as_deref())?;
    let listed = (shard::select_urls(&text, spec).iter())
        .try_for_each(|url| writeln!(out, "{url}"))
        .and_then(|()| out.commit());
    output::ignore_broken_pipe(listed)?;
    Ok(Exit::Clean)
}

/// The repositories of `--shard`, all without it.
fn in_shard(found: Vec<Found>, cfg: &AuditConfig) -> Vec<Found> {
    let Some(spec) = cfg.shard else {
        return found;
    };
    found
        .into_iter()
        .filter(|f| spec.contains(&shard::shard_key(f.remote.as_deref(), &f.rel)))
        .collect()
}

/// Audits `found` and writes the report.
fn audit(cfg: &AuditConfig, found: &[Found]) -> anyhow::Result<Exit> {
    let common = &cfg.common;
    let pipe = Pipeline::new(common, Progress::new(common.progress))?;
    let (rules, progress) = (&pipe.rules, &pipe.progress);
    progress.set_repositories(found.len() as u64);
    let scanner = pipe.scanner();
    let diag = diag::Diagnostics::new(progress.clone());
    let on_skip = |s: &crate::finding::Skipped| diag.skipped(s);
    let parallel = found.len().clamp(1, common.threads);
    let tools = collect::Tools {
        scanner: &scanner,
        rules,
        show_secrets: common.show_secrets,
        // Each repository gets every worker: a large one audited last is not left with one,
        // and the OS shares the cores while several run.
        git: cfg.git_options(),
        on_skip: &on_skip,
    };
    let pool = crate::threads::pool(parallel)?;
    let collected: Vec<collect::Collected> = pool.install(|| {
        found
            .par_iter()
            .map(|f| {
                let c = collect::collect(f, &tools);
                progress.repository_done();
                c
            })
            .collect()
    });
    diag.finish();
    let keys = crate::audit::representatives(&collected);
    if !cfg.emit_replacements.is_empty() {
        progress.finish();
        return emit_replacements(
            cfg,
            &keys,
            crate::audit::places(&collected, &cfg.emit_replacements),
        );
    }
    let verdicts = common.verify.as_ref().map(|v| {
        progress.set_phase(&format!("verifying {} keys", keys.len()));
        crate::verify::verify_findings(&keys, rules, v).verdicts
    });
    progress.finish();
    let mut gathered = Vec::new();
    let mut repos = Vec::new();
    for c in collected {
        gathered.extend(aggregate::per_repo(&c.repo, c.obs));
        repos.push(c.repo);
    }
    let entries = aggregate::join(gathered)
        .into_iter()
        .map(|g| {
            let v = verdicts.as_ref().and_then(|v| v.get(&g.core.fingerprint));
            aggregate::entry(g, v.map_or_else(aggregate::not_checked, aggregate::verdict))
        })
        .filter(|e| {
            !(common.gate.only_live && e.verification.status == crate::verify::Status::Dead)
        })
        .collect();
    let head = ReportHead {
        version: env!("CARGO_PKG_VERSION").to_string(),
        shard: cfg.shard.map(|s| s.to_string()),
        generated_at: crate::verify::clock::rfc3339(crate::verify::clock::unix_now()),
        secrets_shown: common.show_secrets,
        verified: verdicts.is_some(),
        providers: crate::report::providers(rules),
    };
    let report = aggregate::report(entries, repos, head);
    let sink = Sink {
        output: common.output.as_deref(),
        color: common.color,
        fail_on: common.gate.fail_on,
        allow_incomplete: common.allow_incomplete,
    };
    write(&report, cfg.format, &sink)
}

/// Where an audit report goes, and what decides its exit code.
pub(crate) struct Sink<'a> {
    pub output: Option<&'a std::path::Path>,
    pub color: bool,
    pub fail_on: FailOn,
    pub allow_incomplete: bool,
}

/// Writes `report` where `sink` says and picks the exit code.
pub(crate) fn write(
    report: &model::AuditReport,
    format: AuditFormat,
    sink: &Sink<'_>,
) -> anyhow::Result<Exit> {
    let mut out = crate::output::open(sink.output, "the report", Access::Shared)?;
    match render::write(report, format, sink.color, &mut out).and_then(|()| out.commit()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(e).context("writing the audit report");
        }
        _ => {}
    }
    Ok(exit_for(report, sink.fail_on, sink.allow_incomplete))
}

/// 1 when a key fails the gate, else 2 when a repository was not read in full, else 0.
fn exit_for(report: &model::AuditReport, fail_on: FailOn, allow_incomplete: bool) -> Exit {
    let gate_hit = match fail_on {
        FailOn::Live => report
            .keys
            .iter()
            .any(|k| k.verification.status != crate::verify::Status::Dead),
        FailOn::Any => !report.keys.is_empty(),
    };
    let complete = report.repositories.iter().all(|r| r.complete);
    exit::exit_for(gate_hit, complete, allow_incomplete)
}

/// `--emit-replacements`: `KEY==>***REMOVED***` lines for `git filter-repo --replace-text`.
/// `places` says whether the keys were seen in files and in commit messages.
fn emit_replacements(
    cfg: &AuditConfig,
    keys: &[Finding],
    places: (bool, bool),
) -> anyhow::Result<Exit> {
    let by_fp: HashMap<&str, &Finding> = keys.iter().map(|k| (k.fingerprint.as_str(), k)).collect();
    let missing: Vec<&str> = (cfg.emit_replacements.iter())
        .map(String::as_str)
        .filter(|fp| !by_fp.contains_key(fp))
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "--emit-replacements: no key with fingerprint {} in these repositories (fingerprints are in the audit report)",
            missing.join(", ")
        );
    }
    // The lines hold whole keys: the file is its owner's only.
    let path = cfg.common.output.as_deref();
    let mut out = crate::output::open(path, "the replacements", Access::Private)?;
    for fp in &cfg.emit_replacements {
        let secret = by_fp[fp.as_str()].secret.expose();
        writeln!(out, "{secret}==>***REMOVED-BY-KEYHOUND***")?;
    }
    out.commit()?;
    let file = path.map_or("FILE".into(), |p| p.display().to_string());
    let command = remedy::filter_repo(places.0, places.1, &crate::audit::shell_word(&file));
    diag::eprint(&format!(
        "keyhound: to remove these keys from history, run in each repository: {command}"
    ));
    Ok(Exit::Clean)
}
