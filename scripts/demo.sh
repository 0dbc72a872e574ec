#!/usr/bin/env bash
# The main job: build a real program (examples/wordfreq) with migrate cc into
# x86_64 and aarch64 executables with identical layouts, run it natively and
# under qemu-aarch64, and check both outputs are byte-identical.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release -p migrate-cli
migrate=target/release/migrate
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

$migrate cc -O2 -o "$out/wordfreq" examples/wordfreq/wordfreq.c
$migrate check-layout "$out/wordfreq"
$migrate run --arch x86_64 "$out/wordfreq" < examples/wordfreq/input.txt > "$out/x86_64.out"
$migrate run --arch aarch64 "$out/wordfreq" < examples/wordfreq/input.txt > "$out/aarch64.out"
head -5 "$out/aarch64.out"
if cmp -s "$out/x86_64.out" "$out/aarch64.out" && cmp -s "$out/x86_64.out" examples/wordfreq/expected.out; then
  echo "demo: x86_64 and aarch64 outputs are byte-identical ($(wc -c < "$out/x86_64.out") bytes)"
else
  echo "demo: outputs differ" >&2
  diff "$out/x86_64.out" "$out/aarch64.out" | head >&2
  exit 1
fi
