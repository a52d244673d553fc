//! Reading what `git` children write: their errors left to libgit2, their pipes widened, and
//! read in batches rather than as each write lands.

use std::io::Read;
use std::path::Path;
use std::process::{ChildStdout, Command, Stdio};
use std::time::Duration;

/// A `git` command on `git_dir` whose errors are not shown (a failure hands over to libgit2,
/// which says what is wrong).
pub(super) fn git(git_dir: &Path) -> Command {
    let mut cmd = super::command::git();
    cmd.arg("--git-dir").arg(git_dir).stderr(Stdio::null());
    cmd
}

/// The pipe size asked for: Linux's default ceiling for an unprivileged process.
const PIPE: usize = 1 << 20;

/// A read waits for the pipe to hold this much (or what it asks for, if less)...
const BATCH: usize = 256 << 10;

/// ...for at most this many naps of this length.
const NAPS: u32 = 4;
const NAP: Duration = Duration::from_micros(250);

/// A child's standard output, read in batches: git writes 4 KiB at a time, and a reader that
/// takes each write as it lands wakes (and is woken by git) hundreds of thousands of times on a
/// large history; napping until a quarter of the pipe is full costs both sides far less.
pub(super) struct Batched {
    out: ChildStdout,
}

impl Batched {
    /// Widens the pipe to 1 MiB (from 64 KiB), so that git can write on while this side naps.
    pub fn new(out: ChildStdout) -> Batched {
        widen(&out);
        Batched { out }
    }
}

impl Read for Batched {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = buf.len().min(BATCH);
        for _ in 0..NAPS {
            match pending(&self.out) {
                Some(n) if n < want => std::thread::sleep(NAP),
                _ => break,
            }
        }
        self.out.read(buf)
    }
}

#[cfg(target_os = "linux")]
fn widen(pipe: &ChildStdout) {
    use std::os::fd::AsRawFd as _;
    // SAFETY: F_SETPIPE_SZ on a pipe this process owns; a refusal leaves the pipe as it was.
    unsafe {
        libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE as libc::c_int);
    }
}

/// Bytes waiting in the pipe; None when that cannot be told (never nap then).
#[cfg(target_os = "linux")]
fn pending(pipe: &ChildStdout) -> Option<usize> {
    use std::os::fd::AsRawFd as _;
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through a pointer to a live local.
    let rc = unsafe { libc::ioctl(pipe.as_raw_fd(), libc::FIONREAD, &mut n) };
    (rc == 0).then_some(n as usize)
}

#[cfg(not(target_os = "linux"))]
fn widen(_: &ChildStdout) {}

#[cfg(not(target_os = "linux"))]
fn pending(_: &ChildStdout) -> Option<usize> {
    None
}
