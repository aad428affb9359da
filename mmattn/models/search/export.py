"""Export a searched architecture to JSON and build the fixed network from it.

The JSON (``format: 'mmattn-architecture'``) describes one model; module
paths are relative to the searched network (the ``model`` inside a
:class:`BilevelSearchModel`, e.g. a ``ReID``), so
``backbone.backbone.layer2.attention`` is the DA module after ``layer2`` of an
``AttentionBackbone``. Sections:

- ``da``: path -> the config of the pruned :class:`FixedChannelWindowAttention`
  (``in_channels``, merged integer ``windows``, ``norm_cfg``) plus ``stats``
  (M -> T, sum of window lengths, the fractional searched windows). A DA
  module after a stage of an FBNetV2 supernet is exported at the width the
  derived subnet gives that stage (channels past it are zero in the
  supernet, so pruning them changes nothing).
- ``hoga``: the genotype (argmax over non-zero primitives of the shared
  alpha), ``softmax(alpha)`` per edge and the paths of the HOGA modules.
- ``fbnetv2``: path -> ``arch`` (``FBNetV2Supernet.export_arch()``, what
  ``FBNetV2Subnet(arch=...)`` takes) and the subnet's FLOPs.
- ``dcs``: path -> module type. A DCS mask depends on the input, so there is
  nothing to fix; the retrained network keeps the module.

A fixed network exports the same sections (``searched: false``), so
``export(build_fixed(export(searched)))`` equals ``export(searched)``.

Retraining: ``SearchedBackbone`` (a registered builder) takes the search
config's backbone and the JSON and returns the fixed backbone::

    backbone=dict(type='SearchedBackbone', arch_file='work_dirs/x/arch.json',
                  backbone=<the backbone config of the search>)
"""
import copy
import json
import os
import os.path as osp
import tempfile
import warnings
from typing import Dict, List, Optional, Union

import torch.nn as nn

from mmattn.registry import MODELS
from ..attentions.da import (ChannelWindowAttention,
                             FixedChannelWindowAttention, merge_windows)
from ..attentions.dcs import DCSAttention, DCSViTAttention
from ..attentions.hoga import HOGAttention
from ..backbones.fbnetv2 import FBNetV2Subnet, FBNetV2Supernet
from ..injection import INJECTED_FLAG, ModuleWithAttention
from .searchable import _unwrap

ARCH_FORMAT = 'mmattn-architecture'
ARCH_VERSION = 1
_SECTIONS = ('da', 'hoga', 'fbnetv2', 'dcs')
_SUPERNET_TYPES = ('FBNetV2Supernet', 'mmattn.FBNetV2Supernet')
_HOGA_TYPES = ('HOGAttention', 'mmattn.HOGAttention')


def searched_network(model: nn.Module) -> nn.Module:
    """The network whose architecture is searched: the ``model`` of a
    :class:`BilevelSearchModel` (any (D)DP wrapper removed), else ``model``.
    """
    model = _unwrap(model)
    return getattr(model, 'architecture_model', model)


