//! Shared test helpers: the binary, key builders, and the JSON report decoded into test-owned
//! types (so the wire format is checked as a contract, not by the crate's own structs).

#![allow(dead_code)]

use assert_cmd::Command;
use keyhound::rules::template::{Rng, expand};
use serde::Deserialize;
use std::path::Path;

/// The `keyhound` binary, with colour and the user's environment kept out.
pub fn kh() -> Command {
    let mut cmd = Command::cargo_bin("keyhound").expect("binary is built");
    cmd.env_remove("NO_COLOR");
    cmd
}

/// Every key kind as a template: (rule id, template).
pub const KINDS: &[(&str, &str)] = &[
    ("kh.openai.user", "sk-{alnum:20}T3BlbkFJ{alnum:20}"),
    ("kh.openai.project", "sk-proj-{alnum:20}T3BlbkFJ{alnum:20}"),
    (
        "kh.openai.project",
        "sk-proj-{b64url:74}T3BlbkFJ{b64url:74}",
    ),
    (
        "kh.openai.service-account",
        "sk-svcacct-{b64url:74}T3BlbkFJ{b64url:74}",
    ),
    ("kh.openai.admin", "sk-admin-{b64url:58}T3BlbkFJ{b64url:58}"),
    ("kh.openai.none", "sk-None-{b64url:74}T3BlbkFJ{b64url:74}"),
];

/// A fresh key from `template`, reproducible by `seed`.
pub fn make(template: &str, seed: u64) -> String {
    expand(template, &mut Rng::new(seed)).expect("valid template")
}

/// A current-format project key.
pub fn project_key(seed: u64) -> String {
    make("sk-proj-{b64url:74}T3BlbkFJ{b64url:74}", seed)
}

/// The report as the README documents it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub version: u32,
    pub tool: Tool,
    pub complete: bool,
    pub stats: Stats,
    pub ignored_env_files: Vec<String>,
    pub skipped: Vec<Skipped>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stats {
    pub files: u64,
    pub bytes: u64,
    pub findings: u64,
    pub placeholders: u64,
    /// Weak-format key shapes with no provider named next to them.
    pub unattributed: u64,
    pub suppressed: Suppressed,
    pub skipped: u64,
    pub ignored: u64,
    pub symlinks_not_followed: u64,
    pub elapsed_ms: u64,
    /// The providers whose keys were looked for.
    pub providers: Vec<String>,
    /// Git reports only: commits walked.
    #[serde(default)]
    pub commits: Option<u64>,
    /// Git reports only: distinct blobs read and scanned.
    #[serde(default)]
    pub blobs_scanned: Option<u64>,
    /// Git reports only: bytes of those blobs.
    #[serde(default)]
    pub bytes_scanned: Option<u64>,
    /// Git reports only: blobs that could not be read (missing, corrupt, too large to stream).
    #[serde(default)]
    pub blobs_skipped: Option<u64>,
    /// With --verify only: verdict counters.
    #[serde(default)]
    pub verification: Option<VerifyStats>,
}

/// `stats.verification` of a report made with --verify.
#[derive(Debug, Deserialize, Default, PartialEq, Clone)]
#[serde(deny_unknown_fields)]
pub struct VerifyStats {
    pub keys: u64,
    pub live: u64,
    pub dead: u64,
    pub unknown: u64,
    pub not_checked: u64,
    pub cached: u64,
    pub requests: u64,
    pub hidden: u64,
}

#[derive(Debug, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Suppressed {
    pub inline: u64,
    pub path: u64,
    pub fingerprint: u64,
    pub baseline: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
    pub incomplete: bool,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub rule: String,
    pub provider: String,
    pub kind: String,
    pub path: String,
    pub archive_member: Option<String>,
    pub decoded: Vec<String>,
    /// Keys put together from literals or lines only: how many.
    #[serde(default)]
    pub pieces: Option<u64>,
    pub line: u64,
    pub column: u64,
    pub offset: u64,
    pub secret: String,
    /// AWS only: the secret access key found next to the key id.
    #[serde(default)]
    pub paired_secret: Option<String>,
    pub redacted: bool,
    pub fingerprint: String,
    pub context: String,
    pub severity: f32,
    pub remediation: String,
    pub revoke_url: Option<String>,
    /// Git reports only: where in the repository the key was found.
    #[serde(default)]
    pub git: Option<GitInfo>,
    /// With --verify only: the verdict on the key.
    #[serde(default)]
    pub verification: Option<Verification>,
}

