import argparse
import os
import os.path as osp
import re
import subprocess
import sys
import types
from unittest import mock

import pytest
import torch
import torch.nn as nn
from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import Runner

from mmattn.engine import (BF16OptimWrapper, ChannelsLastHook,
                           SyncBatchNormCheckHook, add_performance_arguments,
                           check_cfg_options, enable_amp,
                           prepare_training_config, set_dataloader_options)
from mmattn.registry import DATASETS, MODELS


def make_cfg(**kwargs):
    return Config(
        dict(
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
            env_cfg=dict(dist_cfg=dict(backend='nccl')),
            **kwargs))


# ----------------------------------------------------------------- AMP ----


def test_amp_switches_to_amp_optim_wrapper_on_cuda():
    cfg = make_cfg()
    with mock.patch('torch.cuda.is_available', return_value=True):
        prepare_training_config(cfg, amp=True)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'float16'
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
        prepare_training_config(cfg, amp='bf16')


def test_amp_fp16_without_cuda_is_a_clear_error():
    with mock.patch('torch.cuda.is_available', return_value=False), \
            pytest.raises(RuntimeError, match='--amp needs a CUDA device'):
        prepare_training_config(make_cfg(), amp=True)
    # Also for a config that asks for AmpOptimWrapper itself.
    cfg = make_cfg()
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    with mock.patch('torch.cuda.is_available', return_value=False), \
            pytest.raises(RuntimeError, match='--amp needs a CUDA device'):
        prepare_training_config(cfg, amp=True)


def test_amp_bf16_uses_the_scaler_free_wrapper_on_cpu_and_cuda():
    for cuda in (False, True):
        cfg = make_cfg()
        cfg.optim_wrapper.update(
            type='AmpOptimWrapper', dtype='float16', loss_scale=512.)
        with mock.patch('torch.cuda.is_available', return_value=cuda), \
                mock.patch('torch.cuda.is_bf16_supported',
                           return_value=True):
            enable_amp(cfg, 'bf16')
        assert cfg.optim_wrapper.type == 'BF16OptimWrapper'
        assert 'loss_scale' not in cfg.optim_wrapper
        assert 'dtype' not in cfg.optim_wrapper
    with mock.patch('torch.cuda.is_available', return_value=True), \
            mock.patch('torch.cuda.is_bf16_supported', return_value=False), \
            pytest.raises(RuntimeError, match='--amp bf16'):
        enable_amp(make_cfg(), 'bf16')


def test_bad_option_values_name_the_option():
    with pytest.raises(ValueError, match="--amp: unknown precision 'fp8'"):
        enable_amp(make_cfg(), 'fp8')
    parser = argparse.ArgumentParser()
    add_performance_arguments(parser)
    assert parser.parse_args(['--amp']).amp is True
    assert parser.parse_args(['--amp', 'bf16']).amp == 'bf16'
    assert parser.parse_args([]).amp is None
    for argv, option in ((['--amp', 'fp8'], '--amp'), (['--workers',
                                                        '-1'], '--workers'),
                         (['--workers', 'two'], '--workers')):
        with mock.patch.object(parser, 'error',
                               side_effect=SystemExit) as error, \
                pytest.raises(SystemExit):
            parser.parse_args(argv)
        assert option in error.call_args[0][0]


def test_bf16_optim_wrapper_autocasts_on_cpu_without_loss_scaling():
    model = nn.Linear(4, 2)
    wrapper = BF16OptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(torch.randn(3, 4))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().square().mean())
    assert model.weight.dtype == torch.float32
    assert not torch.equal(model.weight, before)
    assert not hasattr(wrapper, 'loss_scaler')


