#!/usr/bin/env bash
# The whole test suite: installs system packages (idempotent), checks
# formatting and lints, then runs every unit and end-to-end test.
# Used by README and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
