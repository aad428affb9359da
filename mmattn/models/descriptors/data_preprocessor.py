"""Batch the patch stacks of the local-descriptor datasets."""
from typing import Optional

import torch
from mmengine.model import BaseDataPreprocessor

from mmattn.registry import MODELS


@MODELS.register_module()
class PatchDataPreprocessor(BaseDataPreprocessor):
    """Stack per-sample patch tensors and scale them to [0, 1].

    Each sample of :class:`BrownDataset` (packed by
    :class:`PackPatchInputs`) is a uint8 stack (P, C, H, W) of P patches:
    a pair (P = 2) or a single patch (P = 1). Mean and standard deviation
    are not applied here: L2Net standardises every patch on its own.

    Args:
        scale (float): Divisor of the pixel values. Defaults to 255.
        non_blocking (bool): Non-blocking host-to-device copies.

    Shapes:
        inputs: list of B (P, C, H, W) tensors -> (B, P, C, H, W) float.
    """

    def __init__(self, scale: float = 255.0, non_blocking: bool = False):
        super().__init__(non_blocking=non_blocking)
        if scale <= 0:
            raise ValueError(f'PatchDataPreprocessor: scale must be '
                             f'positive, got {scale!r}')
        self.scale = scale

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):
            shapes = {tuple(x.shape) for x in inputs}
            if len(shapes) != 1:
                raise ValueError('PatchDataPreprocessor: all samples of a '
                                 'batch must have the same (P, C, H, W), got '
                                 f'{sorted(shapes)}')
            inputs = torch.stack(list(inputs))
        if inputs.dim() != 5:
            raise ValueError('PatchDataPreprocessor: expected inputs of '
                             '(B, P, C, H, W), got '
                             f'{tuple(inputs.shape)}')
        data['inputs'] = inputs.float() / self.scale
        data.setdefault('data_samples', None)
        return data

    def extra_repr(self) -> Optional[str]:
        return f'scale={self.scale}'
