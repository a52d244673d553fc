//! `Config`: the validated settings the core runs with, built once from the command line
//! (`Config::from_cli`), in the core's own types (`report::Format`, `exit::FailOn`, …): nothing
//! outside `main`, `cli` and `config` names clap. A repository's keyhound.toml and
//! .keyhoundignore come under the command line in one step, `Common::resolve` (`resolve`).

mod resolve;

use crate::cli::{self, Cli, ColorChoice, Command, RulesCommand};
use crate::scan::Limits;
pub use crate::scan::git::GitMode;
use crate::scan::walk::WalkOptions;
use crate::verify::endpoint::BaseUrl;
use crate::verify::{self, CacheConfig, VerifyConfig};
use std::io::IsTerminal;
use std::path::PathBuf;

use crate::audit::AuditFormat;
use crate::audit::shard::ShardSpec;
use crate::exit::FailOn;
use crate::report::Format;
use crate::scan::git::{GitOptions, Reader};

/// What to run.
#[derive(Debug, Clone)]
pub enum Config {
    Scan(ScanConfig),
    Git(GitConfig),
    /// `keyhound verify`: keys on standard input, always verified.
    Verify(Common),
    RulesList(RuleSource),
    RulesCheck(RuleSource),
    Ci(CiConfig),
    /// `keyhound install-hook [REPO]`.
    InstallHook(Option<PathBuf>),
    Audit(AuditConfig),
    /// `keyhound audit merge FILE…`.
    AuditMerge(MergeConfig),
    /// `keyhound completions SHELL` and `keyhound manpage`: this text on standard output.
    Print(Vec<u8>),
}

/// Everything `keyhound audit` needs.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    pub paths: Vec<PathBuf>,
    pub shard: Option<ShardSpec>,
    /// `--list`: print the shard's repositories (or `repos`' URLs) instead of auditing.
    pub list: bool,
    pub repos: Option<PathBuf>,
    /// Fingerprints whose keys go into a `git filter-repo --replace-text` file.
    pub emit_replacements: Vec<String>,
    pub max_blob_size: u64,
    pub format: AuditFormat,
    /// Format, colour and output of `common` are this command's; its format field is unused.
    pub common: Common,
}

/// Everything `keyhound audit merge` needs.
#[derive(Debug, Clone)]
pub struct MergeConfig {
    pub files: Vec<PathBuf>,
    pub format: AuditFormat,
    pub output: Option<PathBuf>,
    pub show_secrets: bool,
    pub color: bool,
}

/// Which rules to load.
#[derive(Debug, Clone, Default)]
pub struct RuleSource {
    /// The rule files and folders the repository's keyhound.toml names (see `Common::resolve`).
    pub repo: Vec<PathBuf>,
    pub extra: Vec<PathBuf>,
    pub disabled: Vec<String>,
    /// `--provider`: only these providers' rules (all when empty).
    pub providers: Vec<String>,
    /// `--exclude-provider`.
    pub exclude_providers: Vec<String>,
    /// `keyhound verify --provider X`: the keys are X's (one provider only), so a weak-format
    /// key needs no context to be attributed to it.
    pub attest: bool,
}

/// Settings every scanning command shares: the report, the limits and the rules.
#[derive(Debug, Clone)]
pub struct Common {
    pub format: Format,
    pub output: Option<PathBuf>,
    pub show_secrets: bool,
    pub color: bool,
    pub limits: Limits,
    pub max_decode_depth: usize,
    /// Put keys split over literals or lines back together (not with `--no-join`).
    pub join: bool,
    pub allow_incomplete: bool,
    pub threads: usize,
    pub rules: RuleSource,
    /// Honour allow comments on a key's line.
    pub inline_allow: bool,
    /// An earlier report whose keys are not reported again.
    pub baseline: Option<PathBuf>,
    /// Set by `--verify` (always by `keyhound verify`): how to verify the keys found.
    pub verify: Option<VerifyConfig>,
    /// What verdicts do to the report and the exit code.
    pub gate: Gate,
    /// Show a progress bar on a terminal (not with `--quiet`).
    pub progress: bool,
    /// Which verification settings the command line gave (keyhound.toml's apply to the others).
    pub verify_given: VerifyGiven,
    /// Where a whole history's reading starts (`KEYHOUND_GIT_READER`).
    pub git_reader: Reader,
}

