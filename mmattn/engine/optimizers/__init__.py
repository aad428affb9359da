from .bilevel_constructor import BilevelOptimWrapperConstructor

__all__ = ['BilevelOptimWrapperConstructor']
