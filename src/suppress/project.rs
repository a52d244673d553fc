//! The repository's own settings, read from its root: `.keyhoundignore` (path globs in
//! `.gitignore` syntax, and `kh1:` fingerprints) and `keyhound.toml` (allowed paths and
//! fingerprints, extra rule folders, verification defaults — never the verification endpoint).

use crate::rules::{redact_key_shaped, toml_error};
use anyhow::{Context as _, anyhow, bail};
use serde::Deserialize;
use std::path::{Component, Path, PathBuf};

/// The file names read at the repository root.
pub const IGNORE_FILE: &str = ".keyhoundignore";
pub const CONFIG_FILE: &str = "keyhound.toml";

/// The root files as text, wherever they came from (the work tree, or a commit's tree).
#[derive(Debug, Clone, Default)]
pub struct RootFiles {
    /// Where they were read, for messages: a directory, or `<commit>:`.
    pub origin: String,
    pub ignore: Option<String>,
    pub config: Option<String>,
}

impl RootFiles {
    /// Reads the root files of the directory `root`. A symbolic link there is refused, never
    /// followed: the repository chooses it, and could point it at any file of the machine.
    pub fn from_dir(root: &Path) -> anyhow::Result<RootFiles> {
        Ok(RootFiles {
            origin: root.display().to_string(),
            ignore: read_root_file(&root.join(IGNORE_FILE))?,
            config: read_root_file(&root.join(CONFIG_FILE))?,
        })
    }
}

/// A root file's text; None when there is none; an error for a link or a non-regular file.
fn read_root_file(path: &Path) -> anyhow::Result<Option<String>> {
    let kind = match std::fs::symlink_metadata(path) {
        Ok(m) => m.file_type(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read it", path.display())),
    };
    if kind.is_symlink() {
        bail!(
            "{}: a symbolic link; keyhound does not follow links for a repository's settings \
             (replace it by the file itself)",
            path.display()
        );
    }
    if !kind.is_file() {
        bail!("{}: not a regular file", path.display());
    }
    std::fs::read_to_string(path)
        .map(Some)
        .with_context(|| format!("{}: cannot read it", path.display()))
}

/// The directory whose root files apply to a scan of `start`: the top of the git work tree
/// holding it, else `start` itself (its directory, for a file).
pub fn find_root(start: &Path) -> PathBuf {
    let abs = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
    let dir = if abs.is_dir() {
        abs
    } else {
        abs.parent().map_or_else(|| abs.clone(), Path::to_path_buf)
    };
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(&dir)
        .to_path_buf()
}

/// What the root files say.
#[derive(Debug, Clone, Default)]
pub struct Project {
    /// Path globs (`.gitignore` syntax) whose keys are not reported.
    pub allow_paths: Vec<String>,
    /// Fingerprints (`kh1:…`) not reported anywhere.
    pub allow_fingerprints: Vec<String>,
    /// Extra rule files or folders, resolved against the root.
    pub rule_paths: Vec<PathBuf>,
    /// `[rules] providers` and `exclude_providers`: defaults `--provider` and
    /// `--exclude-provider` override.
    pub providers: Vec<String>,
    pub exclude_providers: Vec<String>,
    pub verify: VerifyDefaults,
    /// Settings turned away, to print as warnings (fixed text: nothing from the file).
    pub warnings: Vec<String>,
}

/// `[verify]` in keyhound.toml: defaults a command line overrides, used only when `--verify`
/// turns verification on (a repository can never turn it on).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VerifyDefaults {
    pub fail_on: Option<String>,
    pub concurrency: Option<usize>,
    /// How long a cached `dead` verdict holds (`24h`).
    pub cache_ttl: Option<String>,
}

