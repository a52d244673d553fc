#!/usr/bin/env python3
"""Tests scripts/install-action.sh (the GitHub Action's installer) against a local HTTP server
on loopback serving a real release archive of the keyhound binary given as argument 1:

- the pinned digest matches: installed, `keyhound --version` runs, the folder is on GITHUB_PATH;
- a wrong digest, a truncated download, a 404: each fails with a clear message, nothing installed;
- plain http:// to another host is refused;
- a pinned version other than Cargo.toml's builds from the action's source (cargo stubbed here).

Run from .ci/run: python3 tests/install_action.py target/release/keyhound
Prints how long the good install took.
"""

import hashlib
import http.server
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = "x86_64-unknown-linux-musl"


def cargo_version():
    with open(os.path.join(ROOT, "Cargo.toml"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("version = "):
                return line.split('"')[1]
    sys.exit("no version in Cargo.toml")


def archive(binary, version):
    """The release archive as the release workflow makes it: keyhound-TARGET-vVERSION/keyhound."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tar.gettarinfo(binary, arcname=f"keyhound-{TARGET}-v{version}/keyhound")
        info.mode = 0o755
        with open(binary, "rb") as f:
            tar.addfile(info, f)
    return buf.getvalue()


class Handler(http.server.BaseHTTPRequestHandler):
    files = {}  # path -> bytes
    truncate = set()  # paths sent with their full length announced but half the body

    def do_GET(self):
        data = self.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2] if self.path in self.truncate else data)
        if self.path in self.truncate:
            self.close_connection = True

    def log_message(self, *args):
        pass


def action_dir(tmp, version, digests):
    """A copy of the action: the script, Cargo.toml and action-digests.txt pinning `digests`."""
    d = os.path.join(tmp, "action")
    os.makedirs(os.path.join(d, "scripts"))
    shutil.copy(os.path.join(ROOT, "scripts/install-action.sh"), os.path.join(d, "scripts"))
    shutil.copy(os.path.join(ROOT, "Cargo.toml"), d)
    with open(os.path.join(d, "action-digests.txt"), "w") as f:
        f.write(f"version {version}\n")
        for name, digest in digests.items():
            f.write(f"{digest}  {name}\n")
    return d


def run(tmp, action, base, env_extra=None):
    dest = os.path.join(tmp, "bin")
    github_path = os.path.join(tmp, "github_path")
    open(github_path, "w").close()
    env = dict(os.environ, GITHUB_PATH=github_path, HOME=os.path.join(tmp, "home"))
    env.pop("CARGO_HOME", None)
    env.update(env_extra or {})
    started = time.monotonic()
    p = subprocess.run(
        ["bash", os.path.join(action, "scripts/install-action.sh"), base, dest],
        env=env, capture_output=True, text=True,
    )
    elapsed = time.monotonic() - started
    on_path = open(github_path).read()
    return p, dest, on_path, elapsed


def expect_failure(name, p, dest, on_path, needle):
    if p.returncode == 0:
        sys.exit(f"{name}: the install succeeded:\n{p.stderr}")
    if needle not in p.stderr:
        sys.exit(f"{name}: the message does not say {needle!r}:\n{p.stderr}")
    if os.path.exists(os.path.join(dest, "keyhound")) or on_path:
        sys.exit(f"{name}: something was installed or put on PATH")
    print(f"ok: {name}: {p.stderr.strip().splitlines()[-1]}")


def main():
    binary = os.path.abspath(sys.argv[1])
    version = cargo_version()
    data = archive(binary, version)
    name = f"keyhound-{TARGET}-v{version}.tar.gz"
    good = hashlib.sha256(data).hexdigest()
    Handler.files = {f"/v{version}/{name}": data, f"/short/v{version}/{name}": data}
    Handler.truncate = {f"/short/v{version}/{name}"}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    with tempfile.TemporaryDirectory() as tmp:
        p, dest, on_path, elapsed = run(tmp, action_dir(tmp, version, {name: good}), base)
        if p.returncode != 0:
            sys.exit(f"good digest: the install failed:\n{p.stderr}")
        out = subprocess.run([os.path.join(dest, "keyhound"), "--version"], capture_output=True, text=True)
        if out.stdout.strip() != f"keyhound {version}" or on_path.strip() != dest:
            sys.exit(f"good digest: {out.stdout!r}, GITHUB_PATH {on_path!r}")
        print(f"ok: good digest: installed and ran `keyhound --version` in {elapsed:.2f}s")

    cases = [
        ("wrong digest", {name: "0" * 64}, base, "does not match the digest pinned"),
        ("truncated download", {name: good}, base + "/short", "cannot download"),
        ("404", {f"keyhound-{TARGET}-v{version}.tar.gz": good}, base + "/missing", "cannot download"),
        ("plain http to another host", {name: good}, "http://example.com", "refusing plain http://"),
    ]
    for label, digests, url, needle in cases:
        with tempfile.TemporaryDirectory() as tmp:
            p, dest, on_path, _ = run(tmp, action_dir(tmp, version, digests), url)
            expect_failure(label, p, dest, on_path, needle)

    # A pinned version other than the source's: cargo builds it (a stub here, writing a binary).
    with tempfile.TemporaryDirectory() as tmp:
        stub = os.path.join(tmp, "stub")
        os.makedirs(stub)
        with open(os.path.join(stub, "cargo"), "w") as f:
            f.write('#!/bin/sh\nroot="$(echo "$@" | sed -n \'s/.*--root \\([^ ]*\\).*/\\1/p\')"\n'
                    f'mkdir -p "$root/bin"\nprintf \'#!/bin/sh\\necho "keyhound {version}"\\n\' > "$root/bin/keyhound"\n'
                    'chmod +x "$root/bin/keyhound"\necho "$@" > "$root/cargo-args"\n')
        os.chmod(os.path.join(stub, "cargo"), 0o755)
        env = {"PATH": stub + os.pathsep + os.environ["PATH"]}
        p, dest, on_path, _ = run(tmp, action_dir(tmp, "0.0.1", {name: good}), base, env)
        if p.returncode != 0 or "building keyhound from the action's source" not in p.stderr:
            sys.exit(f"other version: no source build:\n{p.stderr}")
        args = open(os.path.join(tmp, "home/.cargo/cargo-args")).read()
        if "install --locked --path" not in args or not os.path.exists(os.path.join(dest, "keyhound")):
            sys.exit(f"other version: cargo was run as {args!r}")
        print("ok: a pinned version other than Cargo.toml's builds from the action's source")
    server.shutdown()


if __name__ == "__main__":
    main()
