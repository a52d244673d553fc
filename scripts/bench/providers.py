"""Keys and decoys of every provider keyhound has rules for, built at run time for run.py.

The key formats come from rules/*.toml (each rule's kind, keywords, pattern and context); the
bodies are random, drawn by a port of keyhound's template language (src/rules/template.rs) with
valid checksums: GitHub's and npm's base62 CRC-32, GitHub fine-grained tokens' base32 SHA-256 and
Azure's annotated keys' Marvin32 (src/matcher/checksum.rs). Each generated key is checked
against its rule's pattern (Python's `re` reads keyhound's patterns) before it is planted. No
key literal is written in this file: the templates name formats, never keys.

Python 3.11 standard library only (tomllib).
"""
from __future__ import annotations

import base64
import hashlib
import random
import re
import string
import tomllib
import urllib.parse
import zlib
from pathlib import Path

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"

ALNUM = string.ascii_uppercase + string.ascii_lowercase + string.digits
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ALPHABETS = {
    "alnum": ALNUM, "b64url": ALNUM + "-_", "b64": ALNUM + "+/", "hex": "0123456789abcdef",
    "base58": "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz",
    "letters": string.ascii_letters, "lower": string.ascii_lowercase,
    "upper": string.ascii_uppercase, "digit": string.digits,
}


# --------------------------------------------------------------------------------------------
# Checksums (ports of src/matcher/checksum.rs)

def crc32_base62(body: str, n: int = 6) -> str:
    v = zlib.crc32(body.encode())
    out = []
    for _ in range(n):
        out.append(BASE62[v % 62])
        v //= 62
    return "".join(reversed(out))


def sha256_base32(body: str, n: int) -> str:
    return base64.b32encode(hashlib.sha256(body.encode()).digest()).decode().rstrip("=")[:n]


_M32 = 0xFFFFFFFF


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M32


def _marvin_block(p0: int, p1: int) -> tuple[int, int]:
    p1 ^= p0
    p0 = _rotl(p0, 20)
    p0 = (p0 + p1) & _M32
    p1 = _rotl(p1, 9)
    p1 ^= p0
    p0 = _rotl(p0, 27)
    p0 = (p0 + p1) & _M32
    p1 = _rotl(p1, 19)
    return p0, p1


def marvin32(data: bytes, seed: int) -> int:
    p0, p1 = seed & _M32, seed >> 32
    whole = len(data) - len(data) % 4
    for i in range(0, whole, 4):
        p0 = (p0 + int.from_bytes(data[i:i + 4], "little")) & _M32
        p0, p1 = _marvin_block(p0, p1)
    rest = data[whole:]
    last = 0x80 << (8 * len(rest))
    for i, b in enumerate(rest):
        last |= b << (8 * i)
    p0 = (p0 + last) & _M32
    p0, p1 = _marvin_block(p0, p1)
    p0, p1 = _marvin_block(p0, p1)
    return p0 ^ p1


AZURE_SEED = int.from_bytes(b"Default0", "big")


def azure_checksum(body: str, n: int = 4) -> str:
    """Base62 of the Marvin32 of the 60 bytes an annotated key's first 80 characters decode to."""
    s = marvin32(base64.b64decode(body), AZURE_SEED).to_bytes(4, "little")
    zeros = min(3, len(s) - len(s.lstrip(b"\0")))
    v = int.from_bytes(s, "big")
    digits = [] if v else ["0"]
    while v:
        digits.append(BASE62[v % 62])
        v //= 62
    digits += ["0"] * zeros
    return "".join(reversed(digits))[:n]


def pem_body(rng: random.Random, n: int, sep: str, openssh: bool = False) -> str:
    raw = rng.randbytes(n)
    data = b"openssh-key-v1\0" + raw if openssh else bytes([0x30, 0x82, n >> 8, n & 0xFF]) + raw
    b64 = base64.b64encode(data).decode()
    return b64 if not sep else sep.join(b64[i:i + 64] for i in range(0, len(b64), 64))


# --------------------------------------------------------------------------------------------
# Templates (a port of src/rules/template.rs, drawing from Python's random)

