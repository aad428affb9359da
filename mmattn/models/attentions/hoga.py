"""High Order Group Attention (HOGA) and its AutoLA search (seed 004).

The input x (B, C, H, W) is split into K channel groups F_0 .. F_{K-1} of
C/K channels. Node U_k of a DAG collects one attention edge from its own
group and one from every earlier node (paper eq. 2),

    U_k = o_{k,k}(F_k) + sum_{i<k} o_{i,k}(U_i),

so the DAG has K(K+1)/2 edges (10 for K = 4). Edges are written
``(op_name, source, target)`` with the paper's indices: ``source == target``
is the group input F_target, ``source < target`` is node U_source. The fusion
phi (paper eq. 3; METHODS section 5) is

    z   = [U_0; ...; U_{K-1}; SE(sum_k F_k)]           (C + C/K channels)
    out = SE(BN(conv1x1(ReLU(BN(conv1x1(z))))) + x).

Paper eq. 3 writes the extra input as the sum of the nodes; METHODS and
this implementation use the SE-weighted sum of the groups F_k.

In the search form every edge is a :class:`MixedOp` weighted by
``softmax(alpha_edge)``, where alpha (K(K+1)/2 x 9) is ONE parameter shared by
all HOGA modules of a network: it lives in a :class:`HOGAArchitecture`,
bound to every module with :meth:`HOGAttention.bind_architecture` or
:func:`bind_shared_architecture`.
"""
import dataclasses
import random as pyrandom
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmattn.registry import MODELS
from .hoga_ops import (HOGA_PRIMITIVES, PRIMITIVE_NAMES, MixedOp,
                       SEChannelAttention, check_primitives)

Edge = Tuple[str, int, int]


def hoga_edges(num_groups: int) -> List[Tuple[int, int]]:
    """The ``(source, target)`` pairs of a K-group HOGA in canonical order:
    for each node k, first its group input (k, k), then nodes 0 .. k-1.
    This is the row order of alpha."""
    return [(src, k) for k in range(num_groups)
            for src in [k] + list(range(k))]


def _check_num_groups(num_groups, owner: str) -> None:
    if not isinstance(num_groups, int) or isinstance(num_groups, bool) \
            or num_groups < 1:
        raise ValueError(f'{owner}: num_groups must be a positive int, '
                         f'got {num_groups!r}')


@dataclasses.dataclass(frozen=True)
class Genotype:
    """A fixed HOGA architecture: one primitive per edge.

    Args:
        num_groups (int): K.
        edges (tuple): ``(op_name, source, target)`` for all K(K+1)/2 edges
            (any order; stored in the canonical order of :func:`hoga_edges`).
            ``'none'`` marks an absent edge.
    """
    num_groups: int
    edges: Tuple[Edge, ...]

    def __post_init__(self):
        _check_num_groups(self.num_groups, 'Genotype')
        by_pair: Dict[Tuple[int, int], str] = {}
        for edge in self.edges:
            if len(edge) != 3:
                raise ValueError('Genotype: each edge must be (op_name, '
                                 f'source, target), got {edge!r}')
            op, src, tgt = edge
            if op not in HOGA_PRIMITIVES:
                raise ValueError(f'Genotype: unknown primitive {op!r} on edge '
                                 f'({src}, {tgt}); valid names are '
                                 f'{list(HOGA_PRIMITIVES)}')
            if (int(src), int(tgt)) in by_pair:
                raise ValueError(f'Genotype: edge ({src}, {tgt}) is given '
                                 'twice')
            by_pair[(int(src), int(tgt))] = op
        expected = hoga_edges(self.num_groups)
        if set(by_pair) != set(expected):
            raise ValueError(
                f'Genotype: a {self.num_groups}-group HOGA has the edges '
                f'{expected} (source == target is the group input); got '
                f'{sorted(by_pair)}')
        object.__setattr__(
            self, 'edges',
            tuple((by_pair[pair], pair[0], pair[1]) for pair in expected))

    @property
    def ops(self) -> Tuple[str, ...]:
        """Primitive names in canonical edge order."""
        return tuple(edge[0] for edge in self.edges)

    def to_dict(self) -> dict:
        """JSON-able form ``{'num_groups': K, 'edges': [[op, src, tgt]]}``."""
        return dict(
            num_groups=self.num_groups,
            edges=[list(edge) for edge in self.edges])

    @classmethod
    def from_dict(cls, cfg: dict) -> 'Genotype':
        """Inverse of :meth:`to_dict`."""
        if not isinstance(cfg, dict) or set(cfg) != {'num_groups', 'edges'}:
            raise ValueError(
                "Genotype.from_dict: expected a dict with keys 'num_groups' "
                f"and 'edges', got {cfg!r}")
        return cls(
            cfg['num_groups'],
            tuple((str(op), int(src), int(tgt))
                  for op, src, tgt in cfg['edges']))

    @classmethod
    def uniform(cls, op: str, num_groups: int = 4) -> 'Genotype':
        """Every edge is ``op`` (HOG_SE / HOG_CBAM of paper table 6)."""
        return cls(
            num_groups,
            tuple((op, src, tgt) for src, tgt in hoga_edges(num_groups)))

    @classmethod
    def random(cls,
               num_groups: int = 4,
               seed: int = 0,
               primitives: Optional[Sequence[str]] = None) -> 'Genotype':
        """A random genotype (Rand_HOGA of paper table 6): every edge draws
        one primitive, uniformly and independently, from ``primitives``
        without ``'none'`` (so no edge is absent), with
        ``random.Random(seed)``; the same seed gives the same genotype.

        Args:
            num_groups (int): K. Defaults to 4.
            seed (int): Seed of the draw. Defaults to 0.
            primitives (Sequence[str], optional): Candidates. Defaults to
                the 9 of the paper (8 without ``'none'``).
        """
        _check_num_groups(num_groups, 'Genotype.random')
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError('Genotype.random: seed must be an int, got '
                             f'{seed!r}')
        names = [
            p for p in check_primitives(primitives or PRIMITIVE_NAMES,
                                        'Genotype.random') if p != 'none'
        ]
        if not names:
            raise ValueError("Genotype.random: primitives hold only 'none'; "
                             'give at least one attention primitive')
        rng = pyrandom.Random(seed)
        return cls(
            num_groups,
            tuple((rng.choice(names), src, tgt)
                  for src, tgt in hoga_edges(num_groups)))


