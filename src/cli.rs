//! The command line, as clap types only, and what clap generates from them (completions, the man
//! page). `Config::from_cli` turns it into what the core uses; nothing else names clap.

use clap::{Args, CommandFactory as _, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// The completion script for `shell`, generated from these definitions so it always matches.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "keyhound", &mut out);
    out
}

/// The man page (roff); the release workflow ships it.
pub fn manpage() -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    Ok(out)
}

/// Finds leaked API keys (OpenAI first) in files, directories and archives.
#[derive(Debug, Parser)]
#[command(name = "keyhound", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories (`-` reads standard input) for leaked keys.
    Scan(ScanArgs),
    /// Scan a git repository's history: every blob on every ref once, and commit messages.
    Git(GitArgs),
    /// Ask OpenAI whether the keys on standard input (one a line) still work.
    Verify(VerifyCmdArgs),
    /// Gate a GitHub Actions run (pull request, merge queue, push) or a GitLab CI pipeline (merge
    /// request, push) on its commits; on GitHub writes annotations, the job summary, step outputs
    /// and, with --sarif, code scanning's SARIF.
    Ci(CiArgs),
    /// Audit repositories (or folders of clones): every key in their histories and work trees,
    /// one entry per key with since when, where, whether still at HEAD and live, what to do.
    Audit(AuditArgs),
    /// Install git hooks (pre-commit, commit-msg, pre-push) that run keyhound; a hook already
    /// there keeps running after it.
    InstallHook {
        /// The repository (default: the current directory's).
        #[arg(value_name = "REPO")]
        repo: Option<PathBuf>,
    },
    /// List or check the rules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions {
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(hide = true)]
    Manpage,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the active rules.
    List,
    /// Validate every rule and run its examples.
    Check,
}

