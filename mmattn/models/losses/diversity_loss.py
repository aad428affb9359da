"""Diversity regularisation of StRA's mode masks (seed 003, section 4.3)."""
from typing import Sequence, Union

import torch
import torch.nn as nn

from mmattn.registry import MODELS


@MODELS.register_module()
class DiversityLoss(nn.Module):
    """``L_d = G - sum_ij max_g M^g_ij`` summed over StRA blocks.

    ``M^g`` is the spatial soft mask of mode g of one StRA block: the
    softmax over the H x W positions that pools mode g's modal vector
    (:class:`mmattn.models.attentions.stra.ModeAttention`), so every
    ``M^g`` is a distribution over positions (it sums to 1). Then
    ``sum_ij max_g M^g_ij <= sum_ij sum_g M^g_ij = G`` and ``L_d >= 0``, with
    ``L_d = 0`` exactly when at every position at most one mode is active
    (disjoint supports), which pushes the G modes to different parts; G
    identical masks give the maximum ``G - 1``. The loss is computed per
    sample, averaged over the batch, and summed over the blocks given
    (paper: one term per StRA block, weight 1.0).

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.

    Shapes:
        mode_masks: one tensor (B, G, H*W) or (B, G, H, W), or a sequence of
        them (one per block, e.g. from
        :func:`mmattn.models.attentions.stra.collect_mode_masks`).
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(
        self, mode_masks: Union[torch.Tensor,
                                Sequence[torch.Tensor]]) -> torch.Tensor:
        if isinstance(mode_masks, torch.Tensor):
            mode_masks = [mode_masks]
        if len(mode_masks) == 0:
            raise ValueError(
                'DiversityLoss: got no mode masks; run the model with its '
                'StRA blocks (and mode attention) first')
        total = 0
        for masks in mode_masks:
            if masks.dim() not in (3, 4):
                raise ValueError(
                    'DiversityLoss: each mode mask tensor must be (B, G, HW) '
                    f'or (B, G, H, W), got shape {tuple(masks.shape)}')
            masks = masks.flatten(2)
            num_modes = masks.shape[1]
            per_sample = num_modes - masks.amax(dim=1).sum(dim=1)
            total = total + per_sample.mean()
        return self.loss_weight * total