def longest_run(s: str) -> int:
    """Longest run of repeated (aaaa) or sequential (abcd, 4321) characters, as keyhound counts."""
    if not s:
        return 0
    best = same = up = down = 1
    for a, b in zip(s, s[1:]):
        same = same + 1 if b == a else 1
        up = up + 1 if a.isalnum() and ord(b) == ord(a) + 1 else 1
        down = down + 1 if a.isalnum() and ord(b) == ord(a) - 1 else 1
        best = max(best, same, up, down)
    return best


def diverse(rng: random.Random, alphabet: str, n: int) -> str:
    """Random text with no run of 4 repeated or sequential characters."""
    out: list[str] = []
    while len(out) < n:
        out.append(rng.choice(alphabet))
        if len(out) >= 4 and longest_run("".join(out[-4:])) >= 4:
            out.pop()
    return "".join(out)


def _spoil(s: str) -> str:
    return ("B" if s[0] == "A" else "A") + s[1:]


TOKEN = re.compile(r"\{\{|\{([^{}]*)\}")


def expand(template: str, rng: random.Random) -> str:
    out: list[str] = []
    pos = 0
    for m in TOKEN.finditer(template):
        out.append(template[pos:m.start()])
        pos = m.end()
        if m.group(0) == "{{":
            out.append("{")
            continue
        parts = m.group(1).split(":")
        name, done = parts[0], "".join(out)
        if name in ALPHABETS:
            out.append(diverse(rng, ALPHABETS[name], int(parts[1])))
        elif name == "repeat":
            out.append(parts[1] * int(parts[2]))
        elif name == "seq":
            out.append("".join(string.ascii_lowercase[i % 26] for i in range(int(parts[1]))))
        elif name in ("crc32", "crc32bad"):
            s = crc32_base62(done[-int(parts[1]):])
            out.append(_spoil(s) if name.endswith("bad") else s)
        elif name in ("sha256b32", "sha256b32bad"):
            s = sha256_base32(done[-int(parts[1]):], int(parts[2]))
            out.append(_spoil(s) if name.endswith("bad") else s)
        elif name in ("marvin", "marvinbad"):
            s = azure_checksum(done[-int(parts[1]):])
            out.append(_spoil(s) if name.endswith("bad") else s)
        elif name in ("der", "der1", "derjson", "openssh"):
            sep = {"der": "\n", "der1": "", "derjson": "\\n", "openssh": "\n"}[name]
            out.append(pem_body(rng, int(parts[1]), sep, name == "openssh"))
        else:
            raise ValueError(f"bad template token {m.group(0)}")
    out.append(template[pos:])
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Rules

def load_rules() -> list[dict]:
    rules = []
    for path in sorted(RULES_DIR.glob("*.toml")):
        with open(path, "rb") as fh:
            rules += tomllib.load(fh).get("rule", [])
    return rules


def all_keywords(rules: list[dict]) -> list[str]:
    """Every literal keyword the rules declare (what keyhound's prefilter looks for)."""
    return sorted({k for r in rules for k in r.get("keywords", [])})


