"""ImageNet checkpoints by URL, cached where torch keeps them, loaded
weights-only, with an error that says where to put the file offline.

Configs name ImageNet weights by their public URL (mmpretrain's model zoo,
torchvision) in ``init_cfg=dict(type='Pretrained', checkpoint=URL)``.
mmengine downloads such a file once into ``<torch hub dir>/checkpoints/``
(``$TORCH_HOME/hub/checkpoints``, by default
``~/.cache/torch/hub/checkpoints``) under the last part of the URL and reads
it from there afterwards. This loader replaces mmengine's for ``http://`` and
``https://`` so that

- the cached file is loaded with ``torch.load(weights_only=True)``, as every
  other checkpoint in mmattn (:func:`load_checkpoint_safely`);
- a failed download (no network) raises :class:`PretrainedDownloadError`
  naming the URL and the exact path to drop the file at, instead of a bare
  ``URLError`` from deep inside ``urllib``;
- a download is checked against the SHA-256 prefix in its file name
  (``resnet50_8xb32_in1k_20210831-ea4938fc.pth``) where there is one, and a
  partial download never stays in the cache;
- with the environment variable ``MMATTN_OFFLINE=1`` nothing is downloaded:
  a checkpoint missing from the cache fails at once with that error (the
  test suite sets it, so a test that forgets to override a config's
  ``init_cfg`` fails instead of waiting on the network).
"""
import os
import os.path as osp
from urllib.parse import urlparse

import torch
from mmengine.dist import get_dist_info
from mmengine.runner.checkpoint import CheckpointLoader

from .checkpoint import load_checkpoint_safely

#: Environment variable that forbids downloads (``1``, ``true``, ``yes``).
OFFLINE_ENV = 'MMATTN_OFFLINE'


class PretrainedDownloadError(RuntimeError):
    """A checkpoint URL is neither cached nor downloadable."""


def _offline() -> bool:
    return os.getenv(OFFLINE_ENV, '').lower() in ('1', 'true', 'yes', 'y')


def checkpoint_cache_path(url: str) -> str:
    """Where a checkpoint URL is (or will be) cached.

    The torch hub cache: ``<torch.hub.get_dir()>/checkpoints/<file name of
    the URL>``, as mmengine's and torchvision's downloads use.

    Args:
        url (str): ``http(s)://`` URL of the checkpoint.

    Returns:
        str: Absolute path of the cached file.
    """
    name = osp.basename(urlparse(url).path)
    if not name:
        raise ValueError(f'checkpoint URL {url!r} does not end in a file '
                         'name')
    return osp.join(torch.hub.get_dir(), 'checkpoints', name)


def _missing(url: str, path: str, reason: str) -> PretrainedDownloadError:
    return PretrainedDownloadError(
        f'could not download the pretrained checkpoint {url} ({reason}). '
        'On a machine without network access, download it elsewhere and put '
        f'it at {path} (set TORCH_HOME to use another cache folder), or set '
        "the model's init_cfg to another checkpoint or to None to train from "
        'scratch (docs/user_guides/pretrained.md).')


def _download(url: str, path: str, progress: bool) -> None:
    if _offline():
        raise _missing(url, path, f'{OFFLINE_ENV} is set and it is not in '
                       'the cache')
    os.makedirs(osp.dirname(path), exist_ok=True)
    match = torch.hub.HASH_REGEX.search(osp.basename(path))
    try:
        # Writes to a temporary file and renames it when complete and
        # matching the hash.
        torch.hub.download_url_to_file(
            url, path, match.group(1) if match else None, progress=progress)
    except Exception as err:  # URLError, HTTPError, timeouts, bad hash
        raise _missing(url, path, f'{type(err).__name__}: {err}') from err


def load_from_url(url: str, map_location=None, progress: bool = False):
    """Load a checkpoint URL from the torch hub cache, downloading it first
    if missing (local rank 0 first in distributed runs).

    Args:
        url (str): ``http(s)://`` URL.
        map_location: As for :func:`torch.load`.
        progress (bool): Show a download progress bar.

    Returns:
        dict: The checkpoint.

    Raises:
        PretrainedDownloadError: not cached and the download failed (or
            ``MMATTN_OFFLINE`` is set).
    """
    path = checkpoint_cache_path(url)
    rank, world_size = get_dist_info()
    error = None
    if rank == 0 and not osp.isfile(path):
        try:
            _download(url, path, progress)
        except PretrainedDownloadError as err:
            # Raised after the barrier, so the other ranks do not wait on
            # rank 0 forever.
            error = err
    if world_size > 1:
        torch.distributed.barrier()
    if error is not None:
        raise error
    if not osp.isfile(path):
        # Other ranks on another node (no shared cache): their own copy.
        _download(url, path, progress)
    return load_checkpoint_safely(path, map_location=map_location)


CheckpointLoader.register_scheme(
    prefixes=('http://', 'https://'), loader=load_from_url, force=True)
