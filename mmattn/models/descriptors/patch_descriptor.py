"""The local-descriptor model: patches -> L2-normalised descriptors."""
from typing import Dict, List, Optional

import torch
from mmpretrain.structures import DataSample

from mmattn.registry import MODELS
from ..embedding_model import EmbeddingModel


@MODELS.register_module()
class PatchDescriptor(EmbeddingModel):
    """A patch descriptor network trained on matching pairs (HardNet).

    Every input sample is a stack of P patches. Training takes pairs
    (P = 2, anchor and positive of one 3D point) and returns the pair loss
    (:class:`HardNetLoss`) with each pair's ``point_ids`` as labels, so that
    repeated points in a batch are never used as negatives. Testing sets,
    per sample, ``pred_descriptor`` (P, D) and, for pairs, ``pred_distance``
    (the Euclidean distance of the two descriptors), which
    :class:`FPR95Metric` consumes.

    Args:
        backbone (dict): Descriptor network returning unit-norm (N, D)
            descriptors (a tensor, or a tuple whose last item is one), e.g.
            :class:`L2Net` or ``AttentionBackbone`` around it.
        loss (dict): Pair loss. Defaults to ``dict(type='HardNetLoss')``.
        auxiliary_losses (list[dict], optional): Losses from the model's
            modules (:mod:`mmattn.models.auxiliary_losses`). Defaults to
            None.
        data_preprocessor (dict, optional): Defaults to
            :class:`PatchDataPreprocessor`.
        init_cfg (dict, optional): Initialisation config.

    Shapes:
        inputs: (B, P, C, H, W) -> descriptors (B, P, D).
    """

    def __init__(self,
                 backbone: dict,
                 loss: Optional[dict] = None,
                 auxiliary_losses: Optional[List[dict]] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        data_preprocessor = dict(data_preprocessor or {})
        data_preprocessor.setdefault('type', 'PatchDataPreprocessor')
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.loss_module = MODELS.build(loss or dict(type='HardNetLoss'))
        self.build_auxiliary_losses(auxiliary_losses)

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """Descriptors of a (B, P, C, H, W) stack, as (B, P, D)."""
        if inputs.dim() != 5:
            raise ValueError('PatchDescriptor: expected inputs of (B, P, C, '
                             f'H, W), got {tuple(inputs.shape)}')
        batch, num = inputs.shape[:2]
        out = self.backbone(inputs.flatten(0, 1))
        if isinstance(out, (list, tuple)):
            out = out[-1]
        return out.view(batch, num, -1)

    def task_loss(
        self,
        inputs: torch.Tensor,
        data_samples: Optional[List[DataSample]] = None
    ) -> Dict[str, torch.Tensor]:
        if inputs.dim() != 5 or inputs.shape[1] != 2:
            raise ValueError('PatchDescriptor: training takes pairs, inputs '
                             f'of (B, 2, C, H, W); got {tuple(inputs.shape)}')
        descriptors = self.embed(inputs)
        labels = None
        if data_samples is not None and all('point_ids' in sample
                                            for sample in data_samples):
            labels = torch.stack([
                torch.as_tensor(sample.point_ids)[0] for sample in data_samples
            ]).to(inputs.device)
        loss = self.loss_module(descriptors[:, 0], descriptors[:, 1], labels)
        return dict(loss=loss)

    def predict(
            self,
            inputs: torch.Tensor,
            data_samples: Optional[List[DataSample]] = None
    ) -> List[DataSample]:
        descriptors = self.embed(inputs)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(len(descriptors))]
        for sample, desc in zip(data_samples, descriptors):
            sample.set_field(desc, 'pred_descriptor', field_type='data')
            if desc.shape[0] == 2:
                sample.set_field(
                    (desc[0] - desc[1]).norm(),
                    'pred_distance',
                    field_type='data')
        return data_samples
