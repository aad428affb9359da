"""Compressed Self-Attention (CSA, Chen et al., AAAI 2020; seed 002).

Full self-attention builds one HW x HW attention map. CSA compresses it
through D learnable *base feature vectors* per channel group: a 1x1 conv
gives M (D maps per group); a spatial softmax of M gives the D base
attention maps B, a softmax of M over the D maps gives the adaptive weights
W. The implied attention map of position i is ``A_i = sum_k W[k, i] B_k``
(paper eq. 4), but the output is computed in the order of paper eq. 5,

    E = V B^T          (C/G x D, the elementary outputs)
    Y = E W            (C/G x HW)
    O = alpha * Y + I  (paper eq. 7, alpha initialised to 0),

so neither A nor any HW x HW tensor is ever formed: time and memory are
O(C D HW) instead of O(C HW^2).
"""
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmattn.registry import MODELS


@MODELS.register_module()
class CompressedSelfAttention(BaseModule):
    """Compressed self-attention block (paper figure 3, eq. 5-7).

    Args:
        in_channels (int): Channels C of the input (and output).
        num_bases (int): Base attention maps D per group. Defaults to 32
            (paper table 2).
        groups (int): Channel groups G; CSA runs independently in each
            group of C/G channels with its own D base maps (paper table 3).
            Defaults to 2. Use 1 for the ungrouped form (local descriptors).
        alpha_init (float): Initial value of the output scale alpha; 0 makes
            the block start as the identity. Defaults to 0.
        learnable_alpha (bool): Learn alpha (the paper's "learnable or fixed
            parameter"). Defaults to True.
        init_cfg (dict, optional): Initialisation config.

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self,
                 in_channels: int,
                 num_bases: int = 32,
                 groups: int = 2,
                 alpha_init: float = 0.0,
                 learnable_alpha: bool = True,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        for name, value in (('in_channels', in_channels),
                            ('num_bases', num_bases), ('groups', groups)):
            if not isinstance(value, int) or isinstance(value, bool) \
                    or value < 1:
                raise ValueError(f'CompressedSelfAttention: {name} must be a '
                                 f'positive int, got {value!r}')
        if in_channels % groups != 0:
            raise ValueError(
                f'CompressedSelfAttention: in_channels ({in_channels}) must '
                f'be divisible by groups ({groups})')
        self.in_channels = in_channels
        self.num_bases = num_bases
        self.groups = groups
        # M: D logits per group; V: the new feature map g(I) = W_g I.
        self.base_conv = nn.Conv2d(in_channels, num_bases * groups, 1)
        self.value_conv = nn.Conv2d(in_channels, in_channels, 1)
        alpha = torch.full((1, ), float(alpha_init))
        if learnable_alpha:
            self.alpha = nn.Parameter(alpha)
        else:
            self.register_buffer('alpha', alpha)

    def attention_factors(self, x: torch.Tensor):
        """Base attention maps, adaptive weights and values of each group.

        Args:
            x (Tensor): (B, C, H, W).

        Returns:
            tuple[Tensor]: B (B, G, D, HW), softmax over HW; W (B, G, D, HW),
            softmax over D; V (B, G, C/G, HW).
        """
        b, c, h, w = x.shape
        if c != self.in_channels:
            raise ValueError(
                f'CompressedSelfAttention: expected {self.in_channels} input '
                f'channels, got {c}')
        logits = self.base_conv(x).view(b, self.groups, self.num_bases, h * w)
        base_maps = logits.softmax(dim=-1)
        weights = logits.softmax(dim=2)
        values = self.value_conv(x).view(b, self.groups, c // self.groups,
                                         h * w)
        return base_maps, weights, values

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base_maps, weights, values = self.attention_factors(x)
        # eq. 6: elementary outputs E = V B^T, (B, G, C/G, D).
        elementary = values @ base_maps.transpose(-1, -2)
        # eq. 7: Y = E W, (B, G, C/G, HW); the HW x HW map is never formed.
        y = (elementary @ weights).reshape(x.shape)
        return self.alpha * y + x
