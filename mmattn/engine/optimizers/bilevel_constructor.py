"""Separate optimisers for the network weights and the architecture."""
import copy
import inspect
from typing import Optional

import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict

from mmattn.models.search import collect_arch_parameters
from mmattn.registry import (OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                             OPTIMIZERS)

_PARTS = ('weights', 'architecture')


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class BilevelOptimWrapperConstructor:
    """Build ``OptimWrapperDict(weights=..., architecture=...)``.

    The architecture parameters are those of
    :func:`mmattn.models.search.collect_arch_parameters` (DA windows, DCS
    masks, FBNetV2 Gumbel logits, HOGA alpha); the weights are every other
    trainable parameter. Each part has its own optimiser, learning rate and
    (optionally) ``paramwise_cfg``; param schedulers are given per part with
    mmengine's dict form::

        optim_wrapper = dict(
            constructor='BilevelOptimWrapperConstructor',
            weights=dict(optimizer=dict(type='SGD', lr=0.035, momentum=0.9,
                                        weight_decay=5e-4)),
            architecture=dict(optimizer=dict(type='SGD', lr=0.3,
                                             momentum=0.9)))
        param_scheduler = dict(
            weights=[dict(type='MultiStepLR', milestones=[150, 240])],
            architecture=[dict(type='CosineAnnealingLR', T_max=300)])

    Args:
        optim_wrapper_cfg (dict): ``weights`` and ``architecture`` optim
            wrapper configs (``type`` defaults to ``OptimWrapper``).
        paramwise_cfg (dict, optional): Must be None; give a
            ``paramwise_cfg`` inside each part instead.
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None):
        if paramwise_cfg is not None:
            raise ValueError(
                'BilevelOptimWrapperConstructor: put paramwise_cfg inside '
                'optim_wrapper.weights / optim_wrapper.architecture')
        if not isinstance(optim_wrapper_cfg,
                          dict) or set(optim_wrapper_cfg) != set(_PARTS):
            raise ValueError(
                'BilevelOptimWrapperConstructor: optim_wrapper must hold '
                f'exactly the keys {_PARTS} (plus constructor), got '
                f'{sorted(optim_wrapper_cfg)}')
        for part in _PARTS:
            if not isinstance(optim_wrapper_cfg[part], dict) or \
                    'optimizer' not in optim_wrapper_cfg[part]:
                raise ValueError(
                    f'BilevelOptimWrapperConstructor: optim_wrapper.{part} '
                    'must be a dict with an optimizer')
        self.optim_wrapper_cfg = copy.deepcopy(optim_wrapper_cfg)

    def _build_part(self, model: nn.Module, cfg: dict, params) -> object:
        cfg = copy.deepcopy(cfg)
        paramwise_cfg = cfg.pop('paramwise_cfg', None)
        optimizer_cfg = cfg.pop('optimizer')
        cfg.setdefault('type', 'OptimWrapper')
        own = {id(p) for p in params}
        if paramwise_cfg:
            # mmengine's per-parameter rules (decay multipliers, custom
            # keys), then keep this part's parameters.
            helper = DefaultOptimWrapperConstructor(
                dict(optimizer=optimizer_cfg), paramwise_cfg)
            groups = []
            helper.add_params(groups, model)
            groups = [g for g in groups if id(g['params'][0]) in own]
        else:
            groups = list(params)
        optimizer_type = optimizer_cfg['type']
        if isinstance(optimizer_type, str):
            with OPTIMIZERS.switch_scope_and_registry(None) as registry:
                optimizer_type = registry.get(optimizer_type)
        first_arg = next(iter(inspect.signature(optimizer_type).parameters))
        optimizer_cfg[first_arg] = groups
        optimizer = OPTIMIZERS.build(optimizer_cfg)
        return OPTIM_WRAPPERS.build(
            cfg, default_args=dict(optimizer=optimizer))

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        if hasattr(model, 'module'):
            model = model.module
        arch = [p for p in collect_arch_parameters(model) if p.requires_grad]
        if not arch:
            raise ValueError(
                'BilevelOptimWrapperConstructor: the model has no '
                'architecture parameters (modules with arch_parameters())')
        arch_ids = {id(p) for p in arch}
        weights = [
            p for p in model.parameters()
            if p.requires_grad and id(p) not in arch_ids
        ]
        return OptimWrapperDict(
            weights=self._build_part(model, self.optim_wrapper_cfg['weights'],
                                     weights),
            architecture=self._build_part(
                model, self.optim_wrapper_cfg['architecture'], arch))
