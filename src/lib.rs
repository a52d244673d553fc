//! keyhound finds leaked API keys. Data flows one way: sources (`scan::walk`) → blobs
//! (`scan`) → matcher → findings → report; `run` is the only place that wires them together.

// Every diagnostic goes through `diag`, which sanitises it and cannot panic on a closed stream.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod audit;
pub mod ci;
pub mod cli;
pub mod config;
pub mod diag;
pub mod finding;
pub mod hooks;
pub mod matcher;
pub mod output;
pub mod progress;
pub mod report;
pub mod rules;
pub mod sanitize;
pub mod scan;
pub mod secret;
pub mod shell;
mod stdin_lines;
pub mod suppress;
pub mod verify;

use anyhow::Context as _;
use config::{Common, Config, FailOn, Format, GitConfig, RuleSource, ScanConfig};
use finding::{Finding, Skipped, Stats, Suppressed};
use matcher::Matcher;
use progress::Progress;
use report::ScanReport;
use rules::RuleSet;
use scan::{BlobOutcome, Scanner};
use std::io::{self, IsTerminal as _, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use suppress::Suppressions;
use suppress::project::{Project, RootFiles};
use verify::{Verdicts, Verified};

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
        Config::Git(cfg) => match cfg.budget {
            Some(budget) => pre_receive(cfg, budget),
            None => git(&cfg),
        },
        Config::Verify(common) => verify_stdin(&common),
        Config::RulesList(src) => rules_list(&src),
        Config::RulesCheck(src) => rules_check(&src),
        Config::InstallHook(repo) => install_hook(repo.as_deref()),
        Config::Ci(cfg) => ci::run(&cfg),
        Config::Audit(cfg) => audit::run(&cfg),
        Config::AuditMerge(cfg) => audit::merge::run(&cfg),
        Config::Completions(shell) => shell::completions(shell),
        Config::Manpage => shell::manpage(),
    }
}

fn install_hook(repo: Option<&Path>) -> anyhow::Result<Exit> {
    let exe = std::env::current_exe().context("cannot tell where keyhound is installed")?;
    for done in hooks::install(repo, &exe)? {
        match done {
            hooks::Installed::New(p) => diag::print(&format!("installed {}", p.display())),
            hooks::Installed::Updated(p) => diag::print(&format!("updated {}", p.display())),
            hooks::Installed::Chained(p, old) => diag::print(&format!(
                "installed {}; the hook that was there runs after it, from {}",
                p.display(),
                old.display()
            )),
        }
    }
    Ok(Exit::Clean)
}

/// The scanner the common settings describe, over `matcher`, counting on `progress`.
pub(crate) fn scanner<'m>(
    matcher: &'m Matcher,
    common: &Common,
    progress: Progress,
) -> Scanner<'m> {
    Scanner {
        matcher,
        limits: common.limits.clone(),
        inline_allow: common.inline_allow,
        progress,
    }
}

pub(crate) fn load_rules(src: &RuleSource) -> anyhow::Result<Arc<RuleSet>> {
    let mut set = rules::load_rule_files(&src.extra, &src.disabled)?;
    set.select_providers(&src.providers, &src.exclude_providers)?;
    Ok(Arc::new(set))
}

/// The rule folders the repository's keyhound.toml names, plus the command line's rules.
fn load_project_rules(src: &RuleSource, project: &Project) -> anyhow::Result<Arc<RuleSet>> {
    let pick = |cli: &[String], toml: &[String]| if cli.is_empty() { toml } else { cli }.to_vec();
    let mut set = rules::load_rule_files_with(&project.rule_paths, &src.extra, &src.disabled)?;
    set.select_providers(
        &pick(&src.providers, &project.providers),
        &pick(&src.exclude_providers, &project.exclude_providers),
    )?;
    Ok(Arc::new(set))
}

/// The fingerprints of `--baseline`, if given.
fn load_baseline(common: &Common) -> anyhow::Result<std::collections::HashSet<String>> {
    common
        .baseline
        .as_deref()
        .map_or_else(|| Ok(Default::default()), suppress::baseline::load)
}

