#!/usr/bin/env bash
# Installs keyhound for the GitHub Action: the release archive for this runner's OS and
# architecture, checked against the SHA-256 digests pinned in the action at release time
# (action-digests.txt), or, when the pinned version is not this source's version or no archive
# exists for the runner, a build of the action's own source with cargo.
#
#   scripts/install-action.sh BASE_URL DEST_DIR
#
# BASE_URL: where releases are (https://github.com/keyhound/keyhound/releases/download); the
# archive is BASE_URL/vVERSION/keyhound-TARGET-vVERSION.tar.gz (.zip on Windows). Plain http://
# is refused except to loopback. No environment variable is read for it.
# DEST_DIR: where the binary goes; added to GITHUB_PATH when that is set. On any failure nothing
# is put there and the script exits non-zero: a download that does not match its digest is never
# run.
set -euo pipefail

tmp=""
die() { echo "keyhound install: error: $*" >&2; exit 1; }
say() { echo "keyhound install: $*" >&2; }

[ $# -eq 2 ] || die "usage: install-action.sh BASE_URL DEST_DIR"
base_url="${1%/}"
dest="$2"
action_dir="$(cd "$(dirname "$0")/.." && pwd)"
digests_file="$action_dir/action-digests.txt"

check_base_url() {
  case "$1" in
    https://*) ;;
    http://127.*|http://localhost|http://localhost[:/]*|http://\[::1\]*) ;;
    http://*) die "refusing plain http:// to a non-loopback host: $1 (use https://)" ;;
    *) die "not an https:// URL: $1" ;;
  esac
}

# The Rust target of this runner's release archive, or nothing when there is none.
runner_target() {
  local os arch
  os="$(uname -s)"
  arch="$(uname -m)"
  case "$os/$arch" in
    Linux/x86_64) echo x86_64-unknown-linux-musl ;;
    Linux/aarch64 | Linux/arm64) echo aarch64-unknown-linux-musl ;;
    Darwin/x86_64) echo x86_64-apple-darwin ;;
    Darwin/arm64 | Darwin/aarch64) echo aarch64-apple-darwin ;;
    MINGW*/x86_64 | MSYS*/x86_64 | CYGWIN*/x86_64) echo x86_64-pc-windows-msvc ;;
    *) ;;
  esac
}

# The version in the action's Cargo.toml ([package] comes first).
source_version() {
  sed -n 's/^version = "\(.*\)"$/\1/p' "$action_dir/Cargo.toml" | head -n 1
}

# The pinned version and the pinned digest of file $1.
pinned_version() { sed -n 's/^version \(.*\)$/\1/p' "$digests_file" | head -n 1; }
pinned_digest() { awk -v f="$1" '$2 == f { print $1 }' "$digests_file" | head -n 1; }

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# Puts the binary $1 into DEST_DIR and DEST_DIR on the job's PATH.
place() {
  local bin="$1" name
  name="$(basename "$bin")"
  "$bin" --version >/dev/null || die "the installed binary does not run: $bin"
  mkdir -p "$dest"
  cp "$bin" "$dest/$name.tmp"
  mv -f "$dest/$name.tmp" "$dest/$name"
  if [ -n "${GITHUB_PATH:-}" ]; then echo "$dest" >> "$GITHUB_PATH"; fi
  say "installed $("$dest/$name" --version) in $dest"
}

# Builds the action's own source (a binary restored by the action's cache is reused).
build_from_source() {
  say "building keyhound from the action's source with cargo: $1"
  local root="${CARGO_HOME:-$HOME/.cargo}"
  local built="$root/bin/keyhound"
  if [ -x "$built" ] && [ "$("$built" --version 2>/dev/null)" = "keyhound $(source_version)" ]; then
    say "reusing $built (restored from the cache)"
  else
    command -v cargo >/dev/null 2>&1 || die "cargo is not installed: set up Rust first (e.g. dtolnay/rust-toolchain)"
    cargo install --locked --path "$action_dir" --root "$root"
  fi
  place "$built"
}

download() {
  local url="$1" out="$2" proto="=https"
  case "$url" in http://*) proto="=http" ;; esac
  curl --proto "$proto" --tlsv1.2 -fsSL --retry 3 --retry-connrefused -o "$out" "$url" \
    || die "cannot download $url (see curl's message above): nothing installed"
}

main() {
  check_base_url "$base_url"
  [ -f "$digests_file" ] || die "$digests_file is missing: the action's pinned digests are needed"
  local version target ext file digest
  version="$(pinned_version)"
  target="$(runner_target)"
  if [ "$version" != "$(source_version)" ]; then
    build_from_source "the pinned release ($version) is not this action's version ($(source_version))"
    return
  fi
  ext=tar.gz
  case "$target" in *windows*) ext=zip ;; esac
  file="keyhound-$target-v$version.$ext"
  digest="$(pinned_digest "$file")"
  if [ -z "$target" ] || [ -z "$digest" ]; then
    build_from_source "no release archive for this runner ($(uname -s) $(uname -m))"
    return
  fi
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  download "$base_url/v$version/$file" "$tmp/$file"
  local got
  got="$(sha256 "$tmp/$file")"
  [ "$got" = "$digest" ] || die "$file does not match the digest pinned in the action (expected $digest, got $got): nothing installed"
  mkdir "$tmp/x"
  case "$ext" in
    zip) (cd "$tmp/x" && unzip -q "../$file") || die "cannot unpack $file" ;;
    *) tar -xzf "$tmp/$file" -C "$tmp/x" || die "cannot unpack $file" ;;
  esac
  local bin="$tmp/x/keyhound-$target-v$version/keyhound"
  case "$ext" in zip) bin="$bin.exe" ;; esac
  [ -f "$bin" ] || die "$file holds no keyhound-$target-v$version/$(basename "$bin")"
  place "$bin"
}

main
