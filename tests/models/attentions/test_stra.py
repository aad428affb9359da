import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.backbones import ResNet

from mmattn.models.attentions.stra import (LocalAttention, ModeAttention,
                                           StRABottleneck,
                                           StructureRegularizedAttention,
                                           collect_mode_masks)
from mmattn.registry import MODELS


def randomise_norms(module):
    """Non-trivial BN statistics and affine parameters, for eval mode."""
    g = torch.Generator().manual_seed(1)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)
    return module


def bn_eval(m, t):
    """Eval-mode BatchNorm2d written out."""
    shape = (1, -1) + (1, ) * (t.dim() - 2)
    return (
        (t - m.running_mean.view(shape)) /
        torch.sqrt(m.running_var.view(shape) + m.eps) * m.weight.view(shape) +
        m.bias.view(shape))


def local_attention_reference(module, x):
    """Loops over positions and neighbours (eq. 4) with zero padding."""
    b, c, h, w = x.shape
    g, k = module.groups, module.kernel_size
    r = k // 2
    logits = module.logit_net(x)
    nu = F.pad(logits[:, :g], (r, r, r, r))
    omega = logits[:, g:].reshape(b, g, k * k, h, w)
    values = F.pad(module.value_conv(x), (r, r, r, r))
    cg = c // g
    out = torch.zeros_like(x)
    probs = torch.zeros(b, g, k * k, h, w, dtype=x.dtype)
    for y in range(h):
        for xx in range(w):
            logit = torch.stack([
                omega[:, :, dy * k + dx, y, xx] + nu[:, :, y + dy, xx + dx]
                for dy in range(k) for dx in range(k)
            ],
                                dim=-1)  # (B, G, K^2)
            p = logit.softmax(-1)
            probs[..., y, xx] = p
            for gi in range(g):
                for j, (dy, dx) in enumerate(
                    (dy, dx) for dy in range(k) for dx in range(k)):
                    out[:, gi * cg:(gi + 1) * cg, y, xx] += (
                        p[:, gi, j, None] *
                        values[:, gi * cg:(gi + 1) * cg, y + dy, xx + dx])
    return out, probs


def mode_attention_reference(module, x):
    """Eval-mode mode attention from the formulas, one mode at a time."""
    b, c, h, w = x.shape
    g = module.groups
    cg = c // g
    masks = module.mask_net(x).flatten(2).softmax(-1)  # (B, G, HW)
    feats = [x[:, i * cg:(i + 1) * cg].flatten(2) for i in range(g)]
    z = torch.stack([(feats[i] * masks[:, i, None]).sum(-1) for i in range(g)],
                    dim=1)  # (B, G, C/G)

    def gate(feat_list, modal, norm):
        logit = torch.stack([(feat_list[i] * modal[:, i, :, None]).sum(1)
                             for i in range(g)],
                            dim=1).view(b, g, h, w)
        logit = bn_eval(norm, logit).flatten(2)
        return logit.sigmoid() if module.gate == 'sigmoid' else \
            logit.softmax(dim=1)

    r = gate(feats, z, module.gate_norm)
    y = [feats[i] + r[:, i, None] * z[:, i, :, None] for i in range(g)]
    if module.mode_interaction:
        gram = torch.einsum('bgc,bjc->bgj', z, z)
        gram = gram / gram.norm(dim=2, keepdim=True)
        weights = (gram * math.sqrt(g)).softmax(dim=2)
        z2 = torch.einsum('bgj,bjc->bgc', weights, z)
        r2 = gate(y, z2, module.interaction_gate_norm)
        y = [y[i] + r2[:, i, None] * z2[:, i, :, None] for i in range(g)]
    return torch.cat(y, dim=1).view(b, c, h, w), masks


def test_local_attention_matches_loop_reference():
    torch.manual_seed(0)
    module = randomise_norms(
        LocalAttention(8, kernel_size=3, groups=2, reduction=2)).double()
    module.eval()
    x = torch.randn(2, 8, 4, 3, dtype=torch.double)
    out = module(x)
    expected, probs = local_attention_reference(module, x)
    assert torch.allclose(out, expected)
    weights = module.attention_weights(x)
    assert weights.shape == (2, 2, 9, 4, 3)
    assert torch.allclose(weights, probs)
    # P is a distribution over the K^2 neighbours at every position
    assert torch.allclose(weights.sum(2), torch.ones(2, 2, 4, 3).double())
    assert (weights >= 0).all()


@pytest.mark.parametrize('gate', ['sigmoid', 'softmax'])
@pytest.mark.parametrize('interaction', [True, False])
def test_mode_attention_matches_reference(gate, interaction):
    torch.manual_seed(0)
    module = randomise_norms(
        ModeAttention(
            12,
            groups=3,
            gate=gate,
            mode_interaction=interaction,
            mask_hidden_per_group=2)).double().eval()
    x = torch.randn(2, 12, 4, 5, dtype=torch.double)
    out = module(x)
    expected, masks = mode_attention_reference(module, x)
    assert torch.allclose(out, expected)
    assert torch.allclose(module.last_mode_masks, masks)
    assert module.last_mode_masks.shape == (2, 3, 20)
    assert torch.allclose(
        module.last_mode_masks.sum(-1),
        torch.ones(2, 3).double())
    assert (module.interaction_gate_norm is not None) == interaction


