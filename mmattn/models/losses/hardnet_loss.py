"""HardNet loss (Mishchuk et al., NeurIPS 2017): hardest negative in batch."""
from typing import Optional

import torch
import torch.nn as nn

from mmattn.registry import MODELS


def pairwise_l2_distance(x: torch.Tensor,
                         y: torch.Tensor,
                         eps: float = 1e-6) -> torch.Tensor:
    """Euclidean distances between the rows of ``x`` (N, D) and ``y`` (M, D).

    ``sqrt(|x|^2 + |y|^2 - 2 x.y + eps)``: the ``eps`` keeps the gradient of
    the square root finite at zero distance (HardNet's ``distance_matrix``).

    Returns:
        Tensor: (N, M).
    """
    squared = (
        x.pow(2).sum(1, keepdim=True) + y.pow(2).sum(1).unsqueeze(0) -
        2 * x @ y.t())
    return torch.sqrt(squared.clamp(min=0) + eps)


def hardest_in_batch(scores: torch.Tensor,
                     labels: Optional[torch.Tensor] = None,
                     owner: str = 'hardest_in_batch',
                     largest: bool = False):
    """Positive score and hardest in-batch negative of every matching pair.

    ``scores[i, j]`` compares anchor i with positive j; the diagonal holds the
    matching pairs. The negative of pair i is the hardest non-matching entry
    of row i or column i (HardNet's mining): the smallest distance, or with
    ``largest=True`` the largest similarity. Entries of pairs with equal
    ``labels`` are not negatives either.

    Args:
        scores (Tensor): (N, N) distances (or similarities, ``largest``).
        labels (Tensor, optional): (N, ) point id of each pair.
        owner (str): Name used in error messages.
        largest (bool): Scores are similarities. Defaults to False.

    Returns:
        tuple[Tensor, Tensor]: positive scores (N, ), hardest negatives (N, ).
    """
    num = scores.shape[0]
    if num < 2:
        raise ValueError(f'{owner}: needs at least 2 pairs in the batch to '
                         f'find a negative, got {num}')
    not_negative = torch.eye(num, dtype=torch.bool, device=scores.device)
    if labels is not None:
        if labels.shape != (num, ):
            raise ValueError(f'{owner}: labels must be ({num}, ), got '
                             f'{tuple(labels.shape)}')
        not_negative = not_negative | (labels[:, None] == labels[None])
    if bool(not_negative.all(dim=1).any()):
        raise ValueError(f'{owner}: some pair has no negative in the batch '
                         '(all other pairs share its label)')
    # Excluded entries get a score no negative can reach.
    if largest:
        fill = float(scores.min().detach()) - 10.
        masked = scores.masked_fill(not_negative, fill)
        negative = torch.maximum(
            masked.max(dim=1).values,
            masked.max(dim=0).values)
    else:
        fill = float(scores.max().detach()) + 10.
        masked = scores.masked_fill(not_negative, fill)
        negative = torch.minimum(
            masked.min(dim=1).values,
            masked.min(dim=0).values)
    return scores.diagonal(), negative


@MODELS.register_module()
class HardNetLoss(nn.Module):
    """Triplet margin loss with the hardest negative in the batch.

    For N matching pairs ``(a_i, p_i)`` with distance matrix
    ``D_ij = |a_i - p_j|``, the negative of pair i is the closest
    non-matching descriptor of either side, the minimum over row i and
    column i without the diagonal:
    ``n_i = min(min_{j != i} D_ij, min_{j != i} D_ji)``, and

        L = mean_i max(0, margin + D_ii - n_i).

    HardNet builds each batch from distinct 3D points, so every off-diagonal
    entry is a true non-match. When ``labels`` (e.g. the 3D point id of each
    pair) are given, off-diagonal entries of pairs with equal labels are not
    used as negatives either, so a batch that repeats a point (a shuffled or
    distributed sampler) is still correct.

    Args:
        margin (float): Triplet margin. Defaults to 1.0.
        eps (float): Added under the square root of the distances.
        loss_weight (float): Weight of the loss. Defaults to 1.0.

    Shapes:
        anchors, positives: (N, D); labels: (N, ); output: scalar.
    """

    def __init__(self,
                 margin: float = 1.0,
                 eps: float = 1e-6,
                 loss_weight: float = 1.0):
        super().__init__()
        if margin <= 0:
            raise ValueError(f'HardNetLoss: margin must be positive, got '
                             f'{margin!r}')
        self.margin = margin
        self.eps = eps
        self.loss_weight = loss_weight

    def forward(self,
                anchors: torch.Tensor,
                positives: torch.Tensor,
                labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        if anchors.dim() != 2 or anchors.shape != positives.shape:
            raise ValueError(
                'HardNetLoss: anchors and positives must both be (N, D), got '
                f'{tuple(anchors.shape)} and {tuple(positives.shape)}')
        distances = pairwise_l2_distance(anchors, positives, self.eps)
        positive, negative = hardest_in_batch(distances, labels,
                                              type(self).__name__)
        loss = (self.margin + positive - negative).clamp(min=0).mean()
        return self.loss_weight * loss
