//! Keys of every provider beyond OpenAI: each kind found with its provider, kind and rule in the
//! places real files put keys, in encodings, and never when its checksum fails, when it is a
//! documented sample, or (for weak formats) when its provider is not named nearby.

use crate::util::*;
use base64::Engine as _;

/// (template, rule id, provider) of one key of every kind with a fixed prefix or marker.
const KINDS: &[(&str, &str, &str)] = &[
    (
        "sk-ant-api03-{b64url:93}AA",
        "kh.anthropic.api",
        "anthropic",
    ),
    (
        "sk-ant-admin01-{b64url:93}AA",
        "kh.anthropic.admin",
        "anthropic",
    ),
    ("AIza{b64url:35}", "kh.google.api-key", "google"),
    ("AQ.Ab8RN6{b64url:44}", "kh.google.gemini", "google"),
    ("gsk_{alnum:20}WGdyb3FY{alnum:24}", "kh.groq.api", "groq"),
    ("xai-{alnum:80}", "kh.xai.api", "xai"),
    ("sk-or-v1-{hex:64}", "kh.openrouter.api", "openrouter"),
    ("hf_{letters:34}", "kh.huggingface.user", "huggingface"),
    ("api_org_{letters:34}", "kh.huggingface.org", "huggingface"),
    ("r8_{alnum:37}", "kh.replicate.api", "replicate"),
    ("pplx-{alnum:48}", "kh.perplexity.api", "perplexity"),
    ("tgp_v1_{b64url:43}", "kh.together.api", "together"),
    (
        "{alnum:52}JQQJ99{alnum:1}C{alnum:12}AAABACOG{marvin:80}",
        "kh.azure-openai.annotated",
        "azure-openai",
    ),
    (
        "ghp_{alnum:30}{crc32:30}",
        "kh.github.pat-classic",
        "github",
    ),
    ("gho_{alnum:30}{crc32:30}", "kh.github.oauth", "github"),
    (
        "ghu_{alnum:30}{crc32:30}",
        "kh.github.user-to-server",
        "github",
    ),
    ("ghs_{alnum:36}", "kh.github.server-to-server", "github"),
    ("ghr_{alnum:70}{crc32:70}", "kh.github.refresh", "github"),
    (
        "github_pat_{digit:1}{alnum:21}_{alnum:43}{sha256b32:77:8}{alnum:8}",
        "kh.github.pat-fine-grained",
        "github",
    ),
    ("glpat-{b64url:20}", "kh.gitlab.pat", "gitlab"),
    (
        "glpat-{b64url:36}.01.{lower:9}",
        "kh.gitlab.pat-routable",
        "gitlab",
    ),
    ("gldt-{b64url:20}", "kh.gitlab.deploy", "gitlab"),
    ("npm_{alnum:30}{crc32:30}", "kh.npm.access", "npm"),
    ("pypi-AgEIcHlwaS5vcmc{b64url:160}", "kh.pypi.api", "pypi"),
    (
        "pypi-AgENdGVzdC5weXBpLm9yZw{b64url:160}",
        "kh.pypi.test",
        "pypi",
    ),
    ("AKIA{upper:16}", "kh.aws.access-key", "aws"),
    ("ASIA{upper:16}", "kh.aws.session-key", "aws"),
    ("sk_live_{alnum:24}", "kh.stripe.secret-live", "stripe"),
    ("rk_live_{alnum:24}", "kh.stripe.restricted-live", "stripe"),
    ("sk_test_{alnum:24}", "kh.stripe.secret-test", "stripe"),
    (
        "xoxb-{digit:12}-{digit:13}-{alnum:24}",
        "kh.slack.bot",
        "slack",
    ),
    ("xoxb-{digit:11}-{alnum:24}", "kh.slack.bot-legacy", "slack"),
    (
        "xoxp-{digit:12}-{digit:12}-{digit:13}-{hex:32}",
        "kh.slack.user",
        "slack",
    ),
    (
        "xapp-1-A{upper:10}-{digit:13}-{hex:64}",
        "kh.slack.app",
        "slack",
    ),
    (
        "https://hooks.slack.com/services/T{upper:10}/B{upper:10}/{alnum:24}",
        "kh.slack.webhook",
        "slack",
    ),
];

