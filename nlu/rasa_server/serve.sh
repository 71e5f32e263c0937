#!/usr/bin/env bash
# Serve the trained model (training first if needed) on 127.0.0.1:${RASA_PORT:-5005} with the HTTP API
# protected by RASA_TOKEN; wait until /model/parse answers, and write the server's pid file.
# `serve.sh stop` stops the server named by the pid file.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
VENV="${RASA_VENV:-$ROOT/.rasa-venv}"
PORT="${RASA_PORT:-5005}"
RUN_DIR="${RASA_RUN_DIR:-$ROOT/var/rasa}"
PID_FILE="$RUN_DIR/rasa.pid"
export RASA_TELEMETRY_ENABLED=false
mkdir -p "$RUN_DIR"

if [ "${1:-}" = "stop" ]; then
    if [ -f "$PID_FILE" ]; then kill "$(cat "$PID_FILE")" 2>/dev/null || true; rm -f "$PID_FILE"; fi
    exit 0
fi
: "${RASA_TOKEN:?set RASA_TOKEN to the token clients will send}"

ready() {
    curl -sf -m 5 -X POST "http://127.0.0.1:$PORT/model/parse?token=$RASA_TOKEN" \
        -H 'Content-Type: application/json' -d '{"text":"你好"}' >/dev/null 2>&1
}

if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null && ready; then
    echo "rasa already serving on 127.0.0.1:$PORT (pid $(cat "$PID_FILE"))"
    exit 0
fi

# RASA_MODEL serves a given model file; otherwise the one trained (or cached) for the current data.
MODEL="${RASA_MODEL:-$(bash "$ROOT/nlu/rasa_server/train.sh" | tail -n 1)}"
nohup "$VENV/bin/rasa" run --enable-api --auth-token "$RASA_TOKEN" --model "$MODEL" \
    --interface 127.0.0.1 --port "$PORT" --log-file "$RUN_DIR/rasa.log" >"$RUN_DIR/stdout.log" 2>&1 &
echo $! >"$PID_FILE"

for _ in $(seq 1 180); do
    if ready; then
        echo "rasa serving $MODEL on 127.0.0.1:$PORT (pid $(cat "$PID_FILE"))"
        exit 0
    fi
    kill -0 "$(cat "$PID_FILE")" 2>/dev/null || { tail -n 30 "$RUN_DIR/stdout.log" >&2; exit 1; }
    sleep 1
done
echo "rasa did not become ready within 180 s" >&2
exit 1
