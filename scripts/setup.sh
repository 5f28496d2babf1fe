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

# The optional compiled extension (native/, Rust), built where cargo is at hand; without it the
# same work runs in Python, more slowly. STREAMFORGE_NATIVE=0 skips it, =1 requires it (set-up
# fails if it cannot be built).
source scripts/native_env.sh
native=$(echo "${STREAMFORGE_NATIVE:-}" | tr '[:upper:]' '[:lower:]')
case "$native" in
  "") native=wanted ;;
  0 | false | no | off) native=off ;;
  1 | true | yes | on) native=required ;;
  *) echo "error: STREAMFORGE_NATIVE must be 0 or 1, not '$native'" >&2; exit 1 ;;
esac
if [ "$native" != off ]; then
  if command -v cargo >/dev/null && .venv/bin/python -m pip install --quiet ./native; then
    echo "built: the compiled extension (streamforge-native)"
  elif [ "$native" = required ]; then
    echo "error: STREAMFORGE_NATIVE=1, but the compiled extension was not built (no cargo, or its build failed above)" >&2
    exit 1
  else
    echo "note: the compiled extension is not built (no cargo, or its build failed above); the Python paths do its work (native/README.md)" >&2
  fi
fi

echo "ready: .venv/bin/streamforge --help"
