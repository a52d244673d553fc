//! Integration tests: each runs the real `keyhound` binary over fixtures built at run time.
//! Test keys are made from templates here, never committed as literals.

mod util;

mod exit_codes;
mod keys;
