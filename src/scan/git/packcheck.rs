//! Pack indexes checked before libgit2 reads through them: libgit2 maps a pack at whatever
//! offset its index gives, and an offset past the pack's end (a damaged or hostile index)
//! kills the process with SIGBUS inside libgit2's `packfile_unpack_header1`. A repository with
//! such an index is refused with an error that names the file, not scanned by a crash.

use anyhow::bail;
use std::path::{Path, PathBuf};

/// Refuses the repository at `git_dir` when one of its pack indexes (its own, or an
/// alternate's) gives an object offset outside its pack; `from_env`: opened as git's hooks
/// expect, `GIT_OBJECT_DIRECTORY` honoured. An index or pack that cannot be read is left to
/// libgit2, which reports it.
pub(super) fn refuse_damaged(git_dir: &Path, from_env: bool) -> anyhow::Result<()> {
    for objects in object_dirs(git_dir, from_env) {
        let Ok(entries) = std::fs::read_dir(objects.join("pack")) else {
            continue;
        };
        for idx in entries.flatten().map(|e| e.path()) {
            if idx.extension().is_none_or(|e| e != "idx") {
                continue;
            }
            let pack = idx.with_extension("pack");
            let (Ok(bytes), Ok(meta)) = (std::fs::read(&idx), std::fs::metadata(&pack)) else {
                continue;
            };
            if let Err(why) = check_index(&bytes, meta.len()) {
                bail!(
                    "{}: damaged pack index: {why}, which libgit2 cannot read safely; repair \
                     the repository (`git fsck`; `git index-pack` on its pack, or a fresh \
                     clone) and scan again",
                    idx.display()
                );
            }
        }
    }
    Ok(())
}

/// The repository's object folder (`GIT_OBJECT_DIRECTORY`, when set and honoured) and its
/// alternates.
fn object_dirs(git_dir: &Path, from_env: bool) -> Vec<PathBuf> {
    let own = std::env::var_os("GIT_OBJECT_DIRECTORY")
        .filter(|_| from_env)
        .map_or_else(|| git_dir.join("objects"), PathBuf::from);
    let mut dirs = vec![own.clone()];
    if let Ok(text) = std::fs::read_to_string(own.join("info/alternates")) {
        let lines = text.lines().map(str::trim);
        let listed = lines.filter(|l| !l.is_empty() && !l.starts_with('#'));
        dirs.extend(listed.map(|l| own.join(l)));
    }
    dirs
}

/// Checks that every object offset of a pack index (version 1 or 2) lies inside a pack of
/// `pack_len` bytes: after its 12-byte header, before its 20-byte trailer.
fn check_index(idx: &[u8], pack_len: u64) -> Result<(), String> {
    let end = pack_len.saturating_sub(20);
    let inside = |off: u64| {
        if (12..end).contains(&off) {
            Ok(())
        } else {
            Err(format!(
                "an object's offset ({off}) lies outside its pack ({pack_len} bytes)"
            ))
        }
    };
    let short = || "it is shorter than its object count says".to_string();
    let version2 = idx.starts_with(b"\xfftOc");
    let fanout = if version2 { 8 } else { 0 };
    let count = word(idx, fanout + 255 * 4).ok_or_else(short)? as usize;
    if !version2 {
        // Version 1: after the fan-out, each entry is a 4-byte offset and the object's id.
        for i in 0..count {
            inside(u64::from(word(idx, 1024 + 24 * i).ok_or_else(short)?))?;
        }
        return Ok(());
    }
    if word(idx, 4) != Some(2) {
        return Err("its version is not 2".to_string());
    }
    // Version 2: ids (20 bytes each), CRCs (4), offsets (4), large offsets (8), two checksums.
    let offsets = 8 + 1024 + 24 * count;
    let large = offsets + 4 * count;
    let large_count = idx.len().checked_sub(large + 40).ok_or_else(short)? / 8;
    for i in 0..count {
        let off = word(idx, offsets + 4 * i).ok_or_else(short)?;
        if off & 0x8000_0000 == 0 {
            inside(u64::from(off))?;
            continue;
        }
        let j = (off & 0x7fff_ffff) as usize;
        if j >= large_count {
            return Err("a large offset's entry is past the end of its table".to_string());
        }
        let at = large + 8 * j;
        let bytes = idx.get(at..at + 8).ok_or_else(short)?;
        inside(u64::from_be_bytes(bytes.try_into().map_err(|_| short())?))?;
    }
    Ok(())
}

/// The big-endian 32-bit word at `at`, if the index is that long.
fn word(idx: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(idx.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 2 index of objects at `offsets` (ids and CRCs zero), with `large` 64-bit
    /// offsets.
    fn index(offsets: &[u32], large: &[u64]) -> Vec<u8> {
        let mut idx = b"\xfftOc\0\0\0\x02".to_vec();
        for _ in 0..256 {
            idx.extend((offsets.len() as u32).to_be_bytes());
        }
        idx.extend(vec![0; 24 * offsets.len()]);
        for o in offsets {
            idx.extend(o.to_be_bytes());
        }
        for o in large {
            idx.extend(o.to_be_bytes());
        }
        idx.extend([0; 40]);
        idx
    }

    #[test]
    fn offsets_inside_the_pack_pass() {
        assert_eq!(check_index(&index(&[12, 500], &[]), 1000), Ok(()));
        assert_eq!(check_index(&index(&[0x8000_0000], &[979]), 1000), Ok(()));
    }

    #[test]
    fn an_offset_outside_the_pack_or_its_table_is_refused() {
        let past = check_index(&index(&[12, 980], &[]), 1000).unwrap_err();
        assert!(
            past.contains("(980) lies outside its pack (1000 bytes)"),
            "{past}"
        );
        assert!(check_index(&index(&[4], &[]), 1000).is_err());
        assert!(check_index(&index(&[0x8000_0000], &[1 << 40]), 1000).is_err());
        let table = check_index(&index(&[0x8000_0001], &[12]), 1000).unwrap_err();
        assert!(table.contains("large offset"), "{table}");
    }

    #[test]
    fn a_truncated_index_is_refused_not_read_past() {
        let idx = index(&[12, 500], &[]);
        for len in [0, 100, 1032, idx.len() - 41] {
            assert!(check_index(&idx[..len], 1000).is_err(), "{len}");
        }
    }

    #[test]
    fn version_1_offsets_are_checked_too() {
        let mut idx = Vec::new();
        for _ in 0..256 {
            idx.extend(1u32.to_be_bytes());
        }
        idx.extend(2000u32.to_be_bytes());
        idx.extend([0; 20 + 40]);
        assert!(check_index(&idx, 1000).is_err());
        idx[1024..1028].copy_from_slice(&100u32.to_be_bytes());
        assert_eq!(check_index(&idx, 1000), Ok(()));
    }
}
