#!/usr/bin/env bash
# The test command as a fresh machine runs it: a clean clone of the
# committed tree (HEAD) and an empty cargo home, so nothing downloaded or
# built by earlier work can hide a missing set-up step (a warm cargo cache
# once hid that `cargo metadata --offline` needs every platform's crates).
# Run it before resolving an issue. Takes as long as a cold build plus
# scripts/test.sh.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/clone"
mkdir "$work/cargo-home"
echo "test-fresh: clean clone of $(git -C "$repo" rev-parse --short HEAD) in $work/clone, empty CARGO_HOME" >&2
cd "$work/clone"
CARGO_HOME="$work/cargo-home" CARGO_TARGET_DIR="$work/target" bash scripts/test.sh
