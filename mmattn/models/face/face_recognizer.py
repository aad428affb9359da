"""The face recognition model: backbone -> embedding neck -> margin head."""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmattn.registry import MODELS
from ..embedding_model import EmbeddingModel


@MODELS.register_module()
class FaceRecognizer(EmbeddingModel):
    """Face recognition model (seed 003 section 5.2).

    Training: backbone -> :class:`FaceEmbeddingNeck` -> a face head
    (:class:`SoftmaxFaceHead`, :class:`CosFaceHead` or :class:`ArcFaceHead`),
    plus the ``auxiliary_losses``, e.g. the StRA diversity loss on the mode
    masks of every StRA block of the backbone
    (``dict(type='StRAModeDiversity')``, key ``loss_diversity``).
    Testing: the embeddings of the image and of its horizontal flip are
    concatenated and L2-normalised (a (B, 2D) ``pred_feature`` per sample),
    which :class:`FaceVerificationMetric` compares by cosine similarity.

    Args:
        backbone (dict): Backbone config, e.g. ``AttentionBackbone`` wrapping
            ResNet-50 with StRA in ``layer4.*.conv2``.
        neck (dict): Usually :class:`FaceEmbeddingNeck`.
        head (dict): A face head config.
        auxiliary_losses (list[dict], optional): E.g.
            ``[dict(type='StRAModeDiversity', loss=dict(type='DiversityLoss',
            loss_weight=0.1))]`` (seed 003's face weight; needs StRA blocks
            with mode attention). Defaults to None.
        flip_test (bool): Concatenate the flipped image's embedding at test
            time. Defaults to True.
        data_preprocessor (dict, optional): Defaults to mmpretrain's
            ``ClsDataPreprocessor``.
        init_cfg (dict, optional): Initialisation config.

    Shapes:
        inputs: (B, 3, H, W); embeddings (B, D); test features (B, 2D).
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 auxiliary_losses: Optional[List[dict]] = None,
                 flip_test: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        data_preprocessor = dict(data_preprocessor or {})
        data_preprocessor.setdefault('type', 'ClsDataPreprocessor')
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck)
        self.head = MODELS.build(head)
        self.flip_test = flip_test
        self.build_auxiliary_losses(auxiliary_losses)

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """Backbone + neck: the embedding (B, D)."""
        feats = self.neck(self.backbone(inputs))
        return feats[-1] if isinstance(feats, (tuple, list)) else feats

    def task_loss(self, inputs: torch.Tensor,
                  data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        return self.head.loss(self.extract_feat(inputs), data_samples)

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """L2-normalised test features: (B, 2D) with ``flip_test``, else
        (B, D)."""
        feats = self.extract_feat(inputs)
        if self.flip_test:
            feats = torch.cat([feats, self.extract_feat(inputs.flip(3))],
                              dim=1)
        return F.normalize(feats, dim=1)
