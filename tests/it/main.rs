//! Integration tests: each runs the real `keyhound` binary over fixtures built at run time.
//! Test keys are made from templates here, never committed as literals.

mod repo;
mod util;

mod archives;
mod archives_codecs;
mod archives_prefixed;
mod audit;
mod audit_remedy;
mod chunks;
mod ci;
mod ci_gitlab;
mod completions;
mod contract;
mod decoys;
mod encodings;
mod exit_codes;
mod fuzz;
mod git;
mod gitlab;
mod hardening_leftovers;
mod hardening_more;
mod hardening_output;
mod hidden;
mod hooks;
mod hostile_audit;
mod hostile_config;
mod hostile_git;
mod keys;
mod layers;
mod pre_receive;
mod progress;
mod properties;
mod providers;
mod providers_aws;
mod rules_cmd;
mod sarif;
mod suppress;
mod verify;
mod verify_aws;
mod verify_gcp;
mod verify_gcp_deep;
mod verify_hosts;
mod verify_mock;
mod verify_providers;
mod walk;
