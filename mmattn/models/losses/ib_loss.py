"""The variational Information-Bottleneck bound (IBB) of DCS (seed 001).

METHODS.md section 2, **reconstructed** from the authors' sibling code.
With soft cluster scores ``phi(f)_a = softmax_a(-beta ||f/||f|| - c_a||^2)``
over L2-normalised class centroids ``c_a`` (one per training class), input
scores ``phi_in`` (of a fixed input representation) and output scores
``phi_out`` (of the network's feature), the per-batch bound is::

    L_IBB = mean_i [ sum_a phi_out(i)_a sum_b phi_in(i)_b log phi_in(i)_b
                     - sum_a phi_out(i)_a log Q[a, y_i] ]

with the variational table ``Q[a, y] = mean_{i: y_i = y} phi_out(i)_a``.
The centroids, ``Q`` and the per-sample input scores are recomputed once per
epoch by :class:`mmattn.engine.hooks.IBVariationalHook` (a no-grad pass over
the training set) and handed to :class:`IBBoundLoss` with
:meth:`IBBoundLoss.update_`; the loss itself only looks them up.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmattn.registry import MODELS


def soft_cluster_scores(features: torch.Tensor, centroids: torch.Tensor,
                        beta: float = 1.0) -> torch.Tensor:
    """``phi(f)_a = softmax_a(-beta * ||f / ||f|| - c_a||^2)``.

    Args:
        features (Tensor): (N, D); normalised here.
        centroids (Tensor): (A, D), L2-normalised.
        beta (float): Inverse temperature. Defaults to 1.

    Returns:
        Tensor: (N, A), rows sum to 1.
    """
    f = F.normalize(features, dim=1)
    # ||f - c||^2 = 2 - 2 f.c for unit vectors; computed exactly instead, so
    # centroids that are not exactly unit (an empty class) still work.
    dist = (f.pow(2).sum(1, keepdim=True) - 2 * f @ centroids.t() +
            centroids.pow(2).sum(1)[None, :])
    return torch.softmax(-beta * dist, dim=1)


def class_sums(features: torch.Tensor, labels: torch.Tensor,
               num_classes: int) -> torch.Tensor:
    """Per-class sums of the rows of ``features``: (num_classes, D)."""
    sums = features.new_zeros(num_classes, features.shape[1])
    return sums.index_add_(0, labels, features)


def centroids_from_sums(sums: torch.Tensor) -> torch.Tensor:
    """L2-normalised class means from per-class sums of normalised features
    (the mean's norm does not matter once normalised)."""
    return F.normalize(sums, dim=1)


def mutual_information(joint: torch.Tensor, eps: float = 1e-12) -> float:
    """Mutual information (nats) of the distribution ``joint / joint.sum()``.

    Args:
        joint (Tensor): Non-negative (A, B) soft co-occurrence counts.
    """
    p = joint.double() / joint.sum().double().clamp(min=eps)
    px = p.sum(1, keepdim=True)
    py = p.sum(0, keepdim=True)
    mask = p > 0
    ratio = p[mask] / (px.expand_as(p)[mask] * py.expand_as(p)[mask])
    return float((p[mask] * ratio.log()).sum())


@MODELS.register_module()
class IBBoundLoss(nn.Module):
    """The IB bound loss ``eta * L_IBB`` (METHODS.md section 2).

    The tables it needs are set once per epoch by ``IBVariationalHook``
    (:meth:`update_`); until then, and during the hook's warm-up,
    :attr:`active` is False and a head leaves the term out.

    Args:
        num_classes (int): Training classes; one centroid per class.
        beta (float): Inverse temperature of the soft cluster scores.
            Defaults to 1.
        loss_weight (float): eta. Defaults to 0.1.
        eps (float): Clamp of probabilities before the log. Defaults to 1e-8.

    Attributes:
        output_centroids (Tensor): (num_classes, D) buffer.
        table (Tensor): Q, (num_classes, num_classes) buffer; ``Q[a, y]``,
            each column a distribution over a.
        input_scores (Tensor): (num_samples, num_classes) buffer, phi_in of
            every training sample, indexed by dataset ``sample_idx``.
    """

    def __init__(self,
                 num_classes: int,
                 beta: float = 1.0,
                 loss_weight: float = 0.1,
                 eps: float = 1e-8):
        super().__init__()
        if isinstance(num_classes, bool) or not isinstance(
                num_classes, int) or num_classes < 2:
            raise ValueError('IBBoundLoss: num_classes must be an int >= 2, '
                             f'got {num_classes!r}')
        if not beta > 0 or not loss_weight >= 0:
            raise ValueError('IBBoundLoss: need beta > 0 and loss_weight >= '
                             f'0, got beta={beta!r}, '
                             f'loss_weight={loss_weight!r}')
        self.num_classes = num_classes
        self.beta = float(beta)
        self.loss_weight = float(loss_weight)
        self.eps = eps
        self.active = False
        # Recomputed from the data every epoch, so not saved.
        self.register_buffer('output_centroids', torch.zeros(0),
                             persistent=False)
        self.register_buffer('table', torch.zeros(0), persistent=False)
        self.register_buffer('input_scores', torch.zeros(0),
                             persistent=False)

    @property
    def ready(self) -> bool:
        """Whether the hook has set the tables."""
        return self.table.numel() > 0

    @torch.no_grad()
    def update_(self, output_centroids: torch.Tensor, table: torch.Tensor,
                input_scores: torch.Tensor) -> None:
        """Install this epoch's centroids, Q and input scores.

        Args:
            output_centroids (Tensor): (num_classes, D), L2-normalised.
            table (Tensor): (num_classes, num_classes), columns sum to 1.
            input_scores (Tensor): (num_samples, num_classes), rows sum to 1.
        """
        k = self.num_classes
        if output_centroids.dim() != 2 or output_centroids.shape[0] != k \
                or table.shape != (k, k) or input_scores.dim() != 2 \
                or input_scores.shape[1] != k:
            raise ValueError(
                f'IBBoundLoss.update_: expected centroids ({k}, D), table '
                f'({k}, {k}) and input scores (N, {k}); got '
                f'{tuple(output_centroids.shape)}, {tuple(table.shape)}, '
                f'{tuple(input_scores.shape)}')
        device = self.table.device
        self.output_centroids = output_centroids.detach().float().to(device)
        self.table = table.detach().float().to(device)
        self.input_scores = input_scores.detach().float().to(device)

    def bound(self, phi_out: torch.Tensor, phi_in: torch.Tensor,
              labels: torch.Tensor) -> torch.Tensor:
        """Per-sample ``L_IBB`` terms, (N, ), from the scores."""
        log_in = phi_in.clamp(min=self.eps).log()
        neg_entropy_in = (phi_in * log_in).sum(1)
        log_q = self.table.clamp(min=self.eps).log()[:, labels].t()  # (N, A)
        return phi_out.sum(1) * neg_entropy_in - (phi_out * log_q).sum(1)

    def forward(self, features: torch.Tensor, labels: torch.Tensor,
                sample_idx: torch.Tensor,
                weight: Optional[float] = None) -> torch.Tensor:
        """Args:
            features (Tensor): Output features W, (N, D).
            labels (Tensor): Class labels, (N, ).
            sample_idx (Tensor): Dataset indices of the samples, (N, ).
            weight (float, optional): Overrides ``loss_weight``.

        Returns:
            Tensor: ``weight * mean_i L_IBB(i)``, scalar.
        """
        if not self.ready:
            raise RuntimeError(
                'IBBoundLoss: the centroids and the table Q are not set; add '
                "dict(type='IBVariationalHook') to custom_hooks")
        if int(sample_idx.max()) >= self.input_scores.shape[0]:
            raise ValueError(
                f'IBBoundLoss: sample_idx {int(sample_idx.max())} is outside '
                f'the {self.input_scores.shape[0]} training samples the hook '
                'scored')
        phi_out = soft_cluster_scores(
            features, self.output_centroids.to(features.dtype), self.beta)
        phi_in = self.input_scores[sample_idx].to(features.dtype)
        weight = self.loss_weight if weight is None else weight
        return weight * self.bound(phi_out, phi_in, labels).mean()
