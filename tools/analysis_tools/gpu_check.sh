#!/usr/bin/env bash
# One-shot GPU check: every speed goal of mmattn in one run of at most
# 8 minutes on one GPU, printed as one table (figure, goal, measured,
# pass / fall short) with the JSON of every measurement beside it.
#
#   tools/analysis_tools/gpu_check.sh [--out-dir DIR] [--budget SECONDS]
#   tools/analysis_tools/gpu_check.sh --dry-run [--out-dir DIR]
#
# Measurements (each its own process, through the benchmark tools' command
# lines):
#   runner     Runner vs bare loop, ResNet-50 Re-ID 256x128, batch 256, bf16,
#              channels_last, 8 persistent pinned workers    (goal >= 95 %)
#   da_dcs     step overhead of DA single / multi-window and DCS on
#              MobileNetV2, same switches                     (goal <= +8 %)
#   attention  CSA (G = 1, 2, 8) vs full SA as modules on the stage-1 map of
#              PCB's 384x128 input, batch 32    (goal: faster and smaller)
#   pcb_csa    PCB + CSA (G = 1) vs plain PCB, training fp32, batch 64,
#   pcb_sa     384x128; PCB + SA likewise (seed 002 table 6: CSA at >= 95 %
#              of PCB's images/s and <= 111 % of its memory; SA 59 % / 242 %)
#   eval       Re-ID evaluation of a Market-1501-sized set (3,368 x 15,913,
#              2,048-d) on the GPU                             (goal <= 0.05 s)
#   demo       a short demo training + test on the synthetic set (must run)
#
# --dry-run runs the same commands on the CPU at tiny sizes (a smoke test of
# the script and the tools; its numbers say nothing about the goals).
# Results: DIR/summary.json and DIR/summary.md, DIR/<name>.json and
# DIR/<name>.log per measurement. DIR (default work_dirs/gpu_check_<time>)
# must not exist yet. The exit status is 0 when every step ran, whatever the
# goals say; 1 when a step failed or ran out of its time.
set -uo pipefail

DIR=$(cd "$(dirname "$0")/../.." && pwd)
cd "$DIR"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$DIR/.venv/bin/python" ]; then PYTHON="$DIR/.venv/bin/python"; else PYTHON=python; fi
fi

DRY_RUN=0
OUT_DIR=""
BUDGET=480
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run|--tiny) DRY_RUN=1 ;;
    --out-dir) OUT_DIR=$2; shift ;;
    --budget) BUDGET=$2; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "gpu_check.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
OUT_DIR=${OUT_DIR:-work_dirs/gpu_check_$(date +%Y%m%d_%H%M%S)}
if [ -e "$OUT_DIR" ]; then
  echo "gpu_check.sh: --out-dir '$OUT_DIR' exists; choose another" >&2
  exit 2
fi
mkdir -p "$OUT_DIR"

BENCH=tools/analysis_tools
if [ "$DRY_RUN" = 1 ]; then
  DEVICE=cpu
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
  # Tiny sizes: every tool, config and code path of the real run.
  TRAIN_SIZE=(--device cpu --iters 2 --warmup 1 --epoch-iters 2)
  RUNNER_ARGS=(--batch-size 8 --input-size 64 32 --amp bf16 --channels-last
               --workers 1 --persistent-workers)
  DA_ARGS=(--batch-size 4 --input-size 64 32 --amp bf16 --channels-last)
  PCB_ARGS=(--batch-size 4 --input-size 96 32)
  ATTN_ARGS=(--device cpu --batch 1 --maps 32x8x4 --warmup 0 --repeats 1)
  EVAL_ARGS=(--device cpu --num-query 40 --num-gallery 200 --dim 32
             --num-ids 20 --repeats 1)
  DEMO_DATA=(--preset tiny)
  DEMO_OPTS=(model.head.num_classes=8 train_dataloader.batch_size=8
             train_dataloader.sampler.batch_size=8
             train_dataloader.sampler.num_instances=2
             val_dataloader.batch_size=7 train_cfg.max_epochs=1
             train_cfg.val_interval=1)
  DEMO_WORKERS=0
  RUNNER_DESC='ResNet-50 Re-ID 64x32, b8, bf16, channels_last'
  PCB_DESC='training, b4, 96x32'
  ATTN_DESC='32x8x4 map, batch 1'
  # step time limits (seconds): a loaded CPU is slow at anything
  T_RUNNER=600 T_DA=600 T_ATTN=300 T_PCB=600 T_EVAL=300 T_DEMO=600
