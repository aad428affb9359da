"""Choose eta, the weight of DCS's IB bound loss, by k-fold cross-validation
on the training identities (seed 001: "5-fold cross-validation on the
training data").

The training split of the config's dataset is cut into k identity-disjoint
folds (identities shuffled with ``--seed``). For fold f the other folds are
the training set and fold f is evaluated as Market-1501 is: per identity
and camera the first image is a query and the others are gallery images, so
every query has its matches among the same person's images of the other
cameras (identities seen by one camera only are gallery distractors). Each
fold is written as a Market-1501-layout folder of symbolic links under
``WORK_DIR/folds``. Every (eta, fold) pair trains the config for
``--epochs`` epochs with ``model.head.loss_ib.loss_weight = eta`` through
tools/train.py into ``WORK_DIR/eta_<eta>/fold_<f>`` and is scored by the
held-out fold's mAP (``reid/mAP`` of the final evaluation). The eta of the
highest mean mAP is chosen (the smaller eta on a tie).

Seed 001 selects the eta of "the smallest validation loss"; with
identity-disjoint folds the ID loss of a held-out identity is undefined (it
has no classifier row), so the score here is the retrieval mAP, the metric
the paper reports. Its candidate set and the share of the training data
were lost in the extraction of the paper: give them as ``--etas`` (and
``--cfg-options`` for the data).

Writes ``WORK_DIR/select_eta_cv.json`` and ``.md`` (per eta the fold mAPs,
their mean and standard deviation, and the chosen eta) and
``WORK_DIR/folds/folds.json`` (the identities of every fold). Existing run
directories are refused unless ``--skip-existing`` collects them.

Example:
    python tools/analysis_tools/select_eta_cv.py \
        configs/search/dcs-fb_mobilenet-v2_market1501.py \
        --etas 0.01 0.05 0.1 0.5 --folds 5 --epochs 60 \
        --work-dir work_dirs/eta_cv_mnv2 \
        --cfg-options model.backbone.backbone.init_cfg=None
"""
import argparse
import glob
import json
import os
import os.path as osp
import random
import statistics
import subprocess
import sys
from collections import defaultdict

from mmengine.config import Config, DictAction

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
METRIC = 'reid/mAP'
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Select the IB loss weight eta by k-fold '
        'cross-validation over the training identities')
    parser.add_argument(
        'config', help='a DCS Re-ID config with '
        'model.head.loss_ib')
    parser.add_argument(
        '--etas',
        type=float,
        nargs='+',
        required=True,
        help='candidate values of model.head.loss_ib.loss_weight')
    parser.add_argument(
        '--folds', type=int, default=5, help='k (default 5, seed 001)')
    parser.add_argument(
        '--epochs',
        type=int,
        required=True,
        help='epochs of every fold run (the short schedule)')
    parser.add_argument(
        '--work-dir', required=True, help='folds, runs and the tables')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='seed of the identity shuffle (default 0)')
    parser.add_argument(
        '--skip-existing',
        action='store_true',
        help='collect finished runs instead of refusing their work dirs')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='config overrides for every run (as tools/train.py)')
    parser.add_argument(
        '--train-args',
        nargs=argparse.REMAINDER,
        default=[],
        help='further arguments for tools/train.py; must come last')
    args = parser.parse_args(argv)
    if args.folds < 2:
        parser.error(f'--folds must be >= 2, got {args.folds}')
    if args.epochs < 1:
        parser.error(f'--epochs must be >= 1, got {args.epochs}')
    if len(set(args.etas)) != len(args.etas) or min(args.etas) < 0:
        parser.error(f'--etas must be distinct and >= 0, got {args.etas}')
    return args


def check_ib_config(cfg: Config) -> None:
    """Raise an error naming the key when the head has no IB loss."""
    head = cfg.model.get('head') or {}
    loss_ib = head.get('loss_ib')
    if not isinstance(loss_ib, dict) or 'loss_weight' not in loss_ib:
        raise ValueError(
            f'{cfg.filename}: model.head.loss_ib.loss_weight (eta, the IB '
            'bound weight) is not set; use a DCS config whose head is '
            'ReIDHeadWithIB / TransReIDHeadWithIB (e.g. '
            'configs/search/dcs-fb_mobilenet-v2_market1501.py)')


