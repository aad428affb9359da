from .data_preprocessor import ReIDDataPreprocessor
from .pcb import PCBReID
from .reid import ReID
from .transreid import TransReIDModel

__all__ = ['PCBReID', 'ReID', 'ReIDDataPreprocessor', 'TransReIDModel']
