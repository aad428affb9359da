"""Re-ID head: ID loss on the post-BN feature, triplet loss on the pre-BN
one."""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.structures import DataSample

from mmattn.registry import MODELS


@MODELS.register_module()
class ReIDHead(BaseModule):
    """BNNeck-style Re-ID losses.

    Args:
        num_classes (int): Number of training identities.
        in_channels (int): Feature dimension D.
        loss_id (dict, optional): ID loss on the logits of a bias-free linear
            classifier over the post-BN feature; label-smoothed CE by
            default. ``None`` disables it.
        loss_triplet (dict, optional): Metric loss on the pre-BN feature;
            batch-hard triplet with margin 0.3 by default (``margin=None``
            for the soft margin). ``None`` disables it.
        init_cfg (dict, optional): Initialisation config; the classifier is
            initialised with std 0.001 as in BNNeck.

    Shapes:
        feats: ``(pre_bn, post_bn)``, each (B, D), from :class:`BNNeck`.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 loss_id: Optional[dict] = dict(
                     type='LabelSmoothLoss',
                     label_smooth_val=0.1,
                     loss_weight=1.0),
                 loss_triplet: Optional[dict] = dict(
                     type='TripletLoss', margin=0.3, loss_weight=1.0),
                 init_cfg: Optional[dict] = dict(
                     type='Normal', layer='Linear', std=0.001)):
        super().__init__(init_cfg=init_cfg)
        if loss_id is None and loss_triplet is None:
            raise ValueError('ReIDHead: loss_id and loss_triplet are both '
                             'None; configure at least one loss')
        self.num_classes = num_classes
        self.classifier = nn.Linear(in_channels, num_classes, bias=False)
        self.loss_id = MODELS.build(loss_id) if loss_id else None
        self.loss_triplet = MODELS.build(
            loss_triplet) if loss_triplet else None

    def forward(self, feats: Tuple[torch.Tensor,
                                   torch.Tensor]) -> torch.Tensor:
        """Identity logits (B, num_classes) of the post-BN feature."""
        return self.classifier(feats[1])

    def loss(self, feats: Tuple[torch.Tensor, torch.Tensor],
             data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        labels = torch.cat([s.gt_label for s in data_samples])
        if labels.numel() and int(labels.max()) >= self.num_classes:
            raise ValueError(
                f'ReIDHead: identity label {int(labels.max())} >= num_classes '
                f'({self.num_classes}); set model.head.num_classes to the '
                'number of training identities')
        losses = {}
        if self.loss_id is not None:
            # Mixup (ReIDDataPreprocessor) leaves soft scores (B, classes):
            # the ID loss learns them, the triplet the dominant identity.
            target = torch.stack([s.gt_score for s in data_samples]) \
                if 'gt_score' in data_samples[0] else labels
            losses['loss_id'] = self.loss_id(self(feats), target)
        if self.loss_triplet is not None:
            losses['loss_triplet'] = self.loss_triplet(feats[0], labels)
        return losses
