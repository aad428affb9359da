"""PCB and refined part pooling (RPP) for Re-ID (Sun et al., ECCV 2018).

PCB cuts the last feature map into P horizontal stripes, pools each stripe
into a part feature, reduces it with a 1x1 conv + BN + ReLU and trains one
identity classifier per part; the test feature concatenates the P part
features. RPP replaces the hard stripes by soft ones: a 1x1 conv part
classifier gives every position a probability of belonging to each part,
and each part feature is the probability-weighted average of the positions.

The pooling is the model's neck (:class:`PartPooling` or
:class:`RefinedPartPooling`), the reduction and classifiers its head
(:class:`PCBHead`), so PCB and PCB-RPP differ by the neck only (see
:class:`mmattn.models.reid.PCBReID`). Seed 002 adds CSA to both.
"""
from typing import Dict, List, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.structures import DataSample

from mmattn.registry import MODELS


def _last_feature_map(feats: Union[torch.Tensor, Sequence[torch.Tensor]],
                      owner: str) -> torch.Tensor:
    """The (B, C, H, W) map of a backbone output (a tensor or the
    mmpretrain tuple of stage outputs, whose last entry is used)."""
    if isinstance(feats, (tuple, list)):
        feats = feats[-1]
    if not isinstance(feats, torch.Tensor) or feats.dim() != 4:
        raise ValueError(f'{owner}: expected a (B, C, H, W) feature map, got '
                         f'{getattr(feats, "shape", type(feats))}')
    return feats


def _check_positive_int(owner: str, **values):
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(
                f'{owner}: {name} must be a positive int, got {value!r}')