else
  DEVICE=cuda
  TRAIN_SIZE=(--device cuda --iters 50 --warmup 10 --epoch-iters 20)
  RUNNER_ARGS=(--batch-size 256 --input-size 256 128 --amp bf16
               --channels-last --workers 8 --pin-memory --persistent-workers)
  DA_ARGS=(--batch-size 256 --input-size 256 128 --amp bf16 --channels-last)
  # seed 002 table 6 conditions: training fp32, batch 64, 384x128
  PCB_ARGS=(--batch-size 64 --input-size 384 128)
  ATTN_ARGS=(--device cuda --batch 32 --maps stage1 --warmup 2 --repeats 5)
  EVAL_ARGS=(--device cuda --repeats 3 --check-reference)
  DEMO_DATA=()
  DEMO_OPTS=(train_cfg.max_epochs=5 train_cfg.val_interval=5)
  DEMO_WORKERS=8
  RUNNER_DESC='ResNet-50 Re-ID 256x128, b256, bf16, channels_last'
  PCB_DESC='training, b64, 384x128'
  ATTN_DESC='stage-1 map 256x96x32, batch 32'
  # The limits add up to 470 s, within the 8-minute budget.
  T_RUNNER=80 T_DA=95 T_ATTN=40 T_PCB=70 T_EVAL=40 T_DEMO=75
fi

START=$(date +%s)
declare -A STATUS SECONDS_OF
run_step() {  # run_step NAME LIMIT command...
  local name=$1 limit=$2; shift 2
  local t0 rc
  t0=$(date +%s)
  echo "[gpu_check] $name (limit ${limit}s): $(printf '%s ' "$@" | tr -s ' \n' ' ' | cut -c1-240)"
  timeout --kill-after=10 "$limit" "$@" >"$OUT_DIR/$name.log" 2>&1
  rc=$?
  SECONDS_OF[$name]=$(( $(date +%s) - t0 ))
  if [ $rc -eq 0 ]; then STATUS[$name]=ok
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then STATUS[$name]=timeout
  else STATUS[$name]="failed (exit $rc)"; fi
  echo "[gpu_check] $name: ${STATUS[$name]} in ${SECONDS_OF[$name]}s"
  [ $rc -eq 0 ] || tail -n 15 "$OUT_DIR/$name.log"
}

run_step runner "$T_RUNNER" "$PYTHON" $BENCH/benchmark_train.py \
  configs/reid/resnet50_b64_market1501.py "${TRAIN_SIZE[@]}" "${RUNNER_ARGS[@]}" \
  --out "$OUT_DIR/runner.json"
run_step da_dcs "$T_DA" "$PYTHON" $BENCH/benchmark_train.py \
  configs/attentions/dcs_mobilenet-v2.py --compare-attention \
  configs/attentions/da-single_mobilenet-v2.py \
  configs/attentions/da-multi_mobilenet-v2.py \
  "${TRAIN_SIZE[@]}" "${DA_ARGS[@]}" --out "$OUT_DIR/da_dcs.json"
run_step attention "$T_ATTN" "$PYTHON" $BENCH/benchmark_attention.py \
  "${ATTN_ARGS[@]}" --modules SA CSA-G1 CSA-G2 CSA-G8 \
  --out "$OUT_DIR/attention.json"
run_step pcb_csa "$T_PCB" "$PYTHON" $BENCH/benchmark_train.py \
  configs/reid/csa-pcb_resnet50_market1501.py --compare-attention \
  "${TRAIN_SIZE[@]}" "${PCB_ARGS[@]}" --out "$OUT_DIR/pcb_csa.json" \
  --cfg-options model.backbone.attentions.0.cfg.groups=1
run_step pcb_sa "$T_PCB" "$PYTHON" $BENCH/benchmark_train.py \
  configs/reid/sa-pcb_resnet50_market1501.py --compare-attention \
  "${TRAIN_SIZE[@]}" "${PCB_ARGS[@]}" --out "$OUT_DIR/pcb_sa.json"
