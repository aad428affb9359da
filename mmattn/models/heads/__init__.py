from .deep_supervision_head import CSADeepSupervisionHead
from .reid_head import ReIDHead
from .reid_head_ib import ReIDHeadWithIB
from .transreid_head import TransReIDHead

__all__ = [
    'CSADeepSupervisionHead', 'ReIDHead', 'ReIDHeadWithIB', 'TransReIDHead'
]
