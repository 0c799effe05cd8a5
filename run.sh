#!/usr/bin/env bash
# Main job: a live comparison on the NAS-Bench-201 table embedded in the package (random pick, random
# search, REA, zero-cost NAS with synflow K = 10/100; 3 datasets x 4 seeds; no data or downloads needed),
# then its report as Markdown and LaTeX in results/<name>/. Bootstraps .venv on first use; re-running
# skips finished runs. Any argument replaces the default config: ./run.sh configs/other.toml
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
CONFIG="${1:-configs/quickstart.toml}"
NAME="$(.venv/bin/python -c 'import sys, tomllib, pathlib; p = pathlib.Path(sys.argv[1]); print(tomllib.loads(p.read_text()).get("name", p.stem))' "$CONFIG")"
.venv/bin/nas-harness run "$CONFIG"
.venv/bin/nas-harness report "$NAME" --out "results/$NAME/report.md" >/dev/null
.venv/bin/nas-harness report "$NAME" --format latex --out "results/$NAME/report.tex" >/dev/null
cat "results/$NAME/report.md"
echo "report: results/$NAME/report.md (LaTeX table: results/$NAME/report.tex)"
