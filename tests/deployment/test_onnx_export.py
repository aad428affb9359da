"""ONNX export of the test feature extractor (Re-ID and classifier)."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn as nn
from conftest import REPO_ROOT

from mmattn.apis import init_model
from mmattn.deployment import (FeatureExtractor, derive_inference_model,
                               export_onnx, onnx_features)
from mmattn.models.attentions import (FixedChannelWindowAttention,
                                      HOGAArchitecture, HOGAttention,
                                      SEAttention, bind_shared_architecture)
from mmattn.models.backbones import FBNetV2Subnet, FBNetV2Supernet
from mmattn.registry import MODELS


def randomise_norms(model, seed=0):
    """Random BN statistics and affine terms: zero-initialised attention
    outputs would otherwise hide the attention from the comparison."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                n = m.num_features
                m.weight.copy_(0.5 + torch.rand(n, generator=gen))
                m.bias.copy_(0.2 * torch.randn(n, generator=gen))
                m.running_mean.copy_(0.1 * torch.randn(n, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(n, generator=gen))
    return model


def check_export(model, path, size):
    export_onnx(model, path, (1, 3, *size))
    # A different batch size than the export: the batch axis is dynamic.
    x = torch.randn(3, 3, *size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = FeatureExtractor(model)(x).numpy()
    got = onnx_features(path, x.numpy())
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)
    return expected


@pytest.mark.parametrize('config', [
    'configs/reid/demo_dcs_mobilenetv2_synthetic.py',
    'configs/attentions/da-multi_mobilenet-v2.py'
])
def test_onnx_matches_pytorch(config, tmp_path):
    model = randomise_norms(init_model(osp.join(REPO_ROOT, config)))
    feats = check_export(model, str(tmp_path / 'model.onnx'), (64, 32))
    if 'reid' in config:
        # Re-ID: the L2-normalised embedding.
        np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1, atol=1e-5)
    else:
        # Classifier: the pre-logits feature (1280-d MobileNetV2).
        assert feats.shape == (3, 1280)


def test_derived_da_model_exports_and_matches(tmp_path):
    model = randomise_norms(
        init_model(
            osp.join(REPO_ROOT,
                     'configs/attentions/da-multi_mobilenet-v2.py')))
    x = torch.randn(2, 3, 64, 32)
    with torch.no_grad():
        before = FeatureExtractor(model)(x)
    replaced = derive_inference_model(model)
    assert sorted(replaced) == [
        f'backbone.backbone.{layer}.attention'
        for layer in ('layer2', 'layer3', 'layer5', 'layer7')
    ]
    assert all(
        isinstance(m, FixedChannelWindowAttention)
        for path, m in model.named_modules() if path in replaced)
    # The initial windows are integers: the derived model is the same
    # function.
    with torch.no_grad():
        torch.testing.assert_close(
            FeatureExtractor(model)(x), before, atol=1e-5, rtol=1e-5)
    check_export(model, str(tmp_path / 'derived.onnx'), (64, 32))


def test_derive_hoga_search_module():
    model = nn.Sequential(HOGAttention(8, search=True)).eval()
    arch = bind_shared_architecture(model, HOGAArchitecture(4))
    with torch.no_grad():
        arch.alpha.zero_()
        arch.alpha[:, arch.primitives.index('skip_connect')] = 1.0
        arch.alpha[0, arch.primitives.index('se')] = 2.0
    search = model[0]
    replaced = derive_inference_model(model)
    assert replaced == {'0': 'HOGAttention'}
    fixed = model[0]
    assert not fixed.search
    assert fixed.genotype.ops == ('se', ) + ('skip_connect', ) * 9
    chosen = search.edge_ops[0].ops[search.primitives.index('se')]
    for a, b in zip(fixed.edge_ops[0].state_dict().values(),
                    chosen.state_dict().values()):
        assert torch.equal(a, b)
    assert fixed(torch.randn(1, 8, 4, 4)).shape == (1, 8, 4, 4)


# Three stages: a fixed 8-channel block, two blocks choosing 8 / 12 / 16
# channels and expansion 1 / 2 / 3, one block choosing 16 / 24 channels.
TINY_SUPERNET = dict(
    type='FBNetV2Supernet',
    arch=dict(
        stem_channels=8,
        head_channels=32,
        stages=[[[1, 8, 1, 1]], [[(1.0, 3.0, 1.0), (8, 16, 4), 2, 2]],
                [[(1.0, 2.0, 1.0), (16, 24, 8), 1, 2]]]),
    out_indices=(3, ),
    flops_input_size=(64, 32))


