from .deep_supervision_head import CSADeepSupervisionHead
from .reid_head import ReIDHead
from .transreid_head import TransReIDHead

__all__ = ['CSADeepSupervisionHead', 'ReIDHead', 'TransReIDHead']
