"""The AutoLA search space: 9 attention primitives (seed 004, section 3.2).

Every primitive maps a group feature (B, c, H, W) to the same shape, and all
but ``none`` and ``skip_connect`` multiply the input by a sigmoid gate:

- ``none``: zero attention (paper eq. 9), output 0;
- ``skip_connect``: identity, "A_1" (eq. 9), output x;
- ``se``: channel attention (eq. 4), ``sigmoid(MLP(avgpool x))``;
- ``channel_attention_v2``: channel attention v2 (eq. 5),
  ``sigmoid(MLP(avgpool x) + MLP(maxpool x))`` with one shared MLP;
- ``spatial_sep_conv_3x3``: spatial attention (eq. 6),
  ``sigmoid(BN(sep3x3([max_c x; mean_c x])))``, a (B, 1, H, W) gate;
- ``spatial_dil_conv_3x3``: the same with a dilation-2 3x3 conv;
- ``norm_sep_conv_3x3``: normalisation attention (eq. 7),
  ``sigmoid(BN(sep3x3(x)))``, a full-tensor gate;
- ``norm_dil_conv_3x3``: the same with a dilation-2 3x3 conv;
- ``cbam``: CBAM (eq. 8), channel attention v2 then a 7x7 spatial gate.

"sep" is a depth-wise 3x3 conv followed by a point-wise 1x1 conv (the
paper's f_s / f_n: "a depth-wise convolutional layer with a 3x3 kernel and a
dilation rate chosen from {1, 2}"). The modules here are self-contained (they
do not depend on :mod:`se` / :mod:`cbam`) because they are sized for the
small channel groups of HOGA and are not registered on their own.
"""
from typing import Callable, Dict, Sequence

import torch
import torch.nn as nn


