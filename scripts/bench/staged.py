#!/usr/bin/env python3
"""keyhound's pre-commit benchmark: `keyhound git --staged` against `git diff --cached` and peers.

1. Generates (or reuses) a seeded work tree of 3,000 source-like text files in nested
   directories, committed once, and copies it into one repository per scenario, each with its
   changes staged: (a) one file with a small edit, (a-key) the same plus a line holding one
   OpenAI key, (b) 500 files with small edits, (c) one new 100 MB text file.
2. Times, with a warm cache, `git diff --cached --quiet` (the floor), `keyhound git --staged`,
   betterleaks, gitleaks and Kingfisher in their staged modes: hyperfine when it is on PATH
   (`--export-json`), else a loop timed with time.perf_counter; median and minimum.
3. Prints a Markdown table per scenario and checks keyhound's exit codes (1 with the key, 0
   without).

Python 3 standard library only; reuses scripts/bench/run.py (filler text, keys, paths, peers,
timing helpers). See scripts/bench/README.md. No key literal is written here: the one key is
built at run time from a seeded RNG.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.dont_write_bytecode = True  # leave no __pycache__ in the work tree
import run as rb  # noqa: E402  (scripts/bench/run.py)

REPO = rb.REPO
GEN_VERSION = 4  # bump whenever the generated repositories change, so old ones are regenerated
MB = rb.MB

# File kinds of the work tree and their shares (run.py's filler templates)
KIND_WEIGHTS = [("py", 24), ("js", 20), ("go", 10), ("rs", 15), ("md", 10), ("json", 8),
                ("yaml", 8), ("env", 2), ("log", 3)]
AREAS = ["services", "libs", "apps", "tools", "packages"]
SCENARIOS = {
    "a": "one staged file (a small edit)",
    "a-key": "(a) plus one line holding an OpenAI key",
    "b": "{edits} staged files (small edits)",
    "c": "one staged {big_mb} MB text file (new)",
}
TOOLS = ["floor", "keyhound", "betterleaks", "gitleaks", "kingfisher"]
# exit codes that mean "ran fine" (found something or not); anything else is a failure
OK_EXITS = {"floor": {0, 1}, "keyhound": {0, 1}, "betterleaks": {0, 1}, "gitleaks": {0, 1},
            "kingfisher": {0, 200, 205}}
GIT_ENV = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid",
           "GIT_AUTHOR_DATE": "1717000000 +0000", "GIT_COMMITTER_DATE": "1717000000 +0000"}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# --------------------------------------------------------------------------------------------
# Generation


def git(cwd: Path, *args: str, data: bytes | None = None) -> bytes:
    env = dict(os.environ, **GIT_ENV)
    r = subprocess.run(["git", *args], cwd=cwd, input=data, capture_output=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} in {cwd}: {r.stderr.decode(errors='replace')}")
    return r.stdout


def pool_lines(rng: random.Random, pool: bytes, k: int) -> bytes:
    """k whole lines from a random place in `pool`."""
    start = pool.find(b"\n", rng.randrange(len(pool) // 2)) + 1
    end = start
    for _ in range(k):
        end = pool.find(b"\n", end) + 1
    return pool[start:end]


def small_edit(rng: random.Random, data: bytes, pool: bytes) -> bytes:
    """A small edit: 1 to 8 lines inserted at a random line, or one line replaced by them."""
    while True:
        lines = data.split(b"\n")
        at = rng.randrange(len(lines))
        new = pool_lines(rng, pool, rng.randint(1, 8)).rstrip(b"\n").split(b"\n")
        if rng.random() < 0.5 and len(lines) > 1:
            lines[at:at + 1] = new
        else:
            lines[at:at] = new
        out = b"\n".join(lines)
        if out != data:
            return out


def tree_path(rng: random.Random, kind: str, proj: str, mods: list) -> str:
    """A path in a monorepo-like tree: a project, one of its modules, sometimes a sub-package."""
    mod = rng.choice(mods[:5])
    sub = rng.choice(["", "", "", "", "internal/", "models/"])
    name = "_".join(rng.choices(rb.WORDS, k=rng.randint(1, 2)))
    return {
        "py": lambda: f"{proj}/src/{proj.split('/')[1]}/{mod}/{sub}{name}.py",
        "js": lambda: f"{proj}/web/src/{mod}/{sub}{name.replace('_', '-')}.js",
        "go": lambda: f"{proj}/internal/{mod}/{name}.go",
        "rs": lambda: f"{proj}/crates/{mod}/src/{sub}{name}.rs",
        "md": lambda: f"{proj}/docs/{rng.choice(['', 'guides/', 'reference/'])}{name}.md",
        "json": lambda: f"{proj}/config/{rng.choice(['', 'fixtures/'])}{name}.json",
        "yaml": lambda: f"{proj}/deploy/{rng.choice(['', 'k8s/', 'helm/templates/'])}{name}.yaml",
        "env": lambda: rng.choice([f"{proj}/config/{name}.env", f"{proj}/src/{mod}/.env"]),
        "log": lambda: f"{proj}/testdata/logs/{name}.log",
    }[kind]()


class Generator:
    def __init__(self, root: Path, params: dict):
        self.root, self.p = root, params
        seed = params["seed"]
        t0 = time.perf_counter()
        self.pools = {k: rb.build_pool(random.Random(f"{seed}:pool:{k}"), k, 1_500_000)
                      for k, _ in KIND_WEIGHTS}
        print(f"  filler pools ready in {time.perf_counter() - t0:.1f} s", flush=True)

    def base(self) -> list:
        """The work tree, committed once and packed; returns [(path, kind)]."""
        p, seed = self.p, self.p["seed"]
        base = self.root / "base"
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        rng = random.Random(f"{seed}:tree")
        counts = rb.largest_remainder(p["files"], [w for _, w in KIND_WEIGHTS])
        kinds = [k for (k, _), n in zip(KIND_WEIGHTS, counts) for _ in range(n)]
        rng.shuffle(kinds)
        projects = {f"{rng.choice(AREAS)}/{w}": rng.sample(rb.WORDS, 8)
                    for w in rng.sample(rb.WORDS, 8)}
        names = sorted(projects)
        files, total, seen = [], 0, set()
        for kind in kinds:
            path = ""
            while not path or path in seen:
                proj = rng.choice(names)
                path = tree_path(rng, kind, proj, projects[proj])
            seen.add(path)
            size = rb.loguniform(rng, 300, 60_000)
            data = rb.sample_slices(rng, self.pools[kind], size)
            assert rb.MARKER_B not in data
            f = base / path
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(data)
            files.append((path, kind))
            total += len(data)
        git(base, "init", "-q", "-b", "main")
        for k, v in (("gc.auto", "0"), ("core.autocrlf", "false"), ("user.name", "Bench"),
                     ("user.email", "bench@example.invalid"), ("maintenance.auto", "false")):
            git(base, "config", k, v)
        git(base, "add", "-A")
        git(base, "commit", "-q", "-m", "Initial import")
        git(base, "gc", "-q")
        dirs = {str(Path(f).parent) for f, _ in files}
        print(f"  base: {len(files)} files, {total / MB:.1f} MB, {len(dirs)} directories",
              flush=True)
        return files, total

    def scenario(self, name: str, files: list) -> dict:
        """A copy of the base repository with the scenario's changes staged."""
        p, seed = self.p, self.p["seed"]
        dst = self.root / name
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(self.root / "base", dst, symlinks=True)
        git(dst, "update-index", "-q", "--refresh")  # the copy has new inodes: refresh the index
        info: dict = {"name": name}
        changed: list[str] = []
        if name in ("a", "a-key"):
            rng = random.Random(f"{seed}:scenario:a")  # a-key makes the same edit as a
            py = sorted(f for f, k in files if k == "py")
            path = rng.choice(py)
            f = dst / path
            data = small_edit(rng, f.read_bytes(), self.pools["py"])
            if name == "a-key":
                kr = random.Random(f"{seed}:key")
                key = rb.make_key(kr, "proj", set())
                lines = data.split(b"\n")
                at = kr.randrange(1, len(lines))
                line = rb.CONTEXTS["py"][0][1].replace("{k}", key)  # OPENAI_API_KEY = "..."
                lines[at:at] = [line.encode()]
                data = b"\n".join(lines)
                info.update(key=key, key_line=at + 1)
            f.write_bytes(data)
            changed = [path]
        elif name == "b":
            rng = random.Random(f"{seed}:scenario:b")
            picks = rng.sample(sorted(files), p["edits"])
            for path, kind in picks:
                f = dst / path
                f.write_bytes(small_edit(rng, f.read_bytes(), self.pools[kind]))
            changed = sorted(path for path, _ in picks)
        elif name == "c":
            rng = random.Random(f"{seed}:scenario:c")
            # a data dump, as JSON (run.py's log lines would make the peers' generic-api-key rule
            # report thousands of `token request_id=<uuid>` lines, and time their reporting)
            projects = sorted({"/".join(f.split("/")[:2]) for f, _ in files})
            path = f"{rng.choice(projects)}/testdata/fixtures/export_{rng.getrandbits(32):08x}.json"
            size = p["big_mb"] * MB
            body = rb.sample_slices(rng, self.pools["json"], size)
            body = body[:body.rfind(b"\n", 0, size - 5) + 1]  # whole lines, 100 MB at most
            data = b"[\n" + body.rstrip(b",\n") + b"\n]\n"
            assert rb.MARKER_B not in data
            (dst / path).parent.mkdir(parents=True, exist_ok=True)
            (dst / path).write_bytes(data)
            changed = [path]
        git(dst, "add", "--pathspec-from-file=-", "--pathspec-file-nul",
            data=b"\0".join(c.encode() for c in changed))
        staged = staged_paths(dst)
        if sorted(staged) != sorted(changed):
            raise RuntimeError(f"{name}: staged {len(staged)} paths, expected {len(changed)}")
        if git(dst, "status", "--porcelain", "--untracked-files=all").strip() != b"".join(
                b"M  " + c.encode() + b"\n" if name != "c" else b"A  " + c.encode() + b"\n"
                for c in sorted(changed)).strip():
            raise RuntimeError(f"{name}: the work tree differs from the index")
        info.update(paths=changed[:5], staged=len(changed),
                    staged_bytes=sum((dst / c).stat().st_size for c in changed),
                    fingerprint=fingerprint(dst))
        return info


