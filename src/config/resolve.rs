//! `Common::resolve`: a repository's keyhound.toml and .keyhoundignore brought under the command
//! line, in one step (as uv's `Settings::resolve`). The command line wins; the file fills in what
//! it left alone, and never turns verification on.

use super::{Common, UsageError, clamp_threads};
use crate::exit::FailOn;
use crate::suppress::project::Project;
use crate::verify::{self, VerifyConfig};

impl Common {
    /// These settings with `project`'s under them: its rule folders before `--rules`, its
    /// providers unless `--provider`/`--exclude-provider` were given, its `[verify]` defaults.
    /// Its warnings are printed here. (Its allow-lists become `Suppressions`.)
    pub fn resolve(&self, project: &Project) -> Result<Common, UsageError> {
        for warning in &project.warnings {
            crate::diag::eprint(&format!("keyhound: warning: {warning}"));
        }
        let mut c = self.clone();
        c.rules.repo.clone_from(&project.rule_paths);
        let pick =
            |cli: &[String], toml: &[String]| if cli.is_empty() { toml } else { cli }.to_vec();
        c.rules.providers = pick(&self.rules.providers, &project.providers);
        c.rules.exclude_providers = pick(&self.rules.exclude_providers, &project.exclude_providers);
        let d = &project.verify;
        if let Some(v) = c.verify.as_mut() {
            project_verify(v, c.verify_given, d.concurrency, d.cache_ttl.as_deref())?;
        }
        if let Some(fail_on) = d.fail_on.as_deref().filter(|_| !c.gate.fail_on_given) {
            c.gate.fail_on = project_fail_on(fail_on, c.verify.is_some())?;
        }
        Ok(c)
    }
}

/// keyhound.toml's `[verify] fail_on`; `verifying` says whether `--verify` was given.
fn project_fail_on(fail_on: &str, verifying: bool) -> Result<FailOn, UsageError> {
    match fail_on {
        "any" => Ok(FailOn::Any),
        "live" if verifying => Ok(FailOn::Live),
        "live" => Err(UsageError(
            "keyhound.toml: [verify] fail_on = \"live\" needs verification: pass --verify".into(),
        )),
        other => Err(UsageError(format!(
            "keyhound.toml: [verify] fail_on = {:?}: expected \"any\" or \"live\"",
            crate::rules::redact_key_shaped(other)
        ))),
    }
}

/// keyhound.toml's `[verify]` concurrency and cache TTL, for the settings the command line
/// (`given`) left alone; the concurrency is clamped like `--verify-concurrency`.
fn project_verify(
    v: &mut VerifyConfig,
    given: super::VerifyGiven,
    concurrency: Option<usize>,
    cache_ttl: Option<&str>,
) -> Result<(), UsageError> {
    if let Some(n) = concurrency.filter(|_| !given.concurrency) {
        if n == 0 {
            return Err(UsageError(
                "keyhound.toml: [verify] concurrency must be at least 1".into(),
            ));
        }
        v.concurrency = clamp_threads("keyhound.toml: [verify] concurrency", n);
    }
    if let Some(s) = cache_ttl.filter(|_| !given.cache_ttl) {
        let ttl = verify::clock::parse_duration(s).ok_or_else(|| {
            UsageError(
                "keyhound.toml: [verify] cache_ttl: expected a duration such as 90s, 30m, 24h or 7d"
                    .into(),
            )
        })?;
        if ttl > MAX_PROJECT_TTL {
            crate::diag::eprint(
                "keyhound: warning: keyhound.toml: [verify] cache_ttl is more than 7d; using 7d",
            );
        }
        v.cache.ttl = ttl.min(MAX_PROJECT_TTL);
    }
    Ok(())
}

/// The longest cache TTL a repository may set.
const MAX_PROJECT_TTL: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);
