//! Repositories libgit2 cannot open, read through `git` commands: SHA-256 object ids and refs
//! kept as reftable. git writes a SHA-256 id as 64 hex digits; the scan carries each as its
//! first 160 bits (in the `Oid` every other id travels in), which git takes back as an
//! abbreviated name, and the ids a report shows are widened to 64 digits at the end. Whole
//! histories (read as the `cat-file` reader reads them, a shallow clone's ending at its
//! boundary; with `--all-objects`, every object), HEAD's tree alone (`keyhound ci`'s SARIF),
//! `--range`, `--staged`, commit messages and what a push sends or brings (`--pre-push`,
//! `--pre-receive`) are scanned; `--all-objects` in a repository borrowing objects from another
//! exits 2 naming the format.

use super::command::git as git_command;
use super::lookup::Lookup;
use super::meta::{CommitMeta, meta_of_head};
use super::objects::{SHA1_HEX, SHA256_HEX, commit_head_by_git, hex_oid};
use super::pipe::git;
use super::tips::{Presence, Tips};
use super::{GitOptions, GitOutcome};
use crate::finding::Skipped;
use anyhow::{Context as _, bail};
use git2::{ObjectType, Oid};
use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// A repository read through git.
#[derive(Debug)]
pub(super) struct GitDir {
    /// The `.git` directory (the repository itself when bare).
    dir: PathBuf,
    workdir: Option<PathBuf>,
    sha256: bool,
    reftable: bool,
    /// The repository as the command line named it.
    shown: String,
}

/// Variables that point git at another repository; ignored when a path names the repository.
const REPO_ENV: [&str; 6] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
];

