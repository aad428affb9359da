"""Stand-alone local self-attention (SASA; Ramachandran et al., NeurIPS 2019).

Seed 003 writes it as its eq. 3 and uses it as the local-attention baseline
of its table 2 / figure 3, inserted where StRA goes (the 3x3 convs of the
last ResNet-50 stage):

    s_i = sum_{j in N_K(i)} a_ij u(x_j),
    a_ij = softmax_j(q(x_i)^T k(x_j) + q(x_i)^T r_{j-i}),

q, k, u linear maps (1x1 convs without bias), N_K(i) the K x K
neighbourhood of i, and r_{j-i} a learned relative position embedding. As in
SASA, every head of d channels splits its embedding into a row half (d/2
channels, indexed by the row offset) and a column half (indexed by the
column offset). Neighbours outside the image are masked out of the softmax
(SASA's zero padding would let the padded zeros take attention weight).
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmattn.registry import MODELS
from .non_local import _check_positive_int, check_feature_map


@MODELS.register_module()
class StandAloneSelfAttention(BaseModule):
    """Local multi-head self-attention with relative positions (SASA layer).

    A drop-in replacement of a K x K convolution (use :meth:`from_module`):
    a stride-2 conv becomes the attention followed by 2 x 2 average pooling,
    as in SASA.

    Args:
        in_channels (int): Input channels C_in.
        out_channels (int, optional): Output channels C_out. Defaults to
            ``in_channels``.
        kernel_size (int): Neighbourhood size K (odd). Defaults to 7 (SASA's
            ResNet-50 setting).
        num_heads (int): Heads N; ``out_channels`` must be divisible by N and
            each head's d = C_out / N must be at least 2. Defaults to 8.
        stride (int): 1, or 2 for a 2 x 2 average pooling after the
            attention. Defaults to 1.
        init_cfg (dict, optional): Initialisation config.

    Shapes:
        x: (B, C_in, H, W) -> (B, C_out, H / stride, W / stride).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: Optional[int] = None,
                 kernel_size: int = 7,
                 num_heads: int = 8,
                 stride: int = 1,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        out_channels = in_channels if out_channels is None else out_channels
        name = type(self).__name__
        for key, value in (('in_channels', in_channels), ('out_channels',
                                                          out_channels),
                           ('kernel_size', kernel_size), ('num_heads',
                                                          num_heads)):
            _check_positive_int(f'{name}: {key}', value)
        if kernel_size % 2 != 1:
            raise ValueError(f'{name}: kernel_size must be odd, got '
                             f'{kernel_size}')
        if out_channels % num_heads or out_channels // num_heads < 2:
            raise ValueError(
                f'{name}: out_channels ({out_channels}) must be divisible by '
                f'num_heads ({num_heads}) with at least 2 channels per head '
                '(a row and a column half of the position embedding)')
        if stride not in (1, 2):
            raise ValueError(f'{name}: stride must be 1 or 2, got {stride!r}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.num_heads = num_heads
        self.stride = stride
        self.head_channels = out_channels // num_heads
        self.query_conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.key_conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.value_conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        row = self.head_channels // 2
        self.rel_row = nn.Parameter(torch.randn(num_heads, row, kernel_size))
        self.rel_col = nn.Parameter(
            torch.randn(num_heads, self.head_channels - row, kernel_size))

    def relative_embedding(self) -> torch.Tensor:
        """r of every neighbour offset: (N, d, K*K), offsets row-major."""
        k = self.kernel_size
        row = self.rel_row.unsqueeze(-1).expand(-1, -1, k, k)
        col = self.rel_col.unsqueeze(-2).expand(-1, -1, k, k)
        return torch.cat([row, col], dim=1).flatten(2)

    def _neighbours(self, t: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, N, d, K*K, HW) zero-padded neighbourhoods."""
        b, _, h, w = t.shape
        k = self.kernel_size
        unfolded = F.unfold(t, k, padding=k // 2)  # (B, C*K*K, HW)
        return unfolded.view(b, self.num_heads, self.head_channels, k * k,
                             h * w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_feature_map(x, self.in_channels, type(self).__name__)
        b, _, h, w = x.shape
        k = self.kernel_size
        query = self.query_conv(x).view(b, self.num_heads, self.head_channels,
                                        h * w)
        keys = self._neighbours(self.key_conv(x))
        values = self._neighbours(self.value_conv(x))
        # (B, N, K*K, HW): content term q^T k_j plus position term q^T r.
        logits = (query.unsqueeze(3) * keys).sum(dim=2)
        logits = logits + torch.einsum('bndp,ndk->bnkp', query,
                                       self.relative_embedding())
        inside = F.unfold(x.new_ones(1, 1, h, w), k, padding=k // 2)
        logits = logits.masked_fill(
            inside.view(1, 1, k * k, h * w) == 0, float('-inf'))
        weights = logits.softmax(dim=2)
        out = (weights.unsqueeze(2) * values).sum(dim=3)  # (B, N, d, HW)
        out = out.reshape(b, self.out_channels, h, w)
        if self.stride == 2:
            out = F.avg_pool2d(out, 2, 2, ceil_mode=True)
        return out

    @classmethod
    def from_module(cls, conv: nn.Module,
                    **kwargs) -> 'StandAloneSelfAttention':
        """Build a SASA layer that replaces the convolution ``conv``.

        Args:
            conv (nn.Conv2d): An ungrouped conv with stride 1 or 2 (e.g. the
                conv2 of a ResNet bottleneck); its input and output channels
                and stride carry over.
            **kwargs: Other arguments of the class.

        Returns:
            StandAloneSelfAttention: On the device and dtype of ``conv``.
        """
        name = f'{cls.__name__}.from_module'
        if not isinstance(conv, nn.Conv2d):
            raise TypeError(f'{name}: expected an nn.Conv2d, got '
                            f'{type(conv).__name__}')
        if conv.groups != 1:
            raise ValueError(f'{name}: grouped convs (groups={conv.groups}) '
                             'are not replaced')
        if conv.stride[0] != conv.stride[1] or conv.stride[0] not in (1, 2):
            raise ValueError(f'{name}: the conv has stride '
                             f'{tuple(conv.stride)}; only 1 or 2 is replaced')
        for key, value in (('in_channels', conv.in_channels),
                           ('out_channels',
                            conv.out_channels), ('stride', conv.stride[0])):
            given = kwargs.pop(key, None)
            if given is not None and given != value:
                raise ValueError(f'{name}: {key}={given} disagrees with the '
                                 f'replaced conv ({value})')
        module = cls(
            conv.in_channels,
            conv.out_channels,
            stride=conv.stride[0],
            **kwargs)
        return module.to(device=conv.weight.device, dtype=conv.weight.dtype)