fn findings_of(text: &str, args: &[&str]) -> (i32, Report) {
    let dir = tree(&[("keys.txt", text.as_bytes())]);
    scan_json(dir.path(), args)
}

/// Every context of `fixtures/contexts`, each in a file of its name, all in one tree per kind:
/// the key is found at each `@KEY@`, with its rule and provider, and nowhere else.
#[test]
fn every_kind_is_found_in_every_context_with_its_provider() {
    let contexts = fixtures("contexts");
    for (i, (template, rule, provider)) in KINDS.iter().enumerate() {
        let key = make(template, 100 + i as u64);
        let files: Vec<(String, String)> = contexts
            .iter()
            .map(|fx| (fx.name.clone(), fx.render(100 + i as u64, &[&key])))
            .collect();
        let owned: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|(name, text)| (name.clone(), text.clone().into_bytes()))
            .collect();
        let dir = tree_owned(&owned);
        let (code, report) = scan_json(dir.path(), &[]);
        assert_eq!(code, 1, "{rule}");
        let mut got: Vec<(&str, u64, &str, &str, &str)> = report
            .findings
            .iter()
            .map(|f| {
                (
                    f.path.as_str(),
                    f.line,
                    f.rule.as_str(),
                    f.provider.as_str(),
                    f.secret.as_str(),
                )
            })
            .collect();
        got.sort_unstable();
        let mut want: Vec<(&str, u64, &str, &str, &str)> = files
            .iter()
            .flat_map(|(name, text)| {
                lines_of(text, &key)
                    .into_iter()
                    .map(|line| (name.as_str(), line, *rule, *provider, key.as_str()))
            })
            .collect();
        want.sort_unstable();
        assert_eq!(got, want, "{rule}");
        assert_eq!(report.stats.placeholders, 0, "{rule}");
    }
}

#[test]
fn every_kind_is_found_in_utf16_and_keys_with_long_prefixes_in_base64() {
    for (i, (template, rule, _)) in KINDS.iter().enumerate() {
        let key = make(template, 5000 + i as u64);
        let utf16: Vec<u8> = format!("TOKEN={key}\r\n")
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let dir = tree(&[("wide.txt", &utf16)]);
        let (code, report) = scan_json(dir.path(), &[]);
        assert_eq!(code, 1, "{rule}");
        assert_eq!(report.findings[0].rule, *rule);
        assert_eq!(report.findings[0].decoded, ["utf-16"]);
    }
    // Base64 needs a keyword of 6 characters or more to select on.
    for (template, rule) in [
        ("sk-ant-api03-{b64url:93}AA", "kh.anthropic.api"),
        ("gsk_{alnum:20}WGdyb3FY{alnum:24}", "kh.groq.api"),
        ("sk_live_{alnum:24}", "kh.stripe.secret-live"),
        ("pypi-AgEIcHlwaS5vcmc{b64url:160}", "kh.pypi.api"),
    ] {
        let key = make(template, 6000);
        let enc = base64::engine::general_purpose::STANDARD.encode(format!("KEY={key}\n"));
        let (code, report) = findings_of(&format!("secret: {enc}\n"), &[]);
        assert_eq!(code, 1, "{rule}");
        assert_eq!(report.findings[0].rule, rule);
        assert_eq!(report.findings[0].secret, key);
        assert_eq!(report.findings[0].decoded, ["base64"]);
    }
}

/// Keywords of 4 and 5 characters are looked for by their whole base64 forms inside long base64
/// runs: a Kubernetes secret's one-line value, the key alone or in an env file.
#[test]
fn keys_with_short_prefixes_are_found_in_one_line_base64() {
    for (i, (template, rule)) in [
        ("gldt-{b64url:20}", "kh.gitlab.deploy"),
        ("glft-{b64url:20}", "kh.gitlab.feed"),
        ("pplx-{alnum:48}", "kh.perplexity.api"),
        ("xai-{alnum:80}", "kh.xai.api"),
        ("gho_{alnum:30}{crc32:30}", "kh.github.oauth"),
        ("npm_{alnum:30}{crc32:30}", "kh.npm.access"),
        ("AKIA{upper:16}", "kh.aws.access-key"),
    ]
    .iter()
    .enumerate()
    {
        for (j, value) in ["{key}", "\nKEY={key}\n", "TOKEN='{key}'"]
            .iter()
            .enumerate()
        {
            let key = make(template, 7000 + (3 * i + j) as u64);
            let plain = value.replace("{key}", &key);
            if plain.len() < 24 {
                // An AWS key id alone encodes to 28 characters, shorter than the base64 runs
                // (32 or more) that encoded forms are looked for in; the README says so.
                continue;
            }
            let enc = base64::engine::general_purpose::STANDARD.encode(plain);
            let text = format!("data:\n  SECRET: {enc}\n");
            let (code, report) = findings_of(&text, &[]);
            assert_eq!(code, 1, "{rule} {value}: {:#?}", report.stats);
            assert_eq!(report.findings.len(), 1, "{rule} {value}");
            assert_eq!(report.findings[0].rule, *rule);
            assert_eq!(report.findings[0].secret, key);
            assert_eq!(report.findings[0].decoded, ["base64"]);
        }
    }
}

