from .attentions import *  # noqa: F401,F403
from .auxiliary_losses import AttentionDeepSupervision  # noqa: F401
from .auxiliary_losses import AuxiliaryLoss, StRAModeDiversity
from .backbones import *  # noqa: F401,F403
from .descriptors import *  # noqa: F401,F403
from .face import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .injection import injected_attentions  # noqa: F401
from .injection import inject_attention, remove_attention
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .reid import *  # noqa: F401,F403
from .search import *  # noqa: F401,F403
