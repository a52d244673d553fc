//! One memory budget for the whole process: a worker takes bytes from it before it holds a
//! large buffer (a whole blob, a chunk buffer), so the bytes held at once stay bounded however
//! many workers run (`-j 64` holds what `-j 2` does). Small buffers are not counted.

use std::sync::{Condvar, Mutex, MutexGuard};

/// The bytes all workers together may hold in large buffers.
pub const CAPACITY: u64 = 128 << 20;

/// Buffers smaller than this need no permit.
pub const SMALL: u64 = 1 << 20;

static FREE: Mutex<u64> = Mutex::new(CAPACITY);
static FREED: Condvar = Condvar::new();

/// Bytes taken from the budget, given back when dropped.
#[derive(Debug)]
pub struct Permit(u64);

fn free() -> MutexGuard<'static, u64> {
    FREE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Waits until `bytes` (at most the whole budget) are free and takes them. A thread must not
/// wait while it holds another permit.
pub fn acquire(bytes: u64) -> Permit {
    let want = if bytes < SMALL {
        0
    } else {
        bytes.min(CAPACITY)
    };
    let mut left = free();
    while *left < want {
        left = FREED.wait(left).unwrap_or_else(|p| p.into_inner());
    }
    *left -= want;
    Permit(want)
}

/// Takes `bytes` if they are free now; never waits.
pub fn try_acquire(bytes: u64) -> Option<Permit> {
    if bytes < SMALL {
        return Some(Permit(0));
    }
    let mut left = free();
    (*left >= bytes).then(|| {
        *left -= bytes;
        Permit(bytes)
    })
}

impl Drop for Permit {
    fn drop(&mut self) {
        if self.0 > 0 {
            *free() += self.0;
            FREED.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_wait_for_each_other_and_small_ones_are_free() {
        let big = acquire(CAPACITY * 2);
        assert!(try_acquire(SMALL).is_none());
        assert!(try_acquire(10).is_some());
        let waiter = std::thread::spawn(|| acquire(CAPACITY / 2));
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!waiter.is_finished());
        drop(big);
        drop(waiter.join().unwrap());
    }
}
