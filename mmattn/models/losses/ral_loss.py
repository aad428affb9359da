"""Robust angular loss (RAL-Net; Xu et al., ACCV 2018), the base model of
seed 002's local-descriptor tables 7-8 beside HardNet.

RAL-Net changes HardNet's loss in two ways (its abstract): descriptors are
compared by cosine similarity instead of L2 distance (they are unit
vectors), and the margin hinge is replaced by a robust function of the
relative similarity that bounds the penalty of triplets with a negative
relative similarity, typically incorrect correspondences:

    x_i = cos(a_i, p_i) - max_{j != i} cos(., .)   (HardNet's hardest
          negative of row i and column i, now the most similar one),
    L = mean_i (1 - tanh(s * x_i)).

1 - tanh is bounded by 2 and its gradient vanishes as x -> -inf, where the
hinge max(0, m - x) keeps a unit gradient. The slope s (1 by default) is an
option: RAL-Net's text fixes the form but the scale is a free choice here.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmattn.registry import MODELS
from .hardnet_loss import hardest_in_batch


@MODELS.register_module()
class RobustAngularLoss(nn.Module):
    """RAL-Net's robust angular loss with hardest-in-batch negatives.

    Args:
        scale (float): Slope s of the tanh. Defaults to 1.0.
        loss_weight (float): Weight of the loss. Defaults to 1.0.

    Shapes:
        anchors, positives: (N, D), normalised inside; labels: (N, ) point id
        of each pair (pairs with equal ids are not negatives); output: scalar.
    """

    def __init__(self, scale: float = 1.0, loss_weight: float = 1.0):
        super().__init__()
        if not scale > 0:
            raise ValueError(f'RobustAngularLoss: scale must be positive, '
                             f'got {scale!r}')
        self.scale = scale
        self.loss_weight = loss_weight

    def forward(self,
                anchors: torch.Tensor,
                positives: torch.Tensor,
                labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        if anchors.dim() != 2 or anchors.shape != positives.shape:
            raise ValueError(
                'RobustAngularLoss: anchors and positives must both be '
                f'(N, D), got {tuple(anchors.shape)} and '
                f'{tuple(positives.shape)}')
        similarity = F.normalize(
            anchors, dim=1) @ F.normalize(
                positives, dim=1).t()
        positive, negative = hardest_in_batch(
            similarity, labels, type(self).__name__, largest=True)
        relative = positive - negative
        loss = (1 - torch.tanh(self.scale * relative)).mean()
        return self.loss_weight * loss
