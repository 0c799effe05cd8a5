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
  LOG="$VENV/bootstrap.log"
  : > "$LOG"
  pip_install() {
    "$VENV/bin/python" -m pip install --quiet "$@" >>"$LOG" 2>&1 || { echo "[bootstrap] pip install $* failed; see $LOG:" >&2; tail -n 30 "$LOG" >&2; return 1; }
  }
  pip_install --upgrade pip
  # torch 2.13.0 first: the CPU build (a bare `torch` would pull a multi-GB CUDA build); later strategies need it.
  pip_install "torch==2.13.0" || echo "[bootstrap] continuing without torch: the black-box strategies do not need it" >&2
  pip_install -e "$ROOT[dev]"
  # the NB201 authors' supernet, for `nas-harness bench supernet` only; --no-deps: its metadata pulls torchvision
  pip_install --no-deps "xautodl==1.0.0" || echo "[bootstrap] xautodl not installed: bench supernet will skip it" >&2
  touch "$STAMP"
fi
