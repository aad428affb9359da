"""The CIFAR ResNets of He et al. (ResNet-20/32/56/110) and a CIFAR ResNeXt-29.

mmpretrain's ``ResNet_CIFAR`` is the 4-stage ImageNet ResNet-18..152 with a
3x3 stem; the CIFAR networks of He et al. (sec. 4.2) have 3 stages of
``n`` basic blocks with 16, 32, 64 channels (depth ``6n + 2``) and
parameter-free shortcuts. Both classes below reuse mmpretrain's blocks,
``ResLayer`` and stem, so their blocks are the ones ``in_blocks`` injection
supports (mmpretrain ``BasicBlock`` / ``Bottleneck``).
"""
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.backbones import ResNet_CIFAR, ResNeXt
from mmpretrain.models.backbones.resnet import BasicBlock
from mmpretrain.models.backbones.resnext import Bottleneck as ResNeXtBlock

from mmattn.registry import MODELS


class ZeroPadShortcut(nn.Module):
    """Parameter-free shortcut of He et al. (option A).

    Subsamples the identity by ``stride`` and appends zero channels up to
    ``out_channels``.

    Args:
        in_channels (int): Channels of the input.
        out_channels (int): Channels of the output, ``>= in_channels``.
        stride (int): Spatial subsampling factor.

    Shapes:
        x: (B, C_in, H, W) -> (B, C_out, ceil(H / stride), ceil(W / stride)).
    """

    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        if out_channels < in_channels:
            raise ValueError(
                'ZeroPadShortcut: out_channels must be >= in_channels, got '
                f'{out_channels} < {in_channels}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride

    def forward(self, x):
        if self.stride != 1:
            x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.out_channels - self.in_channels))


class ZeroPadResLayer(nn.Sequential):
    """A stage of basic blocks whose first block uses a
    :class:`ZeroPadShortcut` when the shape changes.

    Args:
        block (type): Residual block class (mmpretrain ``BasicBlock``).
        num_blocks (int): Blocks in the stage.
        in_channels (int): Input channels.
        out_channels (int): Output channels of every block.
        stride (int): Stride of the first block.
        drop_path_rate (float | Sequence[float]): Stochastic depth per block.
        **kwargs: Other block arguments (``conv_cfg``, ``norm_cfg`` ...).
    """

    def __init__(self,
                 block,
                 num_blocks,
                 in_channels,
                 out_channels,
                 stride=1,
                 drop_path_rate=0.0,
                 **kwargs):
        if isinstance(drop_path_rate, float):
            drop_path_rate = [drop_path_rate] * num_blocks
        downsample = None
        if stride != 1 or in_channels != out_channels:
            downsample = ZeroPadShortcut(in_channels, out_channels, stride)
        layers = []
        for i in range(num_blocks):
            layers.append(
                block(
                    in_channels=in_channels if i == 0 else out_channels,
                    out_channels=out_channels,
                    stride=stride if i == 0 else 1,
                    downsample=downsample if i == 0 else None,
                    drop_path_rate=drop_path_rate[i],
                    **kwargs))
        super().__init__(*layers)


