from .deep_supervision_head import CSADeepSupervisionHead
from .reid_head import ReIDHead

__all__ = ['CSADeepSupervisionHead', 'ReIDHead']
