#!/usr/bin/env bash
# The main job: build a real program (examples/wordfreq) with migrate cc into
# x86_64 and aarch64 executables with identical layouts, run it natively and
# under qemu-aarch64, and check both outputs are byte-identical; then stop it
# mid-run at a landmark on each ISA, restore it from the image, and check the
# two pieces of output together are the same again. (Restoring on the other
# ISA is the next step.)
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

for isa in x86_64 aarch64; do
  $migrate run --arch $isa --checkpoint-at 20000000 --image "$out/$isa.core" "$out/wordfreq" \
    < examples/wordfreq/input.txt > "$out/$isa.part1"
  $migrate restore "$out/$isa.core" < examples/wordfreq/input.txt > "$out/$isa.part2"
  if cat "$out/$isa.part1" "$out/$isa.part2" | cmp -s - examples/wordfreq/expected.out; then
    echo "demo: $isa checkpointed mid-run and restored: output byte-identical ($(wc -c < "$out/$isa.part1") + $(wc -c < "$out/$isa.part2") bytes)"
  else
    echo "demo: $isa output after checkpoint and restore differs" >&2
    exit 1
  fi
done
