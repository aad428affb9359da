"""BNNeck: global pooling then a BatchNorm bottleneck (Luo et al., "Bag of
Tricks")."""
from typing import Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmattn.registry import MODELS


@MODELS.register_module()
class PoolingNeck(BaseModule):
    """Pool the last feature map, with no bottleneck: the plain Re-ID
    recipe (e.g. StRA's own, seed 003: one cross-entropy loss on the pooled
    feature, no BNNeck, no triplet).

    Args:
        pooling (str): ``'avg'``, ``'max'`` or ``'gem'`` (generalised mean,
            p = 3).
        init_cfg (dict | list, optional): Initialisation config.

    Shapes:
        input: a tuple of backbone outputs, the last one (B, C, H, W) or
        already pooled (B, C). Output: ``(pooled, pooled)``, each (B, C), in
        the ``(pre_bn, post_bn)`` form the Re-ID heads take.
    """

    def __init__(self,
                 pooling: str = 'avg',
                 init_cfg: Union[dict, list, None] = None):
        super().__init__(init_cfg=init_cfg)
        if pooling not in ('avg', 'max', 'gem'):
            raise ValueError(f"{type(self).__name__}: pooling must be 'avg', "
                             f"'max' or 'gem', got {pooling!r}")
        self.pooling = pooling

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C); a (B, C) input passes through."""
        if x.dim() == 2:
            return x
        if self.pooling == 'avg':
            return x.mean(dim=(2, 3))
        if self.pooling == 'max':
            return x.amax(dim=(2, 3))
        return F.avg_pool2d(x.clamp(min=1e-6).pow(3),
                            x.shape[-2:]).pow(1. / 3).flatten(1)

    def forward(
        self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]]
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        x = inputs[-1] if isinstance(inputs, (tuple, list)) else inputs
        pooled = self.pool(x)
        return pooled, pooled


@MODELS.register_module()
class BNNeck(PoolingNeck):
    """Pool the last feature map and add a bias-free BatchNorm bottleneck.

    The triplet loss uses the pooled (pre-BN) feature and the ID loss the
    normalised (post-BN) one; the BN bias is frozen at 0 as in BNNeck.

    Args:
        in_channels (int): C of the last backbone output.
        pooling (str): ``'avg'``, ``'max'`` or ``'gem'`` (generalised mean,
            p = 3).
        init_cfg (dict | list, optional): Initialisation config.

    Shapes:
        input: a tuple of backbone outputs, the last one (B, C, H, W) or
        already pooled (B, C). Output: ``(pre_bn, post_bn)``, each (B, C).
    """

    def __init__(self,
                 in_channels: int,
                 pooling: str = 'avg',
                 init_cfg: Union[dict, list, None] = dict(
                     type='Constant', layer='BatchNorm1d', val=1, bias=0)):
        super().__init__(pooling=pooling, init_cfg=init_cfg)
        self.bn = nn.BatchNorm1d(in_channels)
        self.bn.bias.requires_grad_(False)

    def forward(
        self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]]
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        pre_bn, _ = super().forward(inputs)
        return pre_bn, self.bn(pre_bn)
