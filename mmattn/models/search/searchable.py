"""The searchable-parameter interface, read from any model.

A module takes part in an architecture search by defining
``arch_parameters()``, which returns the ``nn.Parameter`` s the architecture
optimiser updates: DA's ``s_dec``/``l_dec``, the DCS mask, the Gumbel logits
of an FBNetV2 supernet, HOGA's shared alpha. Containers may expose their
children's parameters again (``AttentionBackbone``, ``FBNetV2Supernet``), so
the functions here collect them from every module and keep each parameter
once, by identity. Every other trainable parameter is a weight.
"""
from typing import List, Tuple

import torch.nn as nn


def _unwrap(model: nn.Module) -> nn.Module:
    """The module inside a (Distributed)DataParallel wrapper."""
    while isinstance(model,
                     (nn.DataParallel, nn.parallel.DistributedDataParallel)):
        model = model.module
    return model


def searchable_modules(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """``(path, module)`` of every module that defines ``arch_parameters``,
    in ``named_modules`` order (the model itself included, path ``''``)."""
    return [(name, module) for name, module in _unwrap(model).named_modules()
            if callable(getattr(type(module), 'arch_parameters', None))]


def collect_arch_parameters(model: nn.Module) -> List[nn.Parameter]:
    """All architecture parameters of ``model``, each once.

    Args:
        model (nn.Module): Any model, optionally wrapped in (D)DP.

    Returns:
        list[nn.Parameter]: In the order of first appearance.

    Raises:
        TypeError: A module's ``arch_parameters()`` returned something that
            is not an ``nn.Parameter``.
    """
    params, seen = [], set()
    for name, module in searchable_modules(model):
        for param in module.arch_parameters():
            if not isinstance(param, nn.Parameter):
                raise TypeError(
                    f'{type(module).__name__} at {name or "<model>"!r}: '
                    'arch_parameters() must return nn.Parameter objects, got '
                    f'{type(param).__name__}')
            if id(param) not in seen:
                seen.add(id(param))
                params.append(param)
    return params


def split_parameters(
        model: nn.Module) -> Tuple[List[nn.Parameter], List[nn.Parameter]]:
    """``(weights, architecture)``: disjoint lists covering every trainable
    parameter of ``model`` (weights in ``parameters()`` order)."""
    arch = collect_arch_parameters(model)
    arch_ids = {id(p) for p in arch}
    weights = [
        p for p in _unwrap(model).parameters()
        if p.requires_grad and id(p) not in arch_ids
    ]
    return weights, [p for p in arch if p.requires_grad]


def carry_modules(model: nn.Module) -> List[nn.Module]:
    """Modules whose ``carry_()`` must run after an architecture step.

    A container that forwards ``carry_()`` to its children
    (``AttentionBackbone``) is left out when a descendant defines it too, so
    every carry runs once.
    """
    model = _unwrap(model)
    owners = [(name, module) for name, module in model.named_modules()
              if callable(getattr(type(module), 'carry_', None))]
    names = [name for name, _ in owners]
    leaves = []
    for name, module in owners:
        prefix = f'{name}.' if name else ''
        if not any(other != name and other.startswith(prefix)
                   for other in names):
            leaves.append(module)
    return leaves
