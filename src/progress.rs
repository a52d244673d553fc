//! The progress bar of long scans, on standard error and only on a terminal: repositories,
//! commits, blobs, bytes, rate, ETA when a total is known. Scanning threads only add to atomic
//! counters; one ticker thread turns them into the bar ten times a second.

use crossbeam_channel::{RecvTimeoutError, Sender};
use indicatif::{BinaryBytes, HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fmt::{self, Write as _};
use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the bar is redrawn.
const TICK: Duration = Duration::from_millis(100);

/// The most drawings a second, enforced by the draw target.
const DRAWS_PER_SECOND: u8 = 10;

/// A scan done within this shows no bar at all, not even a flash of one.
const FIRST_DRAW: Duration = Duration::from_millis(250);

/// A handle on the progress of one command, cheap to clone and shared by every thread (and by
/// every repository of an audit). Hidden (every method does nothing) unless asked for and
/// standard error is a terminal.
#[derive(Clone, Default)]
pub struct Progress {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    counts: Arc<Counts>,
    bar: ProgressBar,
    /// Dropping the sender stops the ticker; taken by the first `finish`.
    ticker: Mutex<Option<(Sender<()>, JoinHandle<()>)>>,
}

/// What the scan has done so far: only atomic adds while scanning.
#[derive(Default)]
struct Counts {
    repositories: AtomicU64,
    repositories_done: AtomicU64,
    commits: AtomicU64,
    blobs: AtomicU64,
    bytes: AtomicU64,
    /// 0: unknown.
    total_bytes: AtomicU64,
    phase: Mutex<String>,
}

impl Progress {
    /// A bar when `enabled` (no `--quiet`) and standard error is a terminal that draws one.
    pub fn new(enabled: bool) -> Progress {
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        if enabled && !dumb && std::io::stderr().is_terminal() {
            Progress::with_target(ProgressDrawTarget::stderr_with_hz(DRAWS_PER_SECOND))
        } else {
            Progress::hidden()
        }
    }

    /// No bar: every method does nothing.
    pub fn hidden() -> Progress {
        Progress { inner: None }
    }

    /// A bar drawn to `target`.
    fn with_target(target: ProgressDrawTarget) -> Progress {
        let counts = Arc::new(Counts::default());
        // Drawn nowhere until the first tick has styled it (a warning written around it
        // before then must not bring up an unstyled bar).
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
        let ticker = std::thread::Builder::new()
            .name("keyhound-progress".into())
            .spawn({
                let (bar, counts) = (bar.clone(), counts.clone());
                move || {
                    let mut drawn = Drawn {
                        target: Some(target),
                        ..Drawn::default()
                    };
                    let mut wait = FIRST_DRAW;
                    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                        refresh(&bar, &counts, &mut drawn);
                        wait = TICK;
                    }
                }
            });
        let Ok(ticker) = ticker else {
            return Progress::hidden();
        };
        Progress {
            inner: Some(Arc::new(Inner {
                counts,
                bar,
                ticker: Mutex::new(Some((stop, ticker))),
            })),
        }
    }

    /// Whether a bar is drawn (or will be, once the scan has run a moment).
    pub fn is_shown(&self) -> bool {
        self.inner.is_some()
    }

    fn counts(&self) -> Option<&Counts> {
        self.inner.as_deref().map(|i| &*i.counts)
    }

    /// An audit of `total` repositories: the bar counts them, with an ETA.
    pub fn set_repositories(&self, total: u64) {
        if let Some(c) = self.counts() {
            c.repositories.store(total, Relaxed);
        }
    }

    /// One more repository of an audit is done.
    pub fn repository_done(&self) {
        if let Some(c) = self.counts() {
            c.repositories_done.fetch_add(1, Relaxed);
        }
    }

    /// `n` more commits scanned.
    pub fn add_commits(&self, n: u64) {
        if let Some(c) = self.counts() {
            c.commits.fetch_add(n, Relaxed);
        }
    }

    /// `n` commits counted by `add_commits` that the report will not count after all (read from
    /// the pack files, but reached by no ref): the bar's count then agrees with the report's.
    pub fn uncount_commits(&self, n: u64) {
        if let Some(c) = self.counts() {
            let _ = (c.commits).fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_sub(n)));
        }
    }

    /// The bytes the whole scan will read, when known: the bar then fills, with an ETA.
    pub fn set_total_bytes(&self, total: u64) {
        if let Some(c) = self.counts() {
            c.total_bytes.store(total, Relaxed);
        }
    }

    /// One more blob (or file) scanned, of `bytes` bytes not counted yet.
    pub fn add_blob(&self, bytes: u64) {
        if let Some(c) = self.counts() {
            c.blobs.fetch_add(1, Relaxed);
            if bytes > 0 {
                c.bytes.fetch_add(bytes, Relaxed);
            }
        }
    }

    /// `n` more bytes scanned, of a blob counted already.
    pub fn add_bytes(&self, n: u64) {
        if let Some(c) = self.counts() {
            c.bytes.fetch_add(n, Relaxed);
        }
    }

    /// What the scan does now ("locating 3 keys in history", "verifying 2 keys").
    pub fn set_phase(&self, msg: &str) {
        if let Some(c) = self.counts() {
            let mut phase = c.phase.lock().unwrap_or_else(PoisonError::into_inner);
            phase.clear();
            phase.push_str(msg);
        }
    }

    /// Runs `f` (which writes to standard error) with the bar out of the way.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.inner {
            Some(i) => i.bar.suspend(f),
            None => f(),
        }
    }

    /// Clears the bar for good, so the report and the diagnostics after it stand alone. The
    /// last handle dropped does the same.
    pub fn finish(&self) {
        if let Some(i) = &self.inner {
            i.finish();
        }
    }
}

