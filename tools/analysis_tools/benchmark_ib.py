"""What the IB update of DCS (seed 001) costs, and what it gives.

Trains a Re-ID config with ``ReIDHeadWithIB`` and ``IBVariationalHook`` (by
default the IB demo, configs/reid/demo_dcs_ibb_mobilenetv2_synthetic.py) in
up to four variants, each in a fresh process, on a shortened schedule
(``--epochs``; warm-up 1 epoch of linear lr then cosine, as the demo):

* ``none``: the same network and losses without the IB term and hook;
* ``pass``: the IB statistics from a separate no-grad pass over the
  training set before every epoch (``source='pass'``);
* ``training``: the statistics from the epoch's training forward passes
  (``source='training'``);
* ``training-separable``: as ``training``, training the separable bound
  (``IBBoundLoss(bound='separable')``).

For each it prints the wall and CPU (this process; loader workers off by
default) seconds per epoch, their ratio to ``none``, the IB quantities at
the end (one separate pass with the final weights, the same for every
variant: I(X;W), I(W;Y), IB and both bounds) and the test mAP / rank-1.
On a shared CPU the CPU seconds are the steadier cost.

Example::

    python tools/misc/make_synthetic_reid.py data/synthetic_reid --seed 0
    python tools/analysis_tools/benchmark_ib.py --epochs 12 \\
        --work-dir work_dirs/benchmark_ib
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

VARIANTS = ('none', 'pass', 'training', 'training-separable')
DEFAULT_CONFIG = 'configs/reid/demo_dcs_ibb_mobilenetv2_synthetic.py'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', nargs='?', default=DEFAULT_CONFIG)
    parser.add_argument('--data-root', default='data/synthetic_reid')
    parser.add_argument('--epochs', type=int, default=12)
    parser.add_argument(
        '--variants', nargs='+', default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument('--work-dir', default='work_dirs/benchmark_ib')
    parser.add_argument(
        '--workers',
        type=int,
        default=0,
        help='loader workers (0: the CPU time is complete)')
    parser.add_argument(
        '--threads', type=int, default=1, help='torch intra-op threads')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--parallel',
        action='store_true',
        help='run the variants at the same time (same '
        'background load for all, on a shared machine)')
    parser.add_argument('--only', choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error('--epochs must be at least 2')
    if not osp.isfile(args.config):
        parser.error(f'config {args.config} does not exist')
    if not osp.isdir(osp.join(args.data_root, 'bounding_box_train')):
        parser.error(f'--data-root {args.data_root} has no '
                     'bounding_box_train/ (make it with '
                     'tools/misc/make_synthetic_reid.py)')
    return args


def variant_cfg(args, variant):
    from mmengine.config import Config
    cfg = Config.fromfile(args.config)
    hooks = [
        h for h in cfg.get('custom_hooks', [])
        if h['type'] == 'IBVariationalHook'
    ]
    if cfg.model.head.type != 'ReIDHeadWithIB' or not hooks:
        raise ValueError(f'{args.config}: needs head ReIDHeadWithIB and an '
                         'IBVariationalHook in custom_hooks')
    others = [h for h in cfg.custom_hooks if h['type'] != 'IBVariationalHook']
    if variant == 'none':
        cfg.model.head.type = 'ReIDHead'
        cfg.model.head.pop('loss_ib')
        cfg.model.head.pop('ib_feature', None)
        cfg.custom_hooks = others
    else:
        hook = dict(hooks[0])
        hook['source'] = 'pass' if variant == 'pass' else 'training'
        cfg.custom_hooks = others + [hook]
        if variant == 'training-separable':
            cfg.model.head.loss_ib.bound = 'separable'
    cfg.work_dir = osp.join(args.work_dir, variant)
    cfg.experiment_name = variant
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[name].dataset.data_root = args.data_root
        cfg[name].num_workers = args.workers
        cfg[name].persistent_workers = args.workers > 0
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.train_cfg = dict(by_epoch=True, max_epochs=args.epochs)
    cfg.param_scheduler = [
        dict(
            type='LinearLR',
            start_factor=0.1,
            by_epoch=True,
            begin=0,
            end=1,
            convert_to_iter_based=True),
        dict(
            type='CosineAnnealingLR',
            by_epoch=True,
            begin=1,
            T_max=args.epochs - 1,
            eta_min=1e-5,
            convert_to_iter_based=True)
    ]
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=args.epochs)
    cfg.randomness = dict(seed=args.seed)
    return cfg


def run_variant(args, variant):
    """Train, time every epoch, final IB quantities, test metrics."""
    import torch
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    from mmattn.engine.hooks import IBVariationalHook
    from mmattn.models.search import searched_network
    from mmattn.registry import register_all_modules
    register_all_modules(init_default_scope=True)
    torch.set_num_threads(args.threads)

    clock = dict(start={}, end={})

    class EpochStart(Hook):
        priority = 'HIGHEST'

        def before_train_epoch(self, runner):
            clock['start'][runner.epoch] = (time.perf_counter(),
                                            time.process_time())

    class EpochEnd(Hook):
        priority = 'LOWEST'

        def after_train_epoch(self, runner):
            clock['end'][runner.epoch] = (time.perf_counter(),
                                          time.process_time())

    runner = Runner.from_cfg(variant_cfg(args, variant))
    runner.register_hook(EpochStart())
    runner.register_hook(EpochEnd())
    begin = (time.perf_counter(), time.process_time())
    runner.train()
    total = (time.perf_counter() - begin[0], time.process_time() - begin[1])
    epochs = sorted(clock['end'])
    wall = [clock['end'][e][0] - clock['start'][e][0] for e in epochs]
    cpu = [clock['end'][e][1] - clock['start'][e][1] for e in epochs]

    ib = {}
    if variant != 'none':
        hook = [h for h in runner.hooks if isinstance(h, IBVariationalHook)][0]
        ib = hook.update(runner)  # one pass with the final weights
        ib['logged'] = dict(hook.last_stats)
    metrics = runner.test()
    head = searched_network(runner.model).head
    return dict(
        variant=variant,
        epochs=args.epochs,
        wall_s=wall,
        cpu_s=cpu,
        total_wall_s=total[0],
        total_cpu_s=total[1],
        ib=ib,
        bound=getattr(getattr(head, 'loss_ib', None), 'bound_form', None),
        metrics={
            k: float(v)
            for k, v in metrics.items()
        })


def mean(values):
    return sum(values) / max(len(values), 1)


def table(results):
    base = results.get('none')
    lines = [
        '| variant | s/epoch (wall) | s/epoch (CPU) | CPU vs none | '
        'train total (wall / CPU s) | I(X;W) | I(W;Y) | IB | '
        'IBB reconstructed | IBB separable | mAP | rank-1 |', '|' + '---|' * 12
    ]
    for variant in VARIANTS:
        r = results.get(variant)
        if r is None:
            continue
        ratio = (f'{mean(r["cpu_s"]) / mean(base["cpu_s"]):.3f}x'
                 if base else '-')
        ib = r['ib']

        def fmt(key):
            return f'{ib[key]:.4f}' if key in ib else '-'

        metrics = r['metrics']
        lines.append(
            f'| {variant} | {mean(r["wall_s"]):.2f} | {mean(r["cpu_s"]):.2f}'
            f' | {ratio} | {r["total_wall_s"]:.0f} / {r["total_cpu_s"]:.0f}'
            f' | {fmt("I_XW")} | {fmt("I_WY")} | {fmt("IB")} | '
            f'{fmt("IBB_reconstructed")} | {fmt("IBB_separable")} | '
            f'{metrics.get("reid/mAP", float("nan")):.4f} | '
            f'{metrics.get("reid/rank1", float("nan")):.4f} |')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    if args.only:
        result = run_variant(args, args.only)
        with open(osp.join(args.work_dir, f'{args.only}.json'), 'w') as f:
            json.dump(result, f, indent=1)
        return
    base = [
        sys.executable,
        osp.abspath(__file__), args.config, '--data-root', args.data_root,
        '--epochs',
        str(args.epochs), '--work-dir', args.work_dir, '--workers',
        str(args.workers), '--threads',
        str(args.threads), '--seed',
        str(args.seed)
    ]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    procs = []
    for variant in args.variants:
        out = osp.join(args.work_dir, f'{variant}.json')
        if osp.exists(out):
            raise SystemExit(f'{out} exists: pick another --work-dir')
        proc = subprocess.Popen(base + ['--only', variant], env=env)
        if not args.parallel:
            proc.wait()
        procs.append((variant, proc))
    failed = [v for v, p in procs if p.wait() != 0]
    if failed:
        raise SystemExit(f'variants {failed} failed')
    results = {}
    for variant in args.variants:
        with open(osp.join(args.work_dir, f'{variant}.json')) as f:
            results[variant] = json.load(f)
    text = table(results)
    with open(osp.join(args.work_dir, 'table.md'), 'w') as f:
        f.write(text + '\n')
    print(text)


if __name__ == '__main__':
    main()
