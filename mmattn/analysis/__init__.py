"""Model analysis: parameters and FLOPs with the attention counted."""
from .complexity import (ATTENTION_FLOP_HANDLES, COST_FREE_OPS, TensorPath,
                         build_model_from_cfg, count_complexity,
                         reduction_flop_jit, sdpa_flop_jit)

__all__ = [
    'count_complexity', 'build_model_from_cfg', 'TensorPath', 'sdpa_flop_jit',
    'reduction_flop_jit', 'ATTENTION_FLOP_HANDLES', 'COST_FREE_OPS'
]
