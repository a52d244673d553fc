//! Deflate data inflated whole by libdeflate where its size is declared before it (a zip
//! member, a gzip stream of one member): about twice as fast as streaming it through zlib-rs.
//! It only ever gives the bytes the streaming decoder gives, checked against the declared size
//! and CRC-32; anything else (a size that lies, a bad checksum, a second gzip member, a corrupt
//! stream, no room in [`budget::INFLATING`]) gives `None`, and the caller streams as before.
//! Buffers are kept between files, with the budget's bytes they hold, in one pool any thread
//! takes from: files do not each cost fresh pages, and the largest buffer kept (one thread's
//! largest gzip, most of the budget) serves whichever thread inflates next. Kept per thread,
//! it left the other thread no room, which then streamed every gzip and zip member through
//! zlib-rs.

use super::budget;
use libdeflate_sys as sys;
use std::io::{self, Read};
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::sync::Mutex;

/// Zip members inflated whole: up to this size, within which the streaming reader never
/// applies its ratio limit, so both ways scan the same members.
pub const MAX_MEMBER: u64 = 1 << 20;

/// Gzip streams inflated whole: up to this many compressed bytes…
pub const MAX_GZIP_IN: u64 = 4 << 20;

/// …and this many inflated ones.
pub const MAX_GZIP_OUT: u64 = 12 << 20;

/// What [`Buffer::fill`] first reads, doubled while the input lasts.
const FILL_STEP: u64 = 256 << 10;

/// A buffer: compressed bytes first, inflated ones after them.
pub struct Buffer {
    data: Vec<u8>,
    permit: budget::Permit,
}

/// The buffers no thread holds.
static POOL: Mutex<Vec<Buffer>> = Mutex::new(Vec::new());

impl Buffer {
    /// A kept buffer (the largest) or a new one, with room for `bytes` in all taken from the
    /// budget; `None` when the budget has not that much free.
    pub fn take(bytes: u64) -> Option<Buffer> {
        let mut buffer = match Buffer::largest_kept() {
            Some(b) => b,
            None => Buffer {
                data: Vec::new(),
                permit: budget::INFLATING.try_acquire(0)?,
            },
        };
        if !buffer.grow(bytes) {
            buffer.give();
            return None;
        }
        let need = usize::try_from(bytes).ok()?;
        buffer.data.clear();
        buffer.data.reserve_exact(need);
        Some(buffer)
    }

    /// Reads `input` into the buffer until it holds `limit` bytes or the input ends, growing
    /// it, and its share of the budget, as the bytes come (a gzip of 300 KiB takes no more,
    /// where reserving the most a gzip may have left the other thread no room); `Ok(false)`
    /// when the budget had no room for more, the bytes read so far then in the buffer.
    pub fn fill(&mut self, input: &mut dyn Read, limit: u64) -> io::Result<bool> {
        let mut room = FILL_STEP.min(limit);
        loop {
            if !self.grow(room) {
                return Ok(false);
            }
            let len = self.data.len() as u64;
            self.data
                .reserve_exact(usize::try_from(room - len).unwrap_or(usize::MAX));
            input.take(room - len).read_to_end(&mut self.data)?;
            if (self.data.len() as u64) < room || room == limit {
                return Ok(true);
            }
            room = room.saturating_mul(2).min(limit);
        }
    }

    /// The kept buffer with the most room, if any.
    fn largest_kept() -> Option<Buffer> {
        let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
        let largest = (0..pool.len()).max_by_key(|&i| pool[i].data.capacity())?;
        Some(pool.swap_remove(largest))
    }

    /// Whether the buffer may hold `bytes`, taken from the budget: if it has not that much
    /// free, the buffers no thread holds are freed to make room.
    fn grow(&mut self, bytes: u64) -> bool {
        if self.permit.try_grow(bytes) {
            return true;
        }
        drop(std::mem::take(
            &mut *POOL.lock().unwrap_or_else(|e| e.into_inner()),
        ));
        self.permit.try_grow(bytes)
    }

    /// Gives the buffer back to the pool for the next file.
    pub fn give(self) {
        POOL.lock().unwrap_or_else(|e| e.into_inner()).push(self);
    }

    /// The compressed bytes read into it.
    pub fn data(&mut self) -> &mut Vec<u8> {
        &mut self.data
    }

