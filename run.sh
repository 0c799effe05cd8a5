#!/usr/bin/env bash
# Main job: the NAS-Bench-201 black-box comparison (random pick, random search, REA; 3 datasets x 4 seeds)
# on the real tables, then its comparison table. Bootstraps .venv on first use; re-running resumes/skips finished runs.
# Any arguments replace the default config: ./run.sh configs/other.toml
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
CONFIG="${1:-configs/nb201_blackbox.toml}"
NAME="$(.venv/bin/python -c 'import sys, tomllib, pathlib; p = pathlib.Path(sys.argv[1]); print(tomllib.loads(p.read_text()).get("name", p.stem))' "$CONFIG")"
.venv/bin/nas-harness run "$CONFIG"
.venv/bin/nas-harness report "$NAME"
