"""Checkpoints load with ``torch.load(weights_only=True)`` only and are
written atomically.

torch >= 2.6 refuses to unpickle arbitrary objects by default, which also
refuses mmengine's own checkpoints (their message hub holds
``HistoryBuffer`` objects with numpy arrays). Instead of switching the check
off, the few types mmengine writes are allow-listed and every ``torch.load``
of mmengine's checkpoint loaders is replaced by one that keeps
``weights_only=True`` (whatever ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` says)
and explains a refusal. A crafted checkpoint whose pickle calls anything else
(``os.system``, ``eval``) is refused before any of it runs.

``import mmattn`` installs all of this (:func:`install_weights_only_loading`),
so it also holds for other projects' tools that only list mmattn in
``custom_imports``.
"""
import copyreg
import os
import os.path as osp
import pickle
import re
import tempfile
import types
import warnings

import numpy as np
import torch
from mmengine.fileio import LocalBackend
from mmengine.fileio import io as mmengine_io
from mmengine.fileio import register_backend
from mmengine.logging import HistoryBuffer
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint holds objects outside the weights-only allow-list."""


def _numpy_globals():
    """The numpy reconstructors and dtypes a saved ndarray / scalar needs."""
    multiarray = getattr(np, '_core', np.core).multiarray
    names = [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype]
    # numpy >= 1.25 pickles dtypes as their own classes (Float64DType ...).
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        names += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType')
        ]
    return names


def _reduce_history_buffer(buffer: HistoryBuffer):
    """Pickle a HistoryBuffer as ``HistoryBuffer(logs, counts, max_length)``.

    By default its pickle also calls ``getattr`` (for the bound statistics
    methods), which a weights-only load must not allow: ``getattr`` on
    allowed objects reaches arbitrary attributes.
    """
    return HistoryBuffer, (buffer._log_history, buffer._count_history,
                           buffer.max_length)


copyreg.pickle(HistoryBuffer, _reduce_history_buffer)

#: Types an mmengine checkpoint may hold besides tensors and builtins.
SAFE_GLOBALS = [HistoryBuffer] + _numpy_globals()

#: What to do instead of allow-listing a refused global.
SAFE_ALTERNATIVES = (
    'Do not allow-list it (torch.serialization.add_safe_globals, '
    'weights_only=False or TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD): builtins such '
    'as getattr, eval or exec and modules such as os let a checkpoint run '
    'any code while it loads. What is safe instead: (1) checkpoints written '
    'with mmattn imported (tools/train.py, or custom_imports='
    "dict(imports=['mmattn']) in any OpenMMLab config) load as they are; "
    "(2) if you only need the weights, ask for a file of the 'state_dict' "
    'tensors only; (3) a checkpoint you wrote yourself with mmengine '
    'without mmattn can be re-saved once, in that trusted environment, with '
    'mmattn imported: python -c "import mmattn, torch; torch.save('
    "torch.load('OLD.pth', weights_only=False), 'NEW.pth')\".")

#: Sentences of torch's refusal that advise switching the check off.
_TORCH_ADVICE = re.compile(
    r'[^.\n]*(weights_only[`\s]*(argument|set to|=)\s*`?False|'
    r'safe_globals|allowlist|trusted source|trust the source|'
    r'Check the documentation|file an issue)[^\n]*', re.IGNORECASE)


def _refusal_reason(message: str) -> str:
    """What the weights-only unpickler refused, without torch's advice to
    allow-list it or to load with ``weights_only=False``."""
    found = re.search(r'GLOBAL (\S+)', message)
    if found:
        return f'its pickle calls {found.group(1)}, which is not a weight type'
    lines = [
        line.strip() for line in _TORCH_ADVICE.sub('', message).splitlines()
    ]
    detail = ' '.join(
        line for line in lines
        if line and not line.startswith('Weights only load failed'))
    return detail or 'its pickle holds something other than plain weights'


def weights_only_load(f, map_location=None, **kwargs):
    """:func:`torch.load` with ``weights_only=True`` whatever the caller or
    ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` asks for.

    mmattn puts this function where mmengine's checkpoint loaders call
    ``torch.load`` (and ``load_url``), so every checkpoint mmengine's Runner
    loads (``load_from``, ``resume``, ``init_cfg=dict(type='Pretrained')``,
    any URL scheme) is unpickled by torch's weights-only unpickler with the
    allow-list :data:`SAFE_GLOBALS`. An explicit ``weights_only=True``
    cannot be overridden by the environment variable (torch lets it switch
    off only a ``weights_only`` left unset).

    Args:
        f: A file name or a file-like object, as for :func:`torch.load`.
        map_location: As for :func:`torch.load`.
        **kwargs: Further :func:`torch.load` arguments; ``weights_only`` and
            ``pickle_module`` are refused.

    Raises:
        UnsafeCheckpointError: the pickle references a global outside the
            allow-list; nothing of it has run.
    """
    if kwargs.pop('weights_only', True) is not True or \
            'pickle_module' in kwargs:
        raise UnsafeCheckpointError(
            'mmattn loads checkpoints only with torch.load(weights_only=True)'
            '; weights_only=False and a custom pickle_module are refused. ' +
            SAFE_ALTERNATIVES)
    name = f if isinstance(f,
                           (str,
                            os.PathLike)) else getattr(f, 'name', '<stream>')
    try:
        return torch.load(
            f, map_location=map_location, weights_only=True, **kwargs)
    except pickle.UnpicklingError as err:
        raise UnsafeCheckpointError(
            f'refusing to load checkpoint {str(name)!r}: '
            f'{_refusal_reason(str(err))} (mmattn loads checkpoints only '
            'with torch.load(weights_only=True); nothing of the file has '
            'run). ' + SAFE_ALTERNATIVES) from None


def load_checkpoint_safely(filename: str, map_location=None) -> dict:
    """``torch.load`` a local checkpoint with ``weights_only=True``.

    Args:
        filename (str): Path of the checkpoint.
        map_location: As for :func:`torch.load`.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        UnsafeCheckpointError: the pickle references a global outside the
            allow-list (tensors, builtins, mmengine's ``HistoryBuffer``,
            numpy arrays).
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename!r} does not exist')
    return weights_only_load(filename, map_location=map_location)


def weights_only_load_url(url, model_dir=None, map_location=None, **kwargs):
    """mmengine's ``load_url`` (``torch.hub.load_state_dict_from_url``,
    which defaults to ``weights_only=False``) with the downloaded or cached
    file read by :func:`weights_only_load`."""
    kwargs.pop('weights_only', None)
    try:
        return torch.hub.load_state_dict_from_url(
            url,
            model_dir=model_dir,
            map_location=map_location,
            weights_only=True,
            **kwargs)
    except pickle.UnpicklingError as err:
        raise UnsafeCheckpointError(
            f'refusing to load checkpoint {url!r}: '
            f'{_refusal_reason(str(err))} (mmattn loads checkpoints only '
            'with torch.load(weights_only=True); nothing of the file has '
            'run). ' + SAFE_ALTERNATIVES) from None


class _TorchForCheckpoints(types.ModuleType):
    """``torch`` as mmengine.runner.checkpoint sees it: the same module
    except that ``load`` is :func:`weights_only_load`."""

    def __init__(self):
        super().__init__('torch')

    def __getattr__(self, name):
        return getattr(torch, name)

    load = staticmethod(weights_only_load)


def install_weights_only_loading() -> None:
    """Make every checkpoint load of mmengine weights-only.

    Called when ``mmattn`` is imported (also by ``custom_imports=dict(
    imports=['mmattn'])``). Patches only the names that
    ``mmengine.runner.checkpoint`` calls: its ``torch.load`` (local files,
    ``open-mmlab://``, ``pavi://``, ``s3://``), its ``load_url`` (``http(s)
    ://``, ``torchvision://``, ``mmcls://``) and the local-file scheme of
    ``CheckpointLoader``; nothing else in torch or mmengine changes.
    Idempotent.
    """
    torch.serialization.add_safe_globals(SAFE_GLOBALS)
    if not isinstance(mmengine_checkpoint.torch, _TorchForCheckpoints):
        mmengine_checkpoint.torch = _TorchForCheckpoints()
    mmengine_checkpoint.load_url = weights_only_load_url
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_checkpoint_safely, force=True)
    flag = os.getenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '0').lower()
    if flag in ('1', 'y', 'yes', 'true'):
        warnings.warn(
            'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD is set: mmattn still loads '
            'every checkpoint that goes through mmengine with '
            'torch.load(weights_only=True), since the variable would let a '
            'crafted checkpoint run code.',
            UserWarning,
            stacklevel=2)


# Checkpoints written by mmengine without mmattn imported pickle
# HistoryBuffer through ``getattr``; they are refused with the message above.
install_weights_only_loading()


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend with atomic writes.

    ``put`` writes to a temporary file in the target folder, flushes it to
    disk and renames it over the target, so a crash while saving a
    checkpoint leaves the previous file intact (never a truncated one).
    """

    def put(self, obj: bytes, filepath) -> None:
        folder = osp.dirname(osp.abspath(filepath))
        os.makedirs(folder, exist_ok=True)
        fd, tmp_path = tempfile.mkstemp(
            dir=folder,
            prefix='.' + osp.basename(filepath) + '.',
            suffix='.tmp')
        try:
            with os.fdopen(fd, 'wb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp_path, filepath)
        except BaseException:
            if osp.exists(tmp_path):
                os.remove(tmp_path)
            raise


register_backend('local', AtomicLocalBackend, force=True, prefixes='')
# Drop plain LocalBackend instances mmengine may have cached already.
for _key, _backend in list(mmengine_io.backend_instances.items()):
    if type(_backend) is LocalBackend:
        del mmengine_io.backend_instances[_key]