/// Keywords of 3 characters (`hf_`, `r8_`) are looked for in long base64 runs by their whole
/// forms in each alignment, decoded only where the characters around spell the keyword: a
/// Kubernetes secret's one-line value holding the key alone, or a whole `.env` file with the key
/// on any line, at any offset. The same values holding a placeholder are no finding.
#[test]
fn keys_with_three_character_prefixes_are_found_anywhere_in_one_line_base64() {
    for (i, (template, placeholder, rule, var)) in [
        (
            "hf_{letters:34}",
            "hf_{repeat:x:34}",
            "kh.huggingface.user",
            "HF_TOKEN",
        ),
        (
            "r8_{alnum:37}",
            "r8_{repeat:x:37}",
            "kh.replicate.api",
            "REPLICATE_API_TOKEN",
        ),
    ]
    .iter()
    .enumerate()
    {
        let key = make(template, 7100 + i as u64);
        let secret = |value: &str| {
            let enc = base64::engine::general_purpose::STANDARD.encode(value);
            findings_of(&format!("data:\n  API_KEY: {enc}\n"), &[])
        };
        // Alone, then after lines of 0, 1 and 2 bytes more: each of base64's three alignments.
        for before in ["", "DEBUG=1\n", "DEBUG=10\n", "DEBUG=100\n"] {
            let env = |value: &str| format!("{before}{var}={value}\nLOG_LEVEL=info\n");
            let value = if before.is_empty() {
                key.clone()
            } else {
                env(&key)
            };
            let (code, report) = secret(&value);
            assert_eq!(code, 1, "{rule} after {before:?}: {:#?}", report.stats);
            assert_eq!(report.findings.len(), 1, "{rule} after {before:?}");
            assert_eq!(report.findings[0].rule, *rule);
            assert_eq!(report.findings[0].secret, key);
            assert_eq!(report.findings[0].decoded, ["base64"]);
            let decoy = make(placeholder, 0);
            let value = if before.is_empty() {
                decoy
            } else {
                env(&decoy)
            };
            let (code, report) = secret(&value);
            assert_eq!(code, 0, "{rule} after {before:?}: {:#?}", report.findings);
        }
    }
}

#[test]
fn openai_rules_never_claim_another_providers_sk_key() {
    let anthropic = make("sk-ant-api03-{alnum:20}T3BlbkFJ{alnum:20}", 9);
    let openrouter = make("sk-or-v1-{alnum:20}T3BlbkFJ{alnum:20}", 9);
    let text = format!("A={anthropic}\nB={openrouter}\n");
    let (code, report) = findings_of(&text, &[]);
    assert_eq!(code, 0, "{:#?}", report.findings);
    let well_formed = make("sk-ant-api03-{b64url:40}T3BlbkFJ{b64url:45}AA", 9);
    let (_, report) = findings_of(&format!("ANTHROPIC_API_KEY={well_formed}\n"), &[]);
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].rule, "kh.anthropic.api");
}