run_step eval "$T_EVAL" "$PYTHON" $BENCH/benchmark_eval.py \
  "${EVAL_ARGS[@]}" --out "$OUT_DIR/eval.json"

# The demo runs under `timeout` as its own shell (a function cannot): its
# settings travel as variables without spaces inside their words.
export PYTHON OUT_DIR DEMO_WORKERS DEMO_DATA_WORDS="${DEMO_DATA[*]}" \
  DEMO_OPTS_WORDS="${DEMO_OPTS[*]}"
# shellcheck disable=SC2016  # expanded by the inner shell
run_step demo "$T_DEMO" bash -c '
  set -euo pipefail
  data="$OUT_DIR/demo_data"; config=configs/reid/demo_dcs_mobilenetv2_synthetic.py
  roots="train_dataloader.dataset.data_root=$data val_dataloader.dataset.data_root=$data test_dataloader.dataset.data_root=$data"
  "$PYTHON" tools/misc/make_synthetic_reid.py "$data" $DEMO_DATA_WORDS --seed 0
  "$PYTHON" tools/train.py "$config" --work-dir "$OUT_DIR/demo" --workers "$DEMO_WORKERS" \
    --cfg-options $roots $DEMO_OPTS_WORDS
  "$PYTHON" tools/test.py "$config" "$(cat "$OUT_DIR/demo/last_checkpoint")" \
    --work-dir "$OUT_DIR/demo" --workers "$DEMO_WORKERS" --out "$OUT_DIR/demo.npz" \
    --cfg-options $roots $DEMO_OPTS_WORDS'

TOTAL=$(( $(date +%s) - START ))
STEPS_JSON="{"
for name in runner da_dcs attention pcb_csa pcb_sa eval demo; do
  STEPS_JSON+="\"$name\": {\"status\": \"${STATUS[$name]}\", \"seconds\": ${SECONDS_OF[$name]}},"
done
STEPS_JSON="${STEPS_JSON%,}}"

RUNNER_DESC=$RUNNER_DESC PCB_DESC=$PCB_DESC ATTN_DESC=$ATTN_DESC \
"$PYTHON" - "$OUT_DIR" "$DRY_RUN" "$TOTAL" "$BUDGET" "$DEVICE" "$STEPS_JSON" <<'EOF'
"""Read the measurements' JSON and print one table of the goals."""
import json
import os
import os.path as osp
import sys

out_dir, dry_run, total, budget, device, steps = sys.argv[1:]
dry_run, total, budget = dry_run == '1', int(total), int(budget)
steps = json.loads(steps)
rows = []


def load(name):
    path = osp.join(out_dir, name + '.json')
    if steps[name]['status'] != 'ok' or not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def row(figure, goal, value, passed, step, source=''):
    """passed: True / False, or None where the figure has no goal."""
    if value is None:
        verdict, shown = f'not measured ({steps[step]["status"]})', '-'
    else:
        verdict = {True: 'pass', False: 'fall short', None: 'reference'}[
            passed]
        shown = value
    rows.append(dict(figure=figure, goal=goal, measured=shown,
                     verdict=verdict, step=step, source=source))


runner = load('runner')
ratio = runner and runner['summary']['runner_vs_bare']
row(f'Runner / bare loop images/s ({os.environ["RUNNER_DESC"]})',
    '>= 95 %', ratio and f'{ratio:.1%}',
    ratio is not None and ratio >= 0.95, 'runner', 'runner.json summary')

da_dcs = load('da_dcs')
for name, label in (('da-single_mobilenet-v2', 'DA single-window'),
                    ('da-multi_mobilenet-v2', 'DA multi-window'),
                    ('dcs_mobilenet-v2', 'DCS')):
    overhead = da_dcs and da_dcs['summary']['overhead'].get(name)
    row(f'{label} step overhead on MobileNetV2 (bare-loop step time)',
        '<= +8 %', overhead is not None and f'{overhead:+.1%}' or None,
        overhead is not None and overhead <= 0.08, 'da_dcs',
        'da_dcs.json summary.overhead')

