#!/usr/bin/env bash
# Install the downstream stack (detection with mmdet, keypoints with mmpose)
# into the project virtualenv, on top of the core stack of setup_env.sh.
#   bash tools/misc/setup_downstream.sh
# What it installs, and why (facts in requirements/downstream.txt):
#   * mmcv 2.1.0 with its compiled ops (nms, RoIAlign, ...), built from the
#     sdist against the venv's torch. mmdet 3.3 / mmpose 1.3 refuse
#     mmcv >= 2.2 and mmcv-lite has no compiled ops. The built wheel is cached
#     OUTSIDE the repo in ${MMATTN_CACHE:-~/.cache/mmattn}/wheels/<torch tag>/,
#     so the first run builds (about 12 min on 2 idle cores, up to 50 min on
#     a busy machine) and later runs take seconds (an import check, ~15 s);
#     another torch version gets its own folder and is rebuilt.
#   * mmdet 3.3.0, mmpose 1.3.2 (without its unbuildable dependency chumpy)
#     and mmpose's real runtime dependencies.
# Idempotent: when everything already imports, it only checks.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${VENV:-.venv}
CACHE=${MMATTN_CACHE:-$HOME/.cache/mmattn}
MMCV_VERSION=2.1.0
MAX_JOBS=${MAX_JOBS:-2}

step() { echo "[setup_downstream] $*"; }
fail() { echo "[setup_downstream] FAILED at step: $1" >&2; shift; [ $# -gt 0 ] && echo "[setup_downstream]   why: $*" >&2; exit 1; }

if [ ! -x "$VENV/bin/python" ]; then
  step "no $VENV: running tools/misc/setup_env.sh first"
  bash tools/misc/setup_env.sh || fail "core setup (tools/misc/setup_env.sh)" "see its output above"
fi
PY="$VENV/bin/python"
# pip_run: pip without this machine's harmless "Location ... is ignored"
# warnings (tools/misc/pip_filter.sh says why they appear).
source tools/misc/pip_filter.sh
PIP="pip_run $PY"

# The import check, used both to skip work and as the final verification:
# nms on two overlapping boxes must keep only the higher-scoring one, and
# the compiled ops, mmdet, mmpose and the COCO APIs import together.
check_stack() {
  "$PY" - <<PY
import importlib.metadata as md
assert md.version('mmcv') == '$MMCV_VERSION', 'mmcv ' + md.version('mmcv')
import torch
from mmcv.ops import nms
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.], [20., 20., 30., 30.]])
scores = torch.tensor([0.9, 0.8, 0.7])
_, keep = nms(boxes, scores, iou_threshold=0.5)
assert keep.tolist() == [0, 2], keep
import mmdet.models, mmpose.models, mmpretrain.models, mmattn  # noqa: F401
import pycocotools.coco, xtcocotools.coco  # noqa: F401
print('[setup_downstream] ok: mmcv', md.version('mmcv'), 'with ops, mmdet',
      md.version('mmdet'), 'mmpose', md.version('mmpose'))
PY
}

if check_stack 2>/dev/null; then
  exit 0
fi

TORCH=$("$PY" -c "import torch; print(torch.__version__)") \
  || fail "reading torch version" "torch does not import in $VENV"
PYTAG=$("$PY" -c "import sys; print(f'cp{sys.version_info[0]}{sys.version_info[1]}')")
WHEELDIR="$CACHE/wheels/torch-${TORCH//+/_}-$PYTAG"
mkdir -p "$WHEELDIR" || fail "creating wheel cache $WHEELDIR" "not writable; set MMATTN_CACHE"

# Builds without isolation (they need the venv's torch / numpy) take their
# build tools (setuptools<70, wheel, Cython) from a scratch folder put first
# on PYTHONPATH: the venv keeps its own setuptools (torch wants >= 77).
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
use_buildtools() {
  if [ ! -d "$build/buildtools" ]; then
    step "fetching setuptools<70, wheel and Cython for the builds (scratch folder, venv untouched)"
    # --no-warn-conflicts: pip would compare this scratch folder with the
    # venv's packages and report "torch requires setuptools>=77.0.3" as an
    # ERROR; the venv keeps its own setuptools, so that conflict is not real.
    $PIP install -q --no-warn-conflicts --target "$build/buildtools" "setuptools<70" wheel Cython \
      || fail "pip install --target setuptools<70 wheel Cython" "see pip output above"
  fi
  export PYTHONPATH="$build/buildtools"
}

