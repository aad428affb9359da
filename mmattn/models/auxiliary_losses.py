"""Auxiliary losses computed from the internals of a model's modules.

Some attention methods add a loss on what happens *inside* the network: CSA's
deep supervision classifies the output of every CSA module (seed 002 eq. 8),
StRA's diversity loss regularises the mode masks of every StRA block (seed 003
section 4.3). Both reach the trainer through one mechanism: a model derived
from :class:`mmattn.models.EmbeddingModel` takes ``auxiliary_losses=[...]``,
binds each :class:`AuxiliaryLoss` to itself once (the loss finds its modules
and registers forward hooks), lets them capture during the training forward
and merges their loss dicts into its own.

Any backbone works, with or without attention injected by path, e.g.::

    model = dict(
        type='ReID', backbone=..., neck=..., head=...,
        auxiliary_losses=[
            dict(type='StRAModeDiversity',
                 loss=dict(type='DiversityLoss', loss_weight=0.1))])
"""
from abc import abstractmethod
from contextlib import contextmanager
from functools import partial
from typing import Dict, Iterator, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmattn.registry import MODELS
from .attentions.stra import ModeAttention
from .injection import describe_paths, find_module_paths, injected_attentions


class AuxiliaryLoss(BaseModule):
    """Base of the losses a model adds from the modules it contains.

    Life cycle: ``bind(model)`` once after the model is built; during each
    training step the model holds ``capture()`` open around its forward, so
    the forward hooks the loss registered record what they need, and calls
    ``loss(data_samples)`` (a dict of named losses, keys starting with
    ``loss``) before closing it. Outside ``capture()`` (validation, test,
    feature extraction) nothing is stored, and closing it drops the records.

    Args:
        paths (str | list[str], optional): Module-path patterns in the model,
            matched segment by segment
            (``'backbone.backbone.layer*.attention'``,
            see :func:`mmattn.models.injection.path_matches`). Defaults to the
            modules each subclass looks for.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 paths: Optional[Union[str, Sequence[str]]] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.patterns = [paths] if isinstance(paths, str) else paths
        # Path of every bound module in the model, in module order.
        self.paths: List[str] = []
        # What the hooks recorded in the current forward (None: not capturing).
        self._captured: Optional[Dict[str, torch.Tensor]] = None

    @abstractmethod
    def default_paths(self, model: nn.Module) -> List[str]:
        """The module paths to use when no ``paths`` are given."""

    @abstractmethod
    def record(self, module: nn.Module, output) -> torch.Tensor:
        """What to keep of ``module``'s forward (its output, a mask, ...)."""

    @abstractmethod
    def loss(self, data_samples) -> Dict[str, torch.Tensor]:
        """The auxiliary losses of the captured forward."""

    def bind(self, model: nn.Module) -> None:
        """Find the modules of ``model`` this loss reads and hook them.

        Raises:
            ValueError: no module matches (the message lists the model's
                module paths).
        """
        name = type(self).__name__
        if self.patterns is None:
            paths = self.default_paths(model)
            if not paths:
                raise ValueError(
                    f'{name}: the model has none of the modules this loss '
                    'reads; add them to the backbone or give paths=[...]; '
                    'module paths: '
                    f'{describe_paths([n for n, _ in model.named_modules()])}')
        else:
            paths = find_module_paths(model, self.patterns, name)
        modules = dict(model.named_modules())
        self.paths = paths
        for path in paths:
            modules[path].register_forward_hook(partial(self._hook, path))

    def _hook(self, path: str, module: nn.Module, args, output) -> None:
        if self._captured is not None:
            self._captured[path] = self.record(module, output)

    @contextmanager
    def capture(self) -> Iterator[None]:
        """Record the bound modules' forward while the context is open."""
        self._captured = {}
        try:
            yield
        finally:
            self._captured = None

    def captured(self) -> List[torch.Tensor]:
        """The records of the forward in the open ``capture()``, in module
        order.

        Raises:
            RuntimeError: called outside ``capture()``, or a bound module did
                not run in that forward.
        """
        if self._captured is None:
            raise RuntimeError(
                f'{type(self).__name__}: loss() needs the training forward to '
                'run inside capture()')
        outputs = self._captured
        missing = [p for p in self.paths if p not in outputs]
        if missing:
            raise RuntimeError(
                f'{type(self).__name__}: the modules {missing} did not run in '
                'the training forward')
        return [outputs[p] for p in self.paths]


