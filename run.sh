#!/usr/bin/env bash
# Main job: a live comparison on the NAS-Bench-201 table embedded in the package (random pick, random
# search, REA, zero-cost NAS with synflow K = 10/100; 3 datasets x 4 seeds; no data or downloads needed),
# plus, when CIFAR-10 images are found, DARTS-V1, BaLeNAS and BaLeNAS-TF at the smallest one-shot preset
# (2 seeds); then the reports as Markdown, LaTeX and (with pdflatex) PDF in results/<name>/.
# Bootstraps .venv on first use; re-running skips finished runs. An argument replaces the default
# config: ./run.sh configs/other.toml
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
NH=.venv/bin/nas-harness
report() {  # experiment folder name: Markdown, LaTeX and, where pdflatex is installed, PDF
  local name="$1" pdf=()
  command -v pdflatex >/dev/null 2>&1 && pdf=(--pdf)
  $NH report "$name" --out "results/$name/report.md" >/dev/null
  $NH report "$name" --format latex --out "results/$name/report.tex" "${pdf[@]}" >/dev/null
  cat "results/$name/report.md"
  echo "report: results/$name/report.md, results/$name/report.tex$([ ${#pdf[@]} -gt 0 ] && echo ", results/$name/report.pdf")"
}
name_of() { .venv/bin/python -c 'import sys, tomllib, pathlib; p = pathlib.Path(sys.argv[1]); d = tomllib.loads(p.read_text()); s = d.get("scale", "paper"); n = d.get("name", p.stem); print(n if s == "paper" else f"{n}_{s}")' "$1"; }
if [ $# -gt 0 ]; then
  $NH run "$1"
  report "$(name_of "$1")"
  exit 0
fi
$NH run configs/quickstart.toml
ONESHOT=""
if .venv/bin/python -c 'import sys; from spaces.datasets import has_cifar10; sys.exit(0 if has_cifar10() else 1)'; then
  echo "CIFAR-10 images found: adding DARTS-V1, BaLeNAS and BaLeNAS-TF at the smoke preset (2 seeds)"
  $NH run configs/quickstart_oneshot.toml
  ONESHOT="quickstart_oneshot_smoke"
else
  echo "CIFAR-10 images not found: the one-shot part (DARTS-V1, BaLeNAS, BaLeNAS-TF) is skipped; put" \
       "cifar10_jpeg/cifar10_train_jpeg.npz or cifar-10-batches-py/ in a data folder (NAS_HARNESS_DATA; README, Data) to add it"
fi
report quickstart
[ -n "$ONESHOT" ] && report "$ONESHOT"
exit 0
