//! The system allocator's settings for a process of many threads (glibc only; musl, the
//! release binaries' allocator, keeps no per-thread heaps and maps large buffers already).

/// Allocations from this size up are mapped on their own and unmapped when freed: the smallest
/// object the process-wide budgets count ([`crate::scan::budget::HELD`]'s floor).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MAPPED_FROM: usize = 256 << 10;

/// Makes glibc hand large buffers back to the system when they are freed. By default it raises
/// that threshold to the largest buffer freed so far (up to 32 MiB), after which a freed blob
/// or chunk stays in the heap of the thread that used it: each of `-j 64` workers kept the
/// last large objects it held (the libgit2 reader: 26 MB at `-j 2`, 102 MB at `-j 64`), and
/// the budgets bounded the bytes held at once, not the bytes kept. Call it before any thread
/// starts.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets the allocator's parameters; called before other threads run.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MAPPED_FROM as libc::c_int);
    }
}