def _plain(value):
    """JSON-able copy: tuples -> lists, (Config)dicts -> dicts."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, 'item') and callable(value.item):
        return value.item()
    return value


def _subnet_stage_widths(root: nn.Module) -> Dict[str, int]:
    """Path of every attention injected after a supernet stage -> the width
    of that stage in the derived subnet."""
    widths = {}
    for path, module in root.named_modules():
        if not isinstance(module, FBNetV2Supernet):
            continue
        for index, name in enumerate(module.stage_names):
            width = module.stage_blocks(index)[-1].chosen()[0]
            stage = getattr(module, name)
            stage_path = f'{path}.{name}' if path else name
            while isinstance(stage, ModuleWithAttention):
                widths[f'{stage_path}.attention'] = width
                stage, stage_path = stage.wrapped, f'{stage_path}.wrapped'
    return widths


def _norm_cfg_of(norm: nn.Module) -> Optional[dict]:
    """The mmcv config of a built normalisation layer, where known."""
    if isinstance(norm, nn.SyncBatchNorm):
        return dict(type='SyncBN')
    if isinstance(norm, nn.BatchNorm2d):
        return dict(type='BN')
    return None


def _export_da(path: str, module: nn.Module, width: Optional[int]) -> dict:
    if isinstance(module, FixedChannelWindowAttention):
        windows = [list(w) for w in module.windows]
        return dict(
            type='FixedChannelWindowAttention',
            in_channels=module.in_channels,
            windows=windows,
            norm_cfg=_norm_cfg_of(module.out_proj.norm),
            searched=False,
            stats=dict(
                sum_length=sum(l for _, l in windows),
                num_windows_after=len(windows)))
    entry = module.export_arch()
    stats = module.window_stats()
    channels = module.in_channels
    windows = [tuple(w) for w in entry['windows']]
    if width is not None and width < channels:
        selected = sorted({(s + k) % channels
                           for s, l in windows
                           for k in range(l)})
        kept = [i for i in selected if i < width]
        if not kept:
            warnings.warn(
                f'DA module {path!r}: none of its selected channels lies in '
                f'the first {width} channels the derived subnet keeps; the '
                'fixed module uses all of them')
            kept = list(range(width))
        windows = merge_windows([(i, 1) for i in kept], width)
        channels = width
    return dict(
        type='FixedChannelWindowAttention',
        in_channels=channels,
        windows=[list(w) for w in windows],
        norm_cfg=entry['norm_cfg'],
        searched=True,
        stats=_plain(
            dict(
                sum_length=sum(l for _, l in windows),
                num_windows_before=stats['num_windows_before'],
                num_windows_after=len(windows),
                searched_in_channels=module.in_channels,
                searched_windows=stats['searched_windows'])))


def _export_hoga(modules: Dict[str, HOGAttention]) -> Optional[dict]:
    if not modules:
        return None
    genotypes, weights, primitives = {}, None, None
    searched = any(m.search for m in modules.values())
    for path, module in modules.items():
        if module.search:
            genotypes[path] = module.derive_genotype()
            weights = module.architecture.edge_weights().detach()
            primitives = list(module.architecture.primitives)
        else:
            genotypes[path] = module.genotype
    distinct = set(genotypes.values())
    if len(distinct) != 1:
        raise ValueError(
            'export: the HOGA modules have different genotypes '
            f'({len(distinct)}); one shared architecture is expected')
    genotype = next(iter(distinct))
    section = dict(
        genotype=genotype.to_dict(), searched=searched, modules=list(modules))
    if weights is not None:
        section.update(
            primitives=primitives,
            edge_weights=[[round(float(v), 6) for v in row]
                          for row in weights])
    return section


def export_architecture(model: nn.Module) -> dict:
    """The architecture of ``model`` as a JSON-able dict (see module doc).

    Args:
        model (nn.Module): A searched network, a :class:`BilevelSearchModel`
            (its ``model`` is exported) or a fixed network.

    Returns:
        dict: ``format``, ``version`` and the sections ``da``, ``hoga``,
        ``fbnetv2``, ``dcs`` (empty or None when absent).
    """
    root = searched_network(model)
    widths = _subnet_stage_widths(root)
    arch = dict(
        format=ARCH_FORMAT,
        version=ARCH_VERSION,
        da={},
        hoga=None,
        fbnetv2={},
        dcs={})
    hoga = {}
    for path, module in root.named_modules():
        if isinstance(module,
                      (ChannelWindowAttention, FixedChannelWindowAttention)):
            arch['da'][path] = _export_da(path, module, widths.get(path))
        elif isinstance(module, HOGAttention):
            hoga[path] = module
        elif isinstance(module, FBNetV2Supernet):
            subnet_arch = module.export_arch()
            flops = module.expected_flops(weights='argmax')
            arch['fbnetv2'][path] = dict(
                arch=_plain(subnet_arch),
                searched=True,
                flops=int(round(float(flops))),
                flops_input_size=list(module.flops_input_size))
        elif isinstance(module, FBNetV2Subnet):
            arch['fbnetv2'][path] = dict(
                arch=_plain(module.arch), searched=False)
        elif isinstance(module, (DCSAttention, DCSViTAttention)):
            arch['dcs'][path] = dict(type=type(module).__name__)
    arch['hoga'] = _export_hoga(hoga)
    return arch


def save_architecture(model_or_arch: Union[nn.Module, dict],
                      path: str) -> dict:
    """Write the architecture JSON (atomically) and return the dict."""
    arch = model_or_arch if isinstance(model_or_arch, dict) else \
        export_architecture(model_or_arch)
    check_architecture(arch)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix='.json.tmp')
    with os.fdopen(fd, 'w') as f:
        json.dump(arch, f, indent=2)
    os.replace(tmp, path)
    return arch


def check_architecture(arch: dict, source: str = 'architecture') -> dict:
    """Raise a ValueError unless ``arch`` is an mmattn architecture dict."""
    if not isinstance(arch, dict) or arch.get('format') != ARCH_FORMAT:
        raise ValueError(f'{source}: not an mmattn architecture (expected '
                         f"'format': {ARCH_FORMAT!r})")
    if arch.get('version') != ARCH_VERSION:
        raise ValueError(f'{source}: architecture version '
                         f'{arch.get("version")!r} is not supported '
                         f'(expected {ARCH_VERSION})')
    missing = [key for key in _SECTIONS if key not in arch]
    if missing:
        raise ValueError(f'{source}: missing sections {missing}')
    return arch


def load_architecture_file(path: str) -> dict:
    """Read and check an architecture JSON written by
    :func:`save_architecture` / ``tools/export_arch.py``."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'architecture file {path!r} does not exist; '
                                'it is written at the end of a search '
                                '(ExportArchitectureHook) or by '
                                'tools/export_arch.py')
    with open(path) as f:
        arch = json.load(f)
    return check_architecture(arch, source=path)


