"""Forward + backward time and peak memory of every attention module.

Measures one attention block at a time on ResNet-50 feature maps of a
384 x 128 person image (the PCB input of seed 002): stage 1,
(C, H, W) = (256, 96, 32), and stage 3, (1024, 24, 8). The reference is
full self-attention ``SA``, which materialises the HW x HW map (seed 002
eq. 1-2); the table gives every module's time and peak memory and how many
times faster and smaller than ``SA`` it is (seed 002 table 6 for CSA).
Modules: the baselines (NonLocal, SE, CBAM), DA single / multi-window in
search form and ``DA-fixed``, the pruned inference form
(``FixedChannelWindowAttention``, a window over half the channels), DCS,
CSA with 1, 2 and 8 groups, StRA, HOGA (the ``autola`` genotype and the
search form), the HOG_SE / HOG_CBAM variants of seed 004 table 6, and the
comparison baselines: ``SA-sdpa`` (the library's seed 002 self-attention,
whose kernel ``scaled_dot_product_attention`` picks), SASA (K = 7), GCNet,
Gather-Excite (extent 8) and attention-augmented convolution (no relative
logits, which need a fixed map size).

Examples::

    python tools/analysis_tools/benchmark_attention.py          # CUDA if any
    python tools/analysis_tools/benchmark_attention.py --device cpu --batch 2
    python tools/analysis_tools/benchmark_attention.py --maps stage1 \\
        --modules SA CSA-G2 --out work_dirs/attention_benchmark.json
    python tools/analysis_tools/benchmark_attention.py --maps 64x12x8

Peak memory is what one forward + backward step allocates beyond the live
input and parameters: on CUDA ``torch.cuda.max_memory_allocated`` after a
reset, on CPU the running maximum of the allocations and frees that the
PyTorch profiler records (``profile_memory=True``) during a separate,
untimed step. Times are the median of ``--repeats`` steps after
``--warmup`` steps.
"""
import argparse
import json
import os
import os.path as osp
import statistics
import sys
import time
from collections import OrderedDict

import torch
import torch.nn as nn

from mmattn.analysis.inference_cost import (cpu_peak_memory_mb,
                                            cuda_peak_memory_mb)
# yapf: disable
from mmattn.models.attentions import (AttentionAugmentedConv2d, CBAMAttention,
                                      ChannelWindowAttention,
                                      CompressedSelfAttention, DCSAttention,
                                      FixedChannelWindowAttention,
                                      GatherExciteAttention,
                                      GlobalContextAttention, HOGAttention,
                                      HOGCBAMAttention, HOGSEAttention,
                                      MultiWindowAttention, NonLocalAttention,
                                      SEAttention, SelfAttention2d,
                                      StandAloneSelfAttention,
                                      StructureRegularizedAttention,
                                      bind_shared_architecture)

# yapf: enable

#: Named feature maps (C, H, W): ResNet-50 stages 1 and 3 at 384 x 128.
FEATURE_MAPS = OrderedDict(stage1=(256, 96, 32), stage3=(1024, 24, 8))
REFERENCE = 'SA'