impl GitDir {
    /// Opens with git the repository libgit2 refused for its format (`refusal` says which);
    /// `from_env`: as git's hooks expect (GIT_DIR, GIT_INDEX_FILE honoured).
    pub fn open(
        opts: &GitOptions,
        shown: &str,
        from_env: bool,
        refusal: &str,
    ) -> anyhow::Result<GitDir> {
        let ask = |args: &[&str]| -> Option<String> {
            let mut cmd = git_command();
            if let Some(p) = &opts.repo {
                cmd.current_dir(p);
            }
            if !from_env {
                for var in REPO_ENV {
                    cmd.env_remove(var);
                }
            }
            let out = cmd.args(args).stderr(Stdio::null()).output().ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_string())
        };
        let found = ask(&["rev-parse", "--absolute-git-dir", "--show-object-format"]);
        let Some(found) = found else {
            bail!(
                "{shown}: {refusal}; keyhound reads such repositories through git, which could \
                 not open it (is git 2.45 or later installed?); nothing was scanned"
            );
        };
        let mut lines = found.lines();
        let git_dir = PathBuf::from(lines.next().unwrap_or_default());
        let sha256 = lines.next() == Some("sha256");
        let bare = ask(&["rev-parse", "--is-bare-repository"]).as_deref() == Some("true");
        let workdir = if bare {
            None
        } else {
            ask(&["rev-parse", "--show-toplevel"]).map(PathBuf::from)
        };
        let reftable = ask(&["rev-parse", "--show-ref-format"]).as_deref() == Some("reftable");
        let dir = GitDir {
            dir: git_dir,
            workdir,
            sha256,
            reftable,
            shown: shown.to_string(),
        };
        dir.refuse_partial_clone()?;
        Ok(dir)
    }

    pub fn git_dir(&self) -> &Path {
        &self.dir
    }

    pub fn workdir(&self) -> Option<&Path> {
        self.workdir.as_deref()
    }

    /// Bytes of an object id in a raw tree.
    pub fn id_width(&self) -> usize {
        if self.sha256 { 32 } else { 20 }
    }

    /// The repository's format, as errors name it.
    pub fn format(&self) -> &'static str {
        match (self.sha256, self.reftable) {
            (true, true) => {
                "a SHA-256 repository storing its refs as reftable (extensions.objectFormat, \
                 extensions.refStorage)"
            }
            (true, false) => "a SHA-256 repository (extensions.objectFormat = sha256)",
            _ => "a repository storing its refs as reftable (extensions.refStorage)",
        }
    }

    /// An error for what this route does not scan: named with the format, nothing reported.
    pub fn unsupported(&self, what: &str) -> anyhow::Error {
        anyhow::anyhow!(
            "{}: {}: keyhound reads its whole history (with --all-objects too), HEAD's tree, \
             --range, --staged, commit messages and the push hooks through git, but not {what} \
             yet; nothing was scanned",
            self.shown,
            self.format()
        )
    }

    /// Refuses what a whole-history scan through git cannot read in full: `--all-objects` in
    /// a repository borrowing objects from another (`git cat-file` lists those too, as if they
    /// were this repository's).
    pub fn check_history(&self, opts: &GitOptions) -> anyhow::Result<()> {
        let alternates = self.dir.join("objects/info/alternates");
        let borrows = std::fs::read_to_string(alternates).is_ok_and(|text| {
            (text.lines().map(str::trim)).any(|l| !l.is_empty() && !l.starts_with('#'))
        });
        if opts.all_objects && borrows {
            return Err(self.unsupported(
                "--all-objects in a repository that borrows objects from another \
                 (objects/info/alternates)",
            ));
        }
        Ok(())
    }

    /// The commits the stash holds: its reflog's and `refs/stash`'s.
    pub fn stash_tips(&self) -> Vec<Oid> {
        let listed = self.output(&["reflog", "show", "--format=%H", "refs/stash", "--"]);
        let mut tips = hex_lines(&listed.unwrap_or_default());
        let stash = self.objects(&["refs/stash^{commit}".to_string()]);
        tips.extend(
            stash
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|(id, _)| hex_oid(id.as_bytes())),
        );
        tips
    }

    /// The commits every reflog names (old and new ids), those of the stash among them.
    pub fn reflog_tips(&self) -> Vec<Oid> {
        hex_lines(
            &self
                .output(&["rev-list", "--reflog", "--no-walk"])
                .unwrap_or_default(),
        )
    }

    /// A shallow clone's boundary commits (their parents were never fetched); None when the
    /// clone is not shallow.
    pub fn shallow_boundary(&self) -> Option<Vec<Oid>> {
        let text = std::fs::read(self.dir.join("shallow")).ok()?;
        let ids = text
            .split(|&b| b == b'\n')
            .filter_map(|l| hex_oid(l.trim_ascii()));
        Some(ids.collect())
    }

    /// `git ARGS` on this repository: its standard output, None when it fails.
    pub fn output(&self, args: &[&str]) -> Option<Vec<u8>> {
        let out = git(&self.dir)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .ok()?;
        out.status.success().then_some(out.stdout)
    }

    fn refuse_partial_clone(&self) -> anyhow::Result<()> {
        let pattern = r"^(extensions\.partialclone|remote\..*\.promisor)$";
        let listed = self
            .output(&["config", "--get-regexp", pattern])
            .unwrap_or_default();
        let promisor = String::from_utf8_lossy(&listed).lines().any(|l| {
            let (key, value) = l.split_once(' ').unwrap_or((l, ""));
            key.eq_ignore_ascii_case("extensions.partialclone")
                || value.eq_ignore_ascii_case("true")
        });
        if promisor {
            bail!(super::open::partial_clone(&self.shown));
        }
        Ok(())
    }

    /// What `git cat-file --batch-check` says of each name: the object's full id (hex) and its
    /// type, or None when it is missing. None when git fails.
    pub fn objects(&self, names: &[String]) -> Option<Vec<Option<(String, String)>>> {
        let mut child = git(&self.dir)
            .args(["cat-file", "--batch-check=%(objectname) %(objecttype)"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .ok()?;
        let stdin = child.stdin.take()?;
        let input: Vec<u8> = names
            .iter()
            .flat_map(|n| format!("{n}\n").into_bytes())
            .collect();
        let fed = crate::threads::spawn("keyhound-feed", move || {
            let mut stdin = stdin;
            stdin.write_all(&input).ok()
        });
        let out = child.wait_with_output().ok()?;
        fed.ok()?.join().ok()??;
        let text = String::from_utf8_lossy(&out.stdout);
        let answers: Vec<_> = (text.lines())
            .map(|line| {
                let (id, kind) = line.split_once(' ')?;
                let known = ["commit", "tree", "blob", "tag"].contains(&kind);
                (known && hex_oid(id.as_bytes()).is_some()).then(|| (id.into(), kind.into()))
            })
            .collect();
        (out.status.success() && answers.len() == names.len()).then_some(answers)
    }

    /// The full ids of the abbreviated ids in `outcome` (40 hex digits of a SHA-256 id),
    /// put back in every place a report shows them.
    pub fn widen(&self, outcome: &mut GitOutcome) {
        if !self.sha256 {
            return;
        }
        let mut texts: Vec<&mut String> = Vec::new();
        for f in &mut outcome.findings {
            texts.push(&mut f.origin.path);
            if let Some(g) = f.git.as_mut() {
                let g = &mut **g;
                texts.extend(g.commit.as_mut());
                texts.extend(g.blob.as_mut());
                texts.extend(g.last_seen.as_mut());
            }
        }
        texts.extend(outcome.head_commit.as_mut());
        for s in &mut outcome.skipped {
            texts.push(&mut s.path);
            texts.push(&mut s.reason);
        }
        self.widen_texts(texts);
    }

    /// `s` with the abbreviated ids it names widened, for a warning printed during the scan.
    pub fn widened(&self, s: &Skipped) -> Skipped {
        let mut s = s.clone();
        if self.sha256 {
            self.widen_texts(vec![&mut s.path, &mut s.reason]);
        }
        s
    }

    /// Every abbreviated id in `texts` replaced by its 64 hex digits (asked of git once).
    fn widen_texts(&self, texts: Vec<&mut String>) {
        let mut short: Vec<String> = texts.iter().flat_map(|t| short_ids(t)).collect();
        short.sort();
        short.dedup();
        if short.is_empty() {
            return;
        }
        let Some(answers) = self.objects(&short) else {
            return;
        };
        let full: HashMap<&str, String> = (short.iter().map(String::as_str))
            .zip(answers)
            .filter_map(|(s, a)| Some((s, a?.0)))
            .filter(|(s, f)| f.len() == SHA256_HEX && f.starts_with(s))
            .collect();
        for t in texts {
            for s in short_ids(t) {
                if let Some(f) = full.get(s.as_str()) {
                    *t = t.replace(&s, f);
                }
            }
        }
    }
}

/// The ids of `out`, one a line.
fn hex_lines(out: &[u8]) -> Vec<Oid> {
    (out.split(|&b| b == b'\n'))
        .filter_map(|l| hex_oid(l.trim_ascii()))
        .collect()
}

/// The runs of exactly 40 hex digits in `text`: the ids a SHA-256 scan abbreviated.
fn short_ids(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
            i += 1;
        }
        if i - start == SHA1_HEX {
            out.push(text[start..i].to_string());
        }
        i += 1;
    }
    out
}

