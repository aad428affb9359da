import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import load_checkpoint

from mmattn.engine import UnsafeCheckpointError, load_checkpoint_safely


class RunsCode:
    """Unpickling this would create a file: what an attack would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.makedirs, (self.marker, ))


def test_mmengine_state_loads_with_weights_only(tmp_path):
    buffer = HistoryBuffer()
    buffer.update(1.5)
    state = dict(
        state_dict=dict(w=torch.ones(2)),
        message_hub=dict(log_scalars=dict(loss=buffer)),
        meta=dict(seed=np.int64(3), array=np.arange(3, dtype=np.float32)))
    path = str(tmp_path / 'ok.pth')
    torch.save(state, path)
    loaded = load_checkpoint_safely(path)
    assert loaded['message_hub']['log_scalars']['loss'].current() == 1.5
    assert loaded['meta']['array'].tolist() == [0., 1., 2.]


def test_crafted_checkpoint_is_refused_before_running_code(tmp_path):
    marker = str(tmp_path / 'pwned')
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict=dict(w=torch.ones(1)), x=RunsCode(marker)),
               path)
    with pytest.raises(UnsafeCheckpointError, match='evil.pth'):
        load_checkpoint_safely(path)
    # Through mmengine's own API (what Runner.load_checkpoint/resume use).
    with pytest.raises(UnsafeCheckpointError, match='weights_only=True'):
        load_checkpoint(torch.nn.Linear(1, 1), path)
    assert not osp.exists(marker)


def test_missing_checkpoint():
    with pytest.raises(FileNotFoundError, match='does not exist'):
        load_checkpoint_safely('/nonexistent/ckpt.pth')


def test_checkpoints_are_written_atomically(tmp_path, monkeypatch):
    from mmengine.runner.checkpoint import save_checkpoint
    path = str(tmp_path / 'epoch_1.pth')
    save_checkpoint(dict(state_dict=dict(w=torch.ones(3))), path)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt('killed while saving')

    # A crash after the bytes are written but before the rename ...
    monkeypatch.setattr(os, 'replace', crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(dict(state_dict=dict(w=torch.zeros(3))), path)
    # ... leaves the previous checkpoint whole and no temporary file behind.
    assert load_checkpoint_safely(path)['state_dict']['w'].tolist() == [1.] * 3
    assert os.listdir(tmp_path) == ['epoch_1.pth']
