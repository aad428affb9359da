"""Train N random HOGA genotypes of one config (Rand_HOGA, seed 004 table 6).

The config's HOGA attentions must take a random genotype,
``genotype=dict(random_seed=S, num_groups=K)`` (e.g.
configs/classification/rand-hoga_resnet20_cifar10.py). Run i (i = 0 .. N-1,
or ``--seeds``) sets ``random_seed=i`` in every such attention, trains
through tools/train.py into ``WORK_DIR/seed_<i>`` and reads the best
validation value of ``--metric`` from the run's scalars.json. The tool
writes ``WORK_DIR/random_genotypes.json`` and ``.md``: per seed the genotype
(the 10 edges of K = 4), the parameter count and the best accuracy, and the
best seed. A run whose work dir already exists is refused (pass
``--skip-existing`` to collect a finished run instead of training it).

Example:
    python tools/train_random_genotypes.py \
        configs/classification/rand-hoga_resnet20_cifar10.py \
        --num-genotypes 10 --work-dir work_dirs/rand_hoga_r20
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys

from mmengine.config import Config, DictAction

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train random HOGA genotypes of a config and tabulate '
        'their best validation accuracy')
    parser.add_argument('config', help='config with random HOGA genotypes')
    parser.add_argument(
        '--work-dir', required=True, help='parent of the per-seed work dirs')
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        '--num-genotypes',
        type=int,
        default=None,
        help='train seeds 0 .. N-1 (default 10)')
    group.add_argument(
        '--seeds', type=int, nargs='+', help='train these seeds')
    parser.add_argument(
        '--metric',
        default='accuracy/top1',
        help='validation metric to maximise (default accuracy/top1)')
    parser.add_argument(
        '--skip-existing',
        action='store_true',
        help='collect the results of seeds whose work dir exists instead of '
        'refusing them')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='config overrides for every run (as tools/train.py)')
    parser.add_argument(
        '--train-args',
        nargs=argparse.REMAINDER,
        default=[],
        help='further arguments for tools/train.py (e.g. --amp bf16); must '
        'come last')
    args = parser.parse_args(argv)
    if args.seeds is None:
        n = 10 if args.num_genotypes is None else args.num_genotypes
        if n < 1:
            parser.error(f'--num-genotypes must be >= 1, got {n}')
        args.seeds = list(range(n))
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f'--seeds repeats a seed: {args.seeds}')
    return args


def random_genotype_attentions(cfg: Config) -> list:
    """The attention configs of ``model.backbone.attentions`` whose genotype
    is ``dict(random_seed=...)``.

    Raises:
        ValueError: naming the config key when there is none.
    """
    attentions = cfg.model.get('backbone', {}).get('attentions') or []
    found = []
    for entry in attentions:
        genotype = entry.get('cfg', {}).get('genotype')
        if isinstance(genotype, dict) and 'random_seed' in genotype:
            found.append(entry.cfg)
    if not found:
        raise ValueError(
            f'{cfg.filename}: no entry of model.backbone.attentions has '
            'cfg.genotype=dict(random_seed=S, num_groups=K); see '
            'configs/classification/rand-hoga_resnet20_cifar10.py')
    return found


def seed_config(cfg: Config, seed: int) -> Config:
    """A copy of ``cfg`` whose random genotypes use ``seed``."""
    cfg = Config(cfg.to_dict(), filename=cfg.filename)
    for att in random_genotype_attentions(cfg):
        att.genotype.random_seed = seed
    return cfg


def describe(cfg: Config) -> dict:
    """Genotype (of the first random attention) and parameter count."""
    from mmattn.models.attentions.hoga import build_genotype
    from mmattn.registry import MODELS
    genotype = build_genotype(
        random_genotype_attentions(cfg)[0].genotype.to_dict()).to_dict()
    model = MODELS.build(cfg.model)
    params = sum(p.numel() for p in model.parameters())
    return dict(genotype=genotype, params=params)


def best_metric(work_dir: str, metric: str):
    """The largest ``metric`` in the run's ``*/vis_data/scalars.json``
    (mmengine's LocalVisBackend), or None when it was never evaluated."""
    values = []
    for path in sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    record = json.loads(line)
                    if metric in record:
                        values.append(float(record[metric]))
    return max(values) if values else None


def markdown_table(rows: list, best: dict, metric: str) -> str:
    lines = [
        '# Random HOGA genotypes', '',
        f'| seed | params (M) | best {metric} | genotype (op, source, '
        'target) |', '|---|---|---|---|'
    ]
    for row in rows:
        edges = ', '.join(f'{op} ({src},{tgt})'
                          for op, src, tgt in row['genotype']['edges'])
        acc = '-' if row['best'] is None else f"{row['best']:.2f}"
        lines.append(f"| {row['seed']} | {row['params'] / 1e6:.4f} | {acc} "
                     f'| {edges} |')
    if best is not None:
        lines += [
            '', f"Best: seed {best['seed']}, {metric} "
            f"{best['best']:.2f}."
        ]
    return '\n'.join(lines) + '\n'


def main(argv=None):
    args = parse_args(argv)
    from mmattn.apis import load_config
    from mmattn.registry import register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = load_config(args.config, args.cfg_options)
    random_genotype_attentions(cfg)  # fail before the first run
    os.makedirs(args.work_dir, exist_ok=True)
    for name in ('random_genotypes.json', 'random_genotypes.md'):
        if osp.exists(osp.join(args.work_dir, name)) \
                and not args.skip_existing:
            raise SystemExit(
                f'{osp.join(args.work_dir, name)} exists; choose another '
                '--work-dir or pass --skip-existing to recollect it')
    rows = []
    for seed in args.seeds:
        run_cfg = seed_config(cfg, seed)
        run_dir = osp.join(args.work_dir, f'seed_{seed}')
        if osp.exists(run_dir):
            if not args.skip_existing:
                raise SystemExit(
                    f'{run_dir} exists; choose another --work-dir, or pass '
                    '--skip-existing to collect that run without training')
        else:
            os.makedirs(run_dir)
            cfg_path = osp.join(run_dir, 'config.py')
            run_cfg.dump(cfg_path)
            command = [
                sys.executable,
                osp.join(REPO_ROOT, 'tools', 'train.py'), cfg_path,
                '--work-dir', run_dir
            ] + list(args.train_args)
            print(f'seed {seed}: {" ".join(command)}', flush=True)
            result = subprocess.run(command)
            if result.returncode != 0:
                raise SystemExit(f'seed {seed}: tools/train.py exited with '
                                 f'{result.returncode}; log in {run_dir}')
        row = dict(seed=seed, **describe(run_cfg))
        row['work_dir'] = run_dir
        row['best'] = best_metric(run_dir, args.metric)
        if row['best'] is None:
            raise SystemExit(
                f'seed {seed}: no {args.metric!r} in {run_dir}/*/vis_data/'
                'scalars.json; was the run validated (val_interval, '
                '--no-validate)?')
        rows.append(row)
    best = max(rows, key=lambda r: r['best'])
    summary = dict(
        config=args.config,
        metric=args.metric,
        runs=rows,
        best=dict(
            seed=best['seed'],
            best=best['best'],
            genotype=best['genotype'],
            params=best['params']))
    with open(osp.join(args.work_dir, 'random_genotypes.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    with open(osp.join(args.work_dir, 'random_genotypes.md'), 'w') as f:
        f.write(markdown_table(rows, summary['best'], args.metric))
    print(markdown_table(rows, summary['best'], args.metric))
    return summary


if __name__ == '__main__':
    main()