/// The paths of `git status --porcelain=v1 -z` entries an audit scans: added, modified,
/// renamed or type-changed in the index or the work tree, untracked (`??`), ignored (`!!`).
fn status_paths(out: &[u8]) -> Vec<String> {
    let mut paths = Vec::new();
    let mut fields = out.split(|&b| b == 0);
    while let Some(entry) = fields.next() {
        let (Some(&[x, y]), Some(path)) = (entry.get(..2), entry.get(3..)) else {
            continue;
        };
        if matches!(x, b'R' | b'C') {
            fields.next(); // the path it was renamed or copied from
        }
        let staged = matches!(x, b'A' | b'M' | b'R' | b'T');
        let changed = matches!(y, b'M' | b'T' | b'R');
        if staged || changed || matches!([x, y], [b'?', b'?'] | [b'!', b'!']) {
            paths.push(String::from_utf8_lossy(path).into_owned());
        }
    }
    paths
}

/// Whether `name` matches `glob`, whose `*` matches any run of characters.
fn glob_matches(glob: &str, name: &str) -> bool {
    let mut parts = glob.split('*');
    let Some(mut rest) = name.strip_prefix(parts.next().unwrap_or_default()) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        let Some(at) = rest.find(part) else {
            return false;
        };
        rest = &rest[at + part.len()..];
    }
    rest.ends_with(last)
}

