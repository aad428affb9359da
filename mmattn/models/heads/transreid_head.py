"""TransReID head: one BNNeck and classifier per JPM branch."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.structures import DataSample

from mmattn.registry import MODELS


@MODELS.register_module()
class TransReIDHead(BaseModule):
    """BNNeck losses over TransReID's global and local features
    (METHODS.md section 7).

    Every branch (global + ``num_parts`` local) has its own BNNeck (a
    BatchNorm1d with the bias frozen at 0) and bias-free classifier. With
    ``L(f) = loss(f_global)`` and ``L_k`` for the local features, each of the
    ID and triplet losses is ``global_weight * L + (1 - global_weight) *
    mean_k L_k`` (0.5 / 0.5 in TransReID); the triplet loss uses the pre-BN
    features, the ID loss the post-BN ones. The test feature is
    ``concat(f_global, f_1 / P, ..., f_P / P)``.

    Args:
        num_classes (int): Number of training identities.
        in_channels (int): Feature dimension C.
        num_parts (int): Local branches P (0: global only). Defaults to 4.
        global_weight (float): Weight of the global branch in each loss.
            Defaults to 0.5.
        loss_id (dict, optional): ID loss; label-smoothed CE by default.
            ``None`` disables it.
        loss_triplet (dict, optional): Triplet loss (batch hard, margin 0.3
            by default). ``None`` disables it.
        init_cfg (dict | list, optional): Initialisation config; classifiers
            std 0.001, BNNecks weight 1 and bias 0 by default.

    Shapes:
        feats: tuple of ``1 + num_parts`` tensors (B, C), global first, as
        returned by :class:`TransReID`.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 num_parts: int = 4,
                 global_weight: float = 0.5,
                 loss_id: Optional[dict] = dict(
                     type='LabelSmoothLoss',
                     label_smooth_val=0.1,
                     loss_weight=1.0),
                 loss_triplet: Optional[dict] = dict(
                     type='TripletLoss', margin=0.3, loss_weight=1.0),
                 init_cfg=[
                     dict(type='Normal', layer='Linear', std=0.001),
                     dict(type='Constant', layer='BatchNorm1d', val=1, bias=0)
                 ]):
        super().__init__(init_cfg=init_cfg)
        if loss_id is None and loss_triplet is None:
            raise ValueError('TransReIDHead: loss_id and loss_triplet are '
                             'both None; configure at least one loss')
        if isinstance(num_parts,
                      bool) or not isinstance(num_parts, int) or num_parts < 0:
            raise ValueError(f'TransReIDHead: num_parts must be an int >= 0, '
                             f'got {num_parts!r}')
        if not 0 <= global_weight <= 1 or (num_parts == 0
                                           and global_weight != 1):
            raise ValueError(
                'TransReIDHead: global_weight must lie in [0, 1] (and be 1 '
                f'without local parts), got {global_weight!r}')
        self.num_classes = num_classes
        self.num_parts = num_parts
        self.global_weight = float(global_weight)
        self.bnnecks = nn.ModuleList(
            nn.BatchNorm1d(in_channels) for _ in range(1 + num_parts))
        for bn in self.bnnecks:
            bn.bias.requires_grad_(False)
        self.classifiers = nn.ModuleList(
            nn.Linear(in_channels, num_classes, bias=False)
            for _ in range(1 + num_parts))
        self.loss_id = MODELS.build(loss_id) if loss_id else None
        self.loss_triplet = MODELS.build(loss_triplet) \
            if loss_triplet else None

    def _check_feats(self, feats: Sequence[torch.Tensor]):
        if not isinstance(feats, (tuple, list)) or len(feats) != \
                1 + self.num_parts:
            got = len(feats) if isinstance(feats, (tuple, list)) else \
                type(feats).__name__
            raise ValueError(
                f'TransReIDHead expects {1 + self.num_parts} features '
                f'(global + num_parts={self.num_parts}), got {got}; match '
                'head.num_parts to the backbone num_parts')

    def post_bn(self, feats: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """The BNNeck outputs of every branch, each (B, C)."""
        self._check_feats(feats)
        return [bn(f) for bn, f in zip(self.bnnecks, feats)]

    def forward(self, feats: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """Identity logits of every branch, each (B, num_classes)."""
        return [fc(f) for fc, f in zip(self.classifiers, self.post_bn(feats))]

    def _combine(self, losses: List[torch.Tensor]) -> torch.Tensor:
        if self.num_parts == 0:
            return losses[0]
        local = torch.stack(losses[1:]).mean()
        return self.global_weight * losses[0] + (1 -
                                                 self.global_weight) * local

    def loss(self, feats: Sequence[torch.Tensor],
             data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        labels = torch.cat([s.gt_label for s in data_samples])
        if labels.numel() and int(labels.max()) >= self.num_classes:
            raise ValueError(
                f'TransReIDHead: identity label {int(labels.max())} >= '
                f'num_classes ({self.num_classes}); set '
                'model.head.num_classes to the number of training '
                'identities')
        self._check_feats(feats)
        losses = {}
        if self.loss_id is not None:
            losses['loss_id'] = self._combine(
                [self.loss_id(logits, labels) for logits in self(feats)])
        if self.loss_triplet is not None:
            losses['loss_triplet'] = self._combine(
                [self.loss_triplet(f, labels) for f in feats])
        return losses

    def test_feature(self,
                     feats: Sequence[torch.Tensor],
                     which: str = 'post_bn') -> torch.Tensor:
        """``concat(global, local_1 / P, ..., local_P / P)``, (B, (1+P) C).

        Args:
            feats: The backbone features.
            which (str): ``'post_bn'`` (BNNeck outputs, TransReID's default)
                or ``'pre_bn'``.
        """
        if which not in ('post_bn', 'pre_bn'):
            raise ValueError("which must be 'post_bn' or 'pre_bn', got "
                             f'{which!r}')
        self._check_feats(feats)
        feats = self.post_bn(feats) if which == 'post_bn' else list(feats)
        parts = [feats[0]] + [f / self.num_parts for f in feats[1:]]
        return torch.cat(parts, dim=1)
