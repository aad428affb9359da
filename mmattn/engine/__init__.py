from .checkpoint import (SAFE_GLOBALS, UnsafeCheckpointError,
                         load_checkpoint_safely)
from .hooks import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .pretrained import (PretrainedDownloadError, checkpoint_cache_path,
                         load_from_url)
from .runner import *  # noqa: F401,F403
from .training_options import (add_performance_arguments, add_runner_arguments,
                               amp_dtype, check_cfg_options, enable_amp,
                               enable_channels_last, enable_compile,
                               enable_mixup, enable_sync_bn, load_tool_config,
                               performance_options, prepare_training_config,
                               select_dist_backend, set_dataloader_options)

__all__ = [
    'SAFE_GLOBALS', 'UnsafeCheckpointError', 'load_checkpoint_safely',
    'PretrainedDownloadError', 'checkpoint_cache_path', 'load_from_url',
    'prepare_training_config', 'enable_amp', 'select_dist_backend',
    'check_cfg_options', 'add_runner_arguments', 'load_tool_config',
    'amp_dtype', 'enable_channels_last', 'enable_compile', 'enable_sync_bn',
    'set_dataloader_options', 'add_performance_arguments',
    'performance_options', 'enable_mixup'
]
