"""Re-ID head with the IB bound loss of DCS (seed 001)."""
from typing import Dict, List, Tuple

import torch
from mmpretrain.structures import DataSample

from mmattn.registry import MODELS
from .reid_head import ReIDHead
from .transreid_head import TransReIDHead

_FEATURES = ('pre_bn', 'post_bn')


class IBBoundMixin:
    """Adds ``eta * L_IBB`` (METHODS.md section 2) to a Re-ID head.

    The head builds ``self.loss_ib`` with :meth:`init_ib_loss`, says which
    feature W the bound uses in ``ib_features(feats)``, and adds
    :meth:`ib_loss` to its losses. ``IBVariationalHook`` finds such heads by
    their ``loss_ib`` and fills the epoch's tables; the term (``loss_ib``)
    is present once they exist and the warm-up is over.
    """

    def init_ib_loss(self, loss_ib: dict) -> None:
        loss_ib = dict(loss_ib)
        loss_ib.setdefault('num_classes', self.num_classes)
        self.loss_ib = MODELS.build(loss_ib)

    def ib_loss(self, feats,
                data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        """``loss_ib`` (``eta`` times the trained form) and, for the log,
        both forms of the bound of the batch (``ibb_reconstructed``,
        ``ibb_separable``, without ``eta``; not summed into the loss).

        Every training batch's W is also handed to the hook's recorder
        (:meth:`IBBoundLoss.observe`), warm-up or not.
        """
        w = self.ib_features(feats)
        labels = torch.cat([s.gt_label for s in data_samples]).to(w.device)
        try:
            index = torch.as_tensor([int(s.sample_idx) for s in data_samples],
                                    device=w.device)
        except AttributeError as error:
            raise ValueError(
                f'{type(self).__name__}: the data samples carry no '
                "sample_idx; keep 'sample_idx' in PackInputs' meta_keys"
            ) from error
        self.loss_ib.observe(w, labels, index)
        if not self.loss_ib.active:
            return {}
        bounds = self.loss_ib.batch_bounds(w, labels, index)
        losses = dict(loss_ib=self.loss_ib.loss_weight *
                      bounds[self.loss_ib.bound_form])
        losses.update(
            (f'ibb_{key}', value.detach()) for key, value in bounds.items())
        return losses


@MODELS.register_module()
class ReIDHeadWithIB(IBBoundMixin, ReIDHead):
    """:class:`ReIDHead` plus ``eta * L_IBB`` (METHODS.md section 2).

    Total loss: CE with label smoothing + triplet + ``eta * L_IBB``.

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
        self.init_ib_loss(loss_ib)
        self.ib_feature = ib_feature

    def ib_features(self, feats: Tuple[torch.Tensor,
                                       torch.Tensor]) -> torch.Tensor:
        """The feature W of the bound, (B, D)."""
        return feats[_FEATURES.index(self.ib_feature)]

    def loss(self, feats: Tuple[torch.Tensor, torch.Tensor],
             data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        losses = super().loss(feats, data_samples)
        losses.update(self.ib_loss(feats, data_samples))
        return losses


@MODELS.register_module()
class TransReIDHeadWithIB(IBBoundMixin, TransReIDHead):
    """:class:`TransReIDHead` plus ``eta * L_IBB`` on the global branch
    (DCS-FB on TransReID, seed 001 table I).

    Args:
        loss_ib (dict): Config of :class:`IBBoundLoss`. Defaults to
            ``dict(type='IBBoundLoss', loss_weight=0.1)``.
        **kwargs: Arguments of :class:`TransReIDHead`.

    Shapes:
        feats: ``(global, local_1, ..., local_P)``, each (B, C); W is the
        global branch after its BNNeck, (B, C).
    """

    def __init__(self,
                 *args,
                 loss_ib: dict = dict(type='IBBoundLoss', loss_weight=0.1),
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.init_ib_loss(loss_ib)

    def ib_features(self, feats) -> torch.Tensor:
        """The global branch after its BNNeck, (B, C)."""
        self._check_feats(feats)
        return self.bnnecks[0](feats[0])

    def loss(self, feats,
             data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        losses = super().loss(feats, data_samples)
        losses.update(self.ib_loss(feats, data_samples))
        return losses
