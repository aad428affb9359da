from .attentions import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .descriptors import *  # noqa: F401,F403
from .face import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .reid import *  # noqa: F401,F403
from .search import *  # noqa: F401,F403
from .injection import (inject_attention, injected_attentions,  # noqa: F401
                        remove_attention)
from .auxiliary_losses import (AttentionDeepSupervision,  # noqa: F401
                               AuxiliaryLoss, StRAModeDiversity)