/// The `verification` object of a finding in a report made with --verify.
#[derive(Debug, Deserialize, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Verification {
    /// `live`, `dead`, `unknown` or `not_checked`.
    pub status: String,
    pub reason: Option<String>,
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
    pub request_id: Option<String>,
    pub organization: Option<String>,
    /// RFC 3339 in UTC.
    pub checked_at: Option<String>,
    pub cached: bool,
}

/// The `git` object of a finding in a `keyhound git` report.
#[derive(Debug, Deserialize, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GitInfo {
    /// `blob` or `commit-message`.
    pub object: String,
    /// `refs`, `reflog`, `unreachable` or `index`.
    pub reached_by: String,
    pub commit: Option<String>,
    /// `Name <email>`.
    pub author: Option<String>,
    /// The author date, RFC 3339 in UTC.
    pub date: Option<String>,
    pub blob: Option<String>,
    pub last_seen: Option<String>,
    pub commits: Option<u64>,
    pub at_head: Option<bool>,
}

/// Runs `keyhound scan --format json --show-secrets ARGS` in `dir`; returns the exit code and report.
pub fn scan_json(dir: &Path, args: &[&str]) -> (i32, Report) {
    let out = kh()
        .current_dir(dir)
        .args(["scan", "--format", "json", "--show-secrets"])
        .args(args)
        .output()
        .expect("keyhound runs");
    let report: Report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bad JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().expect("exited"), report)
}

/// The secrets found, in report order.
pub fn secrets(report: &Report) -> Vec<String> {
    report.findings.iter().map(|f| f.secret.clone()).collect()
}

/// Writes `files` (path, contents) under a new temporary directory.
pub fn tree(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, data) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("has parent")).expect("mkdir");
        std::fs::write(p, data).expect("write");
    }
    dir
}

// ---- Helpers for the encoding, archive, chunk, walk and rule tests (added below the originals).

/// 1-based line and byte column of `offset` in `hay`, counting `\n` bytes as the README says.
pub fn line_col(hay: &[u8], offset: usize) -> (u64, u64) {
    let before = &hay[..offset];
    let line = memchr::memchr_iter(b'\n', before).count() as u64 + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, (offset - line_start) as u64 + 1)
}

/// The byte offset of the only occurrence of `needle` in `hay` (panics when absent or repeated).
pub fn find_once(hay: &[u8], needle: &[u8]) -> usize {
    let hits: Vec<usize> = hay
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(hits.len(), 1, "expected exactly one occurrence");
    hits[0]
}

/// Standard base64 with padding.
pub fn b64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// URL-safe base64 without padding.
pub fn b64url(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

/// `text` as UTF-16, little-endian (`le`) or big-endian, with a byte-order mark when `bom`.
pub fn utf16(text: &str, le: bool, bom: bool) -> Vec<u8> {
    let units = bom
        .then_some(0xFEFF_u16)
        .into_iter()
        .chain(text.encode_utf16());
    units
        .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
        .collect()
}

/// Runs `cmd` (its output discarded) and returns its exit code and its peak resident memory in
/// kB, as last seen while it ran (`VmHWM`, sampled every few milliseconds: the peak of this
/// process image alone, unlike `wait4`'s, which counts the memory of the test process it was
/// spawned from). A peak reached in its last milliseconds may be missed, never one held while
/// it scans.
pub fn peak_kb_of(mut cmd: std::process::Command) -> (Option<i32>, u64) {
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("keyhound runs");
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let code = loop {
        let seen = std::fs::read_to_string(&status).unwrap_or_default();
        let hwm = (seen.lines())
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
        peak = peak.max(hwm.unwrap_or(0));
        if let Some(done) = child.try_wait().expect("keyhound waited for") {
            break done.code();
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    assert!(peak > 0, "keyhound seen running");
    (code, peak)
}

/// A zip archive of `members` (name, data, stored): stored members are not compressed.
pub fn zip_bytes(members: &[(&str, &[u8], bool)]) -> Vec<u8> {
    use std::io::Write as _;
    use zip::write::SimpleFileOptions;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data, stored) in members {
        let method = if *stored {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let opts = SimpleFileOptions::default().compression_method(method);
        w.start_file(*name, opts).expect("zip member");
        w.write_all(data).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

/// `data` gzip-compressed.
pub fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).expect("gzip write");
    gz.finish().expect("gzip finish")
}

/// A tar archive of regular-file `members` (name, data).
pub fn tar_bytes(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, *data).expect("tar member");
    }
    b.into_inner().expect("tar finish")
}

/// Runs `keyhound ARGS` in `dir` and returns the whole output.
pub fn run_in(dir: &Path, args: &[&str]) -> std::process::Output {
    kh().current_dir(dir)
        .args(args)
        .output()
        .expect("keyhound runs")
}

/// The findings as (path, archive_member, line, column, secret), in report order.
pub fn places(report: &Report) -> Vec<(String, Option<String>, u64, u64, String)> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.path.clone(),
                f.archive_member.clone(),
                f.line,
                f.column,
                f.secret.clone(),
            )
        })
        .collect()
}