@MODELS.register_module()
class AttentionDeepSupervision(AuxiliaryLoss):
    """Deep supervision of attention modules (CSA, seed 002 eq. 8).

    One auxiliary head per supervised module classifies that module's output;
    ``L = L_main + lambda * sum_i L_aux_i`` with lambda the head's
    ``loss_weight``. Loss keys are the head's keys numbered in module order
    (``loss_ds1``, ``loss_ds2``, ...). The heads are not used at test time.

    Args:
        head (dict): Auxiliary head config, e.g.
            ``dict(type='CSADeepSupervisionHead', num_classes=751)``;
            ``in_channels`` is taken from each module's ``in_channels`` when
            not given.
        paths (str | list[str], optional): Supervised modules. Defaults to
            every attention module injected into the model.
        init_cfg (dict, optional): Initialisation config.

    Shapes:
        each supervised output: (B, C_i, H_i, W_i).
    """

    def __init__(self,
                 head: dict,
                 paths: Optional[Union[str, Sequence[str]]] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(paths=paths, init_cfg=init_cfg)
        if not isinstance(head, dict) or 'type' not in head:
            raise ValueError('AttentionDeepSupervision: head must be a head '
                             f'config dict with a "type", got {head!r}')
        self.head_cfg = head
        self.heads = nn.ModuleList()

    def default_paths(self, model: nn.Module) -> List[str]:
        return list(injected_attentions(model))

    def bind(self, model: nn.Module) -> None:
        super().bind(model)
        modules = dict(model.named_modules())
        for path in self.paths:
            head_cfg = dict(self.head_cfg)
            if 'in_channels' not in head_cfg:
                channels = getattr(modules[path], 'in_channels', None)
                if not isinstance(channels, int):
                    raise ValueError(
                        'AttentionDeepSupervision: cannot infer the channels '
                        f'of {path!r} ({type(modules[path]).__name__}); give '
                        'head.in_channels')
                head_cfg['in_channels'] = channels
            self.heads.append(MODELS.build(head_cfg))

    def record(self, module: nn.Module, output) -> torch.Tensor:
        return output

    def loss(self, data_samples) -> Dict[str, torch.Tensor]:
        losses = {}
        for index, (head, output) in enumerate(
                zip(self.heads, self.captured()), start=1):
            for key, value in head.loss(output, data_samples).items():
                losses[f'{key}{index}'] = value
        return losses


@MODELS.register_module()
class StRAModeDiversity(AuxiliaryLoss):
    """The diversity loss of StRA's mode masks (seed 003 section 4.3).

    Reads the (B, G, H*W) mode masks of every :class:`ModeAttention` (the
    mode attention of each StRA block) in the training forward and returns
    ``{'loss_diversity': loss(masks)}``.

    Args:
        loss (dict): The loss on the list of masks. Defaults to
            ``dict(type='DiversityLoss', loss_weight=1.0)``; seed 003 uses
            0.1 for faces.
        paths (str | list[str], optional): Mode-attention modules. Defaults
            to every :class:`ModeAttention` of the model.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 loss: dict = dict(type='DiversityLoss', loss_weight=1.0),
                 paths: Optional[Union[str, Sequence[str]]] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(paths=paths, init_cfg=init_cfg)
        self.loss_fn = MODELS.build(loss)

    def default_paths(self, model: nn.Module) -> List[str]:
        return [
            name for name, module in model.named_modules()
            if isinstance(module, ModeAttention)
        ]

    def bind(self, model: nn.Module) -> None:
        super().bind(model)
        modules = dict(model.named_modules())
        wrong = [
            p for p in self.paths if not isinstance(modules[p], ModeAttention)
        ]
        if wrong:
            raise ValueError(
                f'StRAModeDiversity: {wrong} are not ModeAttention modules '
                '(the mode attention of a StRA block, e.g. '
                "'...conv2.mode_attention')")

    def record(self, module: nn.Module, output) -> torch.Tensor:
        return module.last_mode_masks

    def loss(self, data_samples) -> Dict[str, torch.Tensor]:
        return {'loss_diversity': self.loss_fn(self.captured())}
