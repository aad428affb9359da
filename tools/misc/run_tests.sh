#!/usr/bin/env bash
# Set up the environment and run every check CI runs (.ci/run calls this):
#   1. the core stack (tools/misc/setup_env.sh; also the style and packaging
#      tools of requirements/tests.txt),
#   2. the detection / keypoint stack (tools/misc/setup_downstream.sh): its
#      first run builds mmcv (about 12 min on 2 idle cores) into
#      ~/.cache/mmattn, later runs only check it (~15 s),
#   3. the docs tools (requirements/docs.txt) and openmim (requirements/mim.txt,
#      without its dependencies, into .venv/openmim),
#   4. the code style check (tools/misc/lint.sh: flake8, isort, yapf),
#   5. the documentation build with warnings as errors (tools/misc/build_docs.sh),
#   6. the test suite, which also builds the sdist, a wheel from it and uses
#      them from a temporary virtualenv (tests/test_packaging.py).
# Every step is idempotent; on a second run the installs only check.
# Arguments go to pytest (e.g. `bash tools/misc/run_tests.sh -x tests/models`).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tools/misc/pip_filter.sh
source tools/misc/pip_filter.sh
PY=.venv/bin/python

bash tools/misc/setup_env.sh
bash tools/misc/setup_downstream.sh

echo "[run_tests] installing the docs tools (requirements/docs.txt; quick when present)"
pip_run "$PY" install -q -r requirements/docs.txt
MIM_DIR=.venv/openmim
MIM_PIN=$(grep -E '^openmim==' requirements/mim.txt)
if [ ! -f "$MIM_DIR/openmim-${MIM_PIN#openmim==}.dist-info/METADATA" ]; then
  echo "[run_tests] installing $MIM_PIN into $MIM_DIR without dependencies (requirements/mim.txt says why)"
  rm -rf "$MIM_DIR"
  pip_run "$PY" install -q --no-deps --no-warn-conflicts --target "$MIM_DIR" -r requirements/mim.txt
fi

bash tools/misc/lint.sh
bash tools/misc/build_docs.sh
echo "[run_tests] pytest"
exec "$PY" -m pytest tests -q "$@"
