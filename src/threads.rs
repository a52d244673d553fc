//! Starting threads: a thread the system refuses (its limit on threads or memory reached) is an
//! error that says what to do, never a panic, as `std::thread::spawn` and `Scope::spawn` give.

use std::thread::{Builder, JoinHandle, Scope, ScopedJoinHandle};

/// The cores the thread counts are bounded by: the machine's, or `KEYHOUND_CORES` (for tests and
/// measurements: how a machine of that many cores runs, here). No memory bound depends on it.
pub fn cores() -> usize {
    let set = std::env::var("KEYHOUND_CORES")
        .ok()
        .and_then(|v| v.parse().ok());
    let cores = set.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    cores.max(1)
}

/// Why a thread did not start, and what to do about it.
pub fn refused(name: &str, e: &dyn std::fmt::Display) -> String {
    format!(
        "cannot start a thread ({name}): {e} — the system's limit on threads or memory is \
         reached: lower -j/--threads or --verify-concurrency, or raise the limit (ulimit -u)"
    )
}

/// Starts `f` on a thread named `name`.
///
/// # Errors
/// When the system refuses the thread: the message says what to do.
pub fn spawn<F, T>(name: &str, f: F) -> Result<JoinHandle<T>, String>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    spawn_with(Builder::new(), name, f)
}

fn spawn_with<F, T>(builder: Builder, name: &str, f: F) -> Result<JoinHandle<T>, String>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    builder
        .name(name.into())
        .spawn(f)
        .map_err(|e| refused(name, &e))
}

/// Starts `f` on a thread of the scope `s`, named `name`.
///
/// # Errors
/// When the system refuses the thread: the message says what to do.
pub fn spawn_scoped<'scope, F, T>(
    s: &'scope Scope<'scope, '_>,
    name: &str,
    f: F,
) -> Result<ScopedJoinHandle<'scope, T>, String>
where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    Builder::new()
        .name(name.into())
        .spawn_scoped(s, f)
        .map_err(|e| refused(name, &e))
}

/// A pool of `threads` scanning threads.
///
/// # Errors
/// When the system refuses one of them: the message advises a lower `-j`.
pub fn pool(threads: usize) -> anyhow::Result<rayon::ThreadPool> {
    pool_with(
        rayon::ThreadPoolBuilder::new().num_threads(threads),
        threads,
    )
}

fn pool_with(
    builder: rayon::ThreadPoolBuilder,
    threads: usize,
) -> anyhow::Result<rayon::ThreadPool> {
    builder.build().map_err(|e| {
        anyhow::anyhow!(
            "cannot start {threads} scanning threads: {e} — the system's limit on threads or \
             memory is reached: try a lower -j/--threads, or raise the limit (ulimit -u)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stack no system can give: the spawn fails as it does at the thread limit.
    const IMPOSSIBLE_STACK: usize = 1 << 60;

    #[test]
    fn a_started_thread_runs() {
        let h = spawn("keyhound-test", || 7).expect("a thread starts");
        assert_eq!(h.join().ok(), Some(7));
        let n = std::thread::scope(|s| {
            let h = spawn_scoped(s, "keyhound-test", || 8).expect("a thread starts");
            h.join().ok()
        });
        assert_eq!(n, Some(8));
    }

    #[test]
    fn a_refused_thread_is_an_error_saying_what_to_do() {
        let builder = Builder::new().stack_size(IMPOSSIBLE_STACK);
        let msg =
            spawn_with(builder, "keyhound-walk", || ()).expect_err("no system gives this stack");
        assert!(
            msg.contains("keyhound-walk") && msg.contains("lower -j"),
            "{msg}"
        );
    }

    #[test]
    fn a_pool_that_cannot_start_advises_a_lower_j() {
        let builder = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .stack_size(IMPOSSIBLE_STACK);
        let e = pool_with(builder, 2).expect_err("no system gives this stack");
        let msg = e.to_string();
        assert!(msg.contains("cannot start 2 scanning threads"), "{msg}");
        assert!(msg.contains("lower -j"), "{msg}");
        assert!(pool(2).is_ok());
    }
}
