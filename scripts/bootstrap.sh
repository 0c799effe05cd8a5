#!/usr/bin/env bash
# Create .venv and install nas-harness into it (idempotent: a second run only checks).
# Sourced by ./run.sh and ./test.sh; safe to run by hand.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
STAMP="$VENV/.nas-harness-installed"
if [ ! -x "$VENV/bin/python" ]; then
  echo "[bootstrap] creating $VENV with $PY" >&2
  "$PY" -m venv "$VENV"
fi
# Reinstall when pyproject.toml changed since the last install.
if [ ! -f "$STAMP" ] || [ "$ROOT/pyproject.toml" -nt "$STAMP" ]; then
  echo "[bootstrap] installing nas-harness and its test tools into $VENV (first run takes a minute or two)" >&2
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  # torch 2.13.0 first: it is the CPU build on this machine's disk; later issues need it.
  "$VENV/bin/python" -m pip install --quiet "torch==2.13.0" || echo "[bootstrap] torch 2.13.0 not installable here; continuing without it" >&2
  "$VENV/bin/python" -m pip install --quiet -e "$ROOT[dev]"
  touch "$STAMP"
fi