/// Verification settings given on the command line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyGiven {
    pub concurrency: bool,
    pub cache_ttl: bool,
}

impl VerifyGiven {
    fn of(args: &cli::VerifyArgs) -> VerifyGiven {
        VerifyGiven {
            concurrency: args.verify_concurrency.is_some(),
            cache_ttl: args.verify_cache_ttl.is_some(),
        }
    }
}

/// The most threads, and keys checked at once, keyhound starts: more only exhausts the system.
pub const MAX_THREADS: usize = 256;

/// `n`, at most `MAX_THREADS`; `what` names the setting in the warning when it is cut.
pub fn clamp_threads(what: &str, n: usize) -> usize {
    if n > MAX_THREADS {
        crate::diag::eprint(&format!(
            "keyhound: warning: {what} {n} is more than {MAX_THREADS}; using {MAX_THREADS}"
        ));
    }
    n.min(MAX_THREADS)
}

/// What verdicts do to the report and the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gate {
    /// Leave keys proven dead out of the report (`--only-live`).
    pub only_live: bool,
    /// What makes the exit code 1.
    pub fail_on: FailOn,
    /// Whether `--fail-on` was given (else keyhound.toml's `[verify] fail_on` may set it).
    pub fail_on_given: bool,
}

/// Everything `keyhound scan` needs.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub paths: Vec<PathBuf>,
    pub walk: WalkOptions,
    pub common: Common,
}

/// Everything `keyhound git` needs.
#[derive(Debug, Clone)]
pub struct GitConfig {
    /// None: the repository GIT_DIR or the current directory names.
    pub repo: Option<PathBuf>,
    pub mode: GitMode,
    pub all_objects: bool,
    pub max_blob_size: u64,
    /// With `--staged --files`: report only keys in these paths (the framework may split a
    /// commit's files over several runs).
    pub only: Option<Vec<PathBuf>>,
    /// With `--pre-receive`: how long the push may wait, and whether it is rejected after that.
    pub budget: Option<Budget>,
    pub common: Common,
}

/// The git scanner's options: the one place settings become them, for `git`, `ci` and `audit`.
fn git_options(
    common: &Common,
    repo: Option<PathBuf>,
    mode: GitMode,
    max_blob_size: u64,
) -> GitOptions {
    GitOptions {
        repo,
        mode,
        all_objects: false,
        max_blob_size,
        threads: common.threads,
        reader: common.git_reader,
    }
}

/// The values `KEYHOUND_GIT_READER` takes, and the reader each starts at.
const GIT_READERS: [(&str, Reader); 3] = [
    ("packs", Reader::Packs),
    ("git", Reader::CatFile),
    ("libgit2", Reader::Libgit2),
];

/// How the whole history is read: the fastest way unless `KEYHOUND_GIT_READER` (`packs`, `git`
/// or `libgit2`, for tests and benchmarks) starts further down. Unset or empty is the fastest;
/// any other value is an error naming the valid ones.
fn git_reader() -> Result<Reader, UsageError> {
    let Some(value) = std::env::var_os("KEYHOUND_GIT_READER").filter(|v| !v.is_empty()) else {
        return Ok(Reader::default());
    };
    let found = GIT_READERS.iter().find(|(name, _)| value == *name);
    found.map(|&(_, reader)| reader).ok_or_else(|| {
        UsageError(format!(
            "KEYHOUND_GIT_READER={}: not a reader; use packs, git or libgit2 (or leave it unset)",
            value.to_string_lossy()
        ))
    })
}

impl GitConfig {
    /// How to read the repository.
    pub fn git_options(&self) -> GitOptions {
        GitOptions {
            all_objects: self.all_objects,
            ..git_options(
                &self.common,
                self.repo.clone(),
                self.mode.clone(),
                self.max_blob_size,
            )
        }
    }
}

