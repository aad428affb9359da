"""OSNet, the omni-scale network for Re-ID (Zhou et al., ICCV 2019).

Written from the paper (sec. 3 and table 1): residual bottlenecks whose
middle is ``T`` streams of 1..T lite 3x3 convs (receptive fields 3, 5, 7, 9
for T = 4), combined by one shared channel gate (the unified aggregation
gate). DCS-FB uses it as a fixed backbone (seed 001, table I).
"""
import torch.nn as nn
from mmcv.cnn import ConvModule, build_conv_layer, build_norm_layer
from mmengine.model import BaseModule
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from torch.nn.modules.batchnorm import _BatchNorm

from mmattn.registry import MODELS


class LiteConv3x3(BaseModule):
    """Lite 3x3 conv: a pointwise conv, then a depthwise 3x3 conv, BN, ReLU.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        norm_cfg (dict): Norm config. Defaults to BN.

    Shapes:
        x: (B, C_in, H, W) -> (B, C_out, H, W).
    """

    def __init__(self, in_channels, out_channels, norm_cfg=dict(type='BN')):
        super().__init__()
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.depthwise = ConvModule(
            out_channels,
            out_channels,
            3,
            padding=1,
            groups=out_channels,
            norm_cfg=norm_cfg)

    def forward(self, x):
        return self.depthwise(self.pointwise(x))


class AggregationGate(BaseModule):
    """Unified aggregation gate: channel weights ``sigmoid(FC(ReLU(FC(GAP))))``
    from each stream's own input, with the FC weights shared by all streams.

    Args:
        channels (int): Channels C of every stream.
        reduction (int): Hidden width ``C // reduction``. Defaults to 16.

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W), ``x`` times its (B, C, 1, 1) gate.
    """

    def __init__(self, channels, reduction=16):
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return x * self.sigmoid(self.fc2(self.relu(self.fc1(self.pool(x)))))


class OSBlock(BaseModule):
    """Omni-scale residual bottleneck.

    ``relu(bn3(conv3(sum_t gate(stream_t(conv1(x))))) + shortcut(x))`` with
    stream ``t`` a chain of ``t`` :class:`LiteConv3x3` (t = 1..num_streams).
    The names ``conv3`` / ``norm3`` follow mmpretrain's Bottleneck so that
    ``in_blocks`` injection puts an attention after ``norm3``, before the
    shortcut add.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        bottleneck_ratio (int): Middle width is ``out_channels //
            bottleneck_ratio``. Defaults to 4.
        num_streams (int): T, the number of streams. Defaults to 4.
        gate_reduction (int): Reduction of the aggregation gate.
            Defaults to 16.
        norm_cfg (dict): Norm config. Defaults to BN.

    Shapes:
        x: (B, C_in, H, W) -> (B, C_out, H, W).
    """

    def __init__(self,
                 in_channels,
                 out_channels,
                 bottleneck_ratio=4,
                 num_streams=4,
                 gate_reduction=16,
                 norm_cfg=dict(type='BN')):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        mid_channels = out_channels // bottleneck_ratio
        self.conv1 = ConvModule(
            in_channels, mid_channels, 1, norm_cfg=norm_cfg)
        self.streams = nn.ModuleList(
            nn.Sequential(*[
                LiteConv3x3(mid_channels, mid_channels, norm_cfg)
                for _ in range(depth)
            ]) for depth in range(1, num_streams + 1))
        self.gate = AggregationGate(mid_channels, gate_reduction)
        self.conv3 = build_conv_layer(
            None, mid_channels, out_channels, 1, bias=False)
        self.norm3_name, norm3 = build_norm_layer(
            norm_cfg, out_channels, postfix=3)
        self.add_module(self.norm3_name, norm3)
        self.downsample = None
        if in_channels != out_channels:
            self.downsample = ConvModule(
                in_channels, out_channels, 1, norm_cfg=norm_cfg, act_cfg=None)
        self.relu = nn.ReLU(inplace=True)

    @property
    def norm3(self):
        return getattr(self, self.norm3_name)

    def forward(self, x):
        mid = self.conv1(x)
        mid = sum(self.gate(stream(mid)) for stream in self.streams)
        out = self.norm3(self.conv3(mid))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


