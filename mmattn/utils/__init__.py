"""Entry points that OpenMMLab's tools look up by name in every package.

``mmengine.hub.get_model('mmattn::...')`` imports ``mmattn.utils`` and calls
its ``register_all_modules()``, as for mmpretrain and mmdet.
"""
from mmattn.registry import register_all_modules
from .config_scope import register_config_scope

__all__ = ['register_all_modules', 'register_config_scope']