fn object_type(kind: &str) -> Option<ObjectType> {
    match kind {
        "commit" => Some(ObjectType::Commit),
        "tree" => Some(ObjectType::Tree),
        "blob" => Some(ObjectType::Blob),
        "tag" => Some(ObjectType::Tag),
        _ => None,
    }
}

/// `main` for `refs/heads/main`, `origin/main` for `refs/remotes/origin/main`.
fn branch_name(name: &str) -> Option<String> {
    name.strip_prefix("refs/heads/")
        .or_else(|| name.strip_prefix("refs/remotes/"))
        .map(str::to_string)
}

impl GitDir {
    /// Every ref's name (with its symbolic target, when it is one).
    fn refs(&self, patterns: &[&str]) -> Option<Vec<(String, String)>> {
        let mut args = vec!["for-each-ref", "--format=%(refname) %(symref)"];
        args.extend_from_slice(patterns);
        let out = self.output(&args)?;
        let text = String::from_utf8_lossy(&out);
        Some(
            text.lines()
                .map(|l| {
                    let (name, sym) = l.split_once(' ').unwrap_or((l, ""));
                    (name.to_string(), sym.to_string())
                })
                .collect(),
        )
    }

    /// The commits the refs whose names match `glob` point at (`*` matching any run of
    /// characters, slashes too, as libgit2's reference globs do).
    pub fn commits_of_refs(&self, glob: &str) -> Vec<String> {
        let Some(refs) = self.refs(&[]) else {
            return Vec::new();
        };
        let names: Vec<String> = (refs.into_iter())
            .filter(|(name, _)| glob_matches(glob, name))
            .map(|(name, _)| format!("{name}^{{commit}}"))
            .collect();
        if names.is_empty() {
            return Vec::new();
        }
        let answers = self.objects(&names).unwrap_or_default();
        answers.into_iter().flatten().map(|(id, _)| id).collect()
    }

    /// What `git status` lists in the work tree besides deletions and conflicts: modified,
    /// added, renamed and type-changed files, untracked and ignored ones (folders whole), as
    /// paths in the work tree that exist.
    pub fn changed_paths(&self) -> Result<Vec<PathBuf>, String> {
        let workdir = self.workdir.as_deref().ok_or("no work tree")?;
        let mut cmd = git_command();
        for var in REPO_ENV {
            cmd.env_remove(var);
        }
        let out = (cmd.current_dir(workdir).arg("--git-dir").arg(&self.dir))
            .arg("--work-tree")
            .arg(workdir)
            .args(["--no-optional-locks", "status", "--porcelain=v1", "-z"])
            .args(["--untracked-files=normal", "--ignored=traditional"])
            .arg("--ignore-submodules=all")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run git status: {e}"))?;
        if !out.status.success() {
            return Err("git status failed".into());
        }
        let mut paths: Vec<PathBuf> = status_paths(&out.stdout)
            .into_iter()
            .map(|p| workdir.join(p.trim_end_matches('/')))
            .filter(|p| std::fs::symlink_metadata(p).is_ok())
            .collect();
        paths.sort();
        paths.dedup();
        Ok(paths)
    }

    /// The branches and their tips' trees, sorted (audits).
    fn branches(&self) -> Vec<(String, Oid)> {
        let Some(refs) = self.refs(&["refs/heads", "refs/remotes"]) else {
            return Vec::new();
        };
        let direct: Vec<String> = (refs.into_iter())
            .filter(|(_, sym)| sym.is_empty())
            .map(|(name, _)| name)
            .collect();
        let names: Vec<String> = direct.iter().map(|n| format!("{n}^{{tree}}")).collect();
        let Some(answers) = self.objects(&names) else {
            return Vec::new();
        };
        let mut out: Vec<(String, Oid)> = (direct.iter().zip(answers))
            .filter_map(|(name, a)| Some((branch_name(name)?, hex_oid(a?.0.as_bytes())?)))
            .collect();
        out.sort();
        out
    }
}

