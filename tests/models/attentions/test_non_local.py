import math

import pytest
import torch
from mmengine.model import BaseModule

from mmattn.models.attentions import NonLocalAttention, ZeroInitProjection
from mmattn.registry import MODELS


def reference_non_local(module, x):
    """Embedded-Gaussian non-local block with the HW x HW softmax formed
    explicitly."""
    B, C, H, W = x.shape
    theta = module.theta(x).flatten(2).transpose(1, 2)  # (B, N, d)
    phi = module.phi(x).flatten(2)  # (B, d, N)
    g = module.g(x).flatten(2).transpose(1, 2)  # (B, N, d)
    logits = theta @ phi
    if module.use_scale:
        logits = logits / math.sqrt(module.inter_channels)
    y = (torch.softmax(logits, dim=-1) @ g).transpose(1,
                                                      2).reshape(B, -1, H, W)
    return x + module.out_proj(y)


def test_starts_as_identity():
    module = NonLocalAttention(8)
    x = torch.randn(2, 8, 4, 5)
    for mode in (True, False):
        module.train(mode)
        assert torch.equal(module(x), x)
    assert module.inter_channels == 4


@pytest.mark.parametrize('use_scale', [True, False])
def test_matches_reference(use_scale):
    module = MODELS.build(
        dict(
            type='NonLocalAttention',
            in_channels=8,
            reduction=4,
            use_scale=use_scale))
    with torch.no_grad():
        module.out_proj.norm.weight.uniform_(0.5, 1.5)
        module.out_proj.norm.bias.uniform_(-1, 1)
    module.eval()
    x = torch.randn(2, 8, 3, 5)
    out = module(x)
    assert out.shape == x.shape
    assert not torch.allclose(out, x)
    torch.testing.assert_close(out, reference_non_local(module, x))


def test_zero_init_survives_a_parent_blanket_init():

    class Parent(BaseModule):

        def __init__(self):
            super().__init__(
                init_cfg=dict(type='Constant', val=1, layer='_BatchNorm'))
            self.proj = ZeroInitProjection(4, 4)

    parent = Parent()
    parent.init_weights()
    assert torch.count_nonzero(parent.proj.norm.weight) == 0
    assert torch.count_nonzero(parent.proj.norm.bias) == 0


def test_invalid_arguments():
    with pytest.raises(ValueError, match='in_channels'):
        NonLocalAttention(0)
    with pytest.raises(ValueError, match='reduction'):
        NonLocalAttention(8, reduction=0)
    with pytest.raises(ValueError, match='in_channels=8'):
        NonLocalAttention(8)(torch.randn(1, 3, 2, 2))
    with pytest.raises(ValueError, match=r'\(B, C, H, W\)'):
        NonLocalAttention(8)(torch.randn(8, 4))