/// Where the base64 text of decoded byte `i` starts, in characters from the run's start: byte
/// `i % 3` of a 3-byte group is carried by characters `i % 3` and `i % 3 + 1` of its quantum.
pub fn b64_char_of_byte(i: usize) -> usize {
    (i / 3) * 4 + i % 3
}

/// Writes `files` (path, contents) under a new temporary directory, from owned paths and data.
pub fn tree_owned(files: &[(String, Vec<u8>)]) -> tempfile::TempDir {
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    tree(&refs)
}

/// Fails unless `doc` matches `schema/report.schema.json`: the whole report, or the `$defs`
/// entry `def`.
pub fn check_schema(doc: &serde_json::Value, def: Option<&str>) {
    check_schema_of("report.schema.json", doc, def);
}

/// Fails unless `doc` matches `schema/FILE`: the whole document, or the `$defs` entry `def`.
pub fn check_schema_of(file: &str, doc: &serde_json::Value, def: Option<&str>) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(file);
    let text = std::fs::read_to_string(path).expect("the schema exists");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
    let id = schema["$id"].as_str().expect("$id").to_string();
    let mut compiler = boon::Compiler::new();
    compiler.enable_format_assertions();
    compiler.add_resource(&id, schema).expect("schema added");
    let mut schemas = boon::Schemas::new();
    let at = def.map_or(id.clone(), |d| format!("{id}#/$defs/{d}"));
    let index = compiler
        .compile(&at, &mut schemas)
        .expect("the schema compiles");
    if let Err(e) = schemas.validate(doc, index) {
        panic!("the report breaks schema/{file}: {e:#}\n{doc:#}");
    }
}

/// What GitHub Actions and GitLab CI tell a job: cleared before running `keyhound ci` in a test,
/// so that a CI job running the tests does not leak into them.
pub const CI_ENV: &[&str] = &[
    "GITHUB_ACTIONS",
    "GITHUB_EVENT_NAME",
    "GITHUB_EVENT_PATH",
    "GITHUB_WORKSPACE",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_OUTPUT",
    "GITHUB_ENV",
    "GITHUB_PATH",
    "GITHUB_STATE",
    "GITHUB_SHA",
    "GITHUB_REF",
    "GITHUB_BASE_REF",
    "GITHUB_HEAD_REF",
    "CI_PIPELINE_SOURCE",
    "CI_MERGE_REQUEST_DIFF_BASE_SHA",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA",
    "CI_COMMIT_BEFORE_SHA",
    "CI_COMMIT_SHA",
    "CI_COMMIT_BRANCH",
    "CI_COMMIT_TAG",
    "CI_DEFAULT_BRANCH",
    "CI_PROJECT_DIR",
];

/// Variables that would point git or keyhound at another repository, index or configuration.
pub const GIT_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_INDEX_FILE",
    "GIT_WORK_TREE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
    "GIT_PREFIX",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
];

/// The first git command's author date in the history tests: 2024-01-02T03:04:05Z.
pub const EPOCH: u64 = 1_704_164_645;

/// `git` in `dir`, away from the user's configuration and any repository named by the caller's
/// environment.
pub fn git_in(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new("git");
    for var in GIT_ENV {
        cmd.env_remove(var);
    }
    cmd.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Ada Author")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Cy Committer")
        .env("GIT_COMMITTER_EMAIL", "cy@example.com")
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(["-c", "tag.gpgsign=false", "-c", "core.autocrlf=false"])
        .args(["-c", "gc.auto=0", "-c", "protocol.file.allow=always"])
        .args(["-c", "advice.detachedHead=false"]);
    cmd
}

