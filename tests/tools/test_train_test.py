"""tools/train.py, tools/test.py and the distributed launchers, end to end."""
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import REPO_ROOT

CONFIG = osp.join(REPO_ROOT, 'configs/reid/demo_dcs_mobilenetv2_synthetic.py')


def tiny_options(data_root, epochs=2):
    """Shrink the demo config to the tiny synthetic set (8 train ids)."""
    return [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        'model.head.num_classes=8', 'train_dataloader.batch_size=8',
        'train_dataloader.sampler.batch_size=8',
        'train_dataloader.sampler.num_instances=2',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        'test_dataloader.num_workers=0', 'val_dataloader.batch_size=7',
        'test_dataloader.batch_size=7',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.persistent_workers=False',
        f'train_cfg.max_epochs={epochs}', 'train_cfg.val_interval=1',
        'param_scheduler.1.T_max=1', 'param_scheduler.1.begin=0',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1', 'randomness.deterministic=True'
    ]


def run(args, check=True, env=None):
    # The launch scripts use $PYTHON: the interpreter running the tests, not
    # whatever python is first on PATH (CI does not activate the venv).
    full_env = dict(
        os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable, **(env or {}))
    result = subprocess.run(
        args, cwd=REPO_ROOT, capture_output=True, text=True, env=full_env)
    if check:
        assert result.returncode == 0, (
            result.stdout[-3000:] + result.stderr[-3000:])
    return result


def metrics_in_log(text):
    """The last 'reid/...' metric line printed by mmengine."""
    found = re.findall(r'reid/mAP: ([\d.]+).*?reid/mINP: ([\d.]+)', text)
    assert found, text[-3000:]
    return [float(v) for v in found[-1]]


@pytest.fixture(scope='module')
def trained(market_root, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('train'))
    result = run([
        sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir,
        '--cfg-options', *tiny_options(market_root)
    ])
    return work_dir, result.stdout + result.stderr


def test_train_evaluates_and_saves_checkpoints(trained):
    work_dir, log = trained
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))
    assert 'reid/rank1' in log and 'reid/rank10' in log
    mAP, mINP = metrics_in_log(log)
    assert 0 <= mAP <= 1 and 0 <= mINP <= 1


def test_test_tool_saves_features_and_metrics(trained, market_root, tmp_path):
    work_dir, log = trained
    out = str(tmp_path / 'results.npz')
    result = run([
        sys.executable, 'tools/test.py', CONFIG,
        osp.join(work_dir, 'epoch_2.pth'), '--work-dir',
        str(tmp_path), '--out', out, '--cfg-options',
        *tiny_options(market_root)
    ])
    saved = np.load(out)
    n_query = len(os.listdir(osp.join(market_root, 'query')))
    assert saved['is_query'].sum() == n_query
    assert saved['features'].shape[0] == len(saved['labels'])
    assert (saved['camera_ids'] >= 0).all()
    np.testing.assert_allclose(
        np.linalg.norm(saved['features'], axis=1), 1, atol=1e-5)
    with open(out[:-4] + '.json') as f:
        metrics = json.load(f)
    # Same checkpoint, same data: the same numbers as the last validation.
    assert [metrics['reid/mAP'], metrics['reid/mINP']] == pytest.approx(
        metrics_in_log(log), abs=1e-4)
    assert metrics['reid/mAP'] == pytest.approx(
        metrics_in_log(result.stdout + result.stderr)[0], abs=1e-4)
    # --out never overwrites.
    again = run([
        sys.executable, 'tools/test.py', CONFIG,
        osp.join(work_dir, 'epoch_2.pth'), '--out', out, '--cfg-options',
        *tiny_options(market_root)
    ],
                check=False)
    assert again.returncode != 0 and 'exists' in again.stderr


