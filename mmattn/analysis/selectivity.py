"""Class selectivity index (Morcos et al., ICLR 2018; seed 004 sec. 4.8).

For a unit (a channel of a layer's output, its activation averaged over the
spatial positions of each image) with class-conditional mean activations
``mu_c`` over a labelled set,

    selectivity = (mu_max - mu_-max) / (mu_max + mu_-max),

``mu_max`` the largest class mean and ``mu_-max`` the mean of the other
classes' means. 0: the unit responds equally to every class; 1: it responds
to one class only. A layer's index is the mean over its units. The index
assumes non-negative activations (post-ReLU outputs such as a residual
block's): a layer with negative class means is refused. Units that are zero
for every class (dead ReLUs, denominator 0) have no index; they are left out
of the layer mean and counted.
"""
import re
from typing import Dict, Iterable, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn

#: Default layers: the residual blocks (``...layerN.M``) of ResNet-style
#: backbones, whose outputs are post-ReLU.
BLOCK_PATTERN = r'(^|\.)layer\d+\.\d+$'


def class_means(activations: torch.Tensor,
                labels: torch.Tensor,
                num_classes: Optional[int] = None) -> torch.Tensor:
    """Class-conditional mean activation of each unit.

    Args:
        activations (Tensor): (N, U) one value per image and unit.
        labels (Tensor): (N,) class indices.
        num_classes (int, optional): Defaults to ``labels.max() + 1``.

    Returns:
        Tensor: (K, U) means; every class must have at least one image.
    """
    if activations.dim() != 2 or labels.shape != activations.shape[:1]:
        raise ValueError('activations must be (N, U) and labels (N,), got '
                         f'{tuple(activations.shape)} and '
                         f'{tuple(labels.shape)}')
    labels = labels.long()
    k = int(labels.max()) + 1 if num_classes is None else num_classes
    counts = torch.bincount(labels, minlength=k)
    if counts.numel() > k or (counts == 0).any():
        raise ValueError(f'every class in [0, {k}) needs at least one image; '
                         f'image counts per class: {counts.tolist()}')
    acts = activations.double()
    sums = acts.new_zeros(k, acts.shape[1]).index_add_(0, labels, acts)
    return sums / counts.unsqueeze(1).double()


def selectivity_index(means: torch.Tensor, eps: float = 1e-12) -> dict:
    """Class selectivity of each unit from its class means.

    Args:
        means (Tensor): (K, U) class means, K >= 2, non-negative.
        eps (float): Units with ``mu_max + mu_-max <= eps`` are dead.

    Returns:
        dict: ``index`` (U,) float tensor, NaN for dead units; ``dead``
        (U,) bool.
    """
    if means.dim() != 2 or means.shape[0] < 2:
        raise ValueError('means must be (K, U) with K >= 2 classes, got '
                         f'{tuple(means.shape)}')
    if (means < 0).any():
        raise ValueError(
            'the class selectivity index needs non-negative activations '
            f'(most negative class mean {float(means.min()):.4g}); choose '
            'post-ReLU layers')
    k = means.shape[0]
    top = means.max(dim=0).values
    rest = (means.sum(dim=0) - top) / (k - 1)
    total = top + rest
    dead = total <= eps
    index = torch.where(dead, torch.full_like(top, float('nan')),
                        (top - rest) / total.clamp_min(eps))
    return dict(index=index, dead=dead)


def find_layers(model: nn.Module,
                names: Sequence[str] = (),
                pattern: str = BLOCK_PATTERN) -> Dict[str, nn.Module]:
    """Layers to measure: the given module paths, or every module whose path
    matches ``pattern`` (default: residual blocks)."""
    modules = dict(model.named_modules())
    if names:
        unknown = [n for n in names if n not in modules]
        if unknown:
            raise ValueError(f'{unknown} are not module paths of '
                             f'{type(model).__name__}')
        return {n: modules[n] for n in names}
    found = {n: m for n, m in modules.items() if re.search(pattern, n)}
    if not found:
        raise ValueError(f'no module path of {type(model).__name__} matches '
                         f'{pattern!r}; pass the layers explicitly')
    return found


@torch.no_grad()
def layer_unit_activations(
        model: nn.Module, layers: Dict[str, nn.Module],
        batches: Iterable[torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Spatially averaged output (N, C) of each layer over the batches.

    Args:
        model (nn.Module): Model with ``extract_feat``.
        layers (dict[str, nn.Module]): Path -> module (output (B, C, ...)).
        batches (Iterable[Tensor]): Normalised input batches.
    """
    collected = {n: [] for n in layers}

    def hook(name):

        def keep(module, args, output):
            out = output[-1] if isinstance(output, (tuple, list)) else output
            if not isinstance(out, torch.Tensor) or out.dim() < 2:
                raise ValueError(f'layer {name!r} must output a (B, C, ...) '
                                 'tensor')
            collected[name].append(
                out.flatten(2).mean(-1).float().cpu() if out.dim() >
                2 else out.float().cpu())

        return keep

    handles = [m.register_forward_hook(hook(n)) for n, m in layers.items()]
    try:
        for inputs in batches:
            model.extract_feat(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return {n: torch.cat(v) for n, v in collected.items()}


def layer_selectivity(activations: Dict[str, torch.Tensor],
                      labels: torch.Tensor,
                      num_classes: Optional[int] = None) -> Dict[str, dict]:
    """Per layer: ``mean`` and ``std`` of the index over live units,
    ``units`` and ``dead`` counts and the per-unit ``index`` list."""
    result = {}
    for name, acts in activations.items():
        try:
            sel = selectivity_index(class_means(acts, labels, num_classes))
        except ValueError as error:
            raise ValueError(f'layer {name!r}: {error}') from None
        live = sel['index'][~sel['dead']]
        result[name] = dict(
            mean=float(live.mean()) if live.numel() else float('nan'),
            std=float(live.std(
                unbiased=False)) if live.numel() else float('nan'),
            units=int(acts.shape[1]),
            dead=int(sel['dead'].sum()),
            index=[
                None if np.isnan(v) else float(v)
                for v in sel['index'].tolist()
            ])
    return result
