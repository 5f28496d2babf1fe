#!/usr/bin/env bash
# Set up a development environment: a virtualenv in .venv with StreamForge and its dev tools.
# Extra arguments name optional extras, e.g. `bash scripts/setup.sh ml`.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
"$python" - <<'PY' || { echo "error: Python 3.11+ is required (set PYTHON=...)" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY
command -v java >/dev/null || { echo "error: Java 17+ is required to run Kafka" >&2; exit 1; }
if [ -z "${KAFKA_HOME:-}" ] && ! command -v mvn >/dev/null; then
  echo "error: Maven is required to fetch Apache Kafka (or set KAFKA_HOME)" >&2
  exit 1
fi

[ -x .venv/bin/python ] || "$python" -m venv .venv
extras="dev"
for extra in "$@"; do extras="$extras,$extra"; done
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[$extras]"
echo "ready: .venv/bin/streamforge --help"