attention = load('attention')
if attention:
    by_name = {r['module']: r for r in attention['results']}
    sa = by_name.get('SA', {})
    for name in ('CSA-G1', 'CSA-G2', 'CSA-G8'):
        r = by_name.get(name, {})
        faster, smaller = r.get('x_faster'), r.get('x_less_memory')
        ok = None if faster is None or smaller is None else (
            faster > 1 and smaller > 1)
        value = None if ok is None else (
            f'{faster:.1f}x faster, {smaller:.1f}x less memory '
            f'({r["time_ms"]:.2f} ms vs {sa.get("time_ms", 0):.2f} ms)')
        row(f'{name} vs SA module, fwd+bwd ({os.environ["ATTN_DESC"]})',
            'faster and smaller than SA', value, ok, 'attention',
            'attention.json results')
else:
    row(f'CSA vs SA module, fwd+bwd ({os.environ["ATTN_DESC"]})',
        'faster and smaller than SA', None, False, 'attention')


def network_rows(name, label, goal_speed, goal_memory, paper):
    data = load(name)
    speed = memory = None
    if data:
        bare, method = data['rows'][0], data['rows'][1]
        speed = bare['step_ms'] / method['step_ms']
        memory = method['peak_memory_mb'] / bare['peak_memory_mb']
    row(f'{label} images/s vs plain PCB ({os.environ["PCB_DESC"]})',
        goal_speed or f'reference (paper {paper[0]})',
        speed and f'{speed:.1%}',
        None if goal_speed is None else speed is not None and speed >= 0.95,
        name, f'{name}.json rows (paper {paper[0]})')
    row(f'{label} peak memory vs plain PCB',
        goal_memory or f'reference (paper {paper[1]})',
        memory and f'{memory:.1%}',
        None if goal_memory is None else memory is not None and
        memory <= 1.11, name, f'{name}.json rows (paper {paper[1]})')


network_rows('pcb_csa', 'PCB + CSA (G=1)', '>= 95 % (table 6)',
             '<= 111 % (table 6)', ('95 %', '111 %'))
network_rows('pcb_sa', 'PCB + SA', None, None, ('59 %', '242 %'))

evaluation = load('eval')
seconds = evaluation and evaluation['seconds'].get('total')
size = evaluation and (f'{evaluation["num_query"]} x '
                       f'{evaluation["num_gallery"]}, {evaluation["dim"]}-d')
row(f'Re-ID evaluation, distances + CMC + mAP + mINP ({size or "-"})',
    '<= 0.05 s', seconds is not None and f'{seconds:.3f} s' or None,
    seconds is not None and seconds <= 0.05, 'eval', 'eval.json seconds')

demo_metrics = osp.join(out_dir, 'demo.json')
demo = None
if steps['demo']['status'] == 'ok' and osp.isfile(demo_metrics):
    with open(demo_metrics) as f:
        demo = json.load(f)
row('Demo training + test (synthetic set)', 'trains and evaluates',
    demo and f'mAP {demo["reid/mAP"]:.3f} in {steps["demo"]["seconds"]} s',
    demo is not None, 'demo', 'demo.json')
row('Whole check, wall time', f'<= {budget} s', f'{total} s',
    total <= budget, 'all', 'summary.json steps')

if dry_run:
    note = ('DRY RUN on the CPU at tiny sizes: the verdicts exercise the '
            'script, they say nothing about the goals')
else:
    note = f'measured on {device}'
header = ('figure', 'goal', 'measured', 'verdict')
lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
lines += ['| ' + ' | '.join(str(r[k]) for k in header) + ' |' for r in rows]
table = '\n'.join(lines)
print(f'\ngpu_check ({note})\n\n{table}\n')
summary = dict(dry_run=dry_run, device=device, total_seconds=total,
               budget_seconds=budget, steps=steps, rows=rows, note=note)
with open(osp.join(out_dir, 'summary.json'), 'w') as f:
    json.dump(summary, f, indent=2)
with open(osp.join(out_dir, 'summary.md'), 'w') as f:
    f.write(f'gpu_check ({note})\n\n{table}\n')
print(f'JSON: {osp.join(out_dir, "summary.json")} (and one file per step '
      f'beside it)')
sys.exit(0 if all(s['status'] == 'ok' for s in steps.values()) else 1)
EOF
