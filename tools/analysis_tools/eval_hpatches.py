"""Evaluate a local-descriptor checkpoint on an hpatches-release folder.

Example::

    python tools/analysis_tools/eval_hpatches.py \\
        configs/descriptors/l2net-csa_hardnet_b1024_brown-liberty.py \\
        work_dirs/l2net_csa/epoch_10.pth --root data/hpatches-release \\
        --out work_dirs/l2net_csa/hpatches.json

Prints verification, matching and retrieval mAP (percent) per difficulty
(easy / hard / tough) and their means. The pairs, queries and distractors
are generated from ``--seed``; see :mod:`mmattn.evaluation.hpatches` for how
this protocol relates to the official benchmark.
"""
import argparse
import json
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from mmattn.evaluation.hpatches import (TASKS, compute_hpatches_descriptors,
                                        evaluate_hpatches, load_hpatches)
from mmattn.registry import MODELS, register_all_modules


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='HPatches verification / matching / retrieval mAP')
    parser.add_argument('config', help='descriptor model config')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--root', required=True, help='the hpatches-release folder')
    parser.add_argument(
        '--sequences',
        nargs='+',
        help='only these sequences (default: all i_/v_)')
    parser.add_argument('--out', help='write the metrics to this .json')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the generated pairs')
    parser.add_argument('--max-positives', type=int, default=50000)
    parser.add_argument('--max-queries', type=int, default=1000)
    parser.add_argument('--max-distractors', type=int, default=20000)
    parser.add_argument('--batch-size', type=int, default=512)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings')
    return parser.parse_args(argv)


def build_describe(model, device):
    """uint8 (B, H, W) patches -> (B, D) numpy descriptors."""

    @torch.no_grad()
    def describe(patches):
        inputs = torch.from_numpy(patches).to(device)[:, None, None]
        data = model.data_preprocessor(dict(inputs=inputs), False)
        return model.embed(data['inputs'])[:, 0].cpu().numpy()

    return describe


def main(argv=None):
    args = parse_args(argv)
    if args.out is not None and osp.exists(args.out):
        raise SystemExit(f'--out: {args.out!r} exists; remove it or choose '
                         'another name')
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmattn'))
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.to(args.device).eval()
    patch_size = getattr(model.backbone, 'patch_size', None) or getattr(
        getattr(model.backbone, 'backbone', None), 'patch_size', 32)
    data = load_hpatches(args.root, args.sequences)
    descriptors = compute_hpatches_descriptors(
        data, build_describe(model, args.device), patch_size, args.batch_size)
    metrics = evaluate_hpatches(
        descriptors,
        seed=args.seed,
        max_positives=args.max_positives,
        max_queries=args.max_queries,
        max_distractors=args.max_distractors)
    print(f'HPatches ({len(data)} sequences), mAP in %:')
    for task in TASKS:
        parts = '  '.join(f'{key[len(task) + 1:]}: {value:.2f}'
                          for key, value in metrics.items()
                          if key.startswith(task + '_'))
        print(f'  {task:<12} {metrics[task]:6.2f}   ({parts})')
    print(f'  mean         {np.mean([metrics[t] for t in TASKS]):6.2f}')
    if args.out is not None:
        with open(args.out, 'w') as f:
            json.dump(metrics, f, indent=2)
    return metrics


if __name__ == '__main__':
    main()