@MODELS.register_module()
class OSNet(BaseBackbone):
    """OSNet backbone (Zhou et al. 2019, table 1).

    ``conv1`` (7x7/2 conv + 3x3/2 max-pool), ``conv2`` .. ``conv4`` (2
    :class:`OSBlock` s each; ``conv2`` and ``conv3`` end with a transition,
    1x1 conv + 2x2/2 average pool), ``conv5`` (1x1 conv). The global
    pooling and the 512-d embedding come after it: in mmattn, the neck
    (``BNNeck``) pools, and ``with_fc=True`` adds the paper's FC-512 layer
    on the pooled feature. x1.0 has 1.91M parameters up to ``conv5`` and
    2.17M with the FC-512 (the "2.2M" of the paper and seed 001 table I).

    Attention positions: ``after=['conv2', 'conv3', 'conv4', 'conv5']``
    (seed 001 inserts DCS after each stage), or ``in_blocks='conv*.*'``
    matching the blocks (``conv2.0``, ``conv2.1``, ...; the transitions
    ``conv2.2`` / ``conv3.2`` are not blocks, so list the blocks, e.g.
    ``in_blocks=['conv2.[01]', 'conv3.[01]', 'conv4.*']``).

    Args:
        arch (str): ``'x1.0'``, ``'x0.75'``, ``'x0.5'`` or ``'x0.25'`` (width
            multipliers of the paper). Defaults to ``'x1.0'``.
        out_indices (Sequence[int]): Stages returned, 0: conv2 ... 3: conv5.
            Defaults to ``(3, )``.
        with_fc (bool): Pool ``conv5`` and apply FC-512 + BN + ReLU; the
            last output is then (B, 512). Defaults to False.
        norm_cfg (dict): Norm config. Defaults to BN.
        norm_eval (bool): Keep BN layers in eval mode. Defaults to False.
        init_cfg (dict | list): Defaults to Kaiming (fan-out) convs and
            constant BN.

    Shapes:
        x: (B, 3, H, W) -> tuple: conv2 (B, 256, H/8, W/8), conv3 (B, 384,
        H/16, W/16), conv4 / conv5 (B, 512, H/16, W/16) for x1.0 (H/4 before
        conv2's transition); with ``with_fc`` the conv5 entry is (B, 512).
    """

    # Channels of conv1 and of conv2..conv4 (conv5 keeps conv4's).
    arch_zoo = {
        'x1.0': (64, 256, 384, 512),
        'x0.75': (48, 192, 288, 384),
        'x0.5': (32, 128, 192, 256),
        'x0.25': (16, 64, 96, 128),
    }
    blocks_per_stage = (2, 2, 2)

    def __init__(self,
                 arch='x1.0',
                 out_indices=(3, ),
                 with_fc=False,
                 norm_cfg=dict(type='BN'),
                 norm_eval=False,
                 init_cfg=[
                     dict(
                         type='Kaiming',
                         layer='Conv2d',
                         mode='fan_out',
                         nonlinearity='relu'),
                     dict(
                         type='Constant',
                         val=1,
                         layer=['_BatchNorm', 'GroupNorm']),
                     dict(type='Normal', layer='Linear', std=0.01),
                 ]):
        super().__init__(init_cfg=init_cfg)
        if arch not in self.arch_zoo:
            raise ValueError(f'arch must be one of {sorted(self.arch_zoo)}, '
                             f'got {arch!r}')
        if not isinstance(out_indices, (list, tuple)) or not out_indices or \
                any(i not in range(4) for i in out_indices):
            raise ValueError('out_indices must be a non-empty sequence of '
                             f'ints in 0..3, got {out_indices!r}')
        if with_fc and 3 not in out_indices:
            raise ValueError(
                'with_fc=True applies the FC-512 to conv5, so out_indices '
                f'must contain 3, got {out_indices!r}')
        self.arch = arch
        self.out_indices = tuple(out_indices)
        self.norm_eval = norm_eval
        stem, *channels = self.arch_zoo[arch]

        self.conv1 = nn.Sequential(
            ConvModule(3, stem, 7, stride=2, padding=3, norm_cfg=norm_cfg),
            nn.MaxPool2d(3, stride=2, padding=1))
        in_channels = stem
        for i, (out_channels,
                num_blocks) in enumerate(zip(channels, self.blocks_per_stage)):
            layers = [
                OSBlock(
                    in_channels if j == 0 else out_channels,
                    out_channels,
                    norm_cfg=norm_cfg) for j in range(num_blocks)
            ]
            if i < 2:
                layers.append(
                    nn.Sequential(
                        ConvModule(
                            out_channels, out_channels, 1, norm_cfg=norm_cfg),
                        nn.AvgPool2d(2, stride=2)))
            self.add_module(f'conv{i + 2}', nn.Sequential(*layers))
            in_channels = out_channels
        self.conv5 = ConvModule(in_channels, in_channels, 1, norm_cfg=norm_cfg)
        self.out_channels = in_channels
        self.with_fc = with_fc
        if with_fc:
            self.fc = nn.Sequential(
                nn.Linear(in_channels, 512), nn.BatchNorm1d(512),
                nn.ReLU(inplace=True))
            self.out_channels = 512

    def forward(self, x):
        x = self.conv1(x)
        outs = []
        for i, name in enumerate(('conv2', 'conv3', 'conv4', 'conv5')):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                if i == 3 and self.with_fc:
                    outs.append(self.fc(x.mean(dim=(2, 3))))
                else:
                    outs.append(x)
        return tuple(outs)

    def train(self, mode=True):
        super().train(mode)
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