fn rules_list(src: &RuleSource) -> anyhow::Result<Exit> {
    let set = load_rules(src)?;
    let mut out = io::stdout().lock();
    let listed = set.providers().into_iter().try_for_each(|provider| {
        let rules: Vec<_> = set
            .rules
            .iter()
            .filter(|r| r.spec.provider == provider)
            .collect();
        writeln!(out, "# {provider} ({})", plural(rules.len(), "rule"))?;
        rules.iter().try_for_each(|r| {
            writeln!(
                out,
                "{:<34} {:<16} {}  [{}]",
                r.spec.id, r.spec.kind, r.spec.description, r.origin
            )
        })
    });
    ignore_broken_pipe(listed)?;
    Ok(Exit::Clean)
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn rules_check(src: &RuleSource) -> anyhow::Result<Exit> {
    let report = rules::check_rules(load_rules(src)?);
    for (id, problem) in &report.failures {
        diag::eprint(&format!("keyhound: rule {id}: {problem}"));
    }
    diag::print(&format!(
        "{} rules, {} examples checked: {}",
        report.rules,
        report.examples,
        if report.ok() {
            "all pass".to_string()
        } else {
            format!("{} failures", report.failures.len())
        }
    ));
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
    unattributed: u64,
    suppressed: Suppressed,
}

fn scan(cfg: &ScanConfig) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let common = &cfg.common;
    let root = suppress::project::find_root(cfg.paths.first().map_or(Path::new("."), |p| {
        if p.as_os_str() == "-" {
            Path::new(".")
        } else {
            p
        }
    }));
    let mut project = Project::parse(&RootFiles::from_dir(&root)?, Some(&root))?;
    if cfg.walk.no_ignore {
        // --no-ignore reads every path, allowed ones included.
        project.allow_paths.clear();
    }
    let common = &with_project_verify(common, &project)?;
    let rules = load_project_rules(&common.rules, &project)?;
    let suppressions = Suppressions::new(&project, load_baseline(common)?, &root)?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let matcher = Matcher::new(rules.clone(), common.max_decode_depth);
    let scanner = scanner(&matcher, common, Progress::new(common.progress));
    let out = Mutex::new(open_output(common)?);
    let diag = diag::Diagnostics::new(scanner.progress.clone());
    let collected = Mutex::new(Collected::default());
    let sink = |mut outcome: BlobOutcome| {
        outcome.skipped.iter().for_each(|s| diag.skipped(s));
        let mut suppressed = Suppressed::default();
        outcome.findings = suppressions.apply(outcome.findings, &cwd, &mut suppressed);
        if common.format == Format::Jsonl && common.verify.is_none() {
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
        c.unattributed += outcome.unattributed;
        c.suppressed.inline += outcome.suppressed_inline;
        c.suppressed.add(&suppressed);
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
        unattributed: c.unattributed,
        suppressed: c.suppressed,
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
        progress: scanner.progress.clone(),
    };
    finish(common, &rules, done, out, None)
}

fn git(cfg: &GitConfig) -> anyhow::Result<Exit> {
    let common = &cfg.common;
    let opts = scan::git::GitOptions {
        repo: cfg.repo.clone(),
        mode: cfg.mode.clone(),
        all_objects: cfg.all_objects,
        max_blob_size: cfg.max_blob_size,
        threads: common.threads,
        audit: false,
    };
    let mut out = open_output(common)?;
    let (rules, mut done, common) = git_outcome(common, &opts, None)?;
    if let Some(only) = &cfg.only {
        done.findings
            .retain(|f| only.iter().any(|p| Path::new(&f.origin.path) == p));
    }
    let common = &common;
    if common.format == Format::Jsonl && common.verify.is_none() {
        done.progress.finish();
        let mut findings = done.findings.clone();
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let lines = report::json::write_lines(
            &findings,
            &done.skipped,
            &rules,
            common.show_secrets,
            None,
            &mut out,
        );
        ignore_broken_pipe(lines)?;
    }
    let hook = match cfg.mode {
        config::GitMode::Staged | config::GitMode::CommitMsg(_) => Some(report::Hook::Commit),
        config::GitMode::PrePush => Some(report::Hook::Push),
        config::GitMode::PreReceive => Some(report::Hook::Receive),
        _ => None,
    };
    finish(common, &rules, done, out, hook)
}

/// `keyhound git --pre-receive`: the scan within its time budget. Past it the push goes through
/// with a warning (a hook that outlives the server's limit fails every push), or with
/// `--fail-closed` is rejected.
fn pre_receive(cfg: GitConfig, budget: config::Budget) -> anyhow::Result<Exit> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(git(&cfg));
    });
    let secs = budget.timeout.as_secs_f64();
    match rx.recv_timeout(budget.timeout) {
        Ok(result) => result,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) if budget.fail_closed => {
            diag::eprint(&format!(
                "keyhound: the pushed commits could not be scanned for leaked keys within {secs}s: \
                 push rejected (--fail-closed). Push fewer commits at a time."
            ));
            Ok(Exit::Error)
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            diag::eprint(&format!(
                "keyhound: warning: the pushed commits could not be scanned for leaked keys within \
                 {secs}s: push let through unscanned. Scan them with `keyhound git --range OLD..NEW`."
            ));
            Ok(Exit::Clean)
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            anyhow::bail!("the pre-receive scan stopped without a result")
        }
    }
}

