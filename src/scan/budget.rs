//! Memory budgets for the whole process: a worker takes bytes from one before it holds a large
//! buffer (a whole blob, an archive, a decoder's window), so the bytes held at once stay bounded
//! however many workers run (`-j 64` holds what `-j 2` does). Buffers under a budget's floor are
//! not counted. Chunk buffers come from their own pool (`super::chunks`).

use std::sync::{Condvar, Mutex, MutexGuard};

/// Buffers smaller than this need no permit.
pub const SMALL: u64 = 1 << 20;

/// Whole blobs read into memory, by all workers together.
pub static BLOBS: Budget = Budget::new(128 << 20);

/// Objects a git reader holds whole for the scanner, from a quarter of [`SMALL`] up, each
/// counted up to [`SMALL`] (past it, one is streamed through a chunk of about that size, or also
/// takes from [`BLOBS`]): read and queued for a worker, or decoded by a pack thread, until
/// scanned, where it lies (no chunk buffer holds it again). Without it, `-j 64` on 64 cores held
/// 64 objects of 1 MB and their chunks where `-j 2` held two; with it, four at most, on any
/// machine, which costs `-j 64` under a tenth more than `-j 2` (eight cost the pack reader
/// 17 MB more on 72 MB).
/// The price: a large machine scans no more of them at once.
pub static HELD: Budget = Budget::with_floor(4 << 20, SMALL / 4);

/// Nested archives over [`SMALL`] held whole in memory to be read where they lie (a zip
/// inside an archive or a blob, up to 4 MiB each): two of the largest at a time, as two
/// workers hold. A worker that finds it spent copies its archive to a temporary file
/// instead, so it never waits. Without it, `-j 64` held one per archive read at once.
pub static ARCHIVES: Budget = Budget::new(8 << 20);

/// Deflate data inflated whole (`super::inflate`: a zip member up to 1 MiB, a gzip stream up to
/// 4 MiB inflating to 12 MiB), its compressed and inflated bytes together, each counted: the
/// largest gzip stream at a time. Buffers are kept, with these bytes, between files; a
/// worker that finds the budget spent streams instead, so it never waits.
pub static INFLATING: Budget = Budget::with_floor(16 << 20, 0);

/// Decompression windows over `codecs::FREE_WINDOW` (an xz dictionary, a zstd window): one of
/// the largest accepted at a time, or a few of xz's `-9`.
pub static WINDOWS: Budget = Budget::new(128 << 20);

/// Bytes that may be taken, and a way to wait for them.
#[derive(Debug)]
pub struct Budget {
    free: Mutex<u64>,
    freed: Condvar,
    capacity: u64,
    /// Takes under this many bytes are free.
    floor: u64,
}

/// Bytes taken from a budget, given back when dropped.
#[derive(Debug)]
pub struct Permit {
    budget: &'static Budget,
    bytes: u64,
}

impl Budget {
    const fn new(capacity: u64) -> Budget {
        Budget::with_floor(capacity, SMALL)
    }

    const fn with_floor(capacity: u64, floor: u64) -> Budget {
        Budget {
            free: Mutex::new(capacity),
            freed: Condvar::new(),
            capacity,
            floor,
        }
    }

    /// The bytes the budget holds in all.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// The least take that counts.
    pub fn floor(&self) -> u64 {
        self.floor
    }

    fn free(&self) -> MutexGuard<'_, u64> {
        self.free.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until `bytes` (at most the whole budget) are free and takes them. A thread must
    /// not wait while it holds another permit of this budget.
    pub fn acquire(&'static self, bytes: u64) -> Permit {
        let want = if bytes < self.floor {
            0
        } else {
            bytes.min(self.capacity)
        };
        let mut left = self.free();
        while *left < want {
            left = self.freed.wait(left).unwrap_or_else(|p| p.into_inner());
        }
        *left -= want;
        Permit {
            budget: self,
            bytes: want,
        }
    }

    /// Takes `bytes` if they are free now; never waits.
    pub fn try_acquire(&'static self, bytes: u64) -> Option<Permit> {
        let want = if bytes < self.floor { 0 } else { bytes };
        let mut left = self.free();
        (*left >= want).then(|| {
            *left -= want;
            Permit {
                budget: self,
                bytes: want,
            }
        })
    }
}

impl Permit {
    /// Makes this permit hold `bytes` in all if the difference is free now (or `bytes` are
    /// under the budget's floor); never waits. Returns whether it holds them.
    pub fn try_grow(&mut self, bytes: u64) -> bool {
        let budget = self.budget;
        let want = if bytes < budget.floor { 0 } else { bytes };
        if want <= self.bytes {
            return true;
        }
        let mut left = budget.free();
        let more = want - self.bytes;
        if *left < more {
            return false;
        }
        *left -= more;
        self.bytes = want;
        true
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if self.bytes > 0 {
            *self.budget.free() += self.bytes;
            self.budget.freed.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static TEST: Budget = Budget::new(8 << 20);

    #[test]
    fn permits_wait_for_each_other_and_small_ones_are_free() {
        let big = TEST.acquire(16 << 20);
        assert!(TEST.try_acquire(SMALL).is_none());
        assert!(TEST.try_acquire(10).is_some());
        let waiter = std::thread::spawn(|| TEST.acquire(4 << 20));
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!waiter.is_finished());
        drop(big);
        drop(waiter.join().unwrap());
        assert!(TEST.try_acquire(8 << 20).is_some());
    }

    static GROWN: Budget = Budget::new(4 << 20);

    #[test]
    fn a_permit_grows_while_there_is_room_and_gives_it_all_back() {
        let mut permit = GROWN.try_acquire(0).unwrap();
        assert!(permit.try_grow(10), "under the floor: free");
        assert!(permit.try_grow(2 << 20));
        assert!(permit.try_grow(3 << 20));
        assert!(GROWN.try_acquire(2 << 20).is_none());
        assert!(!permit.try_grow(5 << 20), "past the budget");
        assert!(GROWN.try_acquire(1 << 20).is_some());
        drop(permit);
        assert!(GROWN.try_acquire(4 << 20).is_some());
    }
}
