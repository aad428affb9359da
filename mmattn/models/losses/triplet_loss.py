"""Batch-hard triplet loss (Hermans et al., "In Defense of the Triplet
Loss")."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmattn.registry import MODELS


def pairwise_euclidean(x: torch.Tensor) -> torch.Tensor:
    """Euclidean distances between the rows of ``x`` (N, D) -> (N, N)."""
    sq = x.pow(2).sum(1)
    dist = sq[:, None] + sq[None, :] - 2 * x @ x.t()
    # sqrt has an infinite gradient at 0 (the diagonal): keep it off 0.
    return dist.clamp(min=1e-12).sqrt()


@MODELS.register_module()
class TripletLoss(nn.Module):
    """For every anchor, the hardest positive and the hardest negative in
    the batch; hinge with a margin, or soft margin
    ``log(1 + exp(d_ap - d_an))``.

    Args:
        margin (float, optional): Hinge margin; ``None`` selects the soft
            margin. Defaults to 0.3.
        normalize_feature (bool): L2-normalise features first.
        loss_weight (float): Weight of the loss.

    Shapes:
        feats: (N, D); labels: (N,). The batch must contain, for some anchor,
        a positive and a negative (PK sampling guarantees it).
    """

    def __init__(self,
                 margin: Optional[float] = 0.3,
                 normalize_feature: bool = False,
                 loss_weight: float = 1.0):
        super().__init__()
        self.margin = margin
        self.normalize_feature = normalize_feature
        self.loss_weight = loss_weight

    def forward(self, feats: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        if self.normalize_feature:
            feats = F.normalize(feats, dim=1)
        dist = pairwise_euclidean(feats)
        same = labels[:, None] == labels[None, :]
        eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
        positive = same & ~eye
        valid = positive.any(1) & (~same).any(1)
        if not valid.any():
            raise ValueError(
                'TripletLoss: no anchor has both a positive and a negative in '
                'the batch; sample batches with PKSampler (num_instances >= 2)'
            )
        hardest_pos = dist.masked_fill(~positive, float('-inf')).amax(1)
        hardest_neg = dist.masked_fill(same, float('inf')).amin(1)
        gap = (hardest_pos - hardest_neg)[valid]
        if self.margin is None:
            loss = F.softplus(gap).mean()
        else:
            loss = F.relu(gap + self.margin).mean()
        return self.loss_weight * loss
