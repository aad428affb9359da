"""A plug-in user's view: mmpretrain's own tools/train.py and tools/test.py
(shipped in its package under ``.mim/tools``) on a config that lists mmattn
only in ``custom_imports``. Checkpoints written that way load back, and a
crafted checkpoint is refused by those tools even with
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``."""
import os
import os.path as osp
import subprocess
import sys

import mmpretrain
import numpy as np
import pytest
import torch
from PIL import Image

TOOLS = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'tools')

CONFIG = """
custom_imports = dict(imports=['mmattn'], allow_failed_imports=False)
default_scope = 'mmpretrain'
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        num_classes=2, mean=[127.5] * 3, std=[64.0] * 3, to_rgb=True),
    backbone=dict(
        type='mmattn.AttentionBackbone',
        backbone=dict(type='ResNet', depth=18, stem_channels=8,
                      base_channels=8),
        attentions=[dict(cfg=dict(type='SEAttention'),
                         in_blocks='layer4.*')]),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=2, in_channels=64,
              loss=dict(type='CrossEntropyLoss')))
pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='CustomDataset', data_root='{root}',
                 pipeline=pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CustomDataset', data_root='{root}',
                 pipeline=pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1),
                     logger=dict(type='LoggerHook', interval=1))
randomness = dict(seed=0)
"""


class RunsCode:
    """Unpickling this would create a folder: what an attack would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.makedirs, (self.marker, ))


def tool(name, *args, env=None):
    return subprocess.run(
        [sys.executable, osp.join(TOOLS, name), *args],
        capture_output=True,
        text=True,
        env=dict(os.environ, OMP_NUM_THREADS='1', **(env or {})))


@pytest.fixture(scope='module')
def plugin_config(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('plugin')
    rng = np.random.default_rng(0)
    for label in ('a', 'b'):
        os.makedirs(tmp / 'data' / label)
        for i in range(4):
            Image.fromarray(rng.integers(0, 255, (32, 32, 3), np.uint8)).save(
                tmp / 'data' / label / f'{i}.png')
    config = tmp / 'plugin_cfg.py'
    config.write_text(CONFIG.replace('{root}', str(tmp / 'data')))
    return tmp, str(config)


@pytest.fixture(scope='module')
def trained(plugin_config):
    tmp, config = plugin_config
    work_dir = str(tmp / 'work')
    result = tool('train.py', config, '--work-dir', work_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    return tmp, config, osp.join(work_dir, 'epoch_1.pth')


def test_mmpretrain_tools_test_a_checkpoint_of_the_plugin(trained):
    tmp, config, ckpt = trained
    # The message hub's HistoryBuffers load under weights_only=True,
    # with and without the variable.
    for env in (None, dict(TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD='1')):
        result = tool(
            'test.py', config, ckpt, '--work-dir', str(tmp / 'test'), env=env)
        assert result.returncode == 0, result.stderr[-3000:]
        assert 'accuracy/top1' in result.stdout + result.stderr
    # It also resumes through mmpretrain's tool.
    result = tool('train.py', config, '--work-dir', str(tmp / 'work'),
                  '--resume', ckpt, '--cfg-options', 'train_cfg.max_epochs=2')
    assert result.returncode == 0, result.stderr[-3000:]
    assert osp.isfile(str(tmp / 'work' / 'epoch_2.pth'))


def test_mmpretrain_tools_refuse_a_crafted_checkpoint(trained):
    tmp, config, ckpt = trained
    marker = str(tmp / 'pwned')
    evil = str(tmp / 'evil.pth')
    state = torch.load(ckpt, weights_only=True)
    state['meta']['x'] = RunsCode(marker)
    torch.save(state, evil)
    env = dict(TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD='1')
    for name, args in (('test.py', [config, evil]),
                       ('train.py', [config, '--resume', evil])):
        result = tool(name, *args, '--work-dir', str(tmp / name), env=env)
        assert result.returncode != 0, name
        assert 'UnsafeCheckpointError' in result.stderr, result.stderr[-3000:]
        assert 'evil.pth' in result.stderr and 'os.makedirs' in result.stderr
        assert not osp.exists(marker), name
