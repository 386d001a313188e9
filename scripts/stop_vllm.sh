#!/usr/bin/env bash
# Stop the server scripts/start_vllm.sh started (by its pid file; nothing else is touched).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${FLOWSLEUTH_VLLM_VENV:-$ROOT/.venv-vllm}
PORT=${FLOWSLEUTH_VLLM_PORT:-8000}
PID_FILE=$VENV/run/vllm-$PORT.pid
if [ ! -f "$PID_FILE" ]; then
    echo "stop_vllm: no server recorded on port $PORT" >&2
    exit 0
fi
PID=$(cat "$PID_FILE")
if kill -0 "$PID" 2>/dev/null; then
    kill "$PID"
    for _ in $(seq 1 30); do
        kill -0 "$PID" 2>/dev/null || break
        sleep 1
    done
    kill -0 "$PID" 2>/dev/null && kill -9 "$PID"
fi
rm -f "$PID_FILE"
echo "stop_vllm: stopped pid $PID" >&2
