import copy

import pytest
import torch
from mmengine.registry import DefaultScope
from mmpretrain.models import MobileNetV2, ResNet, VisionTransformer

from mmattn.models.attentions import ChannelWindowAttention, DCSViTAttention
from mmattn.models.backbones import AttentionBackbone
from mmattn.models.injection import (ModuleWithAttention, inject_attention,
                                     injected_attentions, logical_module_paths,
                                     probe_channels, remove_attention)
from mmattn.registry import MODELS


def small_resnet50():
    # Bottleneck blocks at a fraction of the width, to stay fast
    return ResNet(depth=50, stem_channels=8, base_channels=8)


def tiny_vit():
    return VisionTransformer(
        arch=dict(
            embed_dims=16, num_layers=2, num_heads=2, feedforward_channels=32),
        img_size=32,
        patch_size=8)


def test_after_stages_of_resnet18():
    model = ResNet(18)
    stock = copy.deepcopy(model)
    injected = inject_attention(
        model, dict(type='ChannelWindowAttention'), after=['layer2', 'layer4'])
    assert list(injected) == ['layer2.attention', 'layer4.attention']
    assert isinstance(model.layer2, ModuleWithAttention)
    assert [m.in_channels for m in injected.values()] == [128, 512]
    x = torch.randn(2, 3, 64, 64)
    model.eval()
    stock.eval()
    # the zero-initialised output BN makes the injected model the stock one
    torch.testing.assert_close(model(x), stock(x))


def test_after_stages_of_mobilenet_v2_infers_channels_by_dry_forward():
    model = MobileNetV2()
    model.train()
    model.layer1.eval()  # a partly frozen state the dry forward must keep
    injected = inject_attention(
        model,
        dict(type='NonLocalAttention'),
        after=['layer2', 'layer3', 'layer5', 'layer7'])
    assert [m.in_channels for m in injected.values()] == [24, 32, 96, 320]
    assert model.training and not model.layer1.training
    assert model.layer2.training
    out = model(torch.randn(2, 3, 64, 64))
    assert out[0].shape == (2, 1280, 2, 2)


def test_in_blocks_of_resnet18_is_before_the_shortcut_add():
    model = ResNet(18)
    injected = inject_attention(
        model, dict(type='SEAttention'), in_blocks='layer*.*')
    assert len(injected) == 8
    assert 'layer1.0.bn2.attention' in injected
    block = model.layer3[1].eval()
    assert isinstance(block.bn2, ModuleWithAttention)
    with torch.no_grad():
        block.bn2.attention.fc2.bias.uniform_(-2, 2)
    x = torch.randn(2, 256, 4, 4)
    se = block.bn2.attention
    inner = block.bn2.wrapped
    expected = torch.relu(
        se(inner(block.conv2(block.relu(block.bn1(block.conv1(x)))))) + x)
    torch.testing.assert_close(block(x), expected)


def test_in_blocks_of_bottleneck_resnet():
    model = small_resnet50()
    injected = inject_attention(
        model, dict(type='SEAttention'), in_blocks='layer*.*')
    assert len(injected) == 16
    assert all(path.endswith('bn3.attention') for path in injected)
    assert injected['layer4.2.bn3.attention'].in_channels == 256
    assert model(torch.randn(1, 3, 64, 64))[0].shape == (1, 256, 2, 2)


def test_in_blocks_of_mobilenet_v2():
    model = MobileNetV2()
    injected = inject_attention(
        model, dict(type='CBAMAttention'), in_blocks='layer*.*')
    assert len(injected) == 17
    assert 'layer1.0.conv.1.attention' in injected
    assert injected['layer7.0.conv.2.attention'].in_channels == 320
    assert model(torch.randn(1, 3, 64, 64))[0].shape == (1, 1280, 2, 2)


