from unittest import mock

import pytest
from mmengine.config import Config

from mmattn.engine import prepare_training_config


def make_cfg(**kwargs):
    return Config(dict(optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
                       env_cfg=dict(dist_cfg=dict(backend='nccl')),
                       **kwargs))


def test_amp_switches_to_amp_optim_wrapper_on_cuda():
    cfg = make_cfg()
    with mock.patch('torch.cuda.is_available', return_value=True):
        prepare_training_config(cfg, amp=True)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    assert cfg.env_cfg.dist_cfg.backend == 'nccl'


def test_amp_keeps_configured_dtype_and_refuses_other_wrappers():
    cfg = make_cfg()
    cfg.optim_wrapper.update(type='AmpOptimWrapper', dtype='bfloat16')
    with mock.patch('torch.cuda.is_available', return_value=True):
        prepare_training_config(cfg, amp=True)
    assert cfg.optim_wrapper.dtype == 'bfloat16'
    cfg = make_cfg()
    cfg.optim_wrapper.type = 'OptimWrapperDict'
    with mock.patch('torch.cuda.is_available', return_value=True), \
            pytest.raises(ValueError, match='optim_wrapper.type'):
        prepare_training_config(cfg, amp=True)


def test_amp_without_cuda_is_a_clear_error():
    with mock.patch('torch.cuda.is_available', return_value=False), \
            pytest.raises(RuntimeError, match='--amp needs a CUDA device'):
        prepare_training_config(make_cfg(), amp=True)


def test_cpu_torchrun_launch_uses_gloo_and_cpu_ddp():
    cfg = make_cfg(launcher='pytorch')
    with mock.patch('torch.cuda.is_available', return_value=False), \
            mock.patch('torch.distributed.is_initialized',
                       return_value=True):
        prepare_training_config(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.device_ids is None
