//! The remediation checklist of one leaked key: revoke first, replace, purge history, review
//! use — in that order, because a history rewrite never reaches forks, pull-request refs or caches.

use super::model::{KeyEntry, Source};
use crate::verify::Status;

/// Where a provider's keys are revoked and its usage reviewed.
struct Pages {
    name: &'static str,
    keys: &'static str,
    usage: &'static str,
    env: &'static str,
    /// How whoever holds the key can revoke it without the owner's account, where the provider
    /// offers that.
    anyone: Option<&'static str>,
}

const fn page(
    name: &'static str,
    keys: &'static str,
    usage: &'static str,
    env: &'static str,
) -> Pages {
    Pages {
        name,
        keys,
        usage,
        env,
        anyone: None,
    }
}

/// Each provider's pages, by provider id and rule kind (`*` for any kind); the first match wins.
const PAGES: &[(&str, &str, Pages)] = &[
    (
        "openai",
        "admin",
        page(
            "OpenAI",
            "the Admin keys page of the organization settings (platform.openai.com/settings/organization/admin-keys)",
            "platform.openai.com/usage and the organization's audit log",
            "OPENAI_ADMIN_KEY",
        ),
    ),
    (
        "openai",
        "*",
        page(
            "OpenAI",
            "the API keys page of the project that owns it (platform.openai.com/api-keys; for a service account, the project's Service accounts)",
            "platform.openai.com/usage",
            "OPENAI_API_KEY",
        ),
    ),
    (
        "anthropic",
        "admin",
        page(
            "Anthropic",
            "the Admin keys page of the Console (console.anthropic.com/settings/admin-keys)",
            "the Console's usage page and the organization's members and keys",
            "ANTHROPIC_ADMIN_KEY",
        ),
    ),
    (
        "anthropic",
        "*",
        page(
            "Anthropic",
            "the API keys page of the Console (console.anthropic.com/settings/keys)",
            "console.anthropic.com/settings/usage",
            "ANTHROPIC_API_KEY",
        ),
    ),
    (
        "google",
        "*",
        page(
            "Google",
            "aistudio.google.com/app/apikey, or the Credentials page of the key's Cloud project (console.cloud.google.com/apis/credentials; delete or regenerate the key)",
            "the project's APIs & Services metrics and its billing reports",
            "GEMINI_API_KEY",
        ),
    ),
    (
        "groq",
        "*",
        page(
            "Groq",
            "console.groq.com/keys",
            "console.groq.com/dashboard/usage",
            "GROQ_API_KEY",
        ),
    ),
    (
        "xai",
        "*",
        page(
            "xAI",
            "console.x.ai/team/default/api-keys",
            "the xAI console's usage page",
            "XAI_API_KEY",
        ),
    ),
    (
        "openrouter",
        "*",
        page(
            "OpenRouter",
            "openrouter.ai/settings/keys",
            "openrouter.ai/activity",
            "OPENROUTER_API_KEY",
        ),
    ),
    (
        "huggingface",
        "*",
        page(
            "Hugging Face",
            "huggingface.co/settings/tokens (an organization's token: the organization's settings)",
            "the repositories the token could write to (their commit history) and the account's billing",
            "HF_TOKEN",
        ),
    ),
    (
        "replicate",
        "*",
        page(
            "Replicate",
            "replicate.com/account/api-tokens",
            "replicate.com's predictions dashboard and billing",
            "REPLICATE_API_TOKEN",
        ),
    ),
    (
        "perplexity",
        "*",
        page(
            "Perplexity",
            "perplexity.ai/settings/api",
            "the usage on perplexity.ai/settings/api",
            "PERPLEXITY_API_KEY",
        ),
    ),
    (
        "together",
        "*",
        page(
            "Together AI",
            "api.together.ai/settings/api-keys",
            "api.together.ai/settings/billing",
            "TOGETHER_API_KEY",
        ),
    ),
    (
        "fireworks",
        "*",
        page(
            "Fireworks AI",
            "fireworks.ai/account/api-keys",
            "fireworks.ai/account/usage",
            "FIREWORKS_API_KEY",
        ),
    ),
    (
        "azure-openai",
        "*",
        page(
            "Azure",
            "the Azure portal: the Azure OpenAI resource, Keys and Endpoint, Regenerate Key 1 or Key 2 (regenerating is the revocation; rotate one key at a time)",
            "the resource's Metrics and the Azure Activity log",
            "AZURE_OPENAI_API_KEY",
        ),
    ),
    (
        "deepseek",
        "*",
        page(
            "DeepSeek",
            "platform.deepseek.com/api_keys",
            "platform.deepseek.com/usage",
            "DEEPSEEK_API_KEY",
        ),
    ),
    (
        "qwen",
        "*",
        page(
            "Alibaba Cloud Model Studio",
            "the API-Key page of Model Studio (bailian.console.alibabacloud.com/?apiKey=1#/api-key; in China, bailian.console.aliyun.com)",
            "Model Studio's usage statistics and the account's bills",
            "DASHSCOPE_API_KEY",
        ),
    ),
    (
        "mistral",
        "*",
        page(
            "Mistral",
            "console.mistral.ai/api-keys",
            "console.mistral.ai/usage",
            "MISTRAL_API_KEY",
        ),
    ),
    (
        "cohere",
        "*",
        page(
            "Cohere",
            "dashboard.cohere.com/api-keys",
            "dashboard.cohere.com/billing",
            "CO_API_KEY",
        ),
    ),
    (
        "moonshot",
        "*",
        page(
            "Moonshot",
            "platform.moonshot.ai/console/api-keys",
            "the usage page of platform.moonshot.ai/console",
            "MOONSHOT_API_KEY",
        ),
    ),
    (
        "github",
        "*",
        Pages {
            anyone: Some(
                "anyone who holds a GitHub token can revoke it through GitHub's credential revocation API (`POST https://api.github.com/credentials/revoke` with the token; no account needed), which also tells its owner",
            ),
            ..page(
                "GitHub",
                "github.com/settings/tokens (fine-grained: github.com/settings/personal-access-tokens; OAuth and App authorisations: github.com/settings/applications)",
                "the account's security log (github.com/settings/security-log) and the organizations' audit logs",
                "GITHUB_TOKEN",
            )
        },
    ),
    (
        "gitlab",
        "*",
        Pages {
            anyone: Some(
                "a GitLab personal access token can revoke itself: `DELETE /api/v4/personal_access_tokens/self` with the token as `PRIVATE-TOKEN`",
            ),
            ..page(
                "GitLab",
                "the Access tokens page of the user, project or group (gitlab.com/-/user_settings/personal_access_tokens, or your instance's)",
                "the audit events of the user, its groups and projects",
                "GITLAB_TOKEN",
            )
        },
    ),
    (
        "npm",
        "*",
        Pages {
            anyone: Some(
                "whoever holds an npm token can revoke it through the registry's own token API (`npm token revoke` authenticated by the token itself)",
            ),
            ..page(
                "npm",
                "the Access Tokens page of the account (npmjs.com/settings/~/tokens)",
                "the versions published lately of every package the token could publish",
                "NPM_TOKEN",
            )
        },
    ),
    (
        "pypi",
        "*",
        page(
            "PyPI",
            "pypi.org/manage/account/token/ (TestPyPI: test.pypi.org/manage/account/token/)",
            "the account's security history (pypi.org/manage/account/) and the recent releases of every project the token could upload to",
            "PYPI_API_TOKEN",
        ),
    ),
    (
        "aws",
        "*",
        page(
            "AWS",
            "the IAM console (the user, Security credentials: make the access key Inactive, then delete it), or `aws iam update-access-key --access-key-id ID --status Inactive`",
            "the key's activity in CloudTrail (event history filtered by this access key id, in every region) and its last use in the IAM credential report",
            "an IAM role or short-lived credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY only from a secret store)",
        ),
    ),
    (
        "stripe",
        "*",
        page(
            "Stripe",
            "dashboard.stripe.com/apikeys (roll the key)",
            "dashboard.stripe.com/logs and the account's events",
            "STRIPE_SECRET_KEY",
        ),
    ),
    (
        "slack",
        "*",
        Pages {
            anyone: Some(
                "whoever holds a Slack token can revoke it by calling Slack's `auth.revoke` with it",
            ),
            ..page(
                "Slack",
                "api.slack.com/apps (the app's OAuth & Permissions page; a webhook: its Incoming Webhooks page)",
                "the workspace's access logs and audit logs",
                "SLACK_BOT_TOKEN",
            )
        },
    ),
    (
        "gcp",
        "*",
        page(
            "Google Cloud",
            "the Cloud console: IAM, Service accounts, the account (its `client_email`), Keys, Delete (or `gcloud iam service-accounts keys delete KEY_ID --iam-account EMAIL`)",
            "the service account's activity in Cloud Audit Logs (by its `private_key_id`) and the key's last use (service account key insights)",
            "workload identity federation or GOOGLE_APPLICATION_CREDENTIALS pointing outside the repository",
        ),
    ),
    (
        "private-key",
        "*",
        page(
            "every place that trusts it",
            "wherever its public key is registered (servers' `authorized_keys`, GitHub or GitLab SSH and deploy keys; revoke a certificate issued for it)",
            "the logs of every host and service that accepted this key",
            "an SSH agent or a secret store",
        ),
    ),
];