def test_torchvision_resnet():
    torchvision = pytest.importorskip('torchvision')
    model = torchvision.models.resnet18(weights=None)
    injected = inject_attention(
        model, dict(type='SEAttention'), in_blocks='layer*.*')
    assert 'layer1.0.bn2.attention' in injected
    injected = inject_attention(
        model, dict(type='NonLocalAttention'), after='layer3')
    assert injected['layer3.attention'].in_channels == 256
    model50 = torchvision.models.resnet50(weights=None)
    injected = inject_attention(
        model50, dict(type='SEAttention'), in_blocks='layer4.*')
    assert list(injected) == [f'layer4.{i}.bn3.attention' for i in range(3)]
    assert model(torch.randn(1, 3, 64, 64)).shape == (1, 1000)


def test_replace_vit_attention_carries_weights():
    model = tiny_vit()
    model.eval()  # mmpretrain backbones' train() returns None
    stock = copy.deepcopy(model)
    injected = inject_attention(
        model,
        dict(type='DCSViTAttention', mask_bias_init=100.0),
        replace='layers.*.attn')
    assert list(injected) == ['layers.0.attn', 'layers.1.attn']
    assert all(isinstance(m, DCSViTAttention) for m in injected.values())
    x = torch.randn(2, 3, 32, 32)
    # every channel selected: the ViT computes what it did before
    torch.testing.assert_close(model(x), stock(x))


def test_replace_conv_without_converter():
    model = ResNet(18)
    injected = inject_attention(
        model, dict(type='NonLocalAttention'), replace='layer4.*.conv2')
    assert list(injected) == ['layer4.0.conv2', 'layer4.1.conv2']
    assert injected['layer4.0.conv2'].in_channels == 512
    assert model(torch.randn(1, 3, 64, 64))[0].shape == (1, 512, 2, 2)
    with pytest.raises(ValueError, match='stride'):
        inject_attention(
            ResNet(18),
            dict(type='NonLocalAttention'),
            replace='layer4.0.conv1')


def test_patterns_are_matched_segment_by_segment():
    model = ResNet(18)
    paths = logical_module_paths(model)
    assert 'layer1.0' in paths and 'layer1.0.conv1' in paths
    inject_attention(model, dict(type='SEAttention'), after='layer1.*')
    # after wrapping, users still see the original paths
    paths = logical_module_paths(model)
    assert paths['layer1.0'] == 'layer1.0'
    assert 'layer1.0.wrapped' not in paths
    assert not any('attention' in path for path in paths)
    injected = injected_attentions(model)
    assert list(injected) == ['layer1.0.attention', 'layer1.1.attention']


def test_injections_compose_in_any_order():
    model = MobileNetV2()
    inject_attention(model, dict(type='DCSAttention'), after=['layer2'])
    injected = inject_attention(
        model, dict(type='SEAttention'), in_blocks='layer2.*')
    assert list(injected) == [
        'layer2.wrapped.0.conv.2.attention',
        'layer2.wrapped.1.conv.2.attention'
    ]
    assert len(injected_attentions(model)) == 3
    model.eval()
    assert model(torch.randn(1, 3, 32, 32))[0].shape == (1, 1280, 1, 1)


def test_pattern_matching_nothing_lists_valid_paths():
    with pytest.raises(ValueError) as error:
        inject_attention(
            ResNet(18), dict(type='SEAttention'), after=['layer2', 'stage9'])
    message = str(error.value)
    assert "'stage9'" in message and 'layer1, layer2, layer3' in message
    assert 'more)' in message  # truncated


def test_channel_disagreement_names_both():
    with pytest.raises(ValueError, match=r'in_channels=64.*128 channels'):
        inject_attention(
            ResNet(18),
            dict(type='SEAttention', in_channels=64),
            after='layer2')
    # a matching in_channels is accepted
    inject_attention(
        ResNet(18), dict(type='SEAttention', in_channels=128), after='layer2')


def test_unsupported_block_lists_supported_ones():
    with pytest.raises(TypeError, match='Supported: .*Bottleneck'):
        inject_attention(
            ResNet(18), dict(type='SEAttention'), in_blocks='layer1')


