"""configs/detection through tools/train.py and tools/test.py, unchanged but
for --cfg-options that point them at a tiny synthetic COCO set: Faster R-CNN
+ FPN with an SE ResNet-50 (initialised from an mmattn classifier
checkpoint) trains and is evaluated with mmdet's CocoMetric; SSD300 with a
CBAM ResNet-50 trains one iteration."""
import json
import os.path as osp
import pickle
import re
import sys

import pytest
import torch
from conftest import REPO_ROOT
from mmengine.config import Config
from test_train_test import run

from mmattn.datasets.synthetic import (COCO_DETECTION_CLASSES,
                                       make_coco_detection)
from mmattn.registry import MODELS

FASTER_RCNN = osp.join(REPO_ROOT,
                       'configs/detection/faster-rcnn_r50-se_fpn_1x_coco.py')
SSD = osp.join(REPO_ROOT, 'configs/detection/ssd300_r50-cbam_coco.py')
NUM_TRAIN, NUM_VAL, IMAGE_SIZE = 4, 2, 96
CLASSES = '(' + ','.join(COCO_DETECTION_CLASSES) + ')'
BBOX_KEYS = ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/bbox_mAP_75')


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('coco') / 'coco')
    make_coco_detection(
        root,
        num_train=NUM_TRAIN,
        num_val=NUM_VAL,
        image_size=(IMAGE_SIZE, IMAGE_SIZE),
        seed=0)
    return root


def data_options(root, train_dataset='train_dataloader.dataset'):
    """Point a COCO detection config at ``root`` and its three classes."""
    ann = osp.join(root, 'annotations/instances_{}2017.json')
    options = [
        f'{train_dataset}.data_root={root}',
        f'{train_dataset}.metainfo.classes={CLASSES}',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'default_hooks.logger.interval=1', 'randomness.seed=0',
        'randomness.deterministic=True'
    ]
    for split in ('val', 'test'):
        options += [
            f'{split}_dataloader.dataset.data_root={root}',
            f'{split}_dataloader.dataset.metainfo.classes={CLASSES}',
            f'{split}_dataloader.num_workers=0',
            f'{split}_dataloader.persistent_workers=False',
            f'{split}_evaluator.ann_file={ann.format("val")}'
        ]
    return options


def faster_rcnn_options(root, checkpoint):
    scale = f'({IMAGE_SIZE},{IMAGE_SIZE})'
    return data_options(root) + [
        'model.roi_head.bbox_head.num_classes=3',
        f'model.backbone.init_cfg.checkpoint={checkpoint}',
        f'train_dataloader.dataset.pipeline.2.scale={scale}',
        f'val_dataloader.dataset.pipeline.1.scale={scale}',
        f'test_dataloader.dataset.pipeline.1.scale={scale}',
        'train_dataloader.batch_size=2', 'train_cfg.max_epochs=1'
    ]


@pytest.fixture(scope='module')
def se_classifier_checkpoint(tmp_path_factory):
    """A (not trained) checkpoint of the SE ResNet-50 ImageNet classifier
    of configs/classification, as tools/train.py would save it. (SE rather
    than HOGA keeps the checkpoints small: 28 M against 98 M parameters.)"""
    cfg = Config.fromfile(
        osp.join(REPO_ROOT,
                 'configs/classification/se_resnet50_8xb32_in1k.py'))
    classifier = MODELS.build(cfg.model)
    path = str(tmp_path_factory.mktemp('cls') / 'se_resnet50.pth')
    torch.save(dict(state_dict=classifier.state_dict(), meta=dict()), path)
    return path


@pytest.fixture(scope='module')
def faster_rcnn_trained(coco_root, se_classifier_checkpoint, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('frcnn'))
    result = run([
        sys.executable, 'tools/train.py', FASTER_RCNN, '--work-dir', work_dir,
        '--cfg-options',
        *faster_rcnn_options(coco_root, se_classifier_checkpoint)
    ])
    return work_dir, result.stdout + result.stderr


def test_faster_rcnn_trains_and_validates(faster_rcnn_trained,
                                          se_classifier_checkpoint):
    work_dir, log = faster_rcnn_trained
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    # The backbone was initialised from the classifier checkpoint.
    assert f'load backbone. in model from: {se_classifier_checkpoint}' in log
    # mmpretrain's and mmdet's ResNet-50 name their weights alike: nothing
    # of the backbone is left out.
    assert 'missing keys in source state_dict' not in log
    # The training losses of both stages, every iteration.
    assert len(re.findall(r'loss_rpn_cls: [\d.]+', log)) == NUM_TRAIN // 2
    assert re.search(r'loss_bbox: [\d.]+', log)
    for key in BBOX_KEYS:
        assert re.search(key + r': -?[\d.]+', log), key


def test_faster_rcnn_test_tool_writes_metrics_and_predictions(
        faster_rcnn_trained, coco_root, se_classifier_checkpoint, tmp_path):
    work_dir, _ = faster_rcnn_trained
    out = str(tmp_path / 'results.pkl')
    options = faster_rcnn_options(coco_root, se_classifier_checkpoint)
    tool = [
        sys.executable, 'tools/test.py', FASTER_RCNN,
        osp.join(work_dir, 'epoch_1.pth'), '--work-dir',
        str(tmp_path)
    ]
    test = tool + ['--out', out, '--cfg-options', *options]
    run(test)
    with open(str(tmp_path / 'results.json')) as f:
        metrics = json.load(f)
    for key in BBOX_KEYS:
        assert 0 <= metrics[key] <= 1, (key, metrics)
    # Size ranges without ground truth are -1, as in pycocotools.
    assert metrics['coco/bbox_mAP_l'] == -1
    with open(out, 'rb') as f:
        predictions = pickle.load(f)
    assert len(predictions) == NUM_VAL
    for prediction in predictions:
        instances = prediction['pred_instances']
        assert instances['bboxes'].shape[1] == 4
        assert set(instances['labels'].tolist()) <= {0, 1, 2}
    # --out never overwrites, and a feature dump (.npz) is refused clearly.
    again = run(test, check=False)
    assert again.returncode != 0 and 'exists' in again.stderr
    npz = run(tool + ['--out', str(tmp_path / 'feats.npz')], check=False)
    assert npz.returncode != 0
    assert 'mmdet models do not produce' in npz.stderr


def test_ssd_trains_one_iteration(coco_root, tmp_path):
    # SSD300 keeps its 300x300 input (its anchors are laid out for it); one
    # batch of all training images is one iteration.
    options = data_options(
        coco_root, train_dataset='train_dataloader.dataset.dataset') + [
            'train_dataloader.dataset.times=1',
            'model.bbox_head.num_classes=3', 'model.backbone.init_cfg=None',
            f'train_dataloader.batch_size={NUM_TRAIN}',
            'train_cfg.max_epochs=1'
        ]
    result = run([
        sys.executable, 'tools/train.py', SSD, '--work-dir',
        str(tmp_path), '--no-validate', '--cfg-options', *options
    ])
    log = result.stdout + result.stderr
    assert len(re.findall(r'loss_cls: [\d.]+', log)) == 1
    assert osp.isfile(str(tmp_path / 'epoch_1.pth'))
