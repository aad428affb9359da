"""Attention maps of CSA (seed 002 fig. 5) and StRA (seed 003 fig. 4).

CSA never forms its HW x HW attention map: position i attends with
``A_i = sum_k W[k, i] B_k`` (seed 002 eq. 4), a mixture of the D base maps
``B_k`` (each a softmax over the HW positions) with the adaptive weights
``W[:, i]`` (a softmax over the D maps), so ``A_i`` is itself a
distribution over the positions. :func:`csa_reconstructed_attention` builds
it for a few chosen pixels only, from
:meth:`CompressedSelfAttention.attention_factors`.

StRA (seed 003 fig. 4) is shown per mode g (a group of C/G channels): the
output of the local attention unit alone, the mode masks ``M^g`` (a softmax
over the positions) and the block's final output, from the public
``local_attention`` / ``mode_attention`` submodules.
"""
from typing import Dict, List, Sequence, Tuple, Type

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmattn.models.attentions import (CompressedSelfAttention,
                                      StructureRegularizedAttention)


def find_modules(
    model: nn.Module, module_type: Type[nn.Module], names: Sequence[str] = ()
) -> Dict[str, nn.Module]:
    """Modules of ``module_type`` in ``model`` by path, in module order.

    Args:
        model (nn.Module): Any model.
        module_type (type): E.g. :class:`CompressedSelfAttention`.
        names (Sequence[str]): Keep only these paths (all when empty); an
            unknown path or one of another type raises ``ValueError``.

    Returns:
        dict[str, nn.Module]: Path -> module.
    """
    found = {
        n: m
        for n, m in model.named_modules() if isinstance(m, module_type)
    }
    if not found:
        raise ValueError(f'{type(model).__name__} contains no '
                         f'{module_type.__name__}; use a config that injects '
                         'it')
    if names:
        unknown = [n for n in names if n not in found]
        if unknown:
            raise ValueError(f'{unknown} are not {module_type.__name__} '
                             f'modules of the model; its ones are '
                             f'{list(found)}')
        found = {n: found[n] for n in names}
    return found


@torch.no_grad()
def capture_inputs(model: nn.Module, modules: Dict[str, nn.Module],
                   run) -> Dict[str, torch.Tensor]:
    """The input tensor of each module during one call of ``run()``.

    Args:
        model (nn.Module): The model (only for the error message).
        modules (dict[str, nn.Module]): Path -> module, from
            :func:`find_modules`.
        run (Callable): Runs the model's forward, e.g.
            ``lambda: model.extract_feat(inputs)``.

    Returns:
        dict[str, Tensor]: Path -> input (B, C, H, W) of its last call.
    """
    captured = {}
    handles = [
        m.register_forward_pre_hook(
            lambda mod, args, name=name: captured.__setitem__(name, args[0]))
        for name, m in modules.items()
    ]
    try:
        run()
    finally:
        for handle in handles:
            handle.remove()
    missing = [n for n in modules if n not in captured]
    if missing:
        raise ValueError(f'{missing} were not called by the forward pass of '
                         f'{type(model).__name__}')
    return captured


def pixel_indices(pixels: Sequence[Tuple[float, float]], height: int,
                  width: int) -> List[int]:
    """Flat indices ``row * width + col`` on an (height, width) map of
    pixels given as (y, x) fractions of the image in [0, 1]."""
    indices = []
    for y, x in pixels:
        if not (0 <= y <= 1 and 0 <= x <= 1):
            raise ValueError(f'pixel ({y}, {x}) must be (y, x) fractions of '
                             'the image height and width in [0, 1]')
        row = min(int(y * height), height - 1)
        col = min(int(x * width), width - 1)
        indices.append(row * width + col)
    return indices


@torch.no_grad()
def csa_reconstructed_attention(module: CompressedSelfAttention,
                                x: torch.Tensor,
                                indices: Sequence[int]) -> dict:
    """Base maps and the attention maps of chosen positions (eq. 4).

    Args:
        module (CompressedSelfAttention): The CSA block.
        x (Tensor): Its input (B, C, H, W).
        indices (Sequence[int]): P flat positions i in [0, H*W).

    Returns:
        dict: ``base_maps`` (B, G, D, H, W), each summing to 1 over H, W;
        ``weights`` (B, G, D, P), ``W[:, i]`` of the chosen positions;
        ``attention`` (B, G, P, H, W), ``A_i = sum_k W[k, i] B_k``;
        ``weight_totals`` (B, G, D), each base map's total weight over all
        positions (how much the block uses it).
    """
    b, _, h, w = x.shape
    indices = torch.as_tensor(list(indices), dtype=torch.long, device=x.device)
    if indices.numel() == 0 or indices.min() < 0 or indices.max() >= h * w:
        raise ValueError(f'indices must be positions in [0, {h * w}) of the '
                         f'{h}x{w} map, got {indices.tolist()}')
    base_maps, weights, _ = module.attention_factors(x)
    chosen = weights[..., indices]  # (B, G, D, P)
    attention = torch.einsum('bgdp,bgdn->bgpn', chosen, base_maps)
    g, d = base_maps.shape[1:3]
    return dict(
        base_maps=base_maps.view(b, g, d, h, w),
        weights=chosen,
        attention=attention.view(b, g, -1, h, w),
        weight_totals=weights.sum(-1))


