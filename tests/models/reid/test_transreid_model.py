import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmpretrain.structures import DataSample

from mmattn.registry import MODELS

ARCH = dict(embed_dims=64, num_layers=2, num_heads=4, feedforward_channels=128)
CONFIG = osp.join(
    osp.dirname(__file__), '..', '..', '..', 'configs', '_base_', 'models',
    'reid_transreid.py')


def backbone(**kwargs):
    cfg = dict(
        type='TransReID',
        arch=ARCH,
        img_size=(64, 32),
        num_cameras=3,
        drop_path_rate=0.)
    cfg.update(kwargs)
    return cfg


def build(backbone_cfg=None, **kwargs):
    cfg = dict(
        type='TransReIDModel',
        backbone=backbone_cfg or backbone(),
        head=dict(type='TransReIDHead', num_classes=4, in_channels=64))
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def samples(labels, cams):
    out = []
    for label, cam in zip(labels, cams):
        sample = DataSample().set_gt_label(int(label))
        sample.set_field(int(cam), 'camera_id', field_type='metainfo')
        out.append(sample)
    return out


def test_loss_uses_cameras_and_backpropagates():
    model = build()
    x = torch.randn(8, 3, 64, 32)
    data = samples([0, 0, 1, 1, 2, 2, 3, 3], [0, 1, 2, 0, 1, 2, 0, 1])
    losses = model(x, data, mode='loss')
    assert set(losses) == {'loss_id', 'loss_triplet'}
    sum(losses.values()).backward()
    sie = model.backbone.sie_embed.grad
    assert all(sie[c].abs().sum() > 0 for c in range(3))
    assert model.backbone._camera_ids is None  # cleared after the call


def test_predict_features_follow_camera_and_head():
    model = build().eval()
    x = torch.randn(3, 3, 64, 32)
    data = samples([0, 1, 2], [2, 0, 1])
    with torch.no_grad():
        out = model(x, data, mode='predict')
        feats = model.backbone(x, camera_ids=torch.tensor([2, 0, 1]))
        expected = F.normalize(model.head.test_feature(feats), dim=1)
        other_cams = model.embed(x, samples([0, 1, 2], [0, 0, 0]))
    got = torch.stack([s.pred_feature for s in out])
    assert got.shape == (3, 5 * 64)
    torch.testing.assert_close(got, expected)
    assert not torch.allclose(got, other_cams)
    # Without data samples, no SIE.
    with torch.no_grad():
        plain = model(x, mode='tensor')
        expected = F.normalize(
            model.head.test_feature(model.backbone(x)), dim=1)
    torch.testing.assert_close(plain, expected)


def test_cameras_reach_a_wrapped_backbone():
    wrapped = dict(
        type='AttentionBackbone',
        backbone=backbone(),
        attentions=[
            dict(
                cfg=dict(type='DCSViTAttention'),
                replace=['layers.*.attn', 'jpm_*.attn'])
        ])
    model = build(wrapped).eval()
    x = torch.randn(2, 3, 64, 32)
    with torch.no_grad():
        got = model.extract_feat(x, samples([0, 1], [1, 2]))
        inner = model.backbone.backbone
        expected = inner(x, camera_ids=torch.tensor([1, 2]))
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e)
    model.train()
    losses = model(
        torch.randn(4, 3, 64, 32),
        samples([0, 0, 1, 1], [0, 1, 2, 0]),
        mode='loss')
    sum(losses.values()).backward()
    assert all(p.grad is not None for p in model.backbone.arch_parameters())


def test_flip_test_and_errors():
    model = build(flip_test=True).eval()
    x = torch.randn(2, 3, 64, 32)
    data = samples([0, 1], [0, 1])
    with torch.no_grad():
        torch.testing.assert_close(
            model.embed(x, data), model.embed(x.flip(3), data))
    with pytest.raises(ValueError, match='test_feature'):
        build(test_feature='raw')
    with pytest.raises(TypeError, match='no TransReID'):
        build(dict(type='ResNet', depth=18))


def test_base_config_builds_with_a_tiny_arch():
    cfg = Config.fromfile(CONFIG)
    bb = cfg.model.backbone
    assert (bb.stride, bb.sie_coef, bb.shift, bb.shuffle_groups,
            bb.num_parts) == (12, 3.0, 5, 2, 4)
    # mmpretrain's ImageNet ViT-B/16 by URL; offline the test starts from
    # scratch (init_cfg=None below).
    assert bb.init_cfg.checkpoint.startswith(
        'https://download.openmmlab.com/mmclassification/v0/vit/')
    assert bb.init_cfg.prefix == 'backbone.'
    assert cfg.model.head.in_channels == 768
    cfg.model.backbone.update(arch=ARCH, img_size=(64, 32), init_cfg=None)
    cfg.model.head.update(in_channels=64, num_classes=4)
    model = MODELS.build(cfg.model)
    losses = model(
        torch.randn(4, 3, 64, 32),
        samples([0, 0, 1, 1], [0, 5, 2, 3]),
        mode='loss')
    assert torch.isfinite(sum(losses.values()))
