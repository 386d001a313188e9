"""The classifier benchmark: SFT and tree scorers on both splits, with the paper's side
experiments. Entry points, all from the repository root:

- ``python -m bench.sft --part trees|sft|side|report``: the benchmark (see ``__main__``);
- ``python -m bench.sft.export``: rendered inputs for a machine without Flow-Bench;
- ``bench/sft/gpu.sh``: the full-data SFT stages on a lent GPU, from that export;
- ``python -m bench.sft.gpu_report``: merges the GPU stages into ``bench/results/``.
"""