    /// Inflates the first `input` bytes (raw deflate, or a gzip stream that is all of them)
    /// into `size` bytes after them, which the result spans; `None` unless exactly `size`
    /// come out (and, for raw deflate, their CRC-32 is `crc`), the buffer then holding the
    /// compressed bytes alone.
    pub fn inflate(
        &mut self,
        input: usize,
        size: usize,
        crc: Option<u32>,
    ) -> Option<(usize, usize)> {
        if !self.grow((input + size) as u64) {
            return None;
        }
        self.data.truncate(input);
        self.data.reserve_exact(size);
        // Inflated into the spare capacity as it is, not zeroed first: zeroing touched every
        // page of it once more (a third of the tree scan's page faults, in that memset).
        let inflated = Decompressor::new().and_then(|mut d| {
            let (compressed, out) = split_spare(&mut self.data, size);
            d.run(crc.is_none(), compressed, out)
        });
        let whole = inflated
            .is_some_and(|(read, written)| written == size && (crc.is_some() || read == input));
        if whole {
            // SAFETY: libdeflate wrote all `size` bytes after the `input` ones (`written`).
            unsafe { self.data.set_len(input + size) };
            if crc.is_none_or(|crc| crc32fast::hash(&self.data[input..]) == crc) {
                return Some((input, input + size));
            }
        }
        // The compressed bytes alone again, for the caller to stream.
        self.data.truncate(input);
        None
    }
}

/// The `len` bytes of `data` (its length) and `more` bytes of its spare capacity after them.
fn split_spare(data: &mut Vec<u8>, more: usize) -> (&[u8], &mut [MaybeUninit<u8>]) {
    let len = data.len();
    let ptr = data.as_mut_ptr();
    assert!(data.capacity() - len >= more);
    // SAFETY: the first `len` bytes are initialised and the `more` after them are allocated
    // (asserted); the two slices do not overlap and both borrow `data` mutably for their life.
    unsafe {
        (
            std::slice::from_raw_parts(ptr, len),
            std::slice::from_raw_parts_mut(ptr.add(len).cast::<MaybeUninit<u8>>(), more),
        )
    }
}

/// A libdeflate decompressor (its tables, about 10 KiB), freed when dropped.
struct Decompressor(NonNull<sys::libdeflate_decompressor>);

impl Decompressor {
    fn new() -> Option<Decompressor> {
        // SAFETY: no argument; a null pointer (no memory) is handled.
        NonNull::new(unsafe { sys::libdeflate_alloc_decompressor() }).map(Decompressor)
    }

    /// Inflates `input` (a gzip stream, or raw deflate data) into `out`: the bytes read and
    /// written, or `None` when the data is corrupt, fails its checksum or needs more room.
    fn run(
        &mut self,
        gzip: bool,
        input: &[u8],
        out: &mut [MaybeUninit<u8>],
    ) -> Option<(usize, usize)> {
        let (mut read, mut written) = (0usize, 0usize);
        let inflate = if gzip {
            sys::libdeflate_gzip_decompress_ex
        } else {
            sys::libdeflate_deflate_decompress_ex
        };
        // SAFETY: both buffers are live slices passed with their lengths; libdeflate reads at
        // most `input.len()` bytes, writes at most `out.len()` (reading back only bytes it has
        // written, so `out` need not be initialised) and sets the two counts.
        let result = unsafe {
            inflate(
                self.0.as_ptr(),
                input.as_ptr().cast(),
                input.len(),
                out.as_mut_ptr().cast(),
                out.len(),
                &raw mut read,
                &raw mut written,
            )
        };
        (result == sys::libdeflate_result_LIBDEFLATE_SUCCESS).then_some((read, written))
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: allocated by libdeflate_alloc_decompressor, freed once.
        unsafe { sys::libdeflate_free_decompressor(self.0.as_ptr()) }
    }
}

/// The size a gzip stream's trailer declares (modulo 2^32, checked when inflating).
pub fn gzip_size(whole: &[u8]) -> Option<u32> {
    let at = whole.len().checked_sub(4)?;
    Some(u32::from_le_bytes(whole[at..].try_into().ok()?))
}

/// A gzip header's file name and comment.
pub type GzipNames = (Vec<u8>, Vec<u8>);

