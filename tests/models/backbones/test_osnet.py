import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from mmattn.models.backbones import AttentionBackbone, OSNet
from mmattn.models.backbones.osnet import AggregationGate, LiteConv3x3, OSBlock
from mmattn.registry import MODELS


def num_params(module):
    return sum(p.numel() for p in module.parameters())


def test_x1_0_params_about_2_2m():
    # OSNet paper / seed 001 table I: 2.2M (with the FC-512 embedding).
    model = OSNet(with_fc=True)
    assert abs(num_params(model) / 2.2e6 - 1) < 0.02
    assert num_params(model) - num_params(OSNet()) == 512 * 512 + 512 + 1024


def test_stage_shapes_and_backward():
    model = OSNet(out_indices=(0, 1, 2, 3))
    outs = model(torch.randn(2, 3, 64, 32))
    assert [tuple(o.shape[1:]) for o in outs] == [(256, 8, 4), (384, 4, 2),
                                                  (512, 4, 2), (512, 4, 2)]
    outs[-1].mean().backward()
    assert all(p.grad is not None for p in model.parameters())
    fc = OSNet(with_fc=True)
    (emb, ) = fc(torch.randn(2, 3, 64, 32))
    assert emb.shape == (2, 512)


def test_os_block_streams_and_gate():
    block = OSBlock(8, 16)
    # Stream t has t lite 3x3 convs: receptive fields 3, 5, 7, 9.
    assert [len(s) for s in block.streams] == [1, 2, 3, 4]
    assert all(isinstance(m, LiteConv3x3) for s in block.streams for m in s)
    assert block.conv1.conv.out_channels == 4 and block.downsample is not None
    assert OSBlock(16, 16).downsample is None

    torch.manual_seed(0)
    block.eval()
    x = torch.randn(2, 8, 6, 5)
    with torch.no_grad():
        mid = block.conv1(x)
        fc1, fc2 = block.gate.fc1, block.gate.fc2
        total = 0
        for stream in block.streams:
            s = stream(mid)
            # One gate, shared: the same FC weights for every stream.
            w = torch.sigmoid(
                fc2(torch.relu(fc1(s.mean(dim=(2, 3), keepdim=True)))))
            total = total + s * w
        expected = torch.relu(
            block.norm3(block.conv3(total)) + block.downsample(x))
        torch.testing.assert_close(block(x), expected)


def test_stream_receptive_fields():
    # The output centre of stream t depends on a (2t + 1)^2 input window.
    # Eval mode: batch statistics would mix all positions.
    block = OSBlock(4, 16).eval()
    for depth, stream in enumerate(block.streams, start=1):
        x = torch.randn(1, 4, 15, 15, requires_grad=True)
        stream(block.conv1(x))[0, :, 7, 7].sum().backward()
        rows = x.grad.abs().sum(dim=(0, 1, 3)).nonzero().flatten()
        assert rows.min() == 7 - depth and rows.max() == 7 + depth


def test_aggregation_gate_reference():
    gate = AggregationGate(32, reduction=16)
    assert gate.fc1.out_channels == 2
    x = torch.randn(2, 32, 3, 3)
    w = torch.sigmoid(gate.fc2(torch.relu(gate.fc1(x.mean((2, 3), True)))))
    torch.testing.assert_close(gate(x), x * w)


def test_attention_points():
    after = AttentionBackbone(
        backbone=dict(type='OSNet'),
        attentions=[
            dict(
                cfg=dict(type='DCSAttention'),
                after=['conv2', 'conv3', 'conv4', 'conv5'])
        ],
        dummy_input_shape=(1, 3, 64, 32))
    assert [m.in_channels for m in after.injected_attentions().values()
            ] == [256, 384, 512, 512]
    (out, ) = after(torch.randn(2, 3, 64, 32))
    out.mean().backward()
    blocks = AttentionBackbone(
        backbone=dict(type='OSNet'),
        attentions=[
            dict(
                cfg=dict(type='SEAttention'),
                in_blocks=['conv2.[01]', 'conv3.[01]', 'conv4.*'])
        ])
    paths = list(blocks.injected_attentions())
    assert len(paths) == 6 and all(p.endswith('bn3.attention') for p in paths)
    blocks(torch.randn(1, 3, 64, 32))


def test_bad_arguments():
    with pytest.raises(ValueError, match='arch'):
        OSNet(arch='x2.0')
    with pytest.raises(ValueError, match='out_indices'):
        OSNet(out_indices=(4, ))
    with pytest.raises(ValueError, match='with_fc'):
        OSNet(out_indices=(2, ), with_fc=True)


def test_norm_eval():
    model = OSNet(arch='x0.25', norm_eval=True).train()
    assert all(not m.training for m in model.modules()
               if isinstance(m, nn.BatchNorm2d))


def test_reid_config_snippet():
    cfg = Config.fromfile(
        osp.join(
            osp.dirname(
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))),
            'configs', '_base_', 'models', 'reid_osnet.py'))
    model = MODELS.build(cfg.model)
    assert type(model.backbone).__name__ == 'OSNet'
    feats = model(torch.randn(2, 3, 64, 32), mode='tensor')
    assert feats.shape == (2, 512)
