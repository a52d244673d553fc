//! Tar archives, read header by header here rather than by the `tar` crate, so that nothing an
//! archive holds escapes the scan or memory: GNU long names and PAX records are scanned as
//! content and kept only up to [`MAX_RECORD`] bytes (a larger one makes the archive incomplete),
//! the data of every entry type is scanned (GNU tar extracts types `7` and unknown ones as
//! files), member names and link targets are scanned as names, and bytes after the archive's
//! end are scanned raw.

use super::stream::fill;
use super::{BlobOutcome, Scanner};
use crate::finding::Origin;
use std::io::{self, Read};

/// The most bytes of one extension record (GNU long name or link, PAX header) kept in memory.
pub const MAX_RECORD: u64 = 1 << 20;

const BLOCK: usize = 512;

/// One parsed header block.
struct Header {
    name: Vec<u8>,
    link: Vec<u8>,
    size: u64,
    kind: u8,
}

/// Names that extension records set for the entry that follows them.
#[derive(Default)]
struct Pending {
    name: Option<Vec<u8>>,
    link: Option<Vec<u8>>,
    size: Option<u64>,
}

/// A tar's bytes: read from a stream, or all of them in memory (a `.tar.gz` inflated whole),
/// whose members are then scanned where they lie, not copied into chunks.
pub enum TarInput<'a> {
    Stream(&'a mut dyn Read),
    Held(&'a [u8]),
}

impl<'a> TarInput<'a> {
    fn reader(&mut self) -> &mut dyn Read {
        match self {
            TarInput::Stream(r) => *r,
            TarInput::Held(bytes) => bytes,
        }
    }

    /// The next `size` bytes, taken, when they are in memory.
    fn held(&mut self, size: u64) -> Option<&'a [u8]> {
        let TarInput::Held(bytes) = self else {
            return None;
        };
        let size = usize::try_from(size).ok().filter(|&n| n <= bytes.len())?;
        let (taken, rest) = bytes.split_at(size);
        *bytes = rest;
        Some(taken)
    }
}

impl Scanner<'_> {
    pub(super) fn scan_tar(
        &self,
        input: &mut TarInput<'_>,
        origin: &Origin,
        depth: usize,
        out: &mut BlobOutcome,
    ) {
        let mut pending = Pending::default();
        loop {
            let mut block = Vec::with_capacity(BLOCK);
            match fill(input.reader(), &mut block, BLOCK) {
                Ok(_) if block.is_empty() => return,
                Ok(_) if block.len() < BLOCK => return corrupt(origin, "truncated header", out),
                Ok(_) => {}
                Err(e) => return corrupt(origin, &e.to_string(), out),
            }
            if block.iter().all(|&b| b == 0) {
                return self.scan_after_end(input.reader(), origin, out);
            }
            let header = match parse_header(&block) {
                Ok(h) => h,
                Err(e) => return corrupt(origin, e, out),
            };
            let result = if matches!(header.kind, b'L' | b'K' | b'x' | b'g') {
                self.read_record(&header, input.reader(), &mut pending, origin, out)
            } else {
                let header = pending.apply(header);
                self.scan_entry(&header, input, origin, depth, out)
            };
            if let Err(e) = result {
                return corrupt(origin, &e.to_string(), out);
            }
        }
    }

    /// Scans the data of an entry of any type (most have none), and its names.
    fn scan_entry(
        &self,
        header: &Header,
        input: &mut TarInput<'_>,
        origin: &Origin,
        depth: usize,
        out: &mut BlobOutcome,
    ) -> io::Result<()> {
        let raw = String::from_utf8_lossy(&header.name);
        let name = self.scan_name(&raw, |n| origin.member(n), out);
        let member = origin.member(&name);
        if !header.link.is_empty() {
            let link = String::from_utf8_lossy(&header.link);
            self.scan_name(&link, |_| member.clone(), out);
        }
        let size = header.size;
        if (1..=self.limits.max_member_bytes).contains(&size)
            && let Some(held) = input.held(size)
        {
            self.scan_bytes(held, &member, depth + 1, out);
            // Taken already: its padding is what is left.
            return finish(input.reader().take(0), size);
        }
        let mut data = input.reader().take(size);
        if size > self.limits.max_member_bytes {
            out.skip(
                member.display(),
                format!("member of {size} bytes is over the 256 MiB member limit"),
                true,
            );
        } else if size > 0 {
            let mut head = Vec::new();
            fill(&mut data, &mut head, BLOCK)?;
            self.scan_member(head, &mut data, &member, depth + 1, out);
        }
        finish(data, size)
    }

    /// Scans an extension record's bytes (streaming those past [`MAX_RECORD`]) and, when it fits,
    /// applies it to the next entry.
    fn read_record(
        &self,
        header: &Header,
        input: &mut dyn Read,
        pending: &mut Pending,
        origin: &Origin,
        out: &mut BlobOutcome,
    ) -> io::Result<()> {
        let size = header.size;
        let mut data = input.take(size);
        let mut kept = Vec::new();
        fill(&mut data, &mut kept, size.min(MAX_RECORD) as usize)?;
        let shown = origin.member(&format!("(tar {} record)", record_kind(header.kind)));
        self.scan_chunks(&kept, &mut data, &shown, out);
        finish(data, size)?;
        if size > MAX_RECORD {
            out.skip(
                origin.display(),
                format!(
                    "tar {} record of {size} bytes is over the {} KiB limit: its bytes were \
                     scanned, the entry it describes may be misnamed or misread",
                    record_kind(header.kind),
                    MAX_RECORD >> 10
                ),
                true,
            );
            return Ok(());
        }
        match header.kind {
            b'L' => pending.name = Some(until_nul(&kept).to_vec()),
            b'K' => pending.link = Some(until_nul(&kept).to_vec()),
            b'x' => pending.pax(&kept),
            _ => {}
        }
        Ok(())
    }

    /// Bytes after the end-of-archive blocks are no member, but they are in the file: scanned raw.
    fn scan_after_end(&self, input: &mut dyn Read, origin: &Origin, out: &mut BlobOutcome) {
        let mut head = Vec::new();
        loop {
            head.clear();
            match fill(input, &mut head, 64 << 10) {
                Ok(_) if head.is_empty() => return,
                Ok(_) if head.iter().all(|&b| b == 0) => {}
                Ok(_) => return self.scan_chunks(&head, input, origin, out),
                Err(e) => return corrupt(origin, &e.to_string(), out),
            }
        }
    }
}