# What each rule's planted key looks like (a template), and for the rules whose format is weak,
# a line naming the provider put right above the key when its context line does not already.
# OpenAI keys come from run.py's KEY_SHAPES (the shapes the benchmark has always planted).
KEYS = {
    "kh.anthropic.api": "sk-ant-api03-{b64url:93}AA",
    "kh.anthropic.admin": "sk-ant-admin01-{b64url:93}AA",
    "kh.google.api-key": "AIza{b64url:35}",
    "kh.google.gemini": "AQ.Ab8RN6{b64url:44}",
    "kh.groq.api": "gsk_{alnum:20}WGdyb3FY{alnum:24}",
    "kh.xai.api": "xai-{alnum:80}",
    "kh.openrouter.api": "sk-or-v1-{hex:64}",
    "kh.huggingface.user": "hf_{letters:34}",
    "kh.huggingface.org": "api_org_{letters:34}",
    "kh.replicate.api": "r8_{alnum:37}",
    "kh.perplexity.api": "pplx-{alnum:48}",
    "kh.together.api": "tgp_v1_{b64url:43}",
    "kh.fireworks.api": "fw_{base58:24}",
    "kh.azure-openai.annotated": "{alnum:52}JQQJ99{alnum:1}C{alnum:12}AAABACOG{marvin:80}",
    "kh.azure-openai.legacy": "{hex:32}",
    "kh.deepseek.api": "sk-{hex:32}",
    "kh.qwen.api": "sk-{hex:32}",
    "kh.mistral.api": "{alnum:30}{digit:2}",
    "kh.cohere.api": "{alnum:38}{digit:2}",
    "kh.moonshot.api": "sk-{alnum:48}",
    "kh.github.pat-classic": "ghp_{alnum:30}{crc32:30}",
    "kh.github.oauth": "gho_{alnum:30}{crc32:30}",
    "kh.github.user-to-server": "ghu_{alnum:30}{crc32:30}",
    "kh.github.refresh": "ghr_{alnum:70}{crc32:70}",
    "kh.github.server-to-server": "ghs_{alnum:30}{crc32:30}",
    "kh.github.pat-fine-grained": "github_pat_{digit:1}{alnum:21}_{alnum:43}{sha256b32:77:8}{alnum:8}",
    "kh.gitlab.pat-routable": "glpat-{b64url:36}.01.{lower:9}",
    "kh.gitlab.pat": "glpat-{b64url:20}",
    "kh.gitlab.deploy": "gldt-{b64url:20}",
    "kh.gitlab.feed": "glft-{b64url:20}",
    "kh.npm.access": "npm_{alnum:30}{crc32:30}",
    "kh.pypi.api": "pypi-AgEIcHlwaS5vcmc{b64url:160}",
    "kh.pypi.test": "pypi-AgENdGVzdC5weXBpLm9yZw{b64url:160}",
    "kh.aws.access-key": "AKIA{upper:16}",
    "kh.aws.session-key": "ASIA{upper:16}",
    "kh.stripe.secret-live": "sk_live_{alnum:24}",
    "kh.stripe.restricted-live": "rk_live_{alnum:24}",
    "kh.stripe.secret-test": "sk_test_{alnum:24}",
    "kh.stripe.restricted-test": "rk_test_{alnum:24}",
    "kh.slack.bot": "xoxb-{digit:12}-{digit:13}-{alnum:24}",
    "kh.slack.bot-legacy": "xoxb-{digit:11}-{alnum:24}",
    "kh.slack.user": "xoxp-{digit:12}-{digit:12}-{digit:13}-{hex:32}",
    "kh.slack.other": "xoxe-1-{alnum:60}",
    "kh.slack.app": "xapp-1-A{upper:10}-{digit:13}-{hex:64}",
    "kh.slack.webhook": "https://hooks.slack.com/services/T{upper:10}/B{upper:10}/{alnum:24}",
    # multi-line: planted alone on their lines; found when a finding's secret holds the body
    "kh.gcp.service-account": (
        '{{"type": "service_account", "project_id": "demo-{lower:6}", "private_key_id": '
        '"{hex:40}", "private_key": "-----BEGIN PRIVATE KEY-----\\n{derjson:1210}\\n'
        '-----END PRIVATE KEY-----\\n", "client_email": "bot@demo.iam.gserviceaccount.com"}}'),
    "kh.private-key.pem": ("-----BEGIN RSA PRIVATE KEY-----\n{der:1190}\n"
                           "-----END RSA PRIVATE KEY-----"),
    "kh.private-key.encrypted": ("-----BEGIN ENCRYPTED PRIVATE KEY-----\n{der:1250}\n"
                                 "-----END ENCRYPTED PRIVATE KEY-----"),
}
MULTILINE = {"kh.gcp.service-account", "kh.private-key.pem", "kh.private-key.encrypted"}
HINTS = {  # a line that names the provider, for the rules that need context within 5 lines
    "deepseek": 'base_url = "https://api.deepseek.com"',
    "qwen": 'base_url = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"',
    "mistral": 'endpoint = "https://api.mistral.ai/v1"',
    "cohere": 'endpoint = "https://api.cohere.com/v2"',
    "moonshot": 'base_url = "https://api.moonshot.ai/v1"',
    "fireworks": 'base_url = "https://api.fireworks.ai/inference/v1"',
    "azure-openai": 'azure_endpoint = "https://contoso-{lower:5}.openai.azure.com/"',
}
# How the generic contexts (written for OpenAI: OPENAI_API_KEY, OpenAI(...)) name a provider:
# environment variable prefix, lower-case name, SDK class.
NAMES = {
    "openai": ("OPENAI", "openai", "OpenAI"), "anthropic": ("ANTHROPIC", "anthropic", "Anthropic"),
    "google": ("GEMINI", "gemini", "Gemini"), "groq": ("GROQ", "groq", "Groq"),
    "xai": ("XAI", "xai", "XAI"), "openrouter": ("OPENROUTER", "openrouter", "OpenRouter"),
    "huggingface": ("HF", "huggingface", "HuggingFace"),
    "replicate": ("REPLICATE", "replicate", "Replicate"),
    "perplexity": ("PERPLEXITY", "perplexity", "Perplexity"),
    "together": ("TOGETHER", "together", "Together"),
    "fireworks": ("FIREWORKS", "fireworks", "Fireworks"),
    "azure-openai": ("AZURE_OPENAI", "azure_openai", "AzureOpenAI"),
    "deepseek": ("DEEPSEEK", "deepseek", "DeepSeek"), "qwen": ("DASHSCOPE", "dashscope", "Qwen"),
    "mistral": ("MISTRAL", "mistral", "Mistral"), "cohere": ("COHERE", "cohere", "Cohere"),
    "moonshot": ("MOONSHOT", "moonshot", "Moonshot"), "github": ("GITHUB", "github", "Github"),
    "gitlab": ("GITLAB", "gitlab", "Gitlab"), "npm": ("NPM", "npm", "Npm"),
    "pypi": ("PYPI", "pypi", "PyPI"), "aws": ("AWS", "aws", "Boto3"),
    "stripe": ("STRIPE", "stripe", "Stripe"), "slack": ("SLACK", "slack", "Slack"),
    "gcp": ("GCP", "gcp", "Gcp"), "private-key": ("TLS", "tls", "Tls"),
    None: ("SERVICE", "service", "Service"),  # names no provider (decoys without context)
}