def test_mode_attention_variants_differ():
    """Gate and interaction change the output for the same weights."""
    torch.manual_seed(0)
    x = torch.randn(2, 8, 3, 3)
    ref = randomise_norms(ModeAttention(8, groups=2)).eval()
    state = ref.state_dict()
    no_inter = ModeAttention(8, groups=2, mode_interaction=False).eval()
    no_inter.load_state_dict({
        k: v
        for k, v in state.items() if not k.startswith('interaction_gate_norm')
    })
    softmax = ModeAttention(8, groups=2, gate='softmax').eval()
    softmax.load_state_dict(state)
    out = ref(x)
    assert not torch.allclose(out, no_inter(x))
    assert not torch.allclose(out, softmax(x))
    # without interaction, the masks (which do not depend on it) agree
    assert torch.allclose(ref.last_mode_masks, no_inter.last_mode_masks)


def test_stra_is_local_then_mode_attention():
    torch.manual_seed(0)
    module = randomise_norms(StructureRegularizedAttention(16,
                                                           groups=4)).eval()
    x = torch.randn(2, 16, 5, 4)
    out = module(x)
    assert out.shape == x.shape
    expected = module.mode_attention(module.local_attention(x))
    assert torch.allclose(out, expected)
    assert module.last_mode_masks.shape == (2, 4, 20)
    local_only = StructureRegularizedAttention(
        16, groups=4, use_mode_attention=False)
    assert local_only.mode_attention is None
    assert local_only(x).shape == x.shape
    assert local_only.last_mode_masks is None


def test_stra_gradcheck():
    torch.manual_seed(0)
    module = StructureRegularizedAttention(
        4, groups=2, reduction=2, mask_hidden_per_group=2).double()
    x = torch.randn(2, 4, 3, 3, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(module, (x, ))
    softmax_gate = StructureRegularizedAttention(
        4, groups=2, reduction=2, gate='softmax').double()
    assert torch.autograd.gradcheck(softmax_gate, (x, ), fast_mode=True)


def test_stra_replaces_layer4_conv2_of_resnet50():
    backbone = ResNet(depth=50, strides=(1, 2, 2, 1), out_indices=(3, ))
    backbone.eval()
    for block in backbone.layer4:
        block.conv2 = StructureRegularizedAttention.from_module(block.conv2)
    assert all(
        isinstance(b.conv2, StructureRegularizedAttention)
        for b in backbone.layer4)
    assert backbone.layer4[0].conv2.in_channels == 512
    with torch.no_grad():
        out = backbone(torch.randn(1, 3, 64, 32))[-1]
    # last stride 1: 64x32 input -> 4x2 at layer4
    assert out.shape == (1, 2048, 4, 2)
    masks = collect_mode_masks(backbone)
    assert len(masks) == 3 and masks[0].shape == (1, 8, 8)


def test_from_module_rejects_unsuitable_convs():
    with pytest.raises(ValueError, match='stride'):
        StructureRegularizedAttention.from_module(
            nn.Conv2d(16, 16, 3, stride=2, padding=1))
    with pytest.raises(ValueError, match='equal input and output'):
        StructureRegularizedAttention.from_module(nn.Conv2d(16, 32, 3))
    with pytest.raises(TypeError, match='nn.Conv2d'):
        StructureRegularizedAttention.from_module(nn.Linear(16, 16))
    module = StructureRegularizedAttention.from_module(
        nn.Conv2d(16, 16, 3, padding=1).double(), groups=4)
    assert module.local_attention.value_conv.weight.dtype == torch.double


@pytest.mark.parametrize('cls,kwargs,match', [
    (LocalAttention, dict(channels=12, groups=8), 'divisible by groups'),
    (LocalAttention, dict(channels=16, kernel_size=4), 'odd'),
    (LocalAttention, dict(channels=16, groups=8,
                          reduction=4), 'positive multiple of groups'),
    (ModeAttention, dict(channels=16, gate='tanh'), 'gate'),
    (ModeAttention, dict(channels=10, groups=4), 'divisible by groups'),
    (StructureRegularizedAttention,
     dict(in_channels=16, out_channels=32, groups=4), 'must equal'),
])
def test_stra_rejects_bad_arguments(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


def test_stra_bottleneck():
    block = MODELS.build(
        dict(
            type='StRABottleneck',
            in_channels=64,
            out_channels=64,
            stra_cfg=dict(groups=4)))
    assert isinstance(block, StRABottleneck)
    assert isinstance(block.conv2, StructureRegularizedAttention)
    out = block(torch.randn(2, 64, 6, 4))
    assert out.shape == (2, 64, 6, 4)
    assert len(collect_mode_masks(block)) == 1
    with pytest.raises(ValueError, match='stride 1'):
        StRABottleneck(
            64,
            128,
            stride=2,
            stra_cfg=dict(groups=4),
            downsample=nn.Conv2d(64, 128, 1, stride=2))


def test_stra_builds_from_registry():
    for name in ('LocalAttention', 'ModeAttention',
                 'StructureRegularizedAttention'):
        key = 'in_channels' if name.startswith('Structure') else 'channels'
        module = MODELS.build({'type': name, key: 16, 'groups': 4})
        assert module(torch.randn(1, 16, 3, 3)).shape == (1, 16, 3, 3)
