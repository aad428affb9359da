"""Evaluate a checkpoint of any mmattn config with mmengine's Runner.

The registry scope comes from the config (``default_scope``), so mmdet and
mmpose configs that import mmattn run here unchanged.

Examples:
    python tools/test.py configs/reid/mobilenetv2_b64_market1501.py \
        work_dirs/mnv2/epoch_120.pth --out work_dirs/mnv2/results.npz
    python tools/test.py \
        configs/detection/faster-rcnn_r50-hoga_fpn_1x_coco.py \
        work_dirs/frcnn/epoch_12.pth --out work_dirs/frcnn/results.pkl
"""
import argparse
import json
import os.path as osp

from mmengine.runner import Runner

from mmattn.engine import (add_runner_arguments, load_tool_config,
                           select_dist_backend, set_dataloader_options)
from mmattn.registry import RUNNERS, register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description='Test a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        help='save the predictions and the metrics (same name, .json): a '
        '.npz of features and labels (embedding models: Re-ID, face, '
        'descriptors) or a .pkl of the predictions (detection: mmdet\'s '
        'DumpDetResults; other tasks: mmengine\'s DumpResults)')
    parser.add_argument(
        '--workers',
        type=int,
        metavar='N',
        help='data loader worker processes of the test loader (0 also turns '
        'persistent_workers off, which torch refuses without workers)')
    add_runner_arguments(parser)
    args = parser.parse_args()
    if args.workers is not None and args.workers < 0:
        parser.error(f'--workers: expected a number of worker processes '
                     f'>= 0, got {args.workers}')
    return args


def add_dump_metric(cfg, out):
    """Append the metric that writes ``out`` to ``cfg.test_evaluator``.

    ``.npz``: embedding features and labels (mmattn's ``DumpFeatures``), for
    configs in the mmattn scope. ``.pkl``: the raw predictions, converted to
    plain dicts by mmdet's ``DumpDetResults`` for mmdet configs, as pickled
    data samples by mmengine's ``DumpResults`` otherwise.
    """
    scope = cfg.get('default_scope') or 'mmattn'
    ext = osp.splitext(out)[1]
    if ext == '.npz':
        if scope != 'mmattn':
            raise SystemExit(
                f'--out {out!r}: .npz holds embedding features, which '
                f'{scope} models do not produce; use a .pkl for their '
                'predictions')
        dump = dict(type='mmattn.DumpFeatures', out_file=out)
    elif ext == '.pkl':
        kind = 'mmdet.DumpDetResults' if scope == 'mmdet' else \
            'mmengine.DumpResults'
        dump = dict(type=kind, out_file_path=out)
    else:
        raise SystemExit(f'--out {out!r}: expected a .npz (features) or a '
                         '.pkl (predictions) file name')
    for path in (out, osp.splitext(out)[0] + '.json'):
        if osp.exists(path):
            raise SystemExit(f'--out: {path!r} exists; remove it or choose '
                             'another name')
    evaluator = cfg.test_evaluator
    if not isinstance(evaluator, (list, tuple)):
        evaluator = [evaluator]
    cfg.test_evaluator = [*evaluator, dump]


def _json_value(value):
    """Metrics are numbers (floats, numpy scalars, 0-d tensors); anything
    else a metric returns is kept as text rather than failing the dump."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def main():
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = load_tool_config(args)
    cfg.load_from = args.checkpoint
    set_dataloader_options(cfg, args.workers)
    select_dist_backend(cfg)
    if args.out is not None:
        add_dump_metric(cfg, args.out)

    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    metrics = runner.test()
    if args.out is not None and runner.rank == 0:
        with open(osp.splitext(args.out)[0] + '.json', 'w') as f:
            values = {k: _json_value(v) for k, v in metrics.items()}
            json.dump(values, f, indent=2)


if __name__ == '__main__':
    main()
