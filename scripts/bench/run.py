#!/usr/bin/env python3
"""keyhound's benchmark: speed, memory, recall and decoys against its peers, in one go.

1. Generates (or reuses) a seeded synthetic tree with planted keys of every provider keyhound
   has rules for (rules/*.toml; providers.py), their decoys, and split and doubly-encoded keys.
2. Builds keyhound, installs the peers if they are missing, and runs every scanner on the tree
   with a warm cache (warm-up runs, then timed runs, interleaved; the median is reported).
3. Scores each scanner's findings against what was planted and prints a Markdown table.

Python 3 standard library only. See scripts/bench/README.md. No key literal is written in this
file: keys and the marker are built at run time from a seeded RNG.
"""
from __future__ import annotations

import argparse
import base64
import gzip
import io
import json
import math
import os
import random
import re
import shlex
import shutil
import signal
import statistics
import string
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from pathlib import Path

import providers as pv  # noqa: E402  (scripts/bench/providers.py)

REPO = Path(__file__).resolve().parents[2]
GEN_VERSION = 6  # bump whenever the generated tree changes, so old trees are regenerated
MARKER = base64.b64encode(b"OpenAI").decode()  # the marker in the middle of every OpenAI key
MARKER_B = MARKER.encode()
MB = 1_000_000
ALNUM = string.ascii_letters + string.digits
B64URL = ALNUM + "-_"
KEY_TOKEN = re.compile(r"[A-Za-z0-9_-]+")

# --------------------------------------------------------------------------------------------
# Keys and decoys

KEY_SHAPES = {  # shape: (prefix, alphabet, half length), weight
    "user": (("sk-", ALNUM, 20), 0.15),
    "proj20": (("sk-proj-", ALNUM, 20), 0.10),
    "proj": (("sk-proj-", B64URL, 74), 0.30),
    "svcacct": (("sk-svcacct-", B64URL, 74), 0.15),
    "none": (("sk-None-", B64URL, 74), 0.10),
    "admin": (("sk-admin-", B64URL, 58), 0.20),
}


longest_run = pv.longest_run  # one definition, in providers.py


def rand_body(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choices(alphabet, k=n))


def make_key(rng: random.Random, shape: str, seen: set) -> str:
    prefix, alphabet, n = KEY_SHAPES[shape][0]
    while True:
        body = rand_body(rng, alphabet, n) + MARKER + rand_body(rng, alphabet, n)
        key = prefix + body
        if longest_run(body) >= 4 or len(set(body)) < 16 or key in seen:
            continue
        seen.add(key)
        return key


def make_decoy(rng: random.Random, kind: str) -> str:
    b = lambda n: rand_body(rng, B64URL, n)  # noqa: E731
    a = lambda n: rand_body(rng, ALNUM, n)  # noqa: E731
    if kind == "placeholder-xxxx":
        return "sk-proj-" + "X" * 4
    if kind == "your-key-here":
        return "sk-" + "your-api-key-here"
    if kind == "off-centre":
        return "sk-proj-" + b(74) + MARKER + b(70)
    if kind == "truncated":
        return rng.choice([
            lambda: "sk-svcacct-" + b(74) + MARKER + b(rng.randint(20, 60)),
            lambda: "sk-" + a(20) + MARKER + a(rng.randint(8, 16)),
            lambda: "sk-proj-" + b(19) + MARKER + b(19),
            lambda: "sk-admin-" + b(58) + MARKER[:5],
        ])()
    if kind == "repeated-ab":
        return "sk-proj-" + "A" * 74 + MARKER + "B" * 74
    if kind == "repeated-x":
        return "sk-" + "x" * 20 + MARKER + "x" * 20
    if kind == "sequential":
        return "sk-proj-" + b(48) + string.ascii_lowercase + MARKER + b(74)
    if kind == "embedded-task":
        return "task-proj-" + b(74) + MARKER + b(74)
    if kind == "stripe-like":
        # Not an OpenAI key; to keyhound (with its Stripe rules) a Stripe live secret key.
        return "sk_live_" + a(20) + MARKER + a(20)
    if kind == "redacted-stars":
        return "sk-proj-" + "*" * 40 + "MxYA"
    if kind == "redacted-ellipsis":
        return "sk-proj-\u2026" + a(4)
    raise ValueError(kind)


# The OpenAI rule each shape is found by
SHAPE_RULES = {"user": "kh.openai.user", "proj20": "kh.openai.project", "proj": "kh.openai.project",
               "svcacct": "kh.openai.service-account", "none": "kh.openai.none",
               "admin": "kh.openai.admin"}
DECOY_KINDS = ["placeholder-xxxx", "your-key-here", "off-centre", "truncated", "repeated-ab",
               "repeated-x", "sequential", "embedded-task", "stripe-like", "redacted-stars",
               "redacted-ellipsis"]


def key_prefix(s: str) -> str:
    for p in ("sk-proj-", "sk-svcacct-", "sk-None-", "sk-admin-", "task-proj-", "sk_live_", "sk-"):
        if s.startswith(p):
            return p
    return s[:3]


def redact(s: str) -> str:
    return key_prefix(s) + "\u2026" + s[-4:] if len(s) > 12 else s


# --------------------------------------------------------------------------------------------
# Filler text: templates with § placeholders, expanded from a word list

WORDS = """
account action active adapter address agent alert allow analysis archive array asset audit
backend balance batch bearer billing block border branch bridge browser bucket buffer build
bundle cache callback canvas capture cargo catalog channel chart check client cluster code
collect column commit compute config connect console consumer container content context
control cookie counter credit cursor customer dashboard data database debug default delete
deploy device digest direct domain draft driver editor element email engine entry error event
export factory feature fetch field filter finance folder format frame gateway global graph
group handler header health helper history hook import index input insight install invoice
item job journal kernel label layout ledger limit listener loader local locale logger lookup
mailer manager mapper market media memory merge message metric migrate mirror model module
monitor network node notify number object offset order output owner package page panel parser
partner payload payment peer pipeline player plugin policy pool portal preview price printer
process product profile project promise provider proxy publish query queue quota random reader
record redis region registry release remote render replica report request resolver resource
response result retry review route router runtime sample scheduler schema scope search season
secret section segment select sender server service session settings shadow shard signal
snapshot socket source span stage state status storage store stream string style summary
supplier switch sync table target task template tenant theme thread ticket timer token topic
trace tracker traffic transfer tree trigger upload usage user value vector vendor version
viewer volume wallet warning watcher webhook widget window worker workflow writer zone
alpha beta delta gamma kappa lambda omega sigma amber azure cobalt coral crimson ivory jade
""".split()
LEVELS = ["DEBUG", "INFO", "INFO", "INFO", "WARN", "ERROR"]
HTTP = ["200", "200", "200", "201", "204", "301", "304", "400", "401", "403", "404", "429", "500"]
SIGIL = re.compile("§([a-zA-Z])")


class Filler:
    """Expands templates such as `def §s(§s):` with seeded random words."""

    def __init__(self, rng: random.Random):
        r = self.r = rng
        ch = r.choice
        w = lambda: ch(WORDS)  # noqa: E731

        def words(lo, hi):
            return r.choices(WORDS, k=r.randint(lo, hi))

        def sentence():
            s = " ".join(words(4, 12))
            return s[0].upper() + s[1:]

        def stamp():
            return "2024-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
                r.randint(1, 12), r.randint(1, 28), r.randint(0, 23), r.randint(0, 59),
                r.randint(0, 59), r.randint(0, 999))

        self.fns = {
            "w": w,
            "s": lambda: "_".join(words(1, 3)),
            "c": lambda: (lambda ws: ws[0] + "".join(x.title() for x in ws[1:]))(words(1, 3)),
            "C": lambda: "".join(x.title() for x in words(1, 3)),
            "U": lambda: "_".join(words(1, 3)).upper(),
            "n": lambda: str(r.choice([r.randint(0, 9), r.randint(10, 999), r.randint(1000, 99999)])),
            "t": sentence,
            "T": lambda: ". ".join(sentence() for _ in range(r.randint(2, 6))) + ".",
            "i": lambda: ch("abcdefghijklmnopqrstuvwxyz") + ch(["", "", "", "e", "t", "n", "r"]),
            "x": lambda: "%08x" % r.getrandbits(32),
            "u": lambda: "%08x-%04x-4%03x-%04x-%012x" % (
                r.getrandbits(32), r.getrandbits(16), r.getrandbits(12), r.getrandbits(16),
                r.getrandbits(48)),
            "L": lambda: ch(LEVELS),
            "h": lambda: ch(HTTP),
            "d": stamp,
        }
        self._cache: dict[str, list] = {}

    def expand(self, tpl: str) -> str:
        parts = self._cache.get(tpl)
        if parts is None:
            parts = self._cache[tpl] = SIGIL.split(tpl)
        fns = self.fns
        out = [parts[0]]
        for i in range(1, len(parts), 2):
            out.append(fns[parts[i]]())
            out.append(parts[i + 1])
        return "".join(out)


