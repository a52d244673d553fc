//! The one pipeline of every scanning command, as ripgrep's `HiArgs`: the rules, matcher,
//! suppressions and progress bar built once from the resolved settings (`Pipeline`); what the
//! workers gathered counted in one place (`Gathered`); that turned into one report, written,
//! with its exit code (`report`). `repository` runs it over a git repository (`git`, `ci`).

mod gathered;
mod repo;
mod report;

pub use gathered::Gathered;
pub use repo::repository;

use crate::config::{self, Common, Format, RuleSource};
use crate::matcher::Matcher;
use crate::progress::Progress;
use crate::rules::{self, RuleSet};
use crate::scan::Scanner;
use crate::suppress::Suppressions;
use crate::suppress::project::Project;
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// What a scanning command runs with, built once.
pub struct Pipeline {
    /// The settings, with the repository's keyhound.toml defaults applied.
    pub common: Common,
    pub rules: Arc<RuleSet>,
    matcher: Matcher,
    /// The repository's allow-lists and the baseline (none for `verify` and audits).
    pub suppressions: Suppressions,
    /// The command's bar (an audit's, shared by its repositories).
    pub progress: Progress,
    started: Instant,
}

/// When the findings of a JSON lines report are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// Not a JSON lines report.
    No,
    /// As they are found: nothing to wait for.
    AsFound,
    /// With the summary, once verified.
    Verified,
}

impl Pipeline {
    /// The built-in and command-line rules, nothing suppressed (`keyhound verify`, audits).
    pub fn new(common: &Common, progress: Progress) -> anyhow::Result<Pipeline> {
        let started = Instant::now();
        let rules = load_rules(&common.rules)?;
        Ok(Pipeline::with(
            common.clone(),
            rules,
            Suppressions::none(),
            progress,
            started,
        ))
    }

    /// For the repository whose root files are `project`: its rules, `[verify]` defaults and
    /// allow-lists (paths relative to `root`) under the command line, and the fingerprints
    /// `baseline` reads. `started` is when the command began.
    pub fn for_project(
        common: &Common,
        project: &Project,
        root: &Path,
        baseline: impl FnOnce(&Common) -> anyhow::Result<HashSet<String>>,
        started: Instant,
    ) -> anyhow::Result<Pipeline> {
        let common = with_project_verify(common, project)?;
        let rules = load_project_rules(&common.rules, project)?;
        let suppressions = Suppressions::new(project, baseline(&common)?, root)?;
        let progress = Progress::new(common.progress);
        Ok(Pipeline::with(
            common,
            rules,
            suppressions,
            progress,
            started,
        ))
    }

    fn with(
        common: Common,
        rules: Arc<RuleSet>,
        suppressions: Suppressions,
        progress: Progress,
        started: Instant,
    ) -> Pipeline {
        let matcher = Matcher::new(rules.clone(), common.max_decode_depth);
        Pipeline {
            common,
            rules,
            matcher,
            suppressions,
            progress,
            started,
        }
    }

    /// A scanner over the pipeline's matcher, with its limits, counting on its bar.
    pub fn scanner(&self) -> Scanner<'_> {
        Scanner {
            matcher: &self.matcher,
            limits: self.common.limits.clone(),
            inline_allow: self.common.inline_allow,
            progress: self.progress.clone(),
        }
    }

    /// The one place that decides when JSON lines findings are written.
    pub fn lines(&self) -> Lines {
        match (self.common.format, &self.common.verify) {
            (Format::Jsonl, None) => Lines::AsFound,
            (Format::Jsonl, Some(_)) => Lines::Verified,
            _ => Lines::No,
        }
    }
}

/// The built-in rules, those of `--rules`, less the disabled ones and other providers'.
pub fn load_rules(src: &RuleSource) -> anyhow::Result<Arc<RuleSet>> {
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
pub fn load_baseline(common: &Common) -> anyhow::Result<HashSet<String>> {
    common
        .baseline
        .as_deref()
        .map_or_else(|| Ok(Default::default()), crate::suppress::baseline::load)
}

/// keyhound.toml's `[verify]` defaults, under what the command line says: concurrency and cache
/// TTL apply when `--verify` is given without them, `fail_on` unless `--fail-on` was given.
/// Verification itself is never turned on by the file.
fn with_project_verify(common: &Common, project: &Project) -> anyhow::Result<Common> {
    for warning in &project.warnings {
        crate::diag::eprint(&format!("keyhound: warning: {warning}"));
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
