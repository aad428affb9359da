"""Checkpoints load with ``torch.load(weights_only=True)`` only and are
written atomically.

torch >= 2.6 refuses to unpickle arbitrary objects by default, which also
refuses mmengine's own checkpoints (their message hub holds
``HistoryBuffer`` objects with numpy arrays). Instead of switching the check
off, the few types mmengine writes are allow-listed and mmengine's loader for
local files is replaced by one that keeps ``weights_only=True`` and explains a
refusal. A crafted checkpoint whose pickle calls anything else (``os.system``,
``eval``) is refused before any of it runs.
"""
import copyreg
import os
import os.path as osp
import pickle
import tempfile

import numpy as np
import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.fileio import io as mmengine_io
from mmengine.logging import HistoryBuffer
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
torch.serialization.add_safe_globals(SAFE_GLOBALS)


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
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise UnsafeCheckpointError(
            f'refusing to load checkpoint {filename!r}: it contains objects '
            'that are not plain weights (mmattn only loads checkpoints with '
            f'torch.load(weights_only=True)). Details: {err}') from None


# Checkpoints written by mmengine without mmattn imported pickle
# HistoryBuffer through ``getattr``; they are refused with the message above.
CheckpointLoader.register_scheme(
    prefixes='', loader=load_checkpoint_safely, force=True)


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
            dir=folder, prefix='.' + osp.basename(filepath) + '.', suffix='.tmp')
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
