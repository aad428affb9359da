"""Train any mmattn config with mmengine's Runner.

Example:
    python tools/train.py configs/reid/mobilenetv2_b64_market1501.py \
        --work-dir work_dirs/mnv2 --amp --cfg-options train_cfg.max_epochs=5
    python tools/train.py configs/reid/resnet50_b64_market1501.py \
        --amp bf16 --channels-last --compile --workers 8 --pin-memory \
        --persistent-workers
"""
import argparse
import glob
import logging
import os.path as osp

from mmengine.logging import print_log
from mmengine.runner import Runner, find_latest_checkpoint

from mmattn.engine import (add_performance_arguments, add_runner_arguments,
                           enable_mixup, load_tool_config, performance_options,
                           prepare_training_config)
from mmattn.registry import RUNNERS, register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='train from scratch into a work dir that already holds '
        'checkpoints (they will be overwritten)')
    add_performance_arguments(parser)
    parser.add_argument(
        '--sync-bn',
        action='store_true',
        help='BatchNorm statistics over all processes of a distributed run '
        '(mmengine cfg.sync_bn=\'torch\'; GPUs only)')
    parser.add_argument(
        '--mixup',
        type=float,
        metavar='ALPHA',
        help='mixup batch augmentation, lam ~ Beta(ALPHA, ALPHA) (the Re-ID '
        'fine-tuning of seeds 000 / 001; see docs/user_guides/'
        'comparisons.md)')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate during training')
    add_runner_arguments(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = load_tool_config(args)
    if args.resume == 'auto':
        if osp.isdir(cfg.work_dir) and find_latest_checkpoint(cfg.work_dir):
            cfg.resume, cfg.load_from = True, None
        else:
            # mmengine's auto-resume trains from scratch when there is no
            # checkpoint (so a requeued job may always pass --resume);
            # say so instead of logging "resumed from None".
            print_log(
                f'--resume: work dir {cfg.work_dir!r} holds no checkpoint '
                'to resume from; training starts from scratch. Pass the '
                'checkpoint path (--resume PATH) or the --work-dir of the '
                'training to continue.',
                logger='current',
                level=logging.WARNING)
            cfg.resume, cfg.load_from = False, None
    elif args.resume is not None:
        if '://' not in args.resume and not osp.isfile(args.resume):
            raise SystemExit(f'--resume {args.resume!r}: no such checkpoint '
                             'file')
        cfg.resume, cfg.load_from = True, args.resume
    elif not args.overwrite and glob.glob(osp.join(cfg.work_dir, '*.pth')):
        raise SystemExit(
            f'work dir {cfg.work_dir!r} already holds checkpoints; pass '
            '--resume to continue that training, --overwrite to replace it, '
            'or choose another --work-dir')
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.mixup is not None:
        enable_mixup(cfg, args.mixup)
    prepare_training_config(
        cfg, sync_bn=args.sync_bn, **performance_options(args))
    if cfg.resume:
        # A checkpoint of another model: an error naming the keys before
        # the first step, not a size error inside the optimiser.
        hooks = list(cfg.get('custom_hooks') or [])
        cfg.custom_hooks = hooks + [dict(type='mmattn.ResumeCheckHook')]

    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    main()