const UNKNOWN: Pages = page(
    "the provider",
    "the provider's API keys page",
    "the provider's usage page",
    "an environment variable",
);

fn pages(provider: &str, kind: &str) -> &'static Pages {
    PAGES
        .iter()
        .find(|(p, k, _)| *p == provider && (*k == "*" || *k == kind))
        .map_or(&UNKNOWN, |(_, _, pages)| pages)
}

/// The steps for `e`, in the order they should be done.
pub fn steps(e: &KeyEntry) -> Vec<String> {
    let p = pages(&e.provider, &e.kind);
    let tail = last4(&e.secret);
    let mut steps = vec![revoke(e, p, &tail)];
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
    if e.verification.status == Status::Dead {
        return format!(
            "{} already rejects this key (verified dead); confirm on {} that the key ending in {} is gone.",
            p.name,
            p.keys,
            code(tail)
        );
    }
    let first = format!(
        "Revoke it first at {}: {}, where it shows by its last 4 characters {}.",
        p.name,
        p.keys,
        code(tail)
    );
    match p.anyone {
        Some(how) => format!("{first} If you cannot reach its owner's account, {how}."),
        None => first,
    }
}

fn purge(e: &KeyEntry) -> String {
    let repos: Vec<&str> = e.repositories.iter().map(|r| r.path.as_str()).collect();
    let in_messages = e
        .locations
        .iter()
        .any(|l| l.source == Source::CommitMessage);
    let in_files = e
        .locations
        .iter()
        .any(|l| l.source != Source::CommitMessage);
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
        .filter(|l| l.source == Source::Worktree || l.at_head == Some(true))
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
    fn every_provider_keyhound_knows_has_its_own_pages() {
        for provider in crate::rules::PROVIDERS {
            let p = super::pages(provider, "any");
            assert_ne!(p.name, "the provider", "{provider}");
            assert!(!p.keys.is_empty() && !p.usage.is_empty(), "{provider}");
        }
        assert!(super::pages("github", "x").anyone.is_some());
        assert!(super::pages("npm", "x").anyone.is_some());
        assert_eq!(super::pages("openai", "admin").env, "OPENAI_ADMIN_KEY");
        assert_eq!(super::pages("acme", "x").name, "the provider");
    }

    #[test]
    fn last4_takes_the_tail_of_either_form() {
        assert_eq!(super::last4("sk-proj-…AbCd"), "AbCd");
        assert_eq!(super::last4("ab"), "ab");
    }
}
