//! `keyhound audit merge`: the JSON reports of every shard of a sharded audit, joined into the
//! report one machine auditing the same repositories writes (see `audit::merge`).

use crate::audit::{merge, shard};
use crate::config::MergeConfig;
use crate::exit::{Exit, FailOn};

/// Runs `keyhound audit merge`.
pub fn run(cfg: &MergeConfig) -> anyhow::Result<Exit> {
    let parts = merge::read_parts(&cfg.files)?;
    shard::check_parts(&parts)?;
    let shown = parts.iter().all(|(_, r)| r.secrets_shown);
    if cfg.show_secrets && !shown {
        anyhow::bail!(
            "--show-secrets: the shard reports hold redacted keys; run the shards with --show-secrets to merge whole keys"
        );
    }
    let redact = shown && !cfg.show_secrets;
    let report = merge::merge(parts.into_iter().map(|(_, r)| r).collect(), redact)?;
    let sink = super::audit::Sink {
        output: cfg.output.as_deref(),
        color: cfg.color,
        fail_on: FailOn::Any,
        allow_incomplete: false,
    };
    super::audit::write(&report, cfg.format, &sink)
}
