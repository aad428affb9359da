import json
import random

import pytest
import torch
import torch.nn as nn

from mmattn.models.attentions.hoga import (HOGA_GENOTYPES, Genotype,
                                           HOGAArchitecture, HOGAttention,
                                           HOGCBAMAttention, HOGSEAttention,
                                           bind_shared_architecture,
                                           hoga_edges)
# yapf: disable
from mmattn.models.attentions.hoga_ops import (HOGA_PRIMITIVES,
                                               PRIMITIVE_NAMES, CBAMPrimitive,
                                               ChannelAttentionV2, MixedOp,
                                               NormalizationAttention,
                                               SEChannelAttention,
                                               SpatialConvAttention)
# yapf: enable
from mmattn.registry import MODELS


def randomise_norms(module, seed=1):
    g = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)
    return module


def random_genotype(num_groups, seed, with_none=True):
    rng = random.Random(seed)
    names = list(PRIMITIVE_NAMES if with_none else PRIMITIVE_NAMES[1:])
    return Genotype(
        num_groups,
        tuple((rng.choice(names), s, t) for s, t in hoga_edges(num_groups)))


def test_primitive_names():
    assert PRIMITIVE_NAMES == ('none', 'skip_connect', 'se',
                               'channel_attention_v2', 'spatial_sep_conv_3x3',
                               'spatial_dil_conv_3x3', 'norm_sep_conv_3x3',
                               'norm_dil_conv_3x3', 'cbam')
    x = torch.randn(2, 4, 5, 5)
    for name, build in HOGA_PRIMITIVES.items():
        assert build(4)(x).shape == x.shape, name
    assert torch.equal(HOGA_PRIMITIVES['none'](4)(x), torch.zeros_like(x))
    assert torch.equal(HOGA_PRIMITIVES['skip_connect'](4)(x), x)


def test_channel_primitives_match_formulas():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 4, 4)
    se = SEChannelAttention(8, reduction=4)
    gate = se.mlp(x.mean((2, 3), keepdim=True)).sigmoid()
    assert torch.allclose(se(x), x * gate)
    v2 = ChannelAttentionV2(8, reduction=4)
    avg = x.mean((2, 3), keepdim=True)
    peak = x.amax((2, 3), keepdim=True)
    gate = (v2.mlp(avg) + v2.mlp(peak)).sigmoid()
    assert torch.allclose(v2(x), x * gate)


def test_spatial_primitive_pools_over_channels():
    torch.manual_seed(0)
    op = randomise_norms(SpatialConvAttention(3, dilation=2)).eval()
    x = torch.randn(2, 6, 7, 7)
    pooled = torch.stack([x.max(1).values, x.mean(1)], dim=1)
    gate = op.norm(op.conv(pooled)).sigmoid()
    assert gate.shape == (2, 1, 7, 7)
    assert torch.allclose(op(x), x * gate)
    assert op.conv[0].dilation == (2, 2) and op.conv[0].groups == 2


