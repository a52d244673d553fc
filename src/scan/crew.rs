//! Scanning threads started as jobs wait for them and memory allows, up to `-j`: at once while
//! the pool of chunk buffers gives each a whole chunk (two by default), past that only after a
//! job, when no buffer was denied room since and the pool has room for what a thread costs
//! ([`chunks::THREAD`]) and its first buffer. So `-j 64` runs the few threads whose chunks the
//! pool holds on large blobs, as `-j 2` does, and not 64 that each cost their stack and caches
//! (a folder of 300 files of 1 MB: 17.3 MB against 13.3 MB; 300 blobs of 1 MB read through
//! `git cat-file`: 20.0 MB against 13.7 MB), and as many as the pool holds on small ones. The
//! price: a large machine scans few large blobs at once.

use super::chunks;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread::Scope;

/// Where a crew's jobs come from, what each thread keeps between them, and how one is done.
pub struct Work<'w, J, S> {
    /// The next job, waiting for one; `None` when there are no more.
    pub next: &'w (dyn Fn() -> Option<J> + Sync),
    /// Whether jobs wait that no thread is free to take.
    pub backlog: &'w (dyn Fn() -> bool + Sync),
    /// A thread's own state, made when it starts (a repository handle).
    pub start: &'w (dyn Fn() -> anyhow::Result<S> + Sync),
    pub run: &'w (dyn Fn(&mut S, J) + Sync),
}

/// The threads of one run of [`Work`].
pub struct Crew<'w, J, S> {
    work: Work<'w, J, S>,
    pool: &'static chunks::Pool,
    most: usize,
    /// Threads started as soon as jobs wait.
    eager: usize,
    started: AtomicUsize,
    /// [`chunks::Pool::denials`] when a thread last looked.
    denials: AtomicU64,
    /// The first error of a thread that failed, panicked or could not start.
    failed: Mutex<Option<anyhow::Error>>,
}

impl<'w, J: Send, S> Crew<'w, J, S> {
    /// A crew of up to `most` threads (at least one) doing `work`, whose blobs are read through
    /// whole chunks of `chunk` bytes from `pool`.
    pub fn new(
        work: Work<'w, J, S>,
        most: usize,
        pool: &'static chunks::Pool,
        chunk: usize,
    ) -> Self {
        Crew {
            work,
            pool,
            most: most.max(1),
            eager: pool.whole_chunks(chunk),
            started: AtomicUsize::new(0),
            denials: AtomicU64::new(pool.denials()),
            failed: Mutex::new(None),
        }
    }

    /// Does the work on this thread, starting others as they are wanted, until there are no
    /// more jobs (the scope waits for the others).
    pub fn run_here<'s>(&'s self, s: &'s Scope<'s, '_>)
    where
        'w: 's,
    {
        self.started.fetch_add(1, Ordering::Relaxed);
        self.take(s, self.pool.reserve(chunks::THREAD));
    }

    /// Starts the first thread, which starts the others as they are wanted. Errs when it could
    /// not start.
    pub fn start<'s>(&'s self, s: &'s Scope<'s, '_>) -> Result<(), String>
    where
        'w: 's,
    {
        self.started.fetch_add(1, Ordering::Relaxed);
        self.spawn(s, self.pool.reserve(chunks::THREAD))
    }

    /// Once the scope has ended: the first error of a thread that failed, panicked or could not
    /// start (the others did its share).
    pub fn outcome(self) -> anyhow::Result<()> {
        self.failed
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .map_or(Ok(()), Err)
    }

    fn fail(&self, e: anyhow::Error) {
        self.failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(e);
    }

    fn take<'s>(&'s self, s: &'s Scope<'s, '_>, _cost: Option<chunks::Reserved>)
    where
        'w: 's,
    {
        let mut state = match (self.work.start)() {
            Ok(state) => state,
            Err(e) => {
                self.fail(e);
                return self.drain();
            }
        };
        while let Some(job) = (self.work.next)() {
            let started = self.started.load(Ordering::Relaxed);
            if started < self.eager {
                self.another(s);
            }
            (self.work.run)(&mut state, job);
            if started < self.most && self.unpressed() {
                self.another(s);
            }
        }
    }

    /// Takes the jobs left undone, once the crew has failed, so that whoever hands them out
    /// (a producer waiting for room in a bounded queue) is never left waiting.
    fn drain(&self) {
        while (self.work.next)().is_some() {}
    }

    /// Whether no buffer was denied room since a thread of this crew last looked.
    fn unpressed(&self) -> bool {
        let denials = self.pool.denials();
        self.denials.swap(denials, Ordering::Relaxed) == denials
    }

    /// Starts another thread if jobs wait, `-j` allows one more and the pool has room for it.
    fn another<'s>(&'s self, s: &'s Scope<'s, '_>)
    where
        'w: 's,
    {
        if self.started.load(Ordering::Relaxed) >= self.most || !(self.work.backlog)() {
            return;
        }
        let Some(cost) = self.pool.reserve(chunks::THREAD) else {
            return;
        };
        if self.started.fetch_add(1, Ordering::Relaxed) >= self.most {
            return;
        }
        if let Err(e) = self.spawn(s, Some(cost)) {
            // No more: the refusal is reported, and the threads started do the work.
            self.started.store(self.most, Ordering::Relaxed);
            self.fail(anyhow::anyhow!(e));
        }
    }

    /// Starts a thread that does the work; a panic in it is its error.
    fn spawn<'s>(
        &'s self,
        s: &'s Scope<'s, '_>,
        cost: Option<chunks::Reserved>,
    ) -> Result<(), String>
    where
        'w: 's,
    {
        crate::threads::spawn_scoped(s, "keyhound-scan", move || {
            let run = std::panic::AssertUnwindSafe(|| self.take(s, cost));
            if std::panic::catch_unwind(run).is_err() {
                self.fail(anyhow::anyhow!("a scanning thread panicked"));
                self.drain();
            }
        })
        .map(drop)
    }
}