class ZeroAttention(nn.Module):
    """``0 * x`` (the "zero" / none operation)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


class IdentityAttention(nn.Module):
    """``1 * x`` (skip connection)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _hidden(channels: int, reduction: int) -> int:
    # HOGA groups can have very few channels (ResNet-20: 16 / 4 = 4).
    return max(1, channels // reduction)


class SEChannelAttention(nn.Module):
    """SE channel gate: GAP -> FC (C -> C/r) -> ReLU -> FC -> sigmoid.

    Args:
        channels (int): Channels C.
        reduction (int): Reduction r of the MLP. Defaults to 4.
    """

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        hidden = _hidden(channels, reduction)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.mlp(x.mean(dim=(2, 3), keepdim=True)).sigmoid()


class ChannelAttentionV2(nn.Module):
    """Channel gate from average- and max-pooled features through one shared
    MLP: ``sigmoid(MLP(avg) + MLP(max))`` (CBAM's channel attention).

    Args:
        channels (int): Channels C.
        reduction (int): Reduction r of the shared MLP. Defaults to 4.
    """

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        hidden = _hidden(channels, reduction)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        avg = self.mlp(x.mean(dim=(2, 3), keepdim=True))
        peak = self.mlp(x.amax(dim=(2, 3), keepdim=True))
        return x * (avg + peak).sigmoid()


class SpatialConvAttention(nn.Module):
    """Spatial gate on the channel-pooled map ``[max_c x; mean_c x]``.

    Args:
        kernel_size (int): Kernel of the conv. Defaults to 3.
        dilation (int): Dilation of the conv. Defaults to 1.
        separable (bool): Depth-wise (per pooled map) conv followed by a
            point-wise 2 -> 1 conv, as the paper's f_s; ``False`` uses one
            dense 2 -> 1 conv (CBAM's 7x7 spatial attention).

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W); the gate is (B, 1, H, W).
    """

    def __init__(self,
                 kernel_size: int = 3,
                 dilation: int = 1,
                 separable: bool = True):
        super().__init__()
        padding = dilation * (kernel_size - 1) // 2
        if separable:
            self.conv = nn.Sequential(
                nn.Conv2d(
                    2,
                    2,
                    kernel_size,
                    padding=padding,
                    dilation=dilation,
                    groups=2,
                    bias=False), nn.Conv2d(2, 1, 1, bias=False))
        else:
            self.conv = nn.Conv2d(
                2,
                1,
                kernel_size,
                padding=padding,
                dilation=dilation,
                bias=False)
        self.norm = nn.BatchNorm2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat(
            [x.amax(dim=1, keepdim=True),
             x.mean(dim=1, keepdim=True)], dim=1)
        return x * self.norm(self.conv(pooled)).sigmoid()


class NormalizationAttention(nn.Module):
    """Full-tensor gate ``sigmoid(BN(pw(dw3x3(x)))) * x`` (paper eq. 7).

    Args:
        channels (int): Channels C.
        dilation (int): Dilation of the depth-wise 3x3 conv. Defaults to 1.
    """

    def __init__(self, channels: int, dilation: int = 1):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(
                channels,
                channels,
                3,
                padding=dilation,
                dilation=dilation,
                groups=channels,
                bias=False), nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.conv(x).sigmoid()


class CBAMPrimitive(nn.Module):
    """CBAM as a HOGA edge: :class:`ChannelAttentionV2` then a dense 7x7
    :class:`SpatialConvAttention` (paper eq. 8).

    Args:
        channels (int): Channels C.
        reduction (int): Reduction of the channel MLP. Defaults to 4.
    """

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        self.channel = ChannelAttentionV2(channels, reduction)
        self.spatial = SpatialConvAttention(kernel_size=7, separable=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spatial(self.channel(x))


#: name -> constructor taking the group channels; the order is the column
#: order of the architecture parameters alpha.
HOGA_PRIMITIVES: Dict[str, Callable[[int], nn.Module]] = {
    'none': lambda c: ZeroAttention(),
    'skip_connect': lambda c: IdentityAttention(),
    'se': lambda c: SEChannelAttention(c),
    'channel_attention_v2': lambda c: ChannelAttentionV2(c),
    'spatial_sep_conv_3x3': lambda c: SpatialConvAttention(3, dilation=1),
    'spatial_dil_conv_3x3': lambda c: SpatialConvAttention(3, dilation=2),
    'norm_sep_conv_3x3': lambda c: NormalizationAttention(c, dilation=1),
    'norm_dil_conv_3x3': lambda c: NormalizationAttention(c, dilation=2),
    'cbam': lambda c: CBAMPrimitive(c),
}

#: The full search space of the paper, in alpha column order.
PRIMITIVE_NAMES = tuple(HOGA_PRIMITIVES)


def check_primitives(primitives: Sequence[str], owner: str) -> tuple:
    """Validate a list of primitive names; returns it as a tuple."""
    primitives = tuple(primitives)
    unknown = [p for p in primitives if p not in HOGA_PRIMITIVES]
    if unknown or not primitives:
        raise ValueError(
            f'{owner}: unknown or empty primitives {unknown or primitives}; '
            f'valid names are {list(HOGA_PRIMITIVES)}')
    if len(set(primitives)) != len(primitives):
        raise ValueError(f'{owner}: primitives contain duplicates: '
                         f'{list(primitives)}')
    return primitives


class MixedOp(nn.Module):
    """DARTS mixed edge: ``sum_m w_m o_m(x)`` over the candidate primitives
    (paper eq. 13, ``w = softmax(alpha_edge)`` supplied by the caller).

    Args:
        channels (int): Channels of the group feature.
        primitives (Sequence[str]): Candidate names. Defaults to all 9.

    Shapes:
        x: (B, c, H, W); weights: (len(primitives),) -> (B, c, H, W).
    """

    def __init__(self,
                 channels: int,
                 primitives: Sequence[str] = PRIMITIVE_NAMES):
        super().__init__()
        self.primitives = check_primitives(primitives, 'MixedOp')
        self.ops = nn.ModuleList(HOGA_PRIMITIVES[name](channels)
                                 for name in self.primitives)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        if weights.shape != (len(self.ops), ):
            raise ValueError(
                f'MixedOp: expected {len(self.ops)} weights, got shape '
                f'{tuple(weights.shape)}')
        out = 0
        for name, op, w in zip(self.primitives, self.ops, weights):
            # The zero op contributes nothing (and has no parameters): skip
            # its computation.
            if name != 'none':
                out = out + w * op(x)
        if isinstance(out, int):
            return x.mul(0.0)
        return out