def training_records(cfg: Config) -> list:
    """(img_path, pid, 0-based camera) of the config's training split."""
    from mmattn.datasets.base_reid_dataset import BaseReIDDataset
    from mmattn.registry import DATASETS
    dataset_cfg = dict(cfg.train_dataloader.dataset)
    dataset_cfg.update(pipeline=[], relabel=False)
    dataset = DATASETS.build(dataset_cfg)
    if not isinstance(dataset, BaseReIDDataset):
        raise ValueError(
            'train_dataloader.dataset must be a Re-ID dataset (Market1501, '
            f'DukeMTMCReID, ...), got {type(dataset).__name__}')
    records = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        records.append((osp.abspath(info['img_path']), int(info['gt_label']),
                        int(info['camera_id'])))
    return records


def split_identities(pids, folds: int, seed: int) -> list:
    """k identity-disjoint folds (sorted lists) of the shuffled ids."""
    pids = sorted(set(pids))
    if len(pids) < folds:
        raise ValueError(f'--folds {folds}: the training split has only '
                         f'{len(pids)} identities')
    random.Random(seed).shuffle(pids)
    return [sorted(pids[f::folds]) for f in range(folds)]


def query_gallery(records: list):
    """Market-style split of held-out records: per (pid, camera) the first
    image (by path) is a query when the person has another camera; the
    rest (and one-camera persons) are gallery images."""
    by_pid_cam = defaultdict(list)
    for rec in records:
        by_pid_cam[(rec[1], rec[2])].append(rec)
    cams_of = defaultdict(set)
    for pid, cam in by_pid_cam:
        cams_of[pid].add(cam)
    query, gallery = [], []
    for key in sorted(by_pid_cam):
        group = sorted(by_pid_cam[key])
        if len(cams_of[key[0]]) > 1:
            query.append(group[0])
            gallery += group[1:]
        else:
            gallery += group
    return query, gallery


def _link_market(records: list, folder: str) -> None:
    os.makedirs(folder)
    for n, (path, pid, cam) in enumerate(records):
        if not 0 <= pid <= 9999 or not 0 <= cam <= 8:
            raise ValueError(
                f'{path}: person {pid} / camera {cam + 1} does not fit a '
                'Market-1501 file name (4-digit id, cameras 1-9)')
        name = f'{pid:04d}_c{cam + 1}s1_{n:06d}_00.jpg'
        os.symlink(path, osp.join(folder, name))


def write_folds(records: list, folds: list, root: str) -> list:
    """Market-1501-layout folders ``root/fold_<f>``; returns their info."""
    if osp.exists(root):
        raise SystemExit(f'{root} exists; choose another --work-dir (or '
                         'pass --skip-existing to reuse it)')
    info = []
    for f, held_out in enumerate(folds):
        held = set(held_out)
        train = [r for r in records if r[1] not in held]
        query, gallery = query_gallery([r for r in records if r[1] in held])
        if not query:
            raise ValueError(
                f'fold {f}: no held-out identity has images of two cameras, '
                'so there is no query; use fewer folds')
        fold_root = osp.join(root, f'fold_{f}')
        _link_market(train, osp.join(fold_root, 'bounding_box_train'))
        _link_market(query, osp.join(fold_root, 'query'))
        _link_market(gallery, osp.join(fold_root, 'bounding_box_test'))
        info.append(
            dict(
                fold=f,
                data_root=fold_root,
                held_out_ids=held_out,
                num_train_ids=len({r[1]
                                   for r in train}),
                num_train_images=len(train),
                num_query=len(query),
                num_gallery=len(gallery)))
    with open(osp.join(root, 'folds.json'), 'w') as f:
        json.dump(info, f, indent=2)
    return info


def fold_config(cfg: Config, fold: dict, eta: float, epochs: int) -> Config:
    """``cfg`` trained on a fold with IB weight eta for ``epochs``."""
    cfg = Config(cfg.to_dict(), filename=cfg.filename)
    for key in LOADERS:
        loader = cfg.get(key)
        if loader is None:
            continue
        dataset = loader.dataset
        dataset.type = 'Market1501'
        dataset.data_root = fold['data_root']
        dataset.pop('subset', None)  # CUHK03-NP's boxes
    cfg.model.head.num_classes = fold['num_train_ids']
    preprocessor = cfg.model.get('data_preprocessor') or {}
    if preprocessor.get('num_classes') is not None:  # --mixup
        preprocessor['num_classes'] = fold['num_train_ids']
    cfg.model.head.loss_ib.loss_weight = eta
    cfg.train_cfg.max_epochs = epochs
    cfg.train_cfg.val_interval = epochs
    return cfg


