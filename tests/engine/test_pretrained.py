"""ImageNet checkpoints by URL: the torch hub cache, weights-only loading and
the offline error that names the URL and where to put the file."""
import os
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmattn.engine import PretrainedDownloadError, checkpoint_cache_path

URL = ('https://download.openmmlab.com/mmclassification/v0/resnet/'
       'resnet50_8xb32_in1k_20210831-ea4938fc.pth')


class Tiny(BaseModule):

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.conv = nn.Conv2d(3, 4, 3)


def test_cache_path_is_torch_hub_checkpoints(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    assert checkpoint_cache_path(URL) == osp.join(
        str(tmp_path), 'hub', 'checkpoints',
        'resnet50_8xb32_in1k_20210831-ea4938fc.pth')
    with pytest.raises(ValueError, match='file name'):
        checkpoint_cache_path('https://example.org/')


def test_offline_missing_checkpoint_names_url_and_cache_path():
    # conftest sets MMATTN_OFFLINE and an empty TORCH_HOME.
    model = Tiny(init_cfg=dict(type='Pretrained', checkpoint=URL))
    with pytest.raises(PretrainedDownloadError) as info:
        model.init_weights()
    message = str(info.value)
    assert URL in message
    assert checkpoint_cache_path(URL) in message
    assert 'MMATTN_OFFLINE' in message


def test_failed_download_names_url_and_cache_path(monkeypatch):
    monkeypatch.delenv('MMATTN_OFFLINE')
    # Nothing listens on the discard port of the loopback interface: the
    # download fails at once without leaving the machine.
    url = 'http://127.0.0.1:9/weights/model-0123abcd.pth'
    model = Tiny(init_cfg=dict(type='Pretrained', checkpoint=url))
    with pytest.raises(PretrainedDownloadError) as info:
        model.init_weights()
    assert url in str(info.value)
    assert checkpoint_cache_path(url) in str(info.value)
    assert not osp.exists(checkpoint_cache_path(url))


def test_dropped_in_file_is_loaded_by_pretrained_init():
    source = Tiny()
    path = checkpoint_cache_path(URL)
    # In the empty TORCH_HOME of conftest, as a user would drop it in.
    os.makedirs(osp.dirname(path), exist_ok=True)
    state = {f'backbone.{k}': v for k, v in source.state_dict().items()}
    torch.save({'state_dict': state, 'meta': {'epoch': 100}}, path)
    try:
        model = Tiny(
            init_cfg=dict(
                type='Pretrained', checkpoint=URL, prefix='backbone.'))
        model.init_weights()
        assert torch.equal(model.conv.weight, source.conv.weight)
        assert torch.equal(model.conv.bias, source.conv.bias)
    finally:
        os.remove(path)


def _distributed_load(rank, world_size, port, url, results):
    import torch.distributed as dist
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world_size)
    try:
        from mmattn.engine import load_from_url
        load_from_url(url)
        results[rank] = 'loaded'
    except PretrainedDownloadError as err:
        results[rank] = 'error' if url in str(err) else str(err)
    finally:
        dist.destroy_process_group()


def test_distributed_failure_reaches_every_rank():
    """Rank 0's failed download must not leave the other ranks waiting at
    the barrier: every rank raises the error."""
    import socket

    import torch.multiprocessing as mp
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    results = mp.Manager().dict()
    mp.spawn(
        _distributed_load, args=(2, port, URL, results), nprocs=2, join=True)
    assert dict(results) == {0: 'error', 1: 'error'}