@pytest.mark.parametrize('op', [
    SpatialConvAttention(3, dilation=1),
    SpatialConvAttention(7, separable=False),
    NormalizationAttention(3, dilation=2),
    ChannelAttentionV2(3, reduction=2),
    CBAMPrimitive(3, reduction=2),
])
def test_primitive_gradcheck(op):
    torch.manual_seed(0)
    op = op.double()
    x = torch.randn(2, 3, 4, 4, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(op, (x, ))


@pytest.mark.parametrize('k', [2, 4, 8])
def test_edge_count(k):
    assert len(hoga_edges(k)) == k * (k + 1) // 2
    searched = HOGAttention(16, num_groups=k, search=True)
    assert searched.num_edges == len(searched.edge_ops) == k * (k + 1) // 2
    arch = HOGAArchitecture(num_groups=k)
    assert arch.alpha.shape == (k * (k + 1) // 2, 9)
    fixed = HOGSEAttention(16, num_groups=k)
    assert len(fixed.edge_ops) == k * (k + 1) // 2
    x = torch.randn(2, 16, 4, 4)
    assert fixed(x).shape == x.shape
    searched.bind_architecture(arch)
    assert searched(x).shape == x.shape


def test_edges_are_the_paper_dag():
    # U_k gets its own group F_k and every earlier node U_i, i < k
    assert hoga_edges(4) == [(0, 0), (1, 1), (0, 1), (2, 2), (0, 2), (1, 2),
                             (3, 3), (0, 3), (1, 3), (2, 3)]


def hoga_reference(module, x):
    """Fixed-form HOGA from the paper's equations, using the module's ops."""
    k = module.num_groups
    groups = torch.split(x, module.group_channels, dim=1)
    op_of = {
        (s, t): (e, op)
        for e, (op, s, t) in enumerate(module.genotype.edges)
    }
    nodes = []
    for t in range(k):
        node = torch.zeros_like(groups[t])
        for s in range(t + 1):
            e, op = op_of[(s, t)]
            if op == 'none':
                continue
            source = groups[t] if s == t else nodes[s]
            node = node + module.edge_ops[e](source)
        nodes.append(node)
    group_sum = module.group_sum_attention(sum(groups))
    fused = module.fuse(torch.cat(nodes + [group_sum], dim=1))
    return module.out_attention(fused + x)


@pytest.mark.parametrize('genotype', ['autola', 'hog_cbam'])
def test_fixed_form_matches_equations(genotype):
    torch.manual_seed(0)
    module = randomise_norms(HOGAttention(16, genotype=genotype)).eval()
    x = torch.randn(2, 16, 5, 5)
    assert torch.allclose(module(x), hoga_reference(module, x))
    with_none = randomise_norms(
        HOGAttention(16, genotype=random_genotype(4, seed=3))).eval()
    assert 'none' in with_none.genotype.ops
    assert torch.allclose(with_none(x), hoga_reference(with_none, x))


def copy_search_weights_to_fixed(search, fixed):
    """Load the chosen candidate of every mixed edge into the fixed form."""
    src = search.state_dict()
    state = {}
    for key in fixed.state_dict():
        if key.startswith('edge_ops.'):
            _, e, rest = key.split('.', 2)
            idx = search.primitives.index(fixed.genotype.ops[int(e)])
            state[key] = src[f'edge_ops.{e}.ops.{idx}.{rest}']
        else:
            state[key] = src[key]
    fixed.load_state_dict(state)


@pytest.mark.parametrize('seed', [0, 1])
@pytest.mark.parametrize('train', [False, True])
def test_one_hot_search_equals_fixed_genotype(seed, train):
    torch.manual_seed(seed)
    genotype = random_genotype(4, seed=seed + 10)
    search = randomise_norms(HOGAttention(8, search=True)).double()
    arch = HOGAArchitecture(4).double()
    search.bind_architecture(arch)
    with torch.no_grad():
        arch.alpha.zero_()
        for e, op in enumerate(genotype.ops):
            arch.alpha[e, PRIMITIVE_NAMES.index(op)] = 1e4
    fixed = HOGAttention(8, genotype=genotype).double()
    copy_search_weights_to_fixed(search, fixed)
    search.train(train)
    fixed.train(train)
    x = torch.randn(2, 8, 5, 5, dtype=torch.double)
    assert torch.allclose(search(x), fixed(x))
    # and with another one-hot alpha the two differ
    with torch.no_grad():
        arch.alpha[0] = 0
        other = 'se' if genotype.ops[0] != 'se' else 'skip_connect'
        arch.alpha[0, PRIMITIVE_NAMES.index(other)] = 1e4
    assert not torch.allclose(search(x), fixed(x))


def test_shared_alpha_is_one_parameter_receiving_both_grads():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(8, 8, 1), HOGAttention(8, search=True),
        HOGAttention(8, search=True))
    arch = bind_shared_architecture(model)
    m1, m2 = model[1], model[2]
    assert m1.arch_parameters()[0] is m2.arch_parameters()[0] is arch.alpha
    assert arch.arch_parameters() == [arch.alpha]
    # alpha belongs to the architecture only: not a weight of the modules
    assert all(p is not arch.alpha for p in model.parameters())
    assert not any('alpha' in k for k in model.state_dict())
    x = torch.randn(2, 8, 4, 4)

    def grad_of(fn):
        arch.alpha.grad = None
        fn().backward()
        return arch.alpha.grad.clone()

    g1 = grad_of(lambda: m1(x).square().mean())
    g2 = grad_of(lambda: m2(x).square().mean())
    both = grad_of(lambda: m1(x).square().mean() + m2(x).square().mean())
    assert g1.abs().sum() > 0 and g2.abs().sum() > 0
    assert not torch.allclose(g1, g2)
    assert torch.allclose(both, g1 + g2, atol=1e-7)


def test_search_form_requires_a_bound_architecture():
    module = HOGAttention(8, search=True)
    with pytest.raises(RuntimeError, match='bind_architecture'):
        module(torch.randn(1, 8, 3, 3))
    with pytest.raises(ValueError, match='num_groups=2'):
        module.bind_architecture(HOGAArchitecture(num_groups=2))
    with pytest.raises(RuntimeError, match='search form'):
        HOGAttention(8).bind_architecture(HOGAArchitecture())
    with pytest.raises(ValueError, match='no HOGA module'):
        bind_shared_architecture(nn.Sequential(HOGAttention(8)))


def test_derive_genotype_takes_argmax_over_non_zero_ops():
    torch.manual_seed(0)
    arch = HOGAArchitecture(num_groups=2)
    with torch.no_grad():
        arch.alpha.copy_(torch.randn(3, 9) * 0.1)
        arch.alpha[0, PRIMITIVE_NAMES.index('cbam')] = 2.0
        arch.alpha[1, PRIMITIVE_NAMES.index('none')] = 5.0  # ignored
        arch.alpha[1, PRIMITIVE_NAMES.index('se')] = 1.0
        arch.alpha[2, PRIMITIVE_NAMES.index('norm_dil_conv_3x3')] = 3.0
    genotype = arch.derive_genotype()
    assert genotype.edges == (('cbam', 0, 0), ('se', 1, 1),
                              ('norm_dil_conv_3x3', 0, 1))
    module = HOGAttention(8, num_groups=2, search=True)
    module.bind_architecture(arch)
    assert module.derive_genotype() == genotype
    # the derived genotype builds the fixed form
    fixed = HOGAttention(8, num_groups=2, genotype=genotype.to_dict())
    assert fixed(torch.randn(1, 8, 3, 3)).shape == (1, 8, 3, 3)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_derived_genotype_is_the_argmax_of_random_alpha(seed):
    gen = torch.Generator().manual_seed(seed)
    arch = HOGAArchitecture(num_groups=4)
    with torch.no_grad():
        arch.alpha.copy_(torch.randn(10, 9, generator=gen))
    none = PRIMITIVE_NAMES.index('none')
    genotype = arch.derive_genotype()
    for row, (op, src, tgt) in enumerate(genotype.edges):
        # an independent argmax: sort the row, skip 'none'
        order = torch.argsort(arch.alpha[row].detach(), descending=True)
        best = next(i for i in order.tolist() if i != none)
        assert op == PRIMITIVE_NAMES[best]
        assert (src, tgt) == hoga_edges(4)[row]


def test_named_genotypes_build_and_run():
    autola = HOGA_GENOTYPES['autola']
    assert autola.num_groups == 4 and len(autola.edges) == 10
    assert 'none' not in autola.ops
    assert ('cbam', 2, 2) in autola.edges
    assert ('norm_dil_conv_3x3', 1, 3) in autola.edges
    x = torch.randn(2, 32, 6, 6)
    for cfg in (dict(type='HOGAttention', in_channels=32),
                dict(type='HOGAttention', in_channels=32,
                     genotype='autola'), dict(type='HOG_SE', in_channels=32),
                dict(type='HOG_CBAM', in_channels=32),
                dict(type='HOGSEAttention', in_channels=32, fusion='none')):
        module = MODELS.build(cfg)
        assert module(x).shape == x.shape
    assert HOGAttention(32).genotype == autola
    assert set(HOGSEAttention(32).genotype.ops) == {'se'}
    assert set(HOGCBAMAttention(32, num_groups=2).genotype.ops) == {'cbam'}


def test_genotype_round_trips_through_json():
    genotype = random_genotype(4, seed=5)
    text = json.dumps(genotype.to_dict())
    assert Genotype.from_dict(json.loads(text)) == genotype
    # edges may come in any order; they are stored canonically
    shuffled = dict(
        num_groups=4, edges=list(reversed(genotype.to_dict()['edges'])))
    assert Genotype.from_dict(shuffled) == genotype


@pytest.mark.parametrize('kwargs,error,match', [
    (dict(in_channels=10, num_groups=4), ValueError, 'multiple of num_groups'),
    (dict(in_channels=16, num_groups=0), ValueError, 'num_groups'),
    (dict(in_channels=16, num_groups=2), ValueError, 'give a genotype'),
    (dict(in_channels=16, genotype='hog_se',
          search=True), ValueError, 'not both'),
    (dict(in_channels=16, genotype='unknown'), ValueError, 'named genotypes'),
    (dict(in_channels=16, num_groups=2,
          genotype='autola'), ValueError, 'genotype has 4 groups'),
    (dict(in_channels=16, fusion='cbam'), ValueError, 'fusion'),
    (dict(in_channels=16, genotype=3), TypeError, 'genotype'),
])
def test_hoga_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        HOGAttention(**kwargs)


def test_genotype_validation():
    with pytest.raises(ValueError, match='edges'):
        Genotype(2, (('se', 0, 0), ('se', 1, 1)))  # (0, 1) missing
    with pytest.raises(ValueError, match='unknown primitive'):
        Genotype(1, (('conv', 0, 0), ))
    with pytest.raises(ValueError, match='twice'):
        Genotype(1, (('se', 0, 0), ('cbam', 0, 0)))
    with pytest.raises(ValueError, match='primitives'):
        MixedOp(4, ['se', 'attention'])


def test_mixed_op_is_the_weighted_sum():
    torch.manual_seed(0)
    op = MixedOp(4, ['none', 'skip_connect', 'se']).double()
    x = torch.randn(2, 4, 3, 3, dtype=torch.double)
    w = torch.tensor([0.2, 0.3, 0.5], dtype=torch.double)
    assert torch.allclose(op(x, w), 0.3 * x + 0.5 * op.ops[2](x))
    with pytest.raises(ValueError, match='3 weights'):
        op(x, w[:2])


def test_fixed_genotype_has_no_architecture_parameters():
    from mmattn.models.backbones import AttentionBackbone
    backbone = AttentionBackbone(
        backbone=dict(type='ResNet', depth=18),
        attentions=[dict(cfg=dict(type='HOG_SE'), in_blocks='layer1.*')])
    assert backbone.arch_parameters() == []


@pytest.mark.parametrize('channels', [16, 64, 512])
@pytest.mark.parametrize('reduction', [2, 16])
def test_fusion_parameter_count_is_the_documented_formula(channels, reduction):
    """Seed 004 AutoLA rows (issue 13): the fusion is two 1x1 convs over
    C + C/4 -> C -> C (2.25 C^2, plus 4C of BN) and SE(C, r) after the add
    (2 C (C/r) + C + C/r); the SE on the group sum is SE(C/4, r). ResNet-18
    (2 blocks at 64 / 128 / 256 / 512) gets 2 x 348160 x (2/2 - 2/16) =
    609280 fewer parameters with r = 16 than with r = 2 from the output SE
    alone (0.648M with the group-sum SE and the biases: 14.23M -> 13.58M;
    paper 13.51M)."""

    def count(module):
        return sum(p.numel() for p in module.parameters())

    def se(c, r):
        hidden = max(1, c // r)
        return c * hidden + hidden + hidden * c + c

    module = HOGAttention(channels, fusion_reduction=reduction)
    c, g = channels, channels // 4
    assert count(module.fuse) == (c + g) * c + c * c + 4 * c
    assert count(module.out_attention) == se(c, reduction)
    assert count(module.group_sum_attention) == se(g, reduction)
    edges = count(module.edge_ops)
    assert count(module) == (
        count(module.fuse) + se(c, reduction) + se(g, reduction) + edges)
    # The edges do not depend on r.
    assert edges == count(HOGAttention(channels, fusion_reduction=3).edge_ops)


def test_resnet18_fusion_reduction_difference():

    def count(module):
        return sum(p.numel() for p in module.parameters())

    saved = sum(2 * (count(HOGAttention(c, fusion_reduction=2)) -
                     count(HOGAttention(c, fusion_reduction=16)))
                for c in (64, 128, 256, 512))
    # 2 C^2 (1/2 - 1/16) per module plus the biases and the group-sum SE.
    assert abs(saved - 2 * 348160 * (1 - 1 / 8)) / saved < 0.08
    assert 0.60e6 < saved < 0.68e6