def test_other_argument_errors():
    model = ResNet(18)
    with pytest.raises(ValueError, match='exactly one'):
        inject_attention(
            model,
            dict(type='SEAttention'),
            after='layer1',
            in_blocks='layer1.*')
    with pytest.raises(ValueError, match='exactly one'):
        inject_attention(model, dict(type='SEAttention'))
    with pytest.raises(ValueError, match='not in the mmattn MODELS'):
        inject_attention(model, dict(type='NoSuchAttention'), after='layer1')
    with pytest.raises(TypeError, match='"type"'):
        inject_attention(model, dict(reduction=4), after='layer1')
    with pytest.raises(TypeError, match='list of str'):
        inject_attention(model, dict(type='SEAttention'), after=[])
    with pytest.raises(ValueError, match='B, C, H, W'):
        inject_attention(
            tiny_vit(),
            dict(type='SEAttention'),
            after='layers.0',
            dummy_input_shape=(1, 3, 32, 32))
    with pytest.raises(RuntimeError, match='dummy_input_shape'):
        inject_attention(
            tiny_vit(),
            dict(type='SEAttention'),
            after='layers.0',
            dummy_input_shape=(1, 1, 32, 32))
    with pytest.raises(ValueError, match='inside'):
        inject_attention(
            model,
            dict(type='NonLocalAttention'),
            replace=['layer4.0', 'layer4.0.conv2'])


def test_probe_channels_reports_shapes():
    model = MobileNetV2()
    shapes = probe_channels(
        model, ['layer3', 'layer2.0'], dummy_input_shape=(1, 3, 64, 64))
    assert shapes['layer3'] == ((1, 24, 16, 16), (1, 32, 8, 8))
    assert shapes['layer2.0'][1] == (1, 24, 16, 16)


def test_stock_checkpoint_loads_into_injected_model():
    stock = ResNet(18)
    model = copy.deepcopy(stock)
    with torch.no_grad():
        for param in model.parameters():
            param.zero_()
    inject_attention(model, dict(type='NonLocalAttention'), after='layer3')
    inject_attention(model, dict(type='SEAttention'), in_blocks='layer*.*')
    missing, unexpected = model.load_state_dict(
        stock.state_dict(), strict=False)
    assert unexpected == []
    assert missing and all('attention.' in key for key in missing)
    torch.testing.assert_close(model.layer3.wrapped[0].conv1.weight,
                               stock.layer3[0].conv1.weight)
    torch.testing.assert_close(model.layer1[0].bn2.wrapped.weight,
                               stock.layer1[0].bn2.weight)
    # the injected model's own checkpoint round-trips strictly
    copy_model = ResNet(18)
    inject_attention(
        copy_model, dict(type='NonLocalAttention'), after='layer3')
    inject_attention(
        copy_model, dict(type='SEAttention'), in_blocks='layer*.*')
    copy_model.load_state_dict(model.state_dict(), strict=True)


def test_wrapper_delegates_attributes_and_deepcopies():
    model = ResNet(18)
    inject_attention(model, dict(type='SEAttention'), in_blocks='layer*.*')
    block = model.layer1[0]
    # mmpretrain reads block.norm2 (a property over bn2) and its weight
    assert block.norm2.weight is block.bn2.wrapped.weight
    assert block.norm2.num_features == 64
    twin = copy.deepcopy(model)
    twin.eval()
    model.eval()
    x = torch.randn(1, 3, 32, 32)
    torch.testing.assert_close(twin(x), model(x))
    assert len(injected_attentions(twin)) == 8


def _attention_backbone_cfg():
    return dict(
        type='AttentionBackbone',
        backbone=dict(type='MobileNetV2', widen_factor=0.5),
        attentions=[
            dict(cfg=dict(type='DCSAttention'), after=['layer2', 'layer3']),
            dict(cfg=dict(type='ChannelWindowAttention'), after='layer5'),
            dict(cfg=dict(type='SEAttention'), in_blocks='layer*.*'),
        ])