def test_cpu_torchrun_launch_uses_gloo_and_cpu_ddp():
    cfg = make_cfg(launcher='pytorch')
    with mock.patch('torch.cuda.is_available', return_value=False), \
            mock.patch('torch.distributed.is_initialized',
                       return_value=True):
        prepare_training_config(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.device_ids is None


# -------------------------------------------------------------- loaders ----


def loaders_cfg():
    loader = dict(batch_size=2, num_workers=4, persistent_workers=True)
    return make_cfg(
        train_dataloader=dict(loader),
        val_dataloader=dict(loader),
        test_dataloader=None)


def test_loader_options_reach_every_loader():
    cfg = loaders_cfg()
    set_dataloader_options(
        cfg, workers=2, pin_memory=True, persistent_workers=True)
    for key in ('train_dataloader', 'val_dataloader'):
        assert cfg[key].num_workers == 2
        assert cfg[key].pin_memory is True
        assert cfg[key].persistent_workers is True
    assert cfg.test_dataloader is None
    # torch refuses persistent workers without workers: turned off.
    set_dataloader_options(cfg, workers=0)
    assert cfg.train_dataloader.persistent_workers is False
    assert cfg.train_dataloader.pin_memory is True


def test_bad_loader_options_name_the_option():
    with pytest.raises(ValueError, match='--workers: .* got -1'):
        set_dataloader_options(loaders_cfg(), workers=-1)
    with pytest.raises(
            ValueError, match='--persistent-workers: train_dataloader'):
        set_dataloader_options(
            loaders_cfg(), workers=0, persistent_workers=True)


# ------------------------------------------- compile, sync_bn, cfg keys ----


def test_compile_and_sync_bn_set_the_runner_keys():
    cfg = make_cfg()
    prepare_training_config(cfg, compile=True, sync_bn=True)
    assert cfg.compile is True and cfg.sync_bn == 'torch'
    assert dict(type='SyncBatchNormCheckHook') in cfg.custom_hooks
    cfg = make_cfg(compile=dict(backend='eager'))
    prepare_training_config(cfg, compile=True)
    assert cfg.compile == dict(backend='eager')


def test_cfg_options_accept_the_keys_the_runner_reads():
    cfg = make_cfg()
    check_cfg_options(
        cfg, {
            'sync_bn': 'torch',
            'compile.backend': 'eager',
            'find_unused_parameters': True
        })
    with pytest.raises(KeyError, match='sync_bm'):
        check_cfg_options(cfg, {'sync_bm': 'torch'})


def test_sync_bn_check_hook_counts_the_converted_layers():
    model = nn.Sequential(
        nn.Conv2d(3, 4, 1), nn.SyncBatchNorm(4), nn.BatchNorm2d(4))
    runner = types.SimpleNamespace(model=model)
    with mock.patch('mmattn.engine.hooks.performance_hooks.print_log') as log:
        SyncBatchNormCheckHook().before_run(runner)
    assert '1 of 2 BatchNorm layers are SyncBatchNorm' in log.call_args[0][0]


# --------------------------------------------------------- channels_last ----


class ToyConvModel(BaseModel):
    """Conv + BN classifier; records the memory format of what it sees."""

    def __init__(self):
        super().__init__(
            data_preprocessor=dict(
                type='mmpretrain.ClsDataPreprocessor',
                mean=[0.] * 3,
                std=[255.] * 3))
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 2)
        self.seen = []

    def forward(self, inputs, data_samples=None, mode='tensor'):
        self.seen.append(
            (inputs.is_contiguous(memory_format=torch.channels_last),
             torch.is_autocast_enabled('cpu')))
        feats = self.bn(self.conv(inputs)).mean((2, 3))
        logits = self.fc(feats)
        if mode == 'loss':
            labels = torch.cat([s.gt_label for s in data_samples])
            return dict(
                loss=nn.functional.cross_entropy(logits.float(), labels))
        return logits


def toy_dataset(num_samples=4):
    from mmpretrain.structures import DataSample
    return [
        dict(
            inputs=torch.randint(0, 256, (3, 8, 6), dtype=torch.uint8),
            data_samples=DataSample().set_gt_label(i % 2))
        for i in range(num_samples)
    ]


def test_channels_last_hook_converts_model_and_input_batches():
    model = ToyConvModel()
    ChannelsLastHook().before_run(types.SimpleNamespace(model=model))
    assert model.conv.weight.is_contiguous(memory_format=torch.channels_last)
    data = model.data_preprocessor(
        dict(
            inputs=[s['inputs'] for s in toy_dataset()],
            data_samples=[s['data_samples'] for s in toy_dataset()]), True)
    assert data['inputs'].is_contiguous(memory_format=torch.channels_last)
    assert not data['inputs'].is_contiguous()


def test_runner_trains_with_channels_last_bf16_and_compile(tmp_path):
    """The switches through mmengine's own Runner on the CPU (compile with
    the eager backend: inductor needs a minute to compile on this CPU)."""
    MODELS.register_module('ToyConvModel', module=ToyConvModel, force=True)
    DATASETS.register_module('toy_dataset', module=toy_dataset, force=True)
    cfg = Config(
        dict(
            model=dict(type='ToyConvModel'),
            work_dir=str(tmp_path),
            train_dataloader=dict(
                batch_size=2,
                num_workers=0,
                sampler=dict(type='DefaultSampler', shuffle=False),
                dataset=dict(type='toy_dataset')),
            train_cfg=dict(by_epoch=True, max_epochs=1),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
            compile=dict(backend='eager'),
            default_scope='mmattn',
            log_level='WARNING'))
    prepare_training_config(
        cfg, amp='bf16', channels_last=True, compile=True, workers=0)
    runner = Runner.from_cfg(cfg)
    runner.train()
    model = runner.model
    assert type(runner.optim_wrapper).__name__ == 'BF16OptimWrapper'
    assert model.conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert model.seen == [(True, True)] * 2  # NHWC batches under autocast
    # mmengine replaced train_step by its torch.compile'd version.
    assert hasattr(model.train_step, '_torchdynamo_orig_callable')


