"""Re-ID head with the IB bound loss of DCS (seed 001)."""
from typing import Dict, List, Tuple

import torch
from mmpretrain.structures import DataSample

from mmattn.registry import MODELS
from .reid_head import ReIDHead

_FEATURES = ('pre_bn', 'post_bn')


@MODELS.register_module()
class ReIDHeadWithIB(ReIDHead):
    """:class:`ReIDHead` plus ``eta * L_IBB`` (METHODS.md section 2).

    Total loss: CE with label smoothing + triplet + ``eta * L_IBB``; the IB
    term (``loss_ib``) is present once ``IBVariationalHook`` has computed
    the epoch's tables and its warm-up is over.

    Args:
        loss_ib (dict): Config of :class:`IBBoundLoss`; ``num_classes``
            defaults to the head's. Defaults to
            ``dict(type='IBBoundLoss', loss_weight=0.1)``.
        ib_feature (str): Feature W of the bound: ``'post_bn'`` (the test
            feature, default) or ``'pre_bn'``.
        **kwargs: Arguments of :class:`ReIDHead`.

    Shapes:
        feats: ``(pre_bn, post_bn)``, each (B, D).
    """

    def __init__(self,
                 *args,
                 loss_ib: dict = dict(type='IBBoundLoss', loss_weight=0.1),
                 ib_feature: str = 'post_bn',
                 **kwargs):
        super().__init__(*args, **kwargs)
        if ib_feature not in _FEATURES:
            raise ValueError(f'ReIDHeadWithIB: ib_feature must be one of '
                             f'{_FEATURES}, got {ib_feature!r}')
        loss_ib = dict(loss_ib)
        loss_ib.setdefault('num_classes', self.num_classes)
        self.loss_ib = MODELS.build(loss_ib)
        self.ib_feature = ib_feature

    def ib_features(
            self, feats: Tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """The feature W of the bound, (B, D)."""
        return feats[_FEATURES.index(self.ib_feature)]

    def loss(self, feats: Tuple[torch.Tensor, torch.Tensor],
             data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        losses = super().loss(feats, data_samples)
        if self.loss_ib.active:
            labels = torch.cat([s.gt_label for s in data_samples])
            try:
                index = [int(s.sample_idx) for s in data_samples]
            except AttributeError as error:
                raise ValueError(
                    'ReIDHeadWithIB: the data samples carry no sample_idx; '
                    "keep 'sample_idx' in PackInputs' meta_keys") from error
            losses['loss_ib'] = self.loss_ib(
                self.ib_features(feats), labels.to(feats[0].device),
                torch.as_tensor(index, device=feats[0].device))
        return losses
