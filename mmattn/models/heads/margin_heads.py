"""Face recognition classification heads: softmax, CosFace and ArcFace.

All three map a face embedding (B, D) to class logits and train them with
cross entropy; the margin heads differ only in how the target logit is
penalised (seed 003 section 5.2 trains with each of them):

* :class:`SoftmaxFaceHead`: ``W x + b``, plain softmax loss.
* :class:`CosFaceHead` (Wang et al. 2018, large margin cosine loss):
  ``s * (cos(theta_j) - m * 1[j = y])``.
* :class:`ArcFaceHead` (Deng et al. 2019, additive angular margin):
  ``s * cos(theta_y + m)`` for the target, ``s * cos(theta_j)`` otherwise.

Here ``cos(theta_j)`` is the cosine between the embedding and the j-th
class weight (both L2-normalised). At test time only the embedding is used.
"""
import math
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmattn.registry import MODELS


def _labels_of(data_samples, device) -> torch.Tensor:
    """The ``gt_label`` of each data sample as a (B,) long tensor."""
    if not data_samples or not all('gt_label' in s for s in data_samples):
        raise ValueError('face head: every data sample needs a gt_label '
                         '(the identity index from the training dataset)')
    return torch.cat([s.gt_label.view(-1)[:1]
                      for s in data_samples]).long().to(device)


class BaseFaceHead(BaseModule, metaclass=ABCMeta):
    """Logits + cross entropy for a face embedding.

    Subclasses implement :meth:`logits` (the training logits, with the
    margin applied to the target class when ``labels`` is given).

    Args:
        num_classes (int): Training identities.
        in_channels (int): Embedding size D. Defaults to 512.
        loss_weight (float): Weight of the cross entropy. Defaults to 1.0.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int = 512,
                 loss_weight: float = 1.0,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        for key, value in (('num_classes', num_classes), ('in_channels',
                                                          in_channels)):
            if not isinstance(value, int) or isinstance(value, bool) \
                    or value < 1:
                raise ValueError(f'{name}: {key} must be a positive int, '
                                 f'got {value!r}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.loss_weight = loss_weight

    @abstractmethod
    def logits(self,
               feats: torch.Tensor,
               labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        """(B, D) embeddings -> (B, num_classes) logits; with ``labels``
        (B,) the margin is applied to each sample's target class."""

    def _embedding(self, feats) -> torch.Tensor:
        # Accept a neck's tuple output as mmpretrain heads do.
        if isinstance(feats, (tuple, list)):
            feats = feats[-1]
        if feats.dim() != 2 or feats.shape[1] != self.in_channels:
            raise ValueError(
                f'{type(self).__name__}: expected embeddings of shape '
                f'(B, {self.in_channels}), got {tuple(feats.shape)}')
        return feats

    def forward(self, feats) -> torch.Tensor:
        """Logits without margin, (B, num_classes)."""
        return self.logits(self._embedding(feats))

    def loss(self, feats, data_samples: List) -> Dict[str, torch.Tensor]:
        """Cross entropy on the margin logits, plus top-1 training accuracy
        (on the logits without margin, for the log only)."""
        feats = self._embedding(feats)
        labels = _labels_of(data_samples, feats.device)
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise ValueError(
                f'{type(self).__name__}: labels must be in [0, '
                f'{self.num_classes}), got [{int(labels.min())}, '
                f'{int(labels.max())}]; check num_classes against the '
                'number of training identities')
        logits = self.logits(feats, labels)
        loss = F.cross_entropy(logits, labels) * self.loss_weight
        with torch.no_grad():
            plain = self.logits(feats)
            accuracy = (plain.argmax(1) == labels).float().mean() * 100
        return dict(loss_cls=loss, accuracy_top1=accuracy)


@MODELS.register_module()
class SoftmaxFaceHead(BaseFaceHead):
    """A linear classifier with bias and the plain softmax loss.

    Args: see :class:`BaseFaceHead`.
    """

    def __init__(self, num_classes: int, in_channels: int = 512, **kwargs):
        super().__init__(num_classes, in_channels, **kwargs)
        self.fc = nn.Linear(in_channels, num_classes)

    def logits(self, feats, labels=None):
        return self.fc(feats)


