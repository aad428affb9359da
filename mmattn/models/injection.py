"""Put an attention module into any backbone by module path.

Every seed inserts its module in one of three ways (DESIGN.md, "The central
idea"), all done by :func:`inject_attention` on any ``nn.Module``:

1. ``after=['layer2', 'layer3']``: run the attention on a module's output
   (DA, DCS, CSA, non-local after a stage);
2. ``in_blocks='layer*.*'``: inside every matched residual block, after its
   last normalisation layer and so before the shortcut add (SE, CBAM, HOGA);
3. ``replace=['layers.*.attn']``: swap a sub-module for the attention (DCS
   in ViT blocks, StRA for ``layer4.*.conv2``).

:func:`remove_attention` undoes the first two.

Paths are ``named_modules()`` names matched segment by segment with
:func:`fnmatch.fnmatchcase` (``*`` never crosses a dot): ``'layer*.*'``
matches ``layer1.0`` but not ``layer1.0.conv1``.
"""
import copy
import inspect
from collections import OrderedDict
from fnmatch import fnmatchcase

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmattn.registry import MODELS

# Set on every module that inject_attention inserted (see injected_attentions).
INJECTED_FLAG = '_mmattn_injected'

SUPPORTED_BLOCKS = (
    'mmpretrain/mmdet ResNet BasicBlock (after norm2) and Bottleneck '
    '(after norm3), torchvision BasicBlock (after bn2) and Bottleneck '
    '(after bn3), mmpretrain MobileNetV2 InvertedResidual (after the last '
    'ConvModule of block.conv)')


class ModuleWithAttention(BaseModule):
    """``attention(wrapped(x))``: a module followed by an injected attention.

    Attribute reads that the wrapper does not answer go to the wrapped module
    (e.g. ``block.norm3.weight`` for mmpretrain's ``zero_init_residual``), and
    a state dict written for the wrapped module alone (an ImageNet checkpoint
    of the stock backbone) loads into ``wrapped``.

    Args:
        wrapped (nn.Module): The original module.
        attention (nn.Module): Attention applied to its (B, C, H, W) output.
    """

    def __init__(self, wrapped, attention):
        super().__init__()
        self.wrapped = wrapped
        self.attention = attention

    def forward(self, *args, **kwargs):
        out = self.wrapped(*args, **kwargs)
        if not isinstance(out, torch.Tensor):
            raise TypeError(
                'the module wrapped for attention '
                f'({type(self.wrapped).__name__}) returned '
                f'{type(out).__name__}; an injected attention needs a '
                '(B, C, H, W) tensor')
        return self.attention(out)

    # Indexing and iteration reach a wrapped container (``layer1[0]``).
    def __getitem__(self, index):
        return self._modules['wrapped'][index]

    def __len__(self):
        return len(self._modules['wrapped'])

    def __bool__(self):
        # Without this, truth tests would go through __len__.
        return True

    def __iter__(self):
        return iter(self._modules['wrapped'])

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            modules = self.__dict__.get('_modules')
            if modules is None or 'wrapped' not in modules:
                raise
            return getattr(modules['wrapped'], name)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        own = [key for key in state_dict if key.startswith(prefix)]
        if not any(key[len(prefix):].startswith('wrapped.') for key in own):
            # A checkpoint without the wrapper: its keys name the wrapped
            # module's members directly.
            wrapped = self._modules['wrapped']
            names = set(wrapped._modules) | set(wrapped._parameters) | set(
                wrapped._buffers)
            for key in own:
                rest = key[len(prefix):]
                if rest.split('.', 1)[0] in names:
                    state_dict[f'{prefix}wrapped.{rest}'] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def path_matches(pattern, path):
    """Whether a module path matches a dotted pattern, segment by segment."""
    pattern_parts = pattern.split('.')
    path_parts = path.split('.')
    return len(pattern_parts) == len(path_parts) and all(
        fnmatchcase(part, pat) for part, pat in zip(path_parts, pattern_parts))


