#!/usr/bin/env bash
# Distributed training with torchrun, on one node or several.
#   tools/dist_train.sh CONFIG GPUS [train.py options]
# Several nodes: run on every node with the same MASTER_ADDR/PORT, e.g.
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 PORT=29500 tools/dist_train.sh cfg.py 8
#   NNODES=2 NODE_RANK=1 MASTER_ADDR=10.0.0.1 PORT=29500 tools/dist_train.sh cfg.py 8
set -euo pipefail
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
DIR=$(cd "$(dirname "$0")" && pwd)
# The interpreter: $PYTHON, else the project virtualenv made by
# tools/misc/setup_env.sh, else python on PATH.
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$DIR/../.venv/bin/python" ]; then PYTHON="$DIR/../.venv/bin/python"; else PYTHON=python; fi
fi

PYTHONPATH="$DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$DIR/train.py" "$CONFIG" --launcher pytorch "${@:3}"
