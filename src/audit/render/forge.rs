//! Links into a known forge (GitHub, GitLab, Bitbucket) for the HTML audit: the web address of a
//! repository comes from its remote URL alone — credentials, query and fragment dropped, each
//! path segment percent-encoded — never from anything a scan read, and only commit ids of 40 hex
//! digits are linked.

/// A repository's web address on a forge whose link layout is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forge {
    kind: Kind,
    /// `https://host/owner/repo`, every segment percent-encoded.
    base: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    GitHub,
    GitLab,
    Bitbucket,
}

impl Forge {
    /// The forge of `remote` (`https://…`, `ssh://…` or `git@host:owner/repo.git`), if known.
    pub fn of(remote: &str) -> Option<Forge> {
        let (host, path) = host_and_path(remote)?;
        let kind = match host.to_ascii_lowercase().as_str() {
            "github.com" | "www.github.com" => Kind::GitHub,
            "gitlab.com" | "www.gitlab.com" => Kind::GitLab,
            "bitbucket.org" | "www.bitbucket.org" => Kind::Bitbucket,
            _ => return None,
        };
        let path = path.split(['?', '#']).next()?;
        let path = path.trim_matches('/');
        let path = path.strip_suffix(".git").unwrap_or(path);
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        // owner/repo (GitLab: groups/…/repo); nothing with `.` or `..` segments.
        if segments.len() < 2 || segments.iter().any(|s| *s == "." || *s == "..") {
            return None;
        }
        if kind != Kind::GitLab && segments.len() != 2 {
            return None;
        }
        let host = match kind {
            Kind::GitHub => "github.com",
            Kind::GitLab => "gitlab.com",
            Kind::Bitbucket => "bitbucket.org",
        };
        let base = format!("https://{host}/{}", encode_path(&segments.join("/")));
        Some(Forge { kind, base })
    }

    /// The page of `commit`.
    pub fn commit(&self, commit: &str) -> Option<String> {
        let c = full_sha(commit)?;
        Some(match self.kind {
            Kind::GitHub => format!("{}/commit/{c}", self.base),
            Kind::GitLab => format!("{}/-/commit/{c}", self.base),
            Kind::Bitbucket => format!("{}/commits/{c}", self.base),
        })
    }

    /// The file at `path` as of `commit`, at `line`.
    pub fn file(&self, commit: &str, path: &str, line: u64) -> Option<String> {
        let c = full_sha(commit)?;
        let p = encode_path(path);
        Some(match self.kind {
            Kind::GitHub => format!("{}/blob/{c}/{p}#L{line}", self.base),
            Kind::GitLab => format!("{}/-/blob/{c}/{p}#L{line}", self.base),
            Kind::Bitbucket => format!("{}/src/{c}/{p}#lines-{line}", self.base),
        })
    }
}

/// The forge of each audited repository, by its `path` in the report.
pub struct Links(std::collections::HashMap<String, Forge>);

impl Links {
    pub fn of(report: &crate::audit::model::AuditReport) -> Links {
        let forges = report.repositories.iter().filter_map(|r| {
            let forge = Forge::of(r.remote.as_deref()?)?;
            Some((r.path.clone(), forge))
        });
        Links(forges.collect())
    }

    /// The page of `commit` in the repository at `repo`.
    pub fn commit(&self, repo: &str, commit: &str) -> Option<String> {
        self.0.get(repo)?.commit(commit)
    }

    /// The file `path` of the repository at `repo`, as of `commit`, at `line`.
    pub fn file(&self, repo: &str, commit: &str, path: &str, line: u64) -> Option<String> {
        self.0.get(repo)?.file(commit, path, line)
    }
}

/// The host and the path of a remote URL, credentials and port dropped.
fn host_and_path(remote: &str) -> Option<(&str, &str)> {
    let (authority, path) = match remote.split_once("://") {
        Some((scheme, rest)) => {
            if !matches!(scheme, "https" | "http" | "ssh" | "git") {
                return None;
            }
            rest.split_at(rest.find('/')?)
        }
        // scp-like: [user@]host:owner/repo.git
        None => remote.split_once(':')?,
    };
    let host = authority.rsplit('@').next()?;
    let host = host.split(':').next()?;
    (!host.is_empty()).then_some((host, path))
}

fn full_sha(commit: &str) -> Option<&str> {
    (commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit())).then_some(commit)
}

/// Each `/`-separated segment percent-encoded (everything but RFC 3986's unreserved bytes).
fn encode_path(path: &str) -> String {
    let segment = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    path.split('/').map(segment).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn remotes_of_known_forges_become_links_without_credentials_or_queries() {
        for remote in [
            "https://github.com/org/api.git",
            "https://user:token@github.com/org/api?x=1#frag",
            "git@github.com:org/api.git",
            "ssh://git@github.com:22/org/api",
        ] {
            let f = Forge::of(remote).unwrap_or_else(|| panic!("{remote}"));
            assert_eq!(
                f.commit(SHA).as_deref(),
                Some(format!("https://github.com/org/api/commit/{SHA}").as_str()),
                "{remote}"
            );
        }
        let gl = Forge::of("https://gitlab.com/group/sub/repo.git").unwrap();
        assert_eq!(
            gl.file(SHA, "a b/ü#?.env", 3).as_deref(),
            Some(
                format!("https://gitlab.com/group/sub/repo/-/blob/{SHA}/a%20b/%C3%BC%23%3F.env#L3")
                    .as_str()
            )
        );
        let bb = Forge::of("https://bitbucket.org/ws/repo").unwrap();
        assert_eq!(
            bb.file(SHA, "x.env", 2).as_deref(),
            Some(format!("https://bitbucket.org/ws/repo/src/{SHA}/x.env#lines-2").as_str())
        );
    }

    #[test]
    fn unknown_hosts_odd_paths_and_short_ids_get_no_link() {
        for remote in [
            "https://git.example.com/org/api.git",
            "https://github.com.evil.example/org/api",
            "https://github.com/org",
            "https://github.com/org/../x",
            "file:///srv/git/api.git",
            "/srv/git/api.git",
        ] {
            assert_eq!(Forge::of(remote), None, "{remote}");
        }
        let f = Forge::of("https://github.com/o/r").unwrap();
        assert_eq!(f.commit("abc123"), None);
        assert_eq!(f.commit("<script>0123456789abcdef0123456789abcdef0"), None);
    }
}
