"""Batch mixup for Re-ID: soft identity scores plus a hard identity."""
from typing import Optional

from mmpretrain.models.utils import ClsDataPreprocessor

from mmattn.registry import MODELS


@MODELS.register_module()
class ReIDDataPreprocessor(ClsDataPreprocessor):
    """mmpretrain's ``ClsDataPreprocessor`` whose batch augmentations (e.g.
    ``batch_augments=dict(augments=dict(type='Mixup', alpha=0.2))``, the
    mixup of the Re-ID fine-tuning of seeds 000 / 001) also keep a hard
    identity that the metric losses can use.

    In training, mmpretrain mixes the images, ``x_i' = lam x_i +
    (1 - lam) x_pi(i)``, and their one-hot scores the same way, into
    ``gt_score`` (B, num_classes); ``gt_label`` would stay the identity of
    ``x_i`` even when ``lam < 0.5`` makes ``x_pi(i)`` the larger part. Here
    ``gt_label`` becomes the dominant identity ``argmax gt_score`` of each
    mixed image: the triplet loss (and the IB bound of DCS, and the PCB /
    TransReID heads, which take hard labels) compare mixed images by the
    person they mostly show, while :class:`ReIDHead`'s ID loss learns the
    soft mixed target ``gt_score``. In evaluation it makes no one-hot
    scores (query / gallery identities are no training classes).

    Args:
        num_classes (int, optional): Training identities (the one-hot size);
            required with ``batch_augments``.
        batch_augments (dict, optional): mmpretrain's ``RandomBatchAugment``
            arguments.
        **kwargs: Other ``ClsDataPreprocessor`` arguments (mean, std,
            to_rgb, ...).
    """

    def __init__(self,
                 num_classes: Optional[int] = None,
                 batch_augments: Optional[dict] = None,
                 **kwargs):
        if batch_augments and not num_classes:
            raise ValueError(
                'ReIDDataPreprocessor: batch_augments (mixup / cutmix) need '
                'num_classes, the number of training identities '
                '(model.head.num_classes)')
        super().__init__(
            num_classes=num_classes, batch_augments=batch_augments, **kwargs)

    def forward(self, data: dict, training: bool = False) -> dict:
        if not training:
            # Query / gallery identities are not training classes: no
            # one-hot scores (they would not fit num_classes).
            onehot, self.to_onehot = self.to_onehot, False
            try:
                return super().forward(data, training)
            finally:
                self.to_onehot = onehot
        data = super().forward(data, training)
        samples = data.get('data_samples')
        if training and self.batch_augments is not None and samples \
                and 'gt_score' in samples[0]:
            for sample in samples:
                sample.set_gt_label(sample.gt_score.argmax().view(1))
        return data
