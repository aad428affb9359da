from .bnneck import BNNeck

__all__ = ['BNNeck']