class CosineFaceHead(BaseFaceHead, metaclass=ABCMeta):
    """Shared part of the margin heads: a bias-free weight (num_classes, D)
    and the scaled cosine logits ``s * cos(theta)``.

    Args:
        scale (float): Feature scale s.
        margin (float): The margin m (cosine or angular).
        **kwargs: See :class:`BaseFaceHead`.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int = 512,
                 scale: float = 64.0,
                 margin: float = 0.35,
                 **kwargs):
        super().__init__(num_classes, in_channels, **kwargs)
        name = type(self).__name__
        if not scale > 0:
            raise ValueError(f'{name}: scale must be > 0, got {scale!r}')
        if not 0 <= margin < 1:
            raise ValueError(f'{name}: margin must be in [0, 1), '
                             f'got {margin!r}')
        self.scale = float(scale)
        self.margin = float(margin)
        self.weight = nn.Parameter(torch.empty(num_classes, in_channels))
        nn.init.normal_(self.weight, std=0.01)

    def cosine(self, feats: torch.Tensor) -> torch.Tensor:
        """cos(theta) between embeddings and class weights, (B, classes)."""
        return F.linear(
            F.normalize(feats, dim=1), F.normalize(self.weight, dim=1))

    @abstractmethod
    def target_cosine(self, cosine: torch.Tensor) -> torch.Tensor:
        """The margin-penalised target cosine, same shape as ``cosine``."""

    def logits(self, feats, labels=None):
        cosine = self.cosine(feats)
        if labels is not None:
            target = F.one_hot(labels, self.num_classes).bool()
            cosine = torch.where(target, self.target_cosine(cosine), cosine)
        return self.scale * cosine


@MODELS.register_module()
class CosFaceHead(CosineFaceHead):
    """Large margin cosine loss: target logit ``s * (cos(theta_y) - m)``.

    Args:
        num_classes (int): Training identities.
        in_channels (int): Embedding size. Defaults to 512.
        scale (float): s. Defaults to 64 (CosFace paper); seed 003's face
            configs use 20.
        margin (float): m. Defaults to 0.35 (CosFace paper); seed 003 uses
            0.2.
        loss_weight (float): Defaults to 1.0.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int = 512,
                 scale: float = 64.0,
                 margin: float = 0.35,
                 **kwargs):
        super().__init__(
            num_classes, in_channels, scale=scale, margin=margin, **kwargs)

    def target_cosine(self, cosine):
        return cosine - self.margin


@MODELS.register_module()
class ArcFaceHead(CosineFaceHead):
    """Additive angular margin loss: target logit ``s * cos(theta_y + m)``.

    ``theta + m`` can leave ``[0, pi]`` where cos stops decreasing in theta.
    With ``easy_margin`` the margin only applies where ``cos(theta) > 0``;
    otherwise (ArcFace's default) where ``theta + m > pi``, i.e.
    ``cos(theta) <= cos(pi - m)``, the target becomes the CosFace-like
    ``cos(theta) - m * sin(m)``, which keeps the logit monotonic in theta.

    Args:
        num_classes (int): Training identities.
        in_channels (int): Embedding size. Defaults to 512.
        scale (float): s. Defaults to 64 (ArcFace paper); seed 003's face
            configs use 20.
        margin (float): m in radians. Defaults to 0.5 (ArcFace paper);
            seed 003 uses 0.15.
        easy_margin (bool): See above. Defaults to False.
        loss_weight (float): Defaults to 1.0.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int = 512,
                 scale: float = 64.0,
                 margin: float = 0.5,
                 easy_margin: bool = False,
                 **kwargs):
        super().__init__(
            num_classes, in_channels, scale=scale, margin=margin, **kwargs)
        self.easy_margin = easy_margin
        self.cos_m = math.cos(self.margin)
        self.sin_m = math.sin(self.margin)
        self.threshold = math.cos(math.pi - self.margin)
        self.fallback = math.sin(math.pi - self.margin) * self.margin

    def target_cosine(self, cosine):
        # The clamp keeps sqrt's gradient finite at |cos| = 1.
        sine = (1.0 - cosine.pow(2)).clamp(min=1e-12).sqrt()
        shifted = cosine * self.cos_m - sine * self.sin_m  # cos(theta + m)
        if self.easy_margin:
            return torch.where(cosine > 0, shifted, cosine)
        return torch.where(cosine > self.threshold, shifted,
                           cosine - self.fallback)
