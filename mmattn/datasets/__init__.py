from .base_reid_dataset import (CUHK03NP, MSMT17, BaseReIDDataset,
                                DukeMTMCReID, Market1501)
from .samplers import *  # noqa: F401,F403

__all__ = [
    'BaseReIDDataset', 'Market1501', 'DukeMTMCReID', 'MSMT17', 'CUHK03NP'
]
