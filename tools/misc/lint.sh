#!/usr/bin/env bash
# Code style check of OpenMMLab projects: flake8, isort and yapf with the
# settings in setup.cfg (the same tools and versions as
# .pre-commit-config.yaml; requirements/tests.txt installs them).
#   bash tools/misc/lint.sh          # check only; exit 1 and show what differs
#   bash tools/misc/lint.sh --fix    # rewrite with isort and yapf, then check
# tools/misc/run_tests.sh runs the check, so CI enforces it.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
# Every Python file of the project (docs/conf.py and docs/*.py included).
TARGETS=(mmattn configs tools tests docs setup.py)

step() { echo "[lint] $*"; }
status=0
if [ "${1:-}" = "--fix" ]; then
  # Two rounds: an import whose parentheses hold a comment (# noqa) is
  # split by isort only after yapf has laid it out.
  for round in 1 2; do
    step "isort (rewriting, round $round)"
    "$PY" -m isort --quiet "${TARGETS[@]}"
    step "yapf (rewriting, round $round)"
    "$PY" -m yapf --in-place --recursive --exclude 'docs/_build/*' "${TARGETS[@]}"
  done
else
  step "isort --check-only"
  "$PY" -m isort --check-only --diff --quiet "${TARGETS[@]}" || status=1
  step "yapf --diff"
  "$PY" -m yapf --diff --recursive --exclude 'docs/_build/*' "${TARGETS[@]}" || status=1
fi
step "flake8"
"$PY" -m flake8 "${TARGETS[@]}" || status=1
if [ $status -ne 0 ]; then
  echo "[lint] FAILED: style findings above; 'bash tools/misc/lint.sh --fix' rewrites" \
       "imports and formatting, flake8's findings need a manual fix" >&2
  exit 1
fi
step "ok: flake8, isort and yapf find nothing"
