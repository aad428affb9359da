from .bf16_optim_wrapper import BF16OptimWrapper
from .bilevel_constructor import BilevelOptimWrapperConstructor

__all__ = ['BF16OptimWrapper', 'BilevelOptimWrapperConstructor']