#[test]
fn weak_formats_need_their_provider_named_within_five_lines() {
    let deepseek = make("sk-{hex:32}", 10);
    let moonshot = make("sk-{alnum:48}", 10);
    let fireworks = make("fw_{base58:24}", 10);
    let alone = format!("KEY={deepseek}\nOTHER={moonshot}\nX={fireworks}\n");
    let (code, report) = findings_of(&alone, &[]);
    assert_eq!(code, 0, "{:#?}", report.findings);
    assert_eq!(report.stats.unattributed, 3);

    let named = format!(
        "# DeepSeek\n\n\n\n\nKEY={deepseek}\nbase_url = \"https://api.moonshot.ai/v1\"\nOTHER={moonshot}\n\
         FIREWORKS_API_KEY={fireworks}\n"
    );
    let (code, report) = findings_of(&named, &[]);
    assert_eq!(code, 1);
    let got: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.provider.as_str())
        .collect();
    assert_eq!(got, ["deepseek", "moonshot", "fireworks"]);
    assert_eq!(report.stats.unattributed, 0);

    // Six lines away is too far.
    let far = format!("# DeepSeek\n\n\n\n\n\nKEY={deepseek}\n");
    let (code, report) = findings_of(&far, &[]);
    assert_eq!((code, report.stats.unattributed), (0, 1));
}

#[test]
fn qwen_keys_are_qwens_only_next_to_qwen_or_dashscope_never_deepseeks() {
    let key = make("sk-{hex:32}", 11);
    let named = [
        format!("DASHSCOPE_API_KEY={key}\n"),
        format!(
            "client = OpenAI(api_key=\"{key}\",\n  base_url=\"https://dashscope.aliyuncs.com/compatible-mode/v1\")\n"
        ),
        format!("# Qwen\n\n\n\n\nkey: {key}\n"),
    ];
    for text in &named {
        let (code, report) = findings_of(text, &[]);
        assert_eq!(code, 1, "{text}");
        let got: Vec<(&str, &str)> = report
            .findings
            .iter()
            .map(|f| (f.rule.as_str(), f.provider.as_str()))
            .collect();
        assert_eq!(got, [("kh.qwen.api", "qwen")], "{text}");
        assert!(
            report.findings[0]
                .revoke_url
                .as_deref()
                .unwrap()
                .contains("bailian")
        );
    }
    let (code, report) = findings_of(&format!("# Qwen\n\n\n\n\n\nkey: {key}\n"), &[]);
    assert_eq!((code, report.stats.unattributed), (0, 1));
    let (_, report) = findings_of(
        &format!("DASHSCOPE_API_KEY={key}\n"),
        &["--provider", "deepseek"],
    );
    assert_eq!((report.findings.len(), report.stats.unattributed), (0, 1));
}

#[test]
fn formats_without_a_prefix_are_found_only_next_to_their_provider() {
    let mistral = make("{alnum:30}42", 11);
    let cohere = make("{alnum:38}42", 11);
    let azure = make("{hex:32}", 11);
    let text = format!(
        "MISTRAL_API_KEY={mistral}\nCOHERE_API_KEY={cohere}\n\
         AZURE_OPENAI_ENDPOINT=https://contoso.openai.azure.com/\nAZURE_OPENAI_API_KEY={azure}\n"
    );
    let (code, report) = findings_of(&text, &[]);
    assert_eq!(code, 1);
    let got: Vec<(&str, &str)> = report
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.secret.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("kh.mistral.api", mistral.as_str()),
            ("kh.cohere.api", cohere.as_str()),
            ("kh.azure-openai.legacy", azure.as_str()),
        ]
    );
    let bare = format!("A={mistral}\nB={cohere}\nC={azure}\n");
    let (code, report) = findings_of(&bare, &[]);
    assert_eq!(code, 0, "{:#?}", report.findings);
}

#[test]
fn provider_flags_select_rules_and_unknown_ids_are_usage_errors() {
    let text = format!(
        "{}\n{}\n",
        make("ghp_{alnum:30}{crc32:30}", 12),
        make("sk_live_{alnum:24}", 12)
    );
    let (_, only) = findings_of(&text, &["--provider", "github"]);
    assert_eq!(only.findings.len(), 1);
    assert_eq!(only.findings[0].provider, "github");
    assert_eq!(only.stats.providers, ["github"]);
    let (_, without) = findings_of(&text, &["--exclude-provider", "github,openai"]);
    assert_eq!(without.findings.len(), 1);
    assert_eq!(without.findings[0].provider, "stripe");

    let dir = tree(&[("keys.txt", text.as_bytes())]);
    let out = run_in(dir.path(), &["scan", "--provider", "gihtub", "."]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("gihtub") && err.contains("github, gitlab"),
        "{err}"
    );

    let cfg = "[rules]\nexclude_providers = [\"stripe\"]\n";
    let dir = tree(&[
        ("keys.txt", text.as_bytes()),
        ("keyhound.toml", cfg.as_bytes()),
    ]);
    let (_, report) = scan_json(dir.path(), &[]);
    let got: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.provider.as_str())
        .collect();
    assert_eq!(got, ["github"]);
}