# ------------------------------------------------------ SyncBN, 2 procs ----


def test_two_process_sync_bn_converts_the_batchnorm_layers(
        market_root, tmp_path):
    """tools/dist_train.sh --sync-bn on 2 CPU processes. mmengine's Runner
    converts the BatchNorm layers when it wraps the model; torch's DDP then
    refuses the model because SyncBatchNorm only trains GPU tensors. That
    refusal, which DDP raises only for a model holding SyncBatchNorm layers,
    is what a CPU machine can show of the conversion (on GPUs
    SyncBatchNormCheckHook logs the converted count)."""
    config = osp.join(REPO_ROOT,
                      'configs/reid/demo_dcs_mobilenetv2_synthetic.py')
    options = [
        f'train_dataloader.dataset.data_root={market_root}',
        'model.head.num_classes=8', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'train_cfg.max_epochs=1'
    ]
    env = dict(
        os.environ, OMP_NUM_THREADS='1', PORT='29527', PYTHON=sys.executable)
    result = subprocess.run([
        'bash', 'tools/dist_train.sh', config, '2', '--sync-bn',
        '--no-validate', '--work-dir',
        str(tmp_path), '--cfg-options', *options
    ],
                            cwd=REPO_ROOT,
                            capture_output=True,
                            text=True,
                            env=env)
    log = result.stdout + result.stderr
    assert result.returncode != 0, log[-3000:]
    assert '--sync-bn on CPU processes' in log
    refusals = re.findall(
        r'\[rank[01]\]: ValueError: SyncBatchNorm layers '
        'only work with GPU modules', log)
    assert len(refusals) == 2, log[-3000:]


# ------------------------------------------------- ignored config keys ----


def test_top_level_typos_are_refused_naming_file_and_key():
    from mmattn.engine.training_options import check_config_keys
    for typo, meant in (('trian_cfg', 'train_cfg'),
                        ('custom_hook', 'custom_hooks'), ('train_dataloder',
                                                          'train_dataloader'),
                        ('param_schedulers', 'param_scheduler')):
        cfg = make_cfg(**{typo: dict()})
        with pytest.raises(KeyError) as err:
            check_config_keys(cfg, 'my_cfg.py')
        message = str(err.value)
        assert 'my_cfg.py' in message and repr(typo) in message, message
        assert f'did you mean {meant!r}' in message
    # Helper variables of configs are no typos.
    check_config_keys(
        make_cfg(
            train_pipeline=[],
            test_pipeline=[],
            data_root='d',
            dataset_type='Market1501',
            da_cfg=dict(),
            input_size=(2, 1),
            custom_imports=dict(imports=[]),
            _base_=[]), 'ok.py')


def test_env_cfg_and_randomness_typos_are_refused():
    from mmattn.engine.training_options import check_config_keys
    cfg = make_cfg()
    cfg.env_cfg.cudnn_benchmrk = True
    with pytest.raises(
            KeyError,
            match=r"cfg.py: env_cfg has no key "
            r"'cudnn_benchmrk'; did you mean 'cudnn_benchmark'"):
        check_config_keys(cfg, 'cfg.py')
    cfg = make_cfg()
    cfg.env_cfg.mp_cfg = dict(mp_start_metod='fork')
    with pytest.raises(
            KeyError,
            match="env_cfg.mp_cfg has no key "
            "'mp_start_metod'; did you mean 'mp_start_method'"):
        check_config_keys(cfg)
    cfg = make_cfg(randomness=dict(seed=0, determinstic=True))
    with pytest.raises(
            KeyError,
            match="randomness has no key "
            "'determinstic'; did you mean 'deterministic'"):
        check_config_keys(cfg)
    cfg = make_cfg(
        randomness=dict(seed=1, deterministic=True, diff_rank_seed=False))
    cfg.env_cfg.update(
        cudnn_benchmark=False,
        resource_limit=4096,
        mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))
    check_config_keys(cfg)


