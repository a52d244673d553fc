//! keyhound finds leaked API keys. Data flows one way: sources (`scan::walk`) → blobs
//! (`scan`) → matcher → findings → report; `run` is the only place that wires them together.

pub mod cli;
pub mod config;
mod diag;
pub mod finding;
pub mod matcher;
pub mod report;
pub mod rules;
pub mod scan;
pub mod secret;

use anyhow::Context as _;
use config::{Common, Config, Format, GitConfig, RuleSource, ScanConfig};
use finding::{Finding, Skipped, Stats};
use matcher::Matcher;
use report::ScanReport;
use rules::RuleSet;
use scan::{BlobOutcome, Scanner};
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The process exit status, the same for every subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Nothing found, everything read.
    Clean = 0,
    /// Something was reported.
    Findings = 1,
    /// An error, or input that could not be fully scanned (unless `--allow-incomplete`).
    Error = 2,
}

/// Runs one command.
pub fn run(config: Config) -> anyhow::Result<Exit> {
    match config {
        Config::Scan(cfg) => scan(&cfg),
        Config::Git(cfg) => git(&cfg),
        Config::RulesList(src) => rules_list(&src),
        Config::RulesCheck(src) => rules_check(&src),
    }
}

fn load_rules(src: &RuleSource) -> anyhow::Result<Arc<RuleSet>> {
    Ok(Arc::new(rules::load_rule_files(&src.extra, &src.disabled)?))
}

fn rules_list(src: &RuleSource) -> anyhow::Result<Exit> {
    let set = load_rules(src)?;
    let mut out = io::stdout().lock();
    for r in &set.rules {
        writeln!(
            out,
            "{:<34} {:<16} {}  [{}]",
            r.spec.id, r.spec.kind, r.spec.description, r.origin
        )?;
    }
    Ok(Exit::Clean)
}

fn rules_check(src: &RuleSource) -> anyhow::Result<Exit> {
    let report = rules::check_rules(load_rules(src)?);
    for (id, problem) in &report.failures {
        eprintln!("keyhound: rule {id}: {problem}");
    }
    println!(
        "{} rules, {} examples checked: {}",
        report.rules,
        report.examples,
        if report.ok() {
            "all pass".to_string()
        } else {
            format!("{} failures", report.failures.len())
        }
    );
    Ok(if report.ok() {
        Exit::Clean
    } else {
        Exit::Error
    })
}

/// Findings and skips gathered from all workers.
#[derive(Default)]
struct Collected {
    findings: Vec<Finding>,
    skipped: Vec<Skipped>,
    files: u64,
    bytes: u64,
    placeholders: u64,
}

fn scan(cfg: &ScanConfig) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let common = &cfg.common;
    let rules = load_rules(&common.rules)?;
    let matcher = Matcher::new(rules.clone(), common.max_decode_depth);
    let scanner = Scanner {
        matcher: &matcher,
        limits: common.limits.clone(),
    };
    let out: Mutex<Box<dyn Write + Send>> = Mutex::new(open_output(common)?);
    let diag = diag::Diagnostics::default();
    let collected = Mutex::new(Collected::default());
    let sink = |outcome: BlobOutcome| {
        outcome.skipped.iter().for_each(|s| diag.skipped(s));
        if common.format == Format::Jsonl {
            stream_lines(
                &outcome.findings,
                &outcome.skipped,
                &rules,
                common.show_secrets,
                &out,
            );
        }
        let mut c = collected.lock().unwrap_or_else(|p| p.into_inner());
        c.files += outcome.files;
        c.bytes += outcome.bytes;
        c.placeholders += outcome.placeholders;
        c.findings.extend(outcome.findings);
        c.skipped.extend(outcome.skipped);
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.walk.threads)
        .build()?;
    let walked = pool.install(|| scan::walk::scan_paths(&cfg.paths, &cfg.walk, &scanner, &sink));
    diag.finish();
    let c = collected.into_inner().unwrap_or_else(|p| p.into_inner());
    let stats = Stats {
        files: c.files,
        bytes: c.bytes,
        placeholders: c.placeholders,
        ignored: walked.ignored,
        symlinks_not_followed: walked.symlinks_not_followed,
        ..Stats::default()
    };
    let out = out.into_inner().unwrap_or_else(|p| p.into_inner());
    let done = Done {
        findings: c.findings,
        skipped: c.skipped,
        stats,
        ignored_env: walked.ignored_env,
        started,
    };
    finish(common, &rules, done, out)
}

