from .reid import ReID

__all__ = ['ReID']
