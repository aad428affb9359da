"""Run-time switches that tools/train.py and tools/test.py apply to configs."""
import argparse
import difflib
import inspect
import logging
import os
import os.path as osp
from typing import Optional, Union

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner


#: ``--amp`` values and the dtype each one trains in.
AMP_DTYPES = dict(
    fp16='float16', float16='float16', bf16='bfloat16', bfloat16='bfloat16')
#: Optimiser wrappers that already train in mixed precision.
AMP_WRAPPERS = ('AmpOptimWrapper', 'BF16OptimWrapper')


def amp_dtype(value: str) -> str:
    """The torch dtype name of an ``--amp`` value (``fp16`` / ``bf16``).

    Raises:
        ValueError: naming ``--amp`` and the accepted values.
    """
    if value not in AMP_DTYPES:
        raise ValueError(f'--amp: unknown precision {value!r}; expected '
                         'fp16 or bf16')
    return AMP_DTYPES[value]


def enable_amp(cfg: Config, dtype: Optional[str] = None) -> None:
    """Train the config in automatic mixed precision.

    ``fp16`` switches the optimiser wrapper to mmengine's
    ``AmpOptimWrapper`` (float16 autocast with a dynamic loss scale unless
    the config sets ``loss_scale``); it needs CUDA. ``bf16`` switches it to
    :class:`BF16OptimWrapper` (bfloat16 autocast without loss scaling, on
    CUDA and on the CPU).

    Args:
        cfg (Config): A training config, changed in place.
        dtype (str, optional): ``'fp16'`` or ``'bf16'``. None (a bare
            ``--amp``) keeps a config that already trains in mixed precision
            as it is and otherwise means fp16.

    Raises:
        ValueError: an unknown dtype, or an optimiser wrapper that is not
            ``OptimWrapper`` (e.g. ``OptimWrapperDict`` of a search config).
        RuntimeError: fp16 without a CUDA device.
    """
    wrapper = cfg.optim_wrapper
    kind = wrapper.get('type', 'OptimWrapper')
    cast = amp_dtype(dtype or 'fp16')
    if dtype is None and kind in AMP_WRAPPERS:
        cast = None  # the config's own mixed precision
    if kind not in ('OptimWrapper', ) + AMP_WRAPPERS:
        raise ValueError(f'--amp: optim_wrapper.type is {kind!r}; AMP can '
                         'only replace OptimWrapper')
    if (cast == 'float16' or kind == 'AmpOptimWrapper' and cast is None) \
            and not torch.cuda.is_available():
        raise RuntimeError(
            '--amp needs a CUDA device: mmengine\'s AmpOptimWrapper (fp16, '
            'or the AMP settings of the config) does not train on the CPU. '
            'Use --amp bf16 (CPU autocast) or run without --amp.')
    if cast is None:
        return
    if cast == 'float16':
        wrapper.type = 'AmpOptimWrapper'
        wrapper.dtype = cast
        wrapper.setdefault('loss_scale', 'dynamic')
    else:
        if torch.cuda.is_available() and not torch.cuda.is_bf16_supported():
            raise RuntimeError('--amp bf16: this CUDA device does not '
                               'support bfloat16; use --amp fp16')
        wrapper.type = 'BF16OptimWrapper'
        # AmpOptimWrapper's arguments, meaningless without a loss scaler.
        for key in ('dtype', 'loss_scale', 'use_fsdp'):
            wrapper.pop(key, None)


def enable_channels_last(cfg: Config) -> None:
    """Train in the channels_last memory format (:class:`ChannelsLastHook`:
    the model and every input batch)."""
    hooks = cfg.get('custom_hooks') or []
    if not any(h.get('type') == 'ChannelsLastHook' for h in hooks):
        hooks.append(dict(type='ChannelsLastHook'))
    cfg.custom_hooks = hooks


def enable_compile(cfg: Config) -> None:
    """Let mmengine's Runner ``torch.compile`` the model's ``train_step``
    (``cfg.compile``; a dict there, e.g. ``dict(backend='eager')``, is kept
    as the compile options)."""
    if not isinstance(cfg.get('compile'), dict):
        cfg.compile = True


def enable_sync_bn(cfg: Config) -> None:
    """Synchronise BatchNorm statistics across processes.

    Sets ``cfg.sync_bn = 'torch'``: in a distributed run mmengine's Runner
    converts every BatchNorm layer to ``torch.nn.SyncBatchNorm`` when it
    wraps the model (single-process runs keep plain BatchNorm). Adds
    :class:`SyncBatchNormCheckHook`, which logs the converted layers.
    torch's SyncBatchNorm trains only on GPUs: in a CPU (gloo) run the
    converted model is refused by DistributedDataParallel.
    """
    cfg.sync_bn = 'torch'
    if cfg.get('launcher', 'none') == 'none':
        print_log(
            '--sync-bn has an effect only in distributed runs '
            '(tools/dist_train.sh); this run keeps plain BatchNorm',
            logger='current', level=logging.WARNING)
    elif not torch.cuda.is_available():
        # The conversion happens, then DDP refuses the model.
        print_log(
            '--sync-bn on CPU processes: torch.nn.SyncBatchNorm only '
            'synchronises GPU tensors, and DistributedDataParallel will '
            'refuse the converted model ("SyncBatchNorm layers only work '
            'with GPU modules"). Train on GPUs or drop --sync-bn.',
            logger='current', level=logging.WARNING)
    hooks = cfg.get('custom_hooks') or []
    if not any(h.get('type') == 'SyncBatchNormCheckHook' for h in hooks):
        hooks.append(dict(type='SyncBatchNormCheckHook'))
    cfg.custom_hooks = hooks


