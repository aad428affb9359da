"""--mixup ALPHA (seeds 000 / 001: mixup in the Re-ID fine-tuning): the
batch is mixed, the ID loss learns the soft scores, the metric losses the
dominant identity, and a Re-ID config trains with it through tools/train.py.
"""
import os.path as osp
import re
import sys

import numpy as np
import pytest
import torch
from conftest import REPO_ROOT
from mmengine.config import Config
from mmpretrain.structures import DataSample
from test_train_test import run, tiny_options

from mmattn.engine import enable_mixup
from mmattn.registry import MODELS


def _batch(labels):
    inputs = [
        torch.full((3, 4, 2), float(i), dtype=torch.uint8)
        for i in range(len(labels))
    ]
    samples = [DataSample().set_gt_label(y) for y in labels]
    return dict(inputs=inputs, data_samples=samples)


def test_reid_preprocessor_mixes_the_batch_and_keeps_the_dominant_id():
    torch.manual_seed(0)
    np.random.seed(0)  # mmpretrain draws lam with numpy
    pre = MODELS.build(
        dict(
            type='ReIDDataPreprocessor',
            num_classes=5,
            batch_augments=dict(augments=dict(type='Mixup', alpha=1.0))))
    labels = [0, 1, 2, 3]
    out = pre(_batch(labels), training=True)
    x = out['inputs']  # image i is constant i before mixing
    scores = torch.stack([s.gt_score for s in out['data_samples']])
    assert torch.allclose(scores.sum(1), torch.ones(4))
    # mixed image value = sum_k score_k * k: the scores say what was mixed
    expected = scores @ torch.arange(5.)
    assert torch.allclose(x[:, 0, 0, 0], expected, atol=1e-5)
    assert not torch.allclose(x[:, 0, 0, 0], torch.tensor([0., 1, 2, 3]))
    hard = torch.cat([s.gt_label for s in out['data_samples']])
    assert torch.equal(hard, scores.argmax(1))
    # Not in evaluation.
    test = pre(_batch(labels), training=False)
    assert torch.equal(test['inputs'][:, 0, 0, 0], torch.tensor([0., 1, 2, 3]))
    # Test identities are no training classes: no one-hot scores.
    assert 'gt_score' not in pre(_batch([7, 9]))['data_samples'][0]
    with pytest.raises(ValueError, match='num_classes'):
        MODELS.build(
            dict(
                type='ReIDDataPreprocessor',
                batch_augments=dict(augments=dict(type='Mixup', alpha=1.))))


def test_reid_head_id_loss_learns_soft_scores():
    head = MODELS.build(dict(type='ReIDHead', num_classes=3, in_channels=4))
    feats = (torch.randn(4, 4), torch.randn(4, 4))
    hard = [DataSample().set_gt_label(y) for y in (0, 0, 1, 1)]
    soft = [DataSample().set_gt_label(y) for y in (0, 0, 1, 1)]
    for s in soft:
        s.set_gt_score(torch.tensor([0.5, 0.5, 0.0]))
    a, b = head.loss(feats, hard), head.loss(feats, soft)
    assert not torch.allclose(a['loss_id'], b['loss_id'])
    assert torch.allclose(a['loss_triplet'], b['loss_triplet'])


def test_enable_mixup_on_the_retrain_configs():
    path = osp.join(REPO_ROOT,
                    'configs/search/dcs-dnas_fbnetv2_retrain_market1501.py')
    cfg = Config.fromfile(path)
    enable_mixup(cfg, 0.2)
    pre = cfg.model.data_preprocessor
    assert pre.type == 'ReIDDataPreprocessor'
    assert pre.num_classes == cfg.model.head.num_classes == 751
    assert pre.batch_augments.augments == dict(type='Mixup', alpha=0.2)
    # The config's normalisation is kept.
    assert pre.mean == cfg.data_preprocessor.mean
    cls = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/classification/resnet20_cifar10.py'))
    enable_mixup(cls, 0.8)
    assert cls.model.data_preprocessor.type == 'ClsDataPreprocessor'
    assert cls.model.head.loss.use_soft is True
    with pytest.raises(ValueError, match='alpha must be > 0'):
        enable_mixup(cls, 0.0)
    search = Config.fromfile(
        osp.join(REPO_ROOT,
                 'configs/search/dcs-dnas_fbnetv2_search_market1501.py'))
    with pytest.raises(ValueError, match='model.type'):
        enable_mixup(search, 0.2)


def test_reid_config_with_ib_trains_with_mixup(market_root, tmp_path):
    config = osp.join(REPO_ROOT,
                      'configs/reid/demo_dcs_ibb_mobilenetv2_synthetic.py')
    result = run([
        sys.executable, 'tools/train.py', config, '--work-dir',
        str(tmp_path / 'w'), '--mixup', '0.2', '--cfg-options',
        *tiny_options(market_root, epochs=1)
    ])
    log = result.stdout + result.stderr
    assert 'ReIDDataPreprocessor' in open(
        next(iter(sorted(
            (tmp_path / 'w').glob('*/vis_data/config.py'))))).read()
    assert re.search(r'loss_id: [\d.]+.*loss_triplet: [\d.]+', log), \
        log[-3000:]
    assert re.search(r'reid/mAP: [\d.]+', log)
