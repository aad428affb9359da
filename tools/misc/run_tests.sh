#!/usr/bin/env bash
# Set up the environment and run the whole test suite (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/misc/setup_env.sh
exec .venv/bin/python -m pytest tests -q "$@"