def rename(text: str, provider: str | None) -> str:
    env, low, cls = NAMES[provider]
    return text.replace("OPENAI", env).replace("openai", low).replace("OpenAI", cls)


# Decoys per provider: (kind, template, how the context names it). "named" contexts name the
# provider (OPENAI_API_KEY becomes DEEPSEEK_API_KEY...), "neutral" ones name none: a weak-format
# key without context is not a finding. Multi-line decoys are planted alone.
DECOYS = {
    "anthropic": [("repeated-x", "sk-ant-api03-{repeat:x:93}AA", "named"),
                  ("wrong-tail", "sk-ant-api03-{b64url:93}AB", "named")],
    "google": [("repeated-x", "AIzaSy{repeat:X:33}", "named"),
               ("truncated", "AIza{b64url:30}", "named")],
    "groq": [("off-centre", "gsk_{alnum:21}WGdyb3FY{alnum:24}", "named"),
             ("repeated-x", "gsk_{repeat:x:20}WGdyb3FY{repeat:x:24}", "named")],
    "xai": [("placeholder", "xai-your-api-key", "named"),
            ("repeated-x", "xai-{repeat:x:80}", "named")],
    "openrouter": [("zeros", "sk-or-v1-{repeat:0:64}", "named")],
    "huggingface": [("repeated-x", "hf_{repeat:x:34}", "named")],
    "replicate": [("repeated-x", "r8_{repeat:x:37}", "named")],
    "perplexity": [("repeated-x", "pplx-{repeat:x:48}", "named")],
    "together": [("repeated-x", "tgp_v1_{repeat:x:43}", "named")],
    "fireworks": [("no-context", "fw_{base58:24}", "neutral"),
                  ("repeated-x", "fw_{repeat:x:24}", "named")],
    "azure-openai": [("checksum-invalid",
                      "{alnum:52}JQQJ99{alnum:1}C{alnum:12}AAABACOG{marvinbad:80}", "named"),
                     ("no-endpoint", "{hex:32}", "named")],
    "deepseek": [("no-context", "sk-{hex:32}", "neutral"),
                 ("repeated", "sk-{repeat:a:32}", "named")],
    "qwen": [("repeated", "sk-{repeat:a:32}", "named")],
    "mistral": [("no-context", "{alnum:30}{digit:2}", "neutral"),
                ("no-digits", "{letters:32}", "named")],
    "cohere": [("no-context", "{alnum:38}{digit:2}", "neutral"),
               ("git-sha", "{hex:40}", "named")],
    "moonshot": [("no-context", "sk-{alnum:48}", "neutral"),
                 ("repeated-x", "sk-{repeat:x:48}", "named")],
    "github": [("checksum-invalid", "ghp_{alnum:30}{crc32bad:30}", "named"),
               ("checksum-invalid", "gho_{alnum:30}{crc32bad:30}", "named"),
               ("repeated-x", "ghp_{repeat:x:36}", "named"),
               ("checksum-invalid",
                "github_pat_{digit:1}{alnum:21}_{alnum:43}{sha256b32bad:77:8}{alnum:8}", "named")],
    "gitlab": [("repeated-x", "glpat-{repeat:x:20}", "named")],
    "npm": [("checksum-invalid", "npm_{alnum:30}{crc32bad:30}", "named")],
    "pypi": [("repeated-x", "pypi-AgEIcHlwaS5vcmc{repeat:x:160}", "named"),
             ("truncated", "pypi-AgEIcHlwaS5vcmc{b64url:100}", "named")],
    "aws": [("documented", "AKIAIOSFODNN7EXAMPLE", "named"),
            ("repeated-x", "AKIA{repeat:X:16}", "named"),
            ("lone-secret", "{b64:40}", "named")],
    "stripe": [("publishable", "pk_live_{alnum:99}", "named"),
               ("publishable", "pk_test_{alnum:24}", "named"),
               ("repeated-x", "sk_live_{repeat:x:24}", "named")],
    "slack": [("placeholder", "xoxb-your-token", "named"),
              ("repeated-x", "xoxb-{digit:12}-{digit:13}-{repeat:x:24}", "named"),
              ("placeholder", "https://hooks.slack.com/services/T000/B000/XXXX", "named")],
    "gcp": [("placeholder",
             '{{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\n'
             'MIIEvQIBADANBg...xxxx\\n-----END PRIVATE KEY-----\\n"}}', "multiline")],
    "private-key": [("placeholder", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
                     "...test...xxxx\n-----END PRIVATE KEY-----", "multiline"),
                    ("not-der", "-----BEGIN RSA PRIVATE KEY-----\n{b64url:64}\n{b64url:64}\n"
                     "-----END RSA PRIVATE KEY-----", "multiline")],
}