#[derive(Debug, Clone, Args)]
pub struct RuleArgs {
    /// Add the rules in this TOML file, or in every *.toml of this directory.
    #[arg(long = "rules", value_name = "PATH", global = true)]
    pub rules: Vec<PathBuf>,
    /// Turn a rule off by id (repeatable).
    #[arg(long = "disable-rule", value_name = "ID", global = true)]
    pub disable_rule: Vec<String>,
    /// Only the rules of these providers (comma-separated ids, e.g. `openai,github`).
    #[arg(
        long = "provider",
        value_name = "LIST",
        value_delimiter = ',',
        global = true
    )]
    pub provider: Vec<String>,
    /// Leave out the rules of these providers (comma-separated ids).
    #[arg(
        long = "exclude-provider",
        value_name = "LIST",
        value_delimiter = ',',
        global = true
    )]
    pub exclude_provider: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads standard input.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Scan files that .gitignore or .git/info/exclude would skip.
    #[arg(long)]
    pub no_ignore: bool,
    /// Follow symbolic links while walking directories.
    #[arg(short = 'L', long)]
    pub follow_links: bool,
    /// Skip files larger than SIZE (e.g. 10M, 1G); skipped files make the scan incomplete.
    #[arg(long, value_name = "SIZE")]
    pub max_filesize: Option<String>,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct GitArgs {
    /// The repository: a work tree, a bare repository or a .git directory (default: the one
    /// GIT_DIR or the current directory names).
    #[arg(value_name = "REPO")]
    pub repo: Option<PathBuf>,

    /// Scan only what the commits in `rev-list B ^A` added (the pull-request case).
    #[arg(long, value_name = "A..B", conflicts_with = "staged")]
    pub range: Option<String>,
    /// Scan only what the index adds to HEAD (the pre-commit case; GIT_INDEX_FILE is honoured).
    #[arg(long)]
    pub staged: bool,
    /// With --staged, as the pre-commit framework's hook: the files it names. While git makes a
    /// commit (GIT_INDEX_FILE set), what the index adds to HEAD in those files; otherwise (`pre-commit
    /// run --all-files`, `--files`) every key in their content.
    #[arg(long, value_name = "PATH", num_args = 0.., requires = "staged", allow_hyphen_values = true)]
    pub files: Option<Vec<PathBuf>>,
    /// Scan a commit message file, as a commit-msg hook is given (comments and the diff of
    /// `git commit -v` are left out).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["staged", "range"])]
    pub commit_msg: Option<PathBuf>,
    /// Scan what a push sends, as a pre-push hook: the commits of the refs git gives on standard
    /// input (or the pre-commit framework's PRE_COMMIT_* variables) that the remote lacks.
    #[arg(long, conflicts_with_all = ["staged", "range", "commit_msg"])]
    pub pre_push: bool,
    /// Run as a server's pre-receive hook: reject a push whose new commits (those no existing ref
    /// reaches) add a key, reading git's `old new ref` lines on standard input and the pushed
    /// objects from git's quarantine.
    #[arg(long, conflicts_with_all = ["staged", "range", "commit_msg", "pre_push"])]
    pub pre_receive: bool,
    /// With --pre-receive: the time budget in seconds, after which the push is let through with
    /// a warning (GitHub Enterprise ends pre-receive hooks at 5 s).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 4.0,
        requires = "pre_receive"
    )]
    pub timeout: f64,
    /// With --pre-receive: reject the push when the time budget runs out.
    #[arg(long, requires = "pre_receive")]
    pub fail_closed: bool,
    /// Also scan reflogs, stash entries and unreachable objects.
    #[arg(long, conflicts_with_all = ["staged", "range", "commit_msg", "pre_push", "pre_receive"])]
    pub all_objects: bool,
    /// Blobs larger than SIZE are streamed through `git cat-file` instead of read whole.
    #[arg(long, value_name = "SIZE", default_value = "64M")]
    pub max_blob_size: String,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct CiArgs {
    /// Scan these commits instead of the event's (`A..B`); needed for events keyhound does not know.
    #[arg(long, value_name = "A..B")]
    pub range: Option<String>,
    /// Write SARIF for code scanning here: every key in the checked-out tree (the whole history
    /// on schedule and workflow_dispatch).
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Blobs larger than SIZE are streamed through `git cat-file` instead of read whole.
    #[arg(long, value_name = "SIZE", default_value = "64M")]
    pub max_blob_size: String,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options every scanning command shares: reports, limits, rules and verification.
#[derive(Debug, Args)]
pub struct CommonArgs {
    #[command(flatten)]
    pub report: ReportArgs,

    #[command(flatten)]
    pub limits: LimitArgs,
    /// Report keys on lines marked `keyhound:allow`, `gitleaks:allow` or `pragma: allowlist
    /// secret` too (for audits).
    #[arg(long)]
    pub no_inline_allow: bool,
    /// Do not report keys whose fingerprints are in this earlier keyhound JSON or JSON lines
    /// report (they stay suppressed when lines move, commits are rebased or rules renamed).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Bytes per read chunk (for tests of keys across chunk boundaries).
    #[arg(long, hide = true, value_name = "BYTES")]
    pub chunk_size: Option<usize>,

    #[command(flatten)]
    pub rules: RuleArgs,

    #[command(flatten)]
    pub verify: VerifyOn,
}

/// Where a report goes and what it shows, whatever its format.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print secrets whole instead of redacted.
    #[arg(long)]
    pub show_secrets: bool,
    /// When to use colour in the human report (NO_COLOR is honoured).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// No progress bar (there is none either when standard error is not a terminal).
    #[arg(short, long)]
    pub quiet: bool,
}

/// How far and how wide a scan goes, for every scanning command.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// How many archive levels to open (a zip inside a zip is 2); 0 scans archives as raw bytes.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub max_archive_depth: usize,
    /// How many encodings deep to decode (base64, UTF-16, hex, URL, JSON and HTML escapes; base64
    /// of URL-encoded text is 2), at most 4; 0 turns decoding off. Joining split keys is no level.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = decode_depth)]
    pub max_decode_depth: usize,
    /// Find keys only as they are written: do not put keys split over string literals
    /// (`"sk-" + "proj-…"`) or wrapped over lines back together.
    #[arg(long)]
    pub no_join: bool,
    /// Exit 0 rather than 2 when some input could not be fully scanned and nothing was found.
    #[arg(long)]
    pub allow_incomplete: bool,
    /// Worker threads (default: the number of CPUs).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,
}