#: Named genotypes. ``'autola'`` is the HOGA searched on ResNet-20 / CIFAR-10
#: (paper figure 3, K = 4), read from the figure's text:
#: O_00 skip connection ("A_1"); O_01 A_n (k3, d1); O_11 A_s (k3, d1);
#: O_02 A_n (k3, d1); O_12 skip; O_03 skip; O_13 A_n (k3, d2);
#: O_23 A_s (k3, d1); O_33 A_n (k3, d1); O_22 "A_h (kernel = 7, dilation = 1)".
#: A_n is the normalisation attention (eq. 7), A_s the spatial attention
#: (eq. 6). The figure's "A_h" with a 7x7 kernel is not a symbol of the text;
#: the only 7x7 operation of the search space is CBAM's spatial attention, so
#: it is read as CBAM (A_b, eq. 8) - the one uncertain edge. The figure itself
#: (the drawn DAG) is not in the text, only this edge list, which is complete
#: (all 10 edges of K = 4), so no edge is 'none'.
#: ``'hog_se'`` / ``'hog_cbam'`` are the HOG_SE / HOG_CBAM baselines of
#: table 6 (K = 4, all edges SE / CBAM).
HOGA_GENOTYPES: Dict[str, Genotype] = {
    'autola':
    Genotype(4, (
        ('skip_connect', 0, 0),
        ('spatial_sep_conv_3x3', 1, 1),
        ('norm_sep_conv_3x3', 0, 1),
        ('cbam', 2, 2),
        ('norm_sep_conv_3x3', 0, 2),
        ('skip_connect', 1, 2),
        ('norm_sep_conv_3x3', 3, 3),
        ('skip_connect', 0, 3),
        ('norm_dil_conv_3x3', 1, 3),
        ('spatial_sep_conv_3x3', 2, 3),
    )),
    'hog_se':
    Genotype.uniform('se', 4),
    'hog_cbam':
    Genotype.uniform('cbam', 4),
}