def test_attention_backbone_builds_and_collects_arch_parameters():
    backbone = MODELS.build(_attention_backbone_cfg())
    assert isinstance(backbone, AttentionBackbone)
    attentions = backbone.injected_attentions()
    types = [type(m).__name__ for m in attentions.values()]
    assert types.count('DCSAttention') == 2
    assert types.count('SEAttention') == 17
    window = attentions['layer5.attention']
    assert isinstance(window, ChannelWindowAttention)
    assert window.in_channels == 48  # 96 * 0.5
    params = backbone.arch_parameters()
    mask_params = [
        p for m in attentions.values() if type(m).__name__ == 'DCSAttention'
        for p in m.mask.parameters()
    ]
    assert {id(p)
            for p in params
            } == {id(p)
                  for p in mask_params} | {id(window.s_dec),
                                           id(window.l_dec)}
    assert backbone(torch.randn(2, 3, 32, 32))[0].shape == (2, 1280, 1, 1)
    with torch.no_grad():
        window.s_dec.fill_(1.5)
    backbone.carry_()
    assert window.s_int.item() == 1 and window.s_dec.item() == 0.5


def test_attention_backbone_init_keeps_attention_init():
    backbone = MODELS.build(
        dict(
            type='AttentionBackbone',
            backbone=dict(type='ResNet', depth=18),
            attentions=[
                dict(cfg=dict(type='NonLocalAttention'), after='layer1'),
                dict(cfg=dict(type='DCSAttention'), after='layer2'),
            ]))
    backbone.init_weights()
    attentions = backbone.injected_attentions()
    # mmpretrain ResNet's init_cfg sets every BN weight to 1; the attention
    # blocks must still start as the identity
    for module in attentions.values():
        assert torch.count_nonzero(module.out_proj.norm.weight) == 0
    torch.testing.assert_close(attentions['layer2.attention'].mask.fc.bias,
                               torch.full((128, ), 3.0))
    # and the backbone itself was initialised (zero_init_residual reached
    # the BN that the wrapper does not hide)
    assert torch.count_nonzero(backbone.backbone.layer1[0].bn2.weight) == 0


def test_attention_backbone_config_errors():
    cfg = _attention_backbone_cfg()
    cfg['attentions'] = [dict(cfg=dict(type='SEAttention'))]
    with pytest.raises(ValueError, match='exactly one of'):
        MODELS.build(cfg)
    cfg['attentions'] = [
        dict(cfg=dict(type='SEAttention'), after='layer1', afterr='layer2')
    ]
    with pytest.raises(ValueError, match='exactly one of'):
        MODELS.build(cfg)
    cfg['attentions'] = [dict(type='SEAttention')]
    with pytest.raises(ValueError, match="'cfg'"):
        MODELS.build(cfg)


def test_attention_backbone_in_image_classifier():
    cfg = dict(
        type='ImageClassifier',
        backbone=dict(
            type='AttentionBackbone',
            backbone=dict(type='ResNet', depth=18),
            attentions=[
                dict(cfg=dict(type='MultiWindowAttention'), after='layer4'),
                dict(cfg=dict(type='CBAMAttention'), in_blocks='layer*.*'),
            ]),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=5, in_channels=512))
    with DefaultScope.overwrite_default_scope('mmattn'):
        model = MODELS.build(cfg)
    model.init_weights()
    assert isinstance(model.backbone, AttentionBackbone)
    types = [
        type(m).__name__
        for m in model.backbone.injected_attentions().values()
    ]
    assert types == ['CBAMAttention'] * 8 + ['MultiWindowAttention']
    inputs = torch.randn(2, 3, 64, 64)
    assert model(inputs).shape == (2, 5)
    from mmpretrain.structures import DataSample
    samples = [DataSample().set_gt_label(i) for i in (1, 3)]
    losses = model(inputs, samples, mode='loss')
    losses['loss'].backward()
    window = model.backbone.injected_attentions()['layer4.attention']
    assert window.s_dec.grad is not None


def test_attention_without_in_channels_argument():
    model = ResNet(18)
    injected = inject_attention(
        model, dict(type='SpatialGate'), after='layer1')
    assert type(injected['layer1.attention']).__name__ == 'SpatialGate'
    # the wrapper indexes and tests true like the wrapped stage
    assert len(model.layer1) == 2 and bool(model.layer1)
    assert model.layer1[0] is model.layer1.wrapped[0]


