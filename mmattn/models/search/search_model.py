"""The bilevel (first-order DARTS) search model and its DDP wrapper."""
from collections import OrderedDict
from typing import Dict, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel, MMDistributedDataParallel
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS

from mmattn.registry import MODEL_WRAPPERS, MODELS
from ..attentions.hoga import HOGAttention, bind_shared_architecture
from .searchable import carry_modules, collect_arch_parameters

_SPLITS = ('train_a', 'train_b')
_WRAPPERS = ('weights', 'architecture')


@MODELS.register_module()
class BilevelSearchModel(BaseModel):
    """Search the architecture of ``model`` by first-order DARTS.

    ``train_step`` receives ``dict(train_a=batch, train_b=batch)`` (either
    key may be missing) from ``BilevelEpochBasedTrainLoop`` and an
    ``OptimWrapperDict(weights=..., architecture=...)`` from
    ``BilevelOptimWrapperConstructor``:

    1. on ``train_a``: loss of ``model``, step of the ``weights`` optimiser
       (the network weights only);
    2. on ``train_b``: loss of ``model`` (times the DNAS cost factor when
       ``cost_loss`` is set), step of the ``architecture`` optimiser (the
       parameters of :func:`collect_arch_parameters` only), then the DA
       carry rule (``carry_()`` of every DA module, seed 000 algorithm 1).

    Gradients of the whole model are cleared before each step, so an
    architecture step never sees the weight loss's gradient and vice versa.
    Validation and testing are ``model`` 's.

    HOGA modules built with ``search=True`` get ONE shared
    ``HOGAArchitecture`` (``self.hoga_architecture``), registered here so
    that it is saved, moved and optimised once.

    Args:
        model (dict | nn.Module): The searched network (``ReID``,
            ``ImageClassifier`` ...) with searchable modules.
        cost_loss (dict, optional): ``DNASCostLoss`` config; needs a module
            with ``expected_flops()`` (an FBNetV2 supernet). Defaults to None.
        cost_weights (str): Option weights of the expected cost, see
            ``FBNetV2Supernet.expected_flops``: ``'sampled'`` (those of the
            forward just run, default) or ``'softmax'``.
        cost_input_size (tuple[int, int], optional): (H, W) at which the
            cost is counted; None uses the supernet's ``flops_input_size``.
        data_preprocessor (dict, optional): Default data preprocessor of
            ``model`` (set by the runner from a top-level config key).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 model: Union[dict, nn.Module],
                 cost_loss: Optional[dict] = None,
                 cost_weights: str = 'sampled',
                 cost_input_size=None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if isinstance(model, dict):
            model = dict(model)
            # The runner passes the config's top-level data_preprocessor
            # here; it belongs to the searched network.
            if data_preprocessor is not None:
                model.setdefault('data_preprocessor', data_preprocessor)
            inner = MODELS.build(model)
        elif data_preprocessor is not None:
            raise ValueError('BilevelSearchModel: give data_preprocessor in '
                             'the config of model, not here')
        else:
            inner = model
        if not isinstance(inner, BaseModel):
            raise TypeError('BilevelSearchModel: model must build an '
                            'mmengine BaseModel (ReID, ImageClassifier ...), '
                            f'got {type(inner).__name__}')
        super().__init__(
            data_preprocessor=inner.data_preprocessor, init_cfg=init_cfg)
        self.model = inner
        if any(
                isinstance(m, HOGAttention) and m.search
                for m in inner.modules()):
            self.hoga_architecture = bind_shared_architecture(inner)
        if not collect_arch_parameters(self):
            raise ValueError(
                'BilevelSearchModel: the model has no architecture '
                'parameters; search DA windows (ChannelWindowAttention), DCS '
                'masks, HOGA (search=True) or an FBNetV2Supernet')
        if cost_weights not in ('sampled', 'softmax'):
            raise ValueError("BilevelSearchModel: cost_weights must be "
                             f"'sampled' or 'softmax', got {cost_weights!r}")
        self.cost_weights = cost_weights
        self.cost_input_size = cost_input_size
        self.cost_loss = MODELS.build(cost_loss) if cost_loss else None
        if self.cost_loss is not None and not self._cost_modules():
            raise ValueError(
                'BilevelSearchModel: cost_loss needs a module with '
                'expected_flops() (FBNetV2Supernet) in the model')

    @property
    def architecture_model(self) -> BaseModel:
        """The searched network (what the architecture export describes)."""
        return self.model

    def _cost_modules(self):
        return [
            m for m in self.model.modules()
            if callable(getattr(type(m), 'expected_flops', None))
        ]

    def expected_cost(self) -> torch.Tensor:
        """Sum of the expected FLOPs of every supernet (scalar tensor)."""
        costs = [
            m.expected_flops(self.cost_input_size, weights=self.cost_weights)
            for m in self._cost_modules()
        ]
        return torch.stack([torch.as_tensor(c) for c in costs]).sum()

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        """The searched network's forward."""
        return self.model(inputs, data_samples, mode=mode)

    @torch.no_grad()
    def carry_(self) -> None:
        """The DA carry rule on every module that has one."""
        for module in carry_modules(self.model):
            module.carry_()

    def train_step(self, data: dict,
                   optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        return self.bilevel_step(data, optim_wrapper, self)

    def bilevel_step(self, data: dict, optim_wrapper: OptimWrapperDict,
                     caller: nn.Module) -> Dict[str, torch.Tensor]:
        """One weight step on ``train_a`` and one architecture step on
        ``train_b``.

        Args:
            data (dict): ``train_a`` and/or ``train_b`` batches.
            optim_wrapper (OptimWrapperDict): With ``weights`` and
                ``architecture``.
            caller (nn.Module): The module whose forward runs the model:
                this model, or its DDP wrapper (so that gradients are
                all-reduced).

        Returns:
            dict: Log variables; those of the architecture step are
            prefixed ``arch_``.
        """
        if not isinstance(data, dict) or not data or set(data) - set(_SPLITS):
            raise ValueError(
                'BilevelSearchModel.train_step expects a dict with train_a '
                'and/or train_b batches (use BilevelEpochBasedTrainLoop), '
                f'got {type(data).__name__}' +
                (f' with keys {sorted(data)}' if isinstance(data, dict) else ''
                 ))
        if not isinstance(optim_wrapper,
                          OptimWrapperDict) or set(_WRAPPERS) - set(
                              optim_wrapper.keys()):
            raise TypeError(
                'BilevelSearchModel.train_step needs an OptimWrapperDict '
                "with 'weights' and 'architecture' (optim_wrapper="
                "dict(constructor='BilevelOptimWrapperConstructor', ...))")
        log_vars = OrderedDict()
        if 'train_a' in data:
            log_vars.update(
                self._step(
                    data['train_a'],
                    optim_wrapper['weights'],
                    caller,
                    architecture=False))
        if 'train_b' in data:
            arch_vars = self._step(
                data['train_b'],
                optim_wrapper['architecture'],
                caller,
                architecture=True)
            self.carry_()
            log_vars.update(
                (f'arch_{key}', value) for key, value in arch_vars.items())
        return log_vars

    def _step(self, batch, wrapper: OptimWrapper, caller: nn.Module,
              architecture: bool) -> Dict[str, torch.Tensor]:
        # The other optimiser never clears these parameters' gradients.
        self.zero_grad(set_to_none=True)
        with wrapper.optim_context(caller):
            batch = self.data_preprocessor(batch, True)
            losses = caller._run_forward(batch, mode='loss')
        loss, log_vars = self.parse_losses(losses)
        if architecture and self.cost_loss is not None:
            cost = self.expected_cost()
            loss = self.cost_loss(loss, cost)
            log_vars['loss_search'] = loss.detach()
            log_vars['mflops'] = cost.detach() / 1e6
        wrapper.update_params(loss)
        return log_vars


@MODEL_WRAPPERS.register_module()
class BilevelDistributedDataParallel(MMDistributedDataParallel):
    """DDP for :class:`BilevelSearchModel`: both steps run through the DDP
    forward, so weight and architecture gradients are all-reduced.

    Use ``model_wrapper_cfg=dict(type='BilevelDistributedDataParallel',
    find_unused_parameters=True)`` in search configs.
    """

    def train_step(self, data: dict,
                   optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        return self.module.bilevel_step(data, optim_wrapper, self)


# mmengine's Runner.wrap_model resolves ``model_wrapper_cfg.type`` with
# ``MODEL_WRAPPERS.get`` on mmengine's root registry, without switching to
# the default scope's registry, and the root does not see mmattn's (a child
# of mmpretrain's): without this, every distributed search failed with
# "issubclass() arg 1 must be a class". The build itself still goes through
# mmattn's registry.
MMENGINE_MODEL_WRAPPERS.register_module(
    name='BilevelDistributedDataParallel',
    module=BilevelDistributedDataParallel)
