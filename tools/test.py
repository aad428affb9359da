"""Evaluate a checkpoint of any mmattn config with mmengine's Runner.

Example:
    python tools/test.py configs/reid/mobilenetv2_b64_market1501.py \
        work_dirs/mnv2/epoch_120.pth --out work_dirs/mnv2/results.npz
"""
import argparse
import json
import os.path as osp

from mmengine.runner import Runner

from mmattn.engine import (add_runner_arguments, load_tool_config,
                           select_dist_backend)
from mmattn.registry import RUNNERS, register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description='Test a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        help='save the test features and labels (.npz) and the '
        'metrics (same name, .json)')
    add_runner_arguments(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = load_tool_config(args)
    cfg.load_from = args.checkpoint
    select_dist_backend(cfg)
    if args.out is not None:
        if not args.out.endswith('.npz'):
            raise SystemExit(f'--out {args.out!r}: expected a .npz file name')
        for path in (args.out, args.out[:-4] + '.json'):
            if osp.exists(path):
                raise SystemExit(f'--out: {path!r} exists; remove it or '
                                 'choose another name')
        evaluator = cfg.test_evaluator
        if not isinstance(evaluator, (list, tuple)):
            evaluator = [evaluator]
        cfg.test_evaluator = [
            *evaluator, dict(type='DumpFeatures', out_file=args.out)
        ]

    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    metrics = runner.test()
    if args.out is not None and runner.rank == 0:
        with open(args.out[:-4] + '.json', 'w') as f:
            json.dump({k: float(v) for k, v in metrics.items()}, f, indent=2)


if __name__ == '__main__':
    main()
