"""The Re-ID model for TransReID: cameras to the backbone, no shared neck."""
from contextlib import contextmanager
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmpretrain.structures import DataSample

from mmattn.registry import MODELS
from ..backbones.transreid import TransReID
from .reid import ReID


@MODELS.register_module()
class TransReIDModel(ReID):
    """:class:`ReID` for :class:`TransReID` backbones and
    :class:`TransReIDHead`.

    Differences from :class:`ReID`: there is no neck (the head holds one
    BNNeck per JPM branch); the ``camera_id`` of the data samples (packed
    with ``PackInputs(algorithm_keys=['camera_id', ...])``) goes to every
    ``TransReID`` inside the backbone, also through wrappers such as
    ``AttentionBackbone``, for its side-information embedding; the test
    feature is the head's ``concat(global, local / P)``, L2-normalised.
    Without data samples (``mode='tensor'``) the SIE term is left out.

    Args:
        backbone (dict): ``TransReID`` or a wrapper of it.
        head (dict): Usually :class:`TransReIDHead`.
        test_feature (str): ``'post_bn'`` (default) or ``'pre_bn'``.
        flip_test (bool): Average the features of the image and its mirror.
        use_camera (bool): Pass the camera ids to the backbone.
            Defaults to True.
        auxiliary_losses (list[dict], optional): Losses from the model's
            modules (:mod:`mmattn.models.auxiliary_losses`). Defaults to
            None.
        data_preprocessor (dict, optional): Defaults to mmpretrain's
            ``ClsDataPreprocessor``.
        init_cfg (dict, optional): Initialisation config.

    Shapes:
        inputs: (B, 3, H, W); test features (B, (1 + P) C).
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 test_feature: str = 'post_bn',
                 flip_test: bool = False,
                 use_camera: bool = True,
                 auxiliary_losses: Optional[List[dict]] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if test_feature not in ('post_bn', 'pre_bn'):
            raise ValueError("TransReIDModel: test_feature must be 'post_bn' "
                             f"or 'pre_bn', got {test_feature!r}")
        data_preprocessor = dict(data_preprocessor or {})
        data_preprocessor.setdefault('type', 'ClsDataPreprocessor')
        # ReID.__init__ would build a neck: skip to BaseModel's.
        BaseModel.__init__(
            self, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head)
        self.test_feature = test_feature
        self.flip_test = flip_test
        self.use_camera = use_camera
        self._transreids = [
            m for m in self.backbone.modules() if isinstance(m, TransReID)
        ]
        if not self._transreids:
            raise TypeError('TransReIDModel: the backbone contains no '
                            f'TransReID (got {type(self.backbone).__name__})')
        self.build_auxiliary_losses(auxiliary_losses)

    @staticmethod
    def camera_ids(
            data_samples: Optional[List[DataSample]]
    ) -> Optional[torch.Tensor]:
        """(B, ) camera ids of the samples, None if they have none."""
        if not data_samples or any('camera_id' not in s for s in data_samples):
            return None
        return torch.tensor([
            int(torch.as_tensor(s.camera_id).view(-1)[0]) for s in data_samples
        ])

    @contextmanager
    def _cameras(self, data_samples):
        ids = self.camera_ids(data_samples) if self.use_camera else None
        for module in self._transreids:
            module.set_camera_ids(ids)
        try:
            yield
        finally:
            for module in self._transreids:
                module.set_camera_ids(None)

    def extract_feat(self,
                     inputs: torch.Tensor,
                     data_samples: Optional[List[DataSample]] = None):
        """The backbone's ``1 + P`` features, each (B, C)."""
        with self._cameras(data_samples):
            return self.backbone(inputs)

    def task_loss(self, inputs: torch.Tensor,
                  data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        return self.head.loss(
            self.extract_feat(inputs, data_samples), data_samples)

    def embed(self,
              inputs: torch.Tensor,
              data_samples: Optional[List[DataSample]] = None) -> torch.Tensor:
        """L2-normalised test features (B, (1 + P) C)."""
        feats = self.head.test_feature(
            self.extract_feat(inputs, data_samples), self.test_feature)
        if self.flip_test:
            feats = feats + self.head.test_feature(
                self.extract_feat(inputs.flip(3), data_samples),
                self.test_feature)
        return F.normalize(feats, dim=1)

    def predict_features(
            self,
            inputs: torch.Tensor,
            data_samples: Optional[List[DataSample]] = None) -> torch.Tensor:
        # The camera ids of the samples feed SIE.
        return self.embed(inputs, data_samples)