/// Scans a repository as `opts` says, with the rules and suppressions of its root files (read
/// from commit `config_at` when given, so a pull request cannot allow its own keys).
pub(crate) fn git_outcome(
    common: &Common,
    opts: &scan::git::GitOptions,
    config_at: Option<&str>,
) -> anyhow::Result<(Arc<RuleSet>, Done, Common)> {
    git_outcome_with(common, opts, config_at, Progress::new(common.progress))
}

/// `git_outcome`, counting on `progress` (a bar an audit shares between its repositories).
pub(crate) fn git_outcome_with(
    common: &Common,
    opts: &scan::git::GitOptions,
    config_at: Option<&str>,
    progress: Progress,
) -> anyhow::Result<(Arc<RuleSet>, Done, Common)> {
    let started = Instant::now();
    let (files, workdir) = match scan::git::root_files(opts, config_at) {
        Err(_) if matches!(opts.mode, config::GitMode::CommitMsg(_)) => Default::default(),
        r => r?,
    };
    let project = Project::parse(&files, workdir.as_deref())?;
    let common = &with_project_verify(common, &project)?;
    let rules = load_project_rules(&common.rules, &project)?;
    let baseline = match (config_at, &common.baseline) {
        (Some(at), Some(path)) => git_baseline(opts, at, path)?,
        _ => load_baseline(common)?,
    };
    let suppressions = Suppressions::new(&project, baseline, Path::new(""))?;
    let matcher = Matcher::new(rules.clone(), common.max_decode_depth);
    let scanner = scanner(&matcher, common, progress);
    let diag = diag::Diagnostics::new(scanner.progress.clone());
    let mut outcome = scan::git::scan(opts, &scanner, &|s| diag.skipped(s))?;
    diag.finish();
    let mut suppressed = Suppressed {
        inline: outcome.suppressed_inline,
        ..Suppressed::default()
    };
    outcome.findings = suppressions.apply(outcome.findings, Path::new(""), &mut suppressed);
    let stats = Stats {
        files: outcome.stats.blobs_scanned,
        bytes: outcome.bytes,
        placeholders: outcome.placeholders,
        suppressed,
        git: Some(outcome.stats),
        ..Stats::default()
    };
    let done = Done {
        findings: outcome.findings,
        skipped: outcome.skipped,
        stats,
        ignored_env: Vec::new(),
        started,
        progress: scanner.progress.clone(),
    };
    Ok((rules, done, common.clone()))
}

/// keyhound.toml's `[verify]` defaults, under what the command line says: concurrency and cache
/// TTL apply when `--verify` is given without them, `fail_on` unless `--fail-on` was given.
/// Verification itself is never turned on by the file.
fn with_project_verify(common: &Common, project: &Project) -> anyhow::Result<Common> {
    for warning in &project.warnings {
        diag::eprint(&format!("keyhound: warning: {warning}"));
    }
    let d = &project.verify;
    let mut c = common.clone();
    if let Some(v) = c.verify.as_mut() {
        config::project_verify(v, c.verify_given, d.concurrency, d.cache_ttl.as_deref())?;
    }
    if let Some(fail_on) = d.fail_on.as_deref().filter(|_| !c.gate.fail_on_given) {
        c.gate.fail_on = match fail_on {
            "any" => config::FailOn::Any,
            "live" if c.verify.is_some() => config::FailOn::Live,
            "live" => anyhow::bail!(
                "keyhound.toml: [verify] fail_on = \"live\" needs verification: pass --verify"
            ),
            other => anyhow::bail!(
                "keyhound.toml: [verify] fail_on = {:?}: expected \"any\" or \"live\"",
                rules::redact_key_shaped(other)
            ),
        };
    }
    Ok(c)
}

