//! Where each decoded byte's encoding lies in the outer bytes, kept as compactly as its encoding
//! allows: a base64 run is a few pieces of contiguous text (its lines), UTF-16 is two bytes a
//! character from one offset; only escapes, whose lengths vary, keep every byte's range. A
//! decoding reaches 64 KiB right of its hit, and two offsets a byte were 1 MiB per window, a
//! fresh mapping (and its page faults) each time.

use std::ops::Range;

/// The outer ranges of a decoding's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origins {
    /// Each byte's own range, in order.
    Each {
        starts: Vec<usize>,
        ends: Vec<usize>,
    },
    /// UTF-16 code units: byte `i` was written at `from + 2i .. from + 2i + 2`.
    Units { from: usize, len: usize },
    /// Base64 characters: each piece of contiguous text (in order, each after the last) with
    /// the index of its first character, and how many characters there are in all. Byte `i`
    /// of a quantum is carried by its characters `i` and `i + 1`.
    Chars {
        pieces: Vec<(usize, Range<usize>)>,
        chars: usize,
    },
}

impl Default for Origins {
    fn default() -> Self {
        Origins::Each {
            starts: Vec::new(),
            ends: Vec::new(),
        }
    }
}

impl Origins {
    /// The base64 text of `pieces`.
    pub fn chars(pieces: Vec<Range<usize>>) -> Origins {
        let mut chars = 0;
        let pieces = (pieces.into_iter())
            .map(|p| {
                chars += p.len();
                (chars - p.len(), p)
            })
            .collect();
        Origins::Chars { pieces, chars }
    }

    /// How many decoded bytes these are the origins of (for base64, the bytes its characters
    /// carry whole, as many as the decoder gives: 3 for 4, 2 for 3, 1 for 2).
    pub fn len(&self) -> usize {
        match self {
            Origins::Each { starts, .. } => starts.len(),
            Origins::Units { len, .. } => *len,
            Origins::Chars { chars, .. } => chars * 3 / 4,
        }
    }

    /// Where decoded byte `i`'s encoding starts (the last byte's past the end).
    pub fn start(&self, i: usize) -> usize {
        let i = i.min(self.len().saturating_sub(1));
        match self {
            Origins::Each { starts, .. } => starts[i],
            Origins::Units { from, .. } => from + 2 * i,
            Origins::Chars { .. } => self.char_at(i / 3 * 4 + i % 3),
        }
    }

    /// Where decoded byte `i`'s encoding ends, exclusive (the last byte's past the end).
    pub fn end(&self, i: usize) -> usize {
        let i = i.min(self.len().saturating_sub(1));
        match self {
            Origins::Each { ends, .. } => ends[i],
            Origins::Units { from, .. } => from + 2 * i + 2,
            Origins::Chars { .. } => self.char_at(i / 3 * 4 + i % 3 + 1) + 1,
        }
    }

    /// The outer offset of base64 character `c` (the last one's past the end), found by a
    /// binary search of the pieces (a 64 KiB run wrapped at 76 has over 800).
    fn char_at(&self, c: usize) -> usize {
        let Origins::Chars { pieces, chars } = self else {
            return 0;
        };
        let c = c.min(chars.saturating_sub(1));
        let Some(piece) = pieces
            .partition_point(|(first, _)| *first <= c)
            .checked_sub(1)
        else {
            return 0;
        };
        let (first, text) = &pieces[piece];
        text.start + (c - first)
    }

    /// Notes one more byte, written at `start..end` (escapes only).
    pub fn push(&mut self, start: usize, end: usize) {
        if let Origins::Each { starts, ends } = self {
            starts.push(start);
            ends.push(end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pieces_map_each_byte_to_its_characters() {
        // 8 characters in two lines: "AAAA" at 10, "BBBB" at 20.
        let o = Origins::chars(vec![10..14, 20..24]);
        assert_eq!(o.len(), 6);
        let starts: Vec<usize> = (0..6).map(|i| o.start(i)).collect();
        let ends: Vec<usize> = (0..6).map(|i| o.end(i)).collect();
        assert_eq!(starts, [10, 11, 12, 20, 21, 22]);
        assert_eq!(ends, [12, 13, 14, 22, 23, 24]);
        // Past the end: the last byte's.
        assert_eq!((o.start(9), o.end(9)), (22, 24));
    }

    #[test]
    fn every_character_of_many_pieces_maps_to_its_offset() {
        let pieces: Vec<Range<usize>> = (0..300).map(|i| 100 * i..100 * i + 1 + i % 77).collect();
        let positions: Vec<usize> = pieces.iter().flat_map(|p| p.clone()).collect();
        let o = Origins::chars(pieces);
        for (c, &at) in positions.iter().enumerate() {
            assert_eq!(o.char_at(c), at, "{c}");
        }
        assert_eq!(o.char_at(positions.len() + 5), *positions.last().unwrap());
    }

    #[test]
    fn utf16_units_are_two_bytes_each() {
        let o = Origins::Units { from: 4, len: 3 };
        assert_eq!((o.start(1), o.end(1), o.end(5)), (6, 8, 10));
    }
}
