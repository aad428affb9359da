"""CBAM (baseline of seed 004) and its two gates, which are also HOGA
primitives: :class:`ChannelGate` (shared MLP on avg- and max-pooled features)
and :class:`SpatialGate` (a convolution on the channel-wise max and mean)."""
import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule

from mmattn.registry import MODELS


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f'{name} must be a positive int, got {value!r}')


@MODELS.register_module()
class ChannelGate(BaseModule):
    """Channel attention of CBAM: ``x * sigmoid(MLP(avg(x)) + MLP(max(x)))``.

    Args:
        in_channels (int): Channels C of the input.
        reduction (int): The shared MLP's hidden layer has ``C // reduction``
            channels. Defaults to 16.
        min_channels (int): Lower bound of the hidden channels. Defaults to 1.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self,
                 in_channels,
                 reduction=16,
                 min_channels=1,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        _check_positive_int('in_channels', in_channels)
        _check_positive_int('reduction', reduction)
        _check_positive_int('min_channels', min_channels)
        self.in_channels = in_channels
        hidden = max(in_channels // reduction, min_channels)
        self.mlp = nn.Sequential(
            nn.Conv2d(in_channels, hidden, 1), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, in_channels, 1))

    def forward(self, x):
        avg = self.mlp(x.mean(dim=(2, 3), keepdim=True))
        peak = self.mlp(x.amax(dim=(2, 3), keepdim=True))
        return x * torch.sigmoid(avg + peak)


@MODELS.register_module()
class SpatialGate(BaseModule):
    """Spatial attention: ``x * sigmoid(BN(conv([max_c(x), mean_c(x)])))``.

    CBAM uses a plain 7x7 convolution; the HOGA primitives use a separable
    3x3 one, optionally dilated.

    Args:
        kernel_size (int): Odd convolution kernel size. Defaults to 7.
        dilation (int): Convolution dilation. Defaults to 1.
        separable (bool): Use a depth-wise k x k convolution followed by a
            1x1 convolution instead of a dense one. Defaults to False.
        norm_cfg (dict, optional): Normalisation after the convolution; None
            gives the convolution a bias instead. Defaults to
            ``dict(type='BN')``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W), for any C.
    """

    def __init__(self,
                 kernel_size=7,
                 dilation=1,
                 separable=False,
                 norm_cfg=dict(type='BN'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        _check_positive_int('kernel_size', kernel_size)
        _check_positive_int('dilation', dilation)
        if kernel_size % 2 == 0:
            raise ValueError(
                f'kernel_size must be odd to keep the size, got {kernel_size}')
        padding = dilation * (kernel_size - 1) // 2
        bias = norm_cfg is None
        if separable:
            self.conv = nn.Sequential(
                nn.Conv2d(
                    2,
                    2,
                    kernel_size,
                    padding=padding,
                    dilation=dilation,
                    groups=2,
                    bias=False), nn.Conv2d(2, 1, 1, bias=bias))
        else:
            self.conv = nn.Conv2d(
                2,
                1,
                kernel_size,
                padding=padding,
                dilation=dilation,
                bias=bias)
        self.norm = nn.Identity() if norm_cfg is None else build_norm_layer(
            norm_cfg, 1)[1]

    def forward(self, x):
        pooled = torch.cat(
            [x.amax(dim=1, keepdim=True),
             x.mean(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.norm(self.conv(pooled)))


@MODELS.register_module()
class CBAMAttention(BaseModule):
    """CBAM: :class:`ChannelGate` followed by a 7x7 :class:`SpatialGate`.

    Args:
        in_channels (int): Channels C of the input.
        reduction (int): Reduction of the channel gate's MLP. Defaults to 16.
        kernel_size (int): Kernel of the spatial gate. Defaults to 7.
        min_channels (int): Lower bound of the MLP's hidden channels.
            Defaults to 1.
        norm_cfg (dict, optional): Normalisation of the spatial gate.
            Defaults to ``dict(type='BN')``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self,
                 in_channels,
                 reduction=16,
                 kernel_size=7,
                 min_channels=1,
                 norm_cfg=dict(type='BN'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.channel_gate = ChannelGate(
            in_channels, reduction=reduction, min_channels=min_channels)
        self.spatial_gate = SpatialGate(
            kernel_size=kernel_size, norm_cfg=norm_cfg)

    def forward(self, x):
        return self.spatial_gate(self.channel_gate(x))
