#!/usr/bin/env bash
# The main job: set up, generate the synthetic Market-1501-layout dataset,
# train MobileNetV2 Re-ID on it and evaluate (CMC / mAP / mINP).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/misc/setup_env.sh
PY=.venv/bin/python
DATA=data/synthetic_reid
CONFIG=${CONFIG:-configs/reid/demo_dcs_mobilenetv2_synthetic.py}
if [ ! -d "$DATA" ]; then
  $PY tools/misc/make_synthetic_reid.py "$DATA" --seed 0
fi
# A fresh work dir per run: earlier results are never overwritten.
WORK_DIR=work_dirs/demo_$(date +%Y%m%d_%H%M%S)
$PY tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "$@"
# mmengine records the path of the last checkpoint it wrote.
$PY tools/test.py "$CONFIG" "$(cat "$WORK_DIR/last_checkpoint")" --work-dir "$WORK_DIR" \
  --out "$WORK_DIR/test_results.npz"
echo "[demo] metrics: $WORK_DIR/test_results.json"
cat "$WORK_DIR/test_results.json"
