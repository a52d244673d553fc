#!/usr/bin/env python3
"""Peak memory at `-j 2` against `-j 64` (issue 14, point 10: within 10 % on the same input).

Generates its inputs in a temporary folder at run time (nothing realistic, no key), then runs
keyhound on each case at `-j 2` and `-j 64` with KEYHOUND_CORES=64 (so that `-j 64` runs as a
64-core machine runs it, here), and prints each case's peak resident memory (`VmHWM`, read
from `/proc` every few milliseconds while it runs) and the ratio:

1. zip-in-zip: 3 outer zips, each storing one inner zip of about 40 MB (60 deflated members of
   1 MiB of random letters), scanned with `keyhound scan`;
2. a repository of 300 distinct blobs of 1,000,000 bytes, packed, read by `keyhound git` through
   each reader (`packs`, the default; `git`, `git cat-file`; `libgit2`) and with
   `--all-objects`;
3. a repository of 60 distinct blobs of 2 MiB, packed, which the pack reader streams;
4. a folder of 300 files of 1,000,000 bytes, scanned with `keyhound scan` (each file is read
   through a chunk buffer of up to 1 MiB).

Python 3 standard library only, Linux only. `VmHWM` is the peak of keyhound's own process
image; `wait4`'s `ru_maxrss` is not: the kernel carries the peak of the process keyhound was
started from across `exec`, here this script's 14.7 MB, above keyhound's own at `-j 2` on the
folder of files (13.3 MB).

    python3 scripts/bench/workers_memory.py                 # every case, the release build
    python3 scripts/bench/workers_memory.py --cases zip --runs 3 --keyhound target/debug/keyhound
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LETTERS = b"abcdefghijklmnopqrstuvwxyz \n"
# Random bytes to letters: text that deflates to about 60 %, unlike any other member.
TO_TEXT = bytes(LETTERS[i % len(LETTERS)] for i in range(256))
MIB = 1 << 20


def random_text(n: int) -> bytes:
    return os.urandom(n).translate(TO_TEXT)


def make_zips(root: Path) -> Path:
    """3 outer zips, each storing one inner zip of 60 deflated members of 1 MiB."""
    tree = root / "zips"
    tree.mkdir()
    for outer in range(3):
        inner = root / f"inner{outer}.zip"
        with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
            for m in range(60):
                z.writestr(f"member{m:02}.txt", random_text(MIB))
        with zipfile.ZipFile(tree / f"outer{outer}.zip", "w", zipfile.ZIP_STORED) as z:
            z.write(inner, "inner.zip")
        inner.unlink()
    return tree


def make_files(root: Path, count: int, size: int) -> Path:
    """A folder of `count` files of `size` bytes of random letters."""
    tree = root / f"files-{count}x{size}"
    tree.mkdir()
    for i in range(count):
        (tree / f"f{i:03}.txt").write_bytes(random_text(size))
    return tree


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, stdout=subprocess.DEVNULL)


def make_repo(root: Path, count: int, size: int) -> Path:
    """`count` distinct blobs of `size` bytes in one commit, packed with no deltas."""
    repo = root / f"blobs-{count}x{size}"
    repo.mkdir()
    git(repo, "init", "-q")
    for i in range(count):
        (repo / f"f{i:03}.txt").write_bytes(random_text(size))
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com",
        "commit", "-q", "-m", f"{count} blobs of {size} bytes")
    git(repo, "repack", "-a", "-d", "-q", "--window=0")
    git(repo, "prune-packed")
    return repo


def peak_kb(cmd: list[str], cwd: Path, env: dict[str, str]) -> int:
    """The peak resident memory of `cmd` in kB, as last seen while it ran (a peak of its last
    few milliseconds may be missed, never one held while it scans); exits if it failed (exit
    codes over 1)."""
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        peak = 0
        while child.poll() is None:
            peak = max(peak, vm_hwm_kb(child.pid))
            time.sleep(0.003)
        if child.returncode not in (0, 1):
            err.seek(0)
            sys.exit(f"{' '.join(cmd)} exited {child.returncode}: "
                     f"{err.read().decode(errors='replace')}")
    return peak


def vm_hwm_kb(pid: int) -> int:
    """`VmHWM` of process `pid` in kB; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def make(what: str, root: Path) -> Path:
    """Makes input `what` (zips, repo-COUNTxSIZE or files-COUNTxSIZE) under `root` in a child
    process, so this one stays small: the floor of every peak measured (see the module's
    comment)."""
    subprocess.run([sys.executable, __file__, "--make", what, str(root)], check=True)
    return root / (what if what == "zips" else what.replace("repo-", "blobs-"))


