"""configs/pose: mmpose 1.3's top-down SimpleBaseline (heatmap head) with an
mmattn ResNet-50 backbone (plain, SE, CBAM, HOGA; seed 004 table 8) parse,
build under mmpose's scope with the attentions inside, and load an mmattn
ImageNet classifier checkpoint through ``init_cfg``."""
import glob
import os.path as osp

import pytest
import torch
from classifier_checkpoint import check_backbone_loads_classifier
from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpose.registry import MODELS as POSE_MODELS

from mmattn.models.attentions import CBAMAttention, HOGAttention, SEAttention

CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs/pose/td-hm_*.py')))
DEMO = osp.join(REPO_ROOT,
                'configs/pose/demo_td-hm_res50-hoga_synthetic-96x64.py')
NAME = 'td-hm_res50{}_8xb64-210e_coco-256x192'
ATTENTIONS = {
    '': None,
    '-se': SEAttention,
    '-cbam': CBAMAttention,
    '-hoga': HOGAttention
}
BOTTLENECKS = 3 + 4 + 6 + 3  # of ResNet-50


def config_path(attention):
    return osp.join(REPO_ROOT, 'configs/pose', NAME.format(attention) + '.py')


def build_pose_model(cfg):
    """Build ``cfg.model`` as tools/train.py does: in the config's scope."""
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        return POSE_MODELS.build(cfg.model)


def test_every_table_row_has_a_config():
    assert set(CONFIGS) == {config_path(a) for a in ATTENTIONS}
    assert set(glob.glob(osp.join(REPO_ROOT, 'configs/pose/*.py'))) == \
        {*CONFIGS, DEMO}


@pytest.mark.parametrize('attention', sorted(ATTENTIONS))
def test_config_builds_with_its_attentions(attention):
    cfg = Config.fromfile(config_path(attention))
    # mmpose's base config, scope and COCO protocol, with mmattn imported by
    # the config.
    assert cfg.default_scope == 'mmpose'
    assert cfg.custom_imports.imports == ['mmattn.models']
    assert cfg.train_dataloader.dataset.type == 'CocoDataset'
    assert cfg.val_evaluator.type == 'CocoMetric'
    assert cfg.codec.input_size == (192, 256)
    backbone_cfg = cfg.model.backbone
    assert backbone_cfg.type == 'mmattn.AttentionBackbone'
    assert backbone_cfg.init_cfg.prefix == 'backbone.'
    kind = attention.lstrip('-') or 'resnet50'
    assert osp.basename(osp.dirname(backbone_cfg.init_cfg.checkpoint)) == \
        (f'{kind}_resnet50_8xb32_in1k' if attention else
         'resnet50_8xb32_in1k')
    model = build_pose_model(cfg)
    assert type(model).__name__ == 'TopdownPoseEstimator'
    assert type(model.head).__name__ == 'HeatmapHead'
    backbone = model.backbone
    assert type(backbone.backbone).__module__.startswith('mmpose.')
    injected = list(backbone.injected_attentions().values())
    expected_cls = ATTENTIONS[attention]
    if expected_cls is None:
        assert injected == []
    else:
        assert len(injected) == BOTTLENECKS
        assert all(type(m) is expected_cls for m in injected)
        # They sit in the model's module tree, so the optimiser and the
        # checkpoints see them.
        names = {id(m) for m in model.modules()}
        assert all(id(m) in names for m in injected)
    # The injected modules run in the model's forward: one 64x48 heatmap
    # per COCO keypoint for a 256x192 crop.
    model.eval()
    calls = []
    for module in injected:
        module.register_forward_hook(lambda *args: calls.append(1))
    with torch.no_grad():
        heatmaps = model(torch.randn(1, 3, 256, 192), None, mode='tensor')
    assert heatmaps.shape == (1, 17, 64, 48)
    assert len(calls) == len(injected)


@pytest.mark.parametrize('attention', sorted(ATTENTIONS))
def test_backbone_loads_the_classifier_checkpoint(attention, tmp_path):
    """The ImageNet classifier of configs/classification with the same
    attention saves a checkpoint; the pose model's init_weights puts exactly
    its values into the backbone."""
    check_backbone_loads_classifier(
        Config.fromfile(config_path(attention)), build_pose_model,
        attention.lstrip('-'), tmp_path)


def test_demo_config_uses_its_small_codec_everywhere():
    cfg = Config.fromfile(DEMO)
    codec = cfg.codec
    assert codec.input_size == (64, 96) and codec.heatmap_size == (16, 24)

    def same_codec(value):  # mmengine may have tagged either with _scope_

        def plain(d):
            return {k: v for k, v in d.items() if k != '_scope_'}

        return plain(value) == plain(codec)

    assert same_codec(cfg.model.head.decoder)
    train = {t.type: t for t in cfg.train_dataloader.dataset.pipeline}
    assert train['TopdownAffine'].input_size == codec.input_size
    assert same_codec(train['GenerateTarget'].encoder)
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        assert loader.dataset.bbox_file is None  # ground-truth boxes
        affine, = [
            t for t in loader.dataset.pipeline if t.type == 'TopdownAffine'
        ]
        assert affine.input_size == codec.input_size
    assert cfg.val_evaluator.ann_file.startswith(cfg.data_root)
    assert cfg.model.backbone.init_cfg is None
    model = build_pose_model(cfg)
    assert len(model.backbone.injected_attentions()) == BOTTLENECKS
    model.eval()
    with torch.no_grad():
        heatmaps = model(torch.randn(2, 3, 96, 64), None, mode='tensor')
    assert heatmaps.shape == (2, 17, 24, 16)
