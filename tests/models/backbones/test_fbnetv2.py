import copy
import json

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call

from mmattn.models.backbones.fbnetv2 import (FBNetV2Subnet, FBNetV2Supernet,
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


def tiny(**kwargs):
    return FBNetV2Supernet(arch=TINY, **kwargs)


def test_options_of_the_tables():
    assert expand_options((0.75, 3.25, 0.5), 'e', False) == [
        0.75, 1.25, 1.75, 2.25, 2.75, 3.25]
    assert expand_options((0.75, 4.5, 0.75), 'e', False) == [
        0.75, 1.5, 2.25, 3.0, 3.75, 4.5]
    assert len(expand_options((0.75, 6.25, 0.5), 'e', False)) == 12
    assert len(expand_options((0.75, 7.5, 0.75), 'e', False)) == 10
    assert expand_options((16, 28, 4), 'f', True) == [16, 20, 24, 28]
    assert expand_options((112, 216, 8), 'f', True) == list(
        range(112, 217, 8))
    assert expand_options(1, 'e', False) == [1.0]
    with pytest.raises(ValueError, match='step > 0'):
        expand_options((16, 8, 4), 'f', True)
    with pytest.raises(ValueError, match='positive integers'):
        expand_options((0.5, 1.5, 0.5), 'f', True)
    with pytest.raises(TypeError, match='low, high, step'):
        expand_options((1, 2), 'f', True)


@pytest.mark.parametrize('arch, depths, max_e', [
    ('base', [4, 3, 7, 4], (3.25, 4.5)),
    ('large', [8, 9, 21, 6], (3.25, 4.5)),
    ('xlarge', [14, 18, 42, 12], (6.25, 7.5)),
])
def test_supernet_tables(arch, depths, max_e):
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
    assert max(blocks[1].expand_options) == max_e[0]
    assert max(model.stage_blocks(3)[0].expand_options) == max_e[1]
    # Stride 2 at the first block of stage1's second row and of stages 2-4.
    strides = [b.stride for b in blocks]
    assert [i for i, s in enumerate(strides) if s == 2] == [
        1, depths[0], sum(depths[:2]), sum(depths[:3])]
    assert model.conv_head.conv.out_channels == 1984
    assert model.stem.conv.out_channels == 16


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
        8, [4, 8, 12], [0.5, 1.0, 1.5], stride=1, residual=False,
        norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU')).eval()
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
        4, [2, 4], [1.0, 2.0], stride=1, residual=True,
        norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU'))
    block = randomise(block).double().eval()
    block.sampling = 'softmax'
    x = torch.randn(1, 4, 3, 3, dtype=torch.double)
    c = block.channel_logits.detach().clone().requires_grad_()
    e = block.expand_logits.detach().clone().requires_grad_()

    def run(c, e):
        return functional_call(block, {
            'channel_logits': c, 'expand_logits': e}, (x, ))

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


@pytest.mark.parametrize('train', [False, True])
def test_derived_subnet_equals_hard_supernet(train):
    supernet = randomise(tiny(out_indices=(1, 3, 4)))
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


def test_subnet_from_json_loads_supernet_state_and_checkpoint(tmp_path):
    supernet = randomise(tiny(), seed=3).eval()
    arch = json.loads(json.dumps(supernet.export_arch()))
    chosen = [b.chosen() for b in supernet.blocks()]
    assert [blk['out_channels'] for s in arch['stages'] for blk in s] == [
        c for c, _, _ in chosen]
    x = torch.randn(2, 3, 64, 32)
    expected = supernet(x)[0]

    subnet = MODELS.build(dict(type='FBNetV2Subnet', arch=arch))
    subnet.load_state_dict(supernet.state_dict())  # strict
    subnet.eval()
    torch.testing.assert_close(subnet(x)[0], expected)

    path = tmp_path / 'supernet.pth'
    torch.save({'state_dict': supernet.state_dict()}, path)
    subnet = MODELS.build(dict(
        type='FBNetV2Subnet', arch=arch,
        init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    subnet.init_weights()
    subnet.eval()
    torch.testing.assert_close(subnet(x)[0], expected)

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

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model(torch.zeros(1, 3, *input_size))
    for handle in handles:
        handle.remove()
    return sum(total)


def test_expected_flops():
    supernet = randomise(tiny(flops_input_size=(64, 32))).eval()
    subnet = supernet.derive_subnet()
    reference = conv_macs(subnet, (64, 32))
    assert subnet.flops((64, 32)) == reference
    assert supernet.expected_flops(weights='argmax').item() == reference
    assert supernet.expected_flops((40, 24), 'argmax').item() == conv_macs(
        subnet, (40, 24))

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

    with pytest.raises(RuntimeError, match='forward pass first'):
        tiny().expected_flops(weights='sampled')
    supernet.train()
    supernet(torch.zeros(1, 3, 64, 32))
    sampled = supernet.expected_flops(weights='sampled')
    assert sampled.requires_grad and 0 < sampled <= widest
    copy.deepcopy(supernet)  # the sampled weights do not block copies


def test_attention_after_each_stage():
    model = MODELS.build(dict(
        type='AttentionBackbone',
        backbone=dict(type='FBNetV2Supernet', arch=TINY),
        attentions=[
            dict(cfg=dict(type='DCSAttention'),
                 after=['stage1', 'stage2', 'stage3', 'stage4'])
        ]))
    model.init_weights()
    assert [m.in_channels for m in model.injected_attentions().values()
            ] == [16, 16, 24, 32]
    model.train()
    out = model(torch.randn(2, 3, 64, 32))[0]
    out.mean().backward()
    assert all(p.grad is not None for p in model.backbone.arch_parameters())
    # The stages are still found under the attention wrappers.
    model.eval()
    subnet = model.backbone.derive_subnet()
    assert sum(len(subnet.stage_blocks(i)) for i in range(4)) == 8
    # The subnet takes the same injection paths.
    retrain = MODELS.build(dict(
        type='AttentionBackbone',
        backbone=dict(type='FBNetV2Subnet',
                      arch=model.backbone.export_arch()),
        attentions=[
            dict(cfg=dict(type='DCSAttention'),
                 after=['stage1', 'stage2', 'stage3', 'stage4'])
        ]))
    assert retrain(torch.randn(1, 3, 64, 32))[0].shape[1] == 32


def test_bad_configs_raise():
    with pytest.raises(ValueError, match='arch must be one of'):
        FBNetV2Supernet('huge')
    with pytest.raises(ValueError, match='out_indices'):
        tiny(out_indices=(5, ))
    with pytest.raises(ValueError, match=r'\[e, f, n, s\]'):
        FBNetV2Supernet(dict(stem_channels=8, head_channels=None,
                             stages=[[[1, 8, 1]]]))
    with pytest.raises(ValueError, match='input width must be fixed'):
        FBNetV2Supernet(dict(stem_channels=8, head_channels=None,
                             stages=[[[2, (4, 8, 4), 1, 1],
                                      [1, 8, 1, 1]]]))


@pytest.mark.parametrize('arch', ['base', 'large', 'xlarge'])
def test_supernet_configs(arch):
    import os.path as osp

    from mmengine.config import Config
    path = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs',
                    '_base_', 'models', f'fbnetv2_{arch}_supernet.py')
    cfg = Config.fromfile(path)
    assert cfg.model.backbone.type == 'FBNetV2Supernet'
    assert cfg.model.backbone.arch == arch
    assert cfg.model.neck.in_channels == 1984
    if arch == 'base':
        model = MODELS.build(cfg.model)
        pre, post = model.extract_feat(torch.randn(2, 3, 64, 32))
        assert pre.shape == (2, 1984)
