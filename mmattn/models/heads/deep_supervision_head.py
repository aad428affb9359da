"""Deep-supervision branch of CSA (seed 002, eq. 8 and figure 4)."""
from typing import Dict, List, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.structures import DataSample

from mmattn.registry import MODELS


@MODELS.register_module()
class CSADeepSupervisionHead(BaseModule):
    """Auxiliary classifier on the output of one attention module.

    The branch is global average pooling -> fully connected -> cross entropy
    on the identity labels. With N branches (one per CSA module) the model's
    total loss is ``L_main + lambda * sum_i L_aux_i`` (paper eq. 8), lambda
    being ``loss_weight`` (1.0 in the paper). At test time the branch is not
    used.

    Args:
        in_channels (int): Channels C of the supervised feature map.
        num_classes (int): Number of training classes (identities).
        loss_weight (float): lambda of eq. 8. Defaults to 1.0.
        init_cfg (dict, optional): Initialisation config; the classifier is
            initialised with std 0.001 like the Re-ID classifiers.

    Shapes:
        feats: (B, C, H, W) or (B, C), or a tuple whose last element is one
        of these (the mmpretrain neck/backbone convention).
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 loss_weight: float = 1.0,
                 init_cfg: dict = dict(
                     type='Normal', layer='Linear', std=0.001)):
        super().__init__(init_cfg=init_cfg)
        if in_channels < 1 or num_classes < 1:
            raise ValueError(
                'CSADeepSupervisionHead: in_channels and num_classes must be '
                f'positive, got {in_channels} and {num_classes}')
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.loss_weight = loss_weight
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(
            self, feats: Union[torch.Tensor,
                               Tuple[torch.Tensor]]) -> torch.Tensor:
        """Class logits (B, num_classes)."""
        if isinstance(feats, (tuple, list)):
            feats = feats[-1]
        if feats.dim() == 4:
            feats = feats.mean(dim=(2, 3))
        if feats.dim() != 2 or feats.shape[1] != self.in_channels:
            raise ValueError(
                f'CSADeepSupervisionHead: expected features with '
                f'{self.in_channels} channels, got shape {tuple(feats.shape)}')
        return self.fc(feats)

    def loss(
        self, feats: Union[torch.Tensor, Tuple[torch.Tensor]],
        data_samples: Union[List[DataSample], Sequence[int], torch.Tensor]
    ) -> Dict[str, torch.Tensor]:
        """Weighted cross entropy ``{'loss_ds': lambda * CE}``.

        Args:
            feats: See the class docstring.
            data_samples: Data samples carrying ``gt_label``, or the labels
                themselves as a (B,) tensor.
        """
        if isinstance(data_samples, torch.Tensor):
            labels = data_samples
        else:
            labels = torch.cat([s.gt_label for s in data_samples])
        logits = self(feats)
        labels = labels.to(logits.device).long()
        if labels.numel() and int(labels.max()) >= self.num_classes:
            raise ValueError(
                f'CSADeepSupervisionHead: label {int(labels.max())} >= '
                f'num_classes ({self.num_classes})')
        return {'loss_ds': self.loss_weight * F.cross_entropy(logits, labels)}
