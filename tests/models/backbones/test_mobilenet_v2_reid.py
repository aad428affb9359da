import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmpretrain.models.backbones import MobileNetV2
from mmpretrain.models.backbones.mobilenet_v2 import InvertedResidual

from mmattn.models.backbones import AttentionBackbone, MobileNetV2ReID
from mmattn.registry import MODELS


def num_params(module):
    return sum(p.numel() for p in module.parameters())


def blocks_per_stage(model):
    return tuple(len(getattr(model, f'layer{i}')) for i in range(1, 8))


def test_reid_feature_extractor_has_2_22m_params():
    # Seed 001 table I: MobileNetV2 for Re-ID, 2.22M (no classifier: the
    # network up to the 1280-d 1x1 conv).
    model = MobileNetV2ReID()
    assert abs(num_params(model) / 2.22e6 - 1) < 0.01
    # Same layers and names as the stock network, so its checkpoints load.
    stock = MobileNetV2()
    assert num_params(model) == num_params(stock)
    assert list(model.state_dict()) == list(stock.state_dict())


def test_matches_stock_mobilenetv2_with_its_weights():
    torch.manual_seed(0)
    stock = MobileNetV2(out_indices=(2, 7))
    # (mmpretrain's MobileNetV2.train returns None: no chaining.)
    stock.eval()
    model = MobileNetV2ReID(out_indices=(2, 7)).eval()
    model.load_state_dict(stock.state_dict())
    x = torch.randn(2, 3, 64, 32)
    with torch.no_grad():
        for ours, ref in zip(model(x), stock(x)):
            torch.testing.assert_close(ours, ref)


def test_mobilenetv2_200_structure():
    model = MobileNetV2ReID(arch='mobilenetv2-200')
    # Seed 000 table 5.
    assert blocks_per_stage(model) == (1, 3, 21, 19, 18, 3, 1)
    widths = [
        getattr(model, f'layer{i}')[-1].conv[-1].conv.out_channels
        for i in range(1, 8)
    ]
    assert widths == [16, 24, 32, 64, 96, 160, 320]
    assert model.conv2.conv.out_channels == 1280
    # 200 layers: every conv (stem, 2 or 3 per block, the 1280-d conv) and
    # the classifier that follows the pooling.
    convs = sum(isinstance(m, nn.Conv2d) for m in model.modules())
    assert convs + 1 == 200
    # Expand ratios t and first-block strides s are MobileNetV2's.
    strides = [getattr(model, f'layer{i}')[0].stride for i in range(1, 8)]
    assert strides == [1, 2, 2, 2, 1, 2, 1]
    assert isinstance(model.layer3[5], InvertedResidual)
    assert model.layer3[5].use_res_connect
    # Parameters of the backbone (seed 000: 5.09M for DA-FB on it).
    assert abs(num_params(model) / 5.09e6 - 1) < 0.01
    assert blocks_per_stage(MobileNetV2ReID()) == (1, 2, 3, 4, 3, 3, 1)


@pytest.mark.parametrize('arch', ['mobilenetv2', 'mobilenetv2-200'])
@pytest.mark.parametrize('last_stride,factor', [(2, 32), (1, 16)])
def test_last_stride_and_backward(arch, last_stride, factor):
    model = MobileNetV2ReID(arch=arch, last_stride=last_stride)
    x = torch.randn(2, 3, 64, 32)
    (out, ) = model(x)
    assert out.shape == (2, 1280, 64 // factor, 32 // factor)
    out.mean().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.layer1[0].conv[0].conv.weight.grad.abs().sum() > 0


def test_last_stride_keeps_parameters():
    assert num_params(MobileNetV2ReID(last_stride=1)) == num_params(
        MobileNetV2ReID(last_stride=2))
    assert MobileNetV2ReID(last_stride=1).layer6[0].stride == 1
    # Only layer6 changes.
    assert MobileNetV2ReID(last_stride=1).layer4[0].stride == 2


@pytest.mark.parametrize('arch', ['mobilenetv2', 'mobilenetv2-200'])
def test_attention_points_after_24_32_96_320_channel_stages(arch):
    backbone = AttentionBackbone(
        backbone=dict(type='MobileNetV2ReID', arch=arch, last_stride=1),
        attentions=[
            dict(
                cfg=dict(type='DCSAttention'),
                after=['layer2', 'layer3', 'layer5', 'layer7'])
        ])
    attentions = backbone.injected_attentions()
    assert [m.in_channels for m in attentions.values()] == [24, 32, 96, 320]
    (out, ) = backbone(torch.randn(2, 3, 64, 32))
    assert out.shape == (2, 1280, 4, 2)
    out.sum().backward()


def test_in_blocks_injection_on_inverted_residuals():
    backbone = AttentionBackbone(
        backbone=dict(type='MobileNetV2ReID', arch='mobilenetv2-200'),
        attentions=[dict(cfg=dict(type='SEAttention'), in_blocks='layer*.*')])
    assert len(backbone.injected_attentions()) == 66


def test_bad_arguments():
    with pytest.raises(ValueError, match='arch'):
        MobileNetV2ReID(arch='mobilenetv3')
    with pytest.raises(ValueError, match='last_stride'):
        MobileNetV2ReID(last_stride=4)


def test_reid_config_snippet():
    cfg = Config.fromfile(
        osp.join(
            osp.dirname(
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))),
            'configs', '_base_', 'models', 'reid_mobilenetv2_200.py'))
    model = MODELS.build(cfg.model)
    assert type(model.backbone).__name__ == 'MobileNetV2ReID'
    feats = model(torch.randn(2, 3, 64, 32), mode='tensor')
    assert feats.shape == (2, 1280)