POOL_TEMPLATES = {
    "py": [
        "import §s", "from §s.§s import §C, §s", "", "", "class §C(§C):", '    """§t."""',
        "    def __init__(self, §s, §s=None):", "        self.§s = §s",
        "        self.§s: dict[str, int] = {}", "    def §s(self, §s: str) -> §C:",
        "        if §s is None:", '            raise ValueError("§t")', "        for §i in self.§s:",
        "            §s = §s.§s(§i, timeout=§n)", '        logger.info("§t: %s", §s)',
        "        return §s", "# §t", "    @property", "§U = §n", '§U = "§w-§w"',
        '    url = f"https://§w.example.com/§w/{§s}"', "    result = [§i for §i in §s if §i.§s]",
        "    try:", "        §s.§s()", "    except §CError as exc:",
        '        raise RuntimeError("§t") from exc', "def §s(§s, §s):",
        '    return {"§s": §s, "§s": §n}', "    # §t",
    ],
    "js": [
        "import { §c, §c } from './§s.js';", "const §c = require('§w');",
        "export function §c(§c, §c) {", "  const §c = await §c.§c(§c);", "  if (!§c) {",
        "    throw new Error('§t');", "  }", "  return §c.map((§i) => §i.§c);", "}", "// §t",
        "export const §U = §n;", "  console.log(`§t: ${§c}`);",
        "  const res = await fetch(`https://api.§w.dev/§w/${§c}`, { method: 'POST' });",
        "class §C extends §C {", "  constructor(§c) {", "    super(§c);", "    this.§c = §c;",
        "  }", "", "module.exports = { §c, §c };", "  §c: §n,", "  §c: '§w',",
    ],
    "go": [
        "package §w", 'import "§w/§w"', "func (§i *§C) §C(§c string, §c int) (*§C, error) {",
        "\t§c, err := §c.§C(ctx, §c)", "\tif err != nil {", '\t\treturn nil, fmt.Errorf("§t: %w", err)',
        "\t}", "\treturn &§C{§C: §c}, nil", "}", "// §C §t.", "type §C struct {",
        '\t§C string `json:"§s"`', '\t§C int `json:"§s,omitempty"`', "const §C = §n",
        "\tfor _, §i := range §c {", '\tlog.Printf("§t: %v", §c)', "", "\tdefer §c.Close()",
    ],
    "rs": [
        "use crate::§s::{§C, §C};", "use std::§s::§C;", "#[derive(Debug, Clone, PartialEq)]",
        "pub struct §C {", "    pub §s: §C,", "    §s: Vec<u8>,", "}", "impl §C {", "    /// §t.",
        "    pub fn §s(&self, §s: &str) -> Result<§C, §CError> {",
        "        let §s = self.§s.§s(§s)?;", "        match §s {", "            Some(§i) => Ok(§i),",
        '            None => Err(§CError::new("§t")),', "        }", "    }", "}", "// §t",
        "const §U: usize = §n;", "", "    #[test]", "    fn §s() {", "        assert_eq!(§s(§n), §n);",
    ],
    "md": [
        "# §C §w", "", "", "§T", "§T", "§T", "- §t", "- §t", "```sh", "§w §w --§w §n", "```",
        "## §C", "| §w | §w | §n |", "> §t.",
    ],
    "json": [
        '    {"id": §n, "name": "§w-§w", "§s": "§w", "enabled": true, "retries": §n, '
        '"tags": ["§w", "§w"], "description": "§t"},',
        '    {"id": §n, "service": "§w", "url": "https://§w.example.com/§w", "timeout_ms": §n},',
        '    {"id": §n, "§s": {"§s": §n, "§s": "§w"}, "owner": "§w@example.com"},',
    ],
    "yaml": [
        "apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: §w-§w", "  labels:",
        "    app: §w", "spec:", "  replicas: §n", "  template:", "    spec:", "      containers:",
        "        - name: §w", "          image: registry.example.com/§w/§w:§n.§n.§n", "          env:",
        "            - name: §U", '              value: "§w"', "          resources:",
        "            limits:", "              memory: §nMi", "---", "# §t", "  §s: §w",
    ],
    "env": ["§U=§w", "§U=§n", "§U=https://§w.example.com/§w", "# §t", "§U=true", "§U=§w-§w"],
    "log": [
        "§d §L [§w-§w] §t request_id=§u path=/§w/§w status=§h latency_ms=§n",
        "§d §L [§w] §t user_id=§n",
        "§d §L [§w] §C.§s completed in §nms",
        '§d §L [§w-§w] {"event": "§s", "trace": "§x§x", "detail": "§t"}',
    ],
    "minjs": [
        "function §i(§i,§i){return §i.§c(§i)||§i}", "var §i=§i.§c||{}",
        "§i.prototype.§c=function(§i){this.§c=§i}", 'if(!§i)throw new Error("§t")',
        "§i=§i+§n|0", "return §i&&§i.§c", 'const §c="§w"', "§i.exports={§c:§i,§c:§i}",
        "for(var §i=0;§i<§n;§i++)§i[§i]=§i", 'e.§c("§w-§w",function(){return §n})',
        '"use strict"', "§i.§c=§i.§c.bind(§i)",
    ],
    "utf16": [
        '$§C = Get-§C -Name "§w"', 'Write-Host "§t"', 'if ($§C -eq $null) { throw "§t" }',
        '[Environment]::SetEnvironmentVariable("§U", "§w", "User")', "# §t",
        '"§C"="§w"', "[HKEY_CURRENT_USER\\Software\\§C\\§C]", '"§C"=dword:0000§n', "§T",
    ],
}


def build_pool(rng: random.Random, kind: str, size: int) -> bytes:
    f = Filler(rng)
    tpls = POOL_TEMPLATES[kind]
    sep = ";" if kind == "minjs" else "\n"
    out, n = [], 0
    while n < size:
        s = f.expand(rng.choice(tpls))
        out.append(s)
        n += len(s) + 1
    return (sep.join(out) + sep).encode()


def sample_slices(rng: random.Random, pool: bytes, size: int, sep: bytes = b"\n") -> bytes:
    """About `size` bytes of `pool`, as random slices cut at `sep`."""
    out, n, plen = [], 0, len(pool)
    while n < size:
        start = pool.find(sep, rng.randrange(plen)) + 1
        want = min(rng.randint(2048, 131072), size - n)
        end = pool.find(sep, start + want)
        end = plen if end < 0 else end + 1
        if end <= start:
            continue
        out.append(pool[start:end])
        n += end - start
    return b"".join(out)


# --------------------------------------------------------------------------------------------
# Where keys go: contexts per file kind (`{k}` is the key, § placeholders are filler)

CONTEXTS = {
    "py": [
        ("assign", 'OPENAI_API_KEY = "{k}"'), ("assign-sq", "    api_key = '{k}'"),
        ("kwarg", '    client = OpenAI(api_key="{k}")'),
        ("environ", '    os.environ["OPENAI_API_KEY"] = "{k}"'),
        ("list", '    FALLBACK_KEYS = ["{k}", None]'),
        ("url-query", '    url = "https://api.example.test/v1/chat?key={k}&model=gpt-4o"'),
        ("comment", "# old key: {k} (rotated?)"),
        ("fstring", '    headers = {"Authorization": f"Bearer {k}"}'),
    ],
    "js": [
        ("const", "const OPENAI_API_KEY = '{k}';"), ("object", '  apiKey: "{k}",'),
        ("template", "    headers: { Authorization: `Bearer {k}` },"),
        ("url-query", "  const url = 'https://api.example.test/v1/models?api_key={k}&limit=20';"),
        ("call-paren", "  const client = createClient({k});"),
        ("escaped-json", '  const body = "{\\"key\\": \\"{k}\\"}";'),
    ],
    "go": [
        ("const", 'const openAIKey = "{k}"'),
        ("header", '\treq.Header.Set("Authorization", "Bearer {k}")'),
        ("struct", '\tcfg := Config{APIKey: "{k}", Timeout: 30}'), ("raw-string", "\tkey := `{k}`"),
    ],
    "rs": [
        ("const", 'const OPENAI_API_KEY: &str = "{k}";'), ("bearer", '        .bearer_auth("{k}")'),
        ("env-default",
         '    let key = std::env::var("OPENAI_API_KEY").unwrap_or_else(|_| "{k}".to_string());'),
    ],
    "md": [
        ("inline-code", "Set `OPENAI_API_KEY` to `{k}` before running the examples."),
        ("shell", "    export OPENAI_API_KEY={k}"), ("alone", "{k}"),
        ("curl", '    curl https://api.example.test/v1/models -H "Authorization: Bearer {k}"'),
    ],
    "json": [
        ("string", '    {"id": 1, "provider": "openai", "api_key": "{k}", "enabled": true},'),
        ("escaped-quote",
         '    {"id": 2, "cmd": "export OPENAI_API_KEY=\\"{k}\\" && ./run.sh", "enabled": false},'),
        ("url-query", '    {"id": 3, "endpoint": "https://api.example.test/v1?key={k}&v=2"},'),
    ],
    "yaml": [
        ("plain", "  openai_api_key: {k}"), ("quoted", '  OPENAI_API_KEY: "{k}"'),
        ("env-value", "            - name: OPENAI_API_KEY\n              value: {k}"),
    ],
    "env": [
        ("plain", "OPENAI_API_KEY={k}"), ("export", 'export OPENAI_API_KEY="{k}"'),
        ("single-quoted", "OPENAI_ADMIN_KEY='{k}'"), ("trailing-comment", "OPENAI_API_KEY={k} # prod"),
    ],
    "log": [
        ("bearer-json", '§d DEBUG [gateway] outbound headers={"Authorization": "Bearer {k}"}'),
        ("url-query", "§d INFO [proxy] GET https://api.example.test/v1/models?key={k}&page=2 status=200"),
        ("plain", "§d WARN [worker] falling back to key {k}"),
        ("comma", "§d ERROR [client] auth failed key={k}, retrying in 5s"),
        ("url-encoded", "§d DEBUG [web] body=grant%3Dtoken%26secret%3D{k}%26scope%3Dall"),
        ("paren", "§d INFO [sdk] client initialised (key {k})"),
    ],
    "minjs": [
        ("object", 'var n={apiKey:"{k}",model:"gpt-4o"};'), ("var", 'var e="{k}";'),
        ("bearer", 'r.headers={Authorization:"Bearer {k}"};'),
        ("url-query", 'fetch("https://api.example.test/v1?key={k}&v=2");'),
        ("escaped-json", 'JSON.parse("{\\"k\\":\\"{k}\\"}");'),
    ],
    "utf16": [
        ("ps1-env", '$env:OPENAI_API_KEY = "{k}"'), ("reg", '"ApiKey"="{k}"'),
        ("ini", "ApiKey={k}"), ("alone", "{k}"),
    ],
    "bin": [("cstring", "\x00{k}\x00"), ("kv", "\x00OPENAI_API_KEY={k}\x00")],
}
DECOY_EXTRA = {  # decoy-only contexts (the way placeholders and redacted keys really show up)
    "log": [("error-message", "§d ERROR [client] Incorrect API key provided: {k}. You can find "
             "your API key at https://platform.openai.com/account/api-keys.")],
    "md": [("example", "Replace `{k}` with your own key.")],
    "env": [("example", "OPENAI_API_KEY={k}")],
}

# --------------------------------------------------------------------------------------------
# The tree: kinds of file, their share of the bytes and their sizes

