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
use config::{Config, Format, RuleSource, ScanConfig};
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
    let rules = load_rules(&cfg.rules)?;
    let matcher = Matcher::new(rules.clone(), cfg.max_decode_depth);
    let scanner = Scanner {
        matcher: &matcher,
        limits: cfg.limits.clone(),
    };
    let out: Mutex<Box<dyn Write + Send>> = Mutex::new(open_output(cfg)?);
    let diag = diag::Diagnostics::default();
    let collected = Mutex::new(Collected::default());
    let sink = |outcome: BlobOutcome| {
        outcome.skipped.iter().for_each(|s| diag.skipped(s));
        if cfg.format == Format::Jsonl {
            stream_lines(&outcome, &rules, cfg.show_secrets, &out);
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
    let mut c = collected.into_inner().unwrap_or_else(|p| p.into_inner());
    c.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    c.skipped
        .sort_by(|a, b| (&a.path, &a.reason).cmp(&(&b.path, &b.reason)));
    let complete = !c.skipped.iter().any(|s| s.incomplete);
    let stats = Stats {
        files: c.files,
        bytes: c.bytes,
        findings: c.findings.len() as u64,
        placeholders: c.placeholders,
        skipped: c.skipped.len() as u64,
        ignored: walked.ignored,
        symlinks_not_followed: walked.symlinks_not_followed,
        elapsed_ms: started.elapsed().as_millis() as u64,
    };
    let report = ScanReport {
        rules: &rules,
        findings: c.findings,
        skipped: c.skipped,
        stats,
        complete,
        ignored_env: walked.ignored_env,
        show_secrets: cfg.show_secrets,
        color: cfg.color && cfg.format == Format::Human,
    };
    let mut out = out.into_inner().unwrap_or_else(|p| p.into_inner());
    ignore_broken_pipe(
        report
            .write(cfg.format, &mut out)
            .and_then(|()| out.flush()),
    )?;
    Ok(exit_for(&report, cfg.allow_incomplete))
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

fn open_output(cfg: &ScanConfig) -> anyhow::Result<Box<dyn Write + Send>> {
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
    outcome: &BlobOutcome,
    rules: &RuleSet,
    show: bool,
    out: &Mutex<Box<dyn Write + Send>>,
) {
    let mut out = out.lock().unwrap_or_else(|p| p.into_inner());
    let mut result = Ok(());
    for f in &outcome.findings {
        result = result.and_then(|()| {
            report::json::write_finding_line(f, &rules.rules[f.rule], show, &mut *out)
        });
    }
    for s in &outcome.skipped {
        result = result.and_then(|()| report::json::write_skipped_line(s, &mut *out));
    }
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
