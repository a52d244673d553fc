//! `Config`: the validated settings the core runs with, built once from the command line.
//! The core never sees clap.

use crate::cli::{self, Cli, ColorChoice, Command, RulesCommand};
use crate::scan::Limits;
pub use crate::scan::git::GitMode;
use crate::scan::walk::WalkOptions;
use std::io::IsTerminal;
use std::path::PathBuf;

pub use crate::cli::Format;

/// What to run.
#[derive(Debug, Clone)]
pub enum Config {
    Scan(ScanConfig),
    Git(GitConfig),
    RulesList(RuleSource),
    RulesCheck(RuleSource),
}

/// Which rules to load.
#[derive(Debug, Clone, Default)]
pub struct RuleSource {
    pub extra: Vec<PathBuf>,
    pub disabled: Vec<String>,
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
    pub allow_incomplete: bool,
    pub threads: usize,
    pub rules: RuleSource,
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
            Command::Git(args) => Config::Git(git_config(args)?),
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
        extra: args.rules,
        disabled: args.disable_rule,
    }
}

fn common(args: cli::CommonArgs) -> Result<Common, UsageError> {
    let threads = match args.threads {
        Some(0) => return Err(UsageError("-j/--threads must be at least 1".into())),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    let mut limits = Limits {
        max_archive_depth: args.max_archive_depth,
        ..Limits::default()
    };
    if let Some(chunk) = args.chunk_size {
        limits.chunk_size = chunk.max(1);
    }
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    Ok(Common {
        format: args.format,
        output: args.output,
        show_secrets: args.show_secrets,
        color,
        limits,
        max_decode_depth: args.max_decode_depth,
        allow_incomplete: args.allow_incomplete,
        threads,
        rules: rule_source(args.rules),
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

fn git_config(args: cli::GitArgs) -> Result<GitConfig, UsageError> {
    let mode = match (args.range, args.staged) {
        (Some(range), _) => {
            if !range.contains("..") || range.contains("...") {
                return Err(UsageError(format!(
                    "--range {range:?}: expected A..B (the commits in B that are not in A)"
                )));
            }
            GitMode::Range(range)
        }
        (None, true) => GitMode::Staged,
        (None, false) => GitMode::History,
    };
    Ok(GitConfig {
        repo: args.repo,
        mode,
        all_objects: args.all_objects,
        max_blob_size: parse_size("--max-blob-size", &args.max_blob_size)?,
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

#[cfg(test)]
mod tests {
    use super::*;

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
