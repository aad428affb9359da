"""Local descriptors end to end: train, test and HPatches evaluation."""
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
from conftest import REPO_ROOT

CONFIG = osp.join(REPO_ROOT,
                  'configs/descriptors/demo_l2net-csa_hardnet_synthetic.py')


def tiny_options(brown_root, epochs=2):
    options = [
        'train_dataloader.dataset.num_pairs=64',
        'train_dataloader.batch_size=16',
        'train_dataloader.dataset.chunk_size=16',
        f'train_cfg.max_epochs={epochs}', f'param_scheduler.0.end={epochs}',
        'default_hooks.logger.interval=1', 'randomness.deterministic=True'
    ]
    for loader in ('train', 'val', 'test'):
        options += [
            f'{loader}_dataloader.dataset.data_root={brown_root}',
            f'{loader}_dataloader.num_workers=0',
            f'{loader}_dataloader.persistent_workers=False'
        ]
    for loader in ('val', 'test'):
        options.append(
            f'{loader}_dataloader.dataset.pairs_file=m50_100_100_0.txt')
    return options


def run(args):
    result = subprocess.run(
        args,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert result.returncode == 0, (
        result.stdout[-3000:] + result.stderr[-3000:])
    return result.stdout + result.stderr


def fpr_in_log(text):
    found = re.findall(
        r'brown/fpr95_notredame: ([\d.]+)\s+'
        r'brown/fpr95_yosemite: ([\d.]+)\s+'
        r'brown/fpr95: ([\d.]+)', text)
    assert found, text[-3000:]
    return [float(v) for v in found[-1]]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    from mmattn.datasets.synthetic import (TINY_PATCHES_PRESET,
                                           make_synthetic_patches)
    root = str(tmp_path_factory.mktemp('patches') / 'synthetic')
    make_synthetic_patches(root, **TINY_PATCHES_PRESET, seed=0)
    work_dir = str(tmp_path_factory.mktemp('train'))
    log = run([
        sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir,
        '--cfg-options', *tiny_options(osp.join(root, 'brown'))
    ])
    return root, work_dir, log


def test_train_logs_losses_and_fpr95(trained):
    root, work_dir, log = trained
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))
    losses = [float(v) for v in re.findall(r'loss: ([\d.]+)', log)]
    assert len(losses) == 8 and losses[-1] < losses[0]
    notredame, yosemite, mean = fpr_in_log(log)
    assert 0 <= notredame <= 100 and 0 <= yosemite <= 100
    assert mean == pytest.approx((notredame + yosemite) / 2, abs=1e-3)


def test_test_tool_repeats_the_last_validation(trained):
    root, work_dir, log = trained
    out = run([
        sys.executable, 'tools/test.py', CONFIG,
        osp.join(work_dir, 'epoch_2.pth'), '--work-dir', work_dir,
        '--cfg-options', *tiny_options(osp.join(root, 'brown'))
    ])
    assert fpr_in_log(out) == pytest.approx(fpr_in_log(log), abs=1e-3)


def test_eval_hpatches_tool(trained, tmp_path):
    root, work_dir, _ = trained
    out_json = str(tmp_path / 'hpatches.json')
    out = run([
        sys.executable, 'tools/analysis_tools/eval_hpatches.py', CONFIG,
        osp.join(work_dir, 'epoch_2.pth'), '--root',
        osp.join(root, 'hpatches-release'), '--out', out_json
    ])
    assert 'HPatches (4 sequences)' in out
    with open(out_json) as f:
        metrics = json.load(f)
    for task in ('verification', 'matching', 'retrieval'):
        assert 0 <= metrics[task] <= 100
        assert metrics[task] == pytest.approx(
            sum(metrics[f'{task}_{d}'] for d in ('easy', 'hard', 'tough')) / 3)
    # The trained descriptor verifies easy pairs far above chance (50%).
    assert metrics['verification_easy'] > 75