def _under(path: str, prefix: str) -> Optional[str]:
    if not prefix:
        return path
    return path[len(prefix):] if path.startswith(prefix) else None


def fix_config(cfg: dict, arch: dict, prefix: str = 'backbone.') -> dict:
    """Rewrite a search config into the fixed one (type level).

    ``FBNetV2Supernet`` becomes ``FBNetV2Subnet(arch=...)`` (same
    ``in_channels``, ``out_indices``, ``norm_cfg``, ``act_cfg``,
    ``init_cfg``) and ``HOGAttention(search=True)`` gets the exported
    genotype. DA windows are per module and are applied after building
    (:func:`apply_fixed_windows`).

    Args:
        cfg (dict): The config of the searched network (or a part of it).
        arch (dict): The architecture dict.
        prefix (str): Path of ``cfg`` 's module in the searched network
            (with a trailing dot), e.g. ``'backbone.'``.

    Returns:
        dict: A new config.
    """
    supernets = {
        path: entry
        for path, entry in arch['fbnetv2'].items()
        if _under(path, prefix) is not None
    }
    used = []

    def rewrite(node):
        if isinstance(node, dict):
            node_type = node.get('type')
            if node_type in _SUPERNET_TYPES:
                if len(supernets) != 1:
                    raise ValueError(
                        'SearchedBackbone: the config has an FBNetV2Supernet;'
                        ' the architecture must describe exactly one under '
                        f'{prefix!r}, it has {sorted(supernets) or "none"}')
                entry = next(iter(supernets.values()))
                used.append(node_type)
                fixed = dict(
                    type='FBNetV2Subnet', arch=copy.deepcopy(entry['arch']))
                for key in ('in_channels', 'out_indices', 'norm_cfg',
                            'act_cfg', 'init_cfg'):
                    if key in node:
                        fixed[key] = copy.deepcopy(node[key])
                return fixed
            if node_type in _HOGA_TYPES and node.get('search', False):
                if not arch.get('hoga'):
                    raise ValueError(
                        'SearchedBackbone: the config searches HOGA but the '
                        'architecture has no hoga genotype')
                fixed = {
                    k: rewrite(v)
                    for k, v in node.items()
                    if k not in ('search', 'primitives')
                }
                fixed['genotype'] = copy.deepcopy(arch['hoga']['genotype'])
                return fixed
            return {k: rewrite(v) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return type(node)(rewrite(v) for v in node)
        return copy.deepcopy(node)

    fixed = rewrite(cfg)
    if supernets and not used:
        raise ValueError(
            'SearchedBackbone: the architecture derives an FBNetV2 subnet '
            f'({sorted(supernets)}) but the backbone config has no '
            'FBNetV2Supernet to replace')
    return fixed


def _set_submodule(root: nn.Module, path: str, module: nn.Module) -> None:
    parent_path, _, name = path.rpartition('.')
    parent = root.get_submodule(parent_path) if parent_path else root
    setattr(parent, name, module)


def apply_fixed_windows(module: nn.Module,
                        arch: dict,
                        prefix: str = '') -> List[str]:
    """Replace every DA module of ``module`` by its fixed, pruned form.

    Args:
        module (nn.Module): A network (or part of it, see ``prefix``) built
            from the search config, in place.
        arch (dict): The architecture dict.
        prefix (str): Path of ``module`` in the searched network, with a
            trailing dot (``''`` for the whole network).

    Returns:
        list[str]: Paths (in ``module``) of the replaced modules.

    Raises:
        ValueError: The architecture has windows for a module that is not a
            DA module of this width, or a DA module has no windows.
    """
    replaced = []
    for path, entry in arch['da'].items():
        local = _under(path, prefix)
        if local is None:
            raise ValueError(
                f'architecture: DA module {path!r} lies outside the '
                f'{prefix!r} part being built; build the part that holds it')
        try:
            current = module.get_submodule(local)
        except AttributeError:
            current = None
        if not isinstance(current, (ChannelWindowAttention,
                                    FixedChannelWindowAttention)) \
                or current.in_channels != entry['in_channels']:
            found = 'no module' if current is None else \
                type(current).__name__
            if hasattr(current, 'in_channels'):
                found += f' with {current.in_channels} channels'
            raise ValueError(
                f'architecture: {path!r} should be a DA module with '
                f'{entry["in_channels"]} channels, the built network has '
                f'{found} there; was it exported from this config?')
        kwargs = {
            k: copy.deepcopy(v)
            for k, v in entry.items()
            if k in ('in_channels', 'windows', 'norm_cfg') and v is not None
        }
        kwargs['windows'] = [tuple(w) for w in kwargs['windows']]
        fixed = FixedChannelWindowAttention(**kwargs)
        if current.__dict__.get(INJECTED_FLAG, False):
            object.__setattr__(fixed, INJECTED_FLAG, True)
        _set_submodule(module, local, fixed)
        replaced.append(local)
    left = [
        name for name, m in module.named_modules()
        if isinstance(m, ChannelWindowAttention)
    ]
    if left:
        raise ValueError(f'architecture: no windows for the DA modules '
                         f'{left}; was it exported from this config?')
    return replaced


def build_searched_backbone(backbone: dict,
                            arch_file: Optional[str] = None,
                            arch: Optional[dict] = None,
                            path_prefix: str = 'backbone.',
                            fix_windows: bool = True) -> nn.Module:
    """Build the fixed backbone of a searched architecture.

    Registered as ``SearchedBackbone``: a config names the backbone config
    of the search and the exported JSON, and gets the fixed backbone
    itself (no wrapper), so module paths and checkpoint keys are those of
    the searched network::

        model = dict(type='ReID', backbone=dict(
            type='SearchedBackbone', arch_file='arch.json',
            backbone=dict(type='AttentionBackbone', ...)), ...)

    Args:
        backbone (dict): The backbone config used in the search.
        arch_file (str, optional): Path of the architecture JSON.
        arch (dict, optional): The architecture dict itself, instead of
            ``arch_file``.
        path_prefix (str): Path of the backbone in the searched network.
            Defaults to ``'backbone.'`` (the backbone of a ReID / classifier).
        fix_windows (bool): Replace the DA modules by the exported fixed
            windows (retraining after a search). False keeps the DA modules
            of ``backbone`` searchable, e.g. multi-window DA trained jointly
            on the derived FBNetV2 subnet (seed 000 table 4).

    Returns:
        nn.Module: The backbone with the FBNetV2 subnet, the fixed HOGA
        genotype and the pruned DA windows.

    Raises:
        ValueError: The architecture does not fit ``backbone`` (a DA module
            path or width, the FBNetV2 supernet, the HOGA genotype); the
            message starts with ``arch_file`` when one is given.
    """
    if (arch_file is None) == (arch is None):
        raise ValueError('SearchedBackbone: give exactly one of arch_file '
                         'and arch')
    if not isinstance(backbone, dict):
        raise TypeError('SearchedBackbone: backbone must be a config dict, '
                        f'got {type(backbone).__name__}')
    arch = load_architecture_file(arch_file) if arch is None else \
        check_architecture(arch)
    try:
        module = MODELS.build(fix_config(backbone, arch, path_prefix))
        if fix_windows:
            apply_fixed_windows(module, arch, path_prefix)
    except ValueError as error:
        # Name the JSON: the mismatch is between it and this config.
        if arch_file is None:
            raise
        raise ValueError(f'{arch_file}: {error}') from error
    return module


MODELS.register_module(name='SearchedBackbone', module=build_searched_backbone)
