from .pcb import PCBReID
from .reid import ReID
from .transreid import TransReIDModel

__all__ = ['PCBReID', 'ReID', 'TransReIDModel']
