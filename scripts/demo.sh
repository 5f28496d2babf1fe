#!/usr/bin/env bash
# The main job until `streamforge up` exists: a local Kafka, the exchange simulator, the
# queue-manager, and a `live` workflow (loader-ws streaming BTCUSDT and ETHUSDT into the md.*
# topics, store-connector persisting trades and candles into the SQLite store), then the
# console. Ctrl-C (or quitting the console) stops everything this script started.
#
# Options through env: SYMBOLS (default BTCUSDT,ETHUSDT), SIM_PORT (default 8765),
# KAFKA_PORT (default 9092), NO_CONSOLE=1 to follow the events in the terminal instead.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
sf=.venv/bin/streamforge
symbols=${SYMBOLS:-BTCUSDT,ETHUSDT}
sim_port=${SIM_PORT:-8765}
kafka_port=${KAFKA_PORT:-9092}
export STREAMFORGE_KAFKA_BOOTSTRAP="127.0.0.1:$kafka_port"
export STREAMFORGE_BINANCE_REST_URL="http://127.0.0.1:$sim_port"
export STREAMFORGE_BINANCE_WS_URL="ws://127.0.0.1:$sim_port"
export STREAMFORGE_BINANCE_DATA_URL="http://127.0.0.1:$sim_port/data"
logs=$(mktemp -d)
pids=()
started_kafka=0

cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$started_kafka" = 1 ]; then "$sf" kafka stop || true; fi
  echo "logs: $logs"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if "$sf" kafka start --port "$kafka_port" --detach; then started_kafka=1; fi
"$sf" topics create
"$sf" sim --port "$sim_port" --symbols "$symbols" --trade-rate 5 >"$logs/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  grep -q STREAMFORGE_BINANCE_WS_URL "$logs/sim.log" 2>/dev/null && break
  sleep 0.2
done
"$sf" run queue-manager >"$logs/queue-manager.log" 2>&1 &
pids+=($!)
"$sf" submit live --symbols "$symbols" --queue-id "live-$(date +%s)"
echo "simulator, queue-manager and a live workflow running; logs in $logs"
echo "try: $sf submit backfill --symbol BTCUSDT --interval 5m --from $(date -u -d yesterday +%F) --to $(date -u +%F) --wait"
if [ "${NO_CONSOLE:-0}" = 1 ]; then
  "$sf" events tail --from-beginning
else
  .venv/bin/streamforge-tui
fi
