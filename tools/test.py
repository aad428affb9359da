"""Evaluate a checkpoint of any mmattn config with mmengine's Runner.

Example:
    python tools/test.py configs/reid/mobilenetv2_b64_market1501.py \
        work_dirs/mnv2/epoch_120.pth --out work_dirs/mnv2/results.npz
"""
import argparse
import json
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmattn.engine import check_cfg_options, select_dist_backend
from mmattn.registry import RUNNERS, register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description='Test a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs go')
    parser.add_argument(
        '--out',
        help='save the test features, labels and cameras (.npz) and the '
        'metrics (same name, .json)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. model.flip_test=True')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        check_cfg_options(cfg, args.cfg_options)
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
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
        evaluator = list(evaluator) if isinstance(evaluator,
                                                  (list, tuple)) else [
                                                      evaluator
                                                  ]
        cfg.test_evaluator = evaluator + [
            dict(type='DumpReIDFeatures', out_file=args.out)
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
