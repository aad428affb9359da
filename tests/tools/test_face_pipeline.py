"""Face recognition end to end: synthetic faces -> tools/train.py ->
tools/test.py on LFW-format pairs and on a two-column pair list."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
from conftest import REPO_ROOT

from mmattn.datasets.synthetic import TINY_FACE_PRESET, make_synthetic_faces

CONFIG = osp.join(REPO_ROOT,
                  'configs/face/demo_stra-resnet18_arcface_synthetic.py')


def tiny_config(tmp, root, test_set='lfw'):
    """The demo config shrunk to the tiny set (32 x 32 inputs, 2 epochs);
    ``test_set='pose'`` tests on the two-column pair list instead."""
    text = f"""_base_ = [{CONFIG!r}]
input_size = 32
pipeline = [dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(32, 32)), dict(type='PackInputs')]
model = dict(backbone=dict(dummy_input_shape=(1, 3, 32, 32)),
             neck=dict(feature_size=(2, 2)),
             head=dict(num_classes={TINY_FACE_PRESET['num_train_ids']}))
train_dataloader = dict(batch_size=8, num_workers=0,
                        persistent_workers=False,
                        dataset=dict(data_root='{root}/train',
                                     pipeline=pipeline))
val_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root='{root}/lfw', pipeline=pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=2, val_interval=1)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
randomness = dict(seed=0, deterministic=True)
"""
    if test_set == 'pose':
        text += f"""test_dataloader = dict(dataset=dict(
    _delete_=True, type='FacePairList', data_root='{root}/pose_pairs',
    name='pose', pipeline=pipeline))
"""
    path = osp.join(str(tmp), f'face_{test_set}.py')
    with open(path, 'w') as f:
        f.write(text)
    return path


def run(args):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run(
        [sys.executable] + args,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=env)
    assert result.returncode == 0, (
        result.stdout[-3000:] + result.stderr[-3000:])
    return result.stdout + result.stderr


def accuracy_in_log(text, name):
    found = re.findall(name + r'/accuracy: ([\d.]+)', text)
    assert found, text[-3000:]
    return float(found[-1])


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('face')
    root = str(tmp / 'faces')
    make_synthetic_faces(root, **TINY_FACE_PRESET, image_size=32, seed=0)
    work = str(tmp / 'work')
    config = tiny_config(tmp, root)
    log = run(['tools/train.py', config, '--work-dir', work])
    return root, config, work, log


def test_train_then_test_on_both_pair_formats(trained, tmp_path):
    root, config, work, log = trained
    assert 'loss_diversity' in log and 'loss_cls' in log
    checkpoint = osp.join(work, 'epoch_2.pth')
    assert osp.isfile(checkpoint)
    val_accuracy = accuracy_in_log(log, 'lfw')
    assert 0 <= val_accuracy <= 100

    test_log = run([
        'tools/test.py', config, checkpoint, '--work-dir',
        str(tmp_path / 'lfw')
    ])
    # Same checkpoint, same pairs: the last validation's number.
    assert accuracy_in_log(test_log, 'lfw') == pytest.approx(
        val_accuracy, abs=1e-3)
    assert 'lfw/accuracy_std' in test_log

    pose_config = tiny_config(tmp_path, root, test_set='pose')
    test_log = run([
        'tools/test.py', pose_config, checkpoint, '--work-dir',
        str(tmp_path / 'pose')
    ])
    assert 0 <= accuracy_in_log(test_log, 'pose') <= 100
    assert 'pose/accuracy_std' in test_log and 'pose/threshold' in test_log
