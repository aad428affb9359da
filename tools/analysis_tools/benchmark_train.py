"""Training throughput and peak memory: mmengine's Runner vs a bare loop.

Builds the model of a training config and measures, on one device and in
the same precision, memory format, batch and input size:

* ``bare``: a hand-written PyTorch loop over one staged, preprocessed
  synthetic batch: forward through the model's ``loss`` path, backward,
  optimiser step (the config's optimiser, without mmengine's wrapper);
* ``runner``: mmengine's Runner with the config's hooks, logger, schedulers
  and the training switches of tools/train.py, training by epoch
  (``--epoch-iters`` iterations per epoch) over an in-memory synthetic
  dataset of packed samples, through a DataLoader.

Both report images/s after ``--warmup`` iterations and the peak memory of
the timed window. ``--ablate`` instead runs the Runner once per lever, each
row adding one: fp32 -> +channels_last -> +amp -> +compile -> +workers ->
+pin_memory -> +persistent_workers. ``--compare-attention`` measures the
bare-loop step time of the config with the attention modules of its
``AttentionBackbone`` removed (the bare backbone) and of the config and
every further config with them, and the overhead in percent.

``--all-seeds`` (no config) prints one Markdown cost table over the main
training config of every seed (``SEED_CONFIGS``), at the paper's input
size and batch 16: per config the bare-loop step of the method against the
same network without it (:func:`strip_method`), and for the search configs
and DCS-FB's IB hook a ``loop`` row, the Runner with the config's own loop
and hooks (architecture step, DA carry, Gumbel temperature, IB statistics)
over whole epochs, per batch of images, against the method's bare loop.
Its peak memory is the step's own: CUDA allocations, or on the CPU the
peak RSS minus the RSS before the model was built. ``--tiny`` runs every
row at tiny sizes in one process (a smoke test). The findings above
+8 % and their reasons are in docs/user_guides/benchmarks.md; in short
(CPU time, 2-core CPU; smoke size for seeds 000, 001 and 004): the AutoLA
search step is ~20-30x a ResNet-20 step because the DARTS relaxation
computes all nine HOGA primitives on every edge (the method); HOGA's
genotype on ResNet-20 (3.8x), DA on MobileNetV2 (1.25-1.31x) and DCS's
softmax affinity (1.14x) add many small or quadratic ops to cheap
networks; PCB + CSA (1.21x) and StRA (1.28x, an unfolded K x K dynamic
kernel) are straightforward implementations above the papers' figures,
not fixed yet.

Examples::

    python tools/analysis_tools/benchmark_train.py \\
        configs/reid/resnet50_b64_market1501.py --batch-size 256 \\
        --amp bf16 --channels-last --workers 8 --pin-memory \\
        --persistent-workers --out work_dirs/bench_r50.json
    python tools/analysis_tools/benchmark_train.py \\
        configs/reid/resnet50_b64_market1501.py --batch-size 256 --ablate
    python tools/analysis_tools/benchmark_train.py --all-seeds \\
        --out work_dirs/seeds.json
    python tools/analysis_tools/benchmark_train.py \\
        configs/attentions/da-single_mobilenet-v2.py --compare-attention \\
        configs/attentions/dcs_mobilenet-v2.py --input-size 256 128

Every measurement runs in a fresh Python process, so that one does not
inherit the memory, compiled graphs or allocator caches of another. Peak
memory is ``torch.cuda.max_memory_allocated`` over the timed window on CUDA
(everything the step keeps alive: weights, gradients, optimiser state,
activations); on the CPU it is the peak resident set size (``VmHWM``) of the
measuring process, which also counts the interpreter and libraries; the
process's resident size before the model is built is reported next to it.
Each row also gives ``cpu_ms_per_step``, the CPU time of the measuring
process per step (loader workers not included): on a shared CPU it is
steadier than the wall time. The synthetic data skip image decoding and
augmentation: the numbers are those of the training step and the loader
machinery, not of a JPEG pipeline.
"""
import argparse
import json
import math
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

import torch

#: Ablation levers in order; each row adds one to the previous row.
ABLATION_STEPS = ('channels_last', 'amp', 'compile', 'workers', 'pin_memory',
                  'persistent_workers')
#: Images per identity in a synthetic batch (P x K batches for triplet loss).
INSTANCES_PER_ID = 4


