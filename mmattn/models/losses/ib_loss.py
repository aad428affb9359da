"""The variational Information-Bottleneck bound (IBB) of DCS (seed 001).

METHODS.md section 2, **reconstructed** from the authors' sibling code.
With soft cluster scores ``phi(f)_a = softmax_a(-beta ||f/||f|| - c_a||^2)``
over L2-normalised class centroids ``c_a`` (one per training class), input
scores ``phi_in`` (of a fixed input representation) and output scores
``phi_out`` (of the network's feature), the per-batch bound is::

    L_IBB = mean_i [ sum_a phi_out(i)_a sum_b phi_in(i)_b log phi_in(i)_b
                     - sum_a phi_out(i)_a log Q[a, y_i] ]

with the variational table ``Q[a, y] = mean_{i: y_i = y} phi_out(i)_a``
(``bound='reconstructed'``, the default). Its first part is
``-H(phi_in(i))`` (``sum_a phi_out(i)_a = 1``): constant in the network, and
the whole is not an upper bound of the IB that the hook logs once classes
are imbalanced.

``bound='separable'`` is a per-sample bound that provably holds::

    L_sep = mean_i [ sum_a phi_out(i)_a log phi_out(i)_a
                     - sum_a phi_out(i)_a log Q[a, y_i] ]
          = mean_i KL(phi_out(i) || Q[:, y_i])  >=  I(X;W) - I(W;Y).

Derivation. The logged quantities are those of one joint distribution over
the sample ``i`` (uniform over the N training samples), its label ``y_i``,
an input cluster ``b ~ phi_in(i)`` and an output cluster ``a ~ phi_out(i)``
drawn independently given ``i``: ``P(b, a) = 1/N sum_i phi_in(i)_b
phi_out(i)_a`` and ``P(a, y) = 1/N sum_{i: y_i = y} phi_out(i)_a``.

1. ``I(X;W) <= I(i;W)`` by the log-sum inequality
   ``sum_i u_i log(u_i / v_i) >= (sum_i u_i) log(sum_i u_i / sum_i v_i)``
   with ``u_i = phi_in(i)_b phi_out(i)_a / N`` and
   ``v_i = phi_in(i)_b P(a) / N`` (so ``sum_i u_i = P(b, a)``,
   ``sum_i v_i = P(b) P(a)``), summed over (b, a):
   ``I(X;W) <= 1/N sum_i sum_a phi_out(i)_a log(phi_out(i)_a / P(a))
   = H(W) - H(W|i)`` (``sum_b phi_in(i)_b = 1`` removes b).
2. ``I(W;Y) = H(W) - H(W|Y) >= H(W) + 1/N sum_i sum_a phi_out(i)_a
   log Q[a, y_i]`` for any columns ``Q[:, y]`` that are distributions,
   because the cross-entropy of ``P(a|y)`` against ``Q[:, y]`` is at least
   its entropy (the gap is ``E_y KL(P(.|y) || Q[:, y])``).
3. Subtracting, ``H(W)`` (the only non-separable term) cancels:
   ``I(X;W) - I(W;Y) <= -H(W|i) - 1/N sum_i sum_a phi_out(i)_a
   log Q[a, y_i] = L_sep``. Equality needs ``I(X;W) = I(i;W)`` and
   ``Q[:, y] = P(.|y)``.

The bound holds for every Q; the clamped table is renormalised so that its
columns stay distributions. Unlike the reconstructed form its first term
``-H(phi_out(i))`` depends on the network (see docs/user_guides/ib_bound.md).

The centroids, ``Q`` and the per-sample input scores are recomputed once per
epoch by :class:`mmattn.engine.hooks.IBVariationalHook` (a no-grad pass over
the training set, or the statistics of the epoch's training forward passes)
and handed to :class:`IBBoundLoss` with :meth:`IBBoundLoss.update_`; the
loss itself only looks them up.
"""
from typing import Callable, Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmattn.registry import MODELS

BOUNDS = ('reconstructed', 'separable')


