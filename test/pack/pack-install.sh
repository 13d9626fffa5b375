#!/usr/bin/env bash
# Proves that `npm pack` makes a package that installs and runs away from the clone: packs legate,
# installs the tarball into an empty temp prefix (dependencies from the npm registry; better-sqlite3
# may build from source, 1-2 minutes), then runs the installed `legate --version`, `legate demo` in
# an empty directory and `legate completion bash`, with a minimal environment (no key, no config).
# Usage: test/pack/pack-install.sh   (exit 0 and "pack-install: ok" when all of that works)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/legate-pack-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "pack-install: FAILED: $*" >&2; exit 1; }

cd "$root"
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
[ -f "$work/$tarball" ] || fail "npm pack did not produce a tarball (got '$tarball')"
echo "pack-install: packed $tarball"

prefix="$work/prefix"
mkdir -p "$prefix"
(cd "$work" && npm install --prefix "$prefix" --no-audit --no-fund "$work/$tarball") || fail "npm install of $tarball"
bin="$prefix/node_modules/.bin/legate"
[ -x "$bin" ] || fail "no executable at $bin"

# A minimal environment, run from outside the clone: nothing can come from the checkout.
empty="$work/empty"
mkdir -p "$empty" "$work/home"
run() { (cd "$empty" && env -i PATH="$PATH" HOME="$work/home" LEGATE_HOME="$work/home/.legate" "$bin" "$@"); }

expected=$(node -p "require('$root/package.json').version")
version=$(run --version) || fail "legate --version exited non-zero"
[ "$version" = "$expected" ] || fail "legate --version printed '$version', expected '$expected'"
echo "pack-install: legate --version: $version"

run demo --fast > "$work/demo.out" 2>&1 || { cat "$work/demo.out" >&2; fail "legate demo exited non-zero"; }
grep -q "is empty, so the subagents survey a small sample project" "$work/demo.out" || { cat "$work/demo.out" >&2; fail "legate demo did not say it surveys a sample project"; }
grep -q "Done. What the subagents found" "$work/demo.out" || { cat "$work/demo.out" >&2; fail "legate demo did not finish its survey"; }
[ -z "$(ls -A "$empty")" ] || fail "legate demo left files in the empty directory"
echo "pack-install: legate demo in an empty directory: ok"

run completion bash | grep -q "complete -o default -F _legate legate" || fail "legate completion bash"
echo "pack-install: ok"
