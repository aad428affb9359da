"""ImageNet / Re-ID ResNets are mmpretrain's stock ``ResNet``: check the
parameter counts of seed 004 table 4 and the Re-ID last-stride snippet."""
import os.path as osp

import torch
from mmengine.config import Config

from mmattn.registry import MODELS

CONFIG_ROOT = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))),
    'configs')


def num_params(module):
    return sum(p.numel() for p in module.parameters())


def classifier(backbone, in_channels):
    return MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=backbone,
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead',
                num_classes=1000,
                in_channels=in_channels)))


def test_resnet18_has_11_69m_params():
    model = classifier(dict(type='ResNet', depth=18), 512)
    assert abs(num_params(model) / 11.69e6 - 1) < 0.01


def test_se_resnet50_has_28_09m_params():
    # SE in every bottleneck (after norm3) by injection, 1000-class head.
    cfg = Config.fromfile(
        osp.join(CONFIG_ROOT, 'attentions', 'se_resnet50.py'))
    model = MODELS.build(cfg.model)
    assert len(model.backbone.injected_attentions()) == 16
    assert abs(num_params(model) / 28.09e6 - 1) < 0.01
    plain = classifier(dict(type='ResNet', depth=50), 2048)
    assert abs(num_params(plain) / 25.56e6 - 1) < 0.01


def test_reid_resnet50_last_stride_1_and_attention_after_each_stage():
    cfg = Config.fromfile(
        osp.join(CONFIG_ROOT, '_base_', 'models', 'reid_resnet50.py'))
    backbone_cfg = cfg.model.backbone
    assert tuple(backbone_cfg.strides) == (1, 2, 2, 1)
    backbone = MODELS.build(
        dict(
            type='AttentionBackbone',
            backbone=dict(backbone_cfg, out_indices=(0, 1, 2, 3)),
            attentions=[
                dict(
                    cfg=dict(type='SEAttention'),
                    after=['layer1', 'layer2', 'layer3', 'layer4'])
            ]))
    assert [m.in_channels for m in backbone.injected_attentions().values()
            ] == [256, 512, 1024, 2048]
    outs = backbone(torch.randn(2, 3, 64, 32))
    # Last stride 1: the final map is 1/16 of the input, not 1/32.
    assert [tuple(o.shape[1:]) for o in outs] == [(256, 16, 8), (512, 8, 4),
                                                  (1024, 4, 2), (2048, 4, 2)]
    outs[-1].mean().backward()