/// The baseline as commit `at` has it (a relative path is read from that commit's tree).
fn git_baseline(
    opts: &scan::git::GitOptions,
    at: &str,
    path: &Path,
) -> anyhow::Result<std::collections::HashSet<String>> {
    let rel = path.to_string_lossy().replace('\\', "/");
    match scan::git::file_at(opts, at, &rel)? {
        Some(text) => suppress::baseline::parse(&text).with_context(|| {
            format!("--baseline {rel} at {at}: not a keyhound JSON or JSON lines report")
        }),
        None => Ok(Default::default()),
    }
}

/// What a scan gathered, before sorting and reporting.
pub(crate) struct Done {
    findings: Vec<Finding>,
    skipped: Vec<Skipped>,
    stats: Stats,
    ignored_env: Vec<String>,
    started: Instant,
    /// The command's bar: the last handle, dropped once verified, clears it.
    progress: Progress,
}

impl Done {
    /// Nothing scanned.
    pub(crate) fn empty() -> Done {
        Done {
            findings: Vec::new(),
            skipped: Vec::new(),
            stats: Stats::default(),
            ignored_env: Vec::new(),
            started: Instant::now(),
            progress: Progress::hidden(),
        }
    }
}

/// `keyhound verify`: the keys on standard input, one a line, found by the rules and verified.
fn verify_stdin(common: &Common) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let rules = load_rules(&common.rules)?;
    let matcher = Matcher::new(rules.clone(), common.max_decode_depth);
    if io::stdin().is_terminal() {
        diag::eprint("keyhound: reading keys from standard input, one a line (Ctrl-D ends)");
    }
    // Streamed: only the runs of non-blank line numbers are kept, for the warnings below.
    let mut input = stdin_lines::LineTally::new(io::stdin().lock());
    // No bar while keys are typed or read: one for scanning and verifying them.
    let scanner = scanner(&matcher, common, Progress::new(common.progress));
    let mut outcome = BlobOutcome::default();
    let origin = finding::Origin::file("-");
    scanner.scan_reader(&mut input, &origin, 0, &mut outcome);
    let non_blank = input.non_blank();
    scanner
        .progress
        .suspend(|| warn_keyless_lines(&non_blank, &outcome.findings));
    let stats = Stats {
        files: 1,
        bytes: outcome.bytes,
        placeholders: outcome.placeholders,
        unattributed: outcome.unattributed,
        ..Stats::default()
    };
    let done = Done {
        findings: outcome.findings,
        skipped: outcome.skipped,
        stats,
        ignored_env: Vec::new(),
        started,
        progress: scanner.progress.clone(),
    };
    finish(common, &rules, done, open_output(common)?, None)
}

/// Warns about each non-blank input line of `keyhound verify` (runs of line numbers) that
/// holds no key: it is not checked.
fn warn_keyless_lines(non_blank: &[(u64, u64)], findings: &[Finding]) {
    let with_keys: std::collections::HashSet<u64> = findings.iter().map(|f| f.line).collect();
    let mut keyless = non_blank
        .iter()
        .flat_map(|&(a, b)| a..=b)
        .filter(|n| !with_keys.contains(n));
    for n in keyless.by_ref().take(diag::MAX_PER_REASON) {
        diag::eprint(&format!(
            "keyhound: warning: line {n} of standard input holds no key keyhound knows: not checked"
        ));
    }
    let more = keyless.count();
    if more > 0 {
        diag::eprint(&format!("keyhound: … and {more} more lines without a key"));
    }
}

/// Sorts what a scan gathered, verifies its keys when asked, writes the report and picks the
/// exit code.
fn finish(
    common: &Common,
    rules: &RuleSet,
    done: Done,
    mut out: output::Output,
    hook: Option<report::Hook>,
) -> anyhow::Result<Exit> {
    let (mut report, gate_hit) = build_report(common, rules, done);
    report.hook = hook;
    ignore_broken_pipe(write_report(common, &report, &mut out).and_then(|()| out.commit()))?;
    Ok(exit_for(gate_hit, report.complete, common.allow_incomplete))
}

