//! Where a zip's bytes lie, from its central directory: which entries overlap (one compressed
//! stream claimed by many entries is a bomb), local entries the directory does not list, and
//! bytes after the end record. What the `zip` crate reads (the directory only) hides these.

use std::ops::Range;

const LOCAL_HEADER: &[u8] = b"PK\x03\x04";
const END_RECORD: &[u8] = b"PK\x05\x06";

/// The bytes of each entry, local header to end of data, by index; what is wrong with them.
#[derive(Debug, Default)]
pub struct Layout {
    /// Entries whose bytes overlap another entry's.
    pub overlapping: Vec<usize>,
    /// Offsets of local headers inside no listed entry.
    pub unlisted: Vec<u64>,
    /// Where the bytes after the end record start, when there are any.
    pub trailing: Option<usize>,
}

/// Checks the entries' `spans` (by index) against `bytes`, the whole archive; `directory` is
/// where the central directory starts.
pub fn check(bytes: &[u8], spans: &[Range<u64>], directory: u64) -> Layout {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| (spans[i].start, spans[i].end));
    let mut overlapping = vec![false; spans.len()];
    let mut widest: Option<usize> = None;
    for &i in &order {
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
    let unlisted = memchr::memmem::find_iter(bytes, LOCAL_HEADER)
        .map(|at| at as u64)
        .filter(|&at| !covered(at))
        .collect();
    Layout {
        overlapping: (0..spans.len()).filter(|&i| overlapping[i]).collect(),
        unlisted,
        trailing: trailing(bytes),
    }
}

/// Where the bytes after the end-of-central-directory record (and its comment) start.
fn trailing(bytes: &[u8]) -> Option<usize> {
    let at = memchr::memmem::rfind(bytes, END_RECORD)?;
    let comment = bytes.get(at + 20..at + 22)?;
    let end = at + 22 + usize::from(u16::from_le_bytes([comment[0], comment[1]]));
    (end < bytes.len() && bytes[end..].iter().any(|&b| b != 0)).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlaps_are_found_both_ways() {
        let spans = [0..100, 50..60, 100..200, 150..300];
        let layout = check(b"", &spans, 300);
        assert_eq!(layout.overlapping, vec![0, 1, 2, 3]);
        let layout = check(b"", &[0..10, 10..20], 20);
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
        let layout = check(&bytes, &one, directory);
        assert_eq!(layout.unlisted, vec![8]);
        assert_eq!(layout.trailing, None);
        bytes.extend_from_slice(b"after");
        assert_eq!(
            check(&bytes, &one, directory).trailing,
            Some(bytes.len() - 5)
        );
    }
}
