"""Grad-CAM (Selvaraju et al., ICCV 2017) for any layer of any model.

For a scalar target y and the activation A (C, h, w) of the chosen layer,

    w_c = mean_{i,j} dy / dA_c[i, j],    CAM = ReLU(sum_c w_c A_c),

upsampled (bilinear) to the input size and divided by its maximum.

A Re-ID model has no class to explain at test time, so the default target
is the norm of the un-normalised test feature f, which equals the similarity
of f to its own (fixed) direction: ``<f, f / |f|> = |f|``. Its gradient
explains what makes the retrieval embedding strong. ``'logit'`` explains
the largest identity (Re-ID) / class (classifier) logit instead.
"""
from typing import Callable, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from matplotlib import colormaps

from mmattn.apis import class_logits, raw_feature

TARGETS = ('norm', 'logit')


def feature_norm_target(model: nn.Module, inputs: torch.Tensor):
    """Norm of the un-normalised test feature, (B,)."""
    return raw_feature(model, inputs).flatten(1).norm(dim=1)


def top_logit_target(model: nn.Module, inputs: torch.Tensor):
    """The largest identity / class logit of each image, (B,)."""
    return class_logits(model, inputs).amax(dim=1)


_TARGET_FUNCTIONS = dict(norm=feature_norm_target, logit=top_logit_target)


def _layer(model: nn.Module, layer: str) -> nn.Module:
    try:
        return model.get_submodule(layer)
    except AttributeError:
        names = [n for n, _ in model.named_modules() if n]
        shown = ', '.join(names[:30]) + (' ...' if len(names) > 30 else '')
        raise ValueError(f'layer {layer!r} is not a module path of '
                         f'{type(model).__name__}; valid paths include: '
                         f'{shown}') from None


class GradCAM:
    """Grad-CAM heat maps of one named layer.

    A forward hook keeps the layer's output (the last tensor if it returns a
    tuple, as mmpretrain backbones do); the gradient of the target with
    respect to that output is taken with ``torch.autograd.grad``, so no
    parameter gradients accumulate and in-place activations after the layer
    are harmless.

    Args:
        model (nn.Module): The model (put in eval mode by the caller).
        layer (str): Module path, e.g. ``'backbone.backbone.layer5'``.
        target (str | Callable): ``'norm'`` (default), ``'logit'``, or
            ``f(model, inputs) -> (B,)`` scalars to explain.

    Example:
        >>> cam = GradCAM(model, 'backbone.backbone.layer5')(inputs)
        >>> cam.shape  # (B, H, W), values in [0, 1]
    """

    def __init__(self,
                 model: nn.Module,
                 layer: str,
                 target: Union[str, Callable] = 'norm'):
        if isinstance(target, str):
            if target not in _TARGET_FUNCTIONS:
                raise ValueError(f'target must be one of {TARGETS} or a '
                                 f'callable, got {target!r}')
            target = _TARGET_FUNCTIONS[target]
        elif not callable(target):
            raise TypeError('target must be a name or a callable, got '
                            f'{type(target).__name__}')
        self.model = model
        self.layer_name = layer
        self.layer = _layer(model, layer)
        self.target = target

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:
        """Heat maps (B, H, W) in [0, 1] for inputs (B, C, H, W)."""
        if inputs.dim() != 4:
            raise ValueError('inputs must be (B, C, H, W), got shape '
                             f'{tuple(inputs.shape)}')
        captured = []

        def keep_output(module, args, output):
            if isinstance(output, (tuple, list)):
                output = output[-1]
            if not isinstance(output, torch.Tensor) or output.dim() != 4:
                raise ValueError(
                    f'layer {self.layer_name!r} must output a (B, C, h, w) '
                    'feature map for Grad-CAM, got '
                    f'{getattr(output, "shape", type(output).__name__)}')
            captured.append(output)

        handle = self.layer.register_forward_hook(keep_output)
        try:
            with torch.enable_grad():
                inputs = inputs.detach().requires_grad_(True)
                scores = self.target(self.model, inputs)
                if not captured:
                    raise ValueError(f'layer {self.layer_name!r} was not '
                                     'called by the forward pass')
                activation = captured[-1]
                grad, = torch.autograd.grad(scores.sum(), activation)
        finally:
            handle.remove()
        weights = grad.mean(dim=(2, 3), keepdim=True)
        cam = F.relu((weights * activation).sum(dim=1, keepdim=True))
        cam = F.interpolate(
            cam, size=inputs.shape[-2:], mode='bilinear',
            align_corners=False).squeeze(1).detach()
        peak = cam.flatten(1).amax(dim=1).view(-1, 1, 1)
        return torch.where(peak > 0, cam / peak.clamp_min(1e-12),
                           torch.zeros_like(cam))


def overlay_heatmap(image: np.ndarray,
                    cam: Union[np.ndarray, torch.Tensor],
                    alpha: float = 0.5,
                    colormap: str = 'jet') -> np.ndarray:
    """Blend a [0, 1] heat map (H, W) over an RGB uint8 image (H, W, 3)."""
    cam = cam.cpu().numpy() if isinstance(cam, torch.Tensor) else cam
    if cam.shape != image.shape[:2]:
        raise ValueError(f'heat map {cam.shape} and image {image.shape[:2]} '
                         'must have the same size')
    colored = colormaps[colormap](np.clip(cam, 0, 1))[..., :3] * 255
    return (alpha * colored + (1 - alpha) * image).round().astype(np.uint8)
