"""PCB / PCB-RPP Re-ID model (seed 002, figure 4)."""
from typing import List, Optional

import torch
import torch.nn.functional as F

from mmattn.registry import MODELS
from .reid import ReID


@MODELS.register_module()
class PCBReID(ReID):
    """Part-based Re-ID: backbone -> part pooling neck -> :class:`PCBHead`.

    The neck is :class:`PartPooling` (PCB) or :class:`RefinedPartPooling`
    (PCB-RPP); the test feature is the head's concatenated part features,
    L2-normalised (``head.test_feature`` chooses reduced or pooled parts).
    CSA's deep supervision (seed 002 eq. 8) is an auxiliary loss:
    ``auxiliary_losses=[dict(type='AttentionDeepSupervision',
    head=dict(type='CSADeepSupervisionHead', num_classes=751))]``.

    Args:
        backbone (dict): Backbone config, e.g. a last-stride-1 ResNet-50 or
            an ``AttentionBackbone`` around it.
        neck (dict): Part pooling config.
        head (dict): :class:`PCBHead` config.
        auxiliary_losses (list[dict], optional): Losses from the model's
            modules (:mod:`mmattn.models.auxiliary_losses`). Defaults to
            None.
        flip_test (bool): Add the features of the flipped image before
            normalising.
        data_preprocessor (dict, optional): Defaults to
            ``ClsDataPreprocessor``.
        init_cfg (dict, optional): Initialisation config.

    Shapes:
        inputs: (B, 3, H, W); features: (B, P * D).
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 auxiliary_losses: Optional[List[dict]] = None,
                 flip_test: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            flip_test=flip_test,
            auxiliary_losses=auxiliary_losses,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if not hasattr(self.head, 'test_features'):
            raise TypeError(
                'PCBReID: head must give part test features (PCBHead), got '
                f'{type(self.head).__name__}')

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """L2-normalised concatenated part features (B, P * D)."""
        feats = self.head.test_features(self.extract_feat(inputs))
        if self.flip_test:
            feats = feats + self.head.test_features(
                self.extract_feat(inputs.flip(3)))
        return F.normalize(feats, dim=1)
