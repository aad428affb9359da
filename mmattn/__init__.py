"""mmattn: attention methods (DA, DCS, CSA, StRA, AutoLA/HOGA) as OpenMMLab
components.

Importing ``mmattn`` creates its registries, so a config of another
OpenMMLab project can use ``custom_imports=dict(imports=['mmattn'])`` and
``type='mmattn.<Name>'``; the registries import the components on demand.

It also makes every checkpoint that mmengine loads go through
``torch.load(weights_only=True)`` with mmattn's allow-list (mmengine's
``HistoryBuffer``, numpy arrays), and pickles ``HistoryBuffer`` without
``getattr``: checkpoints written and read by any OpenMMLab tool that imports
mmattn are safe to load, and a crafted one is refused before it runs code
(:mod:`mmattn.engine.checkpoint`).
"""
from . import registry  # noqa: F401
from .engine import checkpoint  # noqa: F401
from .version import __version__

__all__ = ['__version__']
