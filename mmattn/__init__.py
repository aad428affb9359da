"""mmattn: attention methods (DA, DCS, CSA, StRA, AutoLA/HOGA) as OpenMMLab components.

Importing ``mmattn`` creates its registries, so a config of another
OpenMMLab project can use ``custom_imports=dict(imports=['mmattn'])`` and
``type='mmattn.<Name>'``; the registries import the components on demand.
"""
from . import registry  # noqa: F401
from .version import __version__

__all__ = ['__version__']
