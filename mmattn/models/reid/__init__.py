from .reid import ReID
from .transreid import TransReIDModel

__all__ = ['ReID', 'TransReIDModel']