def staged_paths(repo: Path) -> list[str]:
    out = git(repo, "diff", "--cached", "--name-only", "-z", "--no-renames")
    return [x.decode() for x in out.split(b"\0") if x]


def fingerprint(repo: Path) -> str:
    """HEAD and what the index stages: the state every timed run must find unchanged."""
    h = hashlib.sha256(git(repo, "rev-parse", "HEAD"))
    h.update(git(repo, "diff", "--cached", "--raw", "-z", "--no-abbrev"))
    return h.hexdigest()


def loose_objects(repo: Path) -> int:
    out = git(repo, "count-objects", "-v").decode()
    return int(re.search(r"^count: (\d+)", out, re.M).group(1))


def ensure_data(data: Path, params: dict, scenarios: list[str]) -> dict:
    name = f"staged-f{params['files']}-e{params['edits']}-m{params['big_mb']}-seed{params['seed']}"
    root = data / name
    mpath = root / "manifest.json"
    want = dict(params, gen_version=GEN_VERSION, run_gen_version=rb.GEN_VERSION)
    manifest = None
    if mpath.exists():
        try:
            manifest = json.loads(mpath.read_text())
        except ValueError:
            manifest = None
    if not manifest or manifest.get("params") != want or not (root / "base" / ".git").is_dir():
        print(f"generating {root}", flush=True)
        data.mkdir(parents=True, exist_ok=True)
        marker = data / ".keyhound-bench"
        if not marker.exists():
            marker.write_text("Made by scripts/bench/run.py; safe to delete\n")
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        manifest = {"params": want, "scenarios": {}}
        gen = Generator(root, params)
        files, total = gen.base()
        manifest.update(files=files, base_bytes=total)
        mpath.write_text(json.dumps(manifest))
    else:
        gen = None
    for s in scenarios:
        info = manifest["scenarios"].get(s)
        ok = info and (root / s / ".git").is_dir()
        if ok:
            try:
                ok = fingerprint(root / s) == info["fingerprint"]
            except RuntimeError:
                ok = False
        if not ok:
            print(f"preparing scenario {s}", flush=True)
            gen = gen or Generator(root, params)
            t0 = time.perf_counter()
            manifest["scenarios"][s] = gen.scenario(s, [tuple(f) for f in manifest["files"]])
            mpath.write_text(json.dumps(manifest))
            print(f"  {s}: {manifest['scenarios'][s]['staged']} staged, "
                  f"{size_txt(manifest['scenarios'][s]['staged_bytes'])} "
                  f"({time.perf_counter() - t0:.1f} s)", flush=True)
    manifest["root"] = str(root)
    return manifest


