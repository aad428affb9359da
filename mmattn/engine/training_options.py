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
            logger='current',
            level=logging.WARNING)
    elif not torch.cuda.is_available():
        # The conversion happens, then DDP refuses the model.
        print_log(
            '--sync-bn on CPU processes: torch.nn.SyncBatchNorm only '
            'synchronises GPU tensors, and DistributedDataParallel will '
            'refuse the converted model ("SyncBatchNorm layers only work '
            'with GPU modules"). Train on GPUs or drop --sync-bn.',
            logger='current',
            level=logging.WARNING)
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


def _training_length(cfg: Config):
    """(max_epochs, max_iters) of the config's training loop; None where the
    loop does not fix it."""
    train_cfg = cfg.get('train_cfg') or {}
    loop = str(train_cfg.get('type', ''))
    if 'max_epochs' in train_cfg and 'Iter' not in loop:
        return train_cfg['max_epochs'], None
    if 'max_iters' in train_cfg:
        return None, train_cfg['max_iters']
    return None, None


def fit_schedulers_to_training(cfg: Config) -> None:
    """Leave out parameter schedulers that start after training ends.

    ``--cfg-options train_cfg.max_epochs=1`` on a config whose cosine
    schedule starts after a one-epoch warm-up (``begin=1``, ``end`` left to
    mmengine, which sets it to ``max_epochs``) would otherwise die in
    mmengine's scheduler ("end should be larger than begin"), naming
    neither the scheduler nor the fix. The shortened run is the first
    epochs of the full schedule: a scheduler that would start at or after
    the last epoch (iteration) never acts, so it is left out with a warning
    naming it. Schedulers of an optimiser-wrapper dict (``param_scheduler=
    dict(weights=[...], architecture=[...])``) are checked the same way.

    Raises:
        ValueError: a scheduler whose own ``end`` is not after its
            ``begin``, naming it.
    """
    max_epochs, max_iters = _training_length(cfg)
    schedulers = cfg.get('param_scheduler')
    if schedulers is None or (max_epochs, max_iters) == (None, None):
        return
    groups = schedulers.items() if isinstance(schedulers, dict) and \
        'type' not in schedulers else [(None, schedulers)]
    fitted = {}
    for group, entries in groups:
        single = isinstance(entries, dict)
        entries = [entries] if single else list(entries)
        kept = []
        for index, scheduler in enumerate(entries):
            where = 'param_scheduler' + (f'.{group}' if group else
                                         '') + ('' if single else f'[{index}]')
            by_epoch = scheduler.get('by_epoch', True)
            length = max_epochs if by_epoch else max_iters
            if length is None:  # epochs of an iteration-based loop
                kept.append(scheduler)
                continue
            unit = 'max_epochs' if by_epoch else 'max_iters'
            begin = scheduler.get('begin', 0)
            end = scheduler.get('end')
            if end is not None and end <= begin:
                raise ValueError(
                    f'{where} ({scheduler.get("type")}): end={end} is not '
                    f'after begin={begin}; set its end after its begin')
            if begin >= length:
                print_log(
                    f'{where} ({scheduler.get("type")}) starts at {begin}, '
                    f'at or after the end of training (train_cfg.{unit}='
                    f'{length}), so it would never act (and mmengine would '
                    'refuse it: end must be larger than begin); this run '
                    'leaves it out. For a shorter training with the whole '
                    'schedule, also set the schedulers\' begin / end / '
                    'T_max with --cfg-options.',
                    logger='current',
                    level=logging.WARNING)
                continue
            kept.append(scheduler)
        fitted[group] = kept[0] if single and kept else kept
    if list(fitted) == [None]:
        cfg.param_scheduler = fitted[None] or None
    else:
        cfg.param_scheduler = fitted


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

    Schedulers that would start after the end of training are left out
    (:func:`fit_schedulers_to_training`).
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
    fit_schedulers_to_training(cfg)
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


#: Top-level keys OpenMMLab tools read besides the Runner's.
TOOL_CFG_KEYS = {
    'custom_imports', 'auto_scale_lr', 'tta_model', 'tta_pipeline'
}
#: Keys of ``env_cfg`` that mmengine's ``Runner.setup_env`` reads.
ENV_CFG_KEYS = {'cudnn_benchmark', 'mp_cfg', 'dist_cfg', 'resource_limit'}