impl CiConfig {
    /// How to read the checked-out repository at `workspace` in `mode`.
    pub fn git_options(&self, workspace: &std::path::Path, mode: GitMode) -> GitOptions {
        let repo = Some(workspace.to_path_buf());
        git_options(&self.common, repo, mode, self.max_blob_size)
    }
}

impl AuditConfig {
    /// How to read each repository's whole history (the repository is set per repository).
    pub fn git_options(&self) -> GitOptions {
        git_options(&self.common, None, GitMode::History, self.max_blob_size)
    }
}

/// A pre-receive hook's time budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub timeout: std::time::Duration,
    pub fail_closed: bool,
}

/// Everything `keyhound ci` needs besides GitHub's environment.
#[derive(Debug, Clone)]
pub struct CiConfig {
    pub range: Option<String>,
    pub sarif: Option<PathBuf>,
    pub max_blob_size: u64,
    pub common: Common,
}

/// A command line that parsed but does not make sense.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Config, UsageError> {
        Ok(match cli.command {
            Command::Scan(args) => Config::Scan(scan_config(args)?),
            Command::Git(args) => git_command(args)?,
            Command::Verify(args) => Config::Verify(verify_command(args)?),
            Command::InstallHook { repo } => Config::InstallHook(repo),
            Command::Audit(args) => audit_config(args)?,
            Command::Ci(args) => Config::Ci(CiConfig {
                range: args.range,
                sarif: args.sarif,
                max_blob_size: parse_size("--max-blob-size", &args.max_blob_size)?,
                common: common(args.common)?,
            }),
            Command::Completions { shell } => Config::Print(cli::completions(shell)),
            Command::Manpage => Config::Print(
                cli::manpage().map_err(|e| UsageError(format!("writing the man page: {e}")))?,
            ),
            Command::Rules {
                command: RulesCommand::List,
                rules,
            } => Config::RulesList(rule_source(rules)),
            Command::Rules {
                command: RulesCommand::Check,
                rules,
            } => Config::RulesCheck(rule_source(rules)),
        })
    }
}

fn rule_source(args: cli::RuleArgs) -> RuleSource {
    RuleSource {
        repo: Vec::new(),
        extra: args.rules,
        disabled: args.disable_rule,
        providers: args.provider,
        exclude_providers: args.exclude_provider,
        attest: false,
    }
}

fn common(args: cli::CommonArgs) -> Result<Common, UsageError> {
    let threads = threads(args.limits.threads)?;
    let mut limits = Limits {
        max_archive_depth: args.limits.max_archive_depth,
        ..Limits::default()
    };
    if let Some(chunk) = args.chunk_size {
        limits.chunk_size = chunk.max(1);
    }
    let verify_given = VerifyGiven::of(&args.verify.verification);
    let (verify, gate) = verification(args.verify)?;
    let color = use_color(&args.report);
    Ok(Common {
        format: format(args.report.format),
        output: args.report.out.output,
        show_secrets: args.report.out.show_secrets,
        color,
        verify,
        gate,
        limits,
        max_decode_depth: args.limits.max_decode_depth,
        join: !args.limits.no_join,
        allow_incomplete: args.limits.allow_incomplete,
        inline_allow: !args.no_inline_allow,
        baseline: args.baseline,
        threads,
        rules: rule_source(args.rules),
        progress: !args.report.out.quiet,
        verify_given,
        git_reader: git_reader()?,
    })
}

/// `-j N`: at least 1; the number of CPUs when not given.
fn threads(n: Option<usize>) -> Result<usize, UsageError> {
    match n {
        Some(0) => Err(UsageError("-j/--threads must be at least 1".into())),
        Some(n) => Ok(clamp_threads("-j/--threads", n)),
        None => Ok(std::thread::available_parallelism().map_or(2, |n| n.get().min(MAX_THREADS))),
    }
}

fn use_color(args: &cli::ReportArgs) -> bool {
    color_for(args.out.color, args.out.output.is_none())
}