fn git(cfg: &GitConfig) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let common = &cfg.common;
    let rules = load_rules(&common.rules)?;
    let matcher = Matcher::new(rules.clone(), common.max_decode_depth);
    let scanner = Scanner {
        matcher: &matcher,
        limits: common.limits.clone(),
    };
    let mut out = open_output(common)?;
    let diag = diag::Diagnostics::default();
    let opts = scan::git::GitOptions {
        repo: cfg.repo.clone(),
        mode: cfg.mode.clone(),
        all_objects: cfg.all_objects,
        max_blob_size: cfg.max_blob_size,
        threads: common.threads,
    };
    let outcome = scan::git::scan(&opts, &scanner, &|s| diag.skipped(s))?;
    diag.finish();
    if common.format == Format::Jsonl {
        let mut findings = outcome.findings.clone();
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let lines = report::json::write_lines(
            &findings,
            &outcome.skipped,
            &rules,
            common.show_secrets,
            &mut out,
        );
        ignore_broken_pipe(lines)?;
    }
    let stats = Stats {
        files: outcome.stats.blobs_scanned,
        bytes: outcome.bytes,
        placeholders: outcome.placeholders,
        git: Some(outcome.stats),
        ..Stats::default()
    };
    let done = Done {
        findings: outcome.findings,
        skipped: outcome.skipped,
        stats,
        ignored_env: Vec::new(),
        started,
    };
    finish(common, &rules, done, out)
}

/// What a scan gathered, before sorting and reporting.
struct Done {
    findings: Vec<Finding>,
    skipped: Vec<Skipped>,
    stats: Stats,
    ignored_env: Vec<String>,
    started: Instant,
}

/// Sorts what a scan gathered, writes the report and picks the exit code.
fn finish(
    common: &Common,
    rules: &RuleSet,
    mut done: Done,
    mut out: Box<dyn Write + Send>,
) -> anyhow::Result<Exit> {
    done.findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    done.skipped
        .sort_by(|a, b| (&a.path, &a.reason).cmp(&(&b.path, &b.reason)));
    let complete = !done.skipped.iter().any(|s| s.incomplete);
    let stats = Stats {
        findings: done.findings.len() as u64,
        skipped: done.skipped.len() as u64,
        elapsed_ms: done.started.elapsed().as_millis() as u64,
        ..done.stats
    };
    let report = ScanReport {
        rules,
        findings: done.findings,
        skipped: done.skipped,
        stats,
        complete,
        ignored_env: done.ignored_env,
        show_secrets: common.show_secrets,
        color: common.color && common.format == Format::Human,
    };
    ignore_broken_pipe(
        report
            .write(common.format, &mut out)
            .and_then(|()| out.flush()),
    )?;
    Ok(exit_for(&report, common.allow_incomplete))
}

fn exit_for(report: &ScanReport<'_>, allow_incomplete: bool) -> Exit {
    if !report.findings.is_empty() {
        Exit::Findings
    } else if !report.complete && !allow_incomplete {
        Exit::Error
    } else {
        Exit::Clean
    }
}

fn open_output(cfg: &Common) -> anyhow::Result<Box<dyn Write + Send>> {
    Ok(match &cfg.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("{}: cannot write the report there", path.display()))?;
            Box::new(io::BufWriter::new(file))
        }
        None => Box::new(io::BufWriter::new(io::stdout())),
    })
}

fn stream_lines(
    findings: &[Finding],
    skipped: &[Skipped],
    rules: &RuleSet,
    show: bool,
    out: &Mutex<Box<dyn Write + Send>>,
) {
    let mut out = out.lock().unwrap_or_else(|p| p.into_inner());
    let result = report::json::write_lines(findings, skipped, rules, show, &mut *out);
    if let Err(e) = ignore_broken_pipe(result) {
        eprintln!("keyhound: error: writing the report: {e}");
    }
}

/// A closed pipe (`keyhound scan | head`) is not an error.
fn ignore_broken_pipe(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}