def cases(root: Path, chosen: set[str]) -> list[tuple[str, list[str], Path, dict[str, str]]]:
    """(name, keyhound arguments, folder, extra environment) for each case chosen."""
    out = []
    if "zip" in chosen:
        out.append(("zip-in-zip (scan)", ["scan", "."], make("zips", root), {}))
    if chosen & {"packs", "git", "libgit2", "all"}:
        repo = make("repo-300x1000000", root)
        for reader in ("packs", "git", "libgit2"):
            if reader in chosen:
                out.append((f"git, {reader} reader", ["git"], repo,
                            {"KEYHOUND_GIT_READER": reader}))
        if "all" in chosen:
            out.append(("git --all-objects", ["git", "--all-objects"], repo, {}))
    if "streamed" in chosen:
        repo = make(f"repo-60x{2 * MIB}", root)
        out.append(("git, packs reader, blobs of 2 MiB", ["git"], repo, {}))
    if "files" in chosen:
        tree = make("files-300x1000000", root)
        out.append(("300 files of 1 MB (scan)", ["scan", "."], tree, {}))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--keyhound", default=str(REPO / "target/release/keyhound"))
    p.add_argument("--cases", default="zip,packs,git,libgit2,all,streamed,files",
                   help="comma-separated: zip, packs, git, libgit2, all (--all-objects), "
                   "streamed (the pack reader on blobs of 2 MiB, streamed), files (a folder "
                   "of 300 files of 1 MB)")
    p.add_argument("--runs", type=int, default=1, help="runs per setting; the median is shown")
    p.add_argument("--jobs", default="2,64", help="the two -j values compared")
    p.add_argument("--make", nargs=2, metavar=("WHAT", "DIR"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.make:
        what, root = args.make[0], Path(args.make[1])
        if what == "zips":
            make_zips(root)
        elif what.startswith("files-"):
            count, size = what.removeprefix("files-").split("x")
            make_files(root, int(count), int(size))
        else:
            count, size = what.removeprefix("repo-").split("x")
            make_repo(root, int(count), int(size))
        return
    keyhound = str(Path(args.keyhound).resolve())
    low, high = (int(j) for j in args.jobs.split(","))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "KEYHOUND_"))}
    env |= {"KEYHOUND_CORES": "64", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"}
    root = Path(tempfile.mkdtemp(prefix="keyhound-workers-memory-"))
    try:
        chosen = set(args.cases.split(","))
        print(f"| case | -j {low} | -j {high} | ratio |")
        print("| --- | ---: | ---: | ---: |")
        for name, argv, cwd, extra in cases(root, chosen):
            peaks = {}
            for j in (low, high):
                cmd = [keyhound, *argv, "-q", "-j", str(j)]
                runs = sorted(peak_kb(cmd, cwd, env | extra) for _ in range(args.runs))
                peaks[j] = runs[len(runs) // 2]
            ratio = peaks[high] / peaks[low]
            flag = "" if ratio <= 1.10 else " (over 10 %)"
            print(f"| {name} | {peaks[low] / 1000:.1f} MB | {peaks[high] / 1000:.1f} MB | "
                  f"{ratio:.2f}{flag} |", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
