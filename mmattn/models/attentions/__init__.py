from .aa_conv import AttentionAugmentedConv2d
from .cbam import CBAMAttention, ChannelGate, SpatialGate
from .csa import CompressedSelfAttention
from .da import (ChannelWindowAttention, FixedChannelWindowAttention,
                 MultiWindowAttention, merge_windows)
from .dcs import DCSAttention, DCSViTAttention, GumbelChannelMask
from .gather_excite import GatherExciteAttention
from .gc import GlobalContextAttention
from .hoga import (HOGA_GENOTYPES, Genotype, HOGAArchitecture, HOGAttention,
                   HOGCBAMAttention, HOGSEAttention, bind_shared_architecture,
                   hoga_edges)
from .hoga_ops import HOGA_PRIMITIVES, PRIMITIVE_NAMES, MixedOp
from .non_local import NonLocalAttention, ZeroInitProjection
from .sa import SelfAttention2d
from .sasa import StandAloneSelfAttention
from .se import SEAttention
from .stra import (LocalAttention, ModeAttention, StRABottleneck,
                   StructureRegularizedAttention, collect_mode_masks)

__all__ = [
    'NonLocalAttention', 'ZeroInitProjection', 'SEAttention', 'CBAMAttention',
    'ChannelGate', 'SpatialGate', 'ChannelWindowAttention',
    'MultiWindowAttention', 'FixedChannelWindowAttention', 'merge_windows',
    'GumbelChannelMask', 'DCSAttention', 'DCSViTAttention',
    'CompressedSelfAttention', 'LocalAttention', 'ModeAttention',
    'StructureRegularizedAttention', 'StRABottleneck', 'collect_mode_masks',
    'HOGAttention', 'HOGSEAttention', 'HOGCBAMAttention', 'HOGAArchitecture',
    'Genotype', 'HOGA_GENOTYPES', 'bind_shared_architecture', 'hoga_edges',
    'HOGA_PRIMITIVES', 'PRIMITIVE_NAMES', 'MixedOp', 'SelfAttention2d',
    'StandAloneSelfAttention', 'GlobalContextAttention',
    'GatherExciteAttention', 'AttentionAugmentedConv2d'
]
