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
    match kind {
        Kind::Bzip2 => Ok(Box::new(bzip2::read::MultiBzDecoder::new(input))),
        Kind::Xz => {
            // Every block's dictionary is checked against the limit before it is allocated.
            let dict = u32::try_from(window.limit).unwrap_or(u32::MAX);
            let kib = lzma_rust2::lzma2_get_memory_usage(dict);
            Ok(Box::new(lzma_rust2::XzReader::new_mem_limit(
                input, true, kib,
            )))
        }
        Kind::Zstd => Ok(Box::new(Zstd::new(input, window.limit)?)),
        _ => Err(io::Error::other(format!(
            "{kind} is not a compressed stream"
        ))),
    }
}

/// The window the stream starting with `head` declares, when its kind has one.
fn declared_window(kind: Kind, head: &[u8]) -> Option<u64> {
    match kind {
        Kind::Xz => xz_dictionary(head),
        Kind::Zstd => zstd_window(head),
        _ => None,
    }
}

/// The dictionary of an xz stream's first block: the stream header (12 bytes), then the block
/// header, whose filter flags hold LZMA2's dictionary size.
fn xz_dictionary(head: &[u8]) -> Option<u64> {
    let size = usize::from(*head.get(12)?);
    if size == 0 {
        return None; // the index: an empty stream
    }
    let block = head.get(12..12 + (size + 1) * 4)?;
    let flags = block[1];
    let mut at = 2;
    for present in [flags & 0x40 != 0, flags & 0x80 != 0] {
        if present {
            varint(block, &mut at)?;
        }
    }
    let mut largest = None;
    for _ in 0..=(flags & 3) {
        let id = varint(block, &mut at)?;
        let props = usize::try_from(varint(block, &mut at)?).ok()?;
        let bytes = block.get(at..at.checked_add(props)?)?;
        at += props;
        if id == 0x21 && props == 1 {
            largest = largest.max(Some(lzma2_dictionary(bytes[0])));
        }
    }
    largest
}

/// LZMA2's dictionary size from its one property byte (40 means 4 GiB less 1).
fn lzma2_dictionary(p: u8) -> u64 {
    match p {
        0..=39 => (2 | u64::from(p & 1)) << (p / 2 + 11),
        _ => u64::from(u32::MAX),
    }
}

/// An xz variable-length integer (7 bits a byte, low first, at most 9 bytes).
fn varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for i in 0..9 {
        let b = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// A zstd frame's window: its window descriptor, or for a single-segment frame its content
/// size.
fn zstd_window(head: &[u8]) -> Option<u64> {
    let descriptor = *head.get(4)?;
    let single_segment = descriptor & 0x20 != 0;
    if !single_segment {
        let w = *head.get(5)?;
        let base = 1u64 << (10 + (w >> 3));
        return Some(base + (base / 8) * u64::from(w & 7));
    }
    let dictionary_id = [0, 1, 2, 4][usize::from(descriptor & 3)];
    let size_bytes = [1, 2, 4, 8][usize::from(descriptor >> 6)];
    let at = 5 + dictionary_id;
    let field = head.get(at..at + size_bytes)?;
    let mut le = [0u8; 8];
    le[..size_bytes].copy_from_slice(field);
    let size = u64::from_le_bytes(le);
    Some(if size_bytes == 2 { size + 256 } else { size })
}

/// Every frame of a zstd stream, one after the other (`ruzstd`'s reader decodes one), skippable
/// frames skipped; a window over `limit` is an error before it is allocated.
struct Zstd<R: Read> {
    source: io::BufReader<R>,
    frame: ruzstd::decoding::FrameDecoder,
}

impl<R: Read> Zstd<R> {
    fn new(input: R, limit: u64) -> io::Result<Self> {
        let mut frame = ruzstd::decoding::FrameDecoder::new();
        frame.set_max_window_size(limit);
        let mut zstd = Zstd {
            source: io::BufReader::with_capacity(64 << 10, input),
            frame,
        };
        if !zstd.next_frame()? {
            return Err(io::Error::other("no zstd frame"));
        }
        Ok(zstd)
    }

    /// Starts the next frame; false at the end of the input.
    fn next_frame(&mut self) -> io::Result<bool> {
        use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
        use std::io::BufRead as _;
        loop {
            if self.source.fill_buf()?.is_empty() {
                return Ok(false);
            }
            match self.frame.reset(&mut self.source) {
                Ok(()) => return Ok(true),
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let skipped = io::copy(
                        &mut (&mut self.source).take(u64::from(length)),
                        &mut io::sink(),
                    )?;
                    if skipped < u64::from(length) {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                }
                Err(e) => return Err(io::Error::other(e)),
            }
        }
    }
}

impl<R: Read> Read for Zstd<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use ruzstd::decoding::BlockDecodingStrategy;
        loop {
            if self.frame.can_collect() > 0 {
                return self.frame.read(buf);
            }
            if self.frame.is_finished() {
                if !self.next_frame()? {
                    return Ok(0);
                }
                continue;
            }
            self.frame
                .decode_blocks(&mut self.source, BlockDecodingStrategy::UptoBlocks(1))
                .map_err(io::Error::other)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xz_dictionaries_are_read_from_the_first_block_header() {
        assert_eq!(lzma2_dictionary(0), 4 << 10);
        assert_eq!(lzma2_dictionary(22), 8 << 20);
        assert_eq!(lzma2_dictionary(23), 12 << 20);
        assert_eq!(lzma2_dictionary(40), u64::from(u32::MAX));
        let mut head = b"\xFD7zXZ\x00\x00\x04\0\0\0\0".to_vec();
        head.extend_from_slice(&[0x02, 0x00, 0x21, 0x01, 26, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(declared_window(Kind::Xz, &head), Some(32 << 20));
        // Sizes present (flags 0xC0) come before the filters.
        let mut sized = head[..12].to_vec();
        sized.extend_from_slice(&[0x02, 0xC0, 0x80, 0x01, 0x05, 0x21, 0x01, 22, 0, 0, 0, 0]);
        assert_eq!(declared_window(Kind::Xz, &sized), Some(8 << 20));
        assert_eq!(declared_window(Kind::Xz, &head[..14]), None);
    }

    #[test]
    fn zstd_windows_come_from_the_descriptor_or_the_content_size() {
        let magic = [0x28, 0xB5, 0x2F, 0xFD];
        let frame = |rest: &[u8]| [&magic[..], rest].concat();
        assert_eq!(zstd_window(&frame(&[0x00, 11 << 3])), Some(2 << 20));
        assert_eq!(zstd_window(&frame(&[0x00, (11 << 3) | 4])), Some(3 << 20));
        // Single segment, a 2-byte content size (plus 256).
        assert_eq!(zstd_window(&frame(&[0x60, 0x00, 0x01])), Some(512));
        // Single segment, a 4-byte dictionary id, then a 4-byte content size.
        let head = frame(&[0xA3, 1, 2, 3, 4, 0, 0, 0, 0x10]);
        assert_eq!(zstd_window(&head), Some(256 << 20));
        assert_eq!(zstd_window(&frame(&[0x00])), None);
    }
}
