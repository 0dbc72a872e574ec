#!/usr/bin/env bash
# Installs every system package the project needs, idempotently.
# Used by both README commands and by .ci/run; safe to run again and again.
set -euo pipefail

PKGS_AMD64=(
  clang-19 llvm-19-dev lld-19 libpolly-19-dev libclang-rt-19-dev
  musl-dev qemu-user libgcc-12-dev-arm64-cross llvm-19
  gdb-multiarch hyperfine valgrind make zlib1g-dev libzstd-dev libxml2-dev
  curl ca-certificates libc6-dev
)
PKGS_ARM64=(musl-dev:arm64)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PKGS_AMD64[@]}" "${PKGS_ARM64[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Sanity: every tool the build calls must now be present.
for t in clang-19 ld.lld-19 qemu-aarch64 llvm-config-19 llc-19 llvm-objcopy-19 llvm-ar-19 make; do
  command -v "$t" >/dev/null || { echo "setup: $t still missing after install" >&2; exit 1; }
done
for f in /usr/lib/x86_64-linux-musl/libc.a /usr/lib/aarch64-linux-musl/libc.a; do
  [ -f "$f" ] || { echo "setup: $f missing" >&2; exit 1; }
done
echo "setup: all system packages present" >&2

# musl's C sources, the same release as Debian's musl-dev (1.2.3-1, which
# patches nothing): landmark-rt compiles the libc functions that call back
# into the program (qsort, bsearch) through the landmark pipeline. Kept in
# the clone (git-ignored), checked against Debian's published SHA-256.
MUSL_VERSION=1.2.3
MUSL_SHA256=7d5b0b6062521e4627e099e4c9dc8248d32a30285e959b7eecaa780cf8cfd4a4
musl_dir="$(cd "$(dirname "$0")/.." && pwd)/third_party/musl-$MUSL_VERSION"
if [ ! -f "$musl_dir/.complete" ]; then
  echo "setup: fetching musl $MUSL_VERSION sources into $musl_dir" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  curl -sSfL --retry 3 -o "$tmp/musl.tar.gz" \
    "http://deb.debian.org/debian/pool/main/m/musl/musl_$MUSL_VERSION.orig.tar.gz"
  echo "$MUSL_SHA256  $tmp/musl.tar.gz" | sha256sum -c --quiet - \
    || { echo "setup: musl tarball checksum mismatch" >&2; exit 1; }
  tar -xzf "$tmp/musl.tar.gz" -C "$tmp"
  rm -rf "$musl_dir"
  mkdir -p "$(dirname "$musl_dir")"
  mv "$tmp/musl-$MUSL_VERSION" "$musl_dir"
  touch "$musl_dir/.complete"
fi
echo "setup: musl $MUSL_VERSION sources present" >&2
