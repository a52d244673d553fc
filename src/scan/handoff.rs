//! The queue from the walking thread to the scanners. Jobs are taken one at a time, so a large
//! file never waits behind others in one worker's batch; the walker adds them a few dozen at a
//! time (at once when a scanner is waiting), and once it has filled the queue it is woken only
//! when the scanners have drained it to half, not at every job they take (a channel woke it
//! once per file: a few percent of a tree scan's CPU).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

pub struct Handoff<T> {
    state: Mutex<State<T>>,
    /// Signalled when a job arrives or the walk ends.
    ready: Condvar,
    /// Signalled when the queue has drained to half, or the scanners are gone.
    room: Condvar,
    capacity: usize,
    /// Whether a scanner waits for a job (read without the lock by [`Handoff::hungry`]).
    hungry: AtomicBool,
}

struct State<T> {
    jobs: VecDeque<T>,
    /// The walk ended: once the queue is empty, there is nothing more.
    closed: bool,
    /// The scanners stopped (a panic): the walk should stop too.
    abandoned: bool,
    walker_waits: bool,
    takers_waiting: usize,
}

impl<T> Handoff<T> {
    pub fn new(capacity: usize) -> Self {
        Handoff {
            state: Mutex::new(State {
                jobs: VecDeque::with_capacity(capacity),
                closed: false,
                abandoned: false,
                walker_waits: false,
                takers_waiting: 0,
            }),
            ready: Condvar::new(),
            room: Condvar::new(),
            capacity: capacity.max(2),
            hungry: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves `jobs` to the queue, first waiting while it is full until it has drained to
    /// half; false when the scanners are gone.
    pub fn push(&self, jobs: &mut Vec<T>) -> bool {
        let mut s = self.lock();
        while s.jobs.len() >= self.capacity && !s.abandoned {
            s.walker_waits = true;
            s = self.room.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
        if s.abandoned {
            return false;
        }
        s.jobs.extend(jobs.drain(..));
        self.hungry.store(false, Ordering::Relaxed);
        if s.takers_waiting > 0 {
            self.ready.notify_all();
        }
        true
    }

    /// Whether a scanner is waiting for a job: jobs kept back to add together should be
    /// added now.
    pub fn hungry(&self) -> bool {
        self.hungry.load(Ordering::Relaxed)
    }

    /// Whether jobs are queued that no scanner waits to take: another scanner would take one
    /// now.
    pub fn backlog(&self) -> bool {
        let s = self.lock();
        !s.jobs.is_empty() && s.takers_waiting == 0
    }

    /// Ends the walk: the scanners take what is queued, then get `None`.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    /// Tells the walk the scanners are gone (called when they stop, also by a panic).
    pub fn abandon(&self) {
        self.lock().abandoned = true;
        self.room.notify_all();
    }

    /// The next job, waiting for one; `None` once the walk has ended and the queue is empty.
    pub fn pop(&self) -> Option<T> {
        let mut s = self.lock();
        loop {
            if let Some(job) = s.jobs.pop_front() {
                if s.walker_waits && s.jobs.len() <= self.capacity / 2 {
                    s.walker_waits = false;
                    self.room.notify_one();
                }
                return Some(job);
            }
            if s.closed {
                return None;
            }
            s.takers_waiting += 1;
            self.hungry.store(true, Ordering::Relaxed);
            s = self.ready.wait(s).unwrap_or_else(PoisonError::into_inner);
            s.takers_waiting -= 1;
        }
    }
}

/// Abandons a [`Handoff`] when dropped: the scanners' side holds one, so that a walk never
/// waits for room the scanners will not make.
pub struct AbandonOnDrop<'a, T>(pub &'a Handoff<T>);

impl<T> Drop for AbandonOnDrop<'_, T> {
    fn drop(&mut self) {
        self.0.abandon();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_arrives_once_in_order_through_a_small_queue() {
        let queue = Handoff::new(4);
        let got = std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..1000 {
                    assert!(queue.push(&mut vec![i]));
                }
                queue.close();
            });
            std::iter::from_fn(|| queue.pop()).collect::<Vec<_>>()
        });
        assert_eq!(got, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn several_takers_share_the_jobs() {
        let queue = Handoff::new(8);
        let mut got: Vec<u32> = std::thread::scope(|s| {
            s.spawn(|| {
                for i in (0..500).step_by(5) {
                    assert!(queue.push(&mut (i..i + 5).collect()));
                }
                queue.close();
            });
            let takers: Vec<_> = (0..3)
                .map(|_| s.spawn(|| std::iter::from_fn(|| queue.pop()).collect::<Vec<_>>()))
                .collect();
            takers.into_iter().flat_map(|t| t.join().unwrap()).collect()
        });
        got.sort_unstable();
        assert_eq!(got, (0..500).collect::<Vec<_>>());
    }

    #[test]
    fn a_walk_waiting_for_room_stops_when_the_scanners_are_gone() {
        let queue = Handoff::new(2);
        std::thread::scope(|s| {
            let walker = s.spawn(|| (0..10).take_while(|&i| queue.push(&mut vec![i])).count());
            {
                let _gone = AbandonOnDrop(&queue);
                assert_eq!(queue.pop(), Some(0));
            }
            assert!(walker.join().unwrap() < 10);
        });
    }
}
