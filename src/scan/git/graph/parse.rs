//! Trees resolved to object numbers before they join the graph. The pack reader numbers every
//! object first and hands the table out read-only (`Frozen`), so its threads parse trees at once
//! and take the graph's lock only to add what they parsed.

use super::{Graph, NONE, RawId, RawTree, WANTED, raw};
use git2::Oid;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

/// An entry names a tree.
const IS_TREE: u8 = 1;
/// Its name is kept: a tree's, or a wanted blob's.
const NAMED: u8 = 2;
/// A blob named `.gitmodules`.
const GITMODULES: u8 = 4;

/// One tree's entries (gitlinks left out), resolved to object numbers.
#[derive(Default)]
pub(in super::super) struct Parsed {
    /// The tree's number (NONE for one the numbering does not know).
    pub(super) tree: u32,
    /// (child number or NONE, kind bits, name's range in `names`).
    pub(super) entries: Vec<(u32, u8, (u32, u32))>,
    pub(super) names: Vec<u8>,
}

impl Parsed {
    pub(super) fn name(&self, (start, end): (u32, u32)) -> &[u8] {
        &self.names[start as usize..end as usize]
    }
}

pub(super) fn is_tree(kind: u8) -> bool {
    kind & IS_TREE != 0
}

pub(super) fn is_named(kind: u8) -> bool {
    kind & NAMED != 0
}

pub(super) fn is_gitmodules(kind: u8) -> bool {
    kind & GITMODULES != 0
}

/// Resolves the entries of raw tree `data`; `number` gives an id's number and whether it is a
/// wanted blob.
pub(super) fn parse(data: &[u8], mut number: impl FnMut(&RawId) -> (u32, bool), out: &mut Parsed) {
    for (mode, name, id) in RawTree(data) {
        if mode == b"160000" {
            continue; // a submodule's commit, in another repository
        }
        let (child, wanted) = number(id);
        let mut kind = if mode == b"40000" { IS_TREE | NAMED } else { 0 };
        if kind == 0 && wanted {
            kind |= NAMED;
        }
        if kind == 0 && name == b".gitmodules" {
            kind |= GITMODULES;
        }
        let range = if is_named(kind) {
            let start = out.names.len() as u32;
            out.names.extend_from_slice(name);
            (start, out.names.len() as u32)
        } else {
            (0, 0)
        };
        out.entries.push((child, kind, range));
    }
}

/// Every object's number, fixed, with which are wanted blobs: read by many threads at once.
pub(in super::super) struct Frozen {
    numbers: HashMap<RawId, u32, BuildHasherDefault<super::OidHasher>>,
    wanted: Vec<bool>,
}

impl Frozen {
    /// Parses tree `oid` (raw `data`) into `out`; ids the numbering lacks come out NONE.
    pub fn parse(&self, oid: Oid, data: &[u8], out: &mut Parsed) {
        out.tree = self.numbers.get(&raw(oid)).copied().unwrap_or(NONE);
        parse(
            data,
            |id| match self.numbers.get(id) {
                Some(&n) => (n, self.wanted[n as usize]),
                None => (NONE, false),
            },
            out,
        );
    }
}

impl Graph {
    /// Numbers every object of `ids` ahead of the trees and hands the numbering out, read-only,
    /// until `thaw`: in between, only `Frozen::parse` and `add_parsed` may add trees.
    pub fn freeze(&mut self, ids: impl Iterator<Item = RawId>) -> Frozen {
        for id in ids {
            self.number(&id);
        }
        let wanted = self.flags.iter().map(|f| f & WANTED != 0).collect();
        let numbers = std::mem::take(&mut self.numbers);
        Frozen { numbers, wanted }
    }

    /// Takes the numbering back.
    pub fn thaw(&mut self, frozen: Frozen) {
        self.numbers = frozen.numbers;
    }
}
