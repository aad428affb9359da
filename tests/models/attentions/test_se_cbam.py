import pytest
import torch
import torch.nn.functional as F

from mmattn.models.attentions import (CBAMAttention, ChannelGate, SEAttention,
                                      SpatialGate)
from mmattn.registry import MODELS


def randomize(module, seed=0):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in module.parameters():
            param.copy_(torch.randn(param.shape, generator=gen) * 0.5)
    return module.eval()


def test_se_matches_formula():
    module = randomize(MODELS.build(dict(type='SEAttention', in_channels=32)))
    assert module.fc1.out_channels == 2  # 32 // 16
    x = torch.randn(2, 32, 3, 4)
    squeeze = x.mean(dim=(2, 3))
    hidden = F.relu(squeeze @ module.fc1.weight.flatten(1).T + module.fc1.bias)
    gate = torch.sigmoid(hidden @ module.fc2.weight.flatten(1).T +
                         module.fc2.bias)
    torch.testing.assert_close(module(x), x * gate[:, :, None, None])


def test_hidden_channels_lower_bound():
    assert SEAttention(8).fc1.out_channels == 1
    assert SEAttention(8, min_channels=4).fc1.out_channels == 4
    assert ChannelGate(8, reduction=2).mlp[0].out_channels == 4
    with pytest.raises(ValueError, match='reduction'):
        SEAttention(8, reduction=0)


def test_channel_gate_matches_formula():
    module = randomize(ChannelGate(16, reduction=4))
    x = torch.randn(2, 16, 3, 5)
    w1, b1 = module.mlp[0].weight.flatten(1), module.mlp[0].bias
    w2, b2 = module.mlp[2].weight.flatten(1), module.mlp[2].bias

    def mlp(v):
        return F.relu(v @ w1.T + b1) @ w2.T + b2

    gate = torch.sigmoid(mlp(x.mean((2, 3))) + mlp(x.amax((2, 3))))
    torch.testing.assert_close(module(x), x * gate[:, :, None, None])


def test_spatial_gate_matches_formula():
    module = randomize(SpatialGate(kernel_size=7))
    with torch.no_grad():
        module.norm.running_var.fill_(2.0)
        module.norm.running_mean.fill_(0.3)
    x = torch.randn(2, 5, 9, 8)
    pooled = torch.cat([x.amax(1, keepdim=True), x.mean(1, keepdim=True)], 1)
    logits = F.conv2d(pooled, module.conv.weight, padding=3)
    logits = (logits - 0.3) / torch.sqrt(torch.tensor(2.0) + module.norm.eps)
    logits = logits * module.norm.weight + module.norm.bias
    torch.testing.assert_close(module(x), x * torch.sigmoid(logits))


@pytest.mark.parametrize('kwargs', [
    dict(kernel_size=3, separable=True),
    dict(kernel_size=3, dilation=2, separable=True),
    dict(kernel_size=3, dilation=2, norm_cfg=None),
])
def test_spatial_gate_variants_keep_shape(kwargs):
    module = SpatialGate(**kwargs)
    x = torch.randn(2, 3, 7, 6)
    out = module(x)
    assert out.shape == x.shape
    # a gate in (0, 1) only scales the input
    assert torch.all(out.abs() <= x.abs() + 1e-6)


def test_spatial_gate_even_kernel():
    with pytest.raises(ValueError, match='odd'):
        SpatialGate(kernel_size=4)


def test_cbam_is_channel_then_spatial_gate():
    module = randomize(CBAMAttention(16, reduction=4))
    x = torch.randn(2, 16, 5, 5)
    expected = module.spatial_gate(module.channel_gate(x))
    torch.testing.assert_close(module(x), expected)
    assert module.spatial_gate.conv.kernel_size == (7, 7)
    assert module(x).shape == x.shape
