"""What every registered attention module of mmattn.models.attentions must do:
keep the shape at several sizes and channel counts, and pass a gradient to
every parameter (the method-specific formulas are tested per module)."""
import pytest
import torch

from mmattn.models.attentions import HOGAttention, bind_shared_architecture
from mmattn.registry import MODELS

# Registered name -> config builder for a (B, C, H, W) input with C channels
# (C a multiple of 32, the strictest constraint: StRA's 8 modes with
# C / 4 hidden channels).
FEATURE_MAP_MODULES = {
    'NonLocalAttention':
    lambda c: dict(in_channels=c),
    'SEAttention':
    lambda c: dict(in_channels=c, reduction=4),
    'ChannelGate':
    lambda c: dict(in_channels=c, reduction=4),
    'SpatialGate':
    lambda c: dict(),
    'CBAMAttention':
    lambda c: dict(in_channels=c, reduction=4),
    'ChannelWindowAttention':
    lambda c: dict(in_channels=c),
    'MultiWindowAttention':
    lambda c: dict(in_channels=c),
    'FixedChannelWindowAttention':
    lambda c: dict(in_channels=c, windows=[(c - 3, 5), (c // 2, 4)]),
    'DCSAttention':
    lambda c: dict(in_channels=c),
    'CompressedSelfAttention':
    lambda c: dict(in_channels=c, num_bases=4),
    'LocalAttention':
    lambda c: dict(channels=c),
    'ModeAttention':
    lambda c: dict(channels=c),
    'StructureRegularizedAttention':
    lambda c: dict(in_channels=c),
    'StRABottleneck':
    lambda c: dict(in_channels=c, out_channels=c, stra_cfg=dict(groups=2)),
    'HOGAttention':
    lambda c: dict(in_channels=c),
    'HOGSEAttention':
    lambda c: dict(in_channels=c),
    'HOG_SE':
    lambda c: dict(in_channels=c),
    'HOGCBAMAttention':
    lambda c: dict(in_channels=c),
    'HOG_CBAM':
    lambda c: dict(in_channels=c),
    'SelfAttention2d':
    lambda c: dict(in_channels=c),
    'StandAloneSelfAttention':
    lambda c: dict(in_channels=c, kernel_size=3),
    'GlobalContextAttention':
    lambda c: dict(in_channels=c, ratio=1 / 4),
    # The global parametric gather needs a fixed map size; extent 2 does not.
    'GatherExciteAttention':
    lambda c: dict(in_channels=c, extent=2),
    'AttentionAugmentedConv2d':
    lambda c: dict(in_channels=c, out_channels=c, num_heads=2, relative=False),
}
# The search form of HOGA, whose alpha lives in a bound HOGAArchitecture
# (the registered 'HOGAArchitecture' is tested through it).
HOGA_SEARCH = 'HOGAttention(search=True)'
# Registered name -> (config builder for (B, N, C) tokens, C).
TOKEN_MODULES = {
    'GumbelChannelMask': (dict(in_channels=16), 16),
    'DCSViTAttention': (dict(embed_dims=16, num_heads=2), 16),
}
# Identity at initialisation: zero-initialised output BN, or alpha = 0.
IDENTITY_AT_INIT = {
    'NonLocalAttention': ['out_proj.norm.weight', 'out_proj.norm.bias'],
    'ChannelWindowAttention': ['out_proj.norm.weight', 'out_proj.norm.bias'],
    'MultiWindowAttention': ['out_proj.norm.weight', 'out_proj.norm.bias'],
    'FixedChannelWindowAttention':
    ['out_proj.norm.weight', 'out_proj.norm.bias'],
    'DCSAttention': ['out_proj.norm.weight', 'out_proj.norm.bias'],
    'CompressedSelfAttention': ['alpha'],
    'SelfAttention2d': ['alpha'],
    'GlobalContextAttention':
    ['channel_add_conv.3.weight', 'channel_add_conv.3.bias'],
}
# Parameters whose gradient is zero by construction, with the reason.
STRUCTURALLY_ZERO_GRAD = {
    # The key bias adds q_i . b to every logit of query i: the softmax over
    # the keys cancels it. The value bias adds the same vector at every
    # position (the attention rows sum to 1), which the training-mode BN of
    # the output projection subtracts again.
    'NonLocalAttention': ['phi.bias', 'g.bias'],
    # At the initial tiling each window's length-interpolated end channel is
    # the first channel of the next window, already weighted 1: the union
    # (maximum) of the windows hides l_dec until the windows move apart
    # (test_da.py checks l_dec's gradient at separated windows).
    'MultiWindowAttention': ['l_dec'],
    # The mask logits' BN bias shifts a mode's logits at every position: the
    # softmax over the positions cancels it.
    'ModeAttention': ['mask_net.4.bias'],
    'StructureRegularizedAttention': ['mode_attention.mask_net.4.bias'],
    'StRABottleneck': ['conv2.mode_attention.mask_net.4.bias'],
    # A key bias adds q_i . b to every logit of query i (cancelled by the
    # softmax over the keys); so does the attention-pooling logit's bias.
    'SelfAttention2d': ['key_conv.bias'],
    'GlobalContextAttention': ['conv_mask.bias'],
}
SIZES = [(32, 3, 5), (64, 8, 4), (32, 1, 6)]


def build(name, channels):
    if name == HOGA_SEARCH:
        module = HOGAttention(channels, search=True)
        architecture = bind_shared_architecture(module)
        return module, architecture
    cfg = dict(type=name, **FEATURE_MAP_MODULES[name](channels))
    return MODELS.build(cfg), None


def test_every_registered_attention_is_covered():
    registered = {
        name
        for name, cls in MODELS.module_dict.items()
        if cls.__module__.startswith('mmattn.models.attentions.')
    }
    covered = set(FEATURE_MAP_MODULES) | set(TOKEN_MODULES) | {
        'HOGAArchitecture'
    }
    assert registered == covered
    assert set(IDENTITY_AT_INIT) <= set(FEATURE_MAP_MODULES)
    assert set(STRUCTURALLY_ZERO_GRAD) <= set(FEATURE_MAP_MODULES)


ALL_FEATURE_MAP = sorted(FEATURE_MAP_MODULES) + [HOGA_SEARCH]


@pytest.mark.parametrize('size', SIZES, ids=str)
@pytest.mark.parametrize('name', ALL_FEATURE_MAP)
def test_output_shape(name, size):
    channels, height, width = size
    module, _ = build(name, channels)
    x = torch.randn(2, channels, height, width)
    for mode in (True, False):
        module.train(mode)
        out = module(x)
        assert out.shape == x.shape
        assert torch.isfinite(out).all()


@pytest.mark.parametrize('name,cfg',
                         [(n, c) for n, (c, _) in TOKEN_MODULES.items()])
@pytest.mark.parametrize('num_tokens', [1, 7])
def test_token_module_output_shape(name, cfg, num_tokens):
    module = MODELS.build(dict(type=name, **cfg))
    channels = TOKEN_MODULES[name][1]
    out = module(torch.randn(2, num_tokens, channels))
    assert out.shape == (2, num_tokens, channels)


def _weighted_loss(module, x, gen):
    out = module(x)
    # A random projection: a plain sum would hide the gradient of anything
    # before a training-mode BN (its output sums to a constant).
    weight = torch.randn(out.shape, dtype=out.dtype, generator=gen)
    return (out * weight).sum()


def _named_parameters(module, architecture):
    params = dict(module.named_parameters())
    if architecture is not None:
        params['architecture.alpha'] = architecture.alpha
    return params


@pytest.mark.parametrize('name', ALL_FEATURE_MAP + sorted(TOKEN_MODULES))
def test_every_parameter_receives_a_gradient(name):
    """At init, the scale that makes a block the identity gets a gradient;
    after one SGD step, every parameter does (except the documented ones
    that cannot, which must indeed get none)."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    if name in TOKEN_MODULES:
        cfg, channels = TOKEN_MODULES[name]
        module, architecture = MODELS.build(dict(type=name, **cfg)), None
        x = torch.randn(2, 5, channels, generator=gen)
    else:
        # 64 channels and 4 samples: the smallest MLPs (HOGA's 16-channel
        # groups) then have hidden ReLUs that are not all inactive
        module, architecture = build(name, 64)
        x = torch.randn(4, 64, 4, 6, generator=gen)
    module.double().train()
    if architecture is not None:
        architecture.double()
    x = x.double()
    params = _named_parameters(module, architecture)
    optimizer = torch.optim.SGD(params.values(), lr=0.1)

    if name in IDENTITY_AT_INIT:
        with torch.no_grad():
            assert torch.equal(module(x), x)
    _weighted_loss(module, x, gen).backward()
    for key in IDENTITY_AT_INIT.get(name, []):
        assert params[key].grad.abs().max() > 0, key
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)

    _weighted_loss(module, x, gen).backward()
    zero_by_design = STRUCTURALLY_ZERO_GRAD.get(name, [])
    for key, param in params.items():
        assert param.grad is not None, key
        largest = param.grad.abs().max().item()
        if key in zero_by_design:
            assert largest < 1e-10, key
        else:
            assert largest > 1e-10, key