impl Inner {
    fn finish(&self) {
        let ticker = self
            .ticker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some((stop, ticker)) = ticker {
            drop(stop);
            let _ = ticker.join();
            self.bar.finish_and_clear();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.finish();
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress")
            .field("shown", &self.is_shown())
            .finish()
    }
}

/// What the bar counts, as its style was last set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    /// Repositories done out of this many.
    Repositories(u64),
    /// Bytes scanned out of this many.
    Bytes(u64),
    /// No total: a spinner.
    Spinner,
}

/// What the ticker last put on the bar.
#[derive(Default)]
struct Drawn {
    shown: Option<Shown>,
    message: String,
    /// Where the bar goes, until the first refresh sends it there.
    target: Option<ProgressDrawTarget>,
}

/// Copies the counters into the bar and draws it (once, unless the style or phase changed).
fn refresh(bar: &ProgressBar, counts: &Arc<Counts>, drawn: &mut Drawn) {
    let want = match (
        counts.repositories.load(Relaxed),
        counts.total_bytes.load(Relaxed),
    ) {
        (0, 0) => Shown::Spinner,
        (0, total) => Shown::Bytes(total),
        (total, _) => Shown::Repositories(total),
    };
    if drawn.shown != Some(want) {
        bar.set_style(style(want, counts));
        match want {
            Shown::Repositories(len) | Shown::Bytes(len) => bar.set_length(len),
            Shown::Spinner if drawn.shown.is_some() => bar.unset_length(),
            Shown::Spinner => {}
        }
        drawn.shown = Some(want);
    }
    if let Some(target) = drawn.target.take() {
        bar.set_draw_target(target);
    }
    // The phase is the message, last on the line: only it is cut to the terminal's width (the
    // counts are a fixed part, never cut), so the line never wraps. The draw target's rate
    // limit makes the two updates one drawing a tick.
    let message = counts
        .phase
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if message != drawn.message {
        bar.set_message(message.clone());
        drawn.message = message;
    }
    let pos = match want {
        Shown::Repositories(_) => counts.repositories_done.load(Relaxed),
        Shown::Bytes(_) | Shown::Spinner => counts.bytes.load(Relaxed),
    };
    // Without a steady ticker this ticks too: the spinner turns, the rate is sampled, it draws.
    bar.set_position(pos);
}

fn style(shown: Shown, counts: &Arc<Counts>) -> ProgressStyle {
    let template = template(shown);
    let (c1, c2, c3) = (counts.clone(), counts.clone(), counts.clone());
    ProgressStyle::with_template(template)
        .expect("a valid template")
        .progress_chars("=> ")
        .with_key(
            "counts",
            move |_: &indicatif::ProgressState, w: &mut dyn fmt::Write| {
                let _ = write!(w, "{}", describe(&c3));
            },
        )
        .with_key(
            "scanned",
            move |_: &indicatif::ProgressState, w: &mut dyn fmt::Write| {
                let _ = write!(w, "{}", BinaryBytes(c1.bytes.load(Relaxed)));
            },
        )
        .with_key(
            "mean_rate",
            move |s: &indicatif::ProgressState, w: &mut dyn fmt::Write| {
                let secs = s.elapsed().as_secs_f64().max(0.001);
                let rate = c2.bytes.load(Relaxed) as f64 / secs;
                let _ = write!(w, "{}/s", BinaryBytes(rate as u64));
            },
        )
}

/// The bar's layout: the counts first, the phase (the only part cut to fit) last.
fn template(shown: Shown) -> &'static str {
    match shown {
        Shown::Spinner => {
            "{spinner} {counts} · {binary_bytes} · {binary_bytes_per_sec} · {elapsed} {wide_msg}"
        }
        Shown::Bytes(_) => {
            "{spinner} [{bar:20}] {counts} · {binary_bytes}/{binary_total_bytes} · {binary_bytes_per_sec} · ETA {eta} {wide_msg}"
        }
        // The position counts repositories: bytes and their mean rate come from the counters.
        // No ETA: repositories differ too much in size for their count to predict the time
        // (the last, largest one would sit at "ETA 0s"); the elapsed time and counts move.
        Shown::Repositories(_) => {
            "{spinner} [{bar:12}] {pos}/{len} repositories · {counts} · {scanned} · {mean_rate} · {elapsed} {wide_msg}"
        }
    }
}

