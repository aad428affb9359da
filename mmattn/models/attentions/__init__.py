from .cbam import CBAMAttention, ChannelGate, SpatialGate
from .csa import CompressedSelfAttention
from .da import (ChannelWindowAttention, FixedChannelWindowAttention,
                 MultiWindowAttention, merge_windows)
from .dcs import DCSAttention, DCSViTAttention, GumbelChannelMask
from .hoga import (HOGA_GENOTYPES, Genotype, HOGAArchitecture, HOGAttention,
                   HOGCBAMAttention, HOGSEAttention, bind_shared_architecture,
                   hoga_edges)
from .hoga_ops import HOGA_PRIMITIVES, PRIMITIVE_NAMES, MixedOp
from .non_local import NonLocalAttention, ZeroInitProjection
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
    'HOGA_PRIMITIVES', 'PRIMITIVE_NAMES', 'MixedOp'
]