/// Sorts what a scan gathered, verifies it when asked, and says whether it fails the gate.
pub(crate) fn build_report<'r>(
    common: &Common,
    rules: &'r RuleSet,
    mut done: Done,
) -> (ScanReport<'r>, bool) {
    done.findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    done.skipped
        .sort_by(|a, b| (&a.path, &a.reason).cmp(&(&b.path, &b.reason)));
    let complete = !done.skipped.iter().any(|s| s.incomplete);
    let verified = common.verify.as_ref().map(|cfg| {
        done.progress.set_phase(&verifying(&done.findings));
        verify::verify_findings(&done.findings, rules, cfg)
    });
    // The command's bar is cleared before its report is written; an audit's shared one goes on.
    drop(std::mem::take(&mut done.progress));
    let gate_hit = fails_gate(&done.findings, verified.as_ref(), common.gate.fail_on);
    let verified = verified.map(|v| hide_dead(&mut done.findings, v, common.gate.only_live));
    let stats = Stats {
        findings: done.findings.len() as u64,
        skipped: done.skipped.len() as u64,
        elapsed_ms: done.started.elapsed().as_millis() as u64,
        verification: verified.as_ref().map(|v| v.stats.clone()),
        providers: report::providers(rules),
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
        verdicts: verified.map(|v| v.verdicts),
        automation_id: None,
        hook: None,
    };
    (report, gate_hit)
}

/// What the bar says while the keys of `findings` are verified.
fn verifying(findings: &[Finding]) -> String {
    let keys: std::collections::HashSet<&str> =
        findings.iter().map(|f| f.fingerprint.as_str()).collect();
    match keys.len() {
        1 => "verifying 1 key".to_string(),
        n => format!("verifying {n} keys"),
    }
}

/// Writes the report; with verification, JSON lines findings (held back until verified) first.
pub(crate) fn write_report(
    common: &Common,
    report: &ScanReport<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    if common.format == Format::Jsonl && common.verify.is_some() {
        report::json::write_lines(
            &report.findings,
            &report.skipped,
            report.rules,
            common.show_secrets,
            report.verdicts.as_ref(),
            out,
        )?;
    }
    report.write(common.format, out)?;
    out.flush()
}

/// Whether the findings make the exit code 1: any finding, or with `--fail-on live` a key not
/// proven dead (a blocked network must not pass a gate).
fn fails_gate(findings: &[Finding], verified: Option<&Verified>, fail_on: FailOn) -> bool {
    match (fail_on, verified) {
        (FailOn::Live, Some(v)) => findings.iter().any(|f| {
            v.verdicts
                .get(&f.fingerprint)
                .is_none_or(|v| v.status.may_work())
        }),
        _ => !findings.is_empty(),
    }
}

/// With `--only-live`, drops the findings of keys proven dead and counts them.
fn hide_dead(findings: &mut Vec<Finding>, mut verified: Verified, only_live: bool) -> Verified {
    if only_live {
        let before = findings.len();
        let verdicts: &Verdicts = &verified.verdicts;
        findings.retain(|f| {
            verdicts
                .get(&f.fingerprint)
                .is_none_or(|v| v.status.may_work())
        });
        verified.stats.hidden = (before - findings.len()) as u64;
    }
    verified
}

pub(crate) fn exit_for(gate_hit: bool, complete: bool, allow_incomplete: bool) -> Exit {
    if gate_hit {
        Exit::Findings
    } else if !complete && !allow_incomplete {
        Exit::Error
    } else {
        Exit::Clean
    }
}

/// Where the report of `cfg` goes: standard output or the `-o` file (see `output`).
pub(crate) fn open_output(cfg: &Common) -> anyhow::Result<output::Output> {
    output::open(cfg.output.as_deref(), "the report", output::Access::Shared)
}

fn stream_lines(
    findings: &[Finding],
    skipped: &[Skipped],
    rules: &RuleSet,
    show: bool,
    out: &Mutex<output::Output>,
) {
    let mut out = out.lock().unwrap_or_else(|p| p.into_inner());
    let result = report::json::write_lines(findings, skipped, rules, show, None, &mut *out);
    if let Err(e) = ignore_broken_pipe(result) {
        diag::eprint(&format!("keyhound: error: writing the report: {e}"));
    }
}

/// A closed pipe (`keyhound scan | head`) is not an error.
pub(crate) fn ignore_broken_pipe(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}