def soft_cluster_logits(features: torch.Tensor,
                        centroids: torch.Tensor,
                        beta: float = 1.0) -> torch.Tensor:
    """``-beta * ||f / ||f|| - c_a||^2``, the logits of
    :func:`soft_cluster_scores`: (N, A)."""
    f = F.normalize(features, dim=1)
    # ||f - c||^2 = 2 - 2 f.c for unit vectors; computed exactly instead, so
    # centroids that are not exactly unit (an empty class) still work.
    dist = (
        f.pow(2).sum(1, keepdim=True) - 2 * f @ centroids.t() +
        centroids.pow(2).sum(1)[None, :])
    return -beta * dist


def soft_cluster_scores(features: torch.Tensor,
                        centroids: torch.Tensor,
                        beta: float = 1.0) -> torch.Tensor:
    """``phi(f)_a = softmax_a(-beta * ||f / ||f|| - c_a||^2)``.

    Args:
        features (Tensor): (N, D); normalised here.
        centroids (Tensor): (A, D), L2-normalised.
        beta (float): Inverse temperature. Defaults to 1.

    Returns:
        Tensor: (N, A), rows sum to 1.
    """
    return torch.softmax(soft_cluster_logits(features, centroids, beta), dim=1)


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
        bound (str): The form that is trained: ``'reconstructed'`` (METHODS.md
            section 2, the authors' sibling code; default) or
            ``'separable'`` (``mean_i KL(phi_out(i) || Q[:, y_i])``, an upper
            bound of ``I(X;W) - I(W;Y)``; derivation in the module
            docstring). Both are computed for the log.

    Attributes:
        output_centroids (Tensor): (num_classes, D) buffer.
        table (Tensor): Q, (num_classes, num_classes) buffer; ``Q[a, y]``,
            each column a distribution over a.
        input_scores (Tensor): (num_samples, num_classes) buffer, phi_in of
            every training sample, indexed by dataset ``sample_idx``.
        recorder (callable, optional): Set by ``IBVariationalHook`` while it
            gathers an epoch's statistics from the training forward passes;
            :meth:`observe` hands it every batch's ``(W, labels,
            sample_idx)``.
    """

    def __init__(self,
                 num_classes: int,
                 beta: float = 1.0,
                 loss_weight: float = 0.1,
                 eps: float = 1e-8,
                 bound: str = 'reconstructed'):
        super().__init__()
        if isinstance(
                num_classes,
                bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError('IBBoundLoss: num_classes must be an int >= 2, '
                             f'got {num_classes!r}')
        if not beta > 0 or not loss_weight >= 0:
            raise ValueError('IBBoundLoss: need beta > 0 and loss_weight >= '
                             f'0, got beta={beta!r}, '
                             f'loss_weight={loss_weight!r}')
        if bound not in BOUNDS:
            raise ValueError(f'IBBoundLoss: bound must be one of {BOUNDS}, '
                             f'got {bound!r}')
        self.num_classes = num_classes
        self.beta = float(beta)
        self.loss_weight = float(loss_weight)
        self.eps = eps
        self.bound_form = bound
        self.active = False
        self.recorder: Optional[Callable] = None
        # Recomputed from the data every epoch (or restored by the hook from
        # its own checkpoint entry), so not part of the state dict.
        self.register_buffer(
            'output_centroids', torch.zeros(0), persistent=False)
        self.register_buffer('table', torch.zeros(0), persistent=False)
        self.register_buffer('input_scores', torch.zeros(0), persistent=False)

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

    def observe(self, features: torch.Tensor, labels: torch.Tensor,
                sample_idx: torch.Tensor) -> None:
        """Hand a training batch's W to the hook's recorder, if one is set.

        Args:
            features (Tensor): W, (N, D); detached here.
            labels (Tensor): (N, ).
            sample_idx (Tensor): Dataset indices, (N, ).
        """
        if self.recorder is not None:
            self.recorder(features.detach(), labels, sample_idx)

    def bounds(
            self,
            phi_out: torch.Tensor,
            phi_in: torch.Tensor,
            labels: torch.Tensor,
            log_phi_out: Optional[torch.Tensor] = None
    ) -> Dict[str, torch.Tensor]:
        """Per-sample terms of both forms, each (N, ).

        Args:
            phi_out (Tensor): Output scores, (N, A).
            phi_in (Tensor): Input scores, (N, A).
            labels (Tensor): (N, ).
            log_phi_out (Tensor, optional): ``log phi_out`` (a
                ``log_softmax``, exact where ``phi_out`` underflows);
                computed from the clamped scores when not given.

        Returns:
            dict: ``reconstructed`` and ``separable``.
        """
        log_in = phi_in.clamp(min=self.eps).log()
        neg_entropy_in = (phi_in * log_in).sum(1)
        log_q = self.table.clamp(min=self.eps).log()[:, labels].t()  # (N, A)
        cross_entropy = (phi_out * log_q).sum(1)
        # The separable bound needs columns that are distributions: the
        # clamped ones are renormalised (the reconstructed form keeps
        # today's plain clamp).
        q = self.table.clamp(min=self.eps)
        log_q_dist = (q / q.sum(0, keepdim=True)).log()[:, labels].t()
        if log_phi_out is None:
            log_phi_out = phi_out.clamp(
                min=torch.finfo(phi_out.dtype).tiny).log()
        neg_entropy_out = (phi_out * log_phi_out).sum(1)
        return dict(
            reconstructed=phi_out.sum(1) * neg_entropy_in - cross_entropy,
            separable=neg_entropy_out - (phi_out * log_q_dist).sum(1))

    def bound(self,
              phi_out: torch.Tensor,
              phi_in: torch.Tensor,
              labels: torch.Tensor,
              log_phi_out: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Per-sample terms of the trained form (``bound``), (N, )."""
        return self.bounds(phi_out, phi_in, labels,
                           log_phi_out)[self.bound_form]

    def _check_ready(self, sample_idx: torch.Tensor) -> None:
        if not self.ready:
            raise RuntimeError(
                'IBBoundLoss: the centroids and the table Q are not set; add '
                "dict(type='IBVariationalHook') to custom_hooks")
        if int(sample_idx.max()) >= self.input_scores.shape[0]:
            raise ValueError(
                f'IBBoundLoss: sample_idx {int(sample_idx.max())} is outside '
                f'the {self.input_scores.shape[0]} training samples the hook '
                'scored')

    def batch_bounds(self, features: torch.Tensor, labels: torch.Tensor,
                     sample_idx: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Mean of both forms over a batch (no ``eta``), for the log.

        Args:
            features (Tensor): W, (N, D).
            labels (Tensor): (N, ).
            sample_idx (Tensor): (N, ).

        Returns:
            dict: ``reconstructed`` and ``separable``, scalars, with the
            gradient of the features.
        """
        self._check_ready(sample_idx)
        logits = soft_cluster_logits(features,
                                     self.output_centroids.to(features.dtype),
                                     self.beta)
        phi_in = self.input_scores[sample_idx].to(features.dtype)
        terms = self.bounds(
            logits.softmax(1), phi_in, labels, logits.log_softmax(1))
        return {key: value.mean() for key, value in terms.items()}

    def forward(self,
                features: torch.Tensor,
                labels: torch.Tensor,
                sample_idx: torch.Tensor,
                weight: Optional[float] = None) -> torch.Tensor:
        """Args:
            features (Tensor): Output features W, (N, D).
            labels (Tensor): Class labels, (N, ).
            sample_idx (Tensor): Dataset indices of the samples, (N, ).
            weight (float, optional): Overrides ``loss_weight``.

        Returns:
            Tensor: ``weight * mean_i L_IBB(i)`` of the trained form,
            scalar.
        """
        weight = self.loss_weight if weight is None else weight
        return weight * self.batch_bounds(features, labels,
                                          sample_idx)[self.bound_form]
