//! The remediation checklist of one leaked key: revoke first, replace, purge history, review
//! use — in that order, because a history rewrite never reaches forks, pull-request refs or caches.

use super::model::KeyEntry;

/// Where a provider's keys are revoked and its usage reviewed.
struct Pages {
    name: &'static str,
    keys: &'static str,
    usage: &'static str,
    env: &'static str,
}

fn pages(provider: &str, kind: &str) -> Pages {
    match (provider, kind) {
        ("openai", "admin") => Pages {
            name: "OpenAI",
            keys: "the Admin keys page of the organization settings (platform.openai.com/settings/organization/admin-keys)",
            usage: "platform.openai.com/usage and the organization's audit log",
            env: "OPENAI_ADMIN_KEY",
        },
        ("openai", _) => Pages {
            name: "OpenAI",
            keys: "the API keys page of the project that owns it (platform.openai.com/api-keys; for a service account, the project's Service accounts)",
            usage: "platform.openai.com/usage",
            env: "OPENAI_API_KEY",
        },
        _ => Pages {
            name: "the provider",
            keys: "the provider's API keys page",
            usage: "the provider's usage page",
            env: "an environment variable",
        },
    }
}

/// The steps for `e`, in the order they should be done.
pub fn steps(e: &KeyEntry) -> Vec<String> {
    let p = pages(&e.provider, &e.kind);
    let tail = last4(&e.secret);
    let mut steps = vec![revoke(e, &p, &tail)];
    steps.push(format!(
        "Create a replacement key and keep it in a secret store or {}, never in a file of the repository.",
        code(p.env)
    ));
    if e.at_head || e.repositories.iter().any(|r| r.in_worktree) {
        steps.push(format!(
            "Remove it from the current files: {}.",
            current_places(e)
        ));
    }
    if e.introduced.is_some() {
        steps.push(purge(e));
    }
    let since = e
        .introduced
        .as_ref()
        .and_then(|s| s.date.as_deref())
        .map(|d| format!(" since {d}"))
        .unwrap_or_default();
    steps.push(format!(
        "Review {} for use of the key during its exposure{since}, and rotate anything it could reach.",
        p.usage
    ));
    steps
}

fn revoke(e: &KeyEntry, p: &Pages, tail: &str) -> String {
    if e.verification.status == "dead" {
        return format!(
            "{} already rejects this key (verified dead); confirm on {} that the key ending in {} is gone.",
            p.name,
            p.keys,
            code(tail)
        );
    }
    format!(
        "Revoke it first at {}: {}, where it shows by its last 4 characters {}.",
        p.name,
        p.keys,
        code(tail)
    )
}

fn purge(e: &KeyEntry) -> String {
    let repos: Vec<&str> = e.repositories.iter().map(|r| r.path.as_str()).collect();
    let in_messages = e.locations.iter().any(|l| l.source == "commit-message");
    let in_files = e.locations.iter().any(|l| l.source != "commit-message");
    format!(
        "Purge it from history: {} writes the replacements file (it holds the whole key: keep it out of the repository), then run {} in {} and force-push every branch and tag. A rewrite does not remove the key from pull-request refs, forks, other clones or caches — which is why revocation comes first.",
        code(&format!(
            "keyhound audit --emit-replacements {} -o replacements.txt",
            e.fingerprint
        )),
        code(&filter_repo(in_files, in_messages, "replacements.txt")),
        repos.join(", ")
    )
}

/// The `git filter-repo` command that removes keys listed in `file` from files (their blobs)
/// and from commit messages: `--replace-text` never touches messages, `--replace-message` only
/// them (with neither known, files).
pub fn filter_repo(files: bool, messages: bool, file: &str) -> String {
    let mut cmd = String::from("git filter-repo");
    if files || !messages {
        cmd.push_str(&format!(" --replace-text {file}"));
    }
    if messages {
        cmd.push_str(&format!(" --replace-message {file}"));
    }
    cmd
}

/// `repo/path:line` of each work-tree place and each place still at HEAD.
fn current_places(e: &KeyEntry) -> String {
    let mut places: Vec<String> = e
        .locations
        .iter()
        .filter(|l| l.source == "worktree" || l.at_head == Some(true))
        .map(|l| format!("{}/{}:{}", l.repository, l.path, l.line))
        .collect();
    places.dedup();
    if places.is_empty() {
        return "the files the default branch has it in".into();
    }
    places.join(", ")
}

/// The last 4 characters of a shown secret (redacted `sk-proj-…abcd` or whole).
fn last4(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

fn code(s: &str) -> String {
    format!("`{s}`")
}

#[cfg(test)]
mod tests {
    #[test]
    fn filter_repo_names_the_option_for_each_place() {
        let f = |a, b| super::filter_repo(a, b, "r.txt");
        assert_eq!(f(true, false), "git filter-repo --replace-text r.txt");
        assert_eq!(f(false, false), f(true, false));
        assert_eq!(f(false, true), "git filter-repo --replace-message r.txt");
        assert_eq!(
            f(true, true),
            "git filter-repo --replace-text r.txt --replace-message r.txt"
        );
    }

    #[test]
    fn last4_takes_the_tail_of_either_form() {
        assert_eq!(super::last4("sk-proj-…AbCd"), "AbCd");
        assert_eq!(super::last4("ab"), "ab");
    }
}
