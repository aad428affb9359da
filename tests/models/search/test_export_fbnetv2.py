"""Architecture JSON round trip of the named FBNetV2 supernets (the
authors' ir_pool head, last stride, expansion 6 among the options)."""
import torch
import torch.nn as nn

from mmattn.models.backbones.fbnetv2 import (FBNetV2Subnet, FBNetV2Supernet,
                                             PoolHead)
from mmattn.models.search import build_searched_backbone
from mmattn.models.search.export import (export_architecture,
                                         load_architecture_file,
                                         save_architecture)
from mmattn.registry import MODELS


class Net(nn.Module):
    """A searched network: the backbone under ``backbone.``."""

    def __init__(self, backbone):
        super().__init__()
        self.backbone = MODELS.build(backbone)


def choose_some(supernet, seed=0):
    """Random argmax choices and BN statistics, fixed by ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in supernet.arch_parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
        for m in supernet.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.2, generator=gen)
                m.running_var.uniform_(0.5, 1.5, generator=gen)


def test_base_supernet_json_round_trip(tmp_path):
    backbone = dict(
        type='AttentionBackbone',
        backbone=dict(
            type='FBNetV2Supernet',
            arch='base',
            last_stride=1,
            flops_input_size=(64, 32)),
        attentions=[],
        dummy_input_shape=(1, 3, 64, 32))
    net = Net(backbone).eval()
    supernet = net.backbone.backbone
    assert isinstance(supernet, FBNetV2Supernet)
    choose_some(supernet)
    path = str(tmp_path / 'architecture.json')
    save_architecture(net, path)
    arch = load_architecture_file(path)
    entry = arch['fbnetv2']['backbone.backbone']
    assert entry['arch']['head_type'] == 'pool'
    assert entry['arch']['head_mid_channels'] == 1296
    assert entry['arch']['stages'][3][0]['stride'] == 1
    chosen = [b.chosen() for b in supernet.blocks()]
    assert [blk['expand_ratio'] for s in entry['arch']['stages']
            for blk in s] == [e for _, _, e in chosen]

    fixed = build_searched_backbone(backbone, arch_file=path)
    subnet = fixed.backbone
    assert isinstance(subnet, FBNetV2Subnet)
    assert isinstance(subnet.conv_head, PoolHead)
    assert subnet.conv_head.in_channels == chosen[-1][0]
    assert entry['flops'] == subnet.flops((64, 32))
    # The supernet's weights load into the fixed network (cut to the kept
    # channels) and give the eval supernet's features.
    fixed.load_state_dict(net.backbone.state_dict())
    fixed.eval()
    x = torch.randn(2, 3, 64, 32)
    with torch.no_grad():
        torch.testing.assert_close(fixed(x)[0], net.backbone(x)[0])
    assert fixed(x)[0].shape == (2, 1984, 1, 1)
    # The fixed network exports the same subnet.
    again = export_architecture(
        Net(dict(type='FBNetV2Subnet', arch=entry['arch'])))
    assert again['fbnetv2']['backbone']['arch'] == entry['arch']
