#!/usr/bin/env bash
# Set up, then run every check CI runs: lint, format, types and the test suite (which starts
# its own Apache Kafka broker unless STREAMFORGE_KAFKA_BOOTSTRAP names a cluster).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
if .venv/bin/python -c "import streamforge_native" 2>/dev/null && command -v cargo >/dev/null; then
  # The compiled extension that setup.sh built: its own checks and tests.
  source scripts/native_env.sh
  manifest=native/Cargo.toml
  if cargo fmt --version >/dev/null 2>&1; then cargo fmt --manifest-path $manifest --check; fi
  if cargo clippy --version >/dev/null 2>&1; then
    cargo clippy --manifest-path $manifest --release --all-targets --quiet -- -D warnings
  fi
  cargo test --manifest-path $manifest --release --quiet
fi
.venv/bin/python -m pytest "$@"