/// A gzip header's file name and comment (empty when absent), as flate2 reports them; `None`
/// when the header is not one.
pub fn gzip_names(whole: &[u8]) -> Option<GzipNames> {
    const EXTRA: u8 = 0x04;
    const NAME: u8 = 0x08;
    const COMMENT: u8 = 0x10;
    if whole.get(..3)? != [0x1f, 0x8b, 8] {
        return None;
    }
    let flags = *whole.get(3)?;
    let mut at = 10;
    if flags & EXTRA != 0 {
        let len = u16::from_le_bytes(whole.get(at..at + 2)?.try_into().ok()?);
        at += 2 + usize::from(len);
    }
    let mut text = |present: bool| -> Option<Vec<u8>> {
        if !present {
            return Some(Vec::new());
        }
        let rest = whole.get(at..)?;
        let end = memchr::memchr(0, rest)?;
        at += end + 1;
        Some(rest[..end].to_vec())
    };
    let name = text(flags & NAME != 0)?;
    let comment = text(flags & COMMENT != 0)?;
    Some((name, comment))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::DeflateEncoder;
    use std::io::Write;

    fn text() -> Vec<u8> {
        (0..200_000u32)
            .map(|i| b"abcdefgh \n"[(i * 7 % 10) as usize])
            .collect()
    }

    fn gzipped(data: &[u8], name: Option<&[u8]>, comment: Option<&[u8]>) -> Vec<u8> {
        let mut b = flate2::GzBuilder::new();
        if let Some(n) = name {
            b = b.filename(n);
        }
        if let Some(c) = comment {
            b = b.comment(c);
        }
        let mut e = b.write(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn inflated(input: &[u8], size: usize, crc: Option<u32>) -> Option<Vec<u8>> {
        let mut buffer = Buffer::take((input.len() + size) as u64)?;
        buffer.data().extend_from_slice(input);
        let got = buffer
            .inflate(input.len(), size, crc)
            .map(|(from, to)| buffer.data()[from..to].to_vec());
        buffer.give();
        got
    }

    #[test]
    fn fill_reads_to_the_end_or_the_limit_in_growing_steps() {
        let data: Vec<u8> = (0..(1usize << 20)).map(|i| (i % 251) as u8).collect();
        for (limit, want) in [(4 << 20, data.len()), (600 << 10, 600 << 10), (100, 100)] {
            let mut buffer = Buffer::take(0).unwrap();
            assert!(
                buffer.fill(&mut &data[..], limit as u64).unwrap(),
                "{limit}"
            );
            assert_eq!(buffer.data()[..], data[..want], "{limit}");
            buffer.give();
        }
    }

    #[test]
    fn a_member_inflates_only_to_its_declared_size_and_checksum() {
        let data = text();
        let mut e = DeflateEncoder::new(Vec::new(), Compression::fast());
        e.write_all(&data).unwrap();
        let raw = e.finish().unwrap();
        let crc = Some(crc32fast::hash(&data));
        assert_eq!(inflated(&raw, data.len(), crc).as_deref(), Some(&data[..]));
        assert_eq!(inflated(&raw, data.len() - 1, crc), None);
        assert_eq!(inflated(&raw, data.len() + 1, crc), None);
        assert_eq!(inflated(&raw, data.len(), crc.map(|c| c ^ 1)), None);
        assert_eq!(inflated(&raw[..raw.len() / 2], data.len(), crc), None);
    }

    #[test]
    fn a_gzip_stream_inflates_whole_only_when_it_is_one_member_of_its_declared_size() {
        let data = text();
        let one = gzipped(&data, None, None);
        let size = gzip_size(&one).unwrap() as usize;
        assert_eq!(size, data.len());
        assert_eq!(inflated(&one, size, None).as_deref(), Some(&data[..]));
        let mut two = one.clone();
        two.extend(gzipped(b"second", None, None));
        let size = gzip_size(&two).unwrap() as usize;
        assert_eq!(
            inflated(&two, size, None),
            None,
            "a second member is streamed"
        );
        let mut lying = one.clone();
        let n = lying.len();
        lying[n - 4] ^= 1;
        assert_eq!(inflated(&lying, data.len() ^ 1, None), None);
        assert_eq!(inflated(&one[..n - 1], data.len(), None), None);
        let mut buffer = Buffer::take(2 * two.len() as u64).unwrap();
        buffer.data().extend_from_slice(&two);
        assert_eq!(buffer.inflate(two.len(), 6, None), None);
        assert_eq!(
            buffer.data(),
            &two,
            "a failed inflation leaves the compressed bytes"
        );
        buffer.give();
    }

    #[test]
    fn gzip_names_are_read_as_flate2_reads_them() {
        let data = b"body".to_vec();
        for (name, comment) in [
            (None, None),
            (Some(&b"a.txt"[..]), None),
            (None, Some(&b"note"[..])),
            (Some(&b"b.env"[..]), Some(&b"c"[..])),
        ] {
            let gz = gzipped(&data, name, comment);
            let streamed = flate2::read::GzDecoder::new(&gz[..]);
            let header = streamed.header().unwrap();
            let expected = (
                header.filename().unwrap_or_default().to_vec(),
                header.comment().unwrap_or_default().to_vec(),
            );
            assert_eq!(gzip_names(&gz), Some(expected));
        }
        assert_eq!(gzip_names(b"\x1f\x8b\x08\x08\0\0\0\0\0\0name"), None);
        assert_eq!(gzip_names(b"PK\x03\x04"), None);
    }
}