/// Whether to colour a report going to standard output (`to_stdout`) or a file.
fn color_for(choice: ColorChoice, to_stdout: bool) -> bool {
    let to_terminal = to_stdout && std::io::stdout().is_terminal();
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// The verification settings of `scan` and `git`: none without `--verify`, whose options are
/// a usage error on their own.
fn verification(on: cli::VerifyOn) -> Result<(Option<VerifyConfig>, Gate), UsageError> {
    let args = on.verification;
    let gate = gate(&args);
    if on.verify {
        return Ok((Some(verify_config(&args, true)?), gate));
    }
    let needs_verify = [
        (args.openai_base_url.is_some(), "--openai-base-url"),
        (!args.verify_endpoint.is_empty(), "--verify-endpoint"),
        (args.verify_deep, "--verify-deep"),
        (args.verify_concurrency.is_some(), "--verify-concurrency"),
        (args.verify_cache_ttl.is_some(), "--verify-cache-ttl"),
        (args.no_verify_cache, "--no-verify-cache"),
        (args.only_live, "--only-live"),
        (
            gate.fail_on_given && gate.fail_on == FailOn::Live,
            "--fail-on live",
        ),
    ];
    match needs_verify.iter().find(|(given, _)| *given) {
        Some((_, flag)) => Err(UsageError(format!(
            "{flag} needs --verify (without it nothing is verified)"
        ))),
        None => Ok((None, gate)),
    }
}

/// What verdicts do to the report and the exit code.
fn gate(args: &cli::VerifyArgs) -> Gate {
    Gate {
        only_live: args.only_live,
        fail_on: match args.fail_on {
            Some(cli::FailOn::Live) => FailOn::Live,
            Some(cli::FailOn::Any) | None => FailOn::Any,
        },
        fail_on_given: args.fail_on.is_some(),
    }
}

/// The report format clap parsed, as the report knows it.
fn format(f: cli::Format) -> Format {
    match f {
        cli::Format::Human => Format::Human,
        cli::Format::Json => Format::Json,
        cli::Format::Jsonl => Format::Jsonl,
        cli::Format::Sarif => Format::Sarif,
        cli::Format::Gitlab => Format::Gitlab,
    }
}

/// Where keys go, how many at once, and the cache; `read_cache` is false for `keyhound verify`.
fn verify_config(args: &cli::VerifyArgs, read_cache: bool) -> Result<VerifyConfig, UsageError> {
    let base_url = match &args.openai_base_url {
        Some(url) => {
            BaseUrl::parse(url).map_err(|e| UsageError(format!("--openai-base-url {e}")))?
        }
        None => BaseUrl::openai(),
    };
    let base_url = base_url
        .with_endpoints(
            &args.verify_endpoint,
            args.openai_base_url.is_some(),
            crate::rules::PROVIDERS,
        )
        .map_err(|e| UsageError(format!("--verify-endpoint {e}")))?;
    let concurrency = match args.verify_concurrency {
        Some(0) => return Err(UsageError("--verify-concurrency must be at least 1".into())),
        Some(n) => clamp_threads("--verify-concurrency", n),
        None => verify::DEFAULT_CONCURRENCY,
    };
    let ttl = match &args.verify_cache_ttl {
        Some(s) => verify::clock::parse_duration(s).ok_or_else(|| {
            UsageError(format!(
                "--verify-cache-ttl {s:?}: expected a duration such as 90s, 30m, 24h or 7d"
            ))
        })?,
        None => verify::DEFAULT_CACHE_TTL,
    };
    let use_cache = !args.no_verify_cache;
    Ok(VerifyConfig {
        base_url,
        concurrency,
        cache: CacheConfig {
            dir: use_cache.then(CacheConfig::default_dir).flatten(),
            read: read_cache,
            write: use_cache,
            ttl,
        },
        timeouts: verify::http::Timeouts::default(),
        retry: verify::retry::RetryPolicy::default(),
        deep: args.verify_deep,
    })
}

/// `keyhound verify`: the built-in rules and limits, verification always on and never from the
/// cache, and every key on standard input checked (allow comments do not apply).
fn verify_command(args: cli::VerifyCmdArgs) -> Result<Common, UsageError> {
    if args.verification.verify_cache_ttl.is_some() {
        return Err(UsageError(
            "keyhound verify always asks afresh: --verify-cache-ttl applies to scan and git".into(),
        ));
    }
    let verify = verify_config(&args.verification, false)?;
    Ok(Common {
        format: format(args.report.format),
        color: use_color(&args.report),
        output: args.report.out.output,
        show_secrets: args.report.out.show_secrets,
        limits: Limits::default(),
        max_decode_depth: 1,
        join: true,
        allow_incomplete: false,
        threads: 1,
        rules: RuleSource {
            attest: args.provider.len() == 1,
            providers: args.provider,
            ..RuleSource::default()
        },
        inline_allow: false,
        baseline: None,
        verify: Some(verify),
        gate: gate(&args.verification),
        progress: !args.report.out.quiet,
        verify_given: VerifyGiven {
            concurrency: true,
            cache_ttl: true,
        },
        git_reader: Reader::default(),
    })
}

fn scan_config(args: cli::ScanArgs) -> Result<ScanConfig, UsageError> {
    if args.paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(UsageError(
            "standard input (-) can be named only once".into(),
        ));
    }
    let max_filesize = args
        .max_filesize
        .as_deref()
        .map(|s| parse_size("--max-filesize", s))
        .transpose()?;
    let common = common(args.common)?;
    Ok(ScanConfig {
        paths: args.paths,
        walk: WalkOptions {
            no_ignore: args.no_ignore,
            follow_links: args.follow_links,
            threads: common.threads,
            max_filesize,
        },
        common,
    })
}

