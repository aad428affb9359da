import os.path as osp

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config

from mmattn.analysis import count_complexity
from mmattn.models.attentions import DCSAttention, NonLocalAttention

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RESNET20 = osp.join(ROOT, 'configs', '_base_', 'models', 'resnet20_cifar.py')
DCS_FB_MNV2 = osp.join(ROOT, 'configs', 'search',
                       'dcs-fb_mobilenet-v2_market1501.py')


class MultiHeadSDPA(nn.Module):
    """Query (B, heads, L, E), key (B, heads, S, E), value (B, heads, S, Ev)
    from one (B, heads, L + 2 S, max(E, Ev)) tensor."""

    def forward(self, x):
        query = x[:, :, :5, :4]
        key = x[:, :, 5:12, :4]
        value = x[:, :, 12:19, :6]
        return F.scaled_dot_product_attention(query, key, value)


class ProductSum(nn.Module):
    """StRA's dynamic-kernel aggregation: (B, G, K^2, H, W) weights times
    (B, G, C/G, K^2, H, W) unfolded values, summed over the K^2 axis."""

    def forward(self, x):
        b, c, h, w = x.shape
        cols = F.unfold(x, kernel_size=3, padding=1)
        cols = cols.view(b, 2, c // 2, 9, h, w)
        weights = cols.mean(dim=2).softmax(dim=2)
        return (weights.unsqueeze(2) * cols).sum(dim=3)


class Unsupported(nn.Module):

    def forward(self, x):
        return torch.cumsum(torch.sigmoid(x), dim=1)


def nonlocal_flops(c, n, d):
    """theta, phi, g (1x1 convs C -> d), Q K^T and A V (N x N x d each),
    W_z (1x1 conv d -> C), eval BN with affine (2 per element)."""
    return 3 * n * c * d + 2 * n * n * d + n * d * c + 2 * c * n


def dcs_flops(c, n, hidden=None):
    """Mask generator (per token C x C, or C x h + h x C), Q K^T and A V
    (N x N x C each), depth-wise 3x3 conv, eval BN with affine."""
    mask = n * c * c if hidden is None else 2 * n * c * hidden
    return mask + 2 * n * n * c + 9 * n * c + 2 * c * n


def test_non_local_hand_count():
    module = NonLocalAttention(16)  # d = 8
    result = count_complexity(module, (16, 6, 4))
    assert result['flops'] == nonlocal_flops(16, 24, 8) == 22272
    assert result['flops_by_operator']['scaled_dot_product_attention'] == \
        2 * 24 * 24 * 8
    assert result['params'] == sum(p.numel() for p in module.parameters())
    # the residual add is element-wise: listed, not counted
    assert result['uncounted_ops'] == {'aten::add': 1}


@pytest.mark.parametrize('hidden', [None, 4])
def test_dcs_hand_count(hidden):
    module = DCSAttention(16, mask_hidden_channels=hidden)
    result = count_complexity(module, (16, 6, 4))
    assert result['flops'] == dcs_flops(16, 24, hidden)
    assert result['flops'] == (28800 if hidden is None else 25728)
    # the mask multiply and the residual add stay uncounted, and are listed
    assert result['uncounted_ops'] == {'aten::add': 1, 'aten::mul': 1}


def test_dcs_dot_affinity_counts_its_two_products():
    module = DCSAttention(16, affinity='dot')
    result = count_complexity(module, (16, 6, 4))
    # (X_M^T X) is C x N x C, then (...) X_M is C x C x N
    assert result['flops_by_operator']['bmm'] == 2 * 16 * 16 * 24
    assert result['flops'] == 2 * 16 * 16 * 24 + 24 * 16 * 16 + \
        9 * 24 * 16 + 2 * 16 * 24


def test_sdpa_handle_multi_head():
    result = count_complexity(MultiHeadSDPA(), (3, 19, 6))
    # B * heads * L * S * (E + Ev)
    assert result['flops'] == 1 * 3 * 5 * 7 * (4 + 6)


class BatchedProducts(nn.Module):

    def forward(self, x):
        # x: (1, 2, 3, 4) -> batches (2, 3, 4) @ (2, 4, 3)
        a = x[0]
        b = a.transpose(1, 2)
        return torch.baddbmm(a @ b, a, b) + torch.addbmm(a[0] @ b[0], a, b)


def test_baddbmm_and_addbmm_count_their_products():
    result = count_complexity(BatchedProducts(), (2, 3, 4))
    assert result['flops_by_operator']['baddbmm'] == 2 * 3 * 4 * 3
    assert result['flops_by_operator']['addbmm'] == 2 * 3 * 4 * 3
    assert result['flops_by_operator']['matmul'] == 2 * 3 * 4 * 3 + 3 * 4 * 3


def test_product_sum_counts_one_multiply_add_per_term():
    result = count_complexity(ProductSum(), (4, 5, 3))
    terms = 1 * 2 * 2 * 9 * 5 * 3  # numel of the product
    means = 4 * 9 * 5 * 3  # numel of the averaged columns
    assert result['flops_by_operator']['sum'] == terms
    assert result['flops'] == terms + means
    assert 'aten::softmax' in result['uncounted_ops']
    assert 'aten::mul' in result['uncounted_ops']
    # unfold is data movement: ignored knowingly, not listed
    assert not any('col' in op for op in result['uncounted_ops'])


def test_uncounted_ops_are_listed():
    result = count_complexity(Unsupported(), (2, 3, 3))
    assert result['flops'] == 0
    assert result['uncounted_ops'] == {'aten::cumsum': 1, 'aten::sigmoid': 1}


def test_config_forms_agree():
    from_path = count_complexity(RESNET20, (32, 32))
    from_cfg = count_complexity(Config.fromfile(RESNET20), (32, 32))
    from_dict = count_complexity(
        dict(model=Config.fromfile(RESNET20).model.to_dict()), (3, 32, 32))
    assert from_path['flops'] == from_cfg['flops'] == from_dict['flops']
    assert from_path['params'] == from_cfg['params'] == 269722
    # seed 004 table 1: 0.04 GFLOPs
    assert round(from_path['flops'] / 1e9, 2) == 0.04
    cifar100 = count_complexity(
        RESNET20, (32, 32), cfg_options={'model.head.num_classes': 100})
    assert cifar100['params'] - from_path['params'] == 90 * (64 + 1)


def test_model_keeps_its_mode():
    module = DCSAttention(8).train()
    count_complexity(module, (8, 4, 4))
    assert module.training


@pytest.mark.parametrize('args,kwargs,error,match', [
    ((RESNET20, (1, 2, 3, 4)), {}, ValueError, 'input_shape'),
    ((RESNET20, (0, 32)), {}, ValueError, 'input_shape'),
    (('no/such/config.py', ), {}, FileNotFoundError, 'no/such/config.py'),
    ((42, ), {}, TypeError, 'int'),
    ((dict(optimizer=dict()), ), {}, ValueError, '"model"'),
    ((nn.Linear(2,
                2), ), dict(cfg_options={'a': 1}), ValueError, 'cfg_options'),
])
def test_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        count_complexity(*args, **kwargs)


def test_dcs_fb_mobilenet_v2_counts_the_attention():
    """DCS-FB (MobileNetV2) at 256 x 128 (seed 001 table I): the stride-1
    network (configs/search since issue 13) is the plain MobileNetV2 plus
    the four DCS modules, each counted as in :func:`dcs_flops`."""
    dcs = count_complexity(DCS_FB_MNV2, (256, 128))
    plain = count_complexity(
        DCS_FB_MNV2, (256, 128), cfg_options={'model.backbone.attentions': []})
    # (channels, tokens) after layer2, layer3, layer5 and layer7
    modules = [(24, 64 * 32), (32, 32 * 16), (96, 16 * 8), (320, 16 * 8)]
    assert dcs['flops'] - plain['flops'] == sum(
        dcs_flops(c, n) for c, n in modules)
    assert round(plain['flops'] / 1e9, 3) == 0.360  # seed 001: 0.380
    assert round(dcs['flops'] / 1e9, 3) == 0.609  # seed 001: 0.406
    # The network of issue 13 (last stride 2): 0.211 G without the
    # attention, 0.433 G with it.
    stride2 = count_complexity(
        DCS_FB_MNV2, (256, 128),
        cfg_options={'model.backbone.backbone.last_stride': 2})
    assert round(stride2['flops'] / 1e9, 3) == 0.433
