import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmpretrain.models.backbones.resnet import BasicBlock

from mmattn.models.backbones import (AttentionBackbone, CifarResNet,
                                     CifarResNeXt)
from mmattn.models.backbones.resnet_cifar import ZeroPadShortcut
from mmattn.registry import MODELS

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))),
    'configs', '_base_', 'models')


def num_params(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('depth,millions', [(20, 0.27), (32, 0.46),
                                            (56, 0.85)])
def test_param_counts_of_seed_004_table_1(depth, millions):
    # The model snippets: CifarResNet + GAP + 10-class linear head.
    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'resnet{depth}_cifar.py'))
    model = MODELS.build(cfg.model)
    assert abs(num_params(model) / (millions * 1e6) - 1) < 0.01
    logits = model(torch.randn(2, 3, 32, 32), mode='tensor')
    assert logits.shape == (2, 10)


@pytest.mark.parametrize('depth', [20, 32, 56, 110])
def test_he_et_al_structure(depth):
    model = CifarResNet(depth, out_indices=(0, 1, 2))
    n = (depth - 2) // 6
    assert [len(getattr(model, f'layer{i}')) for i in (1, 2, 3)] == [n] * 3
    assert all(
        isinstance(block, BasicBlock) for i in (1, 2, 3)
        for block in getattr(model, f'layer{i}'))
    assert model.conv1.kernel_size == (3, 3) and model.conv1.stride == (1, 1)
    outs = model(torch.randn(2, 3, 32, 32))
    assert [tuple(o.shape) for o in outs] == [(2, 16, 32, 32), (2, 32, 16, 16),
                                              (2, 64, 8, 8)]


def reference_forward(model, x):
    """He et al. CIFAR ResNet written out with functional ops."""

    def bn(layer, y):
        return F.batch_norm(y, layer.running_mean, layer.running_var,
                            layer.weight, layer.bias, False, 0., layer.eps)

    y = F.relu(bn(model.bn1, F.conv2d(x, model.conv1.weight, padding=1)))
    for stage in (model.layer1, model.layer2, model.layer3):
        for block in stage:
            stride = block.conv1.stride[0]
            out = F.relu(
                bn(block.bn1,
                   F.conv2d(y, block.conv1.weight, stride=stride, padding=1)))
            out = bn(block.bn2, F.conv2d(out, block.conv2.weight, padding=1))
            shortcut = y[:, :, ::stride, ::stride]
            extra = out.shape[1] - shortcut.shape[1]
            if extra:
                shortcut = torch.cat([
                    shortcut,
                    shortcut.new_zeros(shortcut.shape[0], extra, *
                                       shortcut.shape[2:])
                ], 1)
            y = F.relu(out + shortcut)
    return y


def test_forward_matches_functional_reference():
    torch.manual_seed(0)
    model = CifarResNet(20)
    model.init_weights()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            # zero_init_residual zeroes norm2; use non-trivial statistics.
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    model.eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x)[0], reference_forward(model, x))


def test_zero_pad_shortcut():
    x = torch.randn(2, 3, 5, 4)
    out = ZeroPadShortcut(3, 7, 2)(x)
    assert out.shape == (2, 7, 3, 2)
    torch.testing.assert_close(out[:, :3], x[:, :, ::2, ::2])
    assert (out[:, 3:] == 0).all()
    with pytest.raises(ValueError, match='out_channels'):
        ZeroPadShortcut(8, 4, 1)


def test_shortcut_b_and_base_width_64():
    a = CifarResNet(20)
    b = CifarResNet(20, shortcut='B')
    # Projection shortcuts: 16->32 and 32->64 1x1 convs + BN.
    assert num_params(b) - num_params(a) == (16 * 32 + 64) + (32 * 64 + 128)
    # Seed 004 uses width 64 on CIFAR-100 (FLOPs 0.65G in its table 2).
    wide = CifarResNet(20, base_channels=64)
    (out, ) = wide(torch.randn(1, 3, 32, 32))
    assert out.shape == (1, 256, 8, 8)


def test_backward_and_in_blocks_attention():
    backbone = AttentionBackbone(
        backbone=dict(type='CifarResNet', depth=20),
        attentions=[
            dict(
                cfg=dict(type='SEAttention', reduction=4),
                in_blocks='layer*.*')
        ],
        dummy_input_shape=(1, 3, 32, 32))
    attentions = backbone.injected_attentions()
    assert [m.in_channels for m in attentions.values()] == \
        [16] * 3 + [32] * 3 + [64] * 3
    assert all(path.endswith('bn2.attention') for path in attentions)
    (out, ) = backbone(torch.randn(2, 3, 32, 32))
    out.mean().backward()
    assert all(p.grad is not None for p in backbone.parameters())


def test_resnext29_of_seed_004_table_3():
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'resnext29-8x4d_cifar.py'))
    model = MODELS.build(cfg.model)
    # 1.71M with the 10-class head.
    assert abs(num_params(model) / 1.71e6 - 1) < 0.01
    backbone = model.backbone
    assert [len(getattr(backbone, f'layer{i}')) for i in (1, 2, 3)] == [3] * 3
    convs = [getattr(backbone, f'layer{i}')[0].conv2 for i in (1, 2, 3)]
    assert [(c.groups, c.out_channels) for c in convs] == [(8, 32), (8, 64),
                                                           (8, 128)]
    x = torch.randn(2, 3, 32, 32)
    feats = backbone(x)[0]
    assert feats.shape == (2, 1024, 8, 8)
    model(x, mode='tensor').sum().backward()
    # SE (reduction 16) on its 256/512/1024-channel blocks costs the 0.52M
    # of table 3 (ResNeXt + SE: 2.23M).
    se = AttentionBackbone(
        backbone=dict(type='CifarResNeXt'),
        attentions=[dict(cfg=dict(type='SEAttention'), in_blocks='layer*.*')],
        dummy_input_shape=(1, 3, 32, 32))
    extra = num_params(se) - num_params(backbone)
    assert abs((num_params(model) + extra) / 2.23e6 - 1) < 0.01


def test_bad_arguments():
    with pytest.raises(ValueError, match='depth'):
        CifarResNet(18)
    with pytest.raises(ValueError, match='shortcut'):
        CifarResNet(20, shortcut='C')
    with pytest.raises(ValueError, match='strides'):
        CifarResNet(20, strides=(1, 1, 1))
    with pytest.raises(ValueError, match='depth'):
        CifarResNeXt(depth=50)
    with pytest.raises(ValueError, match='groups'):
        CifarResNeXt(groups=0)
