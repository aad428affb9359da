#!/usr/bin/env bash
# Create (or update) the project virtualenv .venv with the core stack and
# mmattn in editable mode. Idempotent: a second run only checks.
#   bash tools/misc/setup_env.sh            # core + tests
# If the downstream mmcv (full, with compiled ops) is installed, it is kept:
# installing mmcv-lite over it would silently replace it.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

step() { echo "[setup_env] $*"; }
fail() { echo "[setup_env] FAILED at step: $1" >&2; exit 1; }

if [ ! -x "$VENV/bin/python" ]; then
  step "creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV" || fail "python3 -m venv $VENV"
fi
# pip_run: pip without this machine's harmless "Location ... is ignored"
# warnings (tools/misc/pip_filter.sh says why they appear).
source tools/misc/pip_filter.sh

reqs=$(mktemp)
trap 'rm -f "$reqs"' EXIT
cat requirements/runtime.txt requirements/tests.txt > "$reqs"
if $VENV/bin/python - <<'PY' 2>/dev/null
import importlib.metadata as md, sys
sys.exit(0 if md.version('mmcv') else 1)
PY
then
  step "full mmcv found (downstream stack): keeping it, not installing mmcv-lite"
  sed -i '/^mmcv-lite/d' "$reqs"
fi
step "installing requirements (torch from local wheels; quick when present)"
pip_run "$VENV/bin/python" install -q -r "$reqs" || fail "pip install -r requirements/runtime.txt requirements/tests.txt"
step "installing mmattn (editable)"
pip_run "$VENV/bin/python" install -q --no-deps --no-build-isolation -e . || fail "pip install -e ."
$VENV/bin/python -c "import mmattn, torch, mmengine, mmpretrain; print('[setup_env] ok: mmattn', mmattn.__version__, 'torch', torch.__version__)" \
  || fail "import check"
