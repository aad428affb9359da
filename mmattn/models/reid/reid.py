"""The Re-ID model: backbone -> neck -> head, like mmpretrain's
ImageClassifier."""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmattn.registry import MODELS
from ..embedding_model import EmbeddingModel


@MODELS.register_module()
class ReID(EmbeddingModel):
    """Person re-identification model.

    Training returns the head's losses (ID + triplet by default). Testing
    returns, per image, an L2-normalised ``pred_feature``, plus the
    identity, camera and query flag packed by the pipeline, which is what
    :class:`ReIDMetric` consumes.

    Args:
        backbone (dict): Any backbone config (stock mmpretrain, or
            ``AttentionBackbone`` wrapping one with attention modules).
        neck (dict): Usually :class:`BNNeck`.
        head (dict): Usually :class:`ReIDHead`.
        test_feature (str): ``'post_bn'`` (default, BNNeck) or ``'pre_bn'``.
        flip_test (bool): Average the features of the image and its
            horizontal flip before normalising.
        auxiliary_losses (list[dict], optional): Losses from the model's
            modules, e.g. ``[dict(type='StRAModeDiversity')]`` for StRA or
            ``[dict(type='AttentionDeepSupervision', head=...)]`` for CSA
            (:mod:`mmattn.models.auxiliary_losses`). Defaults to None.
        data_preprocessor (dict, optional): Defaults to mmpretrain's
            ``ClsDataPreprocessor``.
        init_cfg (dict, optional): Initialisation config.

    Shapes:
        inputs: (B, 3, H, W); features: (B, D).
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 test_feature: str = 'post_bn',
                 flip_test: bool = False,
                 auxiliary_losses: Optional[List[dict]] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if test_feature not in ('post_bn', 'pre_bn'):
            raise ValueError("ReID: test_feature must be 'post_bn' or "
                             f"'pre_bn', got {test_feature!r}")
        data_preprocessor = dict(data_preprocessor or {})
        data_preprocessor.setdefault('type', 'ClsDataPreprocessor')
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck)
        self.head = MODELS.build(head)
        self.test_feature = test_feature
        self.flip_test = flip_test
        self.build_auxiliary_losses(auxiliary_losses)

    def extract_feat(self, inputs: torch.Tensor):
        """Backbone + neck: ``(pre_bn, post_bn)`` features, each (B, D)."""
        return self.neck(self.backbone(inputs))

    def task_loss(self, inputs: torch.Tensor,
                  data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        return self.head.loss(self.extract_feat(inputs), data_samples)

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """L2-normalised test features (B, D)."""
        index = 1 if self.test_feature == 'post_bn' else 0
        feats = self.extract_feat(inputs)[index]
        if self.flip_test:
            feats = feats + self.extract_feat(inputs.flip(3))[index]
        return F.normalize(feats, dim=1)
