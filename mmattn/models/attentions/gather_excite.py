"""Gather-Excite (GE; Hu et al., NeurIPS 2018), a seed 004 table 5 baseline.

A gather operator aggregates each channel over a spatial extent, an excite
operator rescales the input by the sigmoid of the gathered context,
nearest-neighbour interpolated back to the input size:

    y = x * sigmoid(interp(gather(x))).

``GE-theta`` (the parametric form) gathers with depth-wise convolutions:
with a global extent a single depth-wise conv whose kernel covers the whole
feature map, with extent e a chain of log2(e) stride-2 3x3 depth-wise convs,
each followed by BN (and ReLU between them). ``GE-theta+`` adds an SE-style
1x1 conv bottleneck (ratio 1/16) after the gather. ``GE-theta-`` is the
parameter-free average pooling gather.

The global GE-theta needs the feature map size at build time (its kernel is
the map): ResNet-50 at 224 x 224 has 56, 28, 14 and 7 in its four stages,
and GE-theta in every bottleneck adds sum(C H W) = 5.52 M parameters, i.e.
31.1 M in all (seed 004 table 5 lists ResNet50 + GENet at 31.20 M).
"""
import math
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmattn.registry import MODELS
from .non_local import _check_positive_int, check_feature_map


@MODELS.register_module()
class GatherExciteAttention(BaseModule):
    """Gather-Excite block (GE-theta-, GE-theta, GE-theta+).

    Args:
        in_channels (int): Channels C.
        extent (int | str): ``'global'`` or a power of two e >= 2 (the
            gather covers e x e cells). Defaults to ``'global'``.
        spatial_size (int | Sequence[int], optional): (H, W) of the input,
            required by the parametric global gather (its kernel size).
        parametric (bool): Depth-wise conv gather (GE-theta) instead of
            average pooling (GE-theta-). Defaults to True.
        extra_mlp (bool): The SE-style 1x1 conv bottleneck after the gather
            (GE-theta+). Defaults to False.
        mlp_ratio (int): Bottleneck reduction of ``extra_mlp``. Defaults to
            16.
        init_cfg (dict, optional): Initialisation config.

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W). A global parametric gather requires
        (H, W) == ``spatial_size``.
    """

    def __init__(self,
                 in_channels: int,
                 extent: Union[int, str] = 'global',
                 spatial_size: Optional[Union[int, Sequence[int]]] = None,
                 parametric: bool = True,
                 extra_mlp: bool = False,
                 mlp_ratio: int = 16,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        _check_positive_int(f'{name}: in_channels', in_channels)
        if extent != 'global' and (isinstance(extent, bool)
                                   or not isinstance(extent, int) or extent < 2
                                   or extent & (extent - 1)):
            raise ValueError(f"{name}: extent must be 'global' or a power of "
                             f'two >= 2, got {extent!r}')
        if isinstance(spatial_size, int):
            spatial_size = (spatial_size, spatial_size)
        if spatial_size is not None:
            spatial_size = tuple(spatial_size)
            for value in spatial_size:
                _check_positive_int(f'{name}: spatial_size', value)
        if parametric and extent == 'global' and spatial_size is None:
            raise ValueError(
                f"{name}: the parametric global gather (GE-theta, extent="
                "'global') needs spatial_size=(H, W) of its input, e.g. 56, "
                '28, 14, 7 for the four ResNet-50 stages at 224 x 224')
        self.in_channels = in_channels
        self.extent = extent
        self.spatial_size = spatial_size
        self.parametric = parametric
        self.gather = self._build_gather() if parametric else None
        self.mlp = None
        if extra_mlp:
            _check_positive_int(f'{name}: mlp_ratio', mlp_ratio)
            hidden = max(in_channels // mlp_ratio, 1)
            self.mlp = nn.Sequential(
                nn.Conv2d(in_channels, hidden, 1), nn.ReLU(inplace=True),
                nn.Conv2d(hidden, in_channels, 1))

    def _build_gather(self) -> nn.Sequential:
        c = self.in_channels
        if self.extent == 'global':
            return nn.Sequential(
                nn.Conv2d(c, c, self.spatial_size, groups=c, bias=False),
                nn.BatchNorm2d(c))
        layers = []
        steps = int(math.log2(self.extent))
        for step in range(steps):
            layers += [
                nn.Conv2d(c, c, 3, stride=2, padding=1, groups=c, bias=False),
                nn.BatchNorm2d(c)
            ]
            if step < steps - 1:
                layers.append(nn.ReLU(inplace=True))
        return nn.Sequential(*layers)

    def gathered(self, x: torch.Tensor) -> torch.Tensor:
        """The gathered context: (B, C, 1, 1) global, else (B, C, H/e, W/e).
        """
        if self.parametric:
            if self.extent == 'global' and \
                    tuple(x.shape[-2:]) != self.spatial_size:
                raise ValueError(
                    f'{type(self).__name__}: built for a {self.spatial_size}'
                    f' map (spatial_size), got {tuple(x.shape[-2:])}; set '
                    'spatial_size to the feature map size at this position')
            context = self.gather(x)
        elif self.extent == 'global':
            context = x.mean(dim=(2, 3), keepdim=True)
        else:
            context = F.avg_pool2d(x, self.extent, self.extent, ceil_mode=True)
        if self.mlp is not None:
            context = self.mlp(context)
        return context

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_feature_map(x, self.in_channels, type(self).__name__)
        context = self.gathered(x)
        if context.shape[-2:] != x.shape[-2:]:
            context = F.interpolate(context, size=x.shape[-2:], mode='nearest')
        return x * context.sigmoid()
