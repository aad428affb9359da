"""configs/pose through tools/train.py and tools/test.py, unchanged but for
--cfg-options that point them at a tiny synthetic COCO keypoint set with a
small input: SimpleBaseline with the plain ResNet-50 and with CBAM in every
Bottleneck (initialised from an mmattn classifier checkpoint) trains and is
evaluated with mmpose's CocoMetric (OKS AP on ground-truth boxes). CBAM
rather than HOGA keeps the checkpoints small (mmattn's HOGA ResNet-50 has
~96M parameters); test_pose_configs.py builds and initialises all four."""
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

from mmattn.datasets.synthetic import make_coco_keypoints
from mmattn.registry import MODELS

CONFIG = osp.join(REPO_ROOT,
                  'configs/pose/td-hm_res50{}_8xb64-210e_coco-256x192.py')
# Two images hold 2-4 persons: one training batch of 4, one val batch.
NUM_TRAIN, NUM_VAL, BATCH = 2, 2, 4
# A 64x32 (h x w) crop: ResNet-50's stride 32 gives 2x1, the three x2
# deconvolutions a 16x8 heatmap. (w, h) order, as mmpose's codec takes it.
INPUT_SIZE, HEATMAP_SIZE = '(32,64)', '(8,16)'
AP_KEYS = ('coco/AP', 'coco/AP .5', 'coco/AP .75', 'coco/AR')


@pytest.fixture(scope='module')
def pose_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('coco') / 'coco_pose')
    counts = make_coco_keypoints(
        root,
        num_train=NUM_TRAIN,
        num_val=NUM_VAL,
        image_size=(96, 96),
        seed=0)
    return root, counts


def tiny_options(root, checkpoint=None):
    """The tiny set, ground-truth boxes, a 64x32 input, one epoch; the
    checkpoint without the optimiser state and no extra best checkpoint,
    which would only cost time writing files."""
    val_ann = osp.join(root, 'annotations/person_keypoints_val2017.json')
    options = [
        f'model.head.decoder.input_size={INPUT_SIZE}',
        f'model.head.decoder.heatmap_size={HEATMAP_SIZE}',
        # train pipeline: 5 TopdownAffine, 6 GenerateTarget; val: 2.
        f'train_dataloader.dataset.pipeline.5.input_size={INPUT_SIZE}',
        f'train_dataloader.dataset.pipeline.6.encoder.input_size={INPUT_SIZE}',
        'train_dataloader.dataset.pipeline.6.encoder.heatmap_size='
        f'{HEATMAP_SIZE}',
        f'train_dataloader.dataset.data_root={root}',
        f'train_dataloader.batch_size={BATCH}',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_cfg.max_epochs=1',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.save_best=None',
        'default_hooks.checkpoint.save_optimizer=False',
        'randomness.seed=0',
        'model.backbone.init_cfg=None' if checkpoint is None else
        f'model.backbone.init_cfg.checkpoint={checkpoint}'
    ]
    for split in ('val', 'test'):
        options += [
            f'{split}_dataloader.dataset.pipeline.2.input_size={INPUT_SIZE}',
            f'{split}_dataloader.dataset.data_root={root}',
            f'{split}_dataloader.dataset.bbox_file=None',
            f'{split}_dataloader.batch_size={BATCH}',
            f'{split}_dataloader.num_workers=0',
            f'{split}_dataloader.persistent_workers=False',
            f'{split}_evaluator.ann_file={val_ann}'
        ]
    return options


def ap_in_log(log):
    found = {
        key: re.findall(re.escape(key) + r': (-?[\d.]+)', log)
        for key in AP_KEYS
    }
    assert all(found.values()), log[-3000:]
    return {key: float(values[-1]) for key, values in found.items()}


@pytest.fixture(scope='module')
def cbam_classifier_checkpoint(tmp_path_factory):
    """A (not trained) checkpoint of the CBAM ResNet-50 ImageNet classifier
    of configs/classification, as tools/train.py would save it."""
    cfg = Config.fromfile(
        osp.join(REPO_ROOT,
                 'configs/classification/cbam_resnet50_8xb32_in1k.py'))
    classifier = MODELS.build(cfg.model)
    path = str(tmp_path_factory.mktemp('cls') / 'cbam_resnet50.pth')
    torch.save(dict(state_dict=classifier.state_dict(), meta=dict()), path)
    return path


@pytest.fixture(scope='module')
def cbam_trained(pose_root, cbam_classifier_checkpoint, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('cbam'))
    result = run([
        sys.executable, 'tools/train.py',
        CONFIG.format('-cbam'), '--work-dir', work_dir, '--cfg-options',
        *tiny_options(pose_root[0], cbam_classifier_checkpoint)
    ])
    return work_dir, result.stdout + result.stderr


def test_cbam_pose_model_trains_and_validates(cbam_trained, pose_root,
                                              cbam_classifier_checkpoint):
    work_dir, log = cbam_trained
    _, counts = pose_root
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    # The backbone was initialised from the classifier checkpoint.
    assert f'from: {cbam_classifier_checkpoint}' in log
    # One loss per iteration: ceil(persons / BATCH) batches of the epoch.
    losses = re.findall(r'loss_kpt: ([\d.]+)', log)
    assert len(losses) == -(-counts['train_persons'] // BATCH)
    # OKS AP / AR of mmpose's CocoMetric (xtcocotools) on the val persons.
    for key, value in ap_in_log(log).items():
        assert -1 <= value <= 1, key
    # The saved model holds the injected CBAM modules.
    state = torch.load(
        osp.join(work_dir, 'epoch_1.pth'), map_location='cpu')['state_dict']
    assert any(
        k.startswith('backbone.backbone.layer4.2.') and '.attention.' in k
        for k in state)


def test_test_tool_evaluates_the_checkpoint(cbam_trained, pose_root, tmp_path):
    work_dir, _ = cbam_trained
    root, counts = pose_root
    out = str(tmp_path / 'results.pkl')
    run([
        sys.executable, 'tools/test.py',
        CONFIG.format('-cbam'),
        osp.join(work_dir, 'epoch_1.pth'), '--work-dir',
        str(tmp_path), '--out', out, '--cfg-options', *tiny_options(root)
    ])
    with open(str(tmp_path / 'results.json')) as f:
        metrics = json.load(f)
    for key in AP_KEYS:
        assert -1 <= metrics[key] <= 1, (key, metrics)
    with open(out, 'rb') as f:
        predictions = pickle.load(f)
    # One prediction per ground-truth person box, 17 keypoints each, in the
    # image's pixel frame.
    assert len(predictions) == counts['val_persons']
    for prediction in predictions:
        keypoints = prediction['pred_instances']['keypoints']
        assert keypoints.shape == (1, 17, 2)


def test_plain_resnet50_trains_and_validates(pose_root, tmp_path):
    result = run([
        sys.executable, 'tools/train.py',
        CONFIG.format(''), '--work-dir',
        str(tmp_path), '--cfg-options', *tiny_options(pose_root[0])
    ])
    log = result.stdout + result.stderr
    assert osp.isfile(str(tmp_path / 'epoch_1.pth'))
    assert re.search(r'loss_kpt: [\d.]+', log)
    ap_in_log(log)
