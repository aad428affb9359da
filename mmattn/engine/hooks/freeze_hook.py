"""Freeze pretrained modules for the first epochs of a fine-tuning."""
from typing import List, Optional, Sequence, Union

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch.nn.modules.batchnorm import _BatchNorm

from mmattn.models.injection import find_module_paths, injected_attentions
from mmattn.registry import HOOKS


@HOOKS.register_module()
class FreezeModulesHook(Hook):
    """Keep the matched modules fixed during the first ``epochs`` epochs.

    Seed 003 (section 5.1) fine-tunes ImageNet-pretrained backbones with
    the pretrained stages frozen for the first 8 epochs while the newly
    inserted attention modules (randomly initialised) and the head train,
    which it reports "could facilitate convergence". While frozen, the
    parameters get no gradient (so the optimiser leaves them, including
    weight decay, untouched) and their BatchNorm layers use and keep their
    running statistics. Attention modules injected into the frozen modules
    keep training unless ``freeze_injected=True``.

    The state follows ``runner.epoch``, so a resumed training freezes or not
    exactly as the uninterrupted one would.

    Args:
        paths (str | list[str]): Module-path patterns in the model, matched
            segment by segment (see
            :func:`mmattn.models.injection.path_matches`), e.g.
            ``'backbone.backbone.layer*'``.
        epochs (int): Number of epochs (from the start) to keep them frozen.
        freeze_injected (bool): Also freeze injected attention modules inside
            the matched modules. Defaults to False.
    """

    priority = 'NORMAL'

    def __init__(self,
                 paths: Union[str, Sequence[str]],
                 epochs: int,
                 freeze_injected: bool = False):
        self.patterns = [paths] if isinstance(paths, str) else list(paths)
        if not self.patterns:
            raise ValueError('FreezeModulesHook: paths is empty')
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError('FreezeModulesHook: epochs must be an integer '
                             f'>= 0, got {epochs!r}')
        self.epochs = epochs
        self.freeze_injected = freeze_injected
        self.params: List[nn.Parameter] = []
        self.norms: List[_BatchNorm] = []
        self.frozen: Optional[bool] = None

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        modules = dict(model.named_modules())
        roots = find_module_paths(model, self.patterns, 'FreezeModulesHook')
        kept = set()
        if not self.freeze_injected:
            for attention in injected_attentions(model).values():
                kept.update(id(p) for p in attention.parameters())
                kept.update(id(m) for m in attention.modules())
        params, norms, seen = [], [], set()
        for root in roots:
            for module in modules[root].modules():
                if id(module) in kept:
                    continue
                if isinstance(module, _BatchNorm) and id(module) not in seen:
                    norms.append(module)
                seen.add(id(module))
                for param in module.parameters(recurse=False):
                    if id(param) not in kept and param.requires_grad:
                        params.append(param)
        self.params, self.norms = params, norms
        if self.epochs > 0 and is_model_wrapper(runner.model) and not getattr(
                runner.model, 'find_unused_parameters', True):
            raise ValueError(
                'FreezeModulesHook: with distributed training the frozen '
                'parameters get no gradient, which DDP only accepts with '
                "model_wrapper_cfg=dict(type='MMDistributedDataParallel', "
                'find_unused_parameters=True)')

    def _set(self, runner, frozen: bool) -> None:
        if frozen == self.frozen:
            return
        for param in self.params:
            param.requires_grad_(not frozen)
        self.frozen = frozen
        runner.logger.info(
            f'FreezeModulesHook: {"froze" if frozen else "unfroze"} '
            f'{len(self.params)} parameters of {self.patterns} at epoch '
            f'{runner.epoch}')

    def before_train_epoch(self, runner) -> None:
        self._set(runner, runner.epoch < self.epochs)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        # The train loop calls model.train() at every epoch start, after
        # before_train_epoch: put the frozen BatchNorms back in eval mode.
        if self.frozen:
            for norm in self.norms:
                norm.eval()
