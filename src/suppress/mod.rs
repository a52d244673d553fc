//! Suppression: what keeps a found key out of the report, and the count of each reason, so that
//! nothing disappears without a trace. Inline allow comments are checked while scanning (they
//! need the line); allowed paths, `.keyhoundignore` fingerprints and `--baseline` reports are
//! applied to the findings afterwards.

pub mod baseline;
pub mod inline;
pub mod project;

use crate::finding::Finding;
use crate::stats::Suppressed;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use project::Project;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Everything that suppresses findings after the scan.
#[derive(Debug)]
pub struct Suppressions {
    /// Allowed paths, relative to `root`.
    paths: Gitignore,
    root: PathBuf,
    fingerprints: HashSet<String>,
    baseline: HashSet<String>,
}

impl Suppressions {
    /// `root` is the directory the allowed paths are relative to (a repository's top level);
    /// finding paths are joined to `base` before being matched (the directory they are relative to).
    pub fn new(project: &Project, baseline: HashSet<String>, root: &Path) -> anyhow::Result<Self> {
        let mut b = GitignoreBuilder::new(root);
        for glob in &project.allow_paths {
            b.add_line(None, glob)
                .map_err(|e| anyhow::anyhow!("allowed path {glob:?}: {e}"))?;
        }
        Ok(Suppressions {
            paths: b.build()?,
            root: root.to_path_buf(),
            fingerprints: project.allow_fingerprints.iter().cloned().collect(),
            baseline,
        })
    }

    /// None of them: nothing is suppressed after the scan.
    pub fn none() -> Self {
        Suppressions {
            paths: Gitignore::empty(),
            root: PathBuf::new(),
            fingerprints: HashSet::new(),
            baseline: HashSet::new(),
        }
    }

    /// Drops the suppressed findings and counts them by reason. `path_base` is the directory
    /// finding paths are relative to (the current directory for `scan`, the repository's top for
    /// `git`); paths outside `root` are never path-suppressed.
    pub fn apply(
        &self,
        findings: Vec<Finding>,
        path_base: &Path,
        counts: &mut Suppressed,
    ) -> Vec<Finding> {
        findings
            .into_iter()
            .filter(|f| match self.reason(f, path_base) {
                None => true,
                Some(Reason::Path) => bump(&mut counts.path),
                Some(Reason::Fingerprint) => bump(&mut counts.fingerprint),
                Some(Reason::Baseline) => bump(&mut counts.baseline),
            })
            .collect()
    }

    fn reason(&self, f: &Finding, base: &Path) -> Option<Reason> {
        if self.baseline.contains(&f.fingerprint) {
            return Some(Reason::Baseline);
        }
        if self.fingerprints.contains(&f.fingerprint) {
            return Some(Reason::Fingerprint);
        }
        let in_message = f.git.as_ref().is_some_and(|g| g.in_message());
        (!in_message && self.path_allowed(&base.join(&f.origin.path))).then_some(Reason::Path)
    }

    fn path_allowed(&self, path: &Path) -> bool {
        let Ok(rel) = path.strip_prefix(&self.root) else {
            return false;
        };
        let rel: PathBuf = rel
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect();
        !rel.as_os_str().is_empty()
            && self
                .paths
                .matched_path_or_any_parents(&rel, false)
                .is_ignore()
    }
}

enum Reason {
    Path,
    Fingerprint,
    Baseline,
}

/// Counts one suppression; false, so the finding is filtered out.
fn bump(n: &mut u64) -> bool {
    *n += 1;
    false
}