/// Runs `cmd`, asserting success; returns its standard output, trimmed.
pub fn ok(mut cmd: std::process::Command) -> String {
    let out = cmd.output().expect("git runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .trim()
        .to_string()
}

// ---- Fixtures: the templates of `fixtures/` (fixtures/README.md says the format).

/// One template of `fixtures/`: the file name a test writes it under, how many placeholders a
/// scan counts in it, the provider whose rules scan it (every provider's when `None`), its text.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// Its path under `fixtures/`, as failure messages name it.
    pub id: String,
    pub name: String,
    pub placeholders: u64,
    pub provider: Option<String>,
    template: String,
}

impl Fixture {
    /// The text: template tokens expanded from `seed`, then `@KEY@` replaced by `keys[0]` and
    /// `@KEY2@`, `@KEY3@`, … by the keys after it.
    pub fn render(&self, seed: u64, keys: &[&str]) -> String {
        let mut text = expand(&self.template, &mut Rng::new(seed))
            .unwrap_or_else(|e| panic!("fixtures/{}: {e}", self.id));
        for (i, key) in keys.iter().enumerate().rev() {
            let slot = if i == 0 {
                "@KEY@".to_string()
            } else {
                format!("@KEY{}@", i + 1)
            };
            text = text.replace(&slot, key);
        }
        assert!(
            !text.contains("@KEY"),
            "fixtures/{}: a key slot is left unfilled",
            self.id
        );
        text
    }

    /// How many times `@KEY@` stands in the text.
    pub fn slots(&self) -> usize {
        self.template.matches("@KEY@").count()
    }

    /// How many different keys it takes: `@KEY@`, `@KEY2@`, … up to the last one it holds.
    pub fn key_slots(&self) -> usize {
        (2..)
            .take_while(|i| self.template.contains(&format!("@KEY{i}@")))
            .count()
            + usize::from(self.template.contains("@KEY@"))
    }
}

/// The folder `fixtures/` of the repository.
fn fixtures_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The fixture at `fixtures/ID`: its header line read, the rest kept as the template.
pub fn fixture(id: &str) -> Fixture {
    let path = fixtures_dir().join(id);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (header, template) = text
        .split_once('\n')
        .unwrap_or_else(|| panic!("fixtures/{id}: no header line"));
    let mut fixture = Fixture {
        id: id.to_string(),
        name: String::new(),
        placeholders: 0,
        provider: None,
        template: template.to_string(),
    };
    for field in header.trim_end_matches('\r').split("; ") {
        match field.split_once(": ") {
            Some(("fixture", name)) => fixture.name = name.to_string(),
            Some(("placeholders", n)) => {
                fixture.placeholders = n.parse().unwrap_or_else(|_| panic!("fixtures/{id}: {n}"));
            }
            Some(("provider", p)) => fixture.provider = Some(p.to_string()),
            _ => panic!("fixtures/{id}: unknown header field {field:?}"),
        }
    }
    assert!(
        !fixture.name.is_empty(),
        "fixtures/{id}: the header names no file"
    );
    fixture
}

/// Every fixture of `fixtures/DIR`, by file name.
pub fn fixtures(dir: &str) -> Vec<Fixture> {
    let path = fixtures_dir().join(dir);
    let mut names: Vec<String> = std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .map(|entry| {
            entry
                .expect("a directory entry")
                .file_name()
                .into_string()
                .expect("UTF-8")
        })
        .collect();
    names.sort();
    names
        .iter()
        .map(|name| fixture(&format!("{dir}/{name}")))
        .collect()
}

/// The 1-based lines on which `needle` starts in `text`, in order.
pub fn lines_of(text: &str, needle: &str) -> Vec<u64> {
    text.match_indices(needle)
        .map(|(at, _)| text[..at].matches('\n').count() as u64 + 1)
        .collect()
}

/// Runs `git ARGS` in `dir` (see [`git_in`]), asserting success; its standard output, trimmed.
pub fn git_run(dir: &Path, args: &[&str]) -> String {
    let mut cmd = git_in(dir);
    cmd.args(args);
    ok(cmd)
}

/// A new repository holding `files` (path, contents) in one commit of `message`.
pub fn committed_repo(files: &[(&str, &[u8])], message: &str) -> tempfile::TempDir {
    let dir = tree(files);
    git_run(dir.path(), &["init", "-q"]);
    git_run(dir.path(), &["add", "."]);
    git_run(dir.path(), &["commit", "-qm", message]);
    dir
}