/// `keyhound git`; with `--staged --files` outside a commit (the pre-commit framework run on
/// files), a scan of those files' content.
fn git_command(mut args: cli::GitArgs) -> Result<Config, UsageError> {
    let committing = std::env::var_os("GIT_INDEX_FILE").is_some_and(|v| !v.is_empty());
    match args.files.take() {
        Some(paths) if !committing => Ok(Config::Scan(ScanConfig {
            paths,
            walk: WalkOptions {
                no_ignore: false,
                follow_links: false,
                threads: threads(args.common.limits.threads)?,
                max_filesize: None,
            },
            common: common(args.common)?,
        })),
        only => {
            let mut cfg = git_config(args)?;
            cfg.only = only;
            Ok(Config::Git(cfg))
        }
    }
}

fn git_config(args: cli::GitArgs) -> Result<GitConfig, UsageError> {
    let mode = match (args.range, args.staged) {
        (Some(range), _) => {
            let excludes =
                range.contains("..") || range.split_whitespace().any(|t| t.starts_with('^'));
            if !excludes || range.contains("...") {
                return Err(UsageError(format!(
                    "--range {range:?}: expected A..B (the commits in B that are not in A)"
                )));
            }
            GitMode::Range(range)
        }
        (None, true) => GitMode::Staged,
        (None, false) => match args.commit_msg {
            Some(file) => GitMode::CommitMsg(file),
            None if args.pre_push => GitMode::PrePush,
            None if args.pre_receive => GitMode::PreReceive,
            None => GitMode::History,
        },
    };
    let budget = if args.pre_receive {
        Some(Budget {
            timeout: std::time::Duration::try_from_secs_f64(args.timeout)
                .ok()
                .filter(|t| !t.is_zero())
                .ok_or_else(|| {
                    UsageError(format!(
                        "--timeout {}: expected seconds above 0",
                        args.timeout
                    ))
                })?,
            fail_closed: args.fail_closed,
        })
    } else {
        None
    };
    Ok(GitConfig {
        repo: args.repo,
        budget,
        mode,
        all_objects: args.all_objects,
        max_blob_size: parse_size("--max-blob-size", &args.max_blob_size)?,
        only: None,
        common: common(args.common)?,
    })
}

