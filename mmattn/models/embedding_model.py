"""The mode dispatch and auxiliary losses shared by the models whose test
output is an embedding."""
from contextlib import ExitStack
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmpretrain.structures import DataSample

from mmattn.registry import MODELS
from .auxiliary_losses import AuxiliaryLoss


class EmbeddingModel(BaseModel):
    """A model that trains with ``loss()`` and tests by embedding inputs
    (Re-ID, face recognition, patch descriptors).

    Subclasses implement ``task_loss(inputs, data_samples)`` and
    ``embed(inputs)`` (``predict`` stores it as each sample's
    ``pred_feature``; override ``predict_features`` or ``predict`` for
    other outputs), and call
    :meth:`build_auxiliary_losses` at the end of their ``__init__``;
    ``forward`` picks one by mmengine's ``mode`` (``'tensor'`` returns the
    embeddings). ``loss()`` is the task loss plus the losses of every
    :class:`mmattn.models.auxiliary_losses.AuxiliaryLoss` (CSA deep
    supervision, StRA mode diversity, ...) the config lists under
    ``auxiliary_losses``.
    """

    def build_auxiliary_losses(self, cfgs: Optional[Sequence[dict]]) -> None:
        """Build ``cfgs`` and bind each to this model (call it once the
        backbone, neck and head exist).

        Args:
            cfgs (list[dict], optional): Configs of
                :class:`AuxiliaryLoss` subclasses.
        """
        self.auxiliary_losses = nn.ModuleList()
        if cfgs is None:
            return
        if isinstance(cfgs, dict) or not isinstance(cfgs, (list, tuple)):
            raise TypeError(
                f'{type(self).__name__}: auxiliary_losses must be a list of '
                f'configs, got {cfgs!r}')
        for cfg in cfgs:
            aux = MODELS.build(cfg)
            if not isinstance(aux, AuxiliaryLoss):
                raise TypeError(
                    f'{type(self).__name__}: auxiliary_losses entry '
                    f'{cfg.get("type")!r} is not an AuxiliaryLoss (e.g. '
                    'AttentionDeepSupervision, StRAModeDiversity)')
            aux.bind(self)
            self.auxiliary_losses.append(aux)

    def loss(self, inputs: torch.Tensor,
             data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        """The task's losses plus the auxiliary losses.

        Raises:
            KeyError: an auxiliary loss has the name of another loss.
        """
        auxiliary = getattr(self, 'auxiliary_losses', [])
        with ExitStack() as stack:
            for aux in auxiliary:
                stack.enter_context(aux.capture())
            losses = self.task_loss(inputs, data_samples)
            for aux in auxiliary:
                for key, value in aux.loss(data_samples).items():
                    if key in losses:
                        raise KeyError(
                            f'{type(self).__name__}: the auxiliary loss '
                            f'{type(aux).__name__} returns {key!r}, which '
                            'the model already has')
                    losses[key] = value
        return losses

    def predict_features(
            self,
            inputs: torch.Tensor,
            data_samples: Optional[List[DataSample]] = None) -> torch.Tensor:
        """The (B, D) test features ``predict`` stores."""
        return self.embed(inputs)

    def predict(
            self,
            inputs: torch.Tensor,
            data_samples: Optional[List[DataSample]] = None
    ) -> List[DataSample]:
        """Each sample with its ``pred_feature`` (D, ) set."""
        feats = self.predict_features(inputs, data_samples)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(len(feats))]
        for sample, feat in zip(data_samples, feats):
            sample.set_field(feat, 'pred_feature', field_type='data')
        return data_samples

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.embed(inputs)
        raise ValueError(f'{type(self).__name__}: invalid mode {mode!r}; '
                         "expected 'loss', 'predict' or 'tensor'")
