#!/usr/bin/env bash
# Paper-scale NB201 searches on the device machine, resumed across calls and machines (issue 10).
# Expects .carry/ (git-ignored): data/cifar10_jpeg/cifar10_train_jpeg.npz. Records and checkpoints go
# to $GPU_RESULTS (default .carry/gpu_results); to resume a search, stage its checkpoint there first
# (scripts/gpu_paper_collect.sh says how: /tmp of a warm device machine survives between calls).
# Usage (on the GPU machine, repo root): [GPU_RESULTS=DIR] bash scripts/gpu_paper.sh SECONDS [--only LABEL:SEED ...]
# SECONDS bounds the search; it is interrupted after that and resumes at its last finished epoch.
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT/records" "$OUT/checkpoints"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD NAS_HARNESS_DATA=$PWD/.carry/data
seconds=$1; shift
results=${GPU_RESULTS:-.carry/gpu_results}; mkdir -p "$results"
nvidia-smi -L; python3 -c "import torch, sys; print(sys.version.split()[0], torch.__version__, torch.cuda.get_device_name(0))"
timeout -s INT "$seconds" python3 -m harness.cli run configs/nb201_paper_gpu.toml --results-dir "$results" --no-progress "$@" \
  2>&1 | grep -v Warning | tee "$OUT/log.txt"
cp "$results"/nb201_paper_gpu/*.json "$OUT/records/" 2>/dev/null
cp "$results"/nb201_paper_gpu/checkpoints/*.pt "$OUT/checkpoints/" 2>/dev/null
python3 - "$results/nb201_paper_gpu/checkpoints" <<'PY'
import sys, pathlib, torch
for p in sorted(pathlib.Path(sys.argv[1]).glob("*.pt")):
    state = torch.load(p, map_location="cpu", weights_only=False)
    print(p.name, "epoch", state["epoch"], f"{p.stat().st_size / 2**20:.1f} MiB")
    for row in state["trajectory"]:
        print("  ", row["epoch"], row["genotype"], "skips", row["skip_connections"], f"valid {row['valid_acc']:.2f}",
              f"{row['epoch_wall_s']:.1f}s", f"hessian max {row.get('hessian_max_eigenvalue', '')}",
              f"norm {abs(row.get('hessian_eigenvalue') or 0)}", f"{row.get('hessian_wall_s', '')}")
PY
ls -la "$OUT"/*
