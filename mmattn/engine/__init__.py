from .checkpoint import (SAFE_GLOBALS, UnsafeCheckpointError,
                         load_checkpoint_safely)
from .training_options import (enable_amp, prepare_training_config,
                               select_dist_backend)

__all__ = [
    'SAFE_GLOBALS', 'UnsafeCheckpointError', 'load_checkpoint_safely',
    'prepare_training_config', 'enable_amp', 'select_dist_backend'
]
