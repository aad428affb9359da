from .architecture_hooks import ArchitectureLoggerHook, ExportArchitectureHook
from .freeze_hook import FreezeModulesHook
from .gumbel_temperature_hook import GumbelTemperatureHook
from .ib_variational_hook import IBVariationalHook
from .performance_hooks import ChannelsLastHook, SyncBatchNormCheckHook
from .progress_hook import EvalProgressBarHook
from .reproducibility_hooks import (CheckInvalidLossHook, EpochSeedHook,
                                    ResumeCheckHook)

__all__ = [
    'FreezeModulesHook', 'ArchitectureLoggerHook', 'ExportArchitectureHook',
    'GumbelTemperatureHook', 'IBVariationalHook', 'CheckInvalidLossHook',
    'EpochSeedHook', 'ResumeCheckHook', 'EvalProgressBarHook',
    'ChannelsLastHook', 'SyncBatchNormCheckHook'
]
