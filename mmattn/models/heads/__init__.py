from .deep_supervision_head import CSADeepSupervisionHead
from .margin_heads import (ArcFaceHead, BaseFaceHead, CosFaceHead,
                           SoftmaxFaceHead)
from .pcb_head import PartPooling, PCBHead, RefinedPartPooling
from .reid_head import ReIDHead
from .reid_head_ib import ReIDHeadWithIB, TransReIDHeadWithIB
from .transreid_head import TransReIDHead

__all__ = [
    'ArcFaceHead', 'BaseFaceHead', 'CosFaceHead', 'SoftmaxFaceHead',
    'CSADeepSupervisionHead', 'PartPooling', 'PCBHead', 'RefinedPartPooling',
    'ReIDHead', 'ReIDHeadWithIB', 'TransReIDHead', 'TransReIDHeadWithIB'
]
