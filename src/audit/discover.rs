//! Finds the repositories an audit covers: each PATH that is a repository, and every
//! repository under a PATH that is a folder of clones (not descending into repositories,
//! never following symbolic links).

use std::path::{Path, PathBuf};

/// How deep under a folder repositories are looked for (`org/team/repo` is 3).
pub const MAX_DEPTH: usize = 4;

/// One repository to audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The directory to open: a work tree or a bare repository.
    pub dir: PathBuf,
    /// Relative to the audit root, `/`-separated (see `model::RepoAudit::path`).
    pub rel: String,
    /// The directory's name without `.git`.
    pub name: String,
    /// `origin`'s URL without credentials: what reports show and what the shard key is made of.
    pub remote: Option<String>,
}

/// What the paths given hold.
#[derive(Debug, Default)]
pub struct Discovered {
    /// Each repository once, sorted by `rel`.
    pub found: Vec<Found>,
    /// Folders that hold no repository (an empty shard's folder may be one).
    pub notes: Vec<String>,
    /// Paths that are neither a repository nor a folder, or cannot be read: errors.
    pub errors: Vec<String>,
}

/// The repositories under `paths`: each once (by canonical path), with `rel`s made unique by
/// taking in more of their parent folders when two would be the same.
pub fn discover(paths: &[PathBuf]) -> Discovered {
    let mut d = Discovered::default();
    for path in paths {
        if is_repository(path) {
            let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
            let base = file_name(&canonical);
            d.found.push(Found {
                dir: path.clone(),
                name: repo_name(&base),
                rel: base,
                remote: None,
            });
            continue;
        }
        if !path.is_dir() {
            d.errors.push(format!(
                "{}: not a repository or a folder of repositories; give a work tree, a bare clone or a folder holding clones",
                path.display()
            ));
            continue;
        }
        let before = d.found.len();
        search(path, "", 1, &mut d.found, &mut d.errors);
        if d.found.len() == before {
            d.notes.push(format!(
                "{}: no git repositories in it (looked {MAX_DEPTH} levels deep)",
                path.display()
            ));
        }
    }
    d.found = unique(std::mem::take(&mut d.found));
    d
}

/// Drops repositories found twice (`audit ROOT ROOT/api`) and lengthens equal `rel`s
/// (`a/api` and `b/api` given as `a` and `b`) with their parent folders until they differ.
fn unique(found: Vec<Found>) -> Vec<Found> {
    let mut seen = std::collections::HashSet::new();
    let mut found: Vec<(Found, PathBuf)> = found
        .into_iter()
        .filter_map(|f| {
            let canonical = std::fs::canonicalize(&f.dir).unwrap_or_else(|_| f.dir.clone());
            seen.insert(canonical.clone()).then_some((f, canonical))
        })
        .collect();
    for _ in 0..64 {
        let mut count = std::collections::HashMap::new();
        for (f, _) in &found {
            *count.entry(f.rel.clone()).or_insert(0) += 1;
        }
        if count.values().all(|n| *n == 1) {
            break;
        }
        for (f, canonical) in &mut found {
            if count[&f.rel] > 1 {
                f.rel = longer(&f.rel, canonical);
            }
        }
    }
    let mut found: Vec<Found> = found
        .into_iter()
        .map(|(f, _)| Found {
            remote: remote(&f.dir),
            ..f
        })
        .collect();
    found.sort_by(|a, b| a.rel.cmp(&b.rel));
    found
}

/// `origin`'s URL of the repository at `dir`, without credentials.
fn remote(dir: &Path) -> Option<String> {
    let repo = git2::Repository::open(dir).ok()?;
    let r = repo.find_remote("origin").ok()?;
    let url = r.url().ok()?.to_string();
    Some(super::shard::strip_credentials(without_query(&url)))
}

