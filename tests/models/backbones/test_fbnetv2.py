import copy
import json

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call

from mmattn.models.backbones.fbnetv2 import (FBNetV2Subnet, FBNetV2Supernet,
                                             PoolHead,
                                             SearchableInvertedResidual,
                                             expand_options, option_weights)
from mmattn.registry import MODELS

# Four stages like the seed tables, at toy widths.
TINY = dict(
    stem_channels=8,
    head_channels=32,
    stages=[
        [[1, (4, 8, 4), 1, 1], [(0.5, 1.5, 0.5), (8, 16, 4), 1, 2],
         [(0.5, 1.5, 0.5), (8, 16, 4), 1, 1]],
        [[(0.5, 1.5, 0.5), (8, 16, 8), 2, 2]],
        [[(0.5, 1.5, 0.5), (16, 24, 8), 1, 2]],
        [[(1.0, 2.0, 1.0), (16, 32, 8), 2, 1]],
    ])


def randomise(model, seed=0):
    """Random logits and BN statistics, so that every channel matters."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.arch_parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 2)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.normal_(0, 0.3, generator=gen)
                m.running_mean.normal_(0, 0.2, generator=gen)
                m.running_var.uniform_(0.5, 1.5, generator=gen)
    return model


def tiny(head='conv', **kwargs):
    arch = copy.deepcopy(TINY)
    if head == 'pool':
        arch.update(head_type='pool', head_expand=1.5)
    return FBNetV2Supernet(arch=arch, **kwargs)


def test_options_of_the_tables():
    assert expand_options((0.75, 3.25, 0.5), 'e',
                          False) == [0.75, 1.25, 1.75, 2.25, 2.75, 3.25]
    assert expand_options((0.75, 4.5, 0.75), 'e',
                          False) == [0.75, 1.5, 2.25, 3.0, 3.75, 4.5]
    assert len(expand_options((0.75, 6.25, 0.5), 'e', False)) == 12
    assert len(expand_options((0.75, 7.5, 0.75), 'e', False)) == 10
    assert expand_options((16, 28, 4), 'f', True) == [16, 20, 24, 28]
    assert expand_options((112, 216, 8), 'f', True) == list(range(112, 217, 8))
    assert expand_options(1, 'e', False) == [1.0]
    assert expand_options(dict(options=[6, 0.75, 3.25, 6]), 'e',
                          False) == [0.75, 3.25, 6.0]
    with pytest.raises(TypeError, match='options'):
        expand_options(dict(options=[]), 'e', False)
    with pytest.raises(TypeError, match='options'):
        expand_options(dict(values=[1, 2]), 'e', False)
    with pytest.raises(ValueError, match='step > 0'):
        expand_options((16, 8, 4), 'f', True)
    with pytest.raises(ValueError, match='positive integers'):
        expand_options((0.5, 1.5, 0.5), 'f', True)
    with pytest.raises(TypeError, match='low, high, step'):
        expand_options((1, 2), 'f', True)


# The authors' supernets (mobile_cv fbnetv2_supernet, da_fbnetv2_3x_supernet,
# da_fbnetv2_6x_supernet): blocks per stage and the option sets of the
# expansion (the tables' grids plus the authors' 6).
E_SMALL_6 = [0.75, 1.25, 1.75, 2.25, 2.75, 3.25, 6.0]
E_WIDE_6 = [0.75, 1.5, 2.25, 3.0, 3.75, 4.5, 6.0]
E_DEEP_6 = [0.75 + 0.5 * i for i in range(11)] + [6.0, 6.25]
E_DEEP_WIDE = [0.75 * (i + 1) for i in range(10)]


@pytest.mark.parametrize('arch, depths, expands, stage3_widths', [
    ('base', [4, 3, 7, 4], (E_SMALL_6, E_WIDE_6), [96] * 3 + [128] * 4),
    ('large', [4, 12, 21, 12], (E_SMALL_6, E_WIDE_6), [128] * 21),
    ('xlarge', [4, 24, 42, 24],
     (E_DEEP_6, E_DEEP_WIDE), [96] * 12 + [128] * 30),
])
def test_supernet_definitions(arch, depths, expands, stage3_widths):
    model = FBNetV2Supernet(arch)
    assert [len(model.stage_blocks(i)) for i in range(4)] == depths
    blocks = model.blocks()
    # First block: fixed e = 1 (no expansion conv), widths 12 / 16.
    assert blocks[0].channel_options == [12, 16]
    assert not blocks[0].with_expand and blocks[0].expand_logits is None
    widths = [b.out_channels for b in blocks]
    # Each stage ends at the widest option of its last row.
    ends = [sum(depths[:i + 1]) - 1 for i in range(4)]
    assert [widths[i] for i in ends] == [28, 40, 128, 216]
    assert [b.out_channels for b in model.stage_blocks(2)] == stage3_widths
    assert blocks[1].expand_options == expands[0]
    assert model.stage_blocks(3)[0].expand_options == expands[1]
    # The authors' expansion 6 of the block's largest input width is an
    # option of every searched block.
    assert all(6.0 in b.expand_options for b in blocks[1:])
    assert blocks[1].mid_options[-2 if arch == 'xlarge' else -1] == 6 * 16
    # Stride 2 at the first block of stage1's second row and of stages 2-4.
    strides = [b.stride for b in blocks]
    assert [i for i, s in enumerate(strides)
            if s == 2] == [1, depths[0],
                           sum(depths[:2]),
                           sum(depths[:3])]
    # The authors' ir_pool head: 216 -> 1296 (BN, act), pool, -> 1984.
    head = model.conv_head
    assert isinstance(head, PoolHead)
    assert (head.in_channels, head.mid_channels,
            head.out_channels) == (216, 1296, 1984)
    assert head.project.conv.bias is not None and head.project.norm_cfg is \
        None
    assert model.stem.conv.out_channels == 16


def n_params(module):
    return sum(p.numel() for p in module.parameters())


# Searched models of the seeds (backbone parameters, M): seed 001 table II
# (FBNetV2 / -Large / -XLarge) = seed 000 tables 1-2 (DA-DNAS 13.2, 24.5).
PAPER_PARAMS = dict(base=5.9, large=13.2, xlarge=24.5)


@pytest.mark.parametrize('arch', ['base', 'large', 'xlarge'])
def test_smallest_and_largest_subnets_bracket_the_searched_models(arch):
    supernet = FBNetV2Supernet(arch, init_cfg=None)
    sizes = {}
    for choice in ('smallest', 'largest'):
        subnet = FBNetV2Subnet(supernet.export_arch(choice), init_cfg=None)
        sizes[choice] = n_params(subnet) / 1e6
    assert sizes['smallest'] <= PAPER_PARAMS[arch] <= sizes['largest']
    # Every option at its largest is the supernet itself (logits aside).
    n_logits = sum(p.numel() for p in supernet.arch_parameters())
    assert sizes['largest'] * 1e6 == n_params(supernet) - n_logits
    if arch == 'base':
        # ImageNet (seed 000 table 4): FBNetV2 7.50 M with the 1000-way fc.
        fc = nn.Linear(1984, 1000)
        assert sizes['smallest'] + n_params(fc) / 1e6 <= 7.50 <= \
            sizes['largest'] + n_params(fc) / 1e6
        # The authors' supernet, expansion 6 everywhere, is the largest.
        assert round(sizes['largest'], 2) == 5.98


def conv_flops_counted(model, input_size):
    """The convolutions' FLOPs as mmengine's analyzer counts them."""
    from mmengine.analysis import FlopAnalyzer
    analyzer = FlopAnalyzer(model.eval(), torch.zeros(1, 3, *input_size))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return analyzer.by_operator()['conv']


@pytest.mark.parametrize('arch, last_stride', [('base', 2), ('base', 1),
                                               ('large', 2)])
def test_expected_cost_of_the_extremes_is_the_counted_flops(arch, last_stride):
    supernet = FBNetV2Supernet(
        arch, last_stride=last_stride, init_cfg=None).eval()
    size = (64, 32)
    for choice in ('largest', 'smallest'):
        subnet = supernet.derive_subnet(choice)
        counted = conv_flops_counted(subnet, size)
        assert subnet.flops(size) == counted
        expected = supernet.expected_flops(size, weights=choice)
        assert expected.item() == counted
    # Argmax of logits that favour the last options is the largest subnet.
    with torch.no_grad():
        for p in supernet.arch_parameters():
            p.copy_(torch.arange(p.numel(), dtype=p.dtype))
    assert supernet.expected_flops(size, 'argmax') == \
        supernet.expected_flops(size, 'largest')
    assert supernet.export_arch('argmax') == supernet.export_arch('largest')
    with pytest.raises(ValueError, match='choice'):
        supernet.export_arch('widest')


def test_last_stride():
    model = FBNetV2Supernet('base', last_stride=1, init_cfg=None)
    assert model.stage_blocks(3)[0].stride == 1
    assert model.arch_settings['stages'][-1][0][3] == 1
    # The zoo entry is not modified.
    assert FBNetV2Supernet.arch_zoo['base']['stages'][-1][0][3] == 2
    model.eval()
    model.out_indices = (3, )
    assert model(torch.zeros(1, 3, 64, 32))[0].shape[-2:] == (4, 2)
    arch = model.export_arch()
    assert arch['stages'][3][0]['stride'] == 1
    assert FBNetV2Subnet(
        arch, out_indices=(3, ))(torch.zeros(1, 3, 64,
                                             32))[0].shape[-2:] == (4, 2)
    with pytest.raises(ValueError, match='last_stride'):
        FBNetV2Supernet('base', last_stride=4)


def test_derived_subnet_trains():
    supernet = randomise(tiny(head='pool'))
    subnet = supernet.eval().derive_subnet().train()
    fc = nn.Linear(32, 3)
    params = list(subnet.parameters()) + list(fc.parameters())
    optim = torch.optim.SGD(params, lr=0.05, momentum=0.9)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(6, 3, 64, 32, generator=gen)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    before = copy.deepcopy(subnet.state_dict())
    losses = []
    for _ in range(6):
        feat = subnet(x)[0].flatten(1)
        loss = F.cross_entropy(fc(feat), y)
        optim.zero_grad()
        loss.backward()
        optim.step()
        losses.append(loss.item())
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < losses[0]
    changed = [
        k for k, v in subnet.state_dict().items()
        if v.dtype.is_floating_point and not torch.equal(v, before[k])
    ]
    assert any(k.startswith('conv_head.expand') for k in changed)
    assert any(k.startswith('conv_head.project') for k in changed)
    assert any(k.startswith('stage1') for k in changed)


def test_forward_backward_reaches_weights_and_logits():
    model = tiny(out_indices=(0, 1, 2, 3, 4))
    model.init_weights()
    model.train()
    outs = model(torch.randn(2, 3, 64, 32))
    assert [tuple(o.shape) for o in outs] == [(2, 16, 16, 8), (2, 16, 8, 4),
                                              (2, 24, 4, 2), (2, 32, 4, 2),
                                              (2, 32, 4, 2)]
    loss = sum(o.pow(2).mean() for o in outs)
    loss.backward()
    assert model.stem.conv.weight.grad.abs().sum() > 0
    params = model.arch_parameters()
    # Eight blocks, each with width logits; expansion logits on all but the
    # first (fixed e = 1).
    assert len(params) == 2 * 8 - 1
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in params)


def test_block_mask_is_the_mix_of_prefix_masks():
    block = SearchableInvertedResidual(
        8, [4, 8, 12], [0.5, 1.0, 1.5],
        stride=1,
        residual=False,
        norm_cfg=dict(type='BN'),
        act_cfg=dict(type='ReLU')).eval()
    randomise(block)
    block.sampling, block.gumbel_tau = 'softmax', 0.7
    x = torch.randn(2, 8, 5, 5)
    g_c = F.softmax(block.channel_logits / 0.7, 0)
    g_e = F.softmax(block.expand_logits / 0.7, 0)
    # Reference: loop over options (no matrix form), widths 4/8/12 and
    # hidden 4/8/12.
    out_mask = sum(g * (torch.arange(12) < c).float()
                   for g, c in zip(g_c, [4, 8, 12]))
    mid_mask = sum(g * (torch.arange(12) < c).float()
                   for g, c in zip(g_e, [4, 8, 12]))
    h = block.expand(x) * mid_mask.view(1, -1, 1, 1)
    h = block.dw(h) * mid_mask.view(1, -1, 1, 1)
    expected = block.project(h) * out_mask.view(1, -1, 1, 1)
    torch.testing.assert_close(block(x), expected)
    assert block.mid_options == [4, 8, 12]


def test_option_weights_and_masks_pass_gradcheck():
    logits = torch.randn(5, dtype=torch.double, requires_grad=True)
    gumbels = -torch.empty(5, dtype=torch.double).exponential_().log()
    assert torch.autograd.gradcheck(
        lambda z: option_weights(z, 'gumbel', 0.8, gumbels), (logits, ))
    # The whole block as a function of its logits (fixed noise: softmax).
    block = SearchableInvertedResidual(
        4, [2, 4], [1.0, 2.0],
        stride=1,
        residual=True,
        norm_cfg=dict(type='BN'),
        act_cfg=dict(type='ReLU'))
    block = randomise(block).double().eval()
    block.sampling = 'softmax'
    x = torch.randn(1, 4, 3, 3, dtype=torch.double)
    c = block.channel_logits.detach().clone().requires_grad_()
    e = block.expand_logits.detach().clone().requires_grad_()

    def run(c, e):
        return functional_call(block, {
            'channel_logits': c,
            'expand_logits': e
        }, (x, ))

    assert torch.autograd.gradcheck(run, (c, e))


def test_sampling_modes():
    model = randomise(tiny())
    x = torch.randn(2, 3, 32, 32)
    model.train()
    assert all(b.sampling == 'gumbel' for b in model.blocks())
    torch.manual_seed(0)
    first = model(x)[0]
    second = model(x)[0]
    assert not torch.allclose(first, second)  # fresh Gumbel samples
    model.eval()
    assert all(b.sampling == 'argmax' for b in model.blocks())
    torch.testing.assert_close(model(x)[0], model(x)[0])
    model.sampling = 'softmax'
    model.train()
    assert all(b.sampling == 'softmax' for b in model.blocks())
    with pytest.raises(ValueError, match='sampling'):
        model.sampling = 'hard'


def test_gumbel_tau_reaches_every_block():
    model = tiny(gumbel_tau=5.0)
    assert {b.gumbel_tau for b in model.blocks()} == {5.0}
    model.gumbel_tau = 5.0 * torch.exp(torch.tensor(-0.045)).item()
    assert {b.gumbel_tau for b in model.blocks()} == {model.gumbel_tau}
    with pytest.raises(ValueError, match='gumbel_tau'):
        model.gumbel_tau = 0


@pytest.mark.parametrize('head', ['conv', 'pool'])
@pytest.mark.parametrize('train', [False, True])
def test_derived_subnet_equals_hard_supernet(train, head):
    supernet = randomise(tiny(head, out_indices=(1, 3, 4)))
    x = torch.randn(3, 3, 64, 32)
    if train:  # batch statistics; argmax forced in training
        supernet.train()
        supernet.sampling = 'argmax'
    else:
        supernet.eval()
    subnet = supernet.derive_subnet()
    assert subnet.training == train
    expected = supernet(x)
    got = subnet(x)
    # Masked channels are exact zeros; the kept ones are the subnet's.
    for big, small in zip(expected, got):
        width = small.shape[1]
        torch.testing.assert_close(big[:, :width], small)
        assert big[:, width:].abs().sum() == 0
    assert any(s.shape[1] < b.shape[1] for b, s in zip(expected, got))
    assert expected[0].abs().mean() > 0.05
    # Fewer channels were materialised.
    assert sum(p.numel() for p in subnet.parameters()) < sum(
        p.numel() for p in supernet.parameters())


@pytest.mark.parametrize('head', ['conv', 'pool'])
def test_subnet_from_json_loads_supernet_state_and_checkpoint(tmp_path, head):
    supernet = randomise(tiny(head), seed=3).eval()
    arch = json.loads(json.dumps(supernet.export_arch()))
    assert arch['head_type'] == head
    assert arch['head_mid_channels'] == (48 if head == 'pool' else None)
    chosen = [b.chosen() for b in supernet.blocks()]
    assert [blk['out_channels'] for s in arch['stages']
            for blk in s] == [c for c, _, _ in chosen]
    x = torch.randn(2, 3, 64, 32)
    expected = supernet(x)[0]

    subnet = MODELS.build(dict(type='FBNetV2Subnet', arch=arch))
    subnet.load_state_dict(supernet.state_dict())  # strict
    subnet.eval()
    torch.testing.assert_close(subnet(x)[0], expected)

    path = tmp_path / 'supernet.pth'
    torch.save({'state_dict': supernet.state_dict()}, path)
    subnet = MODELS.build(
        dict(
            type='FBNetV2Subnet',
            arch=arch,
            init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    subnet.init_weights()
    subnet.eval()
    torch.testing.assert_close(subnet(x)[0], expected)

    if head == 'conv':
        # A JSON written before the head keys existed is a conv head.
        old = {
            k: v
            for k, v in arch.items()
            if k not in ('head_type', 'head_mid_channels')
        }
        legacy = FBNetV2Subnet(arch=old, init_cfg=None)
        legacy.load_state_dict(supernet.state_dict())
        torch.testing.assert_close(legacy.eval()(x)[0], expected)
    else:
        bad = dict(arch, head_mid_channels=None)
        with pytest.raises(ValueError, match='head_mid_channels'):
            FBNetV2Subnet(arch=bad)
        with pytest.raises(ValueError, match='head_type'):
            FBNetV2Subnet(arch=dict(arch, head_type='mlp'))
    with pytest.raises(ValueError, match='export_arch'):
        FBNetV2Subnet(arch=dict(stages=[]))
    bad = json.loads(json.dumps(arch))
    del bad['stages'][0][0]['mid_channels']
    with pytest.raises(ValueError, match='mid_channels'):
        FBNetV2Subnet(arch=bad)


def conv_macs(model, input_size):
    """Reference MACs from the convolutions actually run."""
    total = []

    def hook(module, args, out):
        total.append(out[0].numel() * module.in_channels // module.groups *
                     module.kernel_size[0] * module.kernel_size[1])

    handles = [
        m.register_forward_hook(hook) for m in model.modules()
        if isinstance(m, nn.Conv2d)
    ]
    with torch.no_grad():
        model(torch.zeros(1, 3, *input_size))
    for handle in handles:
        handle.remove()
    return sum(total)


@pytest.mark.parametrize('head', ['conv', 'pool'])
def test_expected_flops(head):
    supernet = randomise(tiny(head, flops_input_size=(64, 32))).eval()
    subnet = supernet.derive_subnet()
    reference = conv_macs(subnet, (64, 32))
    assert subnet.flops((64, 32)) == reference
    assert supernet.expected_flops(weights='argmax').item() == reference
    assert supernet.expected_flops(
        (40, 24), 'argmax').item() == conv_macs(subnet, (40, 24))

    # Differentiable, and pushing every choice to its widest option raises
    # the expected cost.
    cost = supernet.expected_flops()
    cost.backward()
    params = supernet.arch_parameters()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in params)
    with torch.no_grad():
        for p in params:
            p[-1] += 3.0
    assert supernet.expected_flops() > cost
    # Between the narrowest and the widest subnet.
    with torch.no_grad():
        for p in params:
            p.copy_(torch.arange(p.numel(), dtype=p.dtype))
    widest = supernet.expected_flops(weights='argmax')
    assert reference < widest
    assert supernet.expected_flops() < widest

    assert conv_flops_counted(subnet, (64, 32)) == reference
    with pytest.raises(RuntimeError, match='forward pass first'):
        tiny().expected_flops(weights='sampled')
    supernet.train()
    supernet(torch.zeros(1, 3, 64, 32))
    sampled = supernet.expected_flops(weights='sampled')
    assert sampled.requires_grad and 0 < sampled <= widest
    copy.deepcopy(supernet)  # the sampled weights do not block copies


def test_attention_after_each_stage():
    model = MODELS.build(
        dict(
            type='AttentionBackbone',
            backbone=dict(type='FBNetV2Supernet', arch=TINY),
            attentions=[
                dict(
                    cfg=dict(type='DCSAttention'),
                    after=['stage1', 'stage2', 'stage3', 'stage4'])
            ]))
    model.init_weights()
    assert [m.in_channels
            for m in model.injected_attentions().values()] == [16, 16, 24, 32]
    model.train()
    out = model(torch.randn(2, 3, 64, 32))[0]
    out.mean().backward()
    assert all(p.grad is not None for p in model.backbone.arch_parameters())
    # The stages are still found under the attention wrappers.
    model.eval()
    subnet = model.backbone.derive_subnet()
    assert sum(len(subnet.stage_blocks(i)) for i in range(4)) == 8
    # The subnet takes the same injection paths.
    retrain = MODELS.build(
        dict(
            type='AttentionBackbone',
            backbone=dict(
                type='FBNetV2Subnet', arch=model.backbone.export_arch()),
            attentions=[
                dict(
                    cfg=dict(type='DCSAttention'),
                    after=['stage1', 'stage2', 'stage3', 'stage4'])
            ]))
    assert retrain(torch.randn(1, 3, 64, 32))[0].shape[1] == 32


def test_bad_configs_raise():
    with pytest.raises(ValueError, match='arch must be one of'):
        FBNetV2Supernet('huge')
    with pytest.raises(ValueError, match='out_indices'):
        tiny(out_indices=(5, ))
    with pytest.raises(ValueError, match=r'\[e, f, n, s\]'):
        FBNetV2Supernet(
            dict(stem_channels=8, head_channels=None, stages=[[[1, 8, 1]]]))
    with pytest.raises(ValueError, match='head_type'):
        FBNetV2Supernet(dict(TINY, head_type='mlp'))
    with pytest.raises(ValueError, match='head_expand'):
        FBNetV2Supernet(dict(TINY, head_type='pool', head_expand=0))
    with pytest.raises(ValueError, match='input width must be fixed'):
        FBNetV2Supernet(
            dict(
                stem_channels=8,
                head_channels=None,
                stages=[[[2, (4, 8, 4), 1, 1], [1, 8, 1, 1]]]))


@pytest.mark.parametrize('arch', ['base', 'large', 'xlarge'])
def test_supernet_configs(arch):
    import os.path as osp

    from mmengine.config import Config
    path = osp.join(
        osp.dirname(__file__), '..', '..', '..', 'configs', '_base_', 'models',
        f'fbnetv2_{arch}_supernet.py')
    cfg = Config.fromfile(path)
    assert cfg.model.backbone.type == 'FBNetV2Supernet'
    assert cfg.model.backbone.arch == arch
    assert cfg.model.neck.in_channels == 1984
    if arch == 'base':
        model = MODELS.build(cfg.model)
        pre, post = model.extract_feat(torch.randn(2, 3, 64, 32))
        assert pre.shape == (2, 1984)