# --------------------------------------------------------------------------------------------
# Tools and timing


def tool_cmds(tools: list[str], args, out_dir: Path) -> tuple[dict, dict, dict]:
    """{tool: argv with the placeholder REPO}, versions, errors."""
    cmds, versions, errors = {}, {}, {}
    if "floor" in tools:
        cmds["floor"] = ["git", "-C", "REPO", "diff", "--cached", "--quiet"]
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
        cmds["keyhound"] = [str(kh), "git", "--staged", "REPO"]
        versions["keyhound"] = rb.version_of([str(kh), "--version"])
    peers = [t for t in ("betterleaks", "gitleaks", "kingfisher") if t in tools]
    if peers:
        bins = rb.ensure_peers(args.peers.resolve(), peers, out_dir / "peers-install.log")
        for t in peers:
            if t not in bins:
                errors[t] = "not installed (see out/peers-install.log)"
                continue
            b = bins[t]
            if t == "betterleaks":  # `git diff --staged`: the added lines of the staged changes
                cmds[t] = [b, "git", "REPO", "--staged", "--no-banner"]
                versions[t] = rb.version_of([b, "--version"])
            elif t == "gitleaks":  # `git diff --staged` (the same as `gitleaks protect --staged`)
                cmds[t] = [b, "git", "REPO", "--staged", "--no-banner"]
                versions[t] = rb.version_of([b, "version"])
            else:  # Kingfisher: a temporary commit of the index, diffed against HEAD; its hook's
                # flags, plus no validation (there is no network)
                cmds[t] = [b, "scan", "REPO", "--staged", "--quiet", "--no-validate",
                           "--no-update-check"]
                versions[t] = rb.version_of([b, "--version"])
    return cmds, versions, errors


def on(cmd: list[str], repo: Path) -> list[str]:
    return [str(repo) if a == "REPO" else a for a in cmd]


def own_summary(tool: str, text: str) -> tuple[str, str]:
    """What the tool says it read, and how many findings it reports, from its own output."""
    text = ANSI.sub("", text)
    read = {"keyhound": r"Scanned (.*?) in [0-9.]+ s",
            "gitleaks": r"scanned ~?\S+ bytes \(([^)]*)\)",
            "betterleaks": r"scanned ~?\S+ bytes \(([^)]*)\)",
            "kingfisher": r"Bytes Scanned\.*: (.+)"}.get(tool)
    found = {"keyhound": r": (\d+) findings?\.",
             "gitleaks": r"leaks found: (\d+)", "betterleaks": r"leaks found: (\d+)",
             "kingfisher": r"Findings\.*: (\d+)"}.get(tool)
    m = re.findall(read, text) if read else []
    n = re.findall(found, text) if found else []
    if not n and tool in ("gitleaks", "betterleaks") and "no leaks found" in text:
        n = ["0"]
    return (m[-1].strip() if m else ""), (n[-1] if n else "")


def time_hyperfine(hf: str, cmds: dict, repo: Path, runs: int, warmup: int, rounds: int,
                   out_dir: Path, label: str) -> dict:
    """Runs split over `rounds` hyperfine invocations, tool order rotated each round, so that
    a busy neighbour does not land on one tool's block of runs alone."""
    res = {t: {"times": [], "exits": []} for t in cmds}
    names = list(cmds)
    per = [runs // rounds + (1 if i < runs % rounds else 0) for i in range(rounds)]
    for r, n in enumerate(x for x in per if x > 0):
        order = names[r % len(names):] + names[:r % len(names)]
        js = out_dir / f"{label}-hyperfine-{r}.json"
        argv = [hf, "-N", "-i", "--style", "basic", "--runs", str(n),
                "--warmup", str(warmup if r == 0 else 0), "--export-json", str(js)]
        for t in order:
            argv += ["-n", t, shlex.join(on(cmds[t], repo))]
        with open(out_dir / f"{label}-hyperfine-{r}.log", "wb") as fh:
            rc = subprocess.run(argv, cwd=repo, stdout=fh, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL).returncode
        if rc != 0:
            raise RuntimeError(f"hyperfine exited {rc}: {rb.tail(fh.name, 600)}")
        for it in json.loads(js.read_text())["results"]:
            res[it["command"]]["times"] += it["times"]
            res[it["command"]]["exits"] += it.get("exit_codes") or []
    return res


def time_loop(cmds: dict, repo: Path, runs: int, warmup: int, timeout: float) -> dict:
    """Interleaved runs, timed around the child's whole life with time.perf_counter."""
    res = {t: {"times": [], "exits": []} for t in cmds}
    names = list(cmds)
    for r in range(warmup + runs):
        order = names[r % len(names):] + names[:r % len(names)]
        for t in order:
            t0 = time.perf_counter()
            rc = run_once(on(cmds[t], repo), repo, timeout)
            dt = time.perf_counter() - t0
            if r >= warmup:
                res[t]["times"].append(dt)
                res[t]["exits"].append(rc)
    return res


def run_once(cmd: list[str], cwd: Path, timeout: float) -> int | str:
    """Runs cmd, waiting for it in one blocking wait4 (a timer kills it past `timeout`): its
    exit code, or "timeout". subprocess.run(timeout=...) polls instead, sleeping 1, 2, 4, 8 ms
    in turn, which rounded every run up to about 3.4, 7.4 or 15.4 ms (a 1.7 ms floor read 3.4)."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    timed_out = threading.Event()

    def kill():
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    _, status, _ = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    timer.cancel()
    return "timeout" if timed_out.is_set() else proc.returncode


def size_txt(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n / 1000:.1f} kB"


def children_cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def fmt_exits(exits: list) -> str:
    vals = sorted(set(map(str, exits)))
    if len(vals) <= 1:
        return vals[0] if vals else "?"
    return "/".join(f"{v} ({exits.count(int(v) if v.isdigit() else v)}×)" for v in vals)


# --------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO / "bench-data",
                    help="where the repositories (DATA/staged-*) and reports go")
    ap.add_argument("--seed", type=int, default=20240314)
    ap.add_argument("--files", type=int, default=3000, help="files in the work tree (3000)")
    ap.add_argument("--edits", type=int, default=500, help="files edited in scenario b (500)")
    ap.add_argument("--big-mb", type=int, default=100, help="size of c's file, 10^6 B (100)")
    ap.add_argument("--scenarios", default="a,a-key,b,c", help="comma-separated subset")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset")
    ap.add_argument("--runs", type=int, default=30, help="timed runs in a, a-key, b (30)")
    ap.add_argument("--runs-large", type=int, default=5, help="timed runs in c (5)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed runs per tool first (2; 1 in c)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="hyperfine invocations the runs are split over, tool order rotated (3)")
    ap.add_argument("--no-hyperfine", action="store_true", help="time with a Python loop")
    ap.add_argument("--no-build", action="store_true", help="use target/release/keyhound as is")
    ap.add_argument("--peers", type=Path, default=REPO / ".peers")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per run before a kill")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    ap.add_argument("--generate-only", action="store_true")
    args = ap.parse_args()

    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    bad = [s for s in scenarios if s not in SCENARIOS]
    if bad:
        ap.error(f"unknown scenario(s) {bad}; choose from {list(SCENARIOS)}")
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    bad = [t for t in tools if t not in TOOLS]
    if bad:
        ap.error(f"unknown tool(s) {bad}; choose from {TOOLS}")
    params = {"seed": args.seed, "files": args.files, "edits": args.edits, "big_mb": args.big_mb}
    data = args.data.resolve()
    need_gb = (args.files * 25_000 * 6 + args.big_mb * MB * 2) / 1e9
    free_gb = shutil.disk_usage(data if data.exists() else data.parent).free / 1e9
    if free_gb < need_gb + 1:
        print(f"not enough disk: {free_gb:.1f} GB free, about {need_gb + 1:.1f} GB needed")
        return 2
    manifest = ensure_data(data, params, scenarios)
    if args.generate_only:
        return 0
    root = Path(manifest["root"])
    out_dir = root / "out"
    out_dir.mkdir(exist_ok=True)

    cmds, versions, errors = tool_cmds(tools, args, out_dir)
    hf = None if args.no_hyperfine else shutil.which("hyperfine")
    if hf:
        versions["hyperfine"] = rb.version_of([hf, "--version"])
    if not os.access(rb.GNU_TIME, os.X_OK):
        print("note: no GNU time (/usr/bin/time); peak RSS is wait4's, runner included")
    print("timing with " + (versions.get("hyperfine", "hyperfine") if hf else
                            "a Python loop (time.perf_counter)"), flush=True)

    results, failures = {}, []
    for s in scenarios:
        repo = root / s
        info = manifest["scenarios"][s]
        large = s == "c"
        runs = args.runs_large if large else args.runs
        warmup = min(args.warmup, 1) if large else args.warmup
        title = SCENARIOS[s].format(**params)
        print(f"\n== ({s}) {title}: {info['staged']} staged, {size_txt(info['staged_bytes'])}",
              flush=True)
        fp0, loose0 = info["fingerprint"], loose_objects(repo)
        rows: dict = {}
        live = {}
        # one check run per tool under GNU time: exit code, peak RSS, what it says it scanned
        for t, cmd in cmds.items():
            if t in errors:
                continue
            m = rb.measure(on(cmd, repo), out_dir, f"{s}-{t}", args.timeout)
            text = Path(m["stdout"]).read_text(errors="replace") + \
                Path(m["stderr"]).read_text(errors="replace")
            rows[t] = {"check_exit": m["exit"], "check_ms": m["wall_s"] * 1000,
                       "rss_mb": m["rss_bytes"] / MB}
            rows[t]["scanned"], rows[t]["findings"] = own_summary(t, text)
            if m["timed_out"] or m["exit"] not in OK_EXITS[t]:
                rows[t]["error"] = (f"exit {m['exit']}{' (timed out)' if m['timed_out'] else ''}"
                                    f": {rb.tail(m['stderr'], 300)}")
            else:
                live[t] = cmd
            if t == "keyhound" and s == "a-key" and info["paths"][0] not in text:
                rows[t]["error"] = f"keyhound's output does not name {info['paths'][0]}"
        busy0, cpu0, t0 = rb.busy_cpu_s(), children_cpu_s(), time.perf_counter()
        method = "hyperfine" if hf else "loop"
        try:
            if not live:
                timed = {}
            elif hf:
                timed = time_hyperfine(hf, live, repo, runs, warmup, max(1, min(args.rounds, runs)),
                                       out_dir, s)
            else:
                timed = time_loop(live, repo, runs, warmup, args.timeout)
        except RuntimeError as e:
            print(f"  hyperfine failed ({e}); timing with a Python loop", flush=True)
            method = "loop"
            timed = time_loop(live, repo, runs, warmup, args.timeout)
        wall = time.perf_counter() - t0
        other = max(0.0, (rb.busy_cpu_s() - busy0) - (children_cpu_s() - cpu0)) / max(wall, 1e-9)
        for t, r in timed.items():
            ts = r["times"]
            rows[t].update(median_ms=statistics.median(ts) * 1000, min_ms=min(ts) * 1000,
                           runs=len(ts), exits=r["exits"])
        # the scenario must be as it was: nothing the tools did may change what is staged
        fp1, loose1 = fingerprint(repo), loose_objects(repo)
        notes = []
        if fp1 != fp0:
            notes.append("the staged state changed during the runs")
            failures.append(f"({s}): the staged state changed during the runs")
        if loose1 > loose0:
            notes.append(f"{loose1 - loose0} loose objects were written into the repository "
                         "during the runs (Kingfisher's temporary commits); pruned")
            git(repo, "prune", "--expire=now")
        # keyhound's verdict: 1 with the key, 0 without
        want = 1 if s == "a-key" else 0
        kh = rows.get("keyhound")
        if kh:
            got = set(kh.get("exits") or []) | {kh["check_exit"]}
            if got != {want}:
                failures.append(f"({s}): keyhound exited {sorted(map(str, got))}, expected {want}")
            if kh.get("error"):
                failures.append(f"({s}): keyhound: {kh['error']}")
        results[s] = {"title": title, "staged": info["staged"],
                      "staged_bytes": info["staged_bytes"],
                      "runs": runs, "warmup": warmup, "method": method, "other_load": other,
                      "rows": rows, "notes": notes}
        print_table(s, results[s], cmds, errors)

    # --- summary
    print("\n## Commands (REPO is the scenario's work tree)\n")
    print("| tool | version | command |\n|---|---|---|")
    for t in TOOLS:
        if t in cmds:
            print(f"| {t} | {versions.get(t, '?')} | `{shlex.join(cmds[t])}` |")
        elif t in errors:
            print(f"| {t} | | {errors[t]} |")
    if "a" in results:
        rw = results["a"]["rows"]
        if "median_ms" in rw.get("keyhound", {}) and "median_ms" in rw.get("floor", {}):
            k, f = rw["keyhound"], rw["floor"]
            ratio = k["median_ms"] / f["median_ms"]
            print(f"\nTarget (issue): keyhound ≤ 4× the floor in (a): {ratio:.2f}× — "
                  f"{'met' if ratio <= 4 else 'NOT met'} (median {k['median_ms']:.1f} ms vs "
                  f"{f['median_ms']:.1f} ms; min {k['min_ms']:.1f} vs {f['min_ms']:.1f} ms, "
                  f"{k['min_ms'] / f['min_ms']:.2f}×)")
    print(f"\nMachine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at the end")
    if args.json:
        args.json.write_text(json.dumps({"params": params, "versions": versions,
                                         "commands": cmds, "errors": errors,
                                         "results": results, "failures": failures}, indent=1))
    if failures:
        print("\nFAILED:\n" + "\n".join("  " + f for f in failures))
        return 1
    return 0


def print_table(s: str, res: dict, cmds: dict, errors: dict) -> None:
    rows = res["rows"]
    floor = rows.get("floor", {}).get("median_ms")
    kh = rows.get("keyhound", {}).get("median_ms")
    print(f"\n### ({s}) {res['title']}\n")
    print(f"{res['staged']} staged file(s), {size_txt(res['staged_bytes'])}; {res['runs']} "
          f"timed runs per tool after {res['warmup']} warm-up(s), {res['method']}; other load "
          f"on the machine meanwhile: {res['other_load']:.2f} cores\n")
    print("| tool | median ms | min ms | × floor | × keyhound | exit | peak RSS MB | findings "
          "| read (its own words) |")
    print("|---|---:|---:|---:|---:|---|---:|---:|---|")
    for t in TOOLS:
        if t in errors:
            print(f"| {t} | – | – | – | – | {errors[t]} | – | | |")
            continue
        r = rows.get(t)
        if r is None:
            continue
        if "median_ms" not in r:
            err = r.get("error", "?")
            print(f"| {t} | – | – | – | – | {err} | {r['rss_mb']:.0f} | | |")
            continue
        med = r["median_ms"]
        xf = f"{med / floor:.1f}" if floor else "–"
        xk = f"{med / kh:.2f}" if kh else "–"
        ex = fmt_exits(r["exits"])
        if str(r["check_exit"]) != ex:
            ex += f" (check run: {r['check_exit']})"
        print(f"| {t} | {med:.1f} | {r['min_ms']:.1f} | {xf} | {xk} | {ex} | "
              f"{r['rss_mb']:.0f} | {r['findings']} | {r['scanned']} |")
    for n in res["notes"]:
        print(f"\nNote: {n}")
    if res["other_load"] > 0.3:
        print(f"\nWarning: other processes used {res['other_load']:.2f} of the 2 cores meanwhile;"
              " the minimum is the steadier figure")


if __name__ == "__main__":
    sys.exit(main())