/// Why `[verify] enabled` is ignored.
pub const ENABLED_IGNORED: &str = "keyhound.toml: [verify] enabled is ignored: a repository cannot \
     turn verification on (keys would be sent without --verify); pass --verify to verify";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    allow: AllowSection,
    #[serde(default)]
    rules: RulesSection,
    #[serde(default)]
    verify: Option<toml::Table>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowSection {
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    fingerprints: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesSection {
    #[serde(default)]
    paths: Vec<PathBuf>,
    #[serde(default)]
    providers: Vec<String>,
    #[serde(default)]
    exclude_providers: Vec<String>,
}

/// Keys of `[verify]` that would send keys elsewhere: a repository must never choose them.
const ENDPOINT_KEYS: [&str; 3] = ["base_url", "openai_base_url", "endpoint"];

impl Project {
    /// Parses the root files; `root` resolves rule folders (None: they cannot be used, as when
    /// the files come from a commit rather than a directory).
    pub fn parse(files: &RootFiles, root: Option<&Path>) -> anyhow::Result<Project> {
        let mut p = Project::default();
        if let Some(text) = &files.ignore {
            parse_ignore(text, &mut p);
        }
        if let Some(text) = &files.config {
            let at = format!("{}/{CONFIG_FILE}", files.origin.trim_end_matches('/'));
            p.merge_config(text, root).with_context(|| at)?;
        }
        Ok(p)
    }

    fn merge_config(&mut self, text: &str, root: Option<&Path>) -> anyhow::Result<()> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| anyhow!(toml_error(&e, text)))?;
        self.allow_paths.extend(file.allow.paths);
        self.allow_fingerprints.extend(file.allow.fingerprints);
        if let Some(mut verify) = file.verify {
            if verify.remove("enabled").is_some() {
                self.warnings.push(ENABLED_IGNORED.to_string());
            }
            if let Some(k) = ENDPOINT_KEYS.iter().find(|k| verify.contains_key(**k)) {
                bail!(
                    "[verify] {k}: a repository cannot choose where keys are sent; \
                     use --openai-base-url on the command line"
                );
            }
            self.verify = verify.try_into().map_err(|e: toml::de::Error| {
                anyhow!("[verify] {}", redact_key_shaped(e.message()))
            })?;
        }
        self.providers.extend(file.rules.providers);
        self.exclude_providers.extend(file.rules.exclude_providers);
        for rel in file.rules.paths {
            match root {
                Some(r) => self.rule_paths.push(inside(r, &rel)?),
                None => bail!("[rules] paths: rule folders are read from a work tree only"),
            }
        }
        Ok(())
    }

    /// True when nothing is configured.
    pub fn is_empty(&self) -> bool {
        self.allow_paths.is_empty() && self.allow_fingerprints.is_empty()
    }
}

/// `rel` under `root`, when it names a place inside it: relative, without `..`, and through no
/// symbolic link (a link to a folder outside would read any file of the machine).
fn inside(root: &Path, rel: &Path) -> anyhow::Result<PathBuf> {
    let shown = redact_key_shaped(&rel.display().to_string());
    let mut path = root.to_path_buf();
    for part in rel.components() {
        match part {
            Component::Normal(name) => path.push(name),
            Component::CurDir => {}
            _ => bail!(
                "[rules] paths: {shown:?} is not inside the repository; name a folder or \
                 *.toml file relative to its root, without `..`"
            ),
        }
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            bail!(
                "[rules] paths: {shown:?} goes through a symbolic link ({}), which keyhound \
                 does not follow for a repository's rules",
                path.display()
            );
        }
    }
    Ok(path)
}

/// `.keyhoundignore`: a `kh1:` line (optionally followed by a `#` comment) is a fingerprint;
/// any other line that is not blank or a comment is a path glob.
fn parse_ignore(text: &str, p: &mut Project) {
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if t.starts_with("kh1:") {
            let fp = t
                .split(|c: char| c.is_whitespace() || c == '#')
                .next()
                .unwrap_or(t);
            p.allow_fingerprints.push(fp.to_string());
        } else {
            p.allow_paths.push(line.trim_end().to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(ignore: Option<&str>, config: Option<&str>) -> RootFiles {
        RootFiles {
            origin: "repo".into(),
            ignore: ignore.map(str::to_string),
            config: config.map(str::to_string),
        }
    }

    #[test]
    fn ignore_lines_are_globs_or_fingerprints() {
        let text = "# fixtures\ntests/fixtures/\n\nkh1:0123abcd  # a test key\n*.snap\n";
        let p = Project::parse(&files(Some(text), None), None).unwrap();
        assert_eq!(p.allow_paths, ["tests/fixtures/", "*.snap"]);
        assert_eq!(p.allow_fingerprints, ["kh1:0123abcd"]);
    }

    #[test]
    fn config_allows_paths_and_rules_but_never_an_endpoint() {
        let text = "[allow]\npaths = [\"docs/**\"]\n[rules]\npaths = [\"rules\"]\n[verify]\nenabled = true\nconcurrency = 4\n";
        let p = Project::parse(&files(None, Some(text)), Some(Path::new("/r"))).unwrap();
        assert_eq!(p.allow_paths, ["docs/**"]);
        assert_eq!(p.rule_paths, [PathBuf::from("/r/rules")]);
        assert_eq!(p.verify.concurrency, Some(4));
        assert_eq!(p.warnings, [ENABLED_IGNORED]);
        let evil = "[verify]\nbase_url = \"https://evil.example\"\n";
        let err = Project::parse(&files(None, Some(evil)), None).unwrap_err();
        assert!(format!("{err:#}").contains("cannot choose where keys are sent"));
        assert!(Project::parse(&files(None, Some("[allow]\nbogus = 1\n")), None).is_err());
    }
}
