from .checkpoint import (SAFE_GLOBALS, UnsafeCheckpointError,
                         load_checkpoint_safely)
from .hooks import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403
from .training_options import (add_runner_arguments, check_cfg_options,
                               enable_amp, load_tool_config,
                               prepare_training_config,
                               select_dist_backend)

__all__ = [
    'SAFE_GLOBALS', 'UnsafeCheckpointError', 'load_checkpoint_safely',
    'prepare_training_config', 'enable_amp', 'select_dist_backend',
    'check_cfg_options', 'add_runner_arguments', 'load_tool_config'
]
