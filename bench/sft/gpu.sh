#!/usr/bin/env bash
# Full-data SFT on a lent GPU machine (no Flow-Bench, no network there). Prepare here first:
#   .venv/bin/python -m bench.sft.export --out .gpu/data --fp16-backbone .gpu/minilm
#     (rendered inputs + both splits; the packaged MiniLM in fp16 to fit the 64 MiB transfer,
#      loaded back into fp32 for training)
#   .whl: pydantic wheels for the machine's Python
# then run this from the repository root with OUT set; each stage has its own time limit and writes its own result file.
set -u
OUT=${OUT:-/tmp/sft-gpu}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
# flowsleuth itself, as its one namespace over the repository's folders (no build tools needed)
mkdir -p /tmp/site/flowsleuth
for p in workflows tools agent retrieval cli; do ln -sfn "$PWD/$p" /tmp/site/flowsleuth/$p; done
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 FLOWSLEUTH_SFT_BACKBONE=.gpu/minilm FLOWSLEUTH_THREADS=4
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
nvidia-smi -L
python3 -c "import torch, transformers; print(torch.__version__, transformers.__version__, torch.cuda.is_available())"
common=(--from-export .gpu/data --device cuda --sft-val 2000 --sft-test 0 --batch-size 32)
stage() {  # name, seconds, args...
    local name=$1 limit=$2
    shift 2
    echo "== $name (limit ${limit}s) $(date +%T)"
    timeout "$limit" python3 -m bench.sft "$@" "${common[@]}" --tag "_gpu_$name" --rows-jsonl "$OUT/$name.jsonl" 2>&1 | grep -v "Loading weights" | tee "$OUT/$name.log"
    cp bench/results/sft_*_gpu_"$name".json "$OUT/" 2>/dev/null
}
stage genome 230 --part sft --workflows 1000-genome --sft-train 0 --epochs 2 --multiclass
stage mp 200 --part sft --workflows montage predict-future-sales --sft-train 40000 --epochs 1
stage side 130 --part side --workflows 1000-genome montage --side bias,balance,forgetting --sft-train 20000 --epochs 1
echo "== done $(date +%T)"