def tiny_reid(backbone):
    """A Re-ID model (BNNeck, ID + triplet head) around ``backbone``."""
    return MODELS.build(
        dict(
            type='ReID',
            backbone=backbone,
            neck=dict(type='BNNeck', in_channels=32),
            head=dict(
                type='ReIDHead',
                num_classes=4,
                in_channels=32,
                loss_id=dict(type='CrossEntropyLoss'),
                loss_triplet=dict(type='TripletLoss', margin=0.3)))).eval()


def choose(supernet, choices):
    """Set every searched block's argmax to ``(width index, expansion
    index)``."""
    blocks = [
        b for i in range(supernet.num_stages) for b in supernet.stage_blocks(i)
    ]
    with torch.no_grad():
        for block, (c, e) in zip(blocks, choices):
            for logits, index in ((block.channel_logits, c),
                                  (block.expand_logits, e)):
                if logits is not None:
                    logits.zero_()
                    logits[index] = 1.0


@pytest.mark.parametrize('head_type', ['conv', 'pool'])
def test_derived_fbnetv2_supernet_exports_the_subnet(tmp_path, head_type):
    # 'pool': the authors' ir_pool head of the named supernets (1x1 conv to
    # 2 x 24 channels, global pool, 1x1 conv with bias to 32).
    cfg = copy.deepcopy(TINY_SUPERNET)
    cfg['arch'].update(head_type=head_type, head_expand=2.0)
    model = randomise_norms(tiny_reid(cfg))
    supernet = model.backbone
    # Narrower than the widest option in stage 2, an expansion of 3.
    choose(supernet, [(0, 0), (2, 1), (1, 2), (0, 0)])
    x = torch.randn(2, 3, 64, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        before = FeatureExtractor(model)(x)
    replaced = derive_inference_model(model)
    assert replaced == {'backbone': 'FBNetV2Subnet'}
    subnet = model.backbone
    assert isinstance(subnet, FBNetV2Subnet) and not any(
        isinstance(m, FBNetV2Supernet) for m in model.modules())
    assert not any(n.endswith('_logits') for n, _ in model.named_parameters())
    # The argmax widths: 8 | 16, 12 (hidden 48) | 16.
    assert subnet.stage2[1].project.conv.weight.shape[:2] == (12, 48)
    assert subnet.stage3[0].project.conv.weight.shape[0] == 16
    # An eval supernet computes its argmax subnet: same features.
    with torch.no_grad():
        torch.testing.assert_close(
            FeatureExtractor(model)(x), before, atol=1e-5, rtol=1e-5)
    check_export(model, str(tmp_path / 'subnet.onnx'), (64, 32))


def test_derive_carries_attention_after_full_width_stages():
    backbone = dict(
        type='AttentionBackbone',
        backbone=TINY_SUPERNET,
        attentions=[
            dict(cfg=dict(type='SEAttention'), after=['stage2', 'stage3'])
        ],
        dummy_input_shape=(1, 3, 64, 32))
    model = randomise_norms(tiny_reid(backbone))
    supernet = model.backbone.backbone
    # Both stages with attention keep their widest output (16, 24).
    choose(supernet, [(0, 0), (1, 1), (2, 0), (1, 1)])
    x = torch.randn(2, 3, 64, 32)
    with torch.no_grad():
        before = FeatureExtractor(model)(x)
    derive_inference_model(model)
    subnet = model.backbone.backbone
    assert isinstance(subnet, FBNetV2Subnet)
    assert isinstance(subnet.stage2.attention, SEAttention)
    assert isinstance(subnet.stage3.attention, SEAttention)
    with torch.no_grad():
        torch.testing.assert_close(
            FeatureExtractor(model)(x), before, atol=1e-5, rtol=1e-5)
    # Narrowed stage 2: the attention saw the supernet's zero-padded
    # 16 channels, no subnet computes that; the error names the stage.
    model = tiny_reid(backbone)
    choose(model.backbone.backbone, [(0, 0), (0, 0), (1, 0), (1, 0)])
    with pytest.raises(
            ValueError,
            match=r'backbone\.backbone\.stage2.*16 '
            r'channels.*12 channels'):
        derive_inference_model(model)
