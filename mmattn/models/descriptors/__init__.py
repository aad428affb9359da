from .data_preprocessor import PatchDataPreprocessor
from .patch_descriptor import PatchDescriptor

__all__ = ['PatchDataPreprocessor', 'PatchDescriptor']
