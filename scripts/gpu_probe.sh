#!/usr/bin/env bash
# One device-machine session for issue 10: benchmark, end-to-end paper-scale epochs, concurrency.
# Expects .carry/ (git-ignored) with data/cifar10_jpeg/cifar10_train_jpeg.npz and whl/xautodl-*.whl.
# Usage (on the GPU machine, repo root): bash scripts/gpu_probe.sh [bench] [e2e] [concurrency]
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD NAS_HARNESS_DATA=$PWD/.carry/data
nvidia-smi -L; python3 -c "import torch, sys; print(sys.version.split()[0], torch.__version__, torch.cuda.get_device_name(0))"
for d in .carry/whl .whl; do if ls $d/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site $d/*.whl && export PYTHONPATH=$PYTHONPATH:/tmp/site; break
fi; done
for part in "${@:-bench e2e concurrency}"; do for p in $part; do case $p in
bench)
  timeout 400 python3 -m harness.cli bench cuda --space nb201 --target-ms 15 --steps 30 --compile ${BENCH_VARIANTS:+--variants $BENCH_VARIANTS} \
    2>&1 | grep -v Warning | tee "$OUT/bench_supernet.txt" ;;
e2e)
  cat > /tmp/gpu_smoke.toml <<TOML
name = "gpu_smoke"
datasets = ["cifar10"]
evaluate_on = ["cifar10"]
seeds = [0]
n_jobs = 1
backend = "sequential"
scale = "paper"
device = "cuda"
table = "embedded"
[[strategies]]
name = "darts_v1"
epochs = ${E2E_EPOCHS:-1}
hessian_every = 1
TOML
  for graphs in ${E2E_GRAPHS:-1 0}; do
    rm -rf /tmp/res_$graphs
    /usr/bin/time -v env NAS_HARNESS_CUDA_GRAPHS=$graphs timeout 240 python3 -m harness.cli run /tmp/gpu_smoke.toml \
      --results-dir /tmp/res_$graphs 2>&1 | grep -v "^\s*\(Page\|Volun\|Invol\|Swap\|File\|Socket\|Signal\|Average\|Exit\|Minor\|Major\|Percent\|System time\|User time\)" | tail -15
    find /tmp/res_$graphs -name "*.json" -exec cp {} "$OUT/e2e_graphs$graphs.json" \;
  done ;;
concurrency)
  timeout 170 python3 -m harness.cli bench concurrency --space nb201 --searches 1,2,4,8 --seconds 10 2>&1 | tee "$OUT/concurrency.txt" ;;
esac; done; done
