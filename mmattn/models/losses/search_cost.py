"""The DNAS search loss of FBNet / DCS-DNAS (seed 001 eq. 5)."""
import torch
import torch.nn as nn

from mmattn.registry import MODELS


@MODELS.register_module()
class DNASCostLoss(nn.Module):
    """``alpha * L_train * log(cost) ** beta``.

    The cost is the supernet's expected cost (``FBNetV2Supernet.
    expected_flops``, METHODS.md section 6), differentiable in the Gumbel
    logits; FBNet uses a latency in ms, here the FLOPs are counted in units of
    ``cost_scale`` (MFLOPs by default) so that the logarithm is of the order
    of the seeds' values.

    Args:
        alpha (float): Scale of the search loss. Defaults to 0.2.
        beta (float): Exponent of ``log(cost)``. Defaults to 0.5.
        cost_scale (float): Unit of the cost. Defaults to 1e6 (MFLOPs).
        min_log_cost (float): ``log(cost)`` is clamped to at least this value
            so that the power stays real and the loss positive.
            Defaults to 1e-6.
    """

    def __init__(self,
                 alpha: float = 0.2,
                 beta: float = 0.5,
                 cost_scale: float = 1e6,
                 min_log_cost: float = 1e-6):
        super().__init__()
        for name, value in (('alpha', alpha), ('beta', beta),
                            ('cost_scale', cost_scale), ('min_log_cost',
                                                         min_log_cost)):
            if isinstance(
                    value,
                    bool) or not isinstance(value,
                                            (int, float)) or not value > 0:
                raise ValueError(
                    f'DNASCostLoss: {name} must be a number > 0, got '
                    f'{value!r}')
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.cost_scale = float(cost_scale)
        self.min_log_cost = float(min_log_cost)

    def cost_factor(self, cost: torch.Tensor) -> torch.Tensor:
        """``log(cost / cost_scale) ** beta`` (clamped), a scalar tensor."""
        cost = torch.as_tensor(cost)
        log_cost = torch.log(cost / self.cost_scale)
        return log_cost.clamp(min=self.min_log_cost)**self.beta

    def forward(self, loss: torch.Tensor, cost: torch.Tensor) -> torch.Tensor:
        """Args:
            loss (Tensor): The training loss L_train (scalar).
            cost (Tensor): The expected cost (scalar, FLOPs).

        Returns:
            Tensor: The search loss (scalar).
        """
        return self.alpha * loss * self.cost_factor(cost)