def logical_module_paths(model):
    """Module paths as the user sees them, ignoring earlier injections.

    A :class:`ModuleWithAttention` stands at the path of the module it wraps
    (``layer2``, not ``layer2.wrapped``), the wrapped module's children keep
    their paths (``layer2.0``) and injected attention modules are left out,
    so the patterns of several injections do not depend on their order.

    Returns:
        OrderedDict[str, str]: Logical path -> actual path of the outermost
        module at that position.
    """
    paths = OrderedDict()

    def visit(module, logical, actual):
        for name, child in module._modules.items():
            if child is None:
                continue
            child_logical = f'{logical}.{name}' if logical else name
            child_actual = f'{actual}.{name}' if actual else name
            paths[child_logical] = child_actual
            inner, inner_actual = child, child_actual
            while isinstance(inner, ModuleWithAttention):
                inner = inner.wrapped
                inner_actual += '.wrapped'
            visit(inner, child_logical, inner_actual)

    visit(model, '', '')
    return paths


def _innermost(model, path):
    """Actual path of the original module under any attention wrappers."""
    module = model.get_submodule(path)
    while isinstance(module, ModuleWithAttention):
        module = module.wrapped
        path += '.wrapped'
    return path


def match_module_paths(model, patterns, key='pattern'):
    """Module paths of ``model`` matched by ``patterns``, in module order.

    Patterns match the logical paths of :func:`logical_module_paths`.

    Args:
        model (nn.Module): The model.
        patterns (str | Sequence[str]): Dotted fnmatch patterns.
        key (str): Name of the argument, for error messages.

    Returns:
        list[str]: Actual paths (usable with ``get_submodule``) of the matched
        modules, without duplicates.

    Raises:
        ValueError: A pattern matches no module; the message lists the valid
            paths (shallowest first).
    """
    patterns = _as_pattern_list(patterns, key)
    paths = logical_module_paths(model)
    matched = []
    for pattern in patterns:
        hits = [
            actual for logical, actual in paths.items()
            if path_matches(pattern, logical)
        ]
        if not hits:
            raise ValueError(
                f'{key}: pattern {pattern!r} matches no module of '
                f'{type(model).__name__} (patterns match dotted paths segment '
                'by segment). Valid module paths: '
                f'{describe_paths(list(paths))}')
        matched.extend(path for path in hits if path not in matched)
    return matched


def find_module_paths(model, patterns, owner):
    """Actual module paths of ``model`` (``named_modules`` names, injected
    attention and wrappers included) matched by any of ``patterns``.

    Args:
        model (nn.Module): The model.
        patterns (str | Sequence[str]): Dotted fnmatch patterns, matched
            segment by segment.
        owner (str): Who asks, for the error message.

    Returns:
        list[str]: Matched paths in module order.

    Raises:
        ValueError: Nothing matches; the message lists the module paths.
    """
    patterns = _as_pattern_list(patterns, f'{owner}: paths')
    names = [name for name, _ in model.named_modules()]
    found = [p for p in names if any(path_matches(pat, p) for pat in patterns)]
    if not found:
        raise ValueError(f'{owner}: paths {patterns} match no module; module '
                         f'paths: {describe_paths(names)}')
    return found


def describe_paths(paths, limit=40):
    """The shallowest ``limit`` paths as one line, with the count left out."""
    ordered = sorted(paths, key=lambda path: path.count('.'))
    shown = ', '.join(ordered[:limit])
    if len(ordered) > limit:
        shown += f', ... ({len(ordered) - limit} more)'
    return shown


def _as_pattern_list(patterns, key):
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, (list, tuple)) or not patterns or not all(
            isinstance(p, str) and p for p in patterns):
        raise TypeError(f'{key} must be a non-empty str or list of str, '
                        f'got {patterns!r}')
    return list(patterns)


def last_norm_path(block, path='block'):
    """Relative path of the layer after which a residual block's attention
    goes (its last normalisation, before the shortcut add).

    Raises:
        TypeError: The block type is not supported.
    """
    has_conv3 = hasattr(block, 'conv3')
    norm3 = getattr(block, 'norm3_name', None)
    norm2 = getattr(block, 'norm2_name', None)
    if has_conv3 and isinstance(norm3, str):
        return norm3
    if not has_conv3 and isinstance(norm2, str):
        return norm2
    if has_conv3 and isinstance(getattr(block, 'bn3', None), nn.Module):
        return 'bn3'
    if not has_conv3 and hasattr(block, 'conv2') and isinstance(
            getattr(block, 'bn2', None), nn.Module):
        return 'bn2'
    conv = getattr(block, 'conv', None)
    if hasattr(block, 'use_res_connect') and isinstance(
            conv, nn.Sequential) and len(conv) > 0:
        return f'conv.{len(conv) - 1}'
    raise TypeError(
        f'in_blocks: {path!r} is a {type(block).__name__}, which is not a '
        f'supported residual block. Supported: {SUPPORTED_BLOCKS}. Check that '
        "the pattern matches the blocks (e.g. 'layer*.*'), not the stages.")


