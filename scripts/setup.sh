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

# The optional compiled extension (native/, Rust), built where cargo is at hand unless
# STREAMFORGE_NATIVE=0; without it the same work runs in Python, more slowly. Its build
# directory is kept between set-ups, so a rebuild takes seconds.
native=$(echo "${STREAMFORGE_NATIVE:-1}" | tr '[:upper:]' '[:lower:]')
case "$native" in 0 | false | no | off) native=0 ;; esac
if [ "$native" != 0 ] && command -v cargo >/dev/null; then
  CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/streamforge/native-target} \
    .venv/bin/python -m pip install --quiet ./native
  echo "built: the compiled extension (streamforge-native)"
elif ! .venv/bin/python -c "import streamforge_native" 2>/dev/null; then
  echo "note: no cargo, so the compiled extension is not built (see native/README.md)"
fi
echo "ready: .venv/bin/streamforge --help"
