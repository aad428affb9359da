"""Inference memory and throughput of a model (seed 002 table 6).

``memory_mb`` is the peak memory one forward pass of a batch allocates
beyond what is live before it (the weights and the input batch), divided by
the batch size: on CUDA from ``torch.cuda.max_memory_allocated`` after a
reset, on CPU from the allocation and free events the PyTorch profiler
records (``profile_memory=True``) during one separate, untimed forward.
``images_per_s`` is the batch size times the timed forwards over their wall
time, after warm-up forwards (CUDA synchronised).
"""
import time
from typing import Callable, Sequence

import torch
import torch.nn as nn
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile


def cpu_peak_memory_mb(fn: Callable[[], object]) -> float:
    """Peak CPU memory (MB) that ``fn()`` allocates beyond what is live
    when it starts, from the profiler's memory events."""
    with profile(
            activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = [
        e for e in prof.profiler.kineto_results.events()
        if e.name() == '[memory]' and e.device_type() == DeviceType.CPU
    ]
    current = peak = 0
    for event in sorted(events, key=lambda e: e.start_ns()):
        current += event.nbytes()  # negative for a free
        peak = max(peak, current)
    return peak / 2**20


def cuda_peak_memory_mb(fn: Callable[[], object],
                        device: torch.device) -> float:
    """Peak CUDA memory (MB) that ``fn()`` allocates beyond what is live
    when it starts."""
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    fn()
    torch.cuda.synchronize(device)
    return (torch.cuda.max_memory_allocated(device) - base) / 2**20


@torch.no_grad()
def inference_cost(forward: Callable[[torch.Tensor], object],
                   input_shape: Sequence[int],
                   batch_size: int,
                   device='cpu',
                   warmup: int = 2,
                   iters: int = 10) -> dict:
    """Memory per image and images per second of ``forward``.

    Args:
        forward (Callable): ``inputs (B, 3, H, W) -> outputs``, e.g.
            ``lambda x: model(x, mode='tensor')`` of a model in eval mode.
        input_shape (Sequence[int]): (3, H, W).
        batch_size (int): Images per forward.
        device (str | torch.device): Where the model is.
        warmup (int): Untimed forwards first. Defaults to 2.
        iters (int): Timed forwards. Defaults to 10.

    Returns:
        dict: ``memory_mb`` (per image), ``images_per_s``, ``batch_size``,
        ``memory_source`` (``'cuda_max_memory_allocated'`` or
        ``'cpu_profiler'``).
    """
    if batch_size < 1 or iters < 1 or warmup < 0:
        raise ValueError('batch_size and iters must be >= 1 and warmup >= 0, '
                         f'got {batch_size}, {iters}, {warmup}')
    device = torch.device(device)
    inputs = torch.randn(batch_size, *input_shape, device=device)
    cuda = device.type == 'cuda'

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    for _ in range(warmup):
        forward(inputs)
    if cuda:
        memory = cuda_peak_memory_mb(lambda: forward(inputs), device)
    else:
        memory = cpu_peak_memory_mb(lambda: forward(inputs))
    sync()
    start = time.perf_counter()
    for _ in range(iters):
        forward(inputs)
    sync()
    elapsed = time.perf_counter() - start
    return dict(
        memory_mb=memory / batch_size,
        images_per_s=batch_size * iters / elapsed,
        batch_size=batch_size,
        memory_source='cuda_max_memory_allocated' if cuda else 'cpu_profiler')


def add_ratios(rows: list, reference: int = 0) -> list:
    """Add ``memory_ratio`` and ``speed_ratio`` (percent of
    ``rows[reference]``) to every row dict in place."""
    ref = rows[reference]
    for row in rows:
        row['memory_ratio'] = 100 * row['memory_mb'] / ref['memory_mb']
        row['speed_ratio'] = 100 * row['images_per_s'] / ref['images_per_s']
    return rows


def model_forward(model: nn.Module) -> Callable[[torch.Tensor], object]:
    """The test forward of an mmattn / mmpretrain model: Re-ID
    ``forward(mode='tensor')``, a classifier's ``extract_feat``."""
    if callable(getattr(model, 'embed', None)):
        return lambda x: model(x, mode='tensor')
    return lambda x: model.extract_feat(x)
