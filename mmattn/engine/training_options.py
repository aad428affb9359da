"""Run-time switches that tools/train.py and tools/test.py apply to any config."""
import argparse
import difflib
import inspect
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner


def enable_amp(cfg: Config) -> None:
    """Switch the optimiser wrapper to mmengine's ``AmpOptimWrapper``
    (float16 autocast with a dynamic loss scale unless the config already
    sets ``dtype`` / ``loss_scale``).

    Raises:
        RuntimeError: no CUDA device; mmengine's AMP wrapper only trains on
            accelerators, and silently training in float32 would mislead.
    """
    if not torch.cuda.is_available():
        raise RuntimeError(
            '--amp needs a CUDA device: mmengine\'s AmpOptimWrapper does not '
            'train on the CPU. Run without --amp here.')
    wrapper = cfg.optim_wrapper
    kind = wrapper.get('type', 'OptimWrapper')
    if kind == 'AmpOptimWrapper':
        return
    if kind != 'OptimWrapper':
        raise ValueError(f'--amp: optim_wrapper.type is {kind!r}; AMP can '
                         'only replace OptimWrapper')
    wrapper.type = 'AmpOptimWrapper'
    wrapper.setdefault('loss_scale', 'dynamic')


def select_dist_backend(cfg: Config) -> None:
    """Make a torchrun launch (``launcher='pytorch'``) work without CUDA.

    mmengine's ``init_dist`` always calls ``torch.cuda.set_device``, the
    configs ask for NCCL and DDP is given the local rank as device id. On a
    machine without CUDA (CPU-only distributed runs, e.g. the tests) the
    process group is created here with gloo (mmengine's Runner then finds it
    initialised and keeps it) and DDP wraps the model on the CPU.
    """
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    wrapper_cfg = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel', broadcast_buffers=False)
    wrapper_cfg['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper_cfg
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend='gloo')


def prepare_training_config(cfg: Config, amp: bool = False) -> Config:
    """Apply the command-line options of tools/train.py to ``cfg`` in place.

    Args:
        cfg (Config): A training config.
        amp (bool): Train with automatic mixed precision (:func:`enable_amp`).
    """
    if amp:
        enable_amp(cfg)
    select_dist_backend(cfg)
    return cfg


def check_cfg_options(cfg: Config, options: dict) -> None:
    """Refuse ``--cfg-options`` whose top-level key is neither in the config
    nor an argument of mmengine's Runner.

    Such a key is ignored by the Runner, so a typo like
    ``train_dataloder.batch_size=8`` would otherwise pass silently.

    Raises:
        KeyError: naming the key and the closest known keys.
    """
    known = set(cfg.keys()) | set(
        inspect.signature(Runner.__init__).parameters) | {'runner_type'}
    for option in options:
        top = option.split('.')[0]
        if top not in known:
            close = difflib.get_close_matches(top, sorted(known), n=3)
            hint = f'; did you mean {close}?' if close else ''
            raise KeyError(f'--cfg-options {option}: the config has no key '
                           f'{top!r}{hint}')


def add_runner_arguments(parser: argparse.ArgumentParser) -> None:
    """The options tools/train.py and tools/test.py share."""
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. train_cfg.max_epochs=2')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torchrun < 2.0 passes --local_rank, newer ones set LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_tool_config(args: argparse.Namespace) -> Config:
    """Read ``args.config`` and apply the shared options of
    :func:`add_runner_arguments` (checked ``--cfg-options``, launcher,
    ``--work-dir`` defaulting to ``work_dirs/<config name>``)."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        check_cfg_options(cfg, args.cfg_options)
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg
