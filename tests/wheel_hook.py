#!/usr/bin/env python3
"""Tests the keyhound wheel and the pre-commit hook repository made from pre-commit-mirror/,
offline: pip sees only a folder holding the keyhound wheel (no index).

    python3 tests/wheel_hook.py WHEEL_DIR

WHEEL_DIR holds the keyhound wheel built by maturin (and nothing else keyhound needs). The real
pre-commit framework must be importable (.ci/run puts it on PYTHONPATH).

1. The wheel installs into a fresh venv with `pip install --no-index --find-links WHEEL_DIR
   keyhound`, and `keyhound --version` runs from the venv's bin.
2. A git repository made from pre-commit-mirror/ (its version checked against Cargo.toml's) is
   used as the hook repository, with PIP_NO_INDEX=1 and PIP_FIND_LINKS=WHEEL_DIR: the hook
   environment is installed (timed: it must take under 30 s), a staged key is blocked, and a clean
   commit passes.
"""

import os
import re
import secrets
import shutil
import string
import subprocess
import sys
import tempfile
import time
import venv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUDGET_S = 30.0


def cargo_version():
    with open(os.path.join(ROOT, "Cargo.toml"), encoding="utf-8") as f:
        return re.search(r'^version = "(.*)"$', f.read(), re.M).group(1)


def git(cwd, *args, env=None, check=True):
    base = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null",
                GIT_AUTHOR_NAME="ci", GIT_AUTHOR_EMAIL="ci@example.com",
                GIT_COMMITTER_NAME="ci", GIT_COMMITTER_EMAIL="ci@example.com")
    for var in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE"):
        base.pop(var, None)
    base.update(env or {})
    return subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
                          cwd=cwd, env=base, capture_output=True, text=True, check=check)


def offline_env(wheels, home):
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_FIND_LINKS=wheels, PRE_COMMIT_HOME=home,
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PIP_INDEX_URL", None)
    env.pop("PIP_EXTRA_INDEX_URL", None)
    return env


def key():
    alphabet = string.ascii_letters + string.digits + "-_"
    body = lambda n: "".join(secrets.choice(alphabet) for _ in range(n))
    return "sk-proj-" + body(74) + "T3BlbkFJ" + body(74)


def check_wheel(wheels, tmp):
    env_dir = os.path.join(tmp, "venv")
    venv.create(env_dir, with_pip=True)
    pip = os.path.join(env_dir, "bin", "pip")
    started = time.monotonic()
    subprocess.run([pip, "install", "--quiet", "--no-index", "--find-links", wheels, "keyhound"],
                   env=offline_env(wheels, os.path.join(tmp, "pc")), check=True)
    elapsed = time.monotonic() - started
    out = subprocess.run([os.path.join(env_dir, "bin", "keyhound"), "--version"],
                         capture_output=True, text=True, check=True).stdout.strip()
    if out != f"keyhound {cargo_version()}":
        sys.exit(f"the wheel's keyhound says {out!r}")
    print(f"ok: the wheel installs offline into a fresh venv in {elapsed:.1f}s and runs: {out}")


def mirror_repo(tmp):
    """A git repository holding pre-commit-mirror/, tagged v<version>."""
    backend = open(os.path.join(ROOT, "pre-commit-mirror/keyhound_mirror_backend.py")).read()
    pinned = re.search(r'^KEYHOUND_VERSION = "(.*)"$', backend, re.M).group(1)
    if pinned != cargo_version():
        sys.exit(f"pre-commit-mirror pins keyhound {pinned}, Cargo.toml says {cargo_version()}")
    repo = os.path.join(tmp, "mirror")
    shutil.copytree(os.path.join(ROOT, "pre-commit-mirror"), repo)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "mirror")
    git(repo, "tag", f"v{pinned}")
    return repo, f"v{pinned}"


def check_hooks(wheels, tmp):
    mirror, rev = mirror_repo(tmp)
    project = os.path.join(tmp, "project")
    os.makedirs(project)
    git(project, "init", "-q")
    with open(os.path.join(project, ".pre-commit-config.yaml"), "w") as f:
        f.write(f"repos:\n  - repo: {mirror}\n    rev: {rev}\n    hooks:\n"
                "      - id: keyhound\n      - id: keyhound-commit-msg\n      - id: keyhound-push\n")
    env = offline_env(wheels, os.path.join(tmp, "pre-commit-home"))
    pre_commit = [sys.executable, "-m", "pre_commit"]
    started = time.monotonic()
    p = subprocess.run([*pre_commit, "install-hooks"], cwd=project, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if p.returncode != 0:
        sys.exit(f"pre-commit install-hooks failed:\n{p.stdout}{p.stderr}")
    print(f"ok: hook environment installed offline in {elapsed:.1f}s (budget {BUDGET_S:.0f}s)")
    if elapsed >= BUDGET_S:
        sys.exit(f"the hook environment took {elapsed:.1f}s, over {BUDGET_S:.0f}s")
    p = subprocess.run([*pre_commit, "install", "-t", "pre-commit", "-t", "commit-msg", "-t", "pre-push"],
                       cwd=project, env=env, capture_output=True, text=True, check=True)

    with open(os.path.join(project, "notes.txt"), "w") as f:
        f.write("clean\n")
    git(project, "add", "-A")
    p = git(project, "commit", "-qm", "clean", env=env, check=False)
    if p.returncode != 0:
        sys.exit(f"a clean commit was blocked:\n{p.stdout}{p.stderr}")
    print("ok: a clean commit passes the hooks")

    with open(os.path.join(project, "app.env"), "w") as f:
        f.write(f"OPENAI_API_KEY={key()}\n")
    git(project, "add", "app.env")
    p = git(project, "commit", "-qm", "add config", env=env, check=False)
    if p.returncode == 0:
        sys.exit(f"a staged key was committed:\n{p.stdout}{p.stderr}")
    if "leaked key" not in p.stdout + p.stderr:
        sys.exit(f"the hook did not say why:\n{p.stdout}{p.stderr}")
    print("ok: a staged key is blocked by the keyhound hook from the wheel")


def main():
    wheels = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        check_wheel(wheels, tmp)
        check_hooks(wheels, tmp)


if __name__ == "__main__":
    main()
