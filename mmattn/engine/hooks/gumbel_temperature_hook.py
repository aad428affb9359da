"""Exponential annealing of the Gumbel temperatures."""
import math
from typing import Sequence

from mmengine.hooks import Hook

from mmattn.registry import HOOKS


@HOOKS.register_module()
class GumbelTemperatureHook(Hook):
    """Set ``tau = tau0 * exp(-decay * epoch)`` before every epoch.

    FBNetV2's schedule (METHODS.md section 6: tau0 = 5, times exp(-0.045)
    per epoch). Every module of the model with one of ``attributes`` gets the
    value: ``gumbel_tau`` (the FBNetV2 supernet and its blocks) and ``tau``
    (DCS's ``GumbelChannelMask``). Resuming recomputes the value from the
    epoch, so it needs no state.

    Args:
        tau0 (float): Temperature of epoch 0. Defaults to 5.
        decay (float): Decay per epoch. Defaults to 0.045.
        min_tau (float): Lower bound. Defaults to 0 (none).
        attributes (Sequence[str]): Attribute names to set. Defaults to
            ``('gumbel_tau', 'tau')``.
    """

    priority = 'NORMAL'

    def __init__(self,
                 tau0: float = 5.0,
                 decay: float = 0.045,
                 min_tau: float = 0.0,
                 attributes: Sequence[str] = ('gumbel_tau', 'tau')):
        if not tau0 > 0 or not decay >= 0 or not min_tau >= 0:
            raise ValueError('GumbelTemperatureHook: need tau0 > 0, decay >= '
                             f'0 and min_tau >= 0, got tau0={tau0!r}, '
                             f'decay={decay!r}, min_tau={min_tau!r}')
        if isinstance(attributes, str) or not attributes:
            raise ValueError('GumbelTemperatureHook: attributes must be a '
                             f'non-empty list of names, got {attributes!r}')
        self.tau0 = float(tau0)
        self.decay = float(decay)
        self.min_tau = float(min_tau)
        self.attributes = tuple(attributes)

    def temperature(self, epoch: int) -> float:
        """The temperature of ``epoch`` (0-based)."""
        return max(self.tau0 * math.exp(-self.decay * epoch), self.min_tau)

    def set_temperature(self, model, tau: float) -> int:
        """Set ``tau`` on every module with one of the attributes; return
        how many were set."""
        count = 0
        for module in model.modules():
            for name in self.attributes:
                value = getattr(module, name, None)
                # Numbers only: a parameter or sub-module of that name is not
                # a temperature.
                if isinstance(value,
                              (int, float)) and not isinstance(value, bool):
                    setattr(module, name, tau)
                    count += 1
        return count

    def before_train_epoch(self, runner) -> None:
        tau = self.temperature(runner.epoch)
        if not self.set_temperature(runner.model, tau):
            raise ValueError(
                'GumbelTemperatureHook: no module of the model has any of '
                f'the attributes {self.attributes}')
        runner.message_hub.update_scalar('train/gumbel_tau', tau)