class FullSelfAttention(SelfAttention2d):
    """Seed 002's self-attention (:class:`SelfAttention2d`, eq. 1-2) with
    the (HW x HW) attention map materialised, as in the paper's comparison
    (the library module lets ``scaled_dot_product_attention`` choose a
    kernel that may not)."""

    def __init__(self, channels: int):
        super().__init__(channels, alpha_init=0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        values = self.value_conv(x).flatten(2)  # (B, C, HW)
        y = values @ self.attention_map(x).transpose(1, 2)
        return self.alpha * y.view(b, c, h, w) + x


def _da_fixed(channels: int) -> nn.Module:
    """The pruned inference form of DA (what a search exports) for the
    search's initial single window: the first half of the channels."""
    return FixedChannelWindowAttention(channels, windows=[(0, channels // 2)])


def _hoga_search(channels: int) -> nn.Module:
    module = HOGAttention(channels, search=True)
    # The module references its architecture without registering it; keep
    # it as a child here so that .to(device) moves alpha too.
    module.benchmark_architecture = bind_shared_architecture(module)
    return module


#: Module name -> constructor from the channel count, in table order.
MODULES = OrderedDict([
    (REFERENCE, FullSelfAttention),
    ('NonLocal', NonLocalAttention),
    ('DA-single', ChannelWindowAttention),
    ('DA-multi', MultiWindowAttention),
    ('DA-fixed', _da_fixed),
    ('DCS', DCSAttention),
    ('CSA-G1', lambda c: CompressedSelfAttention(c, groups=1)),
    ('CSA-G2', lambda c: CompressedSelfAttention(c, groups=2)),
    ('CSA-G8', lambda c: CompressedSelfAttention(c, groups=8)),
    ('StRA', StructureRegularizedAttention),
    ('HOGA', HOGAttention),
    ('HOGA-search', _hoga_search),
    ('HOG_SE', HOGSEAttention),
    ('HOG_CBAM', HOGCBAMAttention),
    ('SE', SEAttention),
    ('SA-sdpa', SelfAttention2d),
    ('SASA', lambda c: StandAloneSelfAttention(c, kernel_size=7)),
    ('GC', GlobalContextAttention),
    ('GE-8', lambda c: GatherExciteAttention(c, extent=8)),
    # 8 heads (AA-Net's) where d_v = C / 10 leaves each head a channel.
    ('AA', lambda c: AttentionAugmentedConv2d(
        c, c, num_heads=min(8, max(1, c // 10)), relative=False)),
    ('CBAM', CBAMAttention),
])


def _step(module: nn.Module, x: torch.Tensor) -> None:
    module.zero_grad(set_to_none=True)
    x.grad = None
    module(x).sum().backward()


def measure(name: str, shape, batch: int, device: torch.device, warmup: int,
            repeats: int) -> dict:
    """Median fwd+bwd time (ms) and peak memory (MB) of one module."""
    channels, height, width = shape
    result = dict(module=name, shape=list(shape), batch=batch)
    cuda = device.type == 'cuda'
    try:
        torch.manual_seed(0)
        module = MODULES[name](channels).to(device).train()
        x = torch.randn(
            batch, channels, height, width, device=device, requires_grad=True)
        for _ in range(warmup):
            _step(module, x)
        times = []
        for _ in range(repeats):
            if cuda:
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            _step(module, x)
            if cuda:
                torch.cuda.synchronize(device)
            times.append((time.perf_counter() - start) * 1000)
        module.zero_grad(set_to_none=True)
        x.grad = None
        step = lambda: module(x).sum().backward()  # noqa: E731
        peak = cuda_peak_memory_mb(step, device) if cuda else \
            cpu_peak_memory_mb(step)
    except torch.cuda.OutOfMemoryError:
        result.update(time_ms=None, peak_mb=None, status='out of memory')
        return result
    except RuntimeError as error:  # e.g. a CPU allocation failure
        result.update(time_ms=None, peak_mb=None, status=f'error: {error}')
        return result
    finally:
        if cuda:
            torch.cuda.empty_cache()
    result.update(time_ms=statistics.median(times), peak_mb=peak, status='ok')
    return result


def add_ratios(results: list) -> None:
    """``x_faster`` and ``x_less_memory`` of every result against the
    reference SA on the same map (None where either is missing)."""
    reference = {
        tuple(r['shape']): r
        for r in results if r['module'] == REFERENCE and r['status'] == 'ok'
    }
    for r in results:
        ref = reference.get(tuple(r['shape']))
        ok = ref is not None and r['status'] == 'ok'
        r['x_faster'] = ref['time_ms'] / r['time_ms'] if ok and r[
            'time_ms'] > 0 else None
        r['x_less_memory'] = ref['peak_mb'] / r['peak_mb'] if ok and r[
            'peak_mb'] > 0 else None


def format_table(results: list) -> str:
    """One block per feature map: time, peak memory and the ratios."""
    lines = []
    header = (f'{"module":<13}{"fwd+bwd ms":>12}{"peak MB":>11}'
              f'{"x faster":>10}{"x less mem":>12}')
    for shape in OrderedDict((tuple(r['shape']), None) for r in results):
        rows = [r for r in results if tuple(r['shape']) == shape]
        lines += [
            f'(B, C, H, W) = ({rows[0]["batch"]}, {shape[0]}, {shape[1]}, '
            f'{shape[2]})', header, '-' * len(header)
        ]
        for r in rows:
            if r['status'] != 'ok':
                lines.append(f'{r["module"]:<13}  {r["status"]}')
                continue
            ratios = [
                '-' if r.get(key) is None else f'{r[key]:.1f}'
                for key in ('x_faster', 'x_less_memory')
            ]
            lines.append(f'{r["module"]:<13}{r["time_ms"]:>12.2f}'
                         f'{r["peak_mb"]:>11.1f}{ratios[0]:>10}'
                         f'{ratios[1]:>12}')
        lines.append('')
    return '\n'.join(lines)


def _feature_map(text: str):
    if text in FEATURE_MAPS:
        return FEATURE_MAPS[text]
    parts = text.lower().split('x')
    if len(parts) == 3 and all(p.isdigit() and int(p) > 0 for p in parts):
        return tuple(int(p) for p in parts)
    raise argparse.ArgumentTypeError(
        f'{text!r}: expected one of {list(FEATURE_MAPS)} or CxHxW '
        '(e.g. 256x96x32)')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Forward+backward time and peak memory of every '
        'attention module, against full self-attention.')
    parser.add_argument(
        '--device',
        choices=['cpu', 'cuda'],
        default=None,
        help='default: cuda if available, else cpu')
    parser.add_argument(
        '--batch',
        type=int,
        default=None,
        help='batch size B; default 32 (seed 002) on CUDA, 2 on CPU')
    parser.add_argument(
        '--maps',
        type=_feature_map,
        nargs='+',
        default=list(FEATURE_MAPS.values()),
        help=f'feature maps: {list(FEATURE_MAPS)} or CxHxW '
        '(default: stage1 stage3)')
    parser.add_argument(
        '--modules',
        nargs='+',
        choices=list(MODULES),
        default=list(MODULES),
        help='modules to measure (default: all)')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='CPU intra-op threads (default: torch default)')
    parser.add_argument(
        '--out', default=None, help='write the results as JSON to this file')
    args = parser.parse_args(argv)
    if args.device is None:
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda requested but CUDA is not available')
    if args.batch is None:
        args.batch = 32 if args.device == 'cuda' else 2
    for name in ('batch', 'repeats', 'threads'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name} must be positive, got {value}')
    if args.warmup < 0:
        parser.error(f'--warmup must be >= 0, got {args.warmup}')
    for channels, _, _ in args.maps:
        # CSA-G8 and StRA split the channels into 8 groups, StRA with C/4
        # hidden channels per group; HOGA into 4.
        if channels % 32:
            parser.error(f'--maps: C = {channels} must be a multiple of 32 '
                         '(8 groups of StRA / CSA-G8 with C/4 hidden)')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    results = [
        measure(name, shape, args.batch, device, args.warmup, args.repeats)
        for shape in args.maps for name in args.modules
    ]
    add_ratios(results)
    config = dict(
        device=args.device,
        device_name=torch.cuda.get_device_name(device)
        if device.type == 'cuda' else 'cpu',
        threads=torch.get_num_threads(),
        batch=args.batch,
        maps=[list(shape) for shape in args.maps],
        warmup=args.warmup,
        repeats=args.repeats,
        torch=torch.__version__)
    print(f'{args.device} ({config["device_name"]}, {config["threads"]} '
          f'threads), median of {args.repeats} steps')
    print(format_table(results))
    report = dict(config=config, results=results)
    if args.out:
        out_dir = osp.dirname(osp.abspath(args.out))
        os.makedirs(out_dir, exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=2)
        print(f'results written to {args.out}')
    return report


if __name__ == '__main__':
    main(sys.argv[1:])
