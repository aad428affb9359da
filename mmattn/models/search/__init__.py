from .export import (ARCH_FORMAT, ARCH_VERSION, apply_fixed_windows,
                     build_searched_backbone, check_architecture,
                     export_architecture, fix_config, load_architecture_file,
                     save_architecture, searched_network)
from .search_model import BilevelDistributedDataParallel, BilevelSearchModel
from .searchable import (carry_modules, collect_arch_parameters,
                         searchable_modules, split_parameters)

__all__ = [
    'ARCH_FORMAT', 'ARCH_VERSION', 'apply_fixed_windows',
    'build_searched_backbone', 'check_architecture', 'export_architecture',
    'fix_config', 'load_architecture_file', 'save_architecture',
    'searched_network', 'BilevelDistributedDataParallel', 'BilevelSearchModel',
    'carry_modules', 'collect_arch_parameters', 'searchable_modules',
    'split_parameters'
]