def test_train_refuses_to_overwrite_and_resumes(trained, market_root):
    work_dir, _ = trained
    refused = run([
        sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir,
        '--cfg-options', *tiny_options(market_root)
    ],
                  check=False)
    assert refused.returncode != 0
    assert 'already holds checkpoints' in refused.stderr
    resumed = run([
        sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir,
        '--resume', '--cfg-options', *tiny_options(market_root, epochs=3)
    ])
    log = resumed.stdout + resumed.stderr
    assert 'resumed epoch: 2' in log
    assert 'Epoch(train) [1]' not in log and 'Epoch(train) [3]' in log
    assert osp.isfile(osp.join(work_dir, 'epoch_3.pth'))


def losses_of_epoch(log, epoch):
    """(loss, loss_id, loss_triplet) of every logged iteration of an epoch."""
    return re.findall(
        rf'Epoch\(train\)\s+\[{epoch}\]\[\s*\d+/\d+\].*? loss: ([\d.]+)'
        r'\s+loss_id: ([\d.]+)\s+loss_triplet: ([\d.]+)', log)


def test_resumed_training_repeats_the_uninterrupted_losses(
        market_root, tmp_path):
    options = [
        *tiny_options(market_root, epochs=2), 'log_processor.window_size=1'
    ]
    straight = run([
        sys.executable, 'tools/train.py', CONFIG, '--work-dir',
        str(tmp_path / 'a'), '--no-validate', '--cfg-options', *options
    ])
    # The same training, killed once the epoch-1 checkpoint is on disk ...
    work_dir = tmp_path / 'b'
    proc = subprocess.Popen([
        sys.executable, 'tools/train.py', CONFIG, '--work-dir',
        str(work_dir), '--no-validate', '--cfg-options', *options
    ],
                            cwd=REPO_ROOT,
                            env=dict(os.environ, OMP_NUM_THREADS='1'),
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (work_dir / 'epoch_1.pth').exists() and proc.poll() is None:
        assert time.time() < deadline, 'no epoch-1 checkpoint in 300 s'
        time.sleep(0.2)
    proc.kill()
    proc.wait()
    assert not (work_dir / 'epoch_2.pth').exists()
    # ... then resumed, repeats the uninterrupted losses exactly.
    resumed = run([
        sys.executable, 'tools/train.py', CONFIG, '--work-dir',
        str(work_dir), '--no-validate', '--resume', '--cfg-options', *options
    ])
    expected = losses_of_epoch(straight.stdout + straight.stderr, 2)
    assert len(expected) >= 2
    assert losses_of_epoch(resumed.stdout + resumed.stderr, 2) == expected


def test_cfg_option_typo_is_refused(market_root):
    result = run([
        sys.executable, 'tools/train.py', CONFIG, '--cfg-options',
        'train_dataloder.batch_size=8'
    ],
                 check=False)
    assert result.returncode != 0
    assert "no key 'train_dataloder'" in result.stderr
    assert 'train_dataloader' in result.stderr


def test_two_process_training_and_evaluation_match_one_process(
        market_root, tmp_path):
    work_dir = str(tmp_path / 'dist')
    env = dict(PORT='29517')
    run([
        'bash', 'tools/dist_train.sh', CONFIG, '2', '--work-dir', work_dir,
        '--cfg-options', *tiny_options(market_root, epochs=1)
    ],
        env=env)
    ckpt = glob.glob(osp.join(work_dir, 'epoch_1.pth'))[0]
    # val batch 7 on 2 ranks: the sampler pads; the metric must not count
    # the padding twice.
    dist = run([
        'bash', 'tools/dist_test.sh', CONFIG, ckpt, '2', '--work-dir',
        str(tmp_path / 'dt'), '--cfg-options', *tiny_options(market_root)
    ],
               env=env)
    single = run([
        sys.executable, 'tools/test.py', CONFIG, ckpt, '--work-dir',
        str(tmp_path / 'st'), '--cfg-options', *tiny_options(market_root)
    ])
    assert metrics_in_log(dist.stdout + dist.stderr) == pytest.approx(
        metrics_in_log(single.stdout + single.stderr), abs=1e-6)