KINDS = {  # kind: (share of total bytes, min size, max size, min file count)
    "py": (0.07, 2_000, 120_000, 2), "js": (0.05, 2_000, 120_000, 2),
    "go": (0.04, 2_000, 120_000, 2), "rs": (0.04, 2_000, 120_000, 2),
    "md": (0.03, 2_000, 200_000, 2), "json": (0.04, 1_000, 1_500_000, 2),
    "yaml": (0.02, 500, 60_000, 2), "env": (0.002, 200, 3_000, 4),
    "log": (0.17, 200_000, 24_000_000, 2), "minjs": (0.14, 300_000, 4_000_000, 2),
    "ipynb": (0.06, 20_000, 3_000_000, 2), "zip": (0.05, 50_000, 5_000_000, 2),
    "targz": (0.05, 50_000, 5_000_000, 2), "loggz": (0.01, 50_000, 3_000_000, 2),
    "k8s": (0.001, 400, 3_000, 6), "b64": (0.0003, 200, 2_000, 3),
    "utf16": (0.03, 4_000, 1_000_000, 2), "bin": (0.15, 64_000, 16_000_000, 2),
}
TEXT_KINDS = ("py", "js", "go", "rs", "md", "json", "yaml", "env", "log")

PLANT_CATEGORIES = [  # category, weight, host kinds, how the key is stored
    ("source", 0.22, ("py", "js", "go", "rs"), "plain"),
    ("docs", 0.03, ("md",), "plain"),
    ("config", 0.12, ("json", "yaml", "env"), "plain"),
    ("log", 0.10, ("log",), "plain"),
    ("minified-js", 0.08, ("minjs",), "plain"),
    ("notebook", 0.06, ("ipynb",), "plain"),
    ("zip", 0.06, ("zip",), "zip"),
    ("zip-in-zip", 0.01, ("zip",), "zip>zip"),
    ("tar.gz", 0.07, ("targz",), "tar.gz"),
    ("log.gz", 0.02, ("loggz",), "gzip"),
    ("k8s-base64", 0.04, ("k8s",), "base64"),
    ("k8s-base64-wrap76", 0.04, ("k8s",), "base64-wrap76"),
    ("base64-wrap76-file", 0.01, ("b64",), "base64-wrap76"),
    ("utf16", 0.06, ("utf16",), "utf-16le"),
    ("binary", 0.04, ("bin",), "plain"),
    # issue 18: a key split into string literals or across lines, and a key under two encodings
    ("split", 0.07, ("py", "js", "go", "yaml"), "split"),
    ("double-encoded", 0.04, ("log", "yaml", "py", "json"), "double-encoded"),
]
# Where multi-line keys (PEM blocks, service-account JSON) are planted: alone on their lines
MULTILINE_CATEGORIES = {"source", "docs", "config", "log", "zip", "zip-in-zip", "tar.gz", "log.gz"}
MULTILINE_DECOY_HOSTS = ("py", "md", "json", "yaml", "env", "log", "zip", "targz")
OPENAI_SHARE = 0.3  # of the keys; the rest are spread evenly over the other providers' rules
CATALOG = pv.Catalog()
DECOY_HOSTS = ("py", "js", "go", "rs", "md", "json", "yaml", "env", "log", "log", "minjs", "ipynb",
               "zip", "targz", "utf16")
MEMBER_KINDS = [("py", 3), ("js", 2), ("go", 1), ("rs", 1), ("json", 2), ("yaml", 1), ("env", 1),
                ("log", 2), ("md", 1), ("bin", 1)]
EXT = {"py": ".py", "js": ".js", "go": ".go", "rs": ".rs", "md": ".md", "json": ".json",
       "yaml": ".yaml", "env": ".env", "log": ".log"}


def largest_remainder(n: int, weights: list[float]) -> list[int]:
    total = sum(weights)
    raw = [n * w / total for w in weights]
    counts = [int(x) for x in raw]
    if n >= len(weights):  # every category gets at least one
        counts = [max(1, c) for c in counts]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    i = 0
    while sum(counts) < n:
        counts[order[i % len(order)]] += 1
        i += 1
    while sum(counts) > n:
        j = max(range(len(counts)), key=lambda k: counts[k])
        counts[j] -= 1
    return counts


