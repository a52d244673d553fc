#!/usr/bin/env python3
"""keyhound's git-history benchmark: `keyhound git` against its peers on a whole repository.

1. Generates (or reuses) a seeded repository in the shape of rust-lang/cargo with `git
   fast-import`: about 34k commits, 9.6k refs (branches, tags, refs/pull/N/head) and 1.7 GB of
   unique blob bytes at --scale 1, packed with `git repack -adf` and `git gc`. About 200
   OpenAI-shaped keys are planted where history hides them (removed later, in deleted files, on
   unmerged pull-request refs, in tag-only commits, in commit messages, ...), with decoys; a
   manifest records each and where it went. `--repo PATH` benchmarks any clone instead.
2. Times `git cat-file --batch-all-objects --batch` (the floor), keyhound, Kingfisher,
   betterleaks and gitleaks with a warm cache (warm-ups, then timed runs interleaved; median).
3. Scores each tool's findings against what was planted and prints Markdown tables.

Python 3 standard library only; reuses scripts/bench/run.py (keys, decoys, filler text, timing,
peak RSS, peers, scoring). No key literal is written here: keys are built at run time from a
seeded RNG.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.dont_write_bytecode = True  # leave no __pycache__ in the work tree
import run as rb  # noqa: E402  (scripts/bench/run.py)

REPO = rb.REPO
KEYHOUNDS = ("keyhound", "keyhound-git")  # the pack reader (default) and the git cat-file one
GEN_VERSION = 3  # bump whenever the generated repository changes, so old ones are regenerated
MARKER, MARKER_B, MB = rb.MARKER, rb.MARKER_B, rb.MB
TOKEN_RE = re.compile(rb"[A-Za-z0-9_-]*")

# Full-scale shape (rust-lang/cargo, late 2024, cloned with refs/pull/*)
FULL_PRS = 9300          # refs/pull/N/head
FULL_TAGS = 250          # refs/tags/*
FULL_RELEASES = 49       # refs/heads/rust-1.N.0, besides master
FULL_COMMITS = 34_000
FULL_UNIQUE_BYTES = 1_700_000_000
FULL_INITIAL_FILES = 1500
MERGED_SHARE = 0.85      # pull requests merged into master (the rest stay on their ref only)
T0, T1 = 1_394_000_000, 1_730_000_000  # 2014-03 .. 2024-10

# --------------------------------------------------------------------------------------------
# Text pools: run.py's templates plus Cargo-flavoured ones

EXTRA_TEMPLATES = {
    "toml": [
        "[package]", 'name = "§w-§w"', 'version = "§n.§n.§n"', 'edition = "2021"',
        "[dependencies]", '§w = "§n.§n"', '§w = { version = "§n.§n", features = ["§w", "§w"] }',
        '§s = { path = "crates/§w" }', "[dev-dependencies]", "[features]", 'default = ["§w"]',
        "# §t", "[workspace]", 'members = ["crates/*"]', '§s = { workspace = true }',
        "[profile.§w]", "opt-level = §n", 'rust-version = "1.§n"',
    ],
    "sh": [
        "#!/bin/bash", "set -euo pipefail", "§U=§w", 'echo "§t"', "cargo test -p §w --§w",
        'if [ -z "${§U:-}" ]; then', "  exit §n", "fi", "# §t", "for §i in §w §w; do", "done",
        "  rustup target add §w", 'export §U="§w"', 'cd "$(dirname "$0")/../§w"',
    ],
    "changelog": [
        "## Cargo 1.§n (§d)", "[§x...§x](https://github.com/rust-lang/cargo/compare/§x...§x)",
        "### Added", "### Changed", "### Fixed", "### Nightly only", "### Documentation",
        "### Internal", "- §t\n  [#§n](https://github.com/rust-lang/cargo/pull/§n)",
        "- §t\n  [#§n](https://github.com/rust-lang/cargo/pull/§n)",
        "- `cargo §w`: §t\n  [#§n](https://github.com/rust-lang/cargo/pull/§n)", "",
    ],
    "lock": [
        '[[package]]\nname = "§w-§w"\nversion = "§n.§n.§n"\n'
        'source = "registry+https://github.com/rust-lang/crates.io-index"\n'
        'checksum = "§x§x§x§x§x§x§x§x"\ndependencies = [\n "§w",\n "§w-§w",\n]\n',
        '[[package]]\nname = "§w"\nversion = "§n.§n.§n"\n'
        'source = "registry+https://github.com/rust-lang/crates.io-index"\n'
        'checksum = "§x§x§x§x§x§x§x§x"\n',
    ],
}
EXTRA_CONTEXTS = {
    "toml": [("assign", 'api_key = "{k}"'), ("env-table", 'OPENAI_API_KEY = "{k}"'),
             ("inline-table", 'openai = { key = "{k}", model = "gpt-4o" }')],
    "sh": [("export", 'export OPENAI_API_KEY="{k}"'),
           ("curl", 'curl -sS -H "Authorization: Bearer {k}" "$API_BASE/v1/models"'),
           ("arg", "  --api-key {k} \\")],
}
MSG_CONTEXTS = [
    ("msg-env", "Tested against the live API with OPENAI_API_KEY={k}"),
    ("msg-quoted", 'Reproduce with `OPENAI_API_KEY="{k}" cargo test -p §w`'),
    ("msg-plain", "Temporary key for CI: {k} (rotate after merge)"),
    ("msg-curl", 'curl -H "Authorization: Bearer {k}" https://api.example.test/v1/models'),
]
DECOY_MSG_CONTEXTS = [
    ("msg-placeholder", "Replace the leaked key with a placeholder ({k})"),
    ("msg-docs", "docs: use {k} in the examples"),
]
EXT_KIND = {".rs": "rs", ".md": "md", ".toml": "toml", ".lock": "lock", ".yml": "yaml",
            ".yaml": "yaml", ".json": "json", ".env": "env", ".py": "py", ".js": "js",
            ".sh": "sh", ".log": "log", ".txt": "log"}
BIN_EXT = (".png", ".wasm", ".crate", ".bin")
HEAD_CATS = ("head", "large-file", "binary", "hot-file")  # keys still in HEAD's tree
HOST_KINDS = [("rs", 0.35), ("toml", 0.10), ("env", 0.10), ("yaml", 0.08), ("json", 0.08),
              ("md", 0.08), ("py", 0.08), ("js", 0.05), ("sh", 0.05), ("log", 0.03)]

# Where the keys are planted: category, weight, decoys too?
CATEGORIES = [
    ("head", 0.21, "added in a merged pull request, still in HEAD's tree"),
    ("removed-later", 0.17, "added on master, the line removed by a later pull request"),
    ("deleted-file", 0.12, "in a file deleted later (by a later pull request, or within one)"),
    ("fixup-in-pr", 0.09, "added and removed within one pull request before its merge"),
    ("unmerged-pr", 0.10, "only on an unmerged pull request's refs/pull/N/head"),
    ("release-branch", 0.05, "only on a release branch (a backport commit)"),
    ("tag-only", 0.05, "only in a commit reachable from a tag alone"),
    ("commit-message", 0.08, "in a commit message (a pull request's commit or its merge)"),
    ("large-file", 0.06, "in a large (1-4 MB) text file, still in HEAD"),
    ("binary", 0.03, "NUL-delimited in a binary file, still in HEAD"),
    ("hot-file", 0.04, "in a file edited by hundreds of later commits (many blobs), in HEAD"),
]
DECOY_CATEGORIES = [("head", 0.5), ("removed-later", 0.2), ("commit-message", 0.2),
                    ("unmerged-pr", 0.1)]

AREAS = [  # area, weight, kind chooser, min size, max size
    ("src", 0.22, 1_500, 150_000), ("testsuite", 0.18, 3_000, 250_000),
    ("fixture", 0.25, 60, 3_000), ("crates", 0.12, 1_000, 80_000),
    ("docs", 0.08, 1_000, 60_000), ("ci", 0.03, 300, 8_000), ("scripts", 0.04, 500, 30_000),
    ("config", 0.05, 150, 20_000), ("logs", 0.03, 500, 40_000),
]
SRC_DIRS = ["core", "core/compiler", "core/resolver", "ops", "ops/registry", "ops/cargo_compile",
            "util", "util/toml", "sources", "sources/registry", "sources/git", "util/context",
            "core/compiler/build_runner", "ops/tree", "core/package", "ops/fix", "util/auth"]
DOC_DIRS = ["reference", "guide", "commands", "appendix", "getting-started"]
BIG = 40_000      # a text file this size or more is "big" for the byte-budget controller
SMALL = 8_000     # and this size or less "small"


def kind_of(path: str) -> str:
    if path.endswith(BIN_EXT):
        return "bin"
    if path.endswith("CHANGELOG.md"):
        return "changelog"
    return EXT_KIND.get(os.path.splitext(path)[1], "md" if "LICENSE" in path else "log")


def pool_lines(r: random.Random, pool: bytes, n: int) -> bytes:
    start = pool.find(b"\n", r.randrange(len(pool))) + 1
    if start == 0 or start >= len(pool):
        start = 0
    end = start
    for _ in range(n):
        x = pool.find(b"\n", end)
        if x < 0:
            break
        end = x + 1
    return pool[start:end]


def apply_op(data: bytes, op: tuple, pools: dict) -> bytes:
    """Applies one edit to a file's content. Deterministic, and replayable on another version
    of the file (a merge replays a pull request's edits on master's version)."""
    kind = op[0]
    if kind == "edit":  # a few hunks of inserted, replaced and deleted lines
        r = random.Random(op[1])
        pool = pools[op[2]]
        for _ in range(r.choice((1, 1, 2, 2, 3, 4))):
            n = len(data)
            s = data.rfind(b"\n", 0, r.randrange(n + 1)) + 1 if n else 0
            act = r.random()
            if act < 0.55:
                data = data[:s] + pool_lines(r, pool, r.randint(1, 12)) + data[s:]
                continue
            e = s
            for _ in range(r.randint(1, 8)):
                x = data.find(b"\n", e)
                e = n if x < 0 else x + 1
                if e >= n:
                    break
            if MARKER_B in data[s:e]:
                e = s  # never drop a planted line by accident
            new = pool_lines(r, pool, r.randint(1, 8)) if act < 0.85 else b""
            data = data[:s] + new + data[e:]
        return data
    if kind == "line":  # insert a line at a relative position
        s = data.rfind(b"\n", 0, int(op[1] * len(data))) + 1
        return data[:s] + op[2] + b"\n" + data[s:]
    if kind == "remove":  # remove the line holding a string
        pos = data.find(op[1])
        while pos >= 0:
            s = data.rfind(b"\n", 0, pos) + 1
            e = data.find(b"\n", pos)
            e = len(data) if e < 0 else e + 1
            data = data[:s] + data[e:]
            pos = data.find(op[1])
        return data
    if kind == "create":
        return op[1]
    if kind == "binary":  # a new version of a binary file
        return random.Random(op[1]).randbytes(op[2])
    raise ValueError(kind)


class IndexedSet:
    """A set with O(1) add, discard and random choice, iterated in a deterministic order."""

    def __init__(self):
        self.items: list = []
        self.pos: dict = {}

    def add(self, x):
        if x not in self.pos:
            self.pos[x] = len(self.items)
            self.items.append(x)

    def discard(self, x):
        i = self.pos.pop(x, None)
        if i is None:
            return
        last = self.items.pop()
        if i < len(self.items):
            self.items[i] = last
            self.pos[last] = i

    def choice(self, r: random.Random):
        return self.items[r.randrange(len(self.items))] if self.items else None

    def __len__(self):
        return len(self.items)

    def __contains__(self, x):
        return x in self.pos


class PR:
    def __init__(self, number: int, fork: dict, merged: bool, n_commits: int):
        self.number, self.fork, self.merged, self.n_commits = number, fork, merged, n_commits
        self.changes: dict = {}   # path -> (mark, data) or None (deleted)
        self.ops: dict = {}       # path -> [op, ...] for replay at merge
        self.tip = None
        self.merge_at = 0
        self.title = ""
        self.branch = ""
        self.author = ""
        self.items: list = []     # plants and decoys placed here
        self.removals: list = []  # plants whose line or file this PR removes
        self.merge_msg_items: list = []

    def get(self, path):
        if path in self.changes:
            return self.changes[path]
        return self.fork.get(path)


class GitGen:
    """Streams a cargo-shaped history into `git fast-import`."""

    def __init__(self, repo: Path, scale: float, seed: int, n_keys: int, n_decoys: int):
        self.repo, self.scale, self.seed = repo, scale, seed
        self.rng = random.Random(f"{seed}:git")
        r = self.rng
        self.n_prs = max(24, round(FULL_PRS * scale))
        self.n_tags = max(4, round(FULL_TAGS * scale))
        self.n_rel = max(2, round(FULL_RELEASES * scale))
        self.target_bytes = FULL_UNIQUE_BYTES * scale * 0.95  # the controller overshoots ~5%
        other = FULL_COMMITS - FULL_PRS * MERGED_SHARE - FULL_RELEASES * 2 - FULL_TAGS * 0.3 - 10
        self.mean_commits = other / FULL_PRS  # commits per pull request, about 2.8
        self.pools = {}
        size = max(256_000, min(3 * MB, int(3 * MB * scale * 4)))
        for k in ("rs", "md", "json", "yaml", "env", "py", "js", "log"):
            self.pools[k] = rb.build_pool(random.Random(f"{seed}:pool:{k}"), k,
                                          size if k in ("rs", "log") else size // 4)
        for k, tpls in EXTRA_TEMPLATES.items():
            self.pools[k] = self._pool(random.Random(f"{seed}:pool:{k}"), tpls, size // 8)
        self.filler = rb.Filler(random.Random(f"{seed}:filler"))
        self.authors = sorted({f"{r.choice(rb.WORDS).title()} {r.choice(rb.WORDS).title()}"
                               for _ in range(400)})
        self.crates = sorted({r.choice(["cargo-", "crates-io-", ""]) + r.choice(rb.WORDS)
                              for _ in range(30)})
        # tests/testsuite/cargo_<cmd>/: Cargo's snapshot-test directories (about 200 entries in
        # tests/testsuite, as in Cargo, rather than one directory per random word)
        self.cmds = sorted({"cargo_" + r.choice(rb.WORDS) for _ in range(32)})
        # state
        self.master: dict = {}           # path -> (mark, data)
        self.normal = IndexedSet()       # text files picked for ordinary edits
        self.big = IndexedSet()
        self.small = IndexedSet()
        self.by_dir: dict = {}
        self.by_kind: dict = {}
        self.large: list = []            # 1-4 MB text files
        self.bins: list = []
        self.hot = ["CHANGELOG.md", "Cargo.lock", "Cargo.toml"]
        self.protected: dict = {}        # path -> how many planted items need it to stay
        self.used_paths: set = set()
        self.no_pick: set = set()        # files made for a deleted-file key: no other edits
        self.blob_marks: dict = {}       # git blob id -> mark
        self.next_mark = 1
        self.unique_bytes = 0
        self.blobs = 0
        self.commits = 0
        self.out = None
        self.plan_items(n_keys, n_decoys)

    @staticmethod
    def _pool(r, tpls, size):
        f = rb.Filler(r)
        out, n = [], 0
        while n < size:
            s = f.expand(r.choice(tpls))
            out.append(s)
            n += len(s) + 1
        return ("\n".join(out) + "\n").encode()

    # --- planned keys and decoys

    def plan_items(self, n_keys: int, n_decoys: int):
        r = random.Random(f"{self.seed}:plan")
        seen: set = set()
        shapes = list(rb.KEY_SHAPES)
        weights = [rb.KEY_SHAPES[s][1] for s in shapes]
        self.items = []
        counts = rb.largest_remainder(n_keys, [c[1] for c in CATEGORIES])
        for (cat, _w, _d), n in zip(CATEGORIES, counts):
            for _ in range(n):
                shape = r.choices(shapes, weights)[0]
                self.items.append({"key": rb.make_key(r, shape, seen), "shape": shape,
                                   "category": cat})
        dcounts = rb.largest_remainder(n_decoys, [c[1] for c in DECOY_CATEGORIES])
        i = 0
        for (cat, _w), n in zip(DECOY_CATEGORIES, dcounts):
            for _ in range(n):
                kind = rb.DECOY_KINDS[i % len(rb.DECOY_KINDS)]
                i += 1
                self.items.append({"decoy": rb.make_decoy(r, kind), "kind": kind,
                                   "category": cat})
        r.shuffle(self.items)
        for n, it in enumerate(self.items):
            it["id"] = n
            it["t"] = r.uniform(0.02, 0.96) * self.n_prs
            it.update(path=None, member=None, context=None, line=None, file_kind=None,
                      commit=None, removed_in=None, refs=None, snippet=None, note=None)
        self.items.sort(key=lambda it: it["t"])
        self.pending = list(self.items)
        self.removal_queue: list = []  # (due step, item)

    def secret(self, it) -> str:
        return it.get("key") or it["decoy"]

    def render(self, it, kind: str) -> bytes:
        """The line that carries an item in a file of `kind`."""
        k = self.secret(it)
        ctx = EXTRA_CONTEXTS.get(kind) or rb.CONTEXTS.get(kind) or rb.CONTEXTS["md"]
        if "decoy" in it:
            ctx = ctx + rb.DECOY_EXTRA.get(kind, [])
        name, tpl = self.rng.choice(ctx)
        line = self.filler.expand(tpl).replace("{k}", k)
        it["context"] = f"{kind}:{name}"
        it["file_kind"] = kind
        it["snippet"] = line.replace(k, rb.redact(k)) if "key" in it else None
        return line.encode()

    def take(self, step: float, cats: tuple, limit: int = 3) -> list:
        out = []
        for it in self.pending:
            if it["t"] > step or len(out) >= limit:
                break
            if it["category"] in cats:
                out.append(it)
        for it in out:
            self.pending.remove(it)
        return out

    # --- fast-import stream

    def mark(self) -> int:
        m = self.next_mark
        self.next_mark += 1
        return m

    def blob(self, data: bytes) -> int:
        h = hashlib.sha1(b"blob %d\0" % len(data))
        h.update(data)
        oid = h.digest()
        m = self.blob_marks.get(oid)
        if m is not None:
            return m
        m = self.mark()
        self.blob_marks[oid] = m
        self.out.write(b"blob\nmark :%d\ndata %d\n" % (m, len(data)))
        self.out.write(data)
        self.out.write(b"\n")
        self.unique_bytes += len(data)
        self.blobs += 1
        return m

    def commit(self, ref: str, who: str, ts: int, msg: str, changes: list, frm: str | None = None,
               merge: int | None = None, committer: str | None = None) -> int:
        m = self.mark()
        msg_b = msg.encode()
        email = who.lower().replace(" ", ".") + "@users.noreply.example.com"
        cwho = committer or who
        cemail = cwho.lower().replace(" ", ".") + "@users.noreply.example.com"
        head = (f"commit {ref}\nmark :{m}\nauthor {who} <{email}> {ts} +0000\n"
                f"committer {cwho} <{cemail}> {ts} +0000\ndata {len(msg_b)}\n").encode()
        parts = [head, msg_b, b"\n"]
        if frm:
            parts.append(f"from {frm}\n".encode())
        if merge:
            parts.append(b"merge :%d\n" % merge)
        for ch in changes:
            if ch[0] == "D":
                parts.append(f"D {ch[1]}\n".encode())
            else:
                mode = "100755" if ch[1].endswith(".sh") else "100644"
                parts.append(f"M {mode} :{ch[2]} {ch[1]}\n".encode())
        parts.append(b"\n")
        self.out.write(b"".join(parts))
        self.commits += 1
        return m

    # --- the tree

    def new_path(self, r: random.Random, area: str) -> str:
        w = lambda: r.choice(rb.WORDS)  # noqa: E731
        s = lambda: "_".join(r.choices(rb.WORDS, k=r.randint(1, 2)))  # noqa: E731
        if area == "src":
            p = f"src/cargo/{r.choice(SRC_DIRS)}/{s()}.rs"
        elif area == "testsuite":
            p = r.choice([f"tests/testsuite/{s()}.rs", f"tests/testsuite/{s()}.rs",
                          f"tests/testsuite/{r.choice(self.cmds)}/mod.rs"])
        elif area == "fixture":
            p = f"tests/testsuite/{r.choice(self.cmds)}/{s()}/" + r.choice(
                ["in/src/lib.rs", "in/src/main.rs", "in/Cargo.toml", "out/Cargo.toml",
                 "in/build.rs", "stdout.log", "stderr.log", "in/.cargo/config.toml"])
        elif area == "crates":
            c = r.choice(self.crates)
            p = r.choice([f"crates/{c}/src/{s()}.rs", f"crates/{c}/src/{s()}.rs",
                          f"crates/{c}/tests/{s()}.rs", f"crates/{c}/Cargo.toml"])
        elif area == "docs":
            p = f"src/doc/src/{r.choice(DOC_DIRS)}/{s().replace('_', '-')}.md"
        elif area == "ci":
            p = r.choice([f".github/workflows/{w()}.yml", f"ci/{s()}.sh"])
        elif area == "scripts":
            p = r.choice([f"src/etc/{s()}.py", f"src/doc/theme/{w()}.js", f"benches/{s()}.py"])
        elif area == "config":
            p = r.choice([f"tests/testsuite/fixtures/config/{s()}.json",
                          f"tests/testsuite/fixtures/config/{s()}.yaml",
                          f"tests/testsuite/fixtures/env/{w()}.env", f"src/etc/{s()}.toml"])
        else:
            p = f"tests/testsuite/fixtures/logs/{s()}.log"
        return self.unique_path(p)

    def unique_path(self, p: str) -> str:
        if p in self.used_paths:
            stem, ext = os.path.splitext(p)
            n = 2
            while f"{stem}_{n}{ext}" in self.used_paths:
                n += 1
            p = f"{stem}_{n}{ext}"
        self.used_paths.add(p)
        return p

    def content(self, r: random.Random, path: str, size: int) -> bytes:
        kind = kind_of(path)
        if kind == "bin":
            return r.randbytes(size)
        pool = self.pools[kind]
        head = {"rs": "// %s\n", "py": "# %s\n", "sh": "#!/bin/bash\n# %s\n", "toml": "# %s\n",
                "yaml": "# %s\n", "js": "// %s\n", "md": "# %s\n\n"}.get(kind, "")
        head = (head % path).encode() if head else b""
        return head + rb.sample_slices(r, pool, max(40, size - len(head)))

    def register(self, path: str, data: bytes | None):
        """Updates the choice sets after master's version of `path` changed (None: deleted)."""
        if path in self.hot or path in self.large or path in self.bins or path in self.no_pick:
            return
        d = path.rsplit("/", 1)[0]
        kind = kind_of(path)
        if data is None:
            for s in (self.normal, self.big, self.small, self.by_dir.get(d),
                      self.by_kind.get(kind)):
                if s is not None:
                    s.discard(path)
            return
        self.normal.add(path)
        self.by_dir.setdefault(d, IndexedSet()).add(path)
        self.by_kind.setdefault(kind, IndexedSet()).add(path)
        (self.big.add if len(data) >= BIG else self.big.discard)(path)
        (self.small.add if len(data) <= SMALL else self.small.discard)(path)

    def set_master(self, path: str, val):
        if val is None:
            self.master.pop(path, None)
        else:
            self.master[path] = val
        self.register(path, None if val is None else val[1])

    # --- commits

    def ts(self, step: float) -> int:
        return int(T0 + (T1 - T0) * min(1.0, step / self.n_prs))

    def edits_for_commit(self, r: random.Random, view_get, progress: float) -> list:
        """Ordinary edits: [(path, op)], steered so unique blob bytes track the target."""
        expected = self.target_bytes * max(progress, 0.002)
        ratio = self.unique_bytes / expected
        p_big = min(0.9, max(0.0, 0.15 + 4.0 * (1.0 - ratio)))
        p_small = min(0.9, max(0.0, 0.10 + 4.0 * (ratio - 1.0)))
        k = r.choices([1, 2, 3, 4, 5, 6, 8, 12], [32, 24, 15, 10, 7, 5, 4, 3])[0]
        if ratio > 1.05:
            k = max(1, k // 2)
        picked: list = []
        for _ in range(k):
            x = r.random()
            if x < p_big and len(self.big):
                p = self.big.choice(r)
            elif x > 1 - p_small and len(self.small):
                p = self.small.choice(r)
            elif picked and r.random() < 0.5:
                p = self.by_dir[picked[0].rsplit("/", 1)[0]].choice(r) if picked[0].rsplit(
                    "/", 1)[0] in self.by_dir else self.normal.choice(r)
            else:
                p = self.normal.choice(r)
            if p and p not in picked and view_get(p) is not None:
                picked.append(p)
        for path, prob in (("CHANGELOG.md", 0.06), ("Cargo.lock", 0.05), ("Cargo.toml", 0.02)):
            if r.random() < prob * min(1.5, 1.0 / max(ratio, 0.5) ** 3):
                picked.append(path)
        if self.large and r.random() < 0.003:
            picked.append(r.choice(self.large))
        ops = [(p, ("edit", r.getrandbits(62), kind_of(p) if kind_of(p) != "bin" else "log"))
               for p in picked]
        if self.bins and r.random() < 0.001:
            p = r.choice(self.bins)
            if p not in self.protected:
                ops.append((p, ("binary", r.getrandbits(62), len(view_get(p)[1]))))
        return ops

    def make_host(self, r, it, view_get, new_file: bool):
        """(path, op or None, created data or None) putting the item's line in a file."""
        kind = r.choices([k for k, _ in HOST_KINDS], [w for _, w in HOST_KINDS])[0]
        hosts = self.by_kind.get(kind)
        path = None
        if not new_file and hosts and len(hosts):
            for _ in range(5):
                p = hosts.choice(r)
                if view_get(p) is not None and p not in self.large:
                    path = p
                    break
        if path is None:
            area = {"rs": "src", "toml": "config", "env": "config", "yaml": "config",
                    "json": "config", "md": "docs", "py": "scripts", "js": "scripts",
                    "sh": "ci", "log": "logs"}[kind]
            name = {"rs": "openai_client.rs", "toml": "openai.toml", "env": ".env",
                    "yaml": "openai.yaml", "json": "openai.json", "md": "OPENAI.md",
                    "py": "openai_smoke.py", "js": "openai.js", "sh": "openai.sh",
                    "log": "openai.log"}[kind]
            tmp = self.new_path(r, area)
            self.used_paths.discard(tmp)
            path = self.unique_path(f"{tmp.rsplit('/', 1)[0]}/{name}")
            data = self.content(r, path, int(rb.loguniform(r, 300, 6000)))
            data = apply_op(data, ("line", r.random(), self.render(it, kind)), self.pools)
            it["path"] = path
            return path, None, data
        line = self.render(it, kind_of(path) if kind_of(path) in rb.CONTEXTS or kind_of(
            path) in EXTRA_CONTEXTS else "md")
        it["path"] = path
        return path, ("line", r.random(), line), None

    def protect(self, path: str, n: int = 1):
        self.protected[path] = self.protected.get(path, 0) + n
        if self.protected[path] <= 0:
            del self.protected[path]

    def pr_commits(self, pr: PR, step: int, r: random.Random):
        """Plans and writes a pull request's commits on refs/pull/N/head."""
        ref = f"refs/pull/{pr.number}/head"
        c = pr.n_commits
        per_commit: list = [[] for _ in range(c)]   # (kind, payload) to do in commit j
        msgs_items: list = [[] for _ in range(c)]
        for it in pr.items:
            cat = it["category"]
            if cat == "commit-message":
                if pr.merged and r.random() < 0.3:
                    pr.merge_msg_items.append(it)
                else:
                    msgs_items[r.randrange(c)].append(it)
                continue
            if cat in ("fixup-in-pr",) or (cat == "deleted-file" and it.get("within")):
                j = r.randrange(c - 1)
                per_commit[j].append(("plant", it))
                per_commit[r.randint(j + 1, c - 1)].append(("unplant", it))
            else:
                per_commit[r.randrange(c)].append(("plant", it))
        for it in pr.removals:
            per_commit[0].append(("unplant", it))
        for j in range(c):
            changes: dict = {}   # path -> data or None
            ops: list = []

            def get(p):
                if p in changes:
                    d = changes[p]
                    return None if d is None else (0, d)
                return pr.get(p)

            progress = (step + j / c) / self.n_prs
            ops += self.edits_for_commit(r, get, progress)
            if r.random() < 0.12:  # new files
                for _ in range(r.choice((1, 1, 1, 2, 3))):
                    area = r.choices([a[0] for a in AREAS], [a[1] for a in AREAS])[0]
                    p = self.new_path(r, area)
                    lo, hi = next((a[2], a[3]) for a in AREAS if a[0] == area)
                    ops.append((p, ("create", self.content(r, p, rb.loguniform(r, lo, hi // 3)))))
            if r.random() < 0.04:  # deleted files
                for _ in range(r.choice((1, 1, 2))):
                    p = self.normal.choice(r)
                    if p and p not in self.protected and get(p) is not None:
                        changes[p] = None
            for what, it in per_commit[j]:
                cat = it["category"]
                if what == "plant":
                    it["refs"] = ref
                    if cat == "binary":
                        path = self.unique_path(f"tests/testsuite/fixtures/bin/"
                                                f"{r.choice(rb.WORDS)}-{it['id']}.bin")
                        data = bytearray(r.randbytes(rb.loguniform(r, 20_000, 300_000)))
                        line = self.render(it, "bin")
                        pos = r.randrange(len(data))
                        data[pos:pos] = line
                        it["path"] = path
                        ops.append((path, ("create", bytes(data))))
                        self.protect(path)
                    elif cat == "hot-file":
                        path = r.choice(["CHANGELOG.md", "Cargo.lock", "Cargo.toml"]
                                        + self.big.items[:50])
                        it["path"] = path
                        k = {"changelog": "md", "lock": "toml"}.get(kind_of(path), kind_of(path))
                        ops.append((path, ("line", r.random(), self.render(it, k))))
                        self.protect(path)
                    elif cat == "large-file":
                        path = r.choice(self.large)
                        it["path"] = path
                        # contexts drawn like the other categories' (a log's own contexts,
                        # URL queries and such, would make this row about contexts, not size)
                        k = r.choices([k for k, _ in HOST_KINDS], [w for _, w in HOST_KINDS])[0]
                        ops.append((path, ("line", r.random(), self.render(it, k))))
                    else:
                        new_file = cat == "deleted-file" or r.random() < 0.25
                        path, op, data = self.make_host(r, it, get, new_file)
                        if cat == "deleted-file":
                            self.no_pick.add(path)
                        ops.append((path, op if op else ("create", data)))
                        if cat not in ("unmerged-pr", "fixup-in-pr") and not it.get("within"):
                            self.protect(path)
                    it["_commit_j"] = j
                else:  # unplant: remove the line, or delete the file
                    if cat == "deleted-file":
                        changes[it["path"]] = None
                        ops = [o for o in ops if o[0] != it["path"]]
                    else:
                        ops.append((it["path"], ("remove", self.secret(it).encode())))
                    it["_removed_j"] = j
            for p, op in ops:
                if p in changes and changes[p] is None:
                    continue
                cur = changes.get(p)
                if cur is None:
                    v = pr.get(p)
                    if v is None and op[0] != "create":
                        continue  # the file is gone on this branch
                    cur = v[1] if v else b""
                changes[p] = apply_op(cur, op, self.pools)
                pr.ops.setdefault(p, []).append(op)
            for p, d in changes.items():
                if d is None:
                    pr.ops.setdefault(p, []).append(("delete",))
            lines = []
            for p, d in changes.items():
                if d is None:
                    if pr.get(p) is not None:
                        lines.append(("D", p))
                        pr.changes[p] = None
                else:
                    m = self.blob(d)
                    pr.changes[p] = (m, d)
                    lines.append(("M", p, m))
            msg = self.commit_message(r, msgs_items[j])
            pr.tip = self.commit(ref, pr.author, self.ts(step) + 600 * j, msg, lines,
                                 frm="refs/heads/master" if j == 0 else None)
            for what, it in per_commit[j]:
                if what == "plant":
                    it["commit"] = pr.tip
                else:
                    it["removed_in"] = pr.tip
            for it in msgs_items[j]:
                it["commit"] = pr.tip
                it["refs"] = ref

    def commit_message(self, r, items) -> str:
        f = self.filler
        subj = f.expand(r.choice([
            "Fix §w §w in §s", "Add §c to §C", "Refactor §s", "Update §w docs",
            "test: cover §s", "chore(deps): bump §w from §n.§n.§n to §n.§n.§n",
            "fix(§w): §t", "feat(§w): §t", "docs: §t", "Remove unused §s", "§t"]))
        body = [f.expand("§T")] if r.random() < 0.35 else []
        for it in items:
            ctx = MSG_CONTEXTS if "key" in it else DECOY_MSG_CONTEXTS
            name, tpl = r.choice(ctx)
            line = f.expand(tpl).replace("{k}", self.secret(it))
            it["context"], it["path"], it["file_kind"] = f"message:{name}", None, "message"
            if "key" in it:
                it["snippet"] = line.replace(it["key"], rb.redact(it["key"]))
            body.append(line)
        return subj[:72] + ("\n\n" + "\n\n".join(body) if body else "") + "\n"

    def merge(self, pr: PR, step: int, r: random.Random):
        """bors-style merge commit on master; a file both sides changed gets the pull
        request's edits replayed on master's version (a new blob)."""
        for it in pr.removals:
            self.protect(it["path"], -1)
        lines = []
        for p, ops in pr.ops.items():
            cur = self.master.get(p)
            fork = pr.fork.get(p)
            mine = pr.changes.get(p)
            if mine is None:  # deleted by the pull request
                if cur is not None and p not in self.protected:
                    self.set_master(p, None)
                    lines.append(("D", p))
                continue
            if cur is None and fork is not None and p not in self.protected:
                continue  # deleted on master meanwhile: stays deleted
            if cur is None or (fork is not None and cur[0] == fork[0]):
                new = mine
            else:  # both sides changed it: replay the pull request's edits on master's version
                data = cur[1]
                for op in ops:
                    if op[0] != "delete":
                        data = apply_op(data, op, self.pools)
                new = (self.blob(data), data)
            if cur is None or new[0] != cur[0]:
                self.set_master(p, new)
                lines.append(("M", p, new[0]))
        f = self.filler
        body = [pr.title, f.expand("§T")]
        for it in pr.merge_msg_items:
            name, tpl = r.choice(MSG_CONTEXTS if "key" in it else DECOY_MSG_CONTEXTS)
            line = f.expand(tpl).replace("{k}", self.secret(it))
            it["context"], it["path"], it["file_kind"] = f"merge-message:{name}", None, "message"
            if "key" in it:
                it["snippet"] = line.replace(it["key"], rb.redact(it["key"]))
            body.append(line)
        reviewer = r.choice(self.authors).split()[0].lower()
        msg = (f"Auto merge of #{pr.number} - {pr.branch}, r={reviewer}\n\n"
               + "\n\n".join(body) + "\n")
        m = self.commit("refs/heads/master", pr.author, self.ts(step) + 3600, msg, lines,
                        merge=pr.tip, committer="bors")
        self.master_tip = m
        for it in pr.merge_msg_items:
            it["commit"], it["refs"] = m, "refs/heads/master"
        for it in pr.items:
            if it["refs"] and it["refs"].startswith("refs/pull/"):
                it["refs"] += " (merged into master)"
            if it["category"] in ("removed-later", "deleted-file") and not it.get("within"):
                delay = r.randint(1, max(3, self.n_prs // 10))
                self.removal_queue.append((step + delay, it))
        for it in pr.removals:
            it["removed_in"] = m if it["removed_in"] is None else it["removed_in"]

    def open_pr(self, number: int, step: int, merged: bool, extra_removals=()):
        r = random.Random(f"{self.seed}:pr:{number}")
        c = 1
        while r.random() < 1 - 1 / self.mean_commits and c < 30:
            c += 1
        pr = PR(number, dict(self.master), merged, c)
        pr.author = r.choice(self.authors)
        pr.branch = f"{pr.author.split()[0].lower()}:{r.choice(rb.WORDS)}-{r.choice(rb.WORDS)}"
        pr.title = self.filler.expand(r.choice(["Fix §t", "Add §t", "Implement §w §w",
                                                "Stabilize §w", "Refactor §s", "§t"]))
        if merged:
            pr.items = self.take(step, ("head", "removed-later", "deleted-file", "fixup-in-pr",
                                        "commit-message", "large-file", "binary",
                                        "hot-file"))
            due = [x for x in self.removal_queue if x[0] <= step]
            for x in due:
                self.removal_queue.remove(x)
            pr.removals = [it for _, it in due] + list(extra_removals)
        else:
            pr.items = self.take(step, ("unmerged-pr",))
        for it in pr.items:
            if it["category"] == "deleted-file" and r.random() < 0.4:
                it["within"] = True
                it["note"] = "created and deleted within one pull request"
            if it["category"] == "fixup-in-pr" or it.get("within"):
                pr.n_commits = max(pr.n_commits, 2)
        self.pr_commits(pr, step, r)
        if merged:
            pr.merge_at = step + min(40, int(r.expovariate(1 / 3)))
        return pr

    def release_branch(self, n: int, step: int):
        r = random.Random(f"{self.seed}:rel:{n}")
        ref = f"refs/heads/rust-1.{n + 10}.0"
        view = dict(self.master)
        items = self.take(step, ("release-branch",), limit=99)
        n_commits = r.randint(1, 3) + (1 if items else 0)
        for j in range(n_commits):
            ops = self.edits_for_commit(r, view.get, step / self.n_prs)[:3]
            here = items if j == n_commits - 1 else []
            for it in here:
                path, op, data = self.make_host(r, it, view.get, r.random() < 0.3)
                ops.append((path, op if op else ("create", data)))
                it["refs"] = ref
            lines = []
            changed: dict = {}
            for p, op in ops:
                cur = changed.get(p)
                if cur is None:
                    cur = view[p][1] if p in view else b""
                changed[p] = apply_op(cur, op, self.pools)
            for p, d in changed.items():
                m = self.blob(d)
                view[p] = (m, d)
                lines.append(("M", p, m))
            msg = f"[beta] " if r.random() < 0.3 else ""
            msg += self.commit_message(r, [])
            tip = self.commit(ref, r.choice(self.authors), self.ts(step) + 900 * (j + 1), msg,
                              lines, frm="refs/heads/master" if j == 0 else None)
            for it in here:
                it["commit"] = tip

    def tag(self, n: int, step: int):
        r = random.Random(f"{self.seed}:tag:{n}")
        name = f"0.{n}.0" if n % 4 else f"crates-io-0.{n // 4}.0"
        items = self.take(step, ("tag-only",), limit=99)
        if items or r.random() < 0.3:  # a release commit reachable from the tag alone
            ref = f"refs/tags/{name}"
            ops = [("Cargo.toml", ("edit", r.getrandbits(62), "toml"))]
            for it in items:
                path, op, data = self.make_host(r, it, self.master.get, r.random() < 0.3)
                ops.append((path, op if op else ("create", data)))
                it["refs"] = ref
            changed: dict = {}
            for p, op in ops:
                cur = changed.get(p)
                if cur is None:
                    cur = self.master[p][1] if p in self.master else b""
                changed[p] = apply_op(cur, op, self.pools)
            lines = [("M", p, self.blob(d)) for p, d in changed.items()]
            m = self.commit(ref, r.choice(self.authors), self.ts(step) + 1800,
                            f"Release {name}\n", lines, frm="refs/heads/master")
            for it in items:
                it["commit"] = m
        else:
            who = r.choice(self.authors)
            email = who.lower().replace(" ", ".") + "@users.noreply.example.com"
            msg = f"Release {name}\n".encode()
            self.out.write(f"tag {name}\nfrom refs/heads/master\ntagger {who} <{email}> "
                           f"{self.ts(step) + 1800} +0000\ndata {len(msg)}\n".encode() + msg
                           + b"\n")

    # --- the whole history

    def bootstrap(self):
        r = random.Random(f"{self.seed}:init")
        s = self.scale
        files = []
        n0 = int(300 + (FULL_INITIAL_FILES - 300) * s)
        for _ in range(n0):
            area = r.choices([a[0] for a in AREAS], [a[1] for a in AREAS])[0]
            lo, hi = next((a[2], a[3]) for a in AREAS if a[0] == area)
            p = self.new_path(r, area)
            files.append((p, self.content(r, p, rb.loguniform(r, lo, hi))))
        specials = [("CHANGELOG.md", 40_000), ("Cargo.lock", 90_000), ("Cargo.toml", 4_000),
                    ("README.md", 6_000), ("LICENSE-APACHE", 11_000), ("LICENSE-MIT", 1_100),
                    ("triagebot.toml", 2_000), ("publish.py", 3_000)]
        for p, size in specials:
            self.used_paths.add(p)
            files.insert(0, (p, self.content(r, p, size)))
        for i in range(max(2, round(12 * s))):
            p = self.unique_path(f"tests/testsuite/fixtures/large/{r.choice(rb.WORDS)}-{i}.log")
            self.large.append(p)
            f = min(1.0, 0.2 + 4 * s)  # smaller at small scales, where they would dominate
            files.append((p, self.content(r, p, rb.loguniform(r, int(1_000_000 * f),
                                                              int(4_000_000 * f)))))
        for i in range(max(3, round(30 * s))):
            p = self.unique_path(f"tests/testsuite/fixtures/bin/{r.choice(rb.WORDS)}-{i}"
                                 f"{r.choice(BIN_EXT)}")
            self.bins.append(p)
            files.append((p, self.content(r, p, rb.loguniform(r, 30_000, 2_000_000))))
        chunk = -(-len(files) // 10)
        for i in range(0, len(files), chunk):
            lines = []
            for p, d in files[i:i + chunk]:
                m = self.blob(d)
                self.set_master(p, (m, d))
                lines.append(("M", p, m))
            msg = "Initial import\n" if i == 0 else self.commit_message(r, [])
            self.master_tip = self.commit("refs/heads/master", self.authors[0],
                                          T0 - 86400 + i, msg, lines)

    def generate(self, out) -> dict:
        self.out = out
        t0 = time.time()
        self.bootstrap()
        r = self.rng
        n = self.n_prs
        rel_steps = sorted(r.sample(range(n // 20, n), self.n_rel))
        tag_steps = sorted(r.sample(range(n // 20, n), self.n_tags))
        open_prs: list = []
        rel_i = tag_i = 0
        next_report = 0.1
        for step in range(n):
            while rel_i < len(rel_steps) and rel_steps[rel_i] <= step:
                self.release_branch(rel_i, step)
                rel_i += 1
            while tag_i < len(tag_steps) and tag_steps[tag_i] <= step:
                self.tag(tag_i, step)
                tag_i += 1
            merged = r.random() < MERGED_SHARE
            pr = self.open_pr(step + 1, step, merged)
            if merged:
                open_prs.append(pr)
            due = sorted((p for p in open_prs if p.merge_at <= step), key=lambda p: p.merge_at)
            for p in due:
                open_prs.remove(p)
                self.merge(p, step, r)
            if step / n >= next_report:
                print(f"  {100 * step / n:3.0f}%  {self.commits} commits  "
                      f"{self.unique_bytes / MB:7.0f} MB of blobs  {time.time() - t0:5.0f} s",
                      flush=True)
                next_report += 0.1
        for p in sorted(open_prs, key=lambda p: p.merge_at):
            self.merge(p, n, r)
        # anything not placed yet gets its own events at the end
        step = n
        left = [it for it in self.pending]
        number = n + 1
        while self.pending or self.removal_queue:
            cats = {it["category"] for it in self.pending}
            if "release-branch" in cats:
                self.release_branch(self.n_rel, step)
                self.n_rel += 1
            if "tag-only" in cats:
                self.tag(self.n_tags, step)
                self.n_tags += 1
            for it in self.pending:
                it["t"] = 0
            step += 1
            if "unmerged-pr" in {it["category"] for it in self.pending}:
                self.open_pr(number, step, False)
                number += 1
            removals = [it for _, it in self.removal_queue]
            self.removal_queue = []
            pr = self.open_pr(number, step, True, removals)
            number += 1
            self.merge(pr, step, r)
            if left and len(self.pending) >= len(left) and not removals:
                raise SystemExit(f"generator bug: cannot place {len(self.pending)} items")
            left = list(self.pending)
        out.write(b"done\n")
        return {"commits": self.commits, "blobs": self.blobs, "unique_bytes": self.unique_bytes}


# --------------------------------------------------------------------------------------------
# Generation driver, shape and self-check


def git(repo: Path, *args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, **kw)


def repo_shape(repo: Path) -> dict:
    commits = int(git(repo, "rev-list", "--all", "--count", capture_output=True,
                      text=True).stdout.strip())
    refs = len(git(repo, "for-each-ref", "--format=%(refname)", capture_output=True,
                   text=True).stdout.splitlines())
    objs = subprocess.run(["git", "-C", str(repo), "cat-file", "--batch-all-objects",
                           "--batch-check=%(objecttype) %(objectsize)"], check=True,
                          capture_output=True).stdout
    blobs = blob_bytes = all_bytes = 0
    for line in objs.splitlines():
        t, s = line.split()
        all_bytes += int(s)
        if t == b"blob":
            blobs += 1
            blob_bytes += int(s)
    gitdir = Path(git(repo, "rev-parse", "--absolute-git-dir", capture_output=True,
                      text=True).stdout.strip())
    pack = sum(f.stat().st_size for f in (gitdir / "objects" / "pack").glob("*"))
    return {"commits": commits, "refs": refs, "objects": len(objs.splitlines()),
            "unique_blobs": blobs, "unique_blob_bytes": blob_bytes, "all_object_bytes": all_bytes,
            "pack_bytes": pack}


def print_shape(sh: dict, where: str):
    print(f"Repository {where}: {sh['commits']} commits, {sh['refs']} refs, "
          f"{sh['unique_blobs']} unique blobs, {sh['unique_blob_bytes'] / MB:.0f} MB of unique "
          f"blob bytes ({sh['all_object_bytes'] / MB:.0f} MB in all {sh['objects']} objects), "
          f"pack {sh['pack_bytes'] / MB:.0f} MB", flush=True)


def marker_tokens(repo: Path, args: list) -> set:
    """Every [A-Za-z0-9_-] token holding the marker in a git command's output."""
    proc = subprocess.Popen(["git", "-C", str(repo), *args], stdout=subprocess.PIPE)
    tokens: set = set()
    carry = b""
    while True:
        chunk = proc.stdout.read(16 * 1024 * 1024)
        buf = carry + chunk
        # markers that start in the last 400 bytes are left for the next round (their token
        # may go on), with 300 bytes before them for the token's start
        limit = len(buf) - 400 if chunk else len(buf)
        pos = buf.find(MARKER_B)
        while 0 <= pos < limit:
            a = TOKEN_RE.match(buf[max(0, pos - 300):pos][::-1]).end()
            b = TOKEN_RE.match(buf, pos).end()
            tokens.add(buf[pos - a:b].decode())
            pos = buf.find(MARKER_B, pos + 1)
        if not chunk:
            break
        carry = buf[-700:]
    if proc.wait() != 0:
        raise SystemExit(f"git {' '.join(args)} failed")
    return tokens


def self_check(repo: Path, items: list):
    """Every planted item is somewhere in the objects; HEAD holds exactly the ones it should."""
    everywhere = "\n".join(marker_tokens(repo, ["cat-file", "--batch-all-objects", "--batch",
                                                "--unordered"]))
    head_tokens = "\n".join(marker_tokens(repo, ["archive", "--format=tar", "refs/heads/master"]))
    bad = []
    for it in items:
        s = it.get("key") or it["decoy"]
        if MARKER in s and s not in everywhere:
            bad.append(f"{it['category']} {rb.redact(s)} is in no object")
        if "key" not in it:
            continue
        want_head = it["category"] in HEAD_CATS
        if want_head != (s in head_tokens):
            bad.append(f"{it['category']} {rb.redact(s)} {'missing from' if want_head else 'in'}"
                       f" HEAD ({it['path']})")
    for it in items:  # keys that must not be reachable from master
        if it["category"] in ("unmerged-pr", "release-branch", "tag-only") and subprocess.run(
                ["git", "-C", str(repo), "merge-base", "--is-ancestor", it["commit"],
                 "refs/heads/master"]).returncode == 0:
            bad.append(f"{it['category']} commit {it['commit']} is reachable from master")
    if bad:
        raise SystemExit("generator bug:\n  " + "\n  ".join(bad[:40]))


def free_bytes(path: Path) -> int:
    p = path
    while not p.exists():
        p = p.parent
    return shutil.disk_usage(p).free


def ensure_repo(data: Path, scale: float, seed: int, n_keys: int, n_decoys: int) -> dict:
    params = {"gen_version": GEN_VERSION, "scale": scale, "seed": seed, "keys": n_keys,
              "decoys": n_decoys}
    manifest_path = data / "manifest.json"
    repo = data / "repo.git"
    if manifest_path.exists():
        try:
            manifest = json.loads(manifest_path.read_text())
            if manifest.get("params") == params and manifest.get("complete") and repo.is_dir():
                print(f"reusing {repo} (generated in {manifest['generation_s']:.0f} s)",
                      flush=True)
                return manifest
        except (ValueError, KeyError):
            pass
    need = int(1.2e9 * scale) + 500 * MB
    reserve = 2_000 * MB
    free = free_bytes(data)
    if free < need + reserve:
        raise SystemExit(f"not enough disk space in {data}: generating at --scale {scale:g} "
                         f"needs about {need / 1e9:.1f} GB (and {reserve / 1e9:.0f} GB is left "
                         f"spare), {free / 1e9:.1f} GB free. Free some space or use a smaller "
                         f"--scale.")
    owner_mark = data / ".keyhound-bench"
    if data.exists() and any(data.iterdir()) and not owner_mark.exists():
        raise SystemExit(f"{data} exists and was not made by this script: remove it or pick "
                         f"another --data")
    if repo.exists():
        print(f"parameters or generator changed: removing {repo}", flush=True)
        shutil.rmtree(repo)
    if manifest_path.exists():
        manifest_path.unlink()
    data.mkdir(parents=True, exist_ok=True)
    owner_mark.write_text("made by scripts/bench/git_history.py; safe to delete\n")

    t0 = time.time()
    print(f"generating {repo} (scale {scale:g}, seed {seed}, {n_keys} keys, {n_decoys} decoys)",
          flush=True)
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=master", str(repo)],
                   check=True)
    marks = data / "marks.txt"
    gen = GitGen(repo, scale, seed, n_keys, n_decoys)
    fi = subprocess.Popen(["git", "-C", str(repo), "fast-import", "--quiet", "--done",
                           f"--export-marks={marks}"], stdin=subprocess.PIPE, bufsize=1 << 20)
    try:
        stats = gen.generate(fi.stdin)
        fi.stdin.close()
    except BrokenPipeError:
        pass
    if fi.wait() != 0:
        raise SystemExit("git fast-import failed")
    t_import = time.time() - t0
    print(f"fast-import: {stats['commits']} commits, {stats['blobs']} blobs, "
          f"{stats['unique_bytes'] / MB:.0f} MB of blobs in {t_import:.0f} s; packing "
          f"(git repack -adf, git gc)", flush=True)
    git(repo, "repack", "-adf", "-q")
    git(repo, "gc", "-q", "--prune=now")
    t_pack = time.time() - t0 - t_import
    sha = {}
    for line in marks.read_text().splitlines():
        m, s = line.split()
        sha[int(m[1:])] = s
    items = gen.items
    for it in items:
        for f in ("commit", "removed_in"):
            if isinstance(it[f], int):
                it[f] = sha[it[f]]
        for f in ("t", "_commit_j", "_removed_j", "within"):
            it.pop(f, None)
    print("checking the planted keys (every object, and HEAD's tree)", flush=True)
    self_check(repo, items)
    shape = repo_shape(repo)
    plants = [it for it in items if "key" in it]
    decoys = [it for it in items if "decoy" in it]
    manifest = {"params": params, "complete": True, "repo": str(repo), "shape": shape,
                "generation_s": round(time.time() - t0, 1), "fast_import_s": round(t_import, 1),
                "pack_s": round(t_pack, 1), "plants": plants, "decoys": decoys,
                "categories": {c: d for c, _w, d in CATEGORIES}}
    tmp = manifest_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=1))
    tmp.replace(manifest_path)
    marks.unlink()
    print(f"generated in {time.time() - t0:.0f} s (fast-import {t_import:.0f} s, packing "
          f"{t_pack:.0f} s)", flush=True)
    return manifest


# --------------------------------------------------------------------------------------------
# Running the tools

def parse_keyhound_git(path: Path):
    d = json.loads(path.read_text())
    out = [{"rule": f.get("rule"), "secret": f.get("secret") or "", "path": f.get("path"),
            "line": f.get("line"), "commit": (f.get("git") or {}).get("commit")}
           for f in d.get("findings", [])]
    return out, {"stats": d.get("stats"), "complete": d.get("complete")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0,
                    help="scales commits, refs and bytes (default 1.0: 34k commits, 9.6k refs, "
                         "1.7 GB of unique blobs; 0.02 is a one-minute smoke test)")
    ap.add_argument("--seed", type=int, default=20240314)
    ap.add_argument("--keys", type=int, default=200, help="planted keys (default 200)")
    ap.add_argument("--decoys", type=int, default=60, help="planted decoys (default 60)")
    ap.add_argument("--data", type=Path, default=None,
                    help="where the repository, manifest and reports go "
                         "(default bench-data/git-s<scale>-seed<seed>-k<keys>-d<decoys>)")
    ap.add_argument("--repo", type=Path, help="benchmark this clone instead of a generated one "
                                              "(recall is then not scored)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per tool (default 3)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs per tool first (default 1)")
    ap.add_argument("--tools", default="floor,keyhound,keyhound-git,kingfisher,betterleaks,gitleaks",
                    help="comma-separated subset to run (keyhound-git: keyhound with "
                         "KEYHOUND_GIT_READER=git, its git cat-file reader)")
    ap.add_argument("--skip-gitleaks", action="store_true", help="leave gitleaks out (slow)")
    ap.add_argument("--no-build", action="store_true", help="use target/release/keyhound as is")
    ap.add_argument("--peers", type=Path, default=REPO / ".peers")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per run before a kill")
    ap.add_argument("--slow-s", type=float, default=120,
                    help="a tool whose warm-up takes longer is timed by that run alone "
                         "(default 120; 0 gives every tool --runs timed runs)")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    ap.add_argument("--generate-only", action="store_true")
    args = ap.parse_args()

    if args.repo:
        repo = args.repo.resolve()
        data = (args.data or REPO / "bench-data" / f"git-repo-{repo.name}").resolve()
        data.mkdir(parents=True, exist_ok=True)
        manifest = None
        shape = repo_shape(repo)
    else:
        name = f"git-s{args.scale:g}-seed{args.seed}-k{args.keys}-d{args.decoys}"
        data = (args.data or REPO / "bench-data" / name).resolve()
        manifest = ensure_repo(data, args.scale, args.seed, args.keys, args.decoys)
        repo = Path(manifest["repo"])
        shape = manifest["shape"]
    print_shape(shape, str(repo))
    if args.generate_only:
        return 0
    total = shape["unique_blob_bytes"]
    plants = manifest["plants"] if manifest else []
    # A "stripe-like" decoy (`sk_live_` with OpenAI's marker) is no OpenAI key but a well-formed
    # Stripe live key, which keyhound's Stripe rules report as they should (issue 16): it is
    # neither a decoy nor a planted key, and findings of it are left out of the score.
    stripe_like = {d["decoy"] for d in (manifest["decoys"] if manifest else [])
                   if d["kind"] == "stripe-like"}
    decoys = [d for d in (manifest["decoys"] if manifest else []) if d["decoy"] not in stripe_like]
    out_dir = data / "out"
    out_dir.mkdir(exist_ok=True)
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    if args.skip_gitleaks and "gitleaks" in tools:
        tools.remove("gitleaks")

    errors: dict = {}
    cmds: dict = {}
    reports: dict = {}
    parsers: dict = {}
    versions: dict = {}
    if "floor" in tools:
        cmds["floor"] = ["sh", "-c", 'exec git -C "$1" cat-file --batch-all-objects --batch '
                         '--unordered >/dev/null', "sh", str(repo)]
        versions["floor"] = rb.version_of(["git", "--version"])
    if "keyhound" in tools:
        kh = REPO / "target" / "release" / "keyhound"
        if not args.no_build:
            print("cargo build --release --locked", flush=True)
            log = out_dir / "cargo-build.log"
            with open(log, "wb") as fh:
                rc = subprocess.run(["cargo", "build", "--release", "--locked"], cwd=REPO,
                                    stdout=fh, stderr=subprocess.STDOUT).returncode
            if rc != 0:
                errors["keyhound"] = f"cargo build failed: {rb.tail(str(log), 600)}"
        if "keyhound" not in errors and not os.access(kh, os.X_OK):
            errors["keyhound"] = f"{kh} missing"
        cmds["keyhound"] = [str(kh), "git", "--format", "json", "--show-secrets", str(repo)]
        parsers["keyhound"] = parse_keyhound_git
        versions["keyhound"] = rb.version_of([str(kh), "--version"])
        if "keyhound-git" in tools:
            # the same binary with the reader it falls back to: git cat-file children
            cmds["keyhound-git"] = ["env", "KEYHOUND_GIT_READER=git"] + cmds["keyhound"]
            parsers["keyhound-git"] = parse_keyhound_git
            versions["keyhound-git"] = versions["keyhound"]
    peers_wanted = [t for t in ("kingfisher", "betterleaks", "gitleaks") if t in tools]
    if peers_wanted:
        bins = rb.ensure_peers(args.peers.resolve(), peers_wanted, out_dir / "peers-install.log")
        for t in peers_wanted:
            if t not in bins:
                errors[t] = "not installed (see out/peers-install.log)"
                continue
            rep = out_dir / f"{t}.json"
            reports[t] = rep
            if t == "kingfisher":
                # every object of the repository (all refs, and commit metadata per blob); no
                # validation, no update check (there is no network)
                target = repo / ".git" if (repo / ".git").is_dir() else repo
                cmds[t] = [bins[t], "--no-update-check", "scan", str(target), "--git-history",
                           "full", "--no-validate", "--format", "json", "-o", str(rep)]
                parsers[t] = rb.parse_kingfisher
                versions[t] = rb.version_of([bins[t], "--version"])
            elif t == "betterleaks":
                # `git log -p -U0 --full-history --all`: added lines of every commit of every ref,
                # plus commit messages
                cmds[t] = [bins[t], "git", str(repo), "--include=commit-messages", "--no-banner",
                           "--no-color", "-o", str(rep)]
                parsers[t] = rb.parse_betterleaks
                versions[t] = rb.version_of([bins[t], "version"])
            else:  # gitleaks: the same git log; it does not read commit messages
                cmds[t] = [bins[t], "git", str(repo), "--report-format", "json", "--report-path",
                           str(rep), "--no-banner"]
                parsers[t] = rb.parse_gitleaks
                versions[t] = rb.version_of([bins[t], "version"])
    order = [t for t in ("floor", "keyhound", "keyhound-git", "kingfisher", "betterleaks",
                         "gitleaks")
             if t in cmds]

    # --- runs: warm-ups first, then the timed runs interleaved across tools
    runs: dict = {t: [] for t in order}
    warm: dict = {t: [] for t in order}
    slow: set = set()
    if not rb.ensure_gnu_time():
        print("warning: no GNU time; peak RSS includes this runner's own RSS", flush=True)
    schedule = [(i, False) for i in range(args.warmup)] + [(i, True) for i in range(args.runs)]
    for i, timed in schedule:
        for t in order:
            if t in errors or (timed and t in slow):
                continue
            label = f"{t}-{'run' if timed else 'warm'}{i}"
            if t in reports and reports[t].exists():
                reports[t].unlink()
            print(f"{'run' if timed else 'warm-up'} {i + 1}: {t} ... ", end="", flush=True)
            m = rb.measure(cmds[t], out_dir, label, args.timeout)
            print(f"{m['wall_s']:.2f} s, {m['rss_bytes'] / 2**20:.0f} MiB, exit {m['exit']}"
                  f"{', other load %.1f cores' % m['other_load'] if m['other_load'] > 0.3 else ''}",
                  flush=True)
            (runs if timed else warm)[t].append(m)
            if t in KEYHOUNDS:
                reports[t] = Path(m["stdout"])
            if m["timed_out"]:
                errors[t] = f"timed out after {args.timeout:.0f} s"
            elif t == "floor" and m["exit"] != 0:
                errors[t] = f"exit {m['exit']}: {rb.tail(m['stderr'])}"
            elif t in KEYHOUNDS and m["exit"] not in (0, 1):
                errors[t] = f"exit {m['exit']}: {rb.tail(m['stderr'], 300)}"
            elif t != "floor" and (not reports[t].exists() or reports[t].stat().st_size == 0):
                errors[t] = f"no report (exit {m['exit']}): {rb.tail(m['stderr'])}"
            elif not timed and i == args.warmup - 1 and 0 < args.slow_s < m["wall_s"]:
                slow.add(t)
                runs[t].append(m)
                print(f"  {t} took over {args.slow_s:.0f} s: this run is its only timed run",
                      flush=True)

    # --- scoring
    results = []
    for t in order + [t for t in errors if t not in order]:
        row = {"tool": t, "command": shlex.join(cmds[t]) if t in cmds else None,
               "version": versions.get(t), "error": errors.get(t)}
        rs = runs.get(t) or []
        if rs and not row["error"]:
            walls = [x["wall_s"] for x in rs]
            row.update(median_s=statistics.median(walls), runs_s=walls,
                       warmup_s=[x["wall_s"] for x in warm.get(t, [])],
                       peak_rss_mb=max(x["rss_bytes"] for x in rs) / MB,
                       cpu_s=statistics.median(x["cpu_s"] for x in rs),
                       other_load=statistics.median(x["other_load"] for x in rs),
                       exit_codes=sorted({x["exit"] for x in rs}), single_run=t in slow)
            row["mb_s"] = total / MB / row["median_s"]
        if t in parsers and not row["error"]:
            try:
                findings, meta = parsers[t](reports[t])
                row["meta"] = meta
                row["findings"] = len(findings)
                if manifest:
                    scored = [f for f in findings
                              if not any(d in f["secret"] for d in stripe_like)]
                    sc = rb.score(scored, plants, decoys, exact_only=t in KEYHOUNDS)
                    row.update(recall=sc["recall"], found=len(sc["found"]), planted=len(plants),
                               decoys_reported=len(sc["decoy_hits"]),
                               decoys_total=sc["decoys_total"], unexpected=len(sc["unexpected"]),
                               categories=sc["categories"],
                               decoy_hits=list(sc["decoy_hits"].values()),
                               missed=[{"category": p["category"], "key": rb.redact(p["key"]),
                                        "path": p["path"], "context": p["context"],
                                        "commit": p["commit"], "refs": p["refs"]}
                                       for p in plants if p["key"] not in sc["found"]])
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
                row["error"] = f"could not read its report: {e!r}"
        results.append(row)
    by_tool = {r["tool"]: r for r in results}
    floor_t = (by_tool.get("floor") or {}).get("median_s")
    kh_t = (by_tool.get("keyhound") or {}).get("median_s")
    for r in results:
        if r.get("median_s"):
            r["vs_floor"] = r["median_s"] / floor_t if floor_t else None
            r["vs_keyhound"] = r["median_s"] / kh_t if kh_t else None

    # --- report
    print()
    print_shape(shape, str(repo))
    print((f"{len(plants)} planted keys, {len({d['decoy'] for d in decoys})} distinct decoys; "
           if manifest else "--repo: nothing planted, recall not scored; ") +
          f"{os.cpu_count()} CPUs; median of {args.runs} timed runs after {args.warmup} warm-up"
          + (f" (one run for tools slower than {args.slow_s:.0f} s: {', '.join(sorted(slow))})"
             if slow else "") + "; MB/s is unique blob bytes / time.")
    print()
    print("| tool | median time (s) | MB/s | peak RSS (MB) | time vs floor | time vs keyhound "
          "| recall | decoys reported |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    f2 = lambda x, fmt="{:.2f}": fmt.format(x) if isinstance(x, (int, float)) else "n/a"  # noqa
    for r in results:
        if r.get("error"):
            print(f"| {r['tool']} | failed: {r['error'][:150].replace('|', '/')} | | | | | | |")
            continue
        recall = (f"{r['found']}/{r['planted']} ({100 * r['recall']:.1f}%)" if "recall" in r
                  else "n/a")
        dec = f"{r['decoys_reported']}/{r['decoys_total']}" if "recall" in r else "n/a"
        print(f"| {r['tool']} | {f2(r.get('median_s'))} | {f2(r.get('mb_s'), '{:.0f}')} | "
              f"{f2(r.get('peak_rss_mb'), '{:.0f}')} | {f2(r.get('vs_floor'))} | "
              f"{f2(r.get('vs_keyhound'))} | {recall} | {dec} |")
    print()
    print("| tool | timed runs (s) | CPU s (user+sys) | other load (cores) | exit | findings |")
    print("|---|---|---:|---:|---|---:|")
    for r in results:
        if r.get("error") or "runs_s" not in r:
            continue
        runs_txt = ", ".join(f"{x:.2f}" for x in r["runs_s"])
        if r.get("single_run"):
            runs_txt += " (its warm-up: slower than --slow-s)"
        print(f"| {r['tool']} | {runs_txt} | {r['cpu_s']:.1f} | {r['other_load']:.2f} | "
              f"{','.join(map(str, r['exit_codes']))} | {r.get('findings', 'n/a')} |")
    kh_row = by_tool.get("keyhound")
    if kh_row and (kh_row.get("meta") or {}).get("stats"):
        print(f"\nkeyhound stats: {json.dumps(kh_row['meta']['stats'])}")
    busy = [r["tool"] for r in results if (r.get("other_load") or 0) > 0.3]
    if busy:
        print(f"\nWarning: other processes kept more than 0.3 of a core busy during the runs of "
              f"{', '.join(busy)} (see 'other load'): those timings are disturbed.")
    scored = [r for r in results if "categories" in r]
    if scored:
        print("\nRecall by where the key was planted (found/planted):\n")
        print("| category | " + " | ".join(r["tool"] for r in scored) + " |")
        print("|---|" + "---:|" * len(scored))
        for cat, _w, desc in CATEGORIES:
            cells = []
            for r in scored:
                f, n = r["categories"].get(cat, [0, 0])
                cells.append(f"{f}/{n}")
            print(f"| {cat}: {desc} | " + " | ".join(cells) + " |")
        for r in scored:
            if r["decoy_hits"]:
                kinds: dict = {}
                for h in r["decoy_hits"]:
                    k = kinds.setdefault(h["kind"], [0, set()])
                    k[0] += 1
                    k[1].update(h["rules"])
                print(f"\n{r['tool']} reported decoys: " + ", ".join(
                    f"{k} ×{v[0]} (rule {', '.join(sorted(v[1]))})"
                    for k, v in sorted(kinds.items())))
    status = 0
    if kh_row is not None:
        if kh_row.get("error"):
            print(f"\nkeyhound did not run: {kh_row['error']}")
            status = 1
        elif kh_row.get("missed"):
            status = 1
            print(f"\nkeyhound missed {len(kh_row['missed'])} of {len(plants)} planted keys:")
            for p in kh_row["missed"][:50]:
                print(f"  - [{p['category']}] {p['key']} in {p['path'] or 'a commit message'} "
                      f"({p['context']}) commit {p['commit']} on {p['refs']}")
        if kh_row.get("decoys_reported") or kh_row.get("unexpected"):
            status = 1
            print(f"\nkeyhound reported {kh_row.get('decoys_reported')} decoys and "
                  f"{kh_row.get('unexpected')} other marker-bearing strings")
    if args.json:
        doc = {"repo": str(repo), "shape": shape, "params": manifest and manifest["params"],
               "runs": args.runs, "warmup": args.warmup, "cpus": os.cpu_count(),
               "results": results}
        args.json.write_text(json.dumps(doc, indent=1, default=str))
        print(f"\nwrote {args.json}")
    return status


if __name__ == "__main__":
    sys.exit(main())
