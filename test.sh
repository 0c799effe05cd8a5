#!/usr/bin/env bash
# Test suite: bootstraps .venv on first use, then runs every test (slow ones included).
# Extra arguments go to pytest, e.g. ./test.sh -m "not slow" for the quick subset.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
exec .venv/bin/python -m pytest "$@"
