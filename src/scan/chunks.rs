//! The buffers streams are scanned through, lent from one pool for the whole process and
//! counted byte for byte, so the chunk buffers held at once are bounded however many workers
//! run: `-j 64` holds what `-j 2` does. A blob already in memory is scanned where it lies and
//! borrows nothing.

use std::cell::Cell;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// A buffer's first size; it grows by doubling while the pool has room and nobody waits.
pub const FIRST: usize = 64 << 10;

/// The pool every scanner borrows from: two default chunks (1 MiB) and their overlaps (up to
/// 64 KiB), and what two scanning threads cost besides ([`THREAD`]): what the two workers of
/// `-j 2` hold scanning large files. Past that, a worker scans in chunks of the buffer it has,
/// or waits for one.
pub static POOL: Pool = Pool::new(2 * ((1 << 20) + (64 << 10) + THREAD));

/// What a scanning thread costs besides its buffer, measured on 300 files of 1 MB: its stack,
/// the allocator's caches and the regex caches it fills, about 65 KB each (17.3 MB at `-j 64`,
/// 13.3 MB at `-j 2`, every thread scanning).
pub const THREAD: usize = 64 << 10;

/// The largest buffer kept for reuse: larger ones (a `--chunk-size` over the default) are freed
/// when given back.
const MAX_KEPT: usize = 2 << 20;

/// How long a worker waits for a buffer while none comes back before it takes one anyway: a
/// scanner that holds a buffer never waits for another worker, so this only guards against a
/// hang should one ever do so.
const PATIENCE: Duration = Duration::from_secs(5);

/// Buffers lent and kept, and the workers waiting for one.
#[derive(Debug)]
pub struct Pool {
    state: Mutex<State>,
    returned: Condvar,
    capacity: usize,
}

#[derive(Debug)]
struct State {
    /// Bytes of every buffer lent or kept.
    counted: usize,
    /// Buffers given back, for the next worker.
    kept: Vec<Vec<u8>>,
    /// Workers waiting for room.
    waiting: usize,
    /// Buffers given back so far: a waiter that sees it move knows the scanners progress.
    returns: u64,
    /// The most bytes counted at once.
    peak: usize,
    /// Buffers that could not grow for want of room: the pool is as full as it should be.
    denied: u64,
}

/// A buffer lent by a [`Pool`], given back when dropped.
#[derive(Debug)]
pub struct Lent {
    data: Vec<u8>,
    pool: &'static Pool,
}

/// Bytes taken from a [`Pool`] by [`Pool::reserve`], given back when dropped.
#[derive(Debug)]
pub struct Reserved {
    bytes: usize,
    pool: &'static Pool,
}

impl Drop for Reserved {
    fn drop(&mut self) {
        let mut state = self.pool.state();
        state.counted -= self.bytes;
        self.pool.wake(&state);
    }
}

thread_local! {
    /// Buffers this thread holds: one that asks for another does not wait (it would wait for
    /// itself).
    static HOLDING: Cell<usize> = const { Cell::new(0) };
}