@torch.no_grad()
def csa_full_attention(module: CompressedSelfAttention,
                       x: torch.Tensor) -> torch.Tensor:
    """The whole attention matrix ``A = W^T B`` (B, G, HW, HW), row i the
    map of position i. Quadratic in HW: for checks on small maps."""
    base_maps, weights, _ = module.attention_factors(x)
    return weights.transpose(-1, -2) @ base_maps


@torch.no_grad()
def stra_mode_maps(module: StructureRegularizedAttention,
                   x: torch.Tensor) -> dict:
    """Per-mode maps of one StRA block (seed 003 fig. 4).

    Args:
        module (StructureRegularizedAttention): The block.
        x (Tensor): Its input (B, C, H, W).

    Returns:
        dict: ``local`` (B, G, H, W), the mean absolute activation of mode
        g's C/G channels after the local attention unit alone; ``masks``
        (B, G, H, W), the mode masks M^g (each summing to 1), or None
        without mode attention; ``output`` (B, G, H, W), the same
        activation after the whole block.
    """
    b, c, h, w = x.shape
    groups = module.local_attention.groups
    local = module.local_attention(x)

    def per_mode(t):
        return t.abs().view(b, groups, c // groups, h, w).mean(dim=2)

    result = dict(local=per_mode(local), masks=None, output=per_mode(local))
    if module.mode_attention is not None:
        out = module.mode_attention(local)
        result['masks'] = module.mode_attention.last_mode_masks.view(
            b, groups, h, w)
        result['output'] = per_mode(out)
    return result


def upsample_maps(maps: torch.Tensor,
                  size: Tuple[int, int],
                  normalise: str = 'max') -> np.ndarray:
    """(N, h, w) maps -> (N, H, W) numpy heat maps in [0, 1].

    Args:
        maps (Tensor): Non-negative maps (N, h, w).
        size (tuple[int]): Image (H, W).
        normalise (str): ``'max'`` divides each map by its maximum;
            ``'minmax'`` maps each one's range to [0, 1].
    """
    if normalise not in ('max', 'minmax'):
        raise ValueError(f"normalise must be 'max' or 'minmax', got "
                         f'{normalise!r}')
    up = F.interpolate(
        maps.float().unsqueeze(1),
        size=size,
        mode='bilinear',
        align_corners=False).squeeze(1)
    flat = up.flatten(1)
    low = flat.amin(1) if normalise == 'minmax' else torch.zeros_like(flat[:,
                                                                           0])
    span = (flat.amax(1) - low).clamp_min(1e-12)
    return ((up - low.view(-1, 1, 1)) / span.view(-1, 1, 1)).clamp(
        0, 1).cpu().numpy()


def pick_samples(cfg,
                 split: str = 'test',
                 num_images: int = 4,
                 images: Sequence[str] = ()) -> List[dict]:
    """Packed samples to draw: ``images`` through the config's test
    pipeline, or ``num_images`` spread evenly over the ``split`` set."""
    from mmengine.dataset import Compose

    from mmattn.apis import build_dataset
    loader = cfg.get('test_dataloader')
    if loader is None:
        raise ValueError('the config has no test_dataloader: its test '
                         'pipeline is needed to read the images')
    pipeline = loader['dataset']['pipeline']
    if images:
        compose = Compose(pipeline)
        return [compose(dict(img_path=p)) for p in images]
    if num_images < 1:
        raise ValueError(f'num_images must be >= 1, got {num_images}')
    dataset = build_dataset(cfg, split, pipeline=pipeline)
    if len(dataset) == 0:
        raise ValueError(f'the {split} set of the config is empty')
    count = min(num_images, len(dataset))
    picks = np.linspace(0, len(dataset) - 1, count).round().astype(int)
    return [dataset[int(i)] for i in sorted(set(picks.tolist()))]


def dominant_base(
        attention: torch.Tensor,
        base_maps: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """The base map most similar to each reconstructed map.

    Args:
        attention (Tensor): (P, N) reconstructed maps.
        base_maps (Tensor): (D, N) base maps.

    Returns:
        tuple[Tensor]: index (P,) of the closest base map by cosine
        similarity and that similarity (P,).
    """
    sim = F.normalize(attention, dim=1) @ F.normalize(base_maps, dim=1).T
    best, index = sim.max(dim=1)
    return index, best