# Attention modules that are the identity at initialisation (zero-initialised
# output BN, or CSA's alpha = 0).
IDENTITY_AT_INIT = [
    dict(type='NonLocalAttention'),
    dict(type='ChannelWindowAttention'),
    dict(type='MultiWindowAttention'),
    dict(type='DCSAttention'),
    dict(type='CompressedSelfAttention', num_bases=4),
]


@pytest.mark.parametrize('cfg', IDENTITY_AT_INIT, ids=lambda c: c['type'])
def test_inject_then_remove_leaves_outputs_unchanged(cfg):
    torch.manual_seed(0)
    model = ResNet(18, base_channels=16, stem_channels=16)
    stock = copy.deepcopy(model)
    stock_modules = dict(model.named_modules())
    x = torch.randn(2, 3, 32, 32)

    after = inject_attention(model, cfg, after=['layer1', 'layer3'])
    in_blocks = inject_attention(model, cfg, in_blocks='layer2.*')
    assert len(injected_attentions(model)) == 4
    # identity at init, exactly, with batch statistics and running ones
    for mode in (True, False):
        model.train(mode)
        stock.train(mode)
        with torch.no_grad():
            assert torch.equal(model(x)[0], stock(x)[0])

    removed = remove_attention(model, list(in_blocks))
    assert list(removed) == list(in_blocks)
    assert list(injected_attentions(model)) == list(after)
    removed = remove_attention(model)
    assert [type(m).__name__ for m in removed.values()] == [cfg['type']] * 2
    assert injected_attentions(model) == {}
    # the original modules are back in place, and the model is bit-identical
    # to the stock one that saw the same inputs
    modules = dict(model.named_modules())
    assert modules.keys() == stock_modules.keys()
    assert all(modules[name] is stock_modules[name] for name in modules)
    state, stock_state = model.state_dict(), stock.state_dict()
    assert state.keys() == stock_state.keys()
    assert all(torch.equal(state[key], stock_state[key]) for key in state)
    model.eval()
    stock.eval()
    with torch.no_grad():
        assert torch.equal(model(x)[0], stock(x)[0])


def test_remove_attention_nested_and_in_any_order():
    model = MobileNetV2(widen_factor=0.5)
    model.eval()
    x = torch.randn(1, 3, 32, 32)
    stock_layer2 = model.layer2
    with torch.no_grad():
        stock_out = model(x)[0]
    inject_attention(model, dict(type='DCSAttention'), after='layer2')
    inject_attention(model, dict(type='NonLocalAttention'), after='layer2')
    inject_attention(
        model, dict(type='ChannelWindowAttention'), in_blocks='layer2.*')
    paths = list(injected_attentions(model))
    assert paths == [
        'layer2.wrapped.wrapped.0.conv.2.attention',
        'layer2.wrapped.wrapped.1.conv.2.attention',
        'layer2.wrapped.attention', 'layer2.attention'
    ]
    # outer first: the inner paths are resolved before anything is removed
    removed = remove_attention(model, [paths[3], paths[2], paths[0]])
    assert list(removed) == [paths[0], paths[2], paths[3]]
    assert list(injected_attentions(model)) == ['layer2.1.conv.2.attention']
    remove_attention(model, 'layer2.1.conv.2.attention')
    assert model.layer2 is stock_layer2
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x)[0], stock_out)


def test_remove_attention_errors_change_nothing():
    model = tiny_vit()
    inject_attention(
        model, dict(type='DCSViTAttention'), replace='layers.0.attn')
    inject_attention(
        model, dict(type='SEAttention'), after='patch_embed.projection')
    before = list(injected_attentions(model))
    with pytest.raises(ValueError, match='replaced the original module'):
        remove_attention(model,
                         ['patch_embed.projection.attention', 'layers.0.attn'])
    with pytest.raises(
            ValueError,
            match=r"injected: \['patch_embed.projection.attention"):
        remove_attention(model, 'layers.1.attn')
    with pytest.raises(TypeError, match='list of str'):
        remove_attention(model, [])
    assert list(injected_attentions(model)) == before
    removed = remove_attention(model, 'patch_embed.projection.attention')
    assert list(removed) == ['patch_embed.projection.attention']
    assert list(injected_attentions(model)) == ['layers.0.attn']