impl Pool {
    pub const fn new(capacity: usize) -> Pool {
        Pool {
            state: Mutex::new(State {
                counted: 0,
                kept: Vec::new(),
                waiting: 0,
                returns: 0,
                peak: 0,
                denied: 0,
            }),
            returned: Condvar::new(),
            capacity,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wakes the workers waiting for room, if any (a wake is a system call).
    fn wake(&self, state: &State) {
        if state.waiting > 0 {
            self.returned.notify_all();
        }
    }

    /// A buffer of at least `least` bytes: a kept one, or a new one when the pool has room,
    /// else the first given back (waiting for it).
    pub fn lend(&'static self, least: usize) -> Lent {
        let holding = HOLDING.get() > 0;
        let mut state = self.state();
        let data = loop {
            if let Some(data) = state.take_kept(least) {
                break data;
            }
            if state.counted + least <= self.capacity || holding {
                state.count(least);
                drop(state);
                break vec![0; least];
            }
            if state.free_kept() {
                continue;
            }
            let before = state.returns;
            state.waiting += 1;
            let (after, wait) = self
                .returned
                .wait_timeout(state, PATIENCE)
                .unwrap_or_else(|p| p.into_inner());
            state = after;
            state.waiting -= 1;
            if wait.timed_out() && state.returns == before {
                state.count(least);
                drop(state);
                break vec![0; least];
            }
        };
        HOLDING.set(HOLDING.get() + 1);
        Lent { data, pool: self }
    }

    /// Takes `bytes` that are not a buffer (what a scanning thread costs besides its buffer)
    /// if the pool has room for them and a first buffer more; never waits.
    pub fn reserve(&'static self, bytes: usize) -> Option<Reserved> {
        let mut state = self.state();
        (state.counted + bytes + FIRST <= self.capacity).then(|| {
            state.count(bytes);
            Reserved { bytes, pool: self }
        })
    }

    /// How many threads, each costing [`THREAD`], the pool gives a whole chunk of `bytes`.
    pub fn whole_chunks(&self, bytes: usize) -> usize {
        self.capacity / (bytes + THREAD)
    }

    /// How many times a buffer could not grow for want of room, so far.
    pub fn denials(&self) -> u64 {
        self.state().denied
    }

    /// Bytes of the buffers lent and kept.
    #[cfg(test)]
    pub fn counted(&self) -> usize {
        self.state().counted
    }

    /// The most bytes [`Pool::counted`] has been.
    #[cfg(test)]
    pub fn peak(&self) -> usize {
        self.state().peak
    }

    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl State {
    fn count(&mut self, bytes: usize) {
        self.counted += bytes;
        self.peak = self.peak.max(self.counted);
    }

    /// The largest kept buffer if it holds `least` bytes.
    fn take_kept(&mut self, least: usize) -> Option<Vec<u8>> {
        let (i, _) = (self.kept.iter().enumerate()).max_by_key(|(_, b)| b.len())?;
        (self.kept[i].len() >= least).then(|| self.kept.swap_remove(i))
    }

    /// Frees a kept buffer to make room; false when none is kept.
    fn free_kept(&mut self) -> bool {
        let Some(data) = self.kept.pop() else {
            return false;
        };
        self.counted -= data.len();
        true
    }
}

impl Lent {
    /// The buffer.
    pub fn data(&mut self) -> &mut Vec<u8> {
        &mut self.data
    }

    /// Grows the buffer to `bytes` (zeroed) if the pool has room for them and nobody waits for
    /// a buffer (freeing kept ones to make room); never waits. Returns whether it did.
    pub fn grow(&mut self, bytes: usize) -> bool {
        let more = bytes.saturating_sub(self.data.len());
        if more == 0 {
            return true;
        }
        let mut state = self.pool.state();
        if state.waiting > 0 {
            state.denied += 1;
            return false;
        }
        while state.counted + more > self.pool.capacity {
            if !state.free_kept() {
                state.denied += 1;
                return false;
            }
        }
        state.count(more);
        drop(state);
        // Exactly: a doubled capacity would be memory the pool does not count.
        self.data.reserve_exact(more);
        self.data.resize(bytes, 0);
        true
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        HOLDING.set(HOLDING.get().saturating_sub(1));
        let data = std::mem::take(&mut self.data);
        let mut state = self.pool.state();
        state.returns += 1;
        // A large buffer is freed while others wait, so that it makes room for several.
        let free = data.len() > MAX_KEPT
            || state.counted > self.pool.capacity
            || (state.waiting > 0 && data.len() > FIRST);
        if free {
            state.counted -= data.len();
        } else {
            state.kept.push(data);
        }
        self.pool.wake(&state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_grow_only_with_room() {
        static P: Pool = Pool::new(4 * FIRST);
        let mut a = P.lend(FIRST);
        assert!(a.grow(2 * FIRST));
        assert!(!a.grow(8 * FIRST), "past the pool");
        assert_eq!(a.data().len(), 2 * FIRST);
        drop(a);
        let mut b = P.lend(FIRST);
        assert_eq!(b.data().len(), 2 * FIRST, "the kept buffer, reused");
        let c = P.lend(FIRST);
        assert_eq!(P.counted(), 3 * FIRST);
        drop(c);
        assert!(b.grow(4 * FIRST), "a kept buffer is freed to make room");
        assert_eq!(P.counted(), 4 * FIRST);
    }

    #[test]
    fn a_worker_waits_for_a_buffer_given_back_and_then_nobody_grows() {
        static P: Pool = Pool::new(2 * FIRST);
        let mut a = std::thread::spawn(|| P.lend(2 * FIRST)).join().unwrap();
        let waiter = std::thread::spawn(|| P.lend(FIRST).data().len());
        while P.state().waiting == 0 {
            std::thread::yield_now();
        }
        assert!(!a.grow(4 * FIRST), "someone waits");
        drop(a);
        assert_eq!(waiter.join().unwrap(), FIRST, "the large one freed for it");
        assert_eq!(P.counted(), FIRST);
    }

    #[test]
    fn a_thread_holding_a_buffer_never_waits_for_another() {
        static P: Pool = Pool::new(FIRST);
        let a = P.lend(FIRST);
        let b = P.lend(FIRST);
        assert_eq!(P.counted(), 2 * FIRST);
        drop((a, b));
        assert_eq!(P.counted(), FIRST, "the extra one freed");
    }
}