impl Pending {
    /// Takes the names set for the entry `header` starts.
    fn apply(&mut self, mut header: Header) -> Header {
        let taken = std::mem::take(self);
        header.name = taken.name.unwrap_or(header.name);
        header.link = taken.link.unwrap_or(header.link);
        header.size = taken.size.unwrap_or(header.size);
        header
    }

    /// Reads `path`, `linkpath` and `size` from PAX records (`<len> <key>=<value>\n`).
    fn pax(&mut self, mut records: &[u8]) {
        while let Some(space) = records.iter().position(|&b| b == b' ') {
            let Some(len) = std::str::from_utf8(&records[..space])
                .ok()
                .and_then(|l| l.parse::<usize>().ok())
                .filter(|&l| l > space && l <= records.len())
            else {
                return;
            };
            let record = &records[space + 1..len];
            let record = record.strip_suffix(b"\n").unwrap_or(record);
            if let Some(eq) = record.iter().position(|&b| b == b'=') {
                let value = &record[eq + 1..];
                match &record[..eq] {
                    b"path" => self.name = Some(value.to_vec()),
                    b"linkpath" => self.link = Some(value.to_vec()),
                    b"size" => {
                        self.size = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
                    }
                    _ => {}
                }
            }
            records = &records[len..];
        }
    }
}

fn record_kind(kind: u8) -> &'static str {
    match kind {
        b'L' => "GNU long name",
        b'K' => "GNU long link",
        b'g' => "PAX global header",
        _ => "PAX header",
    }
}

fn corrupt(origin: &Origin, why: &str, out: &mut BlobOutcome) {
    out.skip(
        origin.display(),
        format!("corrupt tar archive: {why}"),
        true,
    );
}

/// Reads what is left of an entry's data and its padding to the next block.
fn finish(mut data: io::Take<&mut dyn Read>, size: u64) -> io::Result<()> {
    io::copy(&mut data, &mut io::sink())?;
    if data.limit() > 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "archive ends inside an entry",
        ));
    }
    let padding = (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64;
    let skipped = io::copy(&mut data.into_inner().take(padding), &mut io::sink())?;
    if skipped < padding {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "archive ends inside an entry's padding",
        ));
    }
    Ok(())
}

fn until_nul(bytes: &[u8]) -> &[u8] {
    bytes.split(|&b| b == 0).next().unwrap_or(bytes)
}

/// Parses a header block, checking its checksum.
fn parse_header(block: &[u8]) -> Result<Header, &'static str> {
    let stored = number(&block[148..156]).ok_or("unreadable header checksum")?;
    let unsigned: u64 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    let signed: i64 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                i64::from(b as i8)
            }
        })
        .sum();
    if stored != unsigned && i64::try_from(stored).ok() != Some(signed) {
        return Err("header checksum mismatch");
    }
    let mut name = until_nul(&block[..100]).to_vec();
    if &block[257..263] == b"ustar\0" {
        let prefix = until_nul(&block[345..500]);
        if !prefix.is_empty() {
            name = [prefix, b"/", &name].concat();
        }
    }
    Ok(Header {
        name,
        link: until_nul(&block[157..257]).to_vec(),
        size: number(&block[124..136]).ok_or("unreadable entry size")?,
        kind: block[156],
    })
}

/// A numeric header field: octal text, or big-endian binary when its top bit is set (GNU).
fn number(field: &[u8]) -> Option<u64> {
    if field[0] & 0x80 != 0 {
        let mut value: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            value = value.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(value);
    }
    let text = std::str::from_utf8(field).ok()?;
    let text = text.trim_matches(|c: char| c == ' ' || c == '\0');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_octal_and_binary() {
        assert_eq!(number(b"00000001750\0"), Some(1000));
        assert_eq!(number(b"        \0"), Some(0));
        let mut binary = [0u8; 12];
        binary[0] = 0x80;
        binary[10] = 1;
        assert_eq!(number(&binary), Some(256));
    }

    #[test]
    fn pax_records_set_path_link_and_size() {
        let mut p = Pending::default();
        p.pax(b"20 path=a/long/name\n16 linkpath=tgt\n11 size=42\n13 comment=x\n");
        assert_eq!(p.name.as_deref(), Some(&b"a/long/name"[..]));
        assert_eq!(p.link.as_deref(), Some(&b"tgt"[..]));
        assert_eq!(p.size, Some(42));
    }
}
