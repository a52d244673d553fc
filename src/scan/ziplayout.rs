//! Where a zip's bytes lie, from its central directory: which entries overlap (one compressed
//! stream claimed by many entries is a bomb), local entries the directory does not list, and
//! bytes after the end record. What the `zip` crate reads (the directory only) hides these.

use std::io::{self, Read, Seek, SeekFrom};
use std::ops::Range;

const LOCAL_HEADER: &[u8] = b"PK\x03\x04";
const END_RECORD: &[u8] = b"PK\x05\x06";

/// How far from its end a zip's end record can start: its 22 bytes and a comment of 64 KiB.
const TAIL: u64 = 22 + 0xFFFF;

/// The bytes of each entry, local header to end of data, by index; what is wrong with them.
#[derive(Debug, Default)]
pub struct Layout {
    /// Entries whose bytes overlap another entry's, sorted.
    pub overlapping: Vec<usize>,
    /// Offsets of local headers inside no listed entry.
    pub unlisted: Vec<u64>,
    /// Where the bytes after the end record start, when there are any.
    pub trailing: Option<u64>,
}

/// The most unlisted local headers remembered (one is enough to make the scan incomplete).
const MAX_UNLISTED: usize = 16;

/// Bytes read at a time while looking for local headers: under the size from which the
/// allocator maps a buffer afresh (`alloc::tune`), so each zip's reads reuse heap pages
/// rather than fault in new ones (with 1 MiB, every byte of every zip on the bench tree was a
/// page fault more, a quarter of the tree scan's).
const STEP: usize = 64 << 10;

/// Checks the entries' `spans` (by index) against the archive `source` reads; `directory` is
/// where the central directory starts, `from` where the zip starts (after the bytes before a
/// self-extracting archive's, which are not its entries).
pub fn check<S: Read + Seek + ?Sized>(
    source: &mut S,
    spans: &[Range<u64>],
    directory: u64,
    from: u64,
) -> io::Result<Layout> {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| (spans[i].start, spans[i].end));
    let overlapping = overlapping(spans, &order);
    // The furthest end among the entries that start at or before each sorted one.
    let starts: Vec<u64> = order.iter().map(|&i| spans[i].start).collect();
    let reach: Vec<u64> = order
        .iter()
        .scan(0, |end, &i| {
            *end = spans[i].end.max(*end);
            Some(*end)
        })
        .collect();
    let covered = |at: u64| {
        let before = starts.partition_point(|&s| s <= at);
        at >= directory || (before > 0 && reach[before - 1] > at)
    };
    let mut unlisted = Vec::new();
    source.seek(SeekFrom::Start(from))?;
    let mut buf = Vec::with_capacity(STEP + 3);
    let mut base = from;
    loop {
        let read = source.take(STEP as u64).read_to_end(&mut buf)?;
        for at in memchr::memmem::find_iter(&buf, LOCAL_HEADER) {
            let at = base + at as u64;
            if !covered(at) && unlisted.len() < MAX_UNLISTED {
                unlisted.push(at);
            }
        }
        if read == 0 {
            break;
        }
        // Three bytes carried over find a header split across two reads, never one twice.
        let carry = buf.len().min(LOCAL_HEADER.len() - 1);
        base += (buf.len() - carry) as u64;
        buf.drain(..buf.len() - carry);
    }
    Ok(Layout {
        overlapping,
        unlisted,
        trailing: trailing(source)?,
    })
}

/// The entries (by index, sorted) whose bytes overlap another entry's.
fn overlapping(spans: &[Range<u64>], order: &[usize]) -> Vec<usize> {
    let mut overlapping = vec![false; spans.len()];
    let mut widest: Option<usize> = None;
    for &i in order {
        if let Some(w) = widest {
            if spans[i].start < spans[w].end {
                overlapping[i] = true;
                overlapping[w] = true;
            }
            if spans[i].end <= spans[w].end {
                continue;
            }
        }
        widest = Some(i);
    }
    (0..spans.len()).filter(|&i| overlapping[i]).collect()
}