#[test]
fn fingerprints_are_over_provider_and_key() {
    let key = make("ghp_{alnum:30}{crc32:30}", 13);
    let text = format!("a={key}\nb: {key}\n");
    let (_, report) = findings_of(&text, &[]);
    assert_eq!(report.findings.len(), 2);
    assert_eq!(
        report.findings[0].fingerprint,
        report.findings[1].fingerprint
    );
    assert!(report.findings[0].fingerprint.starts_with("kh1:"));
    assert!(report.findings.iter().all(|f| !f.remediation.is_empty()));
    assert!(report.findings.iter().all(|f| f.revoke_url.is_some()));
}

#[test]
fn rules_list_groups_by_provider() {
    let out = kh().args(["rules", "list"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let headers: Vec<&str> = text.lines().filter(|l| l.starts_with("# ")).collect();
    assert!(headers.len() >= 20, "{text}");
    assert!(headers.contains(&"# github (6 rules)"), "{headers:?}");
}

/// A service-account key file, pretty-printed as Google hands it out.
const SERVICE_ACCOUNT: &str = "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"demo\",\n  \
    \"private_key_id\": \"{hex:40}\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{derjson:1200}\\n\
    -----END PRIVATE KEY-----\\n\",\n  \"client_email\": \"bot@demo.iam.gserviceaccount.com\"\n}\n";

#[test]
fn a_service_account_file_is_one_finding_also_inside_a_zip() {
    let sa = make(SERVICE_ACCOUNT, 14);
    let zip = zip_bytes(&[("creds/sa.json", sa.as_bytes(), true)]);
    let dir = tree(&[("sa.json", sa.as_bytes()), ("bundle.zip", &zip)]);
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let got: Vec<(&str, Option<&str>, &str, u64)> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.path.as_str(),
                f.archive_member.as_deref(),
                f.rule.as_str(),
                f.line,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "bundle.zip",
                Some("creds/sa.json"),
                "kh.gcp.service-account",
                5
            ),
            ("sa.json", None, "kh.gcp.service-account", 5),
        ]
    );
    assert_eq!(
        report.findings[0].fingerprint,
        report.findings[1].fingerprint
    );
}

#[test]
fn a_service_account_file_is_found_in_history() {
    let dir = tempfile::tempdir().unwrap();
    let repo = crate::repo::GitRepo::init(dir.path().join("r"), 0);
    repo.write("sa.json", make(SERVICE_ACCOUNT, 15));
    repo.commit("add credentials");
    repo.remove("sa.json");
    repo.commit("remove credentials");
    let out = kh()
        .current_dir(repo.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["git", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{doc:#}");
    assert_eq!(findings[0]["rule"], "kh.gcp.service-account");
    assert_eq!(findings[0]["git"]["at_head"], false);
}

#[test]
fn pem_keys_are_found_and_samples_are_placeholders() {
    let rsa = make(
        "-----BEGIN RSA PRIVATE KEY-----\n{der:1190}\n-----END RSA PRIVATE KEY-----\n",
        16,
    );
    let enc = make(
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\n{der:1250}\n-----END ENCRYPTED PRIVATE KEY-----\n",
        16,
    );
    let sample = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC...test...xxxx\n\
                  -----END PRIVATE KEY-----\n";
    let text = format!("{rsa}\n{enc}\n{sample}");
    let (code, report) = findings_of(&text, &[]);
    assert_eq!(code, 1);
    let got: Vec<(&str, u64, f32)> = report
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.line, f.severity))
        .collect();
    let enc_line = rsa.lines().count() as u64 + 2;
    assert_eq!(
        got,
        [
            ("kh.private-key.pem", 1, 9.0),
            ("kh.private-key.encrypted", enc_line, 4.0)
        ]
    );
    assert_eq!(report.stats.placeholders, 1);
}