def build_genotype(genotype: Union[str, dict, Genotype]) -> Genotype:
    """A :class:`Genotype` from its name in :data:`HOGA_GENOTYPES`, its
    :meth:`Genotype.to_dict` form, ``dict(random_seed=S, num_groups=K)``
    (:meth:`Genotype.random`; optional ``primitives``), or itself."""
    if isinstance(genotype, Genotype):
        return genotype
    if isinstance(genotype, str):
        if genotype not in HOGA_GENOTYPES:
            raise ValueError(f'unknown HOGA genotype {genotype!r}; named '
                             f'genotypes are {list(HOGA_GENOTYPES)}')
        return HOGA_GENOTYPES[genotype]
    if isinstance(genotype, dict) and 'random_seed' in genotype:
        extra = set(genotype) - {'random_seed', 'num_groups', 'primitives'}
        if extra:
            raise ValueError(
                'a random HOGA genotype is dict(random_seed=S, num_groups=K'
                f'[, primitives=[...]]); unexpected keys {sorted(extra)}')
        return Genotype.random(
            genotype.get('num_groups', 4), genotype['random_seed'],
            genotype.get('primitives'))
    if isinstance(genotype, dict):
        return Genotype.from_dict(genotype)
    raise TypeError('genotype must be a name, a dict or a Genotype, got '
                    f'{type(genotype).__name__}')