/// Parses `123`, `10K`, `10M`, `2G` (binary multiples) into bytes.
pub fn parse_size(flag: &str, s: &str) -> Result<u64, UsageError> {
    let bad = || {
        UsageError(format!(
            "{flag} {s:?}: expected a size such as 500K, 10M or 1G"
        ))
    };
    let t = s.trim();
    let (num, mult) = match t.char_indices().last().ok_or_else(bad)? {
        (i, 'k' | 'K') => (&t[..i], 1u64 << 10),
        (i, 'm' | 'M') => (&t[..i], 1 << 20),
        (i, 'g' | 'G') => (&t[..i], 1 << 30),
        _ => (t, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(bad)
}

/// `keyhound audit`, or `keyhound audit merge`.
fn audit_config(args: cli::AuditArgs) -> Result<Config, UsageError> {
    if let Some(cli::AuditCommand::Merge(m)) = args.command {
        return Ok(Config::AuditMerge(MergeConfig {
            files: m.files,
            format: audit_format(m.report.format),
            color: color_for(m.report.out.color, m.report.out.output.is_none()),
            output: m.report.out.output,
            show_secrets: m.report.out.show_secrets,
        }));
    }
    let shard = args
        .shard
        .as_deref()
        .map(|s| {
            s.parse::<ShardSpec>()
                .map_err(|e| UsageError(format!("{e}")))
        })
        .transpose()?;
    let threads = threads(args.limits.threads)?;
    let verify_given = VerifyGiven::of(&args.verify.verification);
    let (verify, gate) = verification(args.verify)?;
    let r = args.report;
    let common = Common {
        format: Format::Json,
        color: color_for(r.out.color, r.out.output.is_none()),
        output: r.out.output,
        show_secrets: r.out.show_secrets,
        limits: Limits {
            max_archive_depth: args.limits.max_archive_depth,
            ..Limits::default()
        },
        max_decode_depth: args.limits.max_decode_depth,
        join: !args.limits.no_join,
        allow_incomplete: args.limits.allow_incomplete,
        threads,
        rules: rule_source(args.rules),
        inline_allow: false,
        baseline: None,
        verify,
        gate,
        progress: !r.out.quiet,
        verify_given,
        git_reader: git_reader()?,
    };
    Ok(Config::Audit(AuditConfig {
        paths: args.paths,
        shard,
        list: args.list,
        repos: args.repos,
        emit_replacements: args.emit_replacements,
        max_blob_size: parse_size("--max-blob-size", &args.max_blob_size)?,
        format: audit_format(r.format),
        common,
    }))
}

fn audit_format(f: cli::AuditFormat) -> AuditFormat {
    match f {
        cli::AuditFormat::Human => AuditFormat::Human,
        cli::AuditFormat::Json => AuditFormat::Json,
        cli::AuditFormat::Markdown => AuditFormat::Markdown,
        cli::AuditFormat::Html => AuditFormat::Html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Result<Config, UsageError> {
        use clap::Parser as _;
        let cli = Cli::try_parse_from(std::iter::once("keyhound").chain(args.iter().copied()));
        Config::from_cli(cli.unwrap())
    }

    #[test]
    fn a_shard_is_checked_with_the_command_line() {
        let Ok(Config::Audit(cfg)) = config(&["audit", "--shard", "2/3"]) else {
            panic!("audit --shard 2/3 is an audit");
        };
        assert_eq!(cfg.shard, Some(ShardSpec { index: 2, count: 3 }));
        let e = config(&["audit", "--shard", "3/2"]).unwrap_err();
        assert!(e.to_string().contains("I must be between 1 and N"), "{e}");
    }

    #[test]
    fn verify_flags_are_the_same_for_every_command_that_takes_them() {
        for cmd in ["scan", "git", "ci", "audit"] {
            let e = config(&[cmd, "--only-live"]).unwrap_err();
            assert_eq!(
                e.to_string(),
                "--only-live needs --verify (without it nothing is verified)"
            );
            assert!(
                config(&[cmd, "--verify", "--fail-on", "live"]).is_ok(),
                "{cmd}"
            );
        }
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("-", "10").unwrap(), 10);
        assert_eq!(parse_size("-", "10K").unwrap(), 10240);
        assert_eq!(parse_size("-", "2m").unwrap(), 2 << 20);
        assert_eq!(parse_size("-", "1G").unwrap(), 1 << 30);
        assert!(parse_size("-", "ten").is_err());
        assert!(parse_size("-", "").is_err());
    }
}
