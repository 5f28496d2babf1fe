#!/usr/bin/env bash
# The main job on a fresh machine: set up .venv, then `streamforge up` on the embedded
# defaults (a local Kafka, the exchange simulator, the queue-manager, a live workflow that
# streams and persists BTCUSDT and ETHUSDT, and the console). Arguments go to `streamforge up`
# (e.g. --no-console, --detach, --symbols ETHUSDT, --data-dir D).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
exec .venv/bin/streamforge up "$@"