class Catalog:
    """The rules and what is planted for each."""

    def __init__(self):
        self.rules = {r["id"]: r for r in load_rules()}
        self.keywords = all_keywords(list(self.rules.values()))
        self.patterns = {i: re.compile(r["pattern"]) for i, r in self.rules.items()}
        self.context = {i: [re.compile(c, re.I) for c in r.get("context", [])]
                        for i, r in self.rules.items()}
        missing = [i for i, r in self.rules.items()
                   if i not in KEYS and not i.startswith("kh.openai.") and not r.get("placeholder")]
        if missing:
            raise SystemExit(f"scripts/bench/providers.py: no key template for {missing}")
        self.key_rules = [i for i in self.rules if i in KEYS]

    def provider(self, rule_id: str) -> str:
        return self.rules[rule_id]["provider"]

    def needs_context(self, rule_id: str) -> bool:
        return bool(self.context.get(rule_id))

    def named(self, rule_id: str, text: str) -> bool:
        """Whether `text` holds one of the rule's context words."""
        return any(c.search(text) for c in self.context.get(rule_id, []))

    def make_key(self, rng: random.Random, rule_id: str, seen: set) -> tuple[str, str]:
        """(planted text, what a finding's secret must be or hold)."""
        for _ in range(100):
            text = expand(KEYS[rule_id], rng)
            m = self.patterns[rule_id].search(text)
            if m is None:
                raise SystemExit(f"generator bug: {rule_id}'s template does not match its pattern")
            secret = m.group("secret") if "secret" in m.groupdict() else m.group(0)
            if rule_id in MULTILINE:
                body = m.group("body").replace("\\n", "\n").strip()
                needle = body[:48]
            else:
                if secret != text:
                    raise SystemExit(f"generator bug: {rule_id}: the pattern matches "
                                     f"{len(secret)} of {len(text)} characters")
                needle = text
            if rule_id not in MULTILINE and longest_run(text) >= 5:
                continue  # a run across two tokens (`…567` + `89`): keyhound's placeholder check
            if needle not in seen:
                seen.add(needle)
                return text, needle
        raise SystemExit(f"generator bug: {rule_id}: no fresh key")

    def hint(self, rng: random.Random, rule_id: str) -> str | None:
        h = HINTS.get(self.provider(rule_id)) if self.needs_context(rule_id) else None
        return expand(h, rng) if h else None