/// The last [`TAIL`] bytes of `source`, where an end-of-central-directory record must be, and
/// where they start.
fn read_tail<S: Read + Seek + ?Sized>(source: &mut S) -> io::Result<(u64, Vec<u8>)> {
    let len = source.seek(SeekFrom::End(0))?;
    let from = len.saturating_sub(TAIL);
    source.seek(SeekFrom::Start(from))?;
    let mut tail = Vec::new();
    source.read_to_end(&mut tail)?;
    Ok((from, tail))
}

/// Whether `source` ends with a zip whose central directory is where its end record says,
/// counted from the start of `source` or from where the zip starts after bytes that are not
/// its own (a launch script, an executable's stub).
pub fn ends_with_zip<S: Read + Seek + ?Sized>(source: &mut S) -> io::Result<bool> {
    let (from, tail) = read_tail(source)?;
    let Some(at) = memchr::memmem::rfind(&tail, END_RECORD) else {
        return Ok(false);
    };
    let Some(record) = tail.get(at..at + 22) else {
        return Ok(false);
    };
    let word = |i: usize| {
        u64::from(u32::from_le_bytes([
            record[i],
            record[i + 1],
            record[i + 2],
            record[i + 3],
        ]))
    };
    let (size, offset) = (word(12), word(16));
    // ZIP64 (offset 0xFFFFFFFF) and empty archives are left to the raw scan.
    let Some(directory) = (from + at as u64).checked_sub(size) else {
        return Ok(false);
    };
    if size == 0 || offset == u64::from(u32::MAX) || offset > directory {
        return Ok(false);
    }
    source.seek(SeekFrom::Start(directory))?;
    let mut magic = [0u8; 4];
    source.read_exact(&mut magic)?;
    Ok(&magic == b"PK\x01\x02")
}

/// Where the bytes after the end-of-central-directory record (and its comment) start, when
/// any of them is not zero. The record sits in the last 64 KiB and 22 bytes.
fn trailing<S: Read + Seek + ?Sized>(source: &mut S) -> io::Result<Option<u64>> {
    let (from, tail) = read_tail(source)?;
    let Some(at) = memchr::memmem::rfind(&tail, END_RECORD) else {
        return Ok(None);
    };
    let Some(comment) = tail.get(at + 20..at + 22) else {
        return Ok(None);
    };
    let end = at + 22 + usize::from(u16::from_le_bytes([comment[0], comment[1]]));
    let after = tail.get(end..).unwrap_or_default();
    Ok(after.iter().any(|&b| b != 0).then_some(from + end as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlaps_are_found_both_ways() {
        let spans = [0..100, 50..60, 100..200, 150..300];
        let layout = check(&mut io::Cursor::new(b""), &spans, 300, 0).unwrap();
        assert_eq!(layout.overlapping, vec![0, 1, 2, 3]);
        let layout = check(&mut io::Cursor::new(b""), &[0..10, 10..20], 20, 0).unwrap();
        assert!(layout.overlapping.is_empty());
    }

    #[test]
    fn unlisted_local_headers_and_trailing_bytes() {
        let mut bytes = b"PK\x03\x04aaaaPK\x03\x04bbbb".to_vec();
        let directory = bytes.len() as u64;
        bytes.extend_from_slice(b"PK\x05\x06");
        bytes.extend_from_slice(&[0; 16]);
        bytes.extend_from_slice(&[0, 0]);
        let one = [0..8, 8..8];
        let layout = check(&mut io::Cursor::new(&bytes), &one, directory, 0).unwrap();
        assert_eq!(layout.unlisted, vec![8]);
        assert_eq!(layout.trailing, None);
        bytes.extend_from_slice(b"after");
        assert_eq!(
            check(&mut io::Cursor::new(&bytes), &one, directory, 0)
                .unwrap()
                .trailing,
            Some(bytes.len() as u64 - 5)
        );
    }
}
