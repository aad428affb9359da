"""Attention-augmented convolution (AA-Net; Bello et al., ICCV 2019), the
"ResNet50 + AugAtt" baseline of seed 004 table 5.

The output of a K x K convolution is concatenated with the output of a
multi-head self-attention over all positions:

    AAConv(x) = concat(Conv(x), W_O MHA(x)),

with Conv producing C_out - d_v channels and the attention d_v. The
attention projects x with one 1x1 conv to queries and keys of d_k channels
and values of d_v channels, split into N_h heads; each head's logits are

    l_ij = q_i^T k_j / sqrt(d_k / N_h) + q_i^T r^W_{x_j - x_i}
           + q_i^T r^H_{y_j - y_i}

(2D relative position logits, embeddings shared by the heads). Bello et al.
augment the 3x3 convs of ResNet-50 with kappa = d_k / C_out = 0.2 and
upsilon = d_v / C_out = 0.1 and N_h = 8; these are the defaults. A strided
conv's attention runs on a 2 x 2 average-pooled input, so both halves have
the output's size.
"""
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmattn.registry import MODELS
from .non_local import _check_positive_int, check_feature_map


def relative_logits_1d(query: torch.Tensor,
                       embedding: torch.Tensor) -> torch.Tensor:
    """``q_i^T r_{j - i}`` along the last spatial axis.

    Args:
        query (Tensor): (B, N, H, W, d).
        embedding (Tensor): (2W - 1, d); row ``m`` is offset ``m - (W - 1)``.

    Returns:
        Tensor: (B, N, H, W, W), entry [..., i, j] = q_i . r_{j - i}.
    """
    width = query.shape[3]
    offsets = torch.arange(width, device=query.device)
    index = offsets[None, :] - offsets[:, None] + width - 1  # (W, W)
    logits = query @ embedding.t()  # (B, N, H, W, 2W - 1)
    return logits.gather(-1, index.expand(*logits.shape[:-1], width))