def loguniform(rng: random.Random, lo: int, hi: int) -> int:
    hi = max(lo, hi)
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def plan_tree(size_mb: int, seed: int, n_keys: int, n_decoys: int):
    rng = random.Random(f"{seed}:plan")
    total = size_mb * MB
    share_sum = sum(v[0] for v in KINDS.values())
    repos = sorted({f"{rng.choice(WORDS)}-{rng.choice(WORDS)}"
                    for _ in range(max(2, min(40, size_mb // 25)))})
    specs = []
    idx = 0
    for kind, (share, lo, hi, min_files) in KINDS.items():
        budget = total * share / share_sum
        used = n = 0
        while used < budget or n < min_files:
            size = loguniform(rng, lo, min(hi, int(budget - used)) if used < budget else lo)
            specs.append({"kind": kind, "size": size, "path": None, "plants": [], "decoys": [],
                          "index": idx})
            idx += 1
            used += size
            n += 1
    for s in specs:
        s["path"] = make_path(rng, s["kind"], rng.choice(repos), s["index"])
    by_kind: dict[str, list] = {}
    for s in specs:
        by_kind.setdefault(s["kind"], []).append(s)

    seen: set = set()
    plants = []
    counts = largest_remainder(n_keys, [c[1] for c in PLANT_CATEGORIES])
    for (cat, _w, hosts, encoding), count in zip(PLANT_CATEGORIES, counts):
        for _ in range(count):
            plant = plan_key(rng, cat, encoding, seen)
            if encoding in ("split", "double-encoded"):
                host_kind = plant["file_kind"]
            else:
                host_kind = rng.choice(hosts)
            host = rng.choice(by_kind[host_kind])
            plant.update(id=len(plants), category=cat, file_kind=host["kind"],
                         path=host["path"])
            if encoding not in ("split", "double-encoded"):
                plant["encoding"] = encoding
            host["plants"].append(plant["id"])
            plants.append(plant)
    decoys = []
    table = [("openai", k, None, "openai") for k in DECOY_KINDS if k != "stripe-like"] + [
        (prov, kind, tpl, mode) for prov, entries in pv.DECOYS.items()
        for kind, tpl, mode in entries]
    for i in range(n_decoys):
        prov, kind, tpl, mode = table[i % len(table)]
        hosts = MULTILINE_DECOY_HOSTS if mode == "multiline" else DECOY_HOSTS
        host = rng.choice(by_kind[rng.choice(hosts)])
        text = make_decoy(rng, kind) if tpl is None else pv.expand(tpl, rng)
        decoys.append({"id": i, "decoy": text, "kind": f"{prov}:{kind}", "provider": prov,
                       "mode": mode, "file_kind": host["kind"], "path": host["path"],
                       "member": None, "context": None, "line": None})
        host["decoys"].append(i)
    return specs, plants, decoys


def plan_key(rng: random.Random, cat: str, encoding: str, seen: set) -> dict:
    """A planted key of some provider's rule, fit for the category: multi-line keys only where
    a block stands alone on its lines; split and encoded keys only of rules that need no
    context (a weak format's context line would be a second thing to put back together)."""
    plant = {"key": None, "needle": None, "provider": None, "rule": None, "shape": None,
             "hint": None, "multiline": False, "form": None, "line_text": None, "locate": None,
             "member": None, "context": None, "snippet": None, "line": None, "offset": None,
             "note": None, "encoding": encoding}
    special = encoding in ("split", "double-encoded")
    if rng.random() < OPENAI_SHARE:
        shape = rng.choices(list(KEY_SHAPES), [w for _s, w in KEY_SHAPES.values()])[0]
        key = make_key(rng, shape, seen)
        plant.update(key=key, needle=key, provider="openai", rule=SHAPE_RULES[shape], shape=shape)
    else:
        rules = [r for r in CATALOG.key_rules
                 if (r not in pv.MULTILINE or cat in MULTILINE_CATEGORIES)
                 and not (special and (r in pv.MULTILINE or CATALOG.needs_context(r)))]
        rule = rng.choice(rules)
        key, needle = CATALOG.make_key(rng, rule, seen)
        plant.update(key=key, needle=needle, provider=CATALOG.provider(rule), rule=rule,
                     shape=rule, hint=CATALOG.hint(rng, rule), multiline=rule in pv.MULTILINE)
    if encoding == "split":
        form = rng.choice(list(pv.SPLIT_FORMS))
        line, first = pv.split_line(rng, form, plant["key"], plant["provider"])
        plant.update(form=form, line_text=line, locate=first, file_kind=pv.SPLIT_FORMS[form][0],
                     encoding=f"split:{form}")
    elif encoding == "double-encoded":
        form = rng.choice(list(pv.ENCODED_FORMS))
        line, enc = pv.encoded_line(rng, form, plant["key"], plant["provider"])
        plant.update(form=form, line_text=line, locate=enc, file_kind=pv.ENCODED_FORMS[form],
                     encoding=form)
    return plant


def make_path(rng: random.Random, kind: str, repo: str, i: int) -> str:
    w = lambda: rng.choice(WORDS)  # noqa: E731
    s = lambda: "_".join(rng.choices(WORDS, k=rng.randint(1, 2)))  # noqa: E731
    return {
        "py": lambda: f"{repo}/src/{w()}/{s()}_{i}.py",
        "js": lambda: f"{repo}/web/src/{w()}/{s()}_{i}.js",
        "go": lambda: f"{repo}/internal/{w()}/{s()}_{i}.go",
        "rs": lambda: f"{repo}/crates/{w()}/src/{s()}_{i}.rs",
        "md": lambda: f"{repo}/docs/{s()}_{i}.md",
        "json": lambda: f"{repo}/config/{s()}_{i}.json",
        "yaml": lambda: f"{repo}/deploy/{s()}_{i}.yaml",
        "env": lambda: rng.choice([f"{repo}/services/{w()}_{i}/.env", f"{repo}/config/{w()}_{i}.env"]),
        "log": lambda: f"logs/{w()}-{w()}/{w()}_{i}.log",
        "minjs": lambda: f"{repo}/web/dist/{w()}.{rng.getrandbits(32):08x}.{i}.min.js",
        "ipynb": lambda: f"notebooks/{s()}_{i}.ipynb",
        "zip": lambda: f"artifacts/{w()}-{i}.zip",
        "targz": lambda: f"artifacts/{w()}-{i}.tar.gz",
        "loggz": lambda: f"logs/archive/{w()}_{i}.log.gz",
        "k8s": lambda: f"{repo}/deploy/k8s/{w()}-{i}-secret.yaml",
        "b64": lambda: f"{repo}/secrets/{w()}_{i}.env.b64",
        "utf16": lambda: f"{repo}/windows/{w()}_{i}." + rng.choice(["ps1", "reg", "txt"]),
        "bin": lambda: f"{repo}/assets/{w()}_{i}." + rng.choice(["bin", "dat", "so", "wasm"]),
    }[kind]()


# --------------------------------------------------------------------------------------------
# Generation


def wrap_note(offset: int, key: str) -> str:
    """Where a key at `offset` of a base64-encoded text lands once wrapped at 76 columns."""
    def lines(a, b):  # wrapped lines holding the encoding of decoded bytes a..b
        return 4 * (a // 3) // 76, (4 * -(-b // 3) - 1) // 76
    k0, k1 = lines(offset, offset + len(key))
    if MARKER not in key:
        return f"key at decoded offset {offset}, encoded on wrapped lines {k0 + 1}-{k1 + 1}"
    m = offset + key.index(MARKER)
    m0, m1 = lines(m, m + len(MARKER))
    return (f"key at decoded offset {offset}, encoded on wrapped lines {k0 + 1}-{k1 + 1}; "
            + ("the marker's encoding is split by a line break" if m0 != m1
               else "the marker's encoding sits on one line"))


class Generator:
    def __init__(self, size_mb: int, seed: int, plants: list, decoys: list):
        self.seed = seed
        self.plants = plants
        self.decoys = decoys
        pool_size = max(256 * 1024, min(4 * MB, size_mb * MB // 200))
        self.pools = {k: build_pool(random.Random(f"{seed}:pool:{k}"), k, pool_size)
                      for k in POOL_TEMPLATES}

    # --- placing lines

    def _render(self, rng, f: Filler, kind: str, pids, dids):
        """(line bytes, record, secret) for each plant and decoy going into a `kind` buffer."""
        items = []
        for pid in pids:
            p = self.plants[pid]
            if p.get("line_text"):  # split or doubly-encoded: the form makes the whole line
                line, name = p["line_text"], p["form"]
            elif p.get("multiline"):  # a PEM block or a key file, alone on its lines
                line, name = p["key"], "alone"
            else:
                name, tpl = rng.choice(CONTEXTS[kind])
                line = self.place(f, p, tpl)
            p["context"] = f"{kind}:{name}"
            p["snippet"] = line.replace(p["key"], redact(p["key"])).strip("\x00")[:200] \
                .replace("\n", "\\n")
            items.append((line, p, p.get("locate") or p["key"]))
        for did in dids:
            d = self.decoys[did]
            if d.get("mode") == "multiline":
                line, name = d["decoy"], "alone"
            else:
                extra = DECOY_EXTRA.get(kind, []) if d.get("provider", "openai") == "openai" else []
                name, tpl = rng.choice(CONTEXTS[kind] + extra)
                line = self.place(f, d, tpl)
            d["context"] = f"{kind}:{name}"
            items.append((line, d, d["decoy"]))
        return items

    @staticmethod
    def place(f: Filler, rec: dict, tpl: str) -> str:
        """A context line for a key or decoy: the generic contexts name OpenAI; another
        provider's key is named by its own (DEEPSEEK_API_KEY, Anthropic(...)), a decoy that
        must stand without context by none; a weak format's key gets a line naming its
        provider right above it when the context line does not already."""
        if "decoy" in rec:
            provider = None if rec.get("mode") == "neutral" else rec.get("provider", "openai")
            return pv.rename(f.expand(tpl), provider).replace("{k}", rec["decoy"])
        line = pv.rename(f.expand(tpl), rec.get("provider", "openai")).replace("{k}", rec["key"])
        if rec.get("hint") and not CATALOG.named(rec["rule"], line):
            line = rec["hint"] + "\n" + line
        return line

    @staticmethod
    def _locate(content: bytes, items, line_numbers=True):
        for _line, rec, secret in items:
            pos = content.find(secret.encode())
            if pos >= 0:
                rec["offset"] = pos
                if line_numbers:
                    rec["line"] = content.count(b"\n", 0, pos) + 1

    @staticmethod
    def _check(content: bytes, items, where: str):
        want = sum((line if line is not None else s).count(MARKER) for line, _r, s in items)
        got = content.count(MARKER_B)
        if got != want:
            raise SystemExit(f"generator bug: {where} holds the marker {got} times, planted {want}")

    @staticmethod
    def insert_lines(rng, content: bytes, lines: list[bytes], lo: int = 0, hi: int | None = None):
        """Inserts each line (plus a newline) at a random line start in content[lo:hi]."""
        hi = len(content) if hi is None else hi
        at = []
        for line in lines:
            p = rng.randrange(lo, max(lo + 1, hi))
            nl = content.rfind(b"\n", lo, p + 1)
            at.append((nl + 1 if nl >= 0 else lo, line))
        at.sort(key=lambda t: t[0])
        out, prev = [], 0
        for pos, line in at:
            out += [content[prev:pos], line, b"\n"]
            prev = pos
        out.append(content[prev:])
        return b"".join(out)

    # --- text kinds

    def text(self, rng, kind: str, size: int, path: str, pids=(), dids=()) -> bytes:
        f = Filler(rng)
        items = self._render(rng, f, kind, pids, dids)
        pool = self.pools[kind]
        if kind == "json":
            head = ('{\n  "version": %d,\n  "generated": "%s",\n  "source": "%s",\n  "items": [\n'
                    % (rng.randint(1, 9), f.fns["d"](), path)).encode()
            body = sample_slices(rng, pool, max(200, size - len(head)))
            last = body.rfind(b"\n", 0, len(body) - 1) + 1  # start of the last record
            body = body[:-2] + b"\n" if body.endswith(b",\n") else body
            content = head + body + b"  ]\n}\n"
            lo, hi = len(head), len(head) + last
        else:
            head = {
                "py": '# %s\n# revision %s\n"""%s."""\n\n',
                "js": "// %s (build %s)\n// %s\n'use strict';\n\n",
                "go": "// %s (revision %s)\n// %s\npackage main\n\n",
                "rs": "//! %s (revision %s)\n//! %s\n\n",
                "md": "<!-- %s %s -->\n# %s\n\n",
                "yaml": "# %s (revision %s)\n# %s\n",
                "env": "# %s (revision %s)\n# %s\n",
                "log": "",
            }[kind]
            if head:
                head = head % (path, f.fns["x"](), f.fns["t"]())
            head = head.encode()
            content = head + sample_slices(rng, pool, max(64, size - len(head)))
            lo, hi = len(head), len(content)
        content = self.insert_lines(rng, content, [i[0].encode() for i in items], lo, hi)
        self._locate(content, items)
        self._check(content, items, path)
        return content

    def minjs(self, rng, size: int, path: str, pids, dids) -> bytes:
        f = Filler(rng)
        items = self._render(rng, f, "minjs", pids, dids)
        lines = [f.expand("/*! §w v§n.§n.§n | (c) §C | MIT */").encode()]
        n = 0
        while n < size:
            ln = max(100_000, min(rng.randint(100_000, 800_000), size - n))
            lines.append(b"!function(e,t){" + sample_slices(rng, self.pools["minjs"], ln, b";")
                         + b"}(this,window);")
            n += len(lines[-1])
        content = b"\n".join(lines) + b"\n"
        # insert each snippet right after a random `;`
        at = []
        for line, _rec, _s in items:
            p = content.find(b";", rng.randrange(len(lines[0]), len(content)))
            p = content.rfind(b";") if p < 0 else p
            at.append((p + 1, line.encode()))
        at.sort(key=lambda t: t[0])
        out, prev = [], 0
        for pos, snip in at:
            out += [content[prev:pos], snip]
            prev = pos
        out.append(content[prev:])
        content = b"".join(out)
        self._locate(content, items)
        self._check(content, items, path)
        return content

    def notebook(self, rng, size: int, path: str, pids, dids) -> bytes:
        f = Filler(rng)
        cells, n = [], 0

        def lines(pool, nbytes):
            return sample_slices(rng, self.pools[pool], nbytes).decode().splitlines(keepends=True)

        while n < size:
            if rng.random() < 0.35:
                src = lines("md", rng.randint(200, 3000))
                cells.append({"cell_type": "markdown", "id": f.fns["x"](), "metadata": {},
                              "source": src})
                n += sum(map(len, src)) + 8 * len(src) + 80
                continue
            src = lines("py", rng.randint(200, 4000))
            outputs = []
            if rng.random() < 0.5:
                text = lines("log", rng.randint(200, 6000))
                outputs.append({"name": "stdout", "output_type": "stream", "text": text})
                n += sum(map(len, text)) + 8 * len(text)
            if rng.random() < 0.3:
                png = base64.b64encode(rng.randbytes(rng.randint(3_000, 120_000))).decode()
                outputs.append({"data": {"image/png": png + "\n", "text/plain": ["<Figure>"]},
                                "metadata": {}, "output_type": "display_data"})
                n += len(png)
            cells.append({"cell_type": "code", "execution_count": len(cells) + 1,
                          "id": f.fns["x"](), "metadata": {}, "outputs": outputs, "source": src})
            n += sum(map(len, src)) + 8 * len(src) + 150
        items = []
        for rec, secret in [(self.plants[i], self.plants[i]["key"]) for i in pids] + \
                           [(self.decoys[i], self.decoys[i]["decoy"]) for i in dids]:
            name = rng.choice(["source-list", "source-string", "markdown-after-newline",
                               "stream-output"])
            k = secret
            if name == "source-list":
                cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                        "source": ["import os\n", f'os.environ["OPENAI_API_KEY"] = "{k}"\n',
                                   "client = OpenAI()"]}
            elif name == "source-string":
                cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                        "source": f'from openai import OpenAI\nclient = OpenAI(api_key="{k}")'}
            elif name == "markdown-after-newline":
                cell = {"cell_type": "markdown", "metadata": {},
                        "source": f"Paste your key below:\n{k}"}
            else:
                cell = {"cell_type": "code", "execution_count": 3, "metadata": {},
                        "outputs": [{"name": "stdout", "output_type": "stream", "text": [f"{k}\n"]}],
                        "source": ["print(os.environ['OPENAI_API_KEY'])"]}
            provider = rec.get("provider", "openai")
            if "decoy" in rec and rec.get("mode") == "neutral":
                provider = None
            cell = json.loads(pv.rename(json.dumps(cell), provider))
            if rec.get("hint"):
                src = cell["source"]
                cell["source"] = ([rec["hint"] + "\n"] + src if isinstance(src, list)
                                  else rec["hint"] + "\n" + src)
            cell["id"] = f.fns["x"]()
            cells.insert(rng.randint(0, len(cells)), cell)
            rec["context"] = f"ipynb:{name}"
            if "key" in rec:
                rec["snippet"] = json.dumps(cell["source"])[:160].replace(k, redact(k))
            items.append((None, rec, secret))
        nb = {"cells": cells,
              "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                          "name": "python3"},
                           "language_info": {"name": "python", "version": "3.11.7"}},
              "nbformat": 4, "nbformat_minor": 5}
        content = (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode()
        self._locate(content, items)
        self._check(content, items, path)
        return content

    def utf16(self, rng, size: int, path: str, pids, dids) -> tuple[bytes, str]:
        f = Filler(rng)
        items = self._render(rng, f, "utf16", pids, dids)
        content = sample_slices(rng, self.pools["utf16"], max(64, size // 2))
        content = self.insert_lines(rng, content, [i[0].encode() for i in items])
        self._locate(content, items)
        self._check(content, items, path)
        bom = rng.random() < 0.75
        data = (b"\xff\xfe" if bom else b"") + content.replace(b"\n", b"\r\n").decode().encode(
            "utf-16-le")
        for _l, rec, _s in items:
            rec["offset"] = None  # offsets above are in the decoded text
        return data, "utf-16le" if bom else "utf-16le (no BOM)"

    def binary(self, rng, size: int, path: str, pids) -> bytes:
        data = bytearray(rng.randbytes(size))
        ext = path.rsplit(".", 1)[-1]
        if ext == "so":
            data[:16] = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        elif ext == "wasm":
            data[:8] = b"\x00asm\x01\x00\x00\x00"
        items = self._render(rng, Filler(rng), "bin", pids, ())
        for line, _rec, _s in items:
            pos = rng.randrange(64, len(data))
            data[pos:pos] = line.encode()
        data = bytes(data)
        self._locate(data, items, line_numbers=False)
        self._check(data, items, path)
        return data

    # --- encoded and archived

    def env_blob(self, rng, f: Filler, key_line: str) -> str:
        lines = [f.expand("# §t"), f.expand("LOG_LEVEL=§w"),
                 f.expand("DATABASE_URL=postgres://§w:§w§n@db.§w.internal:5432/§w"),
                 f.expand("REDIS_URL=redis://cache.§w.internal:6379/§n"),
                 f.expand("FEATURE_FLAGS=§w,§w,§w")][: rng.randint(2, 5)]
        lines.insert(rng.randint(0, len(lines)), key_line)
        return "\n".join(lines) + "\n"

    @staticmethod
    def wrap76(s: str) -> list[str]:
        return [s[i:i + 76] for i in range(0, len(s), 76)]

    def k8s(self, rng, path: str, pids) -> bytes:
        f = Filler(rng)
        name = f.expand("§w-§w")
        lines = ["apiVersion: v1", "kind: Secret", "metadata:", f"  name: {name}-credentials",
                 f"  namespace: {rng.choice(['default', 'prod', 'staging', 'ml'])}", "  labels:",
                 f"    app.kubernetes.io/name: {name}", "type: Opaque", "data:"]
        entries = []
        for _ in range(rng.randint(2, 6)):
            val = f.expand(rng.choice(["postgres://§w:§w§n@db.§w.internal:5432/§w", "§w-§w-§n",
                                       "https://§w.example.com/hooks/§x§x"]))
            entries.append((None, [f"  {f.fns['U']()}: {base64.b64encode(val.encode()).decode()}"]))
        for pid in pids:
            p = self.plants[pid]
            key = p["key"]
            if p["category"] == "k8s-base64" and not p.get("hint") and rng.random() < 0.5:
                enc = base64.b64encode(key.encode()).decode()
                entries.append((p, [pv.rename(f"  OPENAI_API_KEY: {enc}", p["provider"])]))
                p["context"], p["note"] = "k8s:data-value", "base64 of the key alone, one line"
                p["snippet"] = pv.rename(f"OPENAI_API_KEY: base64({redact(key)})",
                                         p["provider"])
                continue
            key_line = self.place(f, p, rng.choice(CONTEXTS["env"])[1])
            blob = self.env_blob(rng, f, key_line).encode()
            enc = base64.b64encode(blob).decode()
            o = blob.find(key.encode())
            if p["category"] == "k8s-base64":
                entries.append((p, [f"  app.env: {enc}"]))
                p["context"] = "k8s:data-env-file"
                p["note"] = f"base64 of an env file, one line; key at decoded offset {o}"
            else:
                entries.append((p, ["  app.env: |"] + ["    " + ln for ln in self.wrap76(enc)]))
                p["context"] = "k8s:data-env-file-block"
                p["note"] = "base64 wrapped at 76 in a YAML block indented 4; " + \
                    wrap_note(o, key)
            p["snippet"] = key_line.replace(key, redact(key))
        rng.shuffle(entries)
        for rec, ls in entries:
            if rec is not None:
                rec["line"] = len(lines) + 1
            lines += ls
        return ("\n".join(lines) + "\n").encode()

    def b64file(self, rng, pids) -> bytes:
        f = Filler(rng)
        blobs = []
        for pid in pids:
            p = self.plants[pid]
            key_line = self.place(f, p, rng.choice(CONTEXTS["env"])[1])
            blob = self.env_blob(rng, f, key_line)
            o = sum(map(len, blobs)) + blob.find(p["key"])  # the blobs are encoded together
            p["context"] = "b64:env-file"
            p["snippet"] = key_line.replace(p["key"], redact(p["key"]))
            p["note"] = "base64 wrapped at 76, no indent; " + wrap_note(o, p["key"])
            p["line"] = 1
            blobs.append(blob)
        if not blobs:
            blobs.append(self.env_blob(rng, f, f.expand("API_BASE=https://§w.example.com")))
        blob = "".join(blobs)  # one file holds every blob's lines, encoded together
        return ("\n".join(self.wrap76(base64.b64encode(blob.encode()).decode())) + "\n").encode()

    def members(self, rng, raw_target: int, prefix: str, pids, dids) -> list:
        """Archive members [(name, bytes)]; plants and decoys go into text members."""
        kinds, weights = zip(*MEMBER_KINDS)
        specs = []
        raw = 0
        while raw < raw_target or len(specs) < 2:
            k = rng.choices(kinds, weights)[0]
            sz = loguniform(rng, 10_000, 1_000_000) if k == "bin" else loguniform(rng, 800, 300_000)
            if k == "env":
                sz = min(sz, 3000)
            name = f"{prefix}{rng.choice(['src', 'lib', 'config', 'logs', 'docs'])}/" \
                   f"{'_'.join(rng.choices(WORDS, k=2))}_{len(specs)}{EXT.get(k, '.bin')}"
            specs.append([name, k, sz, [], []])
            raw += sz
        text = [s for s in specs if s[1] != "bin"]
        for pid in pids:
            rng.choice(text)[3].append(pid)
        for did in dids:
            rng.choice(text)[4].append(did)
        out = []
        for name, k, sz, mp, md in specs:
            if k == "bin":
                out.append((name, rng.randbytes(sz)))
                continue
            out.append((name, self.text(rng, k, sz, name, mp, md)))
            for pid in mp:
                self.plants[pid]["member"] = name
            for did in md:
                self.decoys[did]["member"] = name
        return out

    @staticmethod
    def zip_bytes(rng, members) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for name, data in members:
                zi = zipfile.ZipInfo(name, date_time=(2024, 3, 14, 12, 0, 0))
                zi.compress_type = zipfile.ZIP_STORED if rng.random() < 0.15 else zipfile.ZIP_DEFLATED
                zi.external_attr = 0o644 << 16
                z.writestr(zi, data)
        return buf.getvalue()

    def zip(self, rng, size: int, pids, dids) -> bytes:
        outer = [p for p in pids if self.plants[p]["category"] == "zip"]
        nested = [p for p in pids if self.plants[p]["category"] == "zip-in-zip"]
        members = self.members(rng, int(size * 2), "", outer, dids)
        if nested:
            inner_name = f"vendor/{rng.choice(WORDS)}-bundle.zip"
            inner = self.zip_bytes(rng, self.members(rng, rng.randint(20_000, 200_000), "", nested,
                                                     ()))
            members.insert(rng.randint(0, len(members)), (inner_name, inner))
            for pid in nested:
                self.plants[pid]["member"] = f"{inner_name}!{self.plants[pid]['member']}"
        return self.zip_bytes(rng, members)

    def targz(self, rng, size: int, pids, dids) -> bytes:
        prefix = f"{rng.choice(WORDS)}-{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}/"
        members = self.members(rng, int(size * 2), prefix, pids, dids)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
            for name, data in members:
                ti = tarfile.TarInfo(name)
                ti.size, ti.mtime, ti.mode = len(data), 1_710_000_000, 0o644
                t.addfile(ti, io.BytesIO(data))
        return gzip.compress(buf.getvalue(), compresslevel=6, mtime=0)

    # --- one file

    def file(self, spec) -> bytes:
        rng = random.Random(f"{self.seed}:file:{spec['index']}")
        kind, size, path = spec["kind"], spec["size"], spec["path"]
        pids, dids = spec["plants"], spec["decoys"]
        if kind in TEXT_KINDS:
            return self.text(rng, kind, size, path, pids, dids)
        if kind == "minjs":
            return self.minjs(rng, size, path, pids, dids)
        if kind == "ipynb":
            return self.notebook(rng, size, path, pids, dids)
        if kind == "utf16":
            data, enc = self.utf16(rng, size, path, pids, dids)
            for pid in pids:
                self.plants[pid]["encoding"] = enc
            return data
        if kind == "bin":
            return self.binary(rng, size, path, pids)
        if kind == "k8s":
            return self.k8s(rng, path, pids)
        if kind == "b64":
            return self.b64file(rng, pids)
        if kind == "zip":
            return self.zip(rng, size, pids, dids)
        if kind == "targz":
            return self.targz(rng, size, pids, dids)
        if kind == "loggz":
            return gzip.compress(self.text(rng, "log", size * 4, path, pids, dids), 6, mtime=0)
        raise ValueError(kind)


def ensure_data(data: Path, size_mb: int, seed: int, n_keys: int, n_decoys: int) -> dict:
    params = {"gen_version": GEN_VERSION, "size_mb": size_mb, "seed": seed, "keys": n_keys,
              "decoys": n_decoys}
    manifest_path = data / "manifest.json"
    tree = data / "tree"
    if manifest_path.exists():
        try:
            manifest = json.loads(manifest_path.read_text())
            if manifest.get("params") == params and manifest.get("complete") and tree.is_dir():
                print(f"reusing {tree} ({manifest['total_bytes'] / MB:.0f} MB, "
                      f"{manifest['files']} files, {len(manifest['plants'])} keys)", flush=True)
                return manifest
        except (ValueError, KeyError):
            pass
    owner_mark = data / ".keyhound-bench"
    if tree.exists():
        if not owner_mark.exists():
            raise SystemExit(f"{tree} exists and was not made by this script: remove it or pick "
                             f"another --data")
        print(f"parameters changed: removing {tree}", flush=True)
        shutil.rmtree(tree)
    data.mkdir(parents=True, exist_ok=True)
    owner_mark.write_text("made by scripts/bench/run.py; safe to delete\n")
    if manifest_path.exists():
        manifest_path.unlink()

    t0 = time.time()
    print(f"generating {size_mb} MB in {tree} (seed {seed}, {n_keys} keys, {n_decoys} decoys)",
          flush=True)
    specs, plants, decoys = plan_tree(size_mb, seed, n_keys, n_decoys)
    gen = Generator(size_mb, seed, plants, decoys)
    total, by_kind, made_dirs = 0, {}, set()
    next_report = 0.1
    planned = sum(s["size"] for s in specs)
    planned_done = 0
    for spec in specs:
        data_bytes = gen.file(spec)
        path = tree / spec["path"]
        if path.parent not in made_dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            made_dirs.add(path.parent)
        path.write_bytes(data_bytes)
        total += len(data_bytes)
        k = by_kind.setdefault(spec["kind"], {"files": 0, "bytes": 0})
        k["files"] += 1
        k["bytes"] += len(data_bytes)
        planned_done += spec["size"]
        if planned_done / planned >= next_report:
            print(f"  {100 * planned_done / planned:3.0f}%  {total / MB:7.0f} MB  "
                  f"{time.time() - t0:5.1f} s", flush=True)
            next_report += 0.1
    missing = [p for p in plants if p["context"] is None]
    if missing:
        raise SystemExit(f"generator bug: {len(missing)} keys were not placed")
    manifest = {"params": params, "complete": True, "tree": str(tree), "total_bytes": total,
                "files": len(specs), "by_kind": by_kind, "generation_s": round(time.time() - t0, 1),
                "plants": plants, "decoys": decoys}
    tmp = manifest_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=1))
    tmp.replace(manifest_path)
    print(f"generated {total / MB:.0f} MB in {len(specs)} files in {time.time() - t0:.1f} s",
          flush=True)
    return manifest


# --------------------------------------------------------------------------------------------
# Running and measuring


class TreeSampler(threading.Thread):
    """Samples the summed RSS of every descendant of `root` (not `root` itself). GNU time's
    figure is ru_maxrss: the largest single process of the tree, which would under-count a
    scanner that forks workers; this sum covers that case."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root, self.peak, self.stop_ev = root, 0, threading.Event()
        self.page = os.sysconf("SC_PAGE_SIZE")

    def descendants(self) -> set:
        parent = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat", "rb") as fh:
                        st = fh.read()
                    parent[int(d)] = int(st[st.rfind(b")") + 2:].split()[1])
                except (OSError, ValueError, IndexError):
                    pass
        tree, grew = {self.root}, True
        while grew:
            grew = False
            for pid, pp in parent.items():
                if pp in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        return tree - {self.root}

    def run(self):
        pids, tick = set(), 0
        while not self.stop_ev.wait(0.1):
            if tick % 5 == 0:
                pids = self.descendants()
            tick += 1
            rss = 0
            for pid in pids:
                try:
                    with open(f"/proc/{pid}/statm", "rb") as fh:
                        rss += int(fh.read().split()[1]) * self.page
                except (OSError, ValueError, IndexError):
                    pass
            self.peak = max(self.peak, rss)


GNU_TIME = "/usr/bin/time"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (from /proc/stat)."""
    try:
        with open("/proc/stat") as fh:
            f = [int(x) for x in fh.readline().split()[1:]]
        return (sum(f[:8]) - f[3] - f[4]) / CLK_TCK  # all but idle and iowait
    except (OSError, ValueError, IndexError):
        return float("nan")


def ensure_gnu_time() -> bool:
    if not os.access(GNU_TIME, os.X_OK):
        print("GNU time missing: apt-get install -y time", flush=True)
        subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-q", "time"], stdout=subprocess.DEVNULL)
    return os.access(GNU_TIME, os.X_OK)


def measure(cmd: list[str], out_dir: Path, label: str, timeout: float) -> dict:
    """Runs cmd once under GNU time: wall time, peak RSS, CPU time, exit code.

    The scanner is forked by GNU time, not by this Python process: a child forked from Python
    would start with Python's own RSS as its high-water mark (Linux keeps ru_maxrss across
    exec), inflating every small figure by tens of MB."""
    so_path, se_path = out_dir / f"{label}.stdout", out_dir / f"{label}.stderr"
    time_path = out_dir / f"{label}.time"
    use_time = os.access(GNU_TIME, os.X_OK)
    full = [GNU_TIME, "-f", "%M %U %S", "-o", str(time_path), "--"] + cmd if use_time else cmd
    with open(so_path, "wb") as so, open(se_path, "wb") as se:
        busy0 = busy_cpu_s()
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, stdout=so, stderr=se, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=out_dir)
        sampler = TreeSampler(proc.pid if use_time else -1)
        if use_time:
            sampler.start()
        timed_out = threading.Event()

        def kill():
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, ru = os.wait4(proc.pid, 0)
        except KeyboardInterrupt:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        wall = time.perf_counter() - t0
        busy = busy_cpu_s() - busy0
        timer.cancel()
        sampler.stop_ev.set()
        if use_time:
            sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    rss, cpu = ru.ru_maxrss * 1024, ru.ru_utime + ru.ru_stime
    if use_time:
        try:
            last = time_path.read_text().strip().splitlines()[-1].split()
            rss, cpu = int(last[0]) * 1024, float(last[1]) + float(last[2])
        except (OSError, ValueError, IndexError):
            rss = 0
        rss = max(rss, sampler.peak)
    # CPU the rest of the machine used meanwhile, in cores: other sessions' builds and tests
    # make a 2-core machine noisy, and this says how much a run was disturbed
    other = max(0.0, busy - cpu) / wall if wall > 0 else 0.0
    return {"wall_s": wall, "rss_bytes": rss, "cpu_s": cpu, "exit": proc.returncode,
            "other_load": other,
            "timed_out": timed_out.is_set(), "stderr": str(se_path), "stdout": str(so_path),
            "rss_source": "GNU time" if use_time else "wait4 (includes the runner's RSS)"}


def tail(path: str, n: int = 400) -> str:
    try:
        return Path(path).read_bytes()[-n:].decode(errors="replace").strip()
    except OSError:
        return ""


# --- parsing each tool's report into [{"rule", "secret", "path"}]

def parse_keyhound(path: Path):
    d = json.loads(path.read_text())
    meta = {"complete": d.get("complete"), "stats": d.get("stats"),
            "skipped": (d.get("skipped") or [])[:20]}
    return [{"rule": f.get("rule"), "secret": f.get("secret") or "",
             "provider": f.get("provider"), "path": f.get("path"),
             "member": f.get("archive_member"), "line": f.get("line"),
             "decoded": f.get("decoded"), "context": f.get("context")}
            for f in d.get("findings", [])], meta


def parse_kingfisher(path: Path):
    d = json.loads(path.read_text())
    out = []
    for it in d.get("findings", []) if isinstance(d, dict) else d:
        f = it.get("finding", {})
        out.append({"rule": (it.get("rule") or {}).get("id"), "secret": f.get("snippet") or "",
                    "path": f.get("path"), "line": f.get("line")})
    return out, {}


def parse_gitleaks(path: Path):
    d = json.loads(path.read_text() or "[]")
    return [{"rule": f.get("RuleID"), "secret": f.get("Secret") or "", "path": f.get("File"),
             "line": f.get("StartLine"), "match": f.get("Match")} for f in d], {}


def parse_betterleaks(path: Path):
    d = json.loads(path.read_text())
    out = []
    for f in d.get("findings", []) if isinstance(d, dict) else d:
        m, loc = f.get("match") or {}, f.get("location") or {}
        out.append({"rule": f.get("rule_id"), "secret": m.get("value") or m.get("full") or "",
                    "path": loc.get("path"), "line": loc.get("start_line")})
    return out, {}


def ensure_ripgrep() -> str | None:
    rg = shutil.which("rg")
    if rg:
        return rg
    print("ripgrep missing: apt-get update && apt-get install -y ripgrep", flush=True)
    subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-q", "ripgrep"], stdout=subprocess.DEVNULL)
    return shutil.which("rg")


def ensure_peers(peers: Path, wanted: list[str], log: Path) -> dict:
    bins = {t: peers / "bin" / t for t in ("kingfisher", "gitleaks", "betterleaks")}
    if any(not os.access(bins[t], os.X_OK) for t in wanted if t in bins):
        print(f"installing peers into {peers} (log: {log})", flush=True)
        with open(log, "wb") as fh:
            subprocess.run(["bash", "/work/shared/peers/install.sh", str(peers)], stdout=fh,
                           stderr=subprocess.STDOUT)
    return {t: str(b) for t, b in bins.items() if os.access(b, os.X_OK)}


def version_of(cmd: list[str]) -> str:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (r.stdout or r.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


# --------------------------------------------------------------------------------------------
# Scoring


def score(findings: list, plants: list, decoys: list, exact_only: bool) -> dict:
    keys = {p["key"]: p for p in plants}
    found = set()
    for f in findings:
        s = f["secret"]
        if s in keys:
            found.add(s)
        elif not exact_only and MARKER in s:  # a peer's secret field may carry quotes around it
            found.update(t for t in KEY_TOKEN.findall(s) if t in keys)
    distinct = {f["secret"] for f in findings if f["secret"]}
    decoy_hits = {}
    for d in decoys:
        ds = d["decoy"]
        if ds in decoy_hits:
            continue
        hit = next((s for s in distinct if ds in s or (len(s) >= 12 and s in ds)), None)
        if hit is not None:
            decoy_hits[ds] = {"kind": d["kind"], "reported": redact(hit),
                              "rules": sorted({str(f["rule"]) for f in findings
                                               if f["secret"] == hit}),
                              "where": [{"path": x["path"], "member": x["member"],
                                         "context": x["context"], "line": x["line"]}
                                        for x in decoys if x["decoy"] == ds][:5]}
    decoy_strings = {d["decoy"] for d in decoys}
    unexpected = [f for f in findings if MARKER in f["secret"] and f["secret"] not in keys
                  and not any(ds in f["secret"] or f["secret"] in ds for ds in decoy_strings)]
    if not exact_only:
        unexpected = [f for f in unexpected
                      if not any(t in keys for t in KEY_TOKEN.findall(f["secret"]))]
    cats: dict[str, list] = {}
    for p in plants:
        c = cats.setdefault(p["category"], [0, 0])
        c[1] += 1
        c[0] += p["key"] in found
    return {"found": found, "recall": len(found) / len(plants) if plants else 1.0,
            "decoy_hits": decoy_hits, "decoys_total": len(decoy_strings),
            "unexpected": unexpected, "categories": cats, "findings": len(findings),
            "other_findings": sum(1 for f in findings if MARKER not in f["secret"])}


URL_TOKEN = re.compile(r"https?://[A-Za-z0-9_./-]+")
DOTTED_TOKEN = re.compile(r"[A-Za-z0-9_.-]+")


def score_all(findings: list, plants: list, decoys: list, exact_only: bool) -> dict:
    """Recall and decoys reported, per provider, for keys of every provider.

    keyhound's finding counts when its secret is the planted key (or, for a PEM block or a
    key file, holds its body); a peer's also when the key stands as a whole token inside its
    secret (peers put quotes, `KEY=` or the whole line in it). Every finding that is neither a
    planted key nor a decoy is "unexpected"."""
    keys = {p["needle"]: p for p in plants if not p.get("multiline")}
    blocks = [p["needle"] for p in plants if p.get("multiline")]
    found: set = set()
    matched: list[bool] = []
    for f in findings:
        s = f["secret"]
        hit = set()
        if s in keys:
            hit.add(s)
        elif not exact_only:
            toks = set(KEY_TOKEN.findall(s)) | set(DOTTED_TOKEN.findall(s)) | \
                set(URL_TOKEN.findall(s))
            hit.update(t for t in toks if t in keys)
        if "PRIVATE KEY" in s:
            hit.update(b for b in blocks if b in s)
        found |= hit
        matched.append(bool(hit))
    distinct = {f["secret"] for f in findings if f["secret"]}
    decoy_hits = {}
    for d in decoys:
        ds = d["decoy"]
        if ds in decoy_hits:
            continue
        hit = next((x for x in distinct if ds in x or (len(x) >= 12 and x in ds)), None)
        if hit is not None:
            decoy_hits[ds] = {"kind": d["kind"], "provider": d.get("provider", "openai"),
                              "reported": redact(hit),
                              "rules": sorted({str(f["rule"]) for f in findings
                                               if f["secret"] == hit}),
                              "where": [{"path": x["path"], "member": x["member"],
                                         "context": x["context"], "line": x["line"]}
                                        for x in decoys if x["decoy"] == ds][:5]}
    decoy_strings = {d["decoy"] for d in decoys}
    unexpected = [f for f, m in zip(findings, matched) if not m and f["secret"]
                  and not any(ds in f["secret"] or (len(f["secret"]) >= 12 and f["secret"] in ds)
                              for ds in decoy_strings)]
    cats: dict[str, list] = {}
    provs: dict[str, list] = {}
    forms: dict[str, list] = {}
    for p in plants:
        ok = p["needle"] in found
        for table, k in ((cats, p["category"]), (provs, p.get("provider", "openai")),
                         (forms, p.get("form"))):
            if k is None:
                continue
            c = table.setdefault(k, [0, 0])
            c[1] += 1
            c[0] += ok
    dprov: dict[str, list] = {}
    for ds in decoy_strings:
        d = next(x for x in decoys if x["decoy"] == ds)
        c = dprov.setdefault(d.get("provider", "openai"), [0, 0])
        c[1] += 1
        c[0] += ds in decoy_hits
    return {"found": found, "recall": len(found) / len(plants) if plants else 1.0,
            "decoy_hits": decoy_hits, "decoys_total": len(decoy_strings),
            "unexpected": unexpected, "categories": cats, "providers": provs, "forms": forms,
            "decoy_providers": dprov, "findings": len(findings),
            "other_findings": len(unexpected)}


# --------------------------------------------------------------------------------------------
# Main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO / "bench-data",
                    help="where the tree (DATA/tree), its manifest and the reports go")
    ap.add_argument("--size-mb", type=int, default=1000, help="size of the tree (default 1000)")
    ap.add_argument("--seed", type=int, default=20240314)
    ap.add_argument("--keys", type=int, default=1000, help="planted keys (default 1000)")
    ap.add_argument("--decoys", type=int, default=300, help="planted decoys (default 300)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per tool (default 3)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs per tool first (default 1)")
    ap.add_argument("--tools", default="rg,keyhound,kingfisher,gitleaks,betterleaks",
                    help="comma-separated subset to run")
    ap.add_argument("--keyhound-variant", action="append", default=[], metavar="NAME=ARGS",
                    help="also time keyhound with extra arguments, e.g. 'j1=-j 1' (repeatable)")
    ap.add_argument("--no-build", action="store_true", help="use target/release/keyhound as is")
    ap.add_argument("--peers", type=Path, default=REPO / ".peers")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run before a kill")
    ap.add_argument("--slow-s", type=float, default=60,
                    help="a tool whose warm-up takes longer is timed by that run alone "
                         "(default 60; 0 gives every tool --runs timed runs)")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    ap.add_argument("--generate-only", action="store_true")
    args = ap.parse_args()

    data = args.data.resolve()
    manifest = ensure_data(data, args.size_mb, args.seed, args.keys, args.decoys)
    if args.generate_only:
        return 0
    tree, total = manifest["tree"], manifest["total_bytes"]
    plants, decoys = manifest["plants"], manifest["decoys"]
    out_dir = data / "out"
    out_dir.mkdir(exist_ok=True)
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]

    # --- tools
    errors: dict[str, str] = {}
    cmds: dict[str, list] = {}
    reports: dict[str, Path] = {}
    parsers = {}
    versions = {}
    if "rg" in tools:
        rg = ensure_ripgrep()
        if rg:
            # the floor: one pass of every literal keyword keyhound's rules declare
            cmds["rg"] = [rg, "-uuu", "-F", "-c"] + [
                a for k in CATALOG.keywords for a in ("-e", k)] + [tree]
            versions["rg"] = version_of([rg, "--version"])
        else:
            errors["rg"] = "ripgrep could not be installed"
    kh_names = []
    if "keyhound" in tools:
        kh = REPO / "target" / "release" / "keyhound"
        if not args.no_build:
            print("cargo build --release", flush=True)
            log = out_dir / "cargo-build.log"
            with open(log, "wb") as fh:
                r = subprocess.run(["cargo", "build", "--release"], cwd=REPO, stdout=fh,
                                   stderr=subprocess.STDOUT)
            if r.returncode != 0:
                errors["keyhound"] = f"cargo build failed: {tail(str(log), 600)}"
        if "keyhound" not in errors and not os.access(kh, os.X_OK):
            errors["keyhound"] = f"{kh} missing"
        variants = [("keyhound", [])] + [
            (f"keyhound ({v.split('=', 1)[0]})", shlex.split(v.split("=", 1)[1] if "=" in v else v))
            for v in args.keyhound_variant]
        for name, extra in variants:
            kh_names.append(name)
            if "keyhound" in errors:
                errors[name] = errors["keyhound"]
                continue
            rep = out_dir / f"{re.sub(r'[^a-z0-9]+', '-', name).strip('-')}.json"
            cmds[name] = [str(kh), "scan", tree, "--format", "json", "--no-ignore",
                          "--show-secrets", "-o", str(rep)] + extra
            reports[name], parsers[name] = rep, parse_keyhound
        versions["keyhound"] = version_of([str(kh), "--version"])
    peers_wanted = [t for t in ("kingfisher", "gitleaks", "betterleaks") if t in tools]
    if peers_wanted:
        bins = ensure_peers(args.peers.resolve(), peers_wanted, out_dir / "peers-install.log")
        for t in peers_wanted:
            if t not in bins:
                errors[t] = "not installed (see out/peers-install.log)"
                continue
            rep = out_dir / f"{t}.json"
            reports[t] = rep
            if t == "kingfisher":
                # archives are extracted and binaries scanned by default; no validation, no
                # update check (there is no network)
                cmds[t] = [bins[t], "--no-update-check", "scan", tree, "--no-validate",
                           "--format", "json", "-o", str(rep)]
                parsers[t] = parse_kingfisher
                versions[t] = version_of([bins[t], "--version"])
            elif t == "gitleaks":
                # gitleaks opens no archive by default; depth 2 matches keyhound's default
                cmds[t] = [bins[t], "dir", tree, "--report-format", "json", "--report-path",
                           str(rep), "--no-banner", "--max-archive-depth", "2"]
                parsers[t] = parse_gitleaks
                versions[t] = version_of([bins[t], "version"])
            else:  # betterleaks: archives (depth 8) and decoding are on by default
                cmds[t] = [bins[t], "filesystem", tree, "--no-banner", "--no-color", "-o",
                           str(rep)]
                parsers[t] = parse_betterleaks
                versions[t] = version_of([bins[t], "version"])
    order = [t for t in ["rg"] + kh_names + ["kingfisher", "gitleaks", "betterleaks"]
             if t in cmds]

    # --- runs: warm-ups first, then the timed runs interleaved across tools
    runs: dict[str, list] = {t: [] for t in order}
    warm: dict[str, list] = {t: [] for t in order}
    slow: set = set()
    if not ensure_gnu_time():
        print("warning: no GNU time; peak RSS includes this runner's own RSS", flush=True)
    schedule = [(i, False) for i in range(args.warmup)] + [(i, True) for i in range(args.runs)]
    for i, timed in schedule:
        for t in list(order):
            if t in errors or (timed and t in slow):
                continue
            label = f"{re.sub(r'[^a-z0-9]+', '-', t).strip('-')}-{'run' if timed else 'warm'}{i}"
            if t in reports and reports[t].exists():
                reports[t].unlink()
            print(f"{'run' if timed else 'warm-up'} {i + 1}: {t} ... ", end="", flush=True)
            m = measure(cmds[t], out_dir, label, args.timeout)
            print(f"{m['wall_s']:.2f} s, {m['rss_bytes'] / 2**20:.0f} MiB, exit {m['exit']}"
                  f"{', other load %.1f cores' % m['other_load'] if m['other_load'] > 0.3 else ''}",
                  flush=True)
            (runs if timed else warm)[t].append(m)
            if m["timed_out"]:
                errors[t] = f"timed out after {args.timeout:.0f} s"
            elif t != "rg" and (t not in reports or not reports[t].exists()):
                errors[t] = f"no report (exit {m['exit']}): {tail(m['stderr'])}"
            elif t == "rg" and m["exit"] not in (0, 1):
                errors[t] = f"exit {m['exit']}: {tail(m['stderr'])}"
            elif not timed and i == args.warmup - 1 and 0 < args.slow_s < m["wall_s"]:
                # The tree is in the page cache already (the tools before it read all of it):
                # a scanner this slow is timed once, by this run, to keep the whole run short.
                slow.add(t)
                runs[t].append(m)
                print(f"  {t} took over {args.slow_s:.0f} s: this run is its only timed run",
                      flush=True)

    # --- scoring
    results = []
    scores = {}
    for t in order + [t for t in errors if t not in order]:
        row = {"tool": t, "command": shlex.join(cmds[t]) if t in cmds else None,
               "version": versions.get(t.split(" ")[0]), "error": errors.get(t)}
        rs = runs.get(t) or []
        if rs and not row["error"]:
            walls = [r["wall_s"] for r in rs]
            row.update(median_s=statistics.median(walls), runs_s=walls,
                       warmup_s=[r["wall_s"] for r in warm.get(t, [])],
                       peak_rss_mb=max(r["rss_bytes"] for r in rs) / MB,
                       cpu_s=statistics.median(r["cpu_s"] for r in rs),
                       other_load=statistics.median(r["other_load"] for r in rs),
                       exit_codes=sorted({r["exit"] for r in rs}))
            row["mb_s"] = total / MB / row["median_s"]
            row["single_run"] = t in slow
            row["rss_source"] = rs[0]["rss_source"]
        if t in parsers and not row["error"]:
            try:
                findings, meta = parsers[t](reports[t])
                sc = score_all(findings, plants, decoys, exact_only=t.startswith("keyhound"))
                scores[t] = sc
                row.update(recall=sc["recall"], found=len(sc["found"]), planted=len(plants),
                           decoys_reported=len(sc["decoy_hits"]), decoys_total=sc["decoys_total"],
                           findings=sc["findings"], unexpected=len(sc["unexpected"]),
                           other_findings=sc["other_findings"], categories=sc["categories"],
                           providers=sc["providers"], forms=sc["forms"],
                           decoy_providers=sc["decoy_providers"],
                           decoy_hits=list(sc["decoy_hits"].values()), meta=meta)
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
                row["error"] = f"could not read its report: {e!r}"
        if t == "rg" and rs and not row["error"]:
            try:
                row["marker_lines"] = sum(int(line.rsplit(":", 1)[1]) for line in
                                          Path(rs[-1]["stdout"]).read_text().splitlines())
            except (OSError, ValueError, IndexError):
                pass
        results.append(row)
    by_tool = {r["tool"]: r for r in results}
    rg_t = (by_tool.get("rg") or {}).get("median_s")
    kh_t = (by_tool.get("keyhound") or {}).get("median_s")
    for r in results:
        if r.get("median_s"):
            r["vs_rg"] = r["median_s"] / rg_t if rg_t else None
            r["vs_keyhound"] = r["median_s"] / kh_t if kh_t else None

    # --- report
    print()
    print(f"Tree: {total / MB:.0f} MB, {manifest['files']} files, {len(plants)} planted keys, "
          f"{len({d['decoy'] for d in decoys})} distinct decoys; seed {args.seed}; "
          f"{os.cpu_count()} CPUs; median of {args.runs} timed runs after {args.warmup} warm-up"
          + (f" (one run for tools slower than {args.slow_s:.0f} s: {', '.join(sorted(slow))})"
             if slow else "") + ".")
    print()
    print("| tool | median time (s) | MB/s | peak RSS (MB) | recall % | decoys reported "
          "| time vs ripgrep | time vs keyhound |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    f2 = lambda x, fmt="{:.2f}": fmt.format(x) if isinstance(x, (int, float)) else "n/a"  # noqa
    for r in results:
        if r.get("error"):
            print(f"| {r['tool']} | failed: {r['error'][:120].replace('|', '/')} | | | | | | |")
            continue
        recall = f"{100 * r['recall']:.1f}" if "recall" in r else "n/a"
        dec = f"{r['decoys_reported']}/{r['decoys_total']}" if "recall" in r else "n/a"
        print(f"| {r['tool']} | {f2(r.get('median_s'))} | {f2(r.get('mb_s'), '{:.0f}')} | "
              f"{f2(r.get('peak_rss_mb'), '{:.0f}')} | {recall} | {dec} | {f2(r.get('vs_rg'))} | "
              f"{f2(r.get('vs_keyhound'))} |")
    print()
    print("| tool | timed runs (s) | CPU s (user+sys) | other load (cores) | exit | findings "
          "| neither key nor decoy |")
    print("|---|---|---:|---:|---|---:|---:|")
    for r in results:
        if r.get("error") or "runs_s" not in r:
            continue
        runs_txt = ", ".join(f"{x:.2f}" for x in r["runs_s"])
        if r.get("single_run"):
            runs_txt += " (its warm-up: slower than --slow-s)"
        print(f"| {r['tool']} | {runs_txt} | {r['cpu_s']:.1f} | {r['other_load']:.2f} | "
              f"{','.join(map(str, r['exit_codes']))} | {r.get('findings', r.get('marker_lines', 'n/a'))} | "
              f"{r.get('unexpected', 'n/a')} |")
    busy = [r["tool"] for r in results if (r.get("other_load") or 0) > 0.3]
    if busy:
        print(f"\nWarning: other processes kept more than 0.3 of a core busy during the runs of "
              f"{', '.join(busy)} (see 'other load'): those timings are disturbed.")
    scored = [r for r in results if "categories" in r]
    if scored:
        print()
        print("Recall by where the key was planted (found/planted):")
        print()
        print("| category | " + " | ".join(r["tool"] for r in scored) + " |")
        print("|---|" + "---:|" * len(scored))
        for cat, *_ in PLANT_CATEGORIES:
            cells = []
            for r in scored:
                f, n = r["categories"].get(cat, [0, 0])
                cells.append(f"{f}/{n}")
            print(f"| {cat} | " + " | ".join(cells) + " |")
        print()
        print("Split and doubly-encoded keys by form (found/planted):")
        print()
        print("| form | " + " | ".join(r["tool"] for r in scored) + " |")
        print("|---|" + "---:|" * len(scored))
        for form in list(pv.SPLIT_FORMS) + list(pv.ENCODED_FORMS):
            print(f"| {form} | " + " | ".join(
                "%d/%d" % tuple(r["forms"].get(form, [0, 0])) for r in scored) + " |")
        print()
        print("Per provider: keys found/planted, then decoys reported/planted (false alarms):")
        print()
        print("| provider | " + " | ".join(f"{r['tool']} recall" for r in scored) + " | "
              + " | ".join(f"{r['tool']} decoys" for r in scored) + " |")
        print("|---|" + "---:|" * (2 * len(scored)))
        provs = sorted({p for r in scored for p in r["providers"]} |
                       {p for r in scored for p in r["decoy_providers"]},
                       key=lambda p: (p != "openai", p))
        for prov in provs:
            rec = ["%d/%d" % tuple(r["providers"].get(prov, [0, 0])) for r in scored]
            dec = ["%d/%d" % tuple(r["decoy_providers"].get(prov, [0, 0])) for r in scored]
            print(f"| {prov} | " + " | ".join(rec) + " | " + " | ".join(dec) + " |")
        for r in scored:
            if r["decoy_hits"]:
                kinds: dict[str, list] = {}
                for h in r["decoy_hits"]:
                    k = kinds.setdefault(h["kind"], [0, set()])
                    k[0] += 1
                    k[1].update(h["rules"])
                print(f"\n{r['tool']} reported decoys: " + ", ".join(
                    f"{k} ×{v[0]} (rule {', '.join(sorted(v[1]))})"
                    for k, v in sorted(kinds.items())))

    # --- keyhound verdict
    status = 0
    kh_row = by_tool.get("keyhound")
    if kh_row is not None:
        if kh_row.get("error"):
            print(f"\nFAIL: keyhound did not run: {kh_row['error']}")
            status = 1
        elif "keyhound" in scores:
            sc = scores["keyhound"]
            missed = [p for p in plants if p["needle"] not in sc["found"]]
            meta = kh_row.get("meta") or {}
            if meta.get("complete") is False:
                print(f"\nkeyhound says the scan was incomplete: {meta.get('skipped')}")
            if missed:
                status = 1
                print(f"\nFAIL: keyhound missed {len(missed)} of {len(plants)} planted keys:")
                for p in missed:
                    where = p["path"] + (f"!{p['member']}" if p["member"] else "")
                    extra = f"; {p['note']}" if p["note"] else ""
                    print(f"  - [{p['category']}, {p['encoding']}, {p['rule']}] {where} "
                          f"line {p['line']}: {p['context']}: {p['snippet']}{extra}")
            if sc["decoy_hits"]:
                status = 1
                print(f"\nFAIL: keyhound reported {len(sc['decoy_hits'])} decoys:")
                for h in sc["decoy_hits"].values():
                    print(f"  - [{h['kind']}] reported {h['reported']} "
                          f"(rules {', '.join(h['rules'])}) planted at {h['where'][:2]}")
            if sc["unexpected"]:
                status = 1
                print(f"\nFAIL: keyhound reported {len(sc['unexpected'])} findings that are "
                      f"neither planted keys nor decoys:")
                for f in sc["unexpected"][:30]:
                    print(f"  - {f['rule']}: {redact(f['secret'])} ({len(f['secret'])} chars) "
                          f"in {f['path']}"
                          f"{'!' + f['member'] if f.get('member') else ''} line {f['line']}")
            if status == 0:
                print(f"\nOK: keyhound found all {len(plants)} planted keys and reported no decoy.")
    if args.json:
        doc = {"params": manifest["params"], "tree": {"bytes": total, "files": manifest["files"],
                                                      "by_kind": manifest["by_kind"]},
               "runs": args.runs, "warmup": args.warmup, "cpus": os.cpu_count(),
               "results": results}
        if "keyhound" in scores:
            doc["keyhound_missed"] = [
                {k: p[k] for k in ("category", "encoding", "rule", "provider", "path", "member",
                                   "line", "context", "snippet", "note")} | {"key": redact(p["key"])}
                for p in plants if p["needle"] not in scores["keyhound"]["found"]]
        args.json.write_text(json.dumps(doc, indent=1, default=str))
        print(f"\nwrote {args.json}")
    return status


if __name__ == "__main__":
    sys.exit(main())
