//! keyhound: finds leaked API keys. The pipeline is sources → blobs → matcher → findings →
//! suppress/dedupe → report; `run` wires it together and nothing else does.

pub mod finding;
pub mod matcher;
pub mod rules;
pub mod secret;
