"""configs/detection: mmdet 3.3's Faster R-CNN + FPN and SSD300 with an
mmattn ResNet-50 backbone (plain, SE, CBAM, HOGA; seed 004 table 7) parse,
build under mmdet's scope with the attentions inside, and load an mmattn
ImageNet classifier checkpoint through ``init_cfg``."""
import glob
import os.path as osp

import pytest
import torch
from classifier_checkpoint import check_backbone_loads_classifier
from conftest import REPO_ROOT
from mmdet.registry import MODELS as DET_MODELS
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmattn.models.attentions import CBAMAttention, HOGAttention, SEAttention

CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs/detection/*.py')))
DETECTORS = dict(
    faster_rcnn=('faster-rcnn_r50{}_fpn_1x_coco', 'FasterRCNN'),
    ssd=('ssd300_r50{}_coco', 'SingleStageDetector'))
ATTENTIONS = {
    '': None,
    '-se': SEAttention,
    '-cbam': CBAMAttention,
    '-hoga': HOGAttention
}
# Bottlenecks of ResNet-50 in the stages each detector uses.
BLOCKS = dict(faster_rcnn=3 + 4 + 6 + 3, ssd=3 + 4 + 6)


def config_path(detector, attention):
    name = DETECTORS[detector][0].format(attention)
    return osp.join(REPO_ROOT, 'configs/detection', name + '.py')


def build_detector(cfg):
    """Build ``cfg.model`` as tools/train.py does: in the config's scope."""
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        return DET_MODELS.build(cfg.model)


def test_every_table_row_has_a_config():
    expected = {
        config_path(detector, attention)
        for detector in DETECTORS
        for attention in ATTENTIONS
    }
    assert set(CONFIGS) == expected


@pytest.mark.parametrize('detector', sorted(DETECTORS))
@pytest.mark.parametrize('attention', sorted(ATTENTIONS))
def test_config_builds_with_its_attentions(detector, attention):
    cfg = Config.fromfile(config_path(detector, attention))
    # mmdet's base config and scope, with mmattn imported by the config.
    assert cfg.default_scope == 'mmdet'
    assert cfg.custom_imports.imports == ['mmattn.models']
    backbone_cfg = cfg.model.backbone
    assert backbone_cfg.type == 'mmattn.AttentionBackbone'
    assert backbone_cfg.init_cfg.prefix == 'backbone.'
    # The checkpoint tools/train.py writes for the classifier with the same
    # attention (configs/classification, 100 epochs).
    classifier = attention.lstrip('-') + '_' * bool(attention) + \
        'resnet50_8xb32_in1k'
    assert osp.isfile(
        osp.join(REPO_ROOT, f'configs/classification/{classifier}.py'))
    assert backbone_cfg.init_cfg.checkpoint == \
        f'work_dirs/{classifier}/epoch_100.pth'
    model = build_detector(cfg)
    assert type(model).__name__ == DETECTORS[detector][1]
    backbone = model.backbone
    assert type(backbone.backbone).__module__.startswith('mmdet.')
    injected = list(backbone.injected_attentions().values())
    expected_cls = ATTENTIONS[attention]
    if expected_cls is None:
        assert injected == []
    else:
        assert len(injected) == BLOCKS[detector]
        assert all(type(m) is expected_cls for m in injected)
    # The injected modules run in the detector's forward.
    model.eval()
    size = 128 if detector == 'faster_rcnn' else 300
    with torch.no_grad():
        feats = model.extract_feat(torch.randn(1, 3, size, size))
    if detector == 'faster_rcnn':
        assert [f.shape[1] for f in feats] == [256] * 5
    else:
        # The SSD neck's six maps (38, 19, 10, 5, 3, 1 for 300x300).
        assert [f.shape[-1] for f in feats] == [38, 19, 10, 5, 3, 1]


@pytest.mark.parametrize('detector,attention', [('faster_rcnn', '-hoga'),
                                                ('ssd', '-se')])
def test_backbone_loads_the_classifier_checkpoint(detector, attention,
                                                  tmp_path):
    """The ImageNet classifier of configs/classification with the same
    attention saves a checkpoint; the detector's init_weights puts exactly
    its values into the backbone."""
    state, loaded = check_backbone_loads_classifier(
        Config.fromfile(config_path(detector, attention)), build_detector,
        attention.lstrip('-'), tmp_path)
    if detector == 'ssd':  # stage 4 of the classifier stays unused
        assert any(k.startswith('backbone.backbone.layer4.') for k in state)
        assert not any(k.startswith('backbone.layer4.') for k in loaded)