/// What a report looks like and where it goes.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// How keys are verified, and what verdicts do to the report and the exit code. `scan` and
/// `git` take these with `--verify` only; `keyhound verify` always verifies.
#[derive(Debug, Args)]
#[command(next_help_heading = "Verification")]
pub struct VerifyArgs {
    /// Where to send keys (default `https://api.openai.com/v1`). OPENAI_BASE_URL is never read;
    /// plain http:// only to loopback.
    #[arg(long, value_name = "URL")]
    pub openai_base_url: Option<String>,
    /// For tests against a local server: send PROVIDER's checks to http://HOST:PORT (loopback
    /// only, no path) instead of its own host; path, headers and body stay the same. Repeatable.
    #[arg(long, value_name = "PROVIDER=URL")]
    pub verify_endpoint: Vec<String>,
    /// Also the checks that prove more at a small cost: a GCP service-account key, once its key id
    /// is listed, signs a token request for a read-only scope to Google's token host (the
    /// private key never leaves; the token is discarded).
    #[arg(long)]
    pub verify_deep: bool,
    /// Most keys checked at once [default: 8].
    #[arg(long, value_name = "N")]
    pub verify_concurrency: Option<usize>,
    /// How long a cached `dead` verdict is trusted (`live` at most 1h) [default: 24h].
    #[arg(long, value_name = "DURATION")]
    pub verify_cache_ttl: Option<String>,
    /// Neither read nor write the verification cache.
    #[arg(long)]
    pub no_verify_cache: bool,
    /// Report only keys not proven dead (live, unknown, not checked).
    #[arg(long)]
    pub only_live: bool,
    /// What makes the exit code 1: any finding, or a key not proven dead [default: any].
    #[arg(long, value_enum, value_name = "WHAT")]
    pub fail_on: Option<FailOn>,
}

/// `--verify` and its options, for the commands that verify only when asked (`keyhound verify`
/// always does).
#[derive(Debug, Args)]
pub struct VerifyOn {
    /// Ask each key's provider whether it still works (one read-only call per distinct key).
    /// Without it nothing is verified and nothing is sent over the network.
    #[arg(long, help_heading = "Verification")]
    pub verify: bool,
    #[command(flatten)]
    pub verification: VerifyArgs,
}

/// `keyhound verify`: always asks afresh, so the cache's TTL means nothing there.
#[derive(Debug, Args)]
#[command(mut_arg("verify_cache_ttl", |a| a.hide(true)))]
pub struct VerifyCmdArgs {
    /// Only keys of these providers (comma-separated ids). With one provider, the keys are
    /// taken to be its own: a weak-format key (DeepSeek, Mistral, Cohere, Moonshot, Qwen, an
    /// old Azure key) is attributed to it, and verified against it, without its name nearby.
    #[arg(long = "provider", value_name = "LIST", value_delimiter = ',')]
    pub provider: Vec<String>,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub verification: VerifyArgs,
}

/// What makes the exit code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any finding.
    Any,
    /// A key verified live, or one that could not be verified (only with verification).
    Live,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Jsonl,
    Sarif,
    /// GitLab's secret-detection report (schema 15.2.1), never with key text.
    Gitlab,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: Option<AuditCommand>,

    /// Repositories (work trees, bare or mirror clones), or folders holding clones.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Audit only the repositories of shard I of N (I from 1, as in a GitHub Actions matrix).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Print the repositories (or, with --repos, the clone URLs) of the shard instead of auditing.
    #[arg(long)]
    pub list: bool,
    /// With --list: a file of clone URLs, one a line, to pick the shard's from.
    #[arg(long, value_name = "FILE", requires = "list")]
    pub repos: Option<PathBuf>,
    /// Write a `git filter-repo --replace-text` file for the keys with these fingerprints
    /// (whole keys: handle it as a secret) instead of the report.
    /// Repeat it or separate fingerprints with commas.
    #[arg(long, value_name = "FP", value_delimiter = ',')]
    pub emit_replacements: Vec<String>,
    /// Blobs larger than SIZE are streamed through `git cat-file` instead of read whole.
    #[arg(long, value_name = "SIZE", default_value = "64M")]
    pub max_blob_size: String,

    #[command(flatten)]
    pub report: AuditReportArgs,

    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub rules: RuleArgs,

    #[command(flatten)]
    pub verify: VerifyOn,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Merge the JSON reports of every shard of a sharded audit into the report one machine
    /// would have written.
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shard reports (`keyhound audit --shard I/N --format json`).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub report: AuditReportArgs,
}

/// How an audit report looks and where it goes.
#[derive(Debug, Args)]
pub struct AuditReportArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Human)]
    pub format: AuditFormat,
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    Human,
    Json,
    Markdown,
    Html,
}

/// `--max-decode-depth`: 0 to 4.
fn decode_depth(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n <= 4 => Ok(n),
        Ok(n) => Err(format!(
            "{n} is more than 4 (each level can multiply the work)"
        )),
        Err(_) => Err(format!("{s:?} is not a number from 0 to 4")),
    }
}
