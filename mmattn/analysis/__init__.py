"""Model analysis: parameters and FLOPs with the attention counted,
inference memory and speed, class selectivity."""
from .complexity import (ATTENTION_FLOP_HANDLES, COST_FREE_OPS, TensorPath,
                         build_model_from_cfg, count_complexity,
                         reduction_flop_jit, sdpa_flop_jit)
from .inference_cost import (add_ratios, cpu_peak_memory_mb,
                             cuda_peak_memory_mb, inference_cost,
                             model_forward)
from .selectivity import (class_means, find_layers, layer_selectivity,
                          layer_unit_activations, selectivity_index)

__all__ = [
    'count_complexity', 'build_model_from_cfg', 'TensorPath', 'sdpa_flop_jit',
    'reduction_flop_jit', 'ATTENTION_FLOP_HANDLES', 'COST_FREE_OPS',
    'inference_cost', 'cpu_peak_memory_mb', 'cuda_peak_memory_mb',
    'add_ratios', 'model_forward', 'class_means', 'selectivity_index',
    'find_layers', 'layer_unit_activations', 'layer_selectivity'
]