/// The counts: "1,204 commits · 30,512 blobs". Files, not blobs, when nothing was a commit or a
/// repository: the scan of a directory.
fn describe(c: &Counts) -> String {
    let mut out = String::new();
    let commits = c.commits.load(Relaxed);
    if commits > 0 {
        let _ = write!(out, "{} commits · ", HumanCount(commits));
    }
    let git = commits > 0 || c.repositories.load(Relaxed) > 0;
    let blobs = c.blobs.load(Relaxed);
    let noun = match (git, blobs == 1) {
        (true, true) => "blob",
        (true, false) => "blobs",
        (false, true) => "file",
        (false, false) => "files",
    };
    let _ = write!(out, "{} {noun}", HumanCount(blobs));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bar that counts but draws nowhere, as on a terminal without the terminal.
    fn counting() -> Progress {
        Progress::with_target(ProgressDrawTarget::hidden())
    }

    #[test]
    fn hidden_does_nothing() {
        let p = Progress::hidden();
        assert!(!p.is_shown());
        p.set_repositories(3);
        p.add_commits(2);
        p.add_blob(10);
        p.add_bytes(5);
        p.set_total_bytes(100);
        p.set_phase("scanning");
        p.repository_done();
        assert_eq!(p.suspend(|| 7), 7);
        p.finish();
        assert!(p.counts().is_none());
        assert!(!Progress::default().is_shown());
        // Off a terminal (as under `cargo test`) nothing is drawn either.
        assert!(!Progress::new(false).is_shown());
    }

    #[test]
    fn one_handle_serves_every_thread() {
        fn shared<T: Send + Sync + Clone + 'static>() {}
        shared::<Progress>();
    }

    #[test]
    fn counts_add_up_across_threads() {
        let p = counting();
        p.set_repositories(4);
        std::thread::scope(|s| {
            for _ in 0..4 {
                let p = p.clone();
                s.spawn(move || {
                    for _ in 0..1000 {
                        p.add_blob(3);
                        p.add_bytes(1);
                    }
                    p.add_commits(10);
                    p.repository_done();
                });
            }
        });
        let c = p.counts().expect("counting");
        assert_eq!(c.blobs.load(Relaxed), 4000);
        assert_eq!(c.bytes.load(Relaxed), 16000);
        assert_eq!(c.commits.load(Relaxed), 40);
        assert_eq!(c.repositories_done.load(Relaxed), 4);
        assert_eq!(c.repositories.load(Relaxed), 4);
        p.finish();
        p.finish(); // a second finish, and the drops after it, do nothing more
    }

    #[test]
    fn the_bar_shows_counts_and_phase() {
        let p = counting();
        let inner = p.inner.as_ref().expect("counting");
        let c = &*inner.counts;
        assert_eq!(describe(c), "0 files");
        p.add_blob(0);
        assert_eq!(describe(c), "1 file");
        p.add_commits(1234);
        assert_eq!(describe(c), "1,234 commits · 1 blob");
        p.set_phase("locating 2 keys in history");
        let mut drawn = Drawn::default();
        refresh(&inner.bar, &inner.counts, &mut drawn);
        // Only the phase is the (elastic, cut to fit) message; the counts are never cut.
        let shown = "locating 2 keys in history";
        assert_eq!(
            (drawn.message.as_str(), inner.bar.message()),
            (shown, shown.into())
        );
        for shown in [Shown::Spinner, Shown::Bytes(1), Shown::Repositories(1)] {
            let template = template(shown);
            assert!(template.ends_with(" {wide_msg}"), "{template}");
            assert!(template.contains("{counts}"), "{template}");
        }
        assert!(!template(Shown::Repositories(4)).contains("eta"));
    }

    #[test]
    fn commits_the_report_does_not_count_come_off_the_bar() {
        let p = counting();
        let c = &*p.inner.as_ref().expect("counting").counts;
        p.add_commits(10);
        p.uncount_commits(4);
        assert_eq!(c.commits.load(Relaxed), 6);
        p.uncount_commits(7);
        assert_eq!(c.commits.load(Relaxed), 0);
    }

    #[test]
    fn every_style_renders() {
        let p = counting();
        let inner = p.inner.as_ref().expect("counting");
        let mut drawn = Drawn::default();
        refresh(&inner.bar, &inner.counts, &mut drawn);
        assert_eq!(drawn.shown, Some(Shown::Spinner));
        p.set_total_bytes(1 << 20);
        p.add_blob(1 << 19);
        refresh(&inner.bar, &inner.counts, &mut drawn);
        assert_eq!(drawn.shown, Some(Shown::Bytes(1 << 20)));
        assert_eq!(inner.bar.position(), 1 << 19);
        p.set_repositories(5);
        p.repository_done();
        refresh(&inner.bar, &inner.counts, &mut drawn);
        assert_eq!(drawn.shown, Some(Shown::Repositories(5)));
        assert_eq!((inner.bar.position(), inner.bar.length()), (1, Some(5)));
    }
}
