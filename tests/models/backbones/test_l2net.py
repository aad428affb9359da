import copy

import pytest
import torch
from conftest import REPO_ROOT
from mmengine.config import Config

from mmattn.models.attentions.csa import CompressedSelfAttention
from mmattn.models.backbones.l2net import L2Net
from mmattn.registry import MODELS


def test_l2net_architecture_and_output():
    torch.manual_seed(0)
    model = L2Net()
    model.init_weights()
    # The L2Net/HardNet layer table: 6 convs 3x3 and one 8x8, no biases.
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride)
            for c in convs] == [(1, 32, (3, 3), (1, 1)),
                                (32, 32, (3, 3), (1, 1)),
                                (32, 64, (3, 3), (2, 2)),
                                (64, 64, (3, 3), (1, 1)),
                                (64, 128, (3, 3), (2, 2)),
                                (128, 128, (3, 3), (1, 1)),
                                (128, 128, (8, 8), (1, 1))]
    assert sum(p.numel() for p in model.parameters()) == 1334560
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 7 and all(not bn.affine for bn in bns)
    model.eval()
    x = torch.rand(3, 1, 32, 32)
    (desc, ) = model(x)
    assert desc.shape == (3, 128)
    assert torch.allclose(desc.norm(dim=1), torch.ones(3), atol=1e-5)
    # Per-patch input standardisation: invariant to affine intensity changes.
    (desc2, ) = model(3.0 * x + 0.2)
    assert torch.allclose(desc, desc2, atol=1e-4)


def test_l2net_layer3_is_16x16x64():
    model = L2Net().eval()
    shapes = {}

    def hook(module, inputs, output):
        shapes['layer3'] = output.shape

    model.layer3.register_forward_hook(hook)
    model(torch.rand(2, 1, 32, 32))
    assert shapes['layer3'] == (2, 64, 16, 16)


def test_l2net_rejects_bad_input_and_args():
    with pytest.raises(ValueError, match='expected input'):
        L2Net()(torch.rand(2, 3, 32, 32))
    with pytest.raises(ValueError, match='patch_size'):
        L2Net(patch_size=30)
    with pytest.raises(ValueError, match='dropout'):
        L2Net(dropout=1.0)


def test_csa_config_places_csa_after_layer3():
    cfg = Config.fromfile(f'{REPO_ROOT}/configs/descriptors/'
                          'l2net-csa_hardnet_b1024_brown-liberty.py')
    backbone = MODELS.build(cfg.model.backbone)
    backbone.init_weights()
    attentions = backbone.injected_attentions()
    assert list(attentions) == ['layer3.attention']
    csa = attentions['layer3.attention']
    assert isinstance(csa, CompressedSelfAttention)
    assert (csa.in_channels, csa.groups, csa.num_bases) == (64, 1, 32)
    # alpha = 0 at the start: the same descriptors as the plain L2Net.
    plain = copy.deepcopy(backbone)
    plain.backbone.layer3.attention = torch.nn.Identity()
    backbone.eval(), plain.eval()
    x = torch.rand(2, 1, 32, 32)
    assert torch.allclose(backbone(x)[0], plain(x)[0], atol=1e-6)
    with torch.no_grad():
        csa.alpha.fill_(1.0)
    assert not torch.allclose(backbone(x)[0], plain(x)[0], atol=1e-4)