@MODELS.register_module()
class HOGAArchitecture(BaseModule):
    """The architecture parameters alpha shared by all HOGA modules.

    Args:
        num_groups (int): K. Defaults to 4.
        primitives (Sequence[str]): Candidate operations (alpha columns).
            Defaults to the 9 of the paper.
        init_std (float): alpha starts as ``init_std * N(0, 1)`` (paper:
            standard Gaussian times 0.001). Defaults to 1e-3.
        init_cfg (dict, optional): Initialisation config.

    Attributes:
        alpha (nn.Parameter): (K(K+1)/2, len(primitives)), rows in the order
            of :func:`hoga_edges`.
    """

    def __init__(self,
                 num_groups: int = 4,
                 primitives: Sequence[str] = PRIMITIVE_NAMES,
                 init_std: float = 1e-3,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        _check_num_groups(num_groups, 'HOGAArchitecture')
        self.num_groups = num_groups
        self.primitives = check_primitives(primitives, 'HOGAArchitecture')
        if self.primitives == ('none', ):
            raise ValueError("HOGAArchitecture: primitives must contain an "
                             "operation other than 'none'")
        self.edges = hoga_edges(num_groups)
        self.alpha = nn.Parameter(
            init_std * torch.randn(len(self.edges), len(self.primitives)))

    def arch_parameters(self) -> List[nn.Parameter]:
        """``[alpha]``: what the architecture optimiser updates."""
        return [self.alpha]

    def edge_weights(self) -> torch.Tensor:
        """``softmax(alpha)`` per edge (paper eq. 13), (num_edges, M)."""
        return self.alpha.softmax(dim=-1)

    def derive_genotype(self) -> Genotype:
        """The most likely non-zero operation of every edge.

        Paper eq. 16 writes argmin; the intended (DARTS) rule is the argmax
        of alpha, taken over the operations other than ``'none'``.
        """
        scores = self.alpha.detach().clone()
        if 'none' in self.primitives:
            scores[:, self.primitives.index('none')] = float('-inf')
        best = scores.argmax(dim=-1).tolist()
        return Genotype(
            self.num_groups,
            tuple((self.primitives[b], src, tgt)
                  for b, (src, tgt) in zip(best, self.edges)))


@MODELS.register_module()
class HOGAttention(BaseModule):
    """High order group attention, fixed or searchable.

    Placed inside a residual block after its last BN, before the shortcut
    add (``in_blocks`` injection), like SE.

    Args:
        in_channels (int): Channels C, divisible by ``num_groups``.
        num_groups (int): K, the order of the attention (paper: 2, 4, 8;
            4 by default).
        genotype (str | dict | Genotype, optional): The fixed architecture:
            a name of :data:`HOGA_GENOTYPES`, a :meth:`Genotype.to_dict`
            dict (e.g. loaded from the JSON exported after search) or a
            :class:`Genotype`. ``None`` with ``search=False`` means
            ``'autola'`` (the paper's searched HOGA; K = 4 only).
        search (bool): Build the search form (every edge a :class:`MixedOp`;
            alpha comes from a bound :class:`HOGAArchitecture`). Defaults to
            False.
        primitives (Sequence[str]): Candidates of the search form. Defaults
            to the paper's 9.
        fusion (str): Channel attention of the fusion phi: ``'se'`` (paper
            and METHODS: SE on the group sum and SE after the residual add)
            or ``'none'`` (plain 1x1-conv fusion, for ablations).
        fusion_reduction (int): Reduction r of the two fusion SEs (the SE
            after the residual add costs ~2C^2/r of the module's ~(2.25 +
            0.3 + 2/r) C^2 parameters). Not given by the paper; each of its
            tables fits the r of that table's SE baseline: 2 (the default)
            for the CIFAR-10 ResNets of seed 004 tables 2 and 6, 16 for the
            ImageNet ResNets of table 4 and the ResNeXt of table 3 (the
            configs' ``hoga_in_blocks_in1k`` / ``hoga_in_bottlenecks``; see
            docs/user_guides/paper_tables.md for the arithmetic).
        init_cfg (dict, optional): Initialisation config.

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self,
                 in_channels: int,
                 num_groups: int = 4,
                 genotype: Union[str, dict, Genotype, None] = None,
                 search: bool = False,
                 primitives: Sequence[str] = PRIMITIVE_NAMES,
                 fusion: str = 'se',
                 fusion_reduction: int = 2,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        _check_num_groups(num_groups, name)
        if not isinstance(in_channels, int) or in_channels < 1 \
                or in_channels % num_groups != 0:
            raise ValueError(
                f'{name}: in_channels ({in_channels}) must be a positive '
                f'multiple of num_groups ({num_groups})')
        if fusion not in ('se', 'none'):
            raise ValueError(f"{name}: fusion must be 'se' or 'none', got "
                             f'{fusion!r}')
        self.in_channels = in_channels
        self.num_groups = num_groups
        self.group_channels = in_channels // num_groups
        self.search = search
        self.edge_pairs = hoga_edges(num_groups)
        object.__setattr__(self, '_architecture', None)
        if search:
            if genotype is not None:
                raise ValueError(f'{name}: give either search=True or a '
                                 'genotype, not both')
            self.primitives = check_primitives(primitives, name)
            self.genotype = None
            self.edge_ops = nn.ModuleList(
                MixedOp(self.group_channels, self.primitives)
                for _ in self.edge_pairs)
        else:
            if genotype is None:
                if num_groups != 4:
                    raise ValueError(
                        f'{name}: the default genotype (autola) has 4 groups;'
                        f' give a genotype for num_groups={num_groups}')
                genotype = 'autola'
            self.genotype = build_genotype(genotype)
            if self.genotype.num_groups != num_groups:
                raise ValueError(
                    f'{name}: the genotype has {self.genotype.num_groups} '
                    f'groups but num_groups={num_groups}')
            self.primitives = None
            self.edge_ops = nn.ModuleList(
                HOGA_PRIMITIVES[op](self.group_channels)
                for op in self.genotype.ops)
        gc = self.group_channels
        use_se = fusion == 'se'
        self.group_sum_attention = SEChannelAttention(
            gc, fusion_reduction) if use_se else nn.Identity()
        self.fuse = nn.Sequential(
            nn.Conv2d(in_channels + gc, in_channels, 1, bias=False),
            nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True),
            nn.Conv2d(in_channels, in_channels, 1, bias=False),
            nn.BatchNorm2d(in_channels))
        self.out_attention = SEChannelAttention(
            in_channels, fusion_reduction) if use_se else nn.Identity()

    @property
    def num_edges(self) -> int:
        """K(K+1)/2."""
        return len(self.edge_pairs)

    # -- search form ---------------------------------------------------
    @property
    def architecture(self) -> Optional[HOGAArchitecture]:
        """The bound :class:`HOGAArchitecture` (search form), or None."""
        return self._architecture

    def bind_architecture(self, architecture: HOGAArchitecture) -> None:
        """Use ``architecture.alpha`` as this module's alpha.

        The architecture is referenced, not registered as a sub-module: its
        owner (the search model) registers it once, so alpha is neither
        duplicated in the state dict nor mixed into the weight parameters.
        """
        name = type(self).__name__
        if not self.search:
            raise RuntimeError(f'{name}: bind_architecture needs the search '
                               'form (search=True)')
        if not isinstance(architecture, HOGAArchitecture):
            raise TypeError(f'{name}: expected a HOGAArchitecture, got '
                            f'{type(architecture).__name__}')
        if architecture.num_groups != self.num_groups \
                or architecture.primitives != self.primitives:
            raise ValueError(
                f'{name}: the architecture has num_groups='
                f'{architecture.num_groups}, primitives='
                f'{list(architecture.primitives)}; this module has '
                f'num_groups={self.num_groups}, primitives='
                f'{list(self.primitives)}')
        object.__setattr__(self, '_architecture', architecture)

    def _bound_architecture(self) -> HOGAArchitecture:
        if self._architecture is None:
            raise RuntimeError(
                f'{type(self).__name__}: the search form has no alpha; call '
                'bind_architecture(HOGAArchitecture(...)) or '
                'bind_shared_architecture(model) first')
        return self._architecture

    def arch_parameters(self) -> List[nn.Parameter]:
        """``[alpha]`` of the bound architecture (shared by all modules);
        ``[]`` for the fixed-genotype form, which has nothing to search."""
        if not self.search:
            return []
        return self._bound_architecture().arch_parameters()

    def derive_genotype(self) -> Genotype:
        """Argmax genotype of the bound architecture."""
        return self._bound_architecture().derive_genotype()

    # -- forward -------------------------------------------------------
    @staticmethod
    def _as_tensor(node, group: torch.Tensor) -> torch.Tensor:
        # A node whose every incoming edge is 'none' is a zero tensor.
        return group.mul(0.0) if isinstance(node, int) else node

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'{type(self).__name__}: expected (B, {self.in_channels}, H, '
                f'W) input, got shape {tuple(x.shape)}')
        weights = (
            self._bound_architecture().edge_weights() if self.search else None)
        groups = torch.split(x, self.group_channels, dim=1)
        nodes: List[torch.Tensor] = []
        node = None
        for e, (src, tgt) in enumerate(self.edge_pairs):
            if src == tgt:
                # A new node starts with the edge from its own group.
                if node is not None:
                    nodes.append(self._as_tensor(node, groups[len(nodes)]))
                node = 0
            h = groups[tgt] if src == tgt else nodes[src]
            if self.search:
                node = node + self.edge_ops[e](h, weights[e])
            elif self.genotype.ops[e] != 'none':
                node = node + self.edge_ops[e](h)
        nodes.append(self._as_tensor(node, groups[-1]))
        group_sum = self.group_sum_attention(sum(groups))
        fused = self.fuse(torch.cat(nodes + [group_sum], dim=1))
        return self.out_attention(fused + x)


@MODELS.register_module(name=['HOGSEAttention', 'HOG_SE'])
class HOGSEAttention(HOGAttention):
    """HOG_SE of paper table 6: a HOGA whose every edge is SE attention.

    Args:
        in_channels (int): Channels C.
        num_groups (int): K. Defaults to 4.
        **kwargs: ``fusion``, ``fusion_reduction``, ``init_cfg`` of
            :class:`HOGAttention`.
    """

    def __init__(self, in_channels: int, num_groups: int = 4, **kwargs):
        _check_num_groups(num_groups, 'HOGSEAttention')
        super().__init__(
            in_channels,
            num_groups=num_groups,
            genotype=Genotype.uniform('se', num_groups),
            **kwargs)


@MODELS.register_module(name=['HOGCBAMAttention', 'HOG_CBAM'])
class HOGCBAMAttention(HOGAttention):
    """HOG_CBAM of paper table 6: a HOGA whose every edge is CBAM.

    Args:
        in_channels (int): Channels C.
        num_groups (int): K. Defaults to 4.
        **kwargs: ``fusion``, ``fusion_reduction``, ``init_cfg`` of
            :class:`HOGAttention`.
    """

    def __init__(self, in_channels: int, num_groups: int = 4, **kwargs):
        _check_num_groups(num_groups, 'HOGCBAMAttention')
        super().__init__(
            in_channels,
            num_groups=num_groups,
            genotype=Genotype.uniform('cbam', num_groups),
            **kwargs)


def bind_shared_architecture(
        model: nn.Module,
        architecture: Optional[HOGAArchitecture] = None) -> HOGAArchitecture:
    """Bind ONE :class:`HOGAArchitecture` to every searchable HOGA module.

    Args:
        model (nn.Module): A network with HOGA modules built with
            ``search=True`` (e.g. injected into a backbone).
        architecture (HOGAArchitecture, optional): The shared architecture;
            by default one is created from the first module's ``num_groups``
            and ``primitives``, on its device.

    Returns:
        HOGAArchitecture: The shared architecture. The caller registers it
        (e.g. ``self.architecture = bind_shared_architecture(self.backbone)``)
        so that it is saved, moved to the device and optimised.
    """
    modules = [
        m for m in model.modules() if isinstance(m, HOGAttention) and m.search
    ]
    if not modules:
        raise ValueError('bind_shared_architecture: the model has no HOGA '
                         'module with search=True')
    if architecture is None:
        first = modules[0]
        architecture = HOGAArchitecture(first.num_groups, first.primitives)
        param = next(first.parameters())
        architecture.to(param.device)
    for m in modules:
        m.bind_architecture(architecture)
    return architecture
