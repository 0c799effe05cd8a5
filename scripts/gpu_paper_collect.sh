#!/usr/bin/env bash
# After a device call of scripts/gpu_paper.sh: records go to results/nb201_paper_gpu/ (and
# `nas-harness report`), checkpoints of unfinished searches to .gpu_checkpoints/ (git-ignored).
# Usage: bash scripts/gpu_paper_collect.sh FILES_AT
#
# The next call cannot carry the images (51.5 MB) and a 13 MiB checkpoint together (64 MiB in
# all, the checkout included). While the device machine is warm its /tmp survives, so stage the
# checkpoints first, then run with the images (docs/gpu.md, "Carrying a checkpoint"):
#   run(carry=[".gpu_checkpoints"]):  d=/tmp/persist/gpu_results/nb201_paper_gpu/checkpoints; mkdir -p $d; cp .gpu_checkpoints/*.pt $d/
#   run(carry=[".carry"]):            GPU_RESULTS=/tmp/persist/gpu_results bash scripts/gpu_paper.sh SECONDS --only ...
set -euo pipefail
from=$1
mkdir -p .gpu_checkpoints results/nb201_paper_gpu
rm -f .gpu_checkpoints/*.pt  # finished runs delete their checkpoints; keep only what came back
cp "$from"/checkpoints/*.pt .gpu_checkpoints/ 2>/dev/null || true
cp "$from"/records/*.json results/nb201_paper_gpu/ 2>/dev/null || true
ls -la .gpu_checkpoints results/nb201_paper_gpu
