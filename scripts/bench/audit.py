#!/usr/bin/env python3
"""keyhound's audit benchmark: one `keyhound audit` of a folder of repositories against covering
the same repositories one by one.

Three ways over the same N repositories (listed by `keyhound audit --list FOLDER`):

  folder      keyhound audit FOLDER -q --format json -o OUT   once (repositories in parallel)
  audit-each  keyhound audit REPO -q --format json -o OUT     each repository in turn, summed
  git-each    keyhound git REPO -q --format json -o OUT       each in turn, summed (the plain
                                                              history scan, for reference)

Each mode gets one untimed warm-up, then --runs timed runs interleaved across modes (so drift
on a noisy machine hits every mode alike). Reported per mode: median wall time; median CPU time
(user+sys of keyhound and its git children, from GNU time); peak RSS (the highest over the runs
and, one by one, over repositories: GNU time's %M raised to the summed RSS of the process tree
sampled from /proc, run.py's measure()); "other load", the CPU the rest of the machine used
meanwhile; and the distinct keys found (fingerprints: the audit's keys[] and suppressed[], git's
findings[]). Then the speed-up audit-each / folder, and whether the folder audit found exactly
the union of the one-by-one audits' keys (and per repository, as many as were planted).

The repositories (default 8) come from scripts/bench/git_history.py's generator (cargo-shaped
histories: pull-request refs, tags, release branches, keys planted where history hides them) at
scales 0.02-0.25 (about 1.3 GB of unique blobs in all) with different seeds, as bare clones in
bench-data/audit-folder-n<N>-seed<SEED>/repos/<name>.git (git-ignored; reused when present;
about 3-4 minutes to make). Reports, stdout, stderr and GNU time's output of every run are kept
in .../out/. `--folder PATH` benchmarks any folder of clones instead.

Rerun:
  python3 scripts/bench/audit.py                     # build, generate (cached), 3 timed runs
  python3 scripts/bench/audit.py --no-build --runs 5 --json bench-data/audit.json
  python3 scripts/bench/audit.py --folder ~/src/org  # a folder of your own clones

Python 3 standard library only; imports scripts/bench/run.py (timing, peak RSS) and
scripts/bench/git_history.py (the generator).
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.dont_write_bytecode = True  # leave no __pycache__ in the work tree
import git_history as gh  # noqa: E402  (scripts/bench/git_history.py: the generator)
import run as rb  # noqa: E402  (scripts/bench/run.py: measure(), GNU time)

REPO = rb.REPO
KH = REPO / "target" / "release" / "keyhound"
MB = rb.MB
SCALES = (0.02, 0.03, 0.05, 0.08, 0.08, 0.12, 0.15, 0.25)  # cycled when --repos is not 8
SEED = 20240314
MODES = ("folder", "audit-each", "git-each")
TIMEOUT = 1800  # seconds per keyhound run before a kill
OWNER_MARK = ".keyhound-bench"

# --------------------------------------------------------------------------------------------
# The folder of repositories


def repo_specs(n: int) -> list[dict]:
    specs = []
    for i in range(n):
        scale = SCALES[i % len(SCALES)]
        keys = max(20, round(300 * scale))
        specs.append({"name": f"{i + 1:02d}-s{scale:g}", "scale": scale, "seed": SEED + i,
                      "keys": keys, "decoys": max(6, keys // 3)})
    return specs


def load_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def ensure_folder(n: int) -> tuple[Path, dict]:
    """bench-data/audit-folder-n<N>-seed<SEED>/repos holding N generated bare repositories."""
    specs = repo_specs(n)
    root = REPO / "bench-data" / f"audit-folder-n{n}-seed{SEED}"
    params = {"gen_version": gh.GEN_VERSION, "repos": specs}
    meta = load_json(root / "folder.json")
    repos = root / "repos"
    if meta and meta.get("params") == params and all(
            (repos / f"{s['name']}.git").is_dir() for s in specs):
        print(f"reusing {repos} (generated in {meta['generation_s']:.0f} s)", flush=True)
        return repos, meta
    if root.exists() and any(root.iterdir()) and not (root / OWNER_MARK).exists():
        raise SystemExit(f"{root} exists and was not made by this script: remove it")
    for d in (repos, root / "gen"):  # parameters changed: start over
        shutil.rmtree(d, ignore_errors=True)
    repos.mkdir(parents=True)
    (root / OWNER_MARK).write_text("made by scripts/bench/audit.py; safe to delete\n")
    t0 = time.time()
    made = [make_repo(root, s) for s in specs]
    meta = {"params": params, "generation_s": round(time.time() - t0, 1), "repos": made}
    (root / "folder.json").write_text(json.dumps(meta, indent=1))
    print(f"generated {n} repositories in {meta['generation_s']:.0f} s", flush=True)
    return repos, meta


def make_repo(root: Path, s: dict) -> dict:
    """One repository from git_history.py's generator, moved to repos/<name>.git (a real
    directory: `keyhound audit` does not follow symlinks when it searches a folder)."""
    data = root / "gen" / s["name"]  # the generator's manifest stays here, out of the folder
    m = gh.ensure_repo(data, s["scale"], s["seed"], s["keys"], s["decoys"])
    target = root / "repos" / f"{s['name']}.git"
    Path(m["repo"]).rename(target)
    return {"name": s["name"], "path": str(target), "shape": m["shape"],
            "planted": len(m["plants"]), "generation_s": m["generation_s"]}


def list_repos(folder: Path) -> list[str]:
    """The repositories `keyhound audit FOLDER` audits, relative to FOLDER."""
    p = subprocess.run([str(KH), "audit", "--list", str(folder)], capture_output=True,
                       text=True)
    rels = [x for x in p.stdout.splitlines() if x.strip()]
    if p.returncode != 0 or not rels:
        raise SystemExit(f"`keyhound audit --list {folder}` failed (exit {p.returncode}, "
                         f"{len(rels)} lines): {p.stderr.strip()[-600:]}")
    return rels


# --------------------------------------------------------------------------------------------
# Running


def build() -> None:
    print("cargo build --release --locked", flush=True)
    p = subprocess.run(["cargo", "build", "--release", "--locked"], cwd=REPO,
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"cargo build failed:\n{p.stderr[-2000:]}")


def command(mode: str, target: Path, report: Path) -> list[str]:
    sub = "git" if mode == "git-each" else "audit"
    return [str(KH), sub, str(target), "-q", "--format", "json", "-o", str(report)]


def read_report(mode: str, report: Path) -> dict:
    """Fingerprints, keys per repository (audit) and completeness from one JSON report."""
    d = json.loads(report.read_text())
    if mode == "git-each":
        return {"fps": {f["fingerprint"] for f in d["findings"]}, "per_repo": {},
                "incomplete": 0 if d.get("complete") else 1}
    fps = {k["fingerprint"] for k in d["keys"]} | {k["fingerprint"] for k in d["suppressed"]}
    return {"fps": fps, "per_repo": {r["path"]: r["keys"] for r in d["repositories"]},
            "incomplete": d["summary"]["incomplete"], "summary_keys": d["summary"]["keys"]}


def run_one(mode: str, target: Path, rel: str, out: Path, label: str) -> dict:
    report = out / f"{label}.json"
    report.unlink(missing_ok=True)
    cmd = command(mode, target, report)
    m = rb.measure(cmd, out, label, TIMEOUT)
    m.update(cmd=shlex.join(cmd), error=None, fps=set(), per_repo={}, incomplete=0)
    stderr = rb.tail(m["stderr"], 1500)
    if m["timed_out"]:
        m["error"] = f"timed out after {TIMEOUT} s"
    elif m["exit"] not in (0, 1):  # 1: keys found
        m["error"] = f"exit {m['exit']}"
    elif not report.exists() or report.stat().st_size == 0:
        m["error"] = f"no report (exit {m['exit']})"
    else:
        try:
            m.update(read_report(mode, report))
        except (OSError, ValueError, KeyError, TypeError) as e:
            m["error"] = f"unreadable report {report}: {e!r}"
    if mode == "audit-each" and len(m["per_repo"]) == 1:  # the audit root is the repo's parent
        m["per_repo"] = {rel: next(iter(m["per_repo"].values()))}
    m["stderr_text"] = stderr
    return m


def run_mode(mode: str, folder: Path, rels: list[str], out: Path, label: str) -> dict:
    """One pass of a mode: the folder once, or every repository in turn (summed)."""
    if mode == "folder":
        parts = [run_one(mode, folder, ".", out, label)]
    else:
        parts = [run_one(mode, folder / r, r, out, f"{label}-{i + 1:02d}")
                 for i, r in enumerate(rels)]
    wall = sum(p["wall_s"] for p in parts)
    busy = sum(p["other_load"] * p["wall_s"] for p in parts)
    return {"wall_s": wall, "cpu_s": sum(p["cpu_s"] for p in parts),
            "rss_bytes": max(p["rss_bytes"] for p in parts),
            "other_load": busy / wall if wall else 0.0,
            "fps": set().union(*(p["fps"] for p in parts)),
            "per_repo": {k: v for p in parts for k, v in p["per_repo"].items()},
            "incomplete": sum(p["incomplete"] for p in parts),
            "exits": sorted({p["exit"] for p in parts}),
            "errors": [p for p in parts if p["error"]],
            "stderr": [f"{p['cmd']}: {p['stderr_text']}" for p in parts if p["stderr_text"]]}


def report_errors(mode: str, r: dict) -> None:
    for p in r["errors"]:
        print(f"\n{mode} FAILED: {p['error']}\n  command: {p['cmd']}\n  stderr: "
              f"{p['stderr_text'] or '(empty)'}", flush=True)


def run_all(folder: Path, rels: list[str], out: Path, runs: int) -> dict:
    """One warm-up of each mode, then the timed runs interleaved across modes."""
    done: dict = {m: [] for m in MODES}
    failed: set = set()
    for i, timed in [(0, False)] + [(i, True) for i in range(runs)]:
        for mode in MODES:
            if mode in failed:
                continue
            tag = f"run {i + 1}" if timed else "warm-up"
            print(f"{tag}: {mode} ... ", end="", flush=True)
            r = run_mode(mode, folder, rels, out, f"{mode}-{'run' if timed else 'warm'}{i}")
            print(f"{r['wall_s']:.2f} s, CPU {r['cpu_s']:.1f} s, {r['rss_bytes'] / MB:.0f} MB, "
                  f"{len(r['fps'])} keys, exit {r['exits']}, other load {r['other_load']:.2f}",
                  flush=True)
            if r["errors"]:
                report_errors(mode, r)
                failed.add(mode)
            elif timed:
                done[mode].append(r)
    return done


# --------------------------------------------------------------------------------------------
# Results


def summarise(mode: str, rs: list[dict]) -> dict:
    walls = [r["wall_s"] for r in rs]
    return {"mode": mode, "median_wall_s": statistics.median(walls), "runs_s": walls,
            "cpu_s": statistics.median(r["cpu_s"] for r in rs),
            "peak_rss_mb": max(r["rss_bytes"] for r in rs) / MB,
            "other_load": statistics.median(r["other_load"] for r in rs),
            "keys": len(rs[0]["fps"]), "same_keys_every_run": all(r["fps"] == rs[0]["fps"]
                                                                  for r in rs),
            "incomplete": max(r["incomplete"] for r in rs), "exits": rs[0]["exits"],
            "stderr": rs[0]["stderr"][:5]}


def compare(done: dict, planted: dict) -> dict:
    """Keys of the folder audit against the union of the one-by-one runs, and per repository."""
    ref = done["folder"][0] if done.get("folder") else None
    out: dict = {}
    for mode in ("audit-each", "git-each"):
        if ref and done.get(mode):
            fa, fb = ref["fps"], done[mode][0]["fps"]
            out[mode] = {"equal": fa == fb, "only_folder": len(fa - fb), "only_each": len(fb - fa)}
    if ref:
        each = done["audit-each"][0]["per_repo"] if done.get("audit-each") else {}
        out["per_repo"] = {rel: {"folder": n, "audit_each": each.get(rel),
                                 "planted": planted.get(rel)}
                           for rel, n in sorted(ref["per_repo"].items())}
    return out


def print_table(rows: list[dict], n_repos: int, runs: int) -> None:
    print(f"\n{n_repos} repositories, {os.cpu_count()} CPUs, median of {runs} timed runs after "
          f"one warm-up; one-by-one modes are the sum over repositories (peak RSS: the largest).\n")
    print("| mode | median wall (s) | CPU user+sys (s) | peak RSS (MB) | keys found | "
          "timed runs (s) | other load (cores) |")
    print("|---|---:|---:|---:|---:|---|---:|")
    for r in rows:
        print(f"| {r['mode']} | {r['median_wall_s']:.2f} | {r['cpu_s']:.1f} | "
              f"{r['peak_rss_mb']:.0f} | {r['keys']} | "
              f"{', '.join(f'{x:.2f}' for x in r['runs_s'])} | {r['other_load']:.2f} |")


def print_checks(rows: list[dict], cmp: dict) -> dict:
    by = {r["mode"]: r for r in rows}
    ratios = {}
    print()
    if "folder" in by:
        for m in ("audit-each", "git-each"):
            if m in by:
                ratios[m] = by[m]["median_wall_s"] / by["folder"]["median_wall_s"]
                print(f"speed-up of folder over {m} ({m} / folder wall time): {ratios[m]:.2f}x"
                      f" (CPU {by[m]['cpu_s'] / by['folder']['cpu_s']:.2f}x)")
    for m in ("audit-each", "git-each"):
        if m in cmp:
            c = cmp[m]
            print(f"keys of folder == union of {m}: {'yes' if c['equal'] else 'NO'}"
                  f" ({c['only_folder']} only in folder, {c['only_each']} only in {m})")
    bad = {k: v for k, v in cmp.get("per_repo", {}).items()
           if v["audit_each"] != v["folder"] or v["planted"] not in (None, v["folder"])}
    print(f"keys per repository (folder / audit-each / planted): "
          f"{'all agree' if not bad else bad}")
    for r in rows:
        if not r["same_keys_every_run"] or r["incomplete"] or r["stderr"]:
            print(f"note: {r['mode']}: same keys every run {r['same_keys_every_run']}, "
                  f"incomplete {r['incomplete']}, stderr {r['stderr']}")
        if r["other_load"] > 0.3:
            print(f"warning: {r['mode']}: other processes used {r['other_load']:.2f} cores "
                  f"during its runs: timings disturbed")
    return ratios


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repos", type=int, default=8, help="generated repositories (default 8)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per mode (default 3)")
    ap.add_argument("--no-build", action="store_true", help="use target/release/keyhound as is")
    ap.add_argument("--folder", type=Path, help="benchmark this folder of clones instead")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = ap.parse_args()

    if not args.no_build:
        build()
    if not os.access(KH, os.X_OK):
        raise SystemExit(f"{KH} missing: build it or drop --no-build")
    if args.folder:
        folder = args.folder.resolve()
        meta = {"repos": []}
        data = REPO / "bench-data" / f"audit-folder-ext-{folder.name}"
    else:
        folder, meta = ensure_folder(args.repos)
        data = folder.parent
    planted = {Path(r["path"]).name: r["planted"] for r in meta["repos"]}
    out = data / "out"
    out.mkdir(parents=True, exist_ok=True)
    rb.ensure_gnu_time()
    rels = list_repos(folder)
    size = sum(r["shape"]["unique_blob_bytes"] for r in meta["repos"])
    print(f"{folder}: {len(rels)} repositories" +
          (f", {size / MB:.0f} MB of unique blobs" if size else ""), flush=True)
    done = run_all(folder, rels, out, args.runs)
    rows = [summarise(m, done[m]) for m in MODES if done.get(m)]
    print_table(rows, len(rels), args.runs)
    cmp = compare(done, planted)
    ratios = print_checks(rows, cmp)
    failed = [m for m in MODES if not done.get(m)]
    if args.json:
        doc = {"folder": str(folder), "repositories": rels, "generated": meta.get("repos"),
               "keyhound": rb.version_of([str(KH), "--version"]), "cpus": os.cpu_count(),
               "runs": args.runs, "results": rows, "speedup": ratios, "keys": cmp,
               "failed": failed}
        args.json.write_text(json.dumps(doc, indent=1, default=str))
        print(f"\nwrote {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