# --------------------------------------------------------------------------------------------
# Split and doubly-encoded keys (issue 18)

SPLIT_FORMS = {  # form: (file kind, template with {a} {b} [{c}] as the pieces)
    "py-plus": ("py", 'OPENAI_API_KEY = "{a}" + "{b}"'),
    "py-adjacent": ("py", 'API_KEY = (\n    "{a}"\n    "{b}"\n)'),
    "py-join": ("py", 'key = "".join(["{a}", "{b}", "{c}"])'),
    "js-plus": ("js", "const openaiKey = '{a}' +\n  '{b}';"),
    "go-plus": ("go", '\tkey := "{a}" +\n\t\t"{b}"'),
    "yaml-folded": ("yaml", "  openai_api_key: >-\n    {a}\n    {b}"),
    "yaml-quoted-continuation": ("yaml", '  OPENAI_API_KEY: "{a}\\\n    {b}"'),
}
ENCODED_FORMS = {  # form: file kind
    "base64-of-urlencoded": "log", "base64-of-base64": "yaml", "hex-escape": "py",
    "hex-string": "json",
}


def split_line(rng: random.Random, form: str, key: str, provider: str) -> tuple[str, str]:
    """(the line holding the key in pieces, its first piece)."""
    tpl = SPLIT_FORMS[form][1]
    n = 3 if "{c}" in tpl else 2
    # cut in the middle half, so that no piece is a (shorter) key of its own
    cuts = sorted(rng.sample(range(len(key) // 4, 3 * len(key) // 4), n - 1))
    pieces = [key[i:j] for i, j in zip([0] + cuts, cuts + [len(key)])]
    line = rename(tpl, provider)
    for name, piece in zip("abc", pieces):
        line = line.replace("{" + name + "}", piece)
    return line, pieces[0]


def encoded_line(rng: random.Random, form: str, key: str, provider: str) -> tuple[str, str]:
    """(the line holding the key under two encodings, the encoded text)."""
    env = NAMES[provider][0]
    if form == "base64-of-urlencoded":
        q = urllib.parse.quote(f"{env}_API_KEY={key}&scope=all", safe="")
        enc = base64.b64encode(q.encode()).decode()
        ts = "2024-%02d-%02dT10:%02d:00Z" % (rng.randint(1, 12), rng.randint(1, 28),
                                             rng.randint(0, 59))
        return f"{ts} DEBUG [web] state={enc} restored", enc
    if form == "base64-of-base64":
        inner = base64.b64encode(f"{env}_API_KEY={key}\n".encode())
        enc = base64.b64encode(inner).decode()
        return f"  credentials: {enc}", enc
    if form == "hex-escape":
        enc = "".join(f"\\x{b:02x}" for b in key.encode())
        return f'{env}_API_KEY = b"{enc}"', enc
    if form == "hex-string":
        enc = key.encode().hex()
        return f'    {{"id": {rng.randint(1, 99)}, "{env.lower()}_key_hex": "{enc}"}},', enc
    raise ValueError(form)