wheel=$(ls "$WHEELDIR"/mmcv-$MMCV_VERSION-*.whl 2>/dev/null | head -n1 || true)
if [ -n "$wheel" ]; then
  step "using cached mmcv wheel $wheel"
else
  # mmcv's setup.py imports pkg_resources (gone from setuptools >= 70) and
  # must see the venv's torch, hence no build isolation.
  use_buildtools
  step "downloading the mmcv $MMCV_VERSION sdist"
  $PIP download -q --no-binary :all: --no-deps --no-build-isolation -d "$build" "mmcv==$MMCV_VERSION" \
    || fail "pip download mmcv==$MMCV_VERSION (sdist)" "see pip output above (index unreachable or metadata failed)"
  tar -xzf "$build"/mmcv-$MMCV_VERSION.tar.gz -C "$build" || fail "unpacking the mmcv sdist" "archive missing or corrupt"
  src="$build/mmcv-$MMCV_VERSION"
  # torch >= 2.10 headers require C++20 ("C++20 or later compatible compiler
  # is required to use ATen"); mmcv's setup.py forces -std=c++14/17.
  sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' "$src/setup.py"
  grep -q -- '-std=c++20' "$src/setup.py" || fail "patching mmcv setup.py to -std=c++20" "flag not found in setup.py"
  step "building mmcv $MMCV_VERSION with ops against torch $TORCH (MAX_JOBS=$MAX_JOBS; about 12 min on 2 idle cores)"
  start=$SECONDS
  MMCV_WITH_OPS=1 MAX_JOBS=$MAX_JOBS $PIP wheel -q --no-build-isolation --no-deps -w "$build/dist" "$src" \
    || fail "building the mmcv $MMCV_VERSION wheel" "compiler error above (needs g++ with C++20 and torch headers)"
  unset PYTHONPATH
  mv "$build"/dist/mmcv-$MMCV_VERSION-*.whl "$WHEELDIR"/ || fail "caching the mmcv wheel in $WHEELDIR" "no wheel produced"
  wheel=$(ls "$WHEELDIR"/mmcv-$MMCV_VERSION-*.whl | head -n1)
  step "built and cached $wheel in $((SECONDS - start)) s"
fi

# Everything but mmcv, mmdet and mmpose first: once mmdet is installed,
# mmpretrain.models imports it, and mmdet asserts mmcv < 2.2 at import, so
# mmcv-lite 2.2.0 beside mmdet breaks the core stack. Those three then go in
# together (no dependency resolution, a few seconds), right after mmcv-lite
# leaves, so that window stays short.
step "installing the runtime dependencies of mmdet, mmpose and xtcocotools"
deps="$build/downstream-deps.txt"
sed '/^mmdet==/d' requirements/downstream.txt > "$deps"
$PIP install -q -r "$deps" || fail "pip install -r requirements/downstream.txt (without mmdet)" "see pip output above"
if ! "$PY" -c "import xtcocotools.coco" 2>/dev/null; then
  step "building xtcocotools from source against the installed numpy"
  use_buildtools
  $PIP install -q --force-reinstall --no-deps --no-build-isolation \
    --no-binary xtcocotools "xtcocotools>=1.12" \
    || fail "building xtcocotools from source" "see pip output above"
  unset PYTHONPATH
fi
MMDET=$(grep '^mmdet==' requirements/downstream.txt) \
  || fail "reading the mmdet pin" "no 'mmdet==' line in requirements/downstream.txt"
step "downloading $MMDET and mmpose==1.3.2"
$PIP download -q --no-deps -d "$build/pkgs" "$MMDET" "mmpose==1.3.2" \
  || fail "pip download $MMDET mmpose==1.3.2" "see pip output above"

step "replacing mmcv-lite by mmcv $MMCV_VERSION, with $MMDET and mmpose 1.3.2"
# Both distributions install the package mmcv: remove the lite one first so
# that uninstalling it later cannot delete files of the full one.
if "$PY" -c "import importlib.metadata as m; m.version('mmcv-lite')" 2>/dev/null; then
  $PIP uninstall -q -y mmcv-lite || fail "pip uninstall mmcv-lite" "see pip output above"
fi
$PIP install -q --no-deps --force-reinstall "$wheel" "$build"/pkgs/*.whl \
  || fail "pip install $wheel, $MMDET and mmpose" "see pip output above"

step "import check"
check_stack || fail "import check (mmcv.ops.nms, mmdet, mmpose, mmpretrain, mmattn)" "see the Python error above"
