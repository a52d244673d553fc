//! The needles searched everywhere, found by the byte-class scan itself where the CPU has
//! AVX-512: a Teddy of 16 buckets over each needle's first four bytes (any fourth byte for a
//! needle of three), whose nibble tables the scan looks each 64 bytes up in beside the classes
//! (one read of the bytes where two Teddy passes of 32 bytes at a time were), and an exact
//! comparison at each candidate. Four bytes, not three: with three, the cross products of a
//! bucket's tables took common words (`pro`, `rro`) for one candidate in every 110 bytes of
//! the bench tree, and their comparisons cost more than the fourth lookup.

use super::ByteSet;

/// Buckets: two table sets of 8 bits each.
const BUCKETS: usize = 16;
/// The bytes of a needle its bucket is chosen and looked up by.
pub(super) const PREFIX: usize = 4;

/// The needles, bucketed by their first three bytes.
#[derive(Debug, Clone)]
pub struct Needles {
    /// For each of a needle's first four bytes, the tables of buckets 0–7 and of 8–15: a byte
    /// takes a bucket's bit when the bucket holds a needle with that byte there (its nibbles'
    /// entries both hold the bit), or a needle of three bytes (any fourth byte).
    pub(super) tables: [[ByteSet; 2]; PREFIX],
    /// The buckets of needles of three bytes, which a haystack's last three bytes may hold.
    short: u16,
    /// Each bucket's needles, in ascending order: each one's first four bytes (as a
    /// little-endian word, and the mask of those it has), and its index.
    buckets: Vec<Vec<(u32, u32, usize)>>,
    texts: Vec<Vec<u8>>,
}

impl Needles {
    /// Needles of at least 3 bytes each (else none).
    pub fn new(needles: Vec<Vec<u8>>) -> Option<Needles> {
        if needles.is_empty() || needles.iter().any(|n| n.len() < 3) {
            return None;
        }
        // A needle of three bytes has no fourth (None sorts first: any byte).
        let prefix = |n: &[u8]| (n[0], n[1], n[2], n.get(3).copied());
        let mut prefixes: Vec<(_, usize)> = (needles.iter().enumerate())
            .map(|(i, n)| (prefix(n), i))
            .collect();
        prefixes.sort_unstable();
        let mut distinct: Vec<_> = prefixes.iter().map(|&(p, _)| p).collect();
        distinct.dedup();
        let mut found = Needles {
            tables: [[ByteSet::default(); 2]; PREFIX],
            short: 0,
            buckets: vec![Vec::new(); BUCKETS],
            texts: needles,
        };
        // The prefixes of three bytes (`sk-`, `hf_`) get buckets of their own: shared, the
        // fourth byte could not tell them from others. Similar prefixes share a bucket
        // (contiguous runs of the sorted ones), so that the cross product its nibble tables
        // take holds few other byte strings.
        let (short, long): (Vec<_>, Vec<_>) = distinct.iter().partition(|p| p.3.is_none());
        let own = short.len().min(BUCKETS / 2);
        let bucket_of = |p| {
            if let Some(i) = short.iter().position(|&&s| s == p) {
                return i * own / short.len();
            }
            let rank = long.iter().position(|&&l| l == p).unwrap_or(0);
            own + rank * (BUCKETS - own) / long.len().max(1)
        };
        for (p, i) in prefixes {
            let bucket = bucket_of(p);
            let (word, mask) = word_of(&found.texts[i]);
            found.buckets[bucket].push((word, mask, i));
            let bit = 1 << (bucket % 8);
            for (k, b) in [Some(p.0), Some(p.1), Some(p.2), p.3]
                .into_iter()
                .enumerate()
            {
                let set = &mut found.tables[k][bucket / 8];
                if let Some(b) = b {
                    set.lo[usize::from(b & 15)] |= bit;
                    set.hi[usize::from(b >> 4)] |= bit;
                } else {
                    set.lo.iter_mut().chain(&mut set.hi).for_each(|t| *t |= bit);
                    found.short |= 1 << bucket;
                }
            }
        }
        found
            .buckets
            .iter_mut()
            .for_each(|b| b.sort_unstable_by_key(|e| e.2));
        Some(found)
    }

    /// The buckets whose tables take the four bytes at `at` of `hay`: where three are left,
    /// those of the needles of three bytes.
    fn buckets_at(&self, hay: &[u8], at: usize) -> u16 {
        let Some(bytes) = hay.get(at..(at + PREFIX).min(hay.len())) else {
            return 0;
        };
        let mut buckets = match bytes.len() {
            PREFIX => u16::MAX,
            3 => self.short,
            _ => return 0,
        };
        for (tables, &b) in self.tables.iter().zip(bytes) {
            let (lo, hi) = (usize::from(b & 15), usize::from(b >> 4));
            let take = |t: &ByteSet| u16::from(t.lo[lo] & t.hi[hi]);
            buckets &= take(&tables[0]) | take(&tables[1]) << 8;
        }
        buckets
    }

    /// The candidates' mask of the 64 bytes from `at` (fewer at the end of `hay`), one at a
    /// time: what the AVX-512 scan finds in one go.
    pub(super) fn candidates(&self, hay: &[u8], at: usize) -> u64 {
        (0..64.min(hay.len() - at))
            .filter(|&i| self.buckets_at(hay, at + i) != 0)
            .fold(0, |m, i| m | 1 << i)
    }

    /// The first needle (the lowest index) at `at` of `hay`: (its index, start, end).
    pub(super) fn at(&self, hay: &[u8], at: usize) -> Option<(usize, usize, usize)> {
        let mut buckets = self.buckets_at(hay, at);
        let mut first: Option<usize> = None;
        while buckets != 0 {
            let bucket = buckets.trailing_zeros() as usize;
            buckets &= buckets - 1;
            let (word, _) = word_of(&hay[at..]);
            let found = self.buckets[bucket]
                .iter()
                .filter(|&&(w, mask, _)| word & mask == w)
                .map(|&(_, _, n)| n)
                .find(|&n| hay[at..].starts_with(&self.texts[n]));
            first = match (first, found) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        first.map(|n| (n, at, at + self.texts[n].len()))
    }
}

/// The first four bytes of `bytes` (fewer at its end) as a little-endian word, and the mask of
/// those it has.
fn word_of(bytes: &[u8]) -> (u32, u32) {
    let mut word = [0u8; PREFIX];
    let n = bytes.len().min(PREFIX);
    word[..n].copy_from_slice(&bytes[..n]);
    let mask = if n == PREFIX {
        u32::MAX
    } else {
        (1 << (8 * n)) - 1
    };
    (u32::from_le_bytes(word), mask)
}