def _typo_distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap neighbours) from a to b."""
    prev2, prev = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if (i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb):
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]


def _near_misses(key: str, known) -> list:
    """Known keys one typo away from ``key`` (two for keys of 10 or more
    characters)."""
    limit = 1 if len(key) < 10 else 2
    return sorted(k for k in known if 0 < _typo_distance(key, k) <= limit)


def _known_keys(where: str, given, known, source: str) -> None:
    """Refuse keys of ``where`` (a closed set of options) not in known."""
    for key in given:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=3)
            hint = f'did you mean {close[0]!r}? ' if close else ''
            raise KeyError(
                f'{source}: {where} has no key {key!r}; {hint}mmengine '
                f'reads only {sorted(known)} there and would ignore it')


def runner_config_keys() -> set:
    """The top-level config keys mmengine's Runner and OpenMMLab's tools
    read."""
    return (set(inspect.signature(Runner.__init__).parameters) - {'self'}
            | RUNNER_CFG_KEYS | TOOL_CFG_KEYS)


def check_config_keys(cfg: Config, source: str = 'config') -> None:
    """Refuse config keys that mmengine would ignore without a word.

    * a top-level key one typo away from a key the Runner reads
      (``trian_cfg``, ``custom_hook``): configs may define helper variables
      (``data_root``, ``train_pipeline``), so only near misses are refused;
    * an unknown key of ``env_cfg`` (``cudnn_benchmrk``), of
      ``env_cfg.mp_cfg`` or of ``randomness``, whose options are closed sets.

    Args:
        cfg (Config): The config, after ``--cfg-options``.
        source (str): What to name in the message (the config file).

    Raises:
        KeyError: naming the file, the key and the key it resembles.
    """
    from mmengine.runner import set_random_seed
    from mmengine.utils.dl_utils import set_multi_processing
    known = runner_config_keys()
    for key in cfg.keys():
        if key in known or key.startswith('_'):
            continue
        close = _near_misses(key, known)
        if close:
            raise KeyError(
                f'{source}: top-level key {key!r} is not read by mmengine\'s '
                f'Runner, which would ignore it; did you mean {close[0]!r}?')
    env_cfg = cfg.get('env_cfg') or {}
    _known_keys('env_cfg', env_cfg, ENV_CFG_KEYS, source)
    mp_keys = set(inspect.signature(set_multi_processing).parameters)
    _known_keys('env_cfg.mp_cfg',
                env_cfg.get('mp_cfg') or {}, mp_keys - {'distributed'}, source)
    _known_keys('randomness',
                cfg.get('randomness') or {},
                set(inspect.signature(set_random_seed).parameters), source)


def _hook_class(hook_type, scope: Optional[str]):
    """The class of a hook type name in the config's registry scope, or
    None when it is not registered there (the Runner's build then says
    so)."""
    if not isinstance(hook_type, str):
        return hook_type if inspect.isclass(hook_type) else None
    from mmengine.registry import HOOKS as ROOT_HOOKS
    try:
        with ROOT_HOOKS.switch_scope_and_registry(scope) as registry:
            return registry.get(hook_type)
    except Exception:  # an unimportable scope: the build reports it
        return None


def _hook_arguments(cls) -> Optional[set]:
    """The keyword arguments a hook class accepts, None when it passes
    unknown ones on to something this check does not know."""
    from mmengine.hooks import CheckpointHook, EMAHook
    params = inspect.signature(cls.__init__).parameters
    names = {
        n
        for n, p in params.items()
        if n != 'self' and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return names
    if issubclass(cls, CheckpointHook):
        # Its **kwargs go to Runner.save_checkpoint, whose every argument
        # the hook either takes itself or sets: anything else fails only
        # at the first save, after a whole epoch.
        return names
    if issubclass(cls, EMAHook):
        return names | {
            'ema_type', 'momentum', 'interval', 'device', 'update_buffers',
            'gamma'
        }
    return None


def check_hook_arguments(cfg: Config, source: str = 'config') -> None:
    """Refuse hook configs (``default_hooks``, ``custom_hooks``) with an
    argument their hook does not take, before the Runner is built.

    mmengine's ``CheckpointHook`` takes ``**kwargs`` and hands them to the
    first checkpoint save, so ``checkpoint=dict(interva=1)`` would fail
    only after the first epoch.

    Raises:
        TypeError: naming the file, the hook entry, the argument and the
            arguments the hook takes.
    """
    entries = [(f'default_hooks.{name}', hook)
               for name, hook in (cfg.get('default_hooks') or {}).items()]
    entries += [(f'custom_hooks[{i}]', hook)
                for i, hook in enumerate(cfg.get('custom_hooks') or [])]
    for where, hook in entries:
        if not isinstance(hook, dict) or 'type' not in hook:
            continue
        # Configs inheriting another project's (``_base_ = 'mmdet::...'``)
        # carry that project's scope in ``_scope_``, as mmengine's
        # registry resolves it.
        cls = _hook_class(hook['type'],
                          hook.get('_scope_') or cfg.get('default_scope'))
        if cls is None:
            continue
        accepted = _hook_arguments(cls)
        if accepted is None:
            continue
        for key in hook:
            if key in ('type', 'priority', '_scope_') or key in accepted:
                continue
            close = difflib.get_close_matches(key, sorted(accepted), n=1)
            hint = f'did you mean {close[0]!r}? ' if close else ''
            raise TypeError(
                f'{source}: {where} ({cls.__name__}) has no argument '
                f'{key!r}; {hint}it takes {sorted(accepted)}')


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
    ``--work-dir`` defaulting to ``work_dirs/<config name>``), and refuse
    keys mmengine would ignore (:func:`check_config_keys`,
    :func:`check_hook_arguments`)."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        check_cfg_options(cfg, args.cfg_options)
        cfg.merge_from_dict(args.cfg_options)
    check_config_keys(cfg, args.config)
    check_hook_arguments(cfg, args.config)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


#: Models whose ID loss may learn mixup's soft identity scores, and the
#: data preprocessor that also keeps their dominant hard identity.
MIXUP_REID_MODELS = ('ReID', 'PCBReID', 'TransReIDModel')
#: Re-ID heads whose ID loss takes ``gt_score`` (the others keep the hard,
#: dominant identity of each mixed image).
MIXUP_SOFT_REID_HEADS = ('ReIDHead', 'ReIDHeadWithIB')


def enable_mixup(cfg: Config, alpha: float) -> None:
    """Train with mixup (mmpretrain's ``Mixup`` batch augmentation,
    ``lam ~ Beta(alpha, alpha)`` per batch), the augmentation of the Re-ID
    fine-tuning after a search in seeds 000 / 001.

    ``cfg.model.data_preprocessor`` (merged with the config's top-level
    ``data_preprocessor``) gets ``num_classes = model.head.num_classes`` and
    ``batch_augments=dict(augments=dict(type='Mixup', alpha=alpha))``.
    Classifiers keep mmpretrain's ``ClsDataPreprocessor`` (the head learns
    the soft scores); Re-ID models get
    :class:`~mmattn.models.reid.ReIDDataPreprocessor`: the ID loss of
    ``ReIDHead`` learns the soft scores, the triplet loss (and the IB bound)
    the dominant identity of each mixed image. A ``CrossEntropyLoss`` ID
    loss is switched to ``use_soft=True``.

    Raises:
        ValueError: alpha <= 0, a model without ``head.num_classes``, or a
            model type mixup is not defined for (e.g. a search model).
    """
    if not alpha > 0:
        raise ValueError(f'--mixup: alpha must be > 0, got {alpha}')
    model = cfg.model
    kind = str(model.get('type', '')).split('.')[-1]
    if kind not in MIXUP_REID_MODELS + ('ImageClassifier', ):
        raise ValueError(
            f'--mixup: model.type is {kind!r}; mixup is defined for '
            f'ImageClassifier and the Re-ID models {MIXUP_REID_MODELS} '
            '(the fine-tuning after a search, not the search itself)')
    head = model.get('head') or {}
    num_classes = head.get('num_classes')
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError('--mixup needs model.head.num_classes (the number '
                         f'of classes / identities), got {num_classes!r}')
    preprocessor = dict(cfg.get('data_preprocessor') or {})
    preprocessor.update(model.get('data_preprocessor') or {})
    if kind in MIXUP_REID_MODELS:
        preprocessor['type'] = 'ReIDDataPreprocessor'
    else:
        preprocessor.setdefault('type', 'ClsDataPreprocessor')
    preprocessor.update(
        num_classes=num_classes,
        batch_augments=dict(augments=dict(type='Mixup', alpha=alpha)))
    model.data_preprocessor = preprocessor
    head_kind = str(head.get('type', '')).split('.')[-1]
    loss_key = 'loss_id' if kind in MIXUP_REID_MODELS else 'loss'
    loss = head.get(loss_key)
    if isinstance(loss, dict) and \
            str(loss.get('type', '')).split('.')[-1] == 'CrossEntropyLoss':
        loss['use_soft'] = True
    if kind in MIXUP_REID_MODELS and head_kind not in MIXUP_SOFT_REID_HEADS:
        print_log(
            f'--mixup: the ID loss of {head_kind} takes hard labels; it '
            'learns the dominant identity of each mixed image, not the soft '
            'mixed scores',
            logger='current',
            level=logging.WARNING)
