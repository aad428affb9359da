import os
import os.path as osp
import subprocess
import sys
import textwrap

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
    torch.save(
        dict(state_dict=dict(w=torch.ones(1)), x=RunsCode(marker)), path)
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


def evil_checkpoint(tmp_path, name='evil.pth'):
    marker = str(tmp_path / 'pwned')
    path = str(tmp_path / name)
    torch.save(
        dict(state_dict=dict(w=torch.ones(1)), x=RunsCode(marker)), path)
    return path, marker


def assert_no_unsafe_advice(message):
    # torch's own message advises weights_only=False or allow-listing the
    # refused global; mmattn's names the global and what is safe instead.
    assert 'will likely succeed' not in message
    assert 'add_safe_globals([' not in message
    assert 'safe_globals([' not in message
    assert 'What is safe instead' in message


def test_variable_forcing_unsafe_loads_does_not_unlock_mmengine(
        tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    path, marker = evil_checkpoint(tmp_path)
    with pytest.raises(UnsafeCheckpointError) as err:
        load_checkpoint(torch.nn.Linear(1, 1), path)
    assert 'os.makedirs' in str(err.value)
    assert_no_unsafe_advice(str(err.value))
    # mmengine's other loaders call torch.load through the same name.
    from mmengine.runner import checkpoint as mmengine_checkpoint
    with pytest.raises(UnsafeCheckpointError):
        mmengine_checkpoint.torch.load(path)
    with pytest.raises(UnsafeCheckpointError, match='weights_only=True'):
        mmengine_checkpoint.torch.load(path, weights_only=False)
    assert not osp.exists(marker)
    # Everything else of torch is untouched.
    assert mmengine_checkpoint.torch.save is torch.save
    assert torch.load is not mmengine_checkpoint.torch.load


def test_url_checkpoints_are_weights_only(tmp_path, monkeypatch):
    # torch.hub.load_state_dict_from_url defaults to weights_only=False;
    # a file already in the hub cache is read without any download.
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    cache = tmp_path / 'torch_home' / 'hub' / 'checkpoints'
    cache.mkdir(parents=True)
    _, marker = evil_checkpoint(cache, 'evil_url.pth')
    torch.save(
        dict(state_dict=dict(weight=torch.full((1, 1), 2.))),
        str(cache / 'good_url.pth'))
    linear = torch.nn.Linear(1, 1)
    load_checkpoint(linear, 'https://example.invalid/good_url.pth')
    assert linear.weight.item() == 2.
    with pytest.raises(UnsafeCheckpointError, match='evil_url.pth'):
        load_checkpoint(linear, 'https://example.invalid/evil_url.pth')
    assert not osp.exists(marker)


def test_refusal_of_getattr_names_it_and_what_is_safe(tmp_path):
    import copyreg
    buffer = HistoryBuffer()
    buffer.update(1.0)
    path = str(tmp_path / 'old_mmengine.pth')
    # How mmengine pickles a HistoryBuffer without mmattn's reducer.
    reducer = copyreg.dispatch_table.pop(HistoryBuffer)
    try:
        torch.save(dict(message_hub=dict(loss=buffer)), path)
    finally:
        copyreg.pickle(HistoryBuffer, reducer)
    with pytest.raises(UnsafeCheckpointError) as err:
        load_checkpoint_safely(path)
    message = str(err.value)
    assert 'old_mmengine.pth' in message and 'getattr' in message
    assert 'Do not allow-list it' in message
    assert_no_unsafe_advice(message)


def test_plain_import_protects_other_projects_tools(tmp_path):
    # A fresh interpreter that imports mmattn only as custom_imports do,
    # with the variable users set to get past torch's refusals.
    path, marker = evil_checkpoint(tmp_path)
    code = textwrap.dedent(f"""
        import torch
        from mmengine.config import Config
        from mmengine.runner import load_checkpoint
        from mmengine.utils import import_modules_from_strings
        cfg = Config(dict(custom_imports=dict(imports=['mmattn'])))
        import_modules_from_strings(**cfg.custom_imports)
        try:
            load_checkpoint(torch.nn.Linear(1, 1), {path!r})
        except Exception as error:
            print(type(error).__name__)
    """)
    result = subprocess.run([sys.executable, '-c', code],
                            capture_output=True,
                            text=True,
                            env=dict(
                                os.environ,
                                TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD='1'))
    assert result.stdout.split()[-1] == 'UnsafeCheckpointError', \
        result.stderr
    assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD is set' in result.stderr
    assert not osp.exists(marker)
