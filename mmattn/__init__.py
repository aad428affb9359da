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
import warnings

# With the core stack (mmcv-lite, no compiled ops) mmpretrain's import of
# mmcv.cnn.bricks.transformer warns that it cannot import
# MultiScaleDeformableAttention, a compiled op of deformable DETR that no
# mmattn component uses; `tools/misc/setup_downstream.sh` installs the full
# mmcv with it. The message reads like a failure of the set-up, so mmattn
# silences exactly this one (before its registries import mmpretrain).
warnings.filterwarnings(
    'ignore',
    message='Fail to import ``MultiScaleDeformableAttention``',
    category=UserWarning)

from . import registry  # noqa: E402,F401
from .engine import checkpoint  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ['__version__']