DATALOADER_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def set_dataloader_options(cfg: Config,
                           workers: Optional[int] = None,
                           pin_memory: bool = False,
                           persistent_workers: bool = False) -> None:
    """Set the loader options of the train, val and test dataloaders.

    Args:
        cfg (Config): Changed in place; loaders that are None are skipped.
        workers (int, optional): ``num_workers`` of every loader; None keeps
            the config's. With 0 workers ``persistent_workers`` is turned
            off (torch refuses it without workers).
        pin_memory (bool): Copy batches into page-locked memory, which makes
            the host-to-GPU copy faster and asynchronous.
        persistent_workers (bool): Keep the worker processes alive between
            epochs instead of restarting them.

    Raises:
        ValueError: naming the option: negative ``workers``, or
            ``persistent_workers`` for a loader without workers.
    """
    if workers is not None and (not isinstance(workers, int)
                                or isinstance(workers, bool) or workers < 0):
        raise ValueError('--workers: expected a number of worker processes '
                         f'>= 0, got {workers!r}')
    for key in DATALOADER_KEYS:
        loader = cfg.get(key)
        if not isinstance(loader, dict):
            continue
        if workers is not None:
            loader['num_workers'] = workers
        if pin_memory:
            loader['pin_memory'] = True
        if persistent_workers:
            if loader.get('num_workers', 0) == 0:
                raise ValueError(
                    f'--persistent-workers: {key}.num_workers is 0, so '
                    'there are no workers to keep; add --workers N')
            loader['persistent_workers'] = True
        elif loader.get('num_workers', 0) == 0:
            loader['persistent_workers'] = False


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


def prepare_training_config(cfg: Config,
                            amp: Union[bool, str, None] = None,
                            channels_last: bool = False,
                            compile: bool = False,
                            workers: Optional[int] = None,
                            pin_memory: bool = False,
                            persistent_workers: bool = False,
                            sync_bn: bool = False) -> Config:
    """Apply the command-line options of tools/train.py to ``cfg`` in place.

    Args:
        cfg (Config): A training config.
        amp (bool | str, optional): Mixed precision (:func:`enable_amp`):
            ``'fp16'`` / ``'bf16'``; True is a bare ``--amp``; None or False
            trains in the config's precision.
        channels_last (bool): :func:`enable_channels_last`.
        compile (bool): :func:`enable_compile`.
        workers (int, optional), pin_memory (bool), persistent_workers
            (bool): :func:`set_dataloader_options`.
        sync_bn (bool): :func:`enable_sync_bn`.
    """
    if amp:
        enable_amp(cfg, None if amp is True else amp)
    if channels_last:
        enable_channels_last(cfg)
    if compile:
        enable_compile(cfg)
    set_dataloader_options(cfg, workers, pin_memory, persistent_workers)
    if sync_bn:
        enable_sync_bn(cfg)
    select_dist_backend(cfg)
    return cfg


def _precision(value: str) -> str:
    try:
        amp_dtype(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).split(': ', 1)[1])
    return value


def _worker_count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = -1
    if count < 0:
        raise argparse.ArgumentTypeError(
            f'expected a number of worker processes >= 0, got {value!r}')
    return count


def add_performance_arguments(parser: argparse.ArgumentParser) -> None:
    """The speed switches of tools/train.py and the training benchmark:
    ``--amp [fp16|bf16]``, ``--channels-last``, ``--compile``,
    ``--workers N``, ``--pin-memory``, ``--persistent-workers``."""
    parser.add_argument(
        '--amp',
        nargs='?',
        const=True,
        type=_precision,
        metavar='{fp16,bf16}',
        help='automatic mixed precision: fp16 (CUDA, loss scaling; the '
        'default of a bare --amp) or bf16 (CUDA or CPU, no loss scaling)')
    parser.add_argument(
        '--channels-last',
        action='store_true',
        help='model and input batches in the channels_last memory format')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='torch.compile the train step (mmengine cfg.compile=True)')
    parser.add_argument(
        '--workers',
        type=_worker_count,
        metavar='N',
        help='data loader worker processes (train, val and test loaders)')
    parser.add_argument(
        '--pin-memory',
        action='store_true',
        help='data loaders copy batches into page-locked memory')
    parser.add_argument(
        '--persistent-workers',
        action='store_true',
        help='data loader workers survive the end of an epoch')


def performance_options(args: argparse.Namespace) -> dict:
    """The :func:`prepare_training_config` keyword arguments of the options
    that :func:`add_performance_arguments` parsed."""
    return dict(
        amp=args.amp,
        channels_last=args.channels_last,
        compile=args.compile,
        workers=args.workers,
        pin_memory=args.pin_memory,
        persistent_workers=args.persistent_workers)


#: Top-level keys that mmengine's Runner reads from the config although they
#: are no arguments of ``Runner.__init__``.
RUNNER_CFG_KEYS = {
    'runner_type', 'sync_bn', 'compile', 'find_unused_parameters',
    'model_wrapper_cfg', 'activation_checkpointing', 'efficient_conv_bn_eval'
}


def check_cfg_options(cfg: Config, options: dict) -> None:
    """Refuse ``--cfg-options`` whose top-level key is neither in the config
    nor an argument of mmengine's Runner.

    Such a key is ignored by the Runner, so a typo like
    ``train_dataloder.batch_size=8`` would otherwise pass silently.

    Raises:
        KeyError: naming the key and the closest known keys.
    """
    known = set(cfg.keys()) | set(
        inspect.signature(Runner.__init__).parameters) | RUNNER_CFG_KEYS
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