def test_hook_argument_typos_fail_before_the_runner_is_built():
    from mmattn.engine.training_options import check_hook_arguments

    # CheckpointHook takes **kwargs and would fail only at its first save.
    cfg = make_cfg(
        default_scope='mmattn',
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interva=1)))
    with pytest.raises(
            TypeError,
            match=r"cfg.py: default_hooks.checkpoint "
            r"\(CheckpointHook\) has no argument 'interva'; did "
            r"you mean 'interval'"):
        check_hook_arguments(cfg, 'cfg.py')
    cfg = make_cfg(
        default_scope='mmattn',
        custom_hooks=[
            dict(type='EpochSeedHook'),
            dict(type='FreezeModulesHook', paths='backbone', epoch=8)
        ])
    with pytest.raises(
            TypeError,
            match=r"custom_hooks\[1\] "
            r"\(FreezeModulesHook\) has no argument 'epoch'"):
        check_hook_arguments(cfg, 'cfg.py')
    # The default runtime's hooks, priorities and unknown types pass.
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/reid/demo_dcs_mobilenetv2_synthetic.py'))
    cfg.custom_hooks = [
        dict(type='EMAHook', momentum=0.001, priority=49),
        dict(type='NoSuchHook', anything=1)
    ]
    check_hook_arguments(cfg)
    # Hooks inherited from another project's config ('mmdet::...') carry
    # ``_scope_``: not an argument, and the hook is looked up in that scope
    # (where a typo is still caught).
    cfg = make_cfg(
        default_scope='mmattn',
        default_hooks=dict(
            timer=dict(type='IterTimerHook', _scope_='mmdet'),
            checkpoint=dict(
                type='CheckpointHook', interval=1, _scope_='mmdet')))
    check_hook_arguments(cfg, 'cfg.py')
    cfg.default_hooks.checkpoint.intervl = 1
    with pytest.raises(TypeError, match="has no argument 'intervl'"):
        check_hook_arguments(cfg, 'cfg.py')
    detection = Config.fromfile(
        osp.join(REPO_ROOT,
                 'configs/detection/faster-rcnn_r50-se_fpn_1x_coco.py'))
    assert detection.default_hooks.timer.get('_scope_') == 'mmdet'
    check_hook_arguments(detection, 'faster-rcnn config')


def scheduled_cfg(max_epochs, **train_cfg):
    return make_cfg(
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs, **train_cfg),
        param_scheduler=[
            dict(
                type='LinearLR',
                start_factor=0.1,
                by_epoch=True,
                begin=0,
                end=1,
                convert_to_iter_based=True),
            dict(
                type='CosineAnnealingLR',
                by_epoch=True,
                begin=1,
                T_max=54,
                eta_min=1e-5,
                convert_to_iter_based=True)
        ])


def test_schedulers_after_the_end_of_training_are_left_out():
    from mmattn.engine.training_options import fit_schedulers_to_training
    cfg = scheduled_cfg(55)
    fit_schedulers_to_training(cfg)
    assert len(cfg.param_scheduler) == 2  # the full training: untouched
    cfg = scheduled_cfg(1)
    with mock.patch('mmattn.engine.training_options.print_log') as log:
        fit_schedulers_to_training(cfg)
    assert [s['type'] for s in cfg.param_scheduler] == ['LinearLR']
    out = log.call_args[0][0]
    assert 'param_scheduler[1] (CosineAnnealingLR) starts at 1' in out
    assert 'train_cfg.max_epochs=1' in out
    # Search configs: a scheduler list per optimiser.
    cfg = make_cfg(
        train_cfg=dict(type='BilevelEpochBasedTrainLoop', max_epochs=2),
        param_scheduler=dict(
            weights=[dict(type='CosineAnnealingLR', begin=0)],
            architecture=[dict(type='ConstantLR', begin=3)]))
    fit_schedulers_to_training(cfg)
    assert cfg.param_scheduler == dict(
        weights=[dict(type='CosineAnnealingLR', begin=0)], architecture=[])
    # An iteration-based scheduler of an epoch-based loop is not judged.
    cfg = make_cfg(
        train_cfg=dict(by_epoch=True, max_epochs=1),
        param_scheduler=dict(
            type='LinearLR', by_epoch=False, begin=100, end=200))
    fit_schedulers_to_training(cfg)
    assert cfg.param_scheduler.begin == 100
    cfg = make_cfg(
        train_cfg=dict(by_epoch=True, max_epochs=9),
        param_scheduler=[dict(type='StepLR', begin=4, end=4)])
    with pytest.raises(
            ValueError,
            match=r'param_scheduler\[0\] \(StepLR\): '
            'end=4 is not after begin=4'):
        fit_schedulers_to_training(cfg)
