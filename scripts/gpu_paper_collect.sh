#!/usr/bin/env bash
# After a device call of scripts/gpu_paper.sh: put what it brought back where the next call (and
# `nas-harness report`) finds it. Usage: bash scripts/gpu_paper_collect.sh FILES_AT
set -euo pipefail
from=$1; dest=.carry/gpu_results/nb201_paper_gpu
mkdir -p "$dest/checkpoints" results/nb201_paper_gpu
rm -f "$dest"/checkpoints/*.pt  # finished runs delete their checkpoints; keep only what came back
cp "$from"/checkpoints/*.pt "$dest/checkpoints/" 2>/dev/null || true
cp "$from"/records/*.json "$dest/" 2>/dev/null || true
cp "$from"/records/*.json results/nb201_paper_gpu/ 2>/dev/null || true
ls -la "$dest" "$dest/checkpoints"
