//! The audit's remediation checklist per provider (issue 16): each provider's own keys page,
//! GitHub's revocation API that anyone holding a token can call, and for AWS and Google Cloud
//! the review of the key's activity. Keys are made from templates at run time.

use crate::repo::GitRepo;
use crate::util::*;

/// Audits one repository holding `text` in a committed file; returns each key's provider and
/// its remediation steps.
fn steps_for(text: &str) -> Vec<(String, Vec<String>)> {
    let root = tempfile::tempdir().unwrap();
    let repo = GitRepo::init(root.path().join("r"), 0);
    repo.write("creds.env", text);
    repo.commit("add");
    let mut cmd = kh();
    for var in GIT_ENV {
        cmd.env_remove(var);
    }
    let out = cmd
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("KEYHOUND_CACHE_DIR", root.path().join(".no-cache"))
        .current_dir(root.path())
        .args(["audit", "-q", "--format", "json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    check_schema_of("audit.schema.json", &doc, None);
    doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let steps = k["remediation"].as_array().unwrap();
            (
                k["provider"].as_str().unwrap().to_string(),
                steps
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn each_provider_gets_its_own_keys_page_and_the_right_review() {
    let text = make(
        "AWS_ACCESS_KEY_ID=AKIA{upper:16}\nAWS_SECRET_ACCESS_KEY={b64:40}\n\n\n\n\n\n\
         GITHUB_TOKEN=ghp_{alnum:30}{crc32:30}\nNPM_TOKEN=npm_{alnum:30}{crc32:30}\n\
         GROQ_API_KEY=gsk_{alnum:20}WGdyb3FY{alnum:24}\n",
        21,
    );
    let all = steps_for(&text);
    let of = |p: &str| {
        all.iter()
            .find(|(provider, _)| provider == p)
            .unwrap_or_else(|| panic!("no {p} key in {all:#?}"))
            .1
            .clone()
    };
    let aws = of("aws");
    assert!(
        aws[0].starts_with("Revoke it first at AWS: the IAM console"),
        "{aws:#?}"
    );
    assert!(aws[0].contains("--status Inactive"));
    assert!(aws.last().unwrap().contains("CloudTrail"), "{aws:#?}");
    let github = of("github");
    assert!(
        github[0].contains("github.com/settings/tokens"),
        "{github:#?}"
    );
    assert!(github[0].contains("POST https://api.github.com/credentials/revoke"));
    assert!(github[0].contains("anyone who holds"));
    assert!(github[1].contains("`GITHUB_TOKEN`"));
    let npm = of("npm");
    assert!(npm[0].contains("npmjs.com/settings/~/tokens") && npm[0].contains("npm token revoke"));
    let groq = of("groq");
    assert!(groq[0].contains("console.groq.com/keys"), "{groq:#?}");
    assert!(!groq[0].contains("anyone"));
    for (provider, steps) in &all {
        assert!(
            !steps.join(" ").contains("the provider's"),
            "{provider}: {steps:#?}"
        );
    }
}

#[test]
fn a_service_account_keys_activity_is_to_be_reviewed() {
    let text = make(
        "{{\"type\": \"service_account\", \"project_id\": \"p\", \"private_key_id\": \"{hex:40}\",\n\
         \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{derjson:1200}\\n-----END PRIVATE KEY-----\\n\",\n\
         \"client_email\": \"ci@p.iam.gserviceaccount.com\"}\n",
        22,
    );
    let all = steps_for(&text);
    let gcp = &all.iter().find(|(p, _)| p == "gcp").expect("a gcp key").1;
    assert!(
        gcp[0].contains("Service accounts")
            && gcp[0].contains("gcloud iam service-accounts keys delete")
    );
    assert!(gcp.last().unwrap().contains("Cloud Audit Logs"), "{gcp:#?}");
}
