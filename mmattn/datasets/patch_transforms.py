"""Transforms of patch stacks (pairs of local-descriptor patches)."""
from typing import Dict

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.structures import DataSample

from mmattn.registry import TRANSFORMS


def _check_stack(results: Dict, name: str) -> np.ndarray:
    img = results.get('img')
    if not isinstance(img, np.ndarray) or img.ndim != 3:
        raise ValueError(
            f"{name}: results['img'] must be a (P, H, W) array of P "
            f'grayscale patches, got {getattr(img, "shape", type(img))}')
    return img


@TRANSFORMS.register_module()
class RandomPatchFlipRotate(BaseTransform):
    """Flip and rotate every patch of a stack by 90 degrees, all alike.

    HardNet's augmentation (seed 002: "random flipping and 90 degree
    rotation"): the two patches of a pair get the same transform, so a pair
    stays a match of the same geometry.

    Args:
        flip_prob (float): Probability of a horizontal flip. Defaults to 0.5.
        rotate_prob (float): Probability of a 90 degree rotation (a
            transpose followed by the flip, as HardNet). Defaults to 0.5.
    """

    def __init__(self, flip_prob: float = 0.5, rotate_prob: float = 0.5):
        for name, value in (('flip_prob', flip_prob), ('rotate_prob',
                                                       rotate_prob)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f'RandomPatchFlipRotate: {name} must be in '
                                 f'[0, 1], got {value!r}')
        self.flip_prob = flip_prob
        self.rotate_prob = rotate_prob

    def transform(self, results: Dict) -> Dict:
        img = _check_stack(results, type(self).__name__)
        if np.random.rand() < self.rotate_prob:
            img = img.transpose(0, 2, 1)
        if np.random.rand() < self.flip_prob:
            img = img[:, :, ::-1]
        results['img'] = np.ascontiguousarray(img)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(flip_prob={self.flip_prob}, '
                f'rotate_prob={self.rotate_prob})')


@TRANSFORMS.register_module()
class PackPatchInputs(BaseTransform):
    """Pack a (P, H, W) patch stack and its labels for ``PatchDescriptor``.

    ``inputs`` becomes a (P, 1, H, W) uint8 tensor. The data sample carries
    ``point_ids`` (P, ) and, when present, ``is_match``, ``patch_ids``,
    ``sequence``, ``sample_idx`` and the ``meta_keys`` (HPatches: image and
    patch index).

    Args:
        meta_keys (Sequence[str]): Extra keys copied to the metainfo.
    """

    LABEL_KEYS = ('point_ids', 'patch_ids', 'is_match')
    META_KEYS = ('sequence', 'sample_idx')

    def __init__(self, meta_keys=()):
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: Dict) -> Dict:
        img = _check_stack(results, type(self).__name__)
        inputs = torch.from_numpy(np.ascontiguousarray(img)).unsqueeze(1)
        sample = DataSample()
        for key in self.LABEL_KEYS:
            if key in results:
                sample.set_field(
                    torch.as_tensor(results[key]), key, field_type='data')
        meta = {
            key: results[key]
            for key in (*self.META_KEYS, *self.meta_keys) if key in results
        }
        sample.set_metainfo(meta)
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'
