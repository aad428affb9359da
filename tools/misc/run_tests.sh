#!/usr/bin/env bash
# Set up the environment and run the whole test suite (what CI runs).
# The core stack first, then the downstream stack for the detection and
# keypoint tests (mmcv with compiled ops, mmdet, mmpose): its first run
# builds mmcv (about 12 min on 2 idle cores) into ~/.cache/mmattn, later
# runs only check it (~15 s).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/misc/setup_env.sh
bash tools/misc/setup_downstream.sh
exec .venv/bin/python -m pytest tests -q "$@"
