import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmpretrain.models.backbones import HRNet

from mmattn.models.backbones import (AttentionBackbone, HRConcatFusion,
                                     HRNetReID)
from mmattn.registry import MODELS


def num_params(module):
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope='module')
def w32():
    torch.manual_seed(0)
    return HRNetReID()


def test_w32_params_and_checkpoint_compatibility(w32):
    stock = HRNet('w32')
    # HRNet-W32 (29.31M) + the 1x1 fusion conv 480 -> 2048 and its BN.
    assert num_params(w32) == num_params(stock) + 480 * 2048 + 2 * 2048
    assert abs(num_params(stock) / 29.31e6 - 1) < 0.01
    own = [k for k in w32.state_dict() if not k.startswith('fusion.')]
    assert own == list(stock.state_dict())


def test_output_is_the_fusion_of_the_stock_outputs(w32):
    stock = HRNet('w32')
    stock.load_state_dict({
        k: v
        for k, v in w32.state_dict().items() if not k.startswith('fusion.')
    })
    stock.eval()
    w32.eval()
    x = torch.randn(1, 3, 64, 32)
    with torch.no_grad():
        branches = stock(x)
        (ours, ) = w32(x)
        fusion = w32.fusion
        # Independent fusion: upsample, concat, conv + BN + ReLU.
        size = branches[0].shape[-2:]
        cat = torch.cat([branches[0]] + [
            F.interpolate(b, size=size, mode='bilinear', align_corners=False)
            for b in branches[1:]
        ], 1)
        conv, bn = fusion.conv.conv, fusion.conv.bn
        expected = F.relu(
            F.batch_norm(
                F.conv2d(cat, conv.weight), bn.running_mean, bn.running_var,
                bn.weight, bn.bias, False, 0., bn.eps))
    assert [b.shape[1] for b in branches] == [32, 64, 128, 256]
    assert ours.shape == (1, 2048, 16, 8)
    torch.testing.assert_close(ours, expected)
    w32.train()


def test_attention_after_each_stage_and_backward(w32):
    backbone = AttentionBackbone(
        backbone=dict(type='HRNetReID', arch='w18'),
        attentions=[
            dict(
                cfg=dict(type='SEAttention'),
                after=[
                    'layer1', 'stage2_taps.*', 'stage3_taps.*', 'stage4_taps.*'
                ])
        ])
    channels = [m.in_channels for m in backbone.injected_attentions().values()]
    assert channels == [256, 18, 36, 18, 36, 72, 18, 36, 72, 144]
    (out, ) = backbone(torch.randn(2, 3, 64, 32))
    assert out.shape == (2, 2048, 16, 8)
    out.mean().backward()
    assert all(p.grad is not None for p in backbone.parameters())


def test_concat_without_conv_and_incre_fusion():
    plain = HRConcatFusion([4, 8], out_channels=None)
    a, b = torch.randn(1, 4, 4, 2), torch.randn(1, 8, 2, 1)
    out = plain((a, b))
    assert out.shape == (1, 12, 4, 2) and num_params(plain) == 0
    torch.testing.assert_close(out[:, :4], a)
    with pytest.raises(ValueError, match='expects 2 maps'):
        plain((a, ))
    model = HRNetReID(arch='w18', fusion='incre', out_channels=256)
    (out, ) = model(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 256, 2, 2)
    out.mean().backward()


def test_bad_arguments():
    with pytest.raises(ValueError, match='fusion'):
        HRNetReID(fusion='sum')
    with pytest.raises(ValueError, match='multiscale_output'):
        HRNetReID(multiscale_output=False)
    with pytest.raises(ValueError, match='in_channels'):
        HRConcatFusion([])


def test_reid_config_snippet():
    cfg = Config.fromfile(
        osp.join(
            osp.dirname(
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))),
            'configs', '_base_', 'models', 'reid_hrnet_w32.py'))
    model = MODELS.build(cfg.model)
    assert type(model.backbone).__name__ == 'HRNetReID'
    feats = model(torch.randn(2, 3, 64, 32), mode='tensor')
    assert feats.shape == (2, 2048)