@MODELS.register_module()
class AttentionAugmentedConv2d(BaseModule):
    """Convolution augmented by 2D relative self-attention.

    Args:
        in_channels (int): Input channels C_in.
        out_channels (int): Output channels C_out.
        kernel_size (int): Kernel of the convolution half. Defaults to 3.
        stride (int): 1 or 2. Defaults to 1.
        key_ratio (float): kappa = d_k / C_out. Defaults to 0.2.
        value_ratio (float): upsilon = d_v / C_out. Defaults to 0.1.
        num_heads (int): N_h; d_k and d_v must be divisible by it.
            Defaults to 8.
        relative (bool): Add the 2D relative position logits. Defaults to
            True.
        spatial_size (int | Sequence[int], optional): (H, W) of the output
            map, required with ``relative`` (the embeddings have 2H - 1 and
            2W - 1 rows).
        init_cfg (dict, optional): Initialisation config.

    Shapes:
        x: (B, C_in, H * stride, W * stride) -> (B, C_out, H, W).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 3,
                 stride: int = 1,
                 key_ratio: float = 0.2,
                 value_ratio: float = 0.1,
                 num_heads: int = 8,
                 relative: bool = True,
                 spatial_size: Optional[Union[int, Sequence[int]]] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        for key, value in (('in_channels', in_channels), ('out_channels',
                                                          out_channels),
                           ('kernel_size', kernel_size), ('num_heads',
                                                          num_heads)):
            _check_positive_int(f'{name}: {key}', value)
        if stride not in (1, 2):
            raise ValueError(f'{name}: stride must be 1 or 2, got {stride!r}')
        key_channels = int(round(key_ratio * out_channels / num_heads)) \
            * num_heads
        value_channels = int(round(value_ratio * out_channels / num_heads)) \
            * num_heads
        if key_channels < num_heads or value_channels < num_heads or \
                value_channels >= out_channels:
            raise ValueError(
                f'{name}: key_ratio={key_ratio} and value_ratio={value_ratio}'
                f' give d_k={key_channels}, d_v={value_channels} for '
                f'out_channels={out_channels} and num_heads={num_heads}; need '
                'at least one channel per head and d_v < out_channels')
        if isinstance(spatial_size, int):
            spatial_size = (spatial_size, spatial_size)
        if relative:
            if spatial_size is None:
                raise ValueError(
                    f'{name}: relative position logits need spatial_size='
                    '(H, W) of the output map (e.g. 56, 28, 14, 7 in the '
                    'ResNet-50 stages at 224 x 224)')
            spatial_size = tuple(spatial_size)
            for value in spatial_size:
                _check_positive_int(f'{name}: spatial_size', value)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride
        self.num_heads = num_heads
        self.key_channels = key_channels
        self.value_channels = value_channels
        self.spatial_size = spatial_size
        self.conv = nn.Conv2d(
            in_channels,
            out_channels - value_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            bias=False)
        self.qkv = nn.Conv2d(in_channels, 2 * key_channels + value_channels, 1)
        self.attn_out = nn.Conv2d(value_channels, value_channels, 1)
        head_keys = key_channels // num_heads
        if relative:
            h, w = spatial_size
            self.rel_h = nn.Parameter(
                torch.randn(2 * h - 1, head_keys) * head_keys**-0.5)
            self.rel_w = nn.Parameter(
                torch.randn(2 * w - 1, head_keys) * head_keys**-0.5)
        else:
            self.rel_h = self.rel_w = None

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """The attention half: (B, C_in, H, W) -> (B, d_v, H, W)."""
        b, _, h, w = x.shape
        if self.rel_h is not None and (h, w) != self.spatial_size:
            raise ValueError(
                f'{type(self).__name__}: built for a {self.spatial_size} '
                f'output map (spatial_size), got {(h, w)}')
        n = self.num_heads
        dk, dv = self.key_channels // n, self.value_channels // n
        q, k, v = self.qkv(x).split(
            [self.key_channels, self.key_channels, self.value_channels], dim=1)
        q = q.reshape(b, n, dk, h * w).transpose(2, 3) * dk**-0.5
        k = k.reshape(b, n, dk, h * w).transpose(2, 3)
        v = v.reshape(b, n, dv, h * w).transpose(2, 3)
        logits = q @ k.transpose(2, 3)  # (B, N, HW, HW)
        if self.rel_h is not None:
            # The relative terms use the unscaled query (Bello et al.).
            q_map = q.reshape(b, n, h, w, dk) * dk**0.5
            # [y_i, x_i, x_j] and [y_i, x_i, y_j] -> [y_i, x_i, y_j, x_j].
            rel_w = relative_logits_1d(q_map, self.rel_w)
            rel_h = relative_logits_1d(q_map.transpose(2, 3),
                                       self.rel_h).permute(0, 1, 3, 2, 4)
            rel = rel_w.unsqueeze(4) + rel_h.unsqueeze(5)
            logits = logits + rel.reshape(b, n, h * w, h * w)
        out = logits.softmax(dim=-1) @ v  # (B, N, HW, dv)
        out = out.transpose(2, 3).reshape(b, self.value_channels, h, w)
        return self.attn_out(out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_feature_map(x, self.in_channels, type(self).__name__)
        conv_out = self.conv(x)
        attn_in = F.avg_pool2d(x, 2, 2, ceil_mode=True) \
            if self.stride == 2 else x
        attn_out = self.attention(attn_in)
        return torch.cat([conv_out, attn_out], dim=1)

    @classmethod
    def from_module(cls, conv: nn.Module,
                    **kwargs) -> 'AttentionAugmentedConv2d':
        """Build an AA conv that replaces ``conv`` (channels, kernel and
        stride carry over; the weights do not, the conv half is narrower).
        """
        name = f'{cls.__name__}.from_module'
        if not isinstance(conv, nn.Conv2d) or conv.groups != 1:
            raise TypeError(f'{name}: expected an ungrouped nn.Conv2d, got '
                            f'{conv!r}')
        if conv.kernel_size[0] != conv.kernel_size[1] or \
                conv.stride[0] != conv.stride[1]:
            raise ValueError(f'{name}: only square kernels and strides are '
                             f'replaced, got {conv!r}')
        for key, value in (('in_channels', conv.in_channels),
                           ('out_channels', conv.out_channels),
                           ('kernel_size',
                            conv.kernel_size[0]), ('stride', conv.stride[0])):
            given = kwargs.pop(key, None)
            if given is not None and given != value:
                raise ValueError(f'{name}: {key}={given} disagrees with the '
                                 f'replaced conv ({value})')
        module = cls(
            conv.in_channels,
            conv.out_channels,
            kernel_size=conv.kernel_size[0],
            stride=conv.stride[0],
            **kwargs)
        return module.to(device=conv.weight.device, dtype=conv.weight.dtype)