@MODELS.register_module()
class CifarResNet(ResNet_CIFAR):
    """ResNet-20/32/44/56/110 for CIFAR (He et al. 2016, sec. 4.2).

    A 3x3 stem with ``base_channels`` channels, then 3 stages (``layer1`` ..
    ``layer3``) of ``(depth - 2) / 6`` mmpretrain ``BasicBlock`` s with
    ``base_channels`` x 1, 2, 4 channels, the last two starting with stride
    2. Seed 004 uses ``base_channels=16`` on CIFAR-10 (0.27M / 0.46M /
    0.85M parameters with a 10-class head) and 64 on CIFAR-100.

    Attention positions: ``in_blocks='layer*.*'`` (after each block's
    ``norm2``, before the shortcut add) or ``after=['layer1', 'layer2',
    'layer3']``.

    Args:
        depth (int): 20, 32, 44, 56 or 110.
        base_channels (int): Channels of the stem and the first stage.
            Defaults to 16.
        shortcut (str): ``'A'``: parameter-free zero-padding shortcut of
            He et al. for CIFAR; ``'B'``: 1x1 conv + BN projection
            (mmpretrain's ``ResLayer``). Defaults to ``'A'``.
        out_indices (Sequence[int]): Stages whose output is returned.
            Defaults to ``(2, )``.
        **kwargs: Other arguments of mmpretrain's ``ResNet`` (``norm_cfg``,
            ``frozen_stages``, ``zero_init_residual``, ``init_cfg`` ...).

    Shapes:
        x: (B, 3, H, W) -> tuple of (B, base_channels * 2**i, H / 2**i,
        W / 2**i) for ``i`` in ``out_indices``.
    """

    arch_settings = {
        20: (BasicBlock, (3, 3, 3)),
        32: (BasicBlock, (5, 5, 5)),
        44: (BasicBlock, (7, 7, 7)),
        56: (BasicBlock, (9, 9, 9)),
        110: (BasicBlock, (18, 18, 18)),
    }

    def __init__(self,
                 depth,
                 base_channels=16,
                 shortcut='A',
                 out_indices=(2, ),
                 **kwargs):
        if depth not in self.arch_settings:
            raise ValueError(
                f'depth must be one of {sorted(self.arch_settings)} for '
                f'CifarResNet, got {depth!r}')
        if shortcut not in ('A', 'B'):
            raise ValueError(f"shortcut must be 'A' or 'B', got {shortcut!r}")
        for key in ('num_stages', 'stem_channels', 'strides', 'dilations'):
            if key in kwargs:
                raise ValueError(f'CifarResNet fixes {key}; do not pass it')
        self.shortcut = shortcut
        super().__init__(
            depth,
            stem_channels=base_channels,
            base_channels=base_channels,
            num_stages=3,
            strides=(1, 2, 2),
            dilations=(1, 1, 1),
            out_indices=out_indices,
            **kwargs)

    def make_res_layer(self, **kwargs):
        if self.shortcut == 'B':
            return super().make_res_layer(**kwargs)
        # ZeroPadResLayer takes no projection arguments.
        for key in ('avg_down', 'expansion'):
            kwargs.pop(key, None)
        return ZeroPadResLayer(**kwargs)


@MODELS.register_module()
class CifarResNeXt(ResNeXt, ResNet_CIFAR):
    """ResNeXt-29 for CIFAR (Xie et al. 2017, sec. 5.3), seed 004 table 3.

    A 3x3 stem with 64 channels, then 3 stages of 3 mmpretrain ResNeXt
    bottlenecks (``depth = 9 * 3 + 2``) with 256, 512, 1024 output channels,
    ``groups`` paths of ``width_per_group`` channels in the first stage
    (doubling per stage). The default 8x4d has 1.71M parameters with a
    10-class head, the ResNeXt of seed 004 table 3, whose SE variant adds
    the 0.52M that SE (reduction 16) costs on these 256/512/1024 widths. The
    8x64d of Xie et al. is ``width_per_group=64`` (34.4M).

    Attention positions: ``in_blocks='layer*.*'`` (after ``norm3``) or
    ``after=['layer1', 'layer2', 'layer3']``.

    Args:
        depth (int): Only 29.
        groups (int): Cardinality. Defaults to 8.
        width_per_group (int): Bottleneck width per group in the first stage.
            Defaults to 4.
        out_indices (Sequence[int]): Stages whose output is returned.
            Defaults to ``(2, )``.
        **kwargs: Other arguments of mmpretrain's ``ResNet``.

    Shapes:
        x: (B, 3, H, W) -> tuple of (B, 256 * 2**i, H / 2**i, W / 2**i) for
        ``i`` in ``out_indices``.
    """

    arch_settings = {29: (ResNeXtBlock, (3, 3, 3))}

    def __init__(self,
                 depth=29,
                 groups=8,
                 width_per_group=4,
                 out_indices=(2, ),
                 **kwargs):
        if depth not in self.arch_settings:
            raise ValueError(
                f'depth must be 29 for CifarResNeXt, got {depth!r}')
        for name, value in (('groups', groups), ('width_per_group',
                                                 width_per_group)):
            if isinstance(value,
                          bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f'{name} must be a positive int, got '
                                 f'{value!r}')
        for key in ('num_stages', 'strides', 'dilations'):
            if key in kwargs:
                raise ValueError(f'CifarResNeXt fixes {key}; do not pass it')
        # MRO: ResNeXt (grouped blocks) -> ResNet_CIFAR (3x3 stem, no
        # max-pool) -> ResNet.
        super().__init__(
            depth,
            groups=groups,
            width_per_group=width_per_group,
            num_stages=3,
            strides=(1, 2, 2),
            dilations=(1, 1, 1),
            out_indices=out_indices,
            **kwargs)