def _output_channels_from_metadata(module):
    # Only attributes that describe a feature map's channels: e.g. the
    # ``embed_dims`` of a transformer layer describes (B, N, C) tokens.
    for attr in ('out_channels', 'num_features'):
        value = getattr(module, attr, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    if isinstance(module, nn.Sequential) and len(module) > 0:
        return _output_channels_from_metadata(module[-1])
    return None


def _input_channels_from_metadata(module):
    for attr in ('in_channels', 'num_features'):
        value = getattr(module, attr, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


class _ProbeDone(Exception):
    """Stops the dry forward once every probed module has run."""


def probe_channels(model, paths, dummy_input_shape=(1, 3, 224, 224)):
    """Input and output channels of modules, from one dry forward.

    The model runs in eval mode without gradients on a zero tensor and is
    stopped as soon as every probed module has run; the modules' train/eval
    flags are restored afterwards.

    Args:
        model (nn.Module): Model taking one image tensor.
        paths (Sequence[str]): Module paths to probe.
        dummy_input_shape (Sequence[int]): Shape of the dummy input.

    Returns:
        dict: ``path -> (input shape, output shape)``; a shape is None when
        that side is not a tensor.
    """
    if not isinstance(dummy_input_shape, (list, tuple)) or not all(
            isinstance(v, int) and v > 0 for v in dummy_input_shape):
        raise ValueError('dummy_input_shape must be a sequence of positive '
                         f'ints, got {dummy_input_shape!r}')
    paths = list(paths)
    found = {}

    def make_hook(path):

        def hook(module, args, output):
            in_shape = tuple(args[0].shape) if args and isinstance(
                args[0], torch.Tensor) else None
            out_shape = tuple(output.shape) if isinstance(
                output, torch.Tensor) else None
            found.setdefault(path, (in_shape, out_shape))
            if len(found) == len(paths):
                raise _ProbeDone

        return hook

    handles = [
        model.get_submodule(path).register_forward_hook(make_hook(path))
        for path in paths
    ]
    flags = [(module, module.training) for module in model.modules()]
    param = next(model.parameters(), None)
    device = param.device if param is not None else 'cpu'
    dtype = param.dtype if param is not None and param.is_floating_point() \
        else torch.float32
    model.eval()
    try:
        with torch.no_grad():
            model(
                torch.zeros(
                    tuple(dummy_input_shape), device=device, dtype=dtype))
    except _ProbeDone:
        pass
    except Exception as error:
        raise RuntimeError(
            f'the dry forward of {type(model).__name__} with '
            f'dummy_input_shape={tuple(dummy_input_shape)} (used to infer the '
            f'channels of {paths}) failed: {error}. Set dummy_input_shape to '
            'an input the model accepts, or give in_channels in the '
            'attention cfg.') from error
    finally:
        for handle in handles:
            handle.remove()
        for module, training in flags:
            module.training = training
    missing = [path for path in paths if path not in found]
    if missing:
        raise RuntimeError(f'the dry forward never ran the modules {missing}')
    return found


def _attention_class(attention_cfg):
    if not isinstance(attention_cfg, dict) or 'type' not in attention_cfg:
        raise TypeError('attention_cfg must be a dict with a "type" key, got '
                        f'{attention_cfg!r}')
    attention_type = attention_cfg['type']
    if inspect.isclass(attention_type):
        return attention_type
    cls = MODELS.get(attention_type)
    if cls is None:
        raise ValueError(f'attention type {attention_type!r} is not in the '
                         'mmattn MODELS registry (or its parents)')
    return cls


def _accepts(cls, name):
    parameters = inspect.signature(cls.__init__).parameters
    return name in parameters or any(p.kind is inspect.Parameter.VAR_KEYWORD
                                     for p in parameters.values())


def _set_submodule(model, path, module):
    parent_path, _, name = path.rpartition('.')
    parent = model.get_submodule(parent_path) if parent_path else model
    setattr(parent, name, module)


def injected_attentions(model):
    """All modules that :func:`inject_attention` put into ``model``.

    Returns:
        OrderedDict[str, nn.Module]: Current path -> attention module.
    """
    return OrderedDict((name, module)
                       for name, module in model.named_modules()
                       if module.__dict__.get(INJECTED_FLAG, False))


def inject_attention(model,
                     attention_cfg,
                     after=None,
                     in_blocks=None,
                     replace=None,
                     dummy_input_shape=(1, 3, 224, 224)):
    """Insert attention modules into ``model`` in place.

    Give exactly one of ``after``, ``in_blocks`` and ``replace``. The
    attention is built from ``attention_cfg`` (looked up in mmattn's
    ``MODELS``, so mmpretrain types resolve too) with ``in_channels`` set to
    the channels found at each position: from the module's metadata
    (``out_channels``, ``num_features``; a ``Sequential`` uses its last
    child) or else one dry forward.

    Args:
        model (nn.Module): Any model, modified in place.
        attention_cfg (dict): Config of the attention, e.g.
            ``dict(type='SEAttention', reduction=16)``. An ``in_channels`` in
            it must agree with the inferred channels.
        after (str | Sequence[str], optional): Paths of the modules whose
            (B, C, H, W) output the attention transforms.
        in_blocks (str | Sequence[str], optional): Paths of residual blocks;
            the attention follows each block's last normalisation layer
            (see ``SUPPORTED_BLOCKS``).
        replace (str | Sequence[str], optional): Paths of modules that the
            attention replaces. If the attention class has a ``from_module``
            or ``from_attention`` classmethod it builds the attention from
            the replaced module (weights carry over); otherwise the replaced
            module must keep its shape (equal input/output channels, stride
            1).
        dummy_input_shape (Sequence[int]): Input of the dry forward.
            Defaults to ``(1, 3, 224, 224)``.

    Returns:
        OrderedDict[str, nn.Module]: Path of each new attention module ->
        the module.
    """
    modes = {
        key: value
        for key, value in (('after', after), ('in_blocks', in_blocks),
                           ('replace', replace)) if value is not None
    }
    if len(modes) != 1:
        raise ValueError('give exactly one of after, in_blocks and replace, '
                         f'got {sorted(modes) or "none"}')
    mode, patterns = next(iter(modes.items()))
    cls = _attention_class(attention_cfg)
    kwargs = copy.deepcopy(dict(attention_cfg))
    kwargs.pop('type')

    matched = match_module_paths(model, patterns, key=mode)
    if mode == 'in_blocks':
        targets = []
        for path in matched:
            block_path = _innermost(model, path)
            norm = last_norm_path(model.get_submodule(block_path), path)
            targets.append(f'{block_path}.{norm}')
    elif mode == 'replace':
        # Replace the original module and keep an attention injected after it.
        targets = [_innermost(model, path) for path in matched]
    else:
        targets = matched
    if mode == 'replace':
        for outer in targets:
            for inner in targets:
                if inner.startswith(outer + '.'):
                    raise ValueError(f'replace: {inner!r} lies inside '
                                     f'{outer!r}; replace one or the other')

    converter = None
    if mode == 'replace':
        converter = getattr(cls, 'from_module', None) or getattr(
            cls, 'from_attention', None)
    channels = {} if converter is not None else _infer_channels(
        model, targets, mode, kwargs, dummy_input_shape)

    created = []
    # Deepest first, so the paths of the remaining targets stay valid.
    for target in sorted(targets, key=lambda p: p.count('.'), reverse=True):
        module = model.get_submodule(target)
        if converter is not None:
            attention = converter(module, **kwargs)
        else:
            attention = cls(
                **_with_channels(cls, kwargs, channels[target], target))
        object.__setattr__(attention, INJECTED_FLAG, True)
        if mode == 'replace':
            _set_submodule(model, target, attention)
        else:
            _set_submodule(model, target,
                           ModuleWithAttention(module, attention))
        created.append(attention)
    created_ids = {id(module) for module in created}
    return OrderedDict((path, module)
                       for path, module in injected_attentions(model).items()
                       if id(module) in created_ids)


def remove_attention(model, paths=None):
    """Undo :func:`inject_attention` for ``after`` / ``in_blocks``
    injections, in place.

    Each removed attention's :class:`ModuleWithAttention` wrapper is replaced
    by the module it wrapped, so the model holds its original modules again
    (same objects, same parameters). A ``replace`` injection cannot be undone:
    the replaced module is not kept.

    Args:
        model (nn.Module): A model that :func:`inject_attention` modified.
        paths (str | Sequence[str], optional): Current paths of the attention
            modules to remove, as keys of :func:`injected_attentions` or of
            the dict :func:`inject_attention` returned. Defaults to all.

    Returns:
        OrderedDict[str, nn.Module]: Path (before the removal) -> removed
        attention module, in module order.

    Raises:
        ValueError: A path is not an injected attention, or names one that
            replaced a module; nothing is removed then.
    """
    injected = injected_attentions(model)
    paths = list(injected) if paths is None else _as_pattern_list(
        paths, 'paths')
    unknown = [path for path in paths if path not in injected]
    if unknown:
        raise ValueError(
            f'paths: {unknown} are not attention modules injected into '
            f'{type(model).__name__}; injected: {list(injected) or "none"}')
    wrappers = {}
    for path in paths:
        parent_path, _, name = path.rpartition('.')
        parent = model.get_submodule(parent_path) if parent_path else model
        if name != 'attention' or not isinstance(parent, ModuleWithAttention):
            raise ValueError(
                f'paths: {path!r} replaced the original module '
                '(inject_attention(replace=...)), which was not kept; '
                'rebuild the model to undo a replacement')
        wrappers[path] = parent_path
    # Deepest first, so the paths of the remaining wrappers stay valid.
    for path in sorted(paths, key=lambda p: p.count('.'), reverse=True):
        wrapper = model.get_submodule(wrappers[path])
        _set_submodule(model, wrappers[path], wrapper.wrapped)
    return OrderedDict(
        (path, module) for path, module in injected.items() if path in paths)


def _with_channels(cls, kwargs, channels, target):
    kwargs = copy.deepcopy(kwargs)
    given = kwargs.get('in_channels')
    if given is not None and given != channels:
        raise ValueError(
            f'the attention cfg gives in_channels={given}, but the module at '
            f'{target!r} has {channels} channels')
    if _accepts(cls, 'in_channels'):
        kwargs['in_channels'] = channels
    return kwargs


def _infer_channels(model, targets, mode, kwargs, dummy_input_shape):
    """Channels of the attention at every target path."""
    channels, in_out = {}, {}
    for target in targets:
        module = model.get_submodule(target)
        out_channels = _output_channels_from_metadata(module)
        in_channels = _input_channels_from_metadata(module) \
            if mode == 'replace' else out_channels
        in_out[target] = (in_channels, out_channels)
    unknown = [t for t, pair in in_out.items() if None in pair]
    if unknown:
        try:
            shapes = probe_channels(model, unknown, dummy_input_shape)
        except RuntimeError:
            if kwargs.get('in_channels') is None:
                raise
            # The dry forward is only a means to the channel count; the cfg
            # already gives it.
            given = kwargs['in_channels']
            shapes = {t: ((1, given, 1, 1), (1, given, 1, 1)) for t in unknown}
        for target in unknown:
            in_shape, out_shape = shapes[target]
            if out_shape is None or len(out_shape) != 4:
                raise ValueError(
                    f'{mode}: the module at {target!r} outputs '
                    f'{out_shape if out_shape is not None else "no tensor"}; '
                    'an injected attention needs a (B, C, H, W) output')
            in_channels = in_shape[1] if in_shape is not None and len(
                in_shape) == 4 else None
            in_out[target] = (in_channels if mode == 'replace' else
                              out_shape[1], out_shape[1])
    for target, (in_channels, out_channels) in in_out.items():
        if mode == 'replace':
            module = model.get_submodule(target)
            stride = getattr(module, 'stride', 1)
            if not isinstance(stride, (tuple, list)):
                stride = (stride, )
            if in_channels != out_channels or any(s != 1 for s in stride):
                raise ValueError(
                    f'replace: the module at {target!r} maps {in_channels} to '
                    f'{out_channels} channels with stride {tuple(stride)}; an '
                    'attention without a from_module classmethod must keep '
                    'the shape (equal channels, stride 1)')
        channels[target] = out_channels
    return channels