@MODELS.register_module()
class PartPooling(BaseModule):
    """PCB's uniform partition: average pooling of P horizontal stripes.

    Args:
        num_parts (int): Number of stripes P. Defaults to 6.
        init_cfg (dict, optional): Initialisation config.

    Shapes:
        feats: (B, C, H, W) (or a tuple ending with it), H divisible by P
        (e.g. 24 x 8 for a 384 x 128 input to a ResNet-50 with last stride
        1) -> (B, C, P), part p being rows ``[p H/P, (p+1) H/P)``.
    """

    def __init__(self, num_parts: int = 6, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        _check_positive_int('PartPooling', num_parts=num_parts)
        self.num_parts = num_parts

    def forward(self, feats) -> torch.Tensor:
        x = _last_feature_map(feats, 'PartPooling')
        b, c, h, w = x.shape
        # Unequal stripes would silently weight parts differently; PCB's
        # input size is chosen so that they are equal.
        if h % self.num_parts != 0:
            raise ValueError(
                f'PartPooling: the feature map height {h} is not divisible '
                f'into num_parts={self.num_parts} stripes; choose an input '
                'height (e.g. 384 with a last-stride-1 ResNet-50) that gives '
                'a multiple of num_parts')
        return x.view(b, c, self.num_parts, h // self.num_parts * w).mean(-1)


@MODELS.register_module()
class RefinedPartPooling(BaseModule):
    """Refined part pooling (RPP): soft part assignment of every position.

    A 1x1 conv part classifier gives logits (B, P, H, W); their softmax over
    the P parts is the probability ``w_p(i)`` that position i belongs to part
    p. Part p pools ``g_p = sum_i w_p(i) f(i) / sum_i w_p(i)``, a weighted
    average, so that a hard stripe assignment gives exactly the stripe means
    of :class:`PartPooling` (Sun et al. average ``w_p(i) f(i)`` over all
    positions, which differs from this by the per-part factor
    ``HW / sum_i w_p(i)``; the weighted mean keeps the scale of the features
    the PCB stage trained the reduction layer on).

    Args:
        in_channels (int): Channels C of the feature map.
        num_parts (int): Number of parts P. Defaults to 6.
        init_cfg (dict, optional): Initialisation config; the part classifier
            starts from N(0, 0.001), i.e. near-uniform probabilities.

    Shapes:
        feats: (B, C, H, W) (or a tuple ending with it) -> (B, C, P).
    """

    def __init__(self,
                 in_channels: int,
                 num_parts: int = 6,
                 init_cfg=dict(type='Normal', layer='Conv2d', std=0.001)):
        super().__init__(init_cfg=init_cfg)
        _check_positive_int(
            'RefinedPartPooling', in_channels=in_channels, num_parts=num_parts)
        self.in_channels = in_channels
        self.num_parts = num_parts
        self.part_classifier = nn.Conv2d(in_channels, num_parts, 1)

    def part_probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """(B, P, H, W) part probabilities; they sum to 1 over P."""
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f'RefinedPartPooling: expected {self.in_channels} channels, '
                f'got {x.shape[1]}')
        return self.part_classifier(x).softmax(dim=1)

    def forward(self, feats) -> torch.Tensor:
        x = _last_feature_map(feats, 'RefinedPartPooling')
        weights = self.part_probabilities(x).flatten(2)  # (B, P, HW)
        pooled = torch.einsum('bpn,bcn->bcp', weights, x.flatten(2))
        return pooled / weights.sum(-1).unsqueeze(1)


@MODELS.register_module()
class PCBHead(BaseModule):
    """PCB head: per-part 1x1 reduction + BN + ReLU and one classifier each.

    Training loss: the sum over parts of the loss of each part classifier
    (cross entropy in PCB). Test feature: the concatenation of the P reduced
    part features (``'reduced'``, PCB's default) or of the P pooled ones
    (``'pooled'``); the model L2-normalises it.

    Args:
        num_classes (int): Number of training identities.
        in_channels (int): Channels C of the pooled part features.
            Defaults to 2048.
        num_parts (int): Number of parts P. Defaults to 6.
        reduced_channels (int): Channels after the reduction. Defaults to
            256.
        share_reduction (bool): One 1x1 conv + BN for all parts (as the PCB
            release applies a 1x1 conv to the P x 1 column of parts);
            ``False`` gives each part its own. Defaults to True.
        test_feature (str): ``'reduced'`` or ``'pooled'``.
        loss (dict): Loss of each part classifier. Defaults to cross
            entropy.
        init_cfg (dict | list, optional): Initialisation config; classifiers
            N(0, 0.001) with zero bias, the reduction conv Kaiming.

    Shapes:
        pooled: (B, C, P) from the part pooling neck; logits: P tensors
        (B, num_classes); test feature (B, P * 256) or (B, P * C).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int = 2048,
                 num_parts: int = 6,
                 reduced_channels: int = 256,
                 share_reduction: bool = True,
                 test_feature: str = 'reduced',
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 init_cfg=(dict(type='Normal', layer='Linear', std=0.001),
                           dict(
                               type='Kaiming', layer='Conv1d',
                               mode='fan_out'))):
        super().__init__(init_cfg=list(init_cfg) if init_cfg else None)
        _check_positive_int(
            'PCBHead',
            num_classes=num_classes,
            in_channels=in_channels,
            num_parts=num_parts,
            reduced_channels=reduced_channels)
        if test_feature not in ('reduced', 'pooled'):
            raise ValueError("PCBHead: test_feature must be 'reduced' or "
                             f"'pooled', got {test_feature!r}")
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.num_parts = num_parts
        self.share_reduction = share_reduction
        self.test_feature = test_feature
        # Parts are the length axis of a 1D conv: kernel 1 shares the
        # weights between parts; the unshared form is a grouped conv over
        # the parts stacked as channels.
        groups = 1 if share_reduction else num_parts
        channels = (in_channels, reduced_channels) if share_reduction else (
            in_channels * num_parts, reduced_channels * num_parts)
        self.reduction = nn.Sequential(
            nn.Conv1d(*channels, 1, groups=groups, bias=False),
            nn.BatchNorm1d(channels[1]), nn.ReLU(inplace=True))
        self.classifiers = nn.ModuleList(
            nn.Linear(reduced_channels, num_classes) for _ in range(num_parts))
        self.loss_module = MODELS.build(loss)

    def reduce(self, pooled: torch.Tensor) -> torch.Tensor:
        """(B, C, P) pooled parts -> (B, reduced_channels, P)."""
        if pooled.dim() != 3 or pooled.shape[1:] != (self.in_channels,
                                                     self.num_parts):
            raise ValueError(f'PCBHead: expected pooled parts of shape (B, '
                             f'{self.in_channels}, {self.num_parts}), got '
                             f'{tuple(pooled.shape)}')
        if self.share_reduction:
            return self.reduction(pooled)
        b = pooled.shape[0]
        # (B, C, P) -> (B, P * C, 1): part p's channels form group p.
        stacked = pooled.transpose(1, 2).reshape(b, -1, 1)
        return self.reduction(stacked).view(b, self.num_parts,
                                            -1).transpose(1, 2)

    def forward(self, pooled: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Logits of each part classifier, P tensors (B, num_classes)."""
        reduced = self.reduce(pooled)
        return tuple(
            classifier(reduced[:, :, p])
            for p, classifier in enumerate(self.classifiers))

    def loss(self, pooled: torch.Tensor,
             data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        """``{'loss_pcb': sum over parts of the part classifier losses}``."""
        labels = torch.cat([s.gt_label for s in data_samples])
        if labels.numel() and int(labels.max()) >= self.num_classes:
            raise ValueError(
                f'PCBHead: identity label {int(labels.max())} >= num_classes '
                f'({self.num_classes}); set model.head.num_classes to the '
                'number of training identities')
        labels = labels.to(pooled.device)
        return {
            'loss_pcb':
            sum(self.loss_module(logits, labels) for logits in self(pooled))
        }

    def test_features(self, pooled: torch.Tensor) -> torch.Tensor:
        """Concatenated part features, (B, P * D), not normalised."""
        parts = self.reduce(pooled) if self.test_feature == 'reduced' \
            else pooled
        # Part-major order: [part 1 | part 2 | ...].
        return parts.transpose(1, 2).flatten(1)
