//! The one pipeline of every scanning command, as ripgrep's `HiArgs`: the rules, matcher,
//! suppressions and progress bar built once from the resolved settings (`Pipeline`); what the
//! workers gathered counted in one place (`Gathered`); that turned into one report, written,
//! with its exit code (`report`). `repository` runs it over a git repository (`git`, `ci`).

mod gathered;
mod repo;
mod report;

pub use gathered::Gathered;
pub use repo::repository;

use crate::config::{Common, RuleSource};
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

    /// For the repository whose root files are `project`: the settings resolved with them
    /// (`Common::resolve`), its allow-lists (paths relative to `root`) and the fingerprints
    /// `baseline` reads. `started` is when the command began.
    pub fn for_project(
        common: &Common,
        project: &Project,
        root: &Path,
        baseline: impl FnOnce(&Common) -> anyhow::Result<HashSet<String>>,
        started: Instant,
    ) -> anyhow::Result<Pipeline> {
        let common = common.resolve(project)?;
        let rules = load_rules(&common.rules)?;
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
        let matcher = Matcher::new(rules.clone(), common.max_decode_depth).with_join(common.join);
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
}

/// The built-in rules, the repository's and those of `--rules`, less the disabled ones and
/// other providers'.
pub fn load_rules(src: &RuleSource) -> anyhow::Result<Arc<RuleSet>> {
    let mut set = rules::load_rule_files_with(&src.repo, &src.extra, &src.disabled)?;
    set.select_providers(&src.providers, &src.exclude_providers)?;
    if let ([provider], true) = (src.providers.as_slice(), src.attest) {
        set.attest(provider);
    }
    Ok(Arc::new(set))
}

/// The fingerprints of `--baseline`, if given.
pub fn load_baseline(common: &Common) -> anyhow::Result<HashSet<String>> {
    common
        .baseline
        .as_deref()
        .map_or_else(|| Ok(HashSet::new()), crate::suppress::baseline::load)
}