impl Lookup for GitDir {
    fn ref_targets(&self) -> Option<Vec<(Oid, ObjectType)>> {
        let refs = self.refs(&[])?;
        let mut names = vec!["HEAD^{commit}".to_string()];
        names.extend(
            (refs.iter())
                .filter(|(name, _)| name != "refs/stash")
                .map(|(name, _)| format!("{name}^{{}}")),
        );
        let answers = self.objects(&names)?;
        let mut out = Vec::new();
        for (i, answer) in answers.into_iter().enumerate() {
            let Some((id, kind)) = answer else {
                if i == 0 {
                    continue; // HEAD on a branch with no commit yet
                }
                return None;
            };
            out.push((hex_oid(id.as_bytes())?, object_type(&kind)?));
        }
        Some(out)
    }

    fn tips(&self, presence: Presence) -> Tips {
        let audit = presence == Presence::Branches;
        let origin = "refs/remotes/origin/HEAD";
        let origin_known = audit
            && self
                .objects(&[format!("{origin}^{{commit}}")])
                .is_some_and(|a| a[0].is_some());
        let start = if origin_known { origin } else { "HEAD" };
        let mut tips = Tips::default();
        let names = [format!("{start}^{{commit}}"), format!("{start}^{{tree}}")];
        if let Some([Some(commit), Some(tree)]) = self.objects(&names).as_deref() {
            let name = self
                .output(&["symbolic-ref", "-q", start])
                .map(|o| String::from_utf8_lossy(&o).trim_end().to_string())
                .and_then(|r| branch_name(&r));
            tips.head_name = Some(name.unwrap_or_else(|| "HEAD (detached)".into()));
            tips.head_commit = hex_oid(commit.0.as_bytes());
            tips.head = hex_oid(tree.0.as_bytes());
        }
        if audit {
            tips.branches = self.branches();
        }
        tips
    }

    fn commit_meta(&self, oid: Oid) -> CommitMeta {
        commit_head_by_git(&self.dir, oid).map_or_else(CommitMeta::default, |h| meta_of_head(&h))
    }

    fn blob(&self, oid: Oid) -> Option<Vec<u8>> {
        self.output(&["cat-file", "blob", &oid.to_string()])
    }
}

/// The text of the file at `path` in commit `at`; None when there is none.
pub(super) fn file_at(dir: &GitDir, at: &str, path: &str) -> anyhow::Result<Option<String>> {
    let commit = format!("{at}^{{commit}}");
    if dir.objects(&[commit]).is_none_or(|a| a[0].is_none()) {
        bail!("{at}: not a commit in this repository");
    }
    let spec = format!("{at}:{path}");
    let found = dir
        .objects(std::slice::from_ref(&spec))
        .context("git cat-file failed")?;
    if found[0].as_ref().is_none_or(|(_, kind)| kind != "blob") {
        return Ok(None);
    }
    let bytes = dir
        .output(&["cat-file", "blob", &spec])
        .context("git cat-file failed")?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::short_ids;

    #[test]
    fn globs_match_as_libgit2s_reference_globs() {
        use super::glob_matches;
        assert!(glob_matches("refs/*", "refs/remotes/origin/main"));
        assert!(glob_matches("refs/remotes/*/*", "refs/remotes/up/x/y"));
        assert!(glob_matches(
            "refs/remotes/origin/*",
            "refs/remotes/origin/a"
        ));
        assert!(!glob_matches(
            "refs/remotes/origin/*",
            "refs/remotes/originals/a"
        ));
        assert!(!glob_matches("refs/heads/*", "refs/tags/v1"));
        assert!(glob_matches("refs/heads/main", "refs/heads/main"));
        assert!(!glob_matches("refs/heads/main", "refs/heads/main2"));
    }

    #[test]
    fn status_lists_what_an_audit_scans() {
        let out = b"?? new.txt\0!! ignored/\0 M app.py\0R  to\0from\0 D gone\0UU both\0A  added\0";
        assert_eq!(
            super::status_paths(out),
            ["new.txt", "ignored/", "app.py", "to", "added"]
        );
    }

    #[test]
    fn only_runs_of_forty_hex_digits_are_short_ids() {
        let (a, b) = ("a".repeat(40), "b".repeat(64));
        assert_eq!(short_ids(&format!("x/{a} (blob {b})")), [a]);
        assert!(short_ids("deadbeef").is_empty());
    }
}
