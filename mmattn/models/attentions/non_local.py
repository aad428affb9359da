"""Vanilla self-attention baseline: the embedded-Gaussian non-local block.

It is the "Self-Attention" ablation of seeds 000/001 and the "SA" baseline of
seed 002. Its residual output projection, :class:`ZeroInitProjection`, is
shared with the DA and DCS blocks: a convolution followed by a normalisation
layer whose scale starts at zero, so a freshly inserted block is the identity
and does not disturb a pretrained backbone.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule

from mmattn.registry import MODELS


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f'{name} must be a positive int, got {value!r}')


def feature_tokens(x: torch.Tensor) -> torch.Tensor:
    """Tokens of a feature map for one-head fused attention.

    ``scaled_dot_product_attention`` on the CPU is several times slower on
    a transposed view (channel stride 1 along the token axis) than on a
    contiguous copy: fwd + bwd of 16 x 2048 tokens of 24 channels take
    894 ms against 250 ms (2 cores), the copy included: on a transposed
    view the math path runs and forms the HW x HW weights. Every
    feature-map attention passes its query, key and value through here
    (:class:`SelfAttention2d`, whose query / key width C / 8 differs from
    its value width C, runs the math path all the same).

    Args:
        x (Tensor): (B, C, H, W) or (B, C, N).

    Returns:
        Tensor: (B, 1, N, C) with N = H * W, contiguous.
    """
    return x.flatten(2).transpose(1, 2).contiguous().unsqueeze(1)


def check_feature_map(x, in_channels, module_name):
    """Raise a clear error unless ``x`` is a (B, in_channels, H, W) tensor."""
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x)
        raise ValueError(f'{module_name} expects a (B, C, H, W) tensor, '
                         f'got {shape}')
    if x.shape[1] != in_channels:
        raise ValueError(f'{module_name} was built with in_channels='
                         f'{in_channels} but the input has {x.shape[1]} '
                         'channels')


class ZeroInitProjection(BaseModule):
    """Convolution + normalisation whose normalisation scale starts at zero.

    Used as the last layer of a residual attention branch
    (``out = x + ZeroInitProjection(f)``): with the scale at zero the whole
    block is the identity at initialisation.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Convolution kernel size (padding keeps the size).
            Defaults to 1.
        groups (int): Convolution groups; ``groups=in_channels`` gives the
            depth-wise 3x3 convolution of DA/DCS. Defaults to 1.
        norm_cfg (dict): Normalisation layer config. Defaults to
            ``dict(type='BN')``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 in_channels,
                 out_channels,
                 kernel_size=1,
                 groups=1,
                 norm_cfg=dict(type='BN'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        _check_positive_int('in_channels', in_channels)
        _check_positive_int('out_channels', out_channels)
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            padding=kernel_size // 2,
            groups=groups,
            bias=False)
        _, self.norm = build_norm_layer(norm_cfg, out_channels)
        self.zero_init_norm()

    def zero_init_norm(self):
        """Set the normalisation scale (and shift) to zero."""
        nn.init.zeros_(self.norm.weight)
        nn.init.zeros_(self.norm.bias)

    def init_weights(self):
        super().init_weights()
        # A parent's blanket init (e.g. mmpretrain ResNet's ``Constant 1`` for
        # every BN) reaches this layer too; the block must still start as the
        # identity. (A parent's Pretrained init loads after this.)
        self.zero_init_norm()

    def forward(self, x):
        """(B, in_channels, H, W) -> (B, out_channels, H, W)."""
        return self.norm(self.conv(x))


@MODELS.register_module()
class NonLocalAttention(BaseModule):
    """Embedded-Gaussian non-local block (vanilla self-attention baseline).

    ``theta``, ``phi`` and ``g`` are 1x1 convolutions to
    ``in_channels // reduction`` channels; the attention
    ``softmax(theta^T phi / sqrt(d))`` (HW x HW) aggregates ``g`` and a 1x1
    conv + zero-initialised BN maps the result back:
    ``out = x + BN0(W_z(g A^T))``.

    Args:
        in_channels (int): Channels C of the input feature map.
        reduction (int): Ratio between C and the embedding channels.
            Defaults to 2.
        use_scale (bool): Divide the logits by ``sqrt(d)``. Defaults to True.
        norm_cfg (dict): Normalisation of the output projection. Defaults to
            ``dict(type='BN')``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self,
                 in_channels,
                 reduction=2,
                 use_scale=True,
                 norm_cfg=dict(type='BN'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        _check_positive_int('in_channels', in_channels)
        _check_positive_int('reduction', reduction)
        self.in_channels = in_channels
        self.inter_channels = max(in_channels // reduction, 1)
        self.use_scale = use_scale
        self.theta = nn.Conv2d(in_channels, self.inter_channels, 1)
        self.phi = nn.Conv2d(in_channels, self.inter_channels, 1)
        self.g = nn.Conv2d(in_channels, self.inter_channels, 1)
        self.out_proj = ZeroInitProjection(
            self.inter_channels, in_channels, kernel_size=1, norm_cfg=norm_cfg)

    def forward(self, x):
        check_feature_map(x, self.in_channels, type(self).__name__)
        B, _, H, W = x.shape
        # (B, 1, HW, d): one head, so the fused attention kernels apply and the
        # HW x HW matrix need not be kept for backward on GPU.
        query = feature_tokens(self.theta(x))
        key = feature_tokens(self.phi(x))
        value = feature_tokens(self.g(x))
        scale = 1.0 / math.sqrt(self.inter_channels) if self.use_scale \
            else 1.0
        y = F.scaled_dot_product_attention(query, key, value, scale=scale)
        y = y.squeeze(1).transpose(1, 2).reshape(B, self.inter_channels, H, W)
        return x + self.out_proj(y)