def last_metric(work_dir: str, metric: str = METRIC):
    """The last ``metric`` of the run's ``*/vis_data/scalars.json``."""
    value = None
    for path in sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                if line.strip():
                    record = json.loads(line)
                    if metric in record:
                        value = float(record[metric])
    return value


def markdown(summary: dict) -> str:
    folds = len(summary['table'][0]['fold_map'])
    head = ' | '.join(f'fold {f}' for f in range(folds))
    lines = [
        '# eta by cross-validation', '',
        f"{folds}-fold identity-disjoint cross-validation of "
        f"`{summary['config']}`, {summary['epochs']} epochs per run, "
        'held-out mAP (%).', '', f'| eta | {head} | mean | std |',
        '|---' * (folds + 3) + '|'
    ]
    for row in summary['table']:
        maps = ' | '.join(f'{m:.2f}' for m in row['fold_map'])
        lines.append(f"| {row['eta']:g} | {maps} | {row['mean']:.2f} | "
                     f"{row['std']:.2f} |")
    lines += ['', f"Chosen eta: {summary['chosen_eta']:g}."]
    return '\n'.join(lines) + '\n'


def main(argv=None):
    args = parse_args(argv)
    from mmattn.apis import load_config
    from mmattn.registry import register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = load_config(args.config, args.cfg_options)
    check_ib_config(cfg)
    work_dir = args.work_dir
    os.makedirs(work_dir, exist_ok=True)
    fold_root = osp.join(work_dir, 'folds')
    if osp.exists(fold_root) and not args.skip_existing:
        raise SystemExit(f'{fold_root} exists; choose another --work-dir or '
                         'pass --skip-existing to reuse its folds and runs')
    if args.skip_existing and osp.isfile(osp.join(fold_root, 'folds.json')):
        with open(osp.join(fold_root, 'folds.json')) as f:
            folds = json.load(f)
        if len(folds) != args.folds:
            raise SystemExit(f'{fold_root} holds {len(folds)} folds, not '
                             f'--folds {args.folds}')
    else:
        records = training_records(cfg)
        folds = write_folds(
            records,
            split_identities([r[1] for r in records], args.folds, args.seed),
            fold_root)
    table = []
    for eta in args.etas:
        scores = []
        for fold in folds:
            run_dir = osp.join(work_dir, f'eta_{eta:g}',
                               f"fold_{fold['fold']}")
            if osp.exists(run_dir):
                if not args.skip_existing:
                    raise SystemExit(
                        f'{run_dir} exists; choose another --work-dir or '
                        'pass --skip-existing to collect it')
            else:
                os.makedirs(run_dir)
                cfg_path = osp.join(run_dir, 'config.py')
                fold_config(cfg, fold, eta, args.epochs).dump(cfg_path)
                command = [
                    sys.executable,
                    osp.join(REPO_ROOT, 'tools', 'train.py'), cfg_path,
                    '--work-dir', run_dir
                ] + list(args.train_args)
                print(
                    f"eta {eta:g} fold {fold['fold']}: "
                    f"{' '.join(command)}",
                    flush=True)
                result = subprocess.run(command)
                if result.returncode != 0:
                    raise SystemExit(
                        f"eta {eta:g} fold {fold['fold']}: tools/train.py "
                        f'exited with {result.returncode}; log in {run_dir}')
            score = last_metric(run_dir)
            if score is None:
                raise SystemExit(f'{run_dir}: no {METRIC} in its '
                                 'vis_data/scalars.json (not evaluated?)')
            scores.append(score)
        table.append(
            dict(
                eta=eta,
                fold_map=scores,
                mean=statistics.fmean(scores),
                std=statistics.pstdev(scores)))
    chosen = max(table, key=lambda r: (r['mean'], -r['eta']))
    summary = dict(
        config=args.config,
        folds=args.folds,
        epochs=args.epochs,
        seed=args.seed,
        metric=METRIC,
        table=table,
        chosen_eta=chosen['eta'],
        fold_info=[{
            k: v
            for k, v in fold.items() if k != 'held_out_ids'
        } for fold in folds])
    with open(osp.join(work_dir, 'select_eta_cv.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    text = markdown(summary)
    with open(osp.join(work_dir, 'select_eta_cv.md'), 'w') as f:
        f.write(text)
    print(text)
    return summary


if __name__ == '__main__':
    main()