/// `url` without its query string and fragment, where tokens ride too (`?access_token=…`).
fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// `rel` with one more folder of `canonical` in front (`api` -> `a/api` for `/x/a/api`).
fn longer(rel: &str, canonical: &Path) -> String {
    let depth = rel.split('/').count();
    let parts: Vec<String> = canonical
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    match parts.len().checked_sub(depth + 1) {
        Some(start) => parts[start..].join("/"),
        None => rel.to_string(),
    }
}

/// Looks for repositories in `dir` (`rel` from the root), `depth` levels down.
fn search(dir: &Path, rel: &str, depth: usize, found: &mut Vec<Found>, notes: &mut Vec<String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            notes.push(format!("{}: cannot read the folder ({e})", dir.display()));
            return;
        }
    };
    let mut children: Vec<_> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    children.sort();
    for child in children {
        let name = file_name(&child);
        if name == ".git" {
            continue;
        }
        let child_rel = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if is_repository(&child) {
            found.push(Found {
                dir: child,
                name: repo_name(&name),
                rel: child_rel,
                remote: None,
            });
        } else if depth < MAX_DEPTH && !name.starts_with('.') {
            search(&child, &child_rel, depth + 1, found, notes);
        }
    }
}

/// A work tree (with `.git`, a folder or a file) or a bare repository (`HEAD`, `objects`, `refs`).
pub fn is_repository(dir: &Path) -> bool {
    if !dir.is_dir() {
        return false;
    }
    dir.join(".git").exists()
        || (dir.join("HEAD").is_file() && dir.join("objects").is_dir() && dir.join("refs").is_dir())
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.to_string_lossy().into_owned(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// `cargo` for `cargo` and `cargo.git`.
fn repo_name(dir_name: &str) -> String {
    dir_name
        .strip_suffix(".git")
        .filter(|n| !n.is_empty())
        .unwrap_or(dir_name)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r14_query_string_credentials_are_not_kept_in_remotes() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let url = "https://user:pw@git.example/org/app.git?access_token=tok123#frag";
        repo.remote("origin", url).unwrap();
        assert_eq!(
            remote(dir.path()).as_deref(),
            Some("https://git.example/org/app.git")
        );
    }

    fn bare(at: &Path) {
        std::fs::create_dir_all(at.join("objects")).unwrap();
        std::fs::create_dir_all(at.join("refs")).unwrap();
        std::fs::write(at.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    }

    #[test]
    fn finds_work_trees_and_bare_clones_without_descending_into_them() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("a/.git")).unwrap();
        std::fs::create_dir_all(root.path().join("a/vendor/inner/.git")).unwrap();
        bare(&root.path().join("team/b.git"));
        std::fs::create_dir_all(root.path().join("empty")).unwrap();
        let d = discover(&[root.path().to_path_buf()]);
        let rels: Vec<_> = (d.found.iter())
            .map(|f| (f.rel.as_str(), f.name.as_str()))
            .collect();
        assert_eq!(rels, [("a", "a"), ("team/b.git", "b")]);
        assert!(d.notes.is_empty() && d.errors.is_empty(), "{d:?}");
    }

    #[test]
    fn a_repository_given_itself_is_named_by_its_folder() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("proj/.git")).unwrap();
        let d = discover(&[root.path().join("proj")]);
        assert_eq!(d.found[0].rel, "proj");
    }

    #[test]
    fn paths_without_repositories_are_noted() {
        let root = tempfile::tempdir().unwrap();
        let d = discover(&[root.path().to_path_buf(), root.path().join("nope")]);
        assert!(d.found.is_empty());
        assert_eq!((d.notes.len(), d.errors.len()), (1, 1), "{d:?}");
    }

    #[test]
    fn a_repository_named_twice_is_found_once_and_equal_names_are_told_apart() {
        let root = tempfile::tempdir().unwrap();
        for dir in ["a/api/.git", "b/api/.git"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        let (a, b) = (root.path().join("a"), root.path().join("b"));
        let d = discover(&[a.clone(), b, a.join("api")]);
        let rels: Vec<_> = d.found.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(rels, ["a/api", "b/api"]);
    }
}
