"""Inference memory / throughput measurement (seed 002 table 6 tool)."""
import pytest
import torch
import torch.nn as nn

from mmattn.analysis.inference_cost import (add_ratios, cpu_peak_memory_mb,
                                            inference_cost)


def test_cpu_peak_counts_the_largest_live_allocation():

    def allocate():
        a = torch.empty(2**20, dtype=torch.float32)  # 4 MB
        b = torch.empty(2**19, dtype=torch.float32)  # 2 MB
        del a, b
        c = torch.empty(2**18, dtype=torch.float32)  # 1 MB
        return c.numel()

    peak = cpu_peak_memory_mb(allocate)
    assert 6 <= peak < 6.5


def test_inference_cost_per_image_and_ratios():
    conv = nn.Conv2d(3, 16, 3, padding=1).eval()
    cost = inference_cost(conv, (3, 8, 8), batch_size=4, warmup=0, iters=2)
    # The output alone is 4 x 16 x 8 x 8 floats = 16 KB per image.
    assert cost['memory_mb'] >= 16 * 8 * 8 * 4 / 2**20
    assert cost['images_per_s'] > 0 and cost['batch_size'] == 4
    assert cost['memory_source'] == 'cpu_profiler'
    rows = add_ratios([
        dict(memory_mb=2., images_per_s=10.),
        dict(memory_mb=3., images_per_s=5.)
    ])
    assert rows[1]['memory_ratio'] == pytest.approx(150)
    assert rows[1]['speed_ratio'] == pytest.approx(50)
    with pytest.raises(ValueError, match='batch_size'):
        inference_cost(conv, (3, 8, 8), batch_size=0)