def parse_args(argv=None):
    from mmengine.config import DictAction

    from mmattn.engine import add_performance_arguments

    parser = argparse.ArgumentParser(
        description='Training images/s and peak memory: mmengine Runner vs '
        'a bare PyTorch loop')
    parser.add_argument(
        'config',
        nargs='?',
        default=None,
        help='training config file (not with --all-seeds)')
    parser.add_argument(
        '--all-seeds',
        action='store_true',
        help='the cost table of every seed\'s main training configs (see '
        'SEED_CONFIGS): method vs the same network without it, and the '
        'search loops\' own overhead, as one Markdown table')
    parser.add_argument(
        '--tiny',
        action='store_true',
        help='--all-seeds at tiny sizes (a smoke test of every row)')
    parser.add_argument(
        '--seeds',
        nargs='+',
        metavar='SEED',
        help='--all-seeds: only the rows of these seeds (000 ... 004)')
    parser.add_argument(
        '--epochs',
        type=int,
        default=1,
        help='--all-seeds loop rows: timed epochs after a warm-up epoch')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=None,
        help='images per step (default: the config\'s train batch size)')
    parser.add_argument(
        '--input-size',
        type=int,
        nargs=2,
        default=(256, 128),
        metavar=('H', 'W'),
        help='input height and width (default 256 128)')
    parser.add_argument(
        '--iters',
        type=int,
        default=None,
        help='timed iterations (default 50; --all-seeds: 3)')
    parser.add_argument(
        '--warmup',
        type=int,
        default=None,
        help='untimed iterations first (compilation, cuDNN autotuning; '
        'default 10, --all-seeds: 1)')
    parser.add_argument(
        '--epoch-iters',
        type=int,
        default=20,
        help='Runner: iterations per epoch of the synthetic dataset, so '
        'that epoch ends (loader restarts) fall inside the timed window')
    add_performance_arguments(parser)
    parser.add_argument(
        '--ablate',
        action='store_true',
        help='Runner only, one row per lever (see --ablate-steps)')
    parser.add_argument(
        '--ablate-steps',
        nargs='+',
        choices=ABLATION_STEPS,
        default=list(ABLATION_STEPS),
        help='the levers --ablate adds')
    parser.add_argument(
        '--compare-attention',
        nargs='*',
        metavar='CONFIG',
        default=None,
        help='bare-loop step time of the bare backbone vs CONFIG and these '
        'configs (attention overhead)')
    parser.add_argument(
        '--device',
        choices=['cuda', 'cpu'],
        default=None,
        help='default: cuda when available')
    parser.add_argument(
        '--out', help='JSON file for the results (must not '
        'exist)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. model.head.num_classes=100')
    args = parser.parse_args(argv)
    if args.all_seeds == (args.config is not None):
        parser.error('give a config, or --all-seeds without one')
    if (args.tiny or args.seeds) and not args.all_seeds:
        parser.error('--tiny and --seeds are options of --all-seeds')
    known = sorted({row[0].split()[0] for row in SEED_CONFIGS})
    if args.seeds and set(args.seeds) - set(known):
        parser.error(f'--seeds: unknown {sorted(set(args.seeds) - set(known))}'
                     f'; the seeds are {known}')
    if args.all_seeds and (args.ablate or args.compare_attention is not None
                           or args.cfg_options):
        parser.error('--all-seeds is a mode of its own (no --ablate, '
                     '--compare-attention or --cfg-options)')
    if args.epochs < 1:
        parser.error('--epochs must be >= 1')
    if args.all_seeds and args.batch_size is not None and \
            args.batch_size < 16:
        parser.error('--all-seeds needs --batch-size >= 16: the search '
                     'loops split every P x K batch into two parts that '
                     'both need positives for the triplet loss')
    if args.iters is None:
        args.iters = 3 if args.all_seeds else 50
    if args.warmup is None:
        args.warmup = 1 if args.all_seeds else 10
    for name in ('iters', 'warmup', 'epoch_iters'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    if args.batch_size is not None and args.batch_size < 1:
        parser.error('--batch-size must be >= 1')
    if args.ablate and args.compare_attention is not None:
        parser.error('--ablate and --compare-attention are separate modes')
    if args.device is None:
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: no CUDA device is available')
    if args.amp is True:
        args.amp = 'fp16'
    if args.amp == 'fp16' and args.device == 'cpu':
        parser.error('--amp fp16 needs CUDA (mmengine\'s AmpOptimWrapper); '
                     'use --amp bf16 on the CPU')
    if args.out and osp.exists(args.out):
        parser.error(f'--out {args.out} already exists; choose another '
                     'file or remove it')
    return args


# --------------------------------------------------------------------------
# Measuring process
# --------------------------------------------------------------------------


def current_rss_mb(field: str = 'VmRSS') -> float:
    """Resident set size (``VmRSS``) or its peak (``VmHWM``) in MiB."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource  # no /proc: the lifetime peak is all there is
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class MemoryMeter:
    """Peak memory of a window: CUDA allocations or the process's RSS."""

    def __init__(self, device: str):
        self.device = device

    def sync(self) -> None:
        if self.device == 'cuda':
            torch.cuda.synchronize()

    def reset(self) -> None:
        if self.device == 'cuda':
            torch.cuda.reset_peak_memory_stats()

    def peak_mb(self) -> float:
        if self.device == 'cuda':
            return torch.cuda.max_memory_allocated() / 2**20
        return current_rss_mb('VmHWM')


class SyntheticPackedDataset(torch.utils.data.Dataset):
    """``num_samples`` packed samples as ``PackInputs`` makes them: a uint8
    image (3, H, W) and a :class:`DataSample` with ``gt_label``. Labels
    follow P x K batches (``INSTANCES_PER_ID`` images per identity, in
    order) so that a triplet loss finds positives in every batch; the
    images cycle through ``distinct`` random ones held in memory."""

    def __init__(self,
                 num_samples: int,
                 size,
                 num_classes: int,
                 distinct: int = 64,
                 instances_per_id: int = INSTANCES_PER_ID):
        generator = torch.Generator().manual_seed(0)
        self.images = torch.randint(
            0,
            256, (min(distinct, num_samples), 3, *size),
            dtype=torch.uint8,
            generator=generator)
        self.num_samples = num_samples
        self.num_classes = num_classes
        self.instances_per_id = instances_per_id
        self.metainfo = dict(classes=list(range(num_classes)))

    def __len__(self) -> int:
        return self.num_samples

    def label(self, index: int) -> int:
        return (index // self.instances_per_id) % self.num_classes

    def get_gt_labels(self):
        """Every sample's label (what the search loop's split reads)."""
        import numpy as np
        return np.array([self.label(i) for i in range(self.num_samples)])

    def get_data_info(self, index: int) -> dict:
        return dict(gt_label=self.label(index), sample_idx=index)

    def __getitem__(self, index: int) -> dict:
        from mmpretrain.structures import DataSample
        sample = DataSample(metainfo=dict(sample_idx=index)).set_gt_label(
            self.label(index))
        return dict(
            inputs=self.images[index % len(self.images)], data_samples=sample)


def load_config(spec: dict):
    from mmengine.config import Config

    from mmattn.engine import check_cfg_options
    cfg = Config.fromfile(spec['config'])
    if spec.get('cfg_options'):
        check_cfg_options(cfg, spec['cfg_options'])
        cfg.merge_from_dict(spec['cfg_options'])
    if spec.get('strip_attention'):
        attention_backbone(cfg, spec['config']).attentions = []
        # Losses that read the attention modules (CSA deep supervision, StRA
        # diversity) have nothing to bind to in the bare network.
        cfg.model.pop('auxiliary_losses', None)
    if spec.get('arch_from') and not spec.get('strip_method'):
        # A retrain config reads the architecture a search exported: use the
        # one the search model starts from.
        cfg.model.backbone.arch_file = initial_architecture(
            spec['arch_from'], spec['arch_file'])
    if spec.get('strip_method'):
        strip_method(cfg, spec['config'])
    # Timing does not depend on the weights' values: never download any.
    drop_pretrained(cfg.model)
    return cfg


def drop_pretrained(node) -> None:
    """Remove every ``init_cfg=dict(type='Pretrained', ...)`` in place."""
    if isinstance(node, dict):
        init = node.get('init_cfg')
        if isinstance(init, dict) and init.get('type') == 'Pretrained':
            node['init_cfg'] = None
        for value in node.values():
            drop_pretrained(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            drop_pretrained(value)


def strip_method(cfg, path: str) -> None:
    """Turn a method config into the same network without the method:
    the attention modules of its ``AttentionBackbone`` (a retrain's
    ``SearchedBackbone`` too) removed, the auxiliary losses of the method
    (StRA diversity, CSA deep supervision) and the IB bound dropped; a
    search model whose only architecture parameters were the method's
    (DA windows, HOGA) becomes its plain network with the weights'
    optimiser, a DNAS supernet search stays a search without the method."""
    model = cfg.model
    search = model.get('type') == 'BilevelSearchModel'
    net = model.model if search else model
    backbone = net.get('backbone', {})
    if backbone.get('type') == 'SearchedBackbone':
        backbone = net.backbone = backbone.backbone
    if backbone.get('type') != 'AttentionBackbone':
        raise SystemExit(
            f'--all-seeds: the backbone of {path} is {backbone.get("type")!r},'
            ' not AttentionBackbone; cannot derive the network without the '
            'method')
    backbone.attentions = []
    net.pop('auxiliary_losses', None)
    head = net.get('head') or {}
    if str(head.get('type', '')).endswith('WithIB'):
        head.type = head.type[:-len('WithIB')]
        head.pop('loss_ib', None)
        head.pop('ib_feature', None)
    if search and 'Supernet' not in str(backbone.backbone.get('type')):
        cfg.model = net
        cfg.optim_wrapper = cfg.optim_wrapper.weights
        cfg.model_wrapper_cfg = None
    cfg.custom_hooks = [
        h for h in cfg.get('custom_hooks', [])
        if h.get('type') != 'IBVariationalHook'
    ]


def initial_architecture(search_config: str, out_file: str) -> str:
    """Export the architecture of ``search_config`` 's model as built (the
    search's starting point) to ``out_file``; return the path."""
    from mmengine.config import Config

    from mmattn.models.search import save_architecture
    from mmattn.registry import MODELS
    cfg = Config.fromfile(search_config)
    drop_pretrained(cfg.model)
    save_architecture(MODELS.build(cfg.model), out_file)
    return out_file


def attention_backbone(cfg, path: str):
    """The ``AttentionBackbone`` config of ``cfg.model.backbone``, whose
    attention list ``--compare-attention`` empties for the bare backbone."""
    backbone = cfg.model.get('backbone', {})
    if backbone.get('type') != 'AttentionBackbone':
        raise SystemExit(
            f'--compare-attention: the model.backbone of {path} is '
            f'{backbone.get("type")!r}, not AttentionBackbone; cannot derive '
            'the bare backbone')
    return backbone


def num_classes_of(model) -> int:
    model = getattr(model, 'architecture_model', model)  # search models
    head = getattr(model, 'head', None)
    classes = getattr(head, 'num_classes', None)
    if not isinstance(classes, int):
        raise ValueError(
            f'{type(model).__name__}: the head has no integer num_classes; '
            'the synthetic labels need it')
    return classes


def build_optimizer(cfg, model):
    """The config's optimiser (with its paramwise settings) as a plain
    ``torch.optim`` optimiser; SGD(lr=0.01, momentum=0.9) for model-only
    configs."""
    from mmengine.optim import build_optim_wrapper
    wrapper_cfg = cfg.get('optim_wrapper') or dict(
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
    wrapper_cfg = dict(wrapper_cfg)
    if wrapper_cfg.get('constructor') == 'BilevelOptimWrapperConstructor':
        # A search model: the bare loop takes weight steps only, with the
        # optimiser of the network weights (architecture parameters apart).
        return build_optim_wrapper(model, wrapper_cfg)['weights'].optimizer
    wrapper_cfg['type'] = 'OptimWrapper'
    for key in ('dtype', 'loss_scale', 'use_fsdp'):
        wrapper_cfg.pop(key, None)
    return build_optim_wrapper(model, wrapper_cfg).optimizer


def measure_bare(spec: dict, meter: MemoryMeter) -> dict:
    """A hand-written training loop on one staged batch."""
    from mmattn.registry import MODELS, register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = load_config(spec)
    device = spec['device']
    if device == 'cuda':
        torch.backends.cudnn.benchmark = bool(
            cfg.get('env_cfg', {}).get('cudnn_benchmark', False))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    if hasattr(model, 'init_weights'):
        model.init_weights()
    model.to(device).train()
    batch = spec['batch_size']
    dataset = SyntheticPackedDataset(batch, spec['input_size'],
                                     num_classes_of(model))
    samples = [dataset[i] for i in range(batch)]
    data = model.data_preprocessor(
        dict(
            inputs=[s['inputs'] for s in samples],
            data_samples=[s['data_samples'] for s in samples]), True)
    inputs, data_samples = data['inputs'], data['data_samples']
    if spec['channels_last']:
        model.to(memory_format=torch.channels_last)
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    optimizer = build_optimizer(cfg, model)
    forward = torch.compile(model) if spec['compile'] else model
    amp = spec['amp']
    cast = {'fp16': torch.float16, 'bf16': torch.bfloat16}.get(amp)
    scaler = torch.amp.GradScaler(device) if amp == 'fp16' else None

    def step():
        with torch.autocast(device, dtype=cast, enabled=cast is not None):
            losses = forward(inputs, data_samples, mode='loss')
            loss = sum(v.mean() for k, v in losses.items() if 'loss' in k)
        optimizer.zero_grad(set_to_none=True)
        if scaler is None:
            loss.backward()
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()

    for _ in range(spec['warmup']):
        step()
    meter.sync()
    meter.reset()
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(spec['iters']):
        step()
    meter.sync()
    elapsed = time.perf_counter() - start
    return dict(
        seconds=elapsed,
        cpu_seconds=time.process_time() - cpu_start,
        peak_memory_mb=meter.peak_mb(),
        optimizer=type(optimizer).__name__)


def runner_config(spec: dict, work_dir: str):
    """The config for a Runner benchmark: the synthetic dataset as the only
    loader, by-epoch training for (at least) warmup + iters iterations, no
    validation, checkpoints or learning-rate schedule; then the switches of
    tools/train.py."""
    from mmattn.engine import prepare_training_config
    cfg = load_config(spec)
    batch = spec['batch_size']
    total = spec['warmup'] + spec['iters']
    epoch_iters = min(spec['epoch_iters'], total)
    loader = cfg.get('train_dataloader') or {}
    dataset = dict(
        type='BenchmarkSyntheticDataset',
        num_samples=batch *
        (spec['epoch_iters'] if spec['mode'] == 'loop' else epoch_iters),
        size=tuple(spec['input_size']),
        instances_per_id=spec.get('instances_per_id', INSTANCES_PER_ID))
    cfg.train_dataloader = dict(
        batch_size=batch,
        num_workers=loader.get('num_workers', 0),
        persistent_workers=loader.get('persistent_workers', False),
        pin_memory=loader.get('pin_memory', False),
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dataset,
        drop_last=True)
    if spec['mode'] == 'loop':
        # The config's own loop (the bilevel search loop keeps its split
        # and schedule) and hooks: one warm-up epoch, then the timed ones.
        loop = dict(cfg.train_cfg)
        if loop.get('type') == 'BilevelEpochBasedTrainLoop':
            loop.pop('dynamic_intervals', None)
            cfg.train_cfg = dict(
                loop, max_epochs=1 + spec['epochs'], val_interval=10**9)
        else:
            cfg.train_cfg = dict(
                by_epoch=True,
                max_epochs=1 + spec['epochs'],
                val_interval=10**9)
        epoch_iters = spec['epoch_iters']
        for hook in cfg.get('custom_hooks') or []:
            if hook.get('type') == 'IBVariationalHook':
                # Its pass reads the training set with the test pipeline;
                # the benchmark has no pipelines: the same synthetic data.
                hook['dataloader'] = dict(
                    batch_size=batch,
                    num_workers=0,
                    sampler=dict(type='DefaultSampler', shuffle=False),
                    dataset=dict(dataset))
    else:
        cfg.train_cfg = dict(
            by_epoch=True,
            max_epochs=math.ceil(total / epoch_iters),
            val_interval=10**9)
    for key in ('val', 'test'):
        cfg[f'{key}_dataloader'] = cfg[f'{key}_cfg'] = None
        cfg[f'{key}_evaluator'] = None
    cfg.setdefault('default_hooks', {})['checkpoint'] = None
    # The config's schedule counts real epochs; the benchmark's are a few
    # iterations long, which milestones and warm-ups do not fit.
    cfg.param_scheduler = None
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    cfg.load_from, cfg.resume = None, False
    prepare_training_config(
        cfg,
        amp=spec['amp'],
        channels_last=spec['channels_last'],
        compile=spec['compile'],
        workers=spec['workers'],
        pin_memory=spec['pin_memory'],
        persistent_workers=spec['persistent_workers'])
    return cfg, epoch_iters


def measure_runner(spec: dict, meter: MemoryMeter) -> dict:
    """mmengine's Runner over the synthetic dataset."""
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    from mmattn.registry import DATASETS, register_all_modules
    register_all_modules(init_default_scope=False)

    class ThroughputHook(Hook):
        """Times the iterations after the warm-up; syncs the device only at
        the two ends of the window."""
        priority = 'LOWEST'

        def __init__(self):
            self.start = self.seconds = self.peak = None
            self.cpu_start = self.cpu_seconds = None

        def after_train_iter(self,
                             runner,
                             batch_idx,
                             data_batch=None,
                             outputs=None):
            done = runner.iter + 1
            if done == spec['warmup']:
                meter.sync()
                meter.reset()
                self.start = time.perf_counter()
                self.cpu_start = time.process_time()
            elif done == spec['warmup'] + spec['iters']:
                meter.sync()
                self.seconds = time.perf_counter() - self.start
                self.cpu_seconds = time.process_time() - self.cpu_start
                self.peak = meter.peak_mb()

    class EpochWindowHook(Hook):
        """Loop mode: times whole epochs after the first, from before the
        first hook of ``before_train_epoch`` (IB pass, temperature) to
        after the last of ``after_train_epoch``; counts the images of
        every step (both splits of a bilevel iteration)."""

        def __init__(self):
            self.start = self.seconds = self.peak = None
            self.cpu_start = self.cpu_seconds = None
            self.images = 0
            self.iterations = 0

        def start_window(self, runner):
            if runner.epoch == 1:
                meter.sync()
                meter.reset()
                self.start = time.perf_counter()
                self.cpu_start = time.process_time()

        def count(self, runner, data_batch):
            if self.start is None or self.seconds is not None:
                return
            self.iterations += 1
            parts = [
                data_batch[k]
                for k in ('train_a', 'train_b') if k in data_batch
            ] or [data_batch]
            self.images += sum(len(part['inputs']) for part in parts)

        def stop_window(self, runner):
            if runner.epoch == runner.max_epochs - 1:
                meter.sync()
                self.seconds = time.perf_counter() - self.start
                self.cpu_seconds = time.process_time() - self.cpu_start
                self.peak = meter.peak_mb()

    class WindowStart(Hook):
        priority = 'HIGHEST'

        def __init__(self, window):
            self.window = window

        def before_train_epoch(self, runner):
            self.window.start_window(runner)

    class WindowEnd(Hook):
        priority = 'LOWEST'

        def __init__(self, window):
            self.window = window

        def after_train_iter(self,
                             runner,
                             batch_idx,
                             data_batch=None,
                             outputs=None):
            self.window.count(runner, data_batch)

        def after_train_epoch(self, runner):
            self.window.stop_window(runner)

    with tempfile.TemporaryDirectory() as work_dir:
        cfg, epoch_iters = runner_config(spec, work_dir)
        # The head's class count is known only once the model is built.
        model = None

        def build_dataset(num_samples,
                          size,
                          instances_per_id=INSTANCES_PER_ID):
            return SyntheticPackedDataset(
                num_samples,
                size,
                num_classes_of(model),
                instances_per_id=instances_per_id)

        DATASETS.register_module(
            'BenchmarkSyntheticDataset', module=build_dataset, force=True)
        runner = Runner.from_cfg(cfg)
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        if spec['mode'] == 'loop':
            timer = EpochWindowHook()
            runner.register_hook(WindowStart(timer))
            runner.register_hook(WindowEnd(timer))
        else:
            timer = ThroughputHook()
            runner.register_hook(timer)
        runner.train()
        memory_format_ok = None
        if spec['channels_last']:
            weight = next(p for p in model.parameters() if p.dim() == 4)
            memory_format_ok = weight.is_contiguous(
                memory_format=torch.channels_last)
        optim_wrapper = type(runner.optim_wrapper).__name__
    result = dict(
        seconds=timer.seconds,
        cpu_seconds=timer.cpu_seconds,
        peak_memory_mb=timer.peak,
        epoch_iters=epoch_iters,
        optim_wrapper=optim_wrapper,
        channels_last_weights=memory_format_ok,
        train_loop=type(runner.train_loop).__name__,
        hooks=[type(h).__name__ for h in runner.hooks])
    if spec['mode'] == 'loop':
        if timer.seconds is None:
            raise RuntimeError('loop benchmark: the timed epochs never ran')
        result.update(images=timer.images, iterations=timer.iterations)
    return result


def run_child(spec_path: str, result_path: str) -> None:
    """Measure one spec, or each of a list of specs in turn (``--tiny``:
    one process for all, so that the smoke test does not pay the imports
    once per row; memory is then not isolated between the rows)."""
    with open(spec_path) as f:
        spec = json.load(f)
    if isinstance(spec, list):
        result = [child_measure(s) for s in spec]
    else:
        result = child_measure(spec)
    with open(result_path, 'w') as f:
        json.dump(result, f)


def child_measure(spec: dict) -> dict:
    rss_start = current_rss_mb()
    meter = MemoryMeter(spec['device'])
    measure = measure_bare if spec['mode'] == 'bare' else measure_runner
    result = measure(spec, meter)
    images = result.get('images', spec['batch_size'] * spec['iters'])
    # Loop mode: a "step" is one batch of images (a bilevel iteration of
    # the interleaved schedule takes two), so that rows compare per image.
    steps = images / spec['batch_size']
    result.update(
        images_per_s=images / result['seconds'],
        step_ms=1000 * result['seconds'] / steps,
        cpu_ms_per_step=1000 * result['cpu_seconds'] / steps,
        rss_at_start_mb=rss_start if spec['device'] == 'cpu' else None)
    return result


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------


def measure(spec) -> dict:
    """Run one measurement in a fresh process; return its result. A list
    of specs is measured in one process, in turn (a list of results)."""
    env = dict(os.environ)
    first = spec[0] if isinstance(spec, list) else spec
    if first['device'] == 'cpu':
        env['CUDA_VISIBLE_DEVICES'] = ''  # mmengine picks CUDA if it sees it
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, result_path = (osp.join(tmp, 'spec.json'),
                                  osp.join(tmp, 'result.json'))
        with open(spec_path, 'w') as f:
            json.dump(spec, f)
        label = (f'{len(spec)} rows in one process' if isinstance(spec, list)
                 else f'{spec["name"]} ({spec["mode"]})')
        print(f'measuring {label} ...', flush=True)
        proc = subprocess.run([
            sys.executable,
            osp.abspath(__file__), '--child', spec_path, result_path
        ],
                              env=env,
                              capture_output=True,
                              text=True)
        if proc.returncode != 0 or not osp.exists(result_path):
            raise SystemExit(f'benchmark_train: {label} failed (exit '
                             f'{proc.returncode}):\n'
                             f'{(proc.stdout + proc.stderr)[-4000:]}')
        with open(result_path) as f:
            result = json.load(f)
    if isinstance(spec, list):
        return [dict(s, **r) for s, r in zip(spec, result)]
    # Each result as it comes: a long table can be read while it runs.
    print(
        f'  {result["step_ms"]:.1f} ms/step, {result["cpu_ms_per_step"]:.1f}'
        f' CPU ms/step, peak {result["peak_memory_mb"]:.0f} MiB',
        flush=True)
    return dict(spec, **result)


def base_spec(args, config_batch: int) -> dict:
    return dict(
        config=args.config,
        cfg_options=args.cfg_options,
        batch_size=args.batch_size or config_batch,
        input_size=list(args.input_size),
        iters=args.iters,
        warmup=args.warmup,
        epoch_iters=args.epoch_iters,
        device=args.device,
        amp=args.amp or None,
        channels_last=args.channels_last,
        compile=args.compile,
        workers=args.workers,
        pin_memory=args.pin_memory,
        persistent_workers=args.persistent_workers)


def ablation_specs(args, base: dict) -> list:
    """Runner rows: fp32 with a single-process loader, then one lever more
    per row."""
    spec = dict(
        base,
        amp=None,
        channels_last=False,
        compile=False,
        workers=0,
        pin_memory=False,
        persistent_workers=False,
        mode='runner',
        name='fp32')
    specs = [spec]
    workers = args.workers or 4
    for step in args.ablate_steps:
        if step == 'amp':
            amp = args.amp or ('bf16' if args.device == 'cpu' else 'fp16')
            spec = dict(spec, amp=amp, name=f'+amp {amp}')
        elif step == 'workers':
            spec = dict(spec, workers=workers, name=f'+{workers} workers')
        else:
            spec = dict(spec, **{step: True}, name=f'+{step}')
        specs.append(spec)
    return specs


#: The main training config of every seed: (seed, method, config, the
#: paper's input size, options). ``loop``: also time the config's own loop
#: and hooks; ``arch_from``: a retrain config's architecture is exported
#: from this search config's model as built.
SEED_CONFIGS = (
    ('000 DA', 'DA-FB search, MobileNetV2',
     'configs/search/da-fb-single_mobilenet-v2_search_market1501.py',
     (256, 128), dict(loop=True)),
    ('000 DA', 'DA-FB retrain, MobileNetV2',
     'configs/search/da-fb-single_mobilenet-v2_retrain_market1501.py', (256,
                                                                        128),
     dict(arch_from='configs/search/'
          'da-fb-single_mobilenet-v2_search_market1501.py')),
    ('001 DCS', 'DCS-FB + IB, MobileNetV2',
     'configs/search/dcs-fb_mobilenet-v2_market1501.py', (256, 128),
     dict(loop=True)),
    ('001 DCS', 'DCS-DNAS search, FBNetV2-Large',
     'configs/search/dcs-dnas_fbnetv2-large_search_market1501.py', (384, 128),
     dict(loop=True)),
    ('002 CSA', 'PCB + CSA, ResNet-50',
     'configs/reid/csa-pcb_resnet50_market1501.py', (384, 128), {}),
    ('003 StRA', 'StRA, ResNet-50',
     'configs/reid/stra-resnet50_b32_market1501.py', (256, 128), {}),
    ('004 AutoLA', 'AutoLA search, ResNet-20',
     'configs/search/autola_resnet20_search_cifar10.py', (32, 32),
     dict(loop=True)),
    ('004 AutoLA', 'AutoLA retrain (paper genotype), ResNet-20',
     'configs/search/autola_resnet20_retrain-paper_cifar10.py', (32, 32), {}),
)
#: Findings above this overhead need a fix or a written reason (issue 16).
COST_GOAL = 0.08


def split_instances(ratio: float) -> int:
    """Images per identity of the synthetic data so that both parts of the
    search loop's stratified split get at least two of every identity
    (a triplet loss needs positives in every batch)."""
    k = INSTANCES_PER_ID
    while min(round(ratio * k), k - round(ratio * k)) < 2:
        k += 1
    return k


def all_seeds_specs(args) -> list:
    """Per seed config: the method and the network without it in the bare
    loop; for search and IB configs also the config's own loop and hooks
    through the Runner. Each spec names its table row (``row``) and role."""
    from mmengine.config import Config
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    tmp = tempfile.mkdtemp(prefix='benchmark_train_')
    specs = []
    for index, (seed, method, config, size,
                options) in enumerate(SEED_CONFIGS):
        if args.seeds and seed.split()[0] not in args.seeds:
            continue
        path = osp.join(root, config)
        if args.tiny:
            # Large enough for every network's downsampling, and six
            # PCB stripes (height 96 at output stride 16).
            size = (96, 32) if size[0] > 32 else (32, 32)
        base = dict(
            config=path,
            cfg_options=None,
            batch_size=args.batch_size or 16,
            input_size=list(size),
            iters=1 if args.tiny else args.iters,
            warmup=1 if args.tiny else args.warmup,
            epoch_iters=5,
            epochs=args.epochs,
            device=args.device,
            amp=args.amp or None,
            channels_last=args.channels_last,
            compile=args.compile,
            workers=args.workers,
            pin_memory=args.pin_memory,
            persistent_workers=args.persistent_workers,
            seed_paper=seed,
            method=method,
            row=index)
        if options.get('arch_from'):
            base.update(
                arch_from=osp.join(root, options['arch_from']),
                arch_file=osp.join(tmp, f'arch_{index}.json'))
        specs.append(dict(base, mode='bare', role='method', name=method))
        specs.append(
            dict(
                base,
                mode='bare',
                role='baseline',
                strip_method=True,
                name=f'{method} w/o method'))
        if options.get('loop'):
            loop = Config.fromfile(path).get('train_cfg', {})
            ratio = loop.get('split_ratio', 0.8) if loop.get('type') == \
                'BilevelEpochBasedTrainLoop' else None
            specs.append(
                dict(
                    base,
                    mode='loop',
                    role='loop',
                    name=f'{method}: own loop',
                    instances_per_id=(split_instances(ratio)
                                      if ratio else INSTANCES_PER_ID)))
    return specs


def plan(args) -> tuple:
    """The measurements of the chosen mode and the mode's name."""
    from mmengine.config import Config
    if args.all_seeds:
        return all_seeds_specs(args), 'all_seeds'
    cfg = Config.fromfile(args.config)
    config_batch = (cfg.get('train_dataloader') or {}).get('batch_size', 32)
    base = base_spec(args, config_batch)
    if args.ablate:
        return ablation_specs(args, base), 'ablation'
    if args.compare_attention is not None:
        attention_backbone(cfg, args.config)
        specs = [
            dict(
                base, mode='bare', name='bare backbone', strip_attention=True)
        ]
        for config in [args.config] + list(args.compare_attention):
            name = osp.splitext(osp.basename(config))[0]
            specs.append(dict(base, config=config, mode='bare', name=name))
        return specs, 'attention_overhead'
    specs = [
        dict(base, mode='bare', name='bare loop'),
        dict(base, mode='runner', name='mmengine Runner')
    ]
    return specs, 'runner_vs_bare'


def options_text(row: dict) -> str:
    parts = ['fp32' if not row['amp'] else row['amp']]
    for key in ('channels_last', 'compile', 'pin_memory',
                'persistent_workers'):
        if row[key]:
            parts.append(key)
    if row['mode'] == 'runner' and row['workers'] is not None:
        parts.append(f'workers={row["workers"]}')
    return ' '.join(parts)


def summarise(rows: list, mode: str) -> dict:
    """Add the relative columns of the mode to the rows; return the
    summary."""
    first = rows[0]
    if mode == 'runner_vs_bare':
        ratio = rows[1]['images_per_s'] / first['images_per_s']
        rows[1]['vs_bare'] = ratio
        return dict(runner_vs_bare=ratio, goal=0.95, meets_goal=ratio >= 0.95)
    if mode == 'all_seeds':
        return dict(table=cost_table(rows), goal=COST_GOAL)
    if mode == 'ablation':
        for previous, row in zip(rows, rows[1:]):
            row['gain_vs_previous'] = (
                row['images_per_s'] / previous['images_per_s'] - 1)
            row['gain_vs_baseline'] = (
                row['images_per_s'] / first['images_per_s'] - 1)
        return dict(
            baseline_images_per_s=first['images_per_s'],
            final_images_per_s=rows[-1]['images_per_s'])
    for row in rows[1:]:
        row['overhead'] = row['step_ms'] / first['step_ms'] - 1
        row['cpu_overhead'] = (
            row['cpu_ms_per_step'] / first['cpu_ms_per_step'] - 1)
    return dict(
        overhead={row['name']: row['overhead']
                  for row in rows[1:]},
        cpu_overhead={row['name']: row['cpu_overhead']
                      for row in rows[1:]},
        goal=0.08)


def own_memory_mb(row: dict) -> float:
    """Peak memory of the step: CUDA allocations, or on the CPU the peak
    resident size above the process's size before the model was built."""
    if row['rss_at_start_mb'] is None:
        return row['peak_memory_mb']
    return row['peak_memory_mb'] - row['rss_at_start_mb']


def cost_table(rows: list) -> list:
    """The --all-seeds table: per seed config, the method against the
    network without it (bare loop), and the config's own loop and hooks
    against the method's bare loop (per image)."""
    by_row = {}
    for row in rows:
        by_row.setdefault(row['row'], {})[row['role']] = row
    table = []
    for index in sorted(by_row):
        parts = by_row[index]
        pairs = [('method', 'baseline', parts['method']['method'],
                  'without the method')]
        if 'loop' in parts:
            pairs.append(('loop', 'method', 'search loop + hooks'
                          if parts['loop']['train_loop'].startswith('Bilevel')
                          else 'loop + hooks', 'bare loop of the method'))
        for role, reference, what, against in pairs:
            row, ref = parts[role], parts[reference]
            time_ratio = row['step_ms'] / ref['step_ms']
            entry = dict(
                seed=row['seed_paper'],
                row=what,
                method=row['method'],
                against=against,
                config=osp.relpath(
                    row['config'],
                    osp.dirname(
                        osp.dirname(osp.dirname(osp.abspath(__file__))))),
                input_size=row['input_size'],
                batch_size=row['batch_size'],
                step_ms=row['step_ms'],
                reference_step_ms=ref['step_ms'],
                time_ratio=time_ratio,
                cpu_ratio=row['cpu_ms_per_step'] / ref['cpu_ms_per_step'],
                memory_mb=own_memory_mb(row),
                reference_memory_mb=own_memory_mb(ref),
                memory_ratio=own_memory_mb(row) /
                max(own_memory_mb(ref), 1e-9),
                above_goal=time_ratio - 1 > COST_GOAL)
            if role == 'loop':
                entry.update(
                    train_loop=row['train_loop'],
                    hooks=[
                        h for h in row['hooks'] if not h.startswith('Window')
                    ])
            table.append(entry)
    return table


def markdown_table(table: list, memory: str) -> str:
    """The cost table as Markdown (one line per entry)."""
    lines = [
        '| seed | row | vs | input | batch | ms/step | vs ms/step | time '
        '| CPU time | peak MiB | vs peak MiB | memory |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ]
    for e in table:
        name = e['method'] if e['row'] == e['method'] else \
            f'{e["method"]}: {e["row"]}'
        flag = ' **>+8%**' if e['above_goal'] else ''
        lines.append(
            f'| {e["seed"]} | {name} | {e["against"]} | '
            f'{e["input_size"][0]}x{e["input_size"][1]} | '
            f'{e["batch_size"]} | {e["step_ms"]:.1f} | '
            f'{e["reference_step_ms"]:.1f} | {e["time_ratio"]:.2f}x{flag} | '
            f'{e["cpu_ratio"]:.2f}x | {e["memory_mb"]:.0f} | '
            f'{e["reference_memory_mb"]:.0f} | {e["memory_ratio"]:.2f}x |')
    return '\n'.join(lines) + f'\n\npeak memory: {memory}\n'


def print_table(rows: list, mode: str, memory: str) -> None:
    extra = dict(
        runner_vs_bare=('vs bare', 'vs_bare'),
        ablation=('gain prev / base', None),
        attention_overhead=('overhead', 'overhead'))[mode]
    header = (f'{"row":<30} {"options":<38} {"images/s":>9} {"ms/step":>8} '
              f'{"cpu ms":>8} {"peak MiB":>9}  {extra[0]}')
    print(f'\npeak memory: {memory}')
    print(header)
    print('-' * len(header))
    for row in rows:
        if mode == 'ablation':
            rel = '' if 'gain_vs_previous' not in row else (
                f'{row["gain_vs_previous"]:+.1%} / '
                f'{row["gain_vs_baseline"]:+.1%}')
        else:
            value = row.get(extra[1])
            rel = '' if value is None else (
                f'{value:.1%}'
                if mode == 'runner_vs_bare' else f'{value:+.1%}')
        print(f'{row["name"]:<30} {options_text(row):<38} '
              f'{row["images_per_s"]:>9.1f} {row["step_ms"]:>8.1f} '
              f'{row["cpu_ms_per_step"]:>8.1f} '
              f'{row["peak_memory_mb"]:>9.0f}  {rel}')


def main(argv=None):
    args = parse_args(argv)
    import mmengine
    specs, mode = plan(args)
    if args.tiny:
        rows = measure(specs)
    else:
        rows = [measure(spec) for spec in specs]
    summary = summarise(rows, mode)
    memory = ('torch.cuda.max_memory_allocated over the timed window'
              if args.device == 'cuda' else
              'peak resident set size (VmHWM) of the measuring process, '
              'including the interpreter and libraries (rss_at_start_mb)')
    if mode == 'all_seeds':
        memory = ('torch.cuda.max_memory_allocated over the timed window'
                  if args.device == 'cuda' else
                  'peak resident set size (VmHWM, /proc) of the measuring '
                  'process minus its size before the model was built')
        summary['markdown'] = markdown_table(summary['table'], memory)
        print('\n' + summary['markdown'])
    else:
        print_table(rows, mode, memory)
    if mode == 'runner_vs_bare':
        print(f'\nthe Runner reaches {summary["runner_vs_bare"]:.1%} of the '
              'bare loop (goal 95%)')
    result = dict(
        mode=mode,
        config=args.config or 'all seeds',
        device=args.device,
        device_name=(torch.cuda.get_device_name()
                     if args.device == 'cuda' else 'cpu'),
        torch=torch.__version__,
        mmengine=mmengine.__version__,
        threads=torch.get_num_threads(),
        memory_measure=memory,
        rows=rows,
        summary=summary)
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        try:
            with open(args.out, 'x') as f:  # never replace an existing file
                json.dump(result, f, indent=2)
        except FileExistsError:
            raise SystemExit(f'--out {args.out} appeared while benchmarking; '
                             'not overwritten')
        print(f'results written to {args.out}')
    return result


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == '--child':
        run_child(sys.argv[2], sys.argv[3])
    else:
        main()
