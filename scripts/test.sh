#!/usr/bin/env bash
# Set up, then run every check CI runs: lint, format, types and the test suite (which starts
# its own Apache Kafka broker unless STREAMFORGE_KAFKA_BOOTSTRAP names a cluster).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
