"""The downstream stack that tools/misc/setup_downstream.sh installs: the
full mmcv 2.1.0 with compiled ops beside mmdet 3.3 and mmpose 1.3, kept by a
later run of the core setup."""
import importlib.metadata as md
import subprocess
import sys
import time

import pytest
import torch
from conftest import REPO_ROOT


def installed(dist):
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def test_full_mmcv_replaces_mmcv_lite():
    assert installed('mmcv') == '2.1.0'
    assert installed('mmcv-lite') is None
    assert installed('mmdet') == '3.3.0'
    assert installed('mmpose') == '1.3.2'


def test_compiled_nms():
    from mmcv.ops import nms
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.],
                          [20., 20., 30., 30.], [0., 0., 9., 10.]])
    scores = torch.tensor([0.6, 0.9, 0.7, 0.5])
    # Box 1 (IoU 0.81 with box 0, 0.72 with box 3) suppresses both; the
    # disjoint box 2 survives.
    dets, keep = nms(boxes, scores, iou_threshold=0.5)
    assert keep.tolist() == [1, 2]
    assert dets[:, 4].tolist() == pytest.approx([0.9, 0.7])
    _, keep = nms(boxes, scores, iou_threshold=0.95)
    assert keep.tolist() == [1, 2, 0, 3]


def test_compiled_roi_align():
    from mmcv.ops import roi_align

    # On a ramp f(x, y) = x bilinear sampling is exact, so each bin is the
    # mean x of its sampling points. aligned=True puts pixel centres at
    # +0.5: the bins of the box [2, 4] x [2, 4] centre on x = 2.5 and 3.5,
    # feature columns 2 and 3.
    feature = torch.arange(8.).repeat(1, 1, 8, 1)
    rois = torch.tensor([[0., 2., 2., 4., 4.]])
    out = roi_align(feature, rois, (2, 2), 1.0, 2, 'avg', True)
    assert out.shape == (1, 1, 2, 2)
    assert torch.allclose(out[0, 0], torch.tensor([[2., 3.], [2., 3.]]))


def test_downstream_packages_import():
    import mmdet.models  # noqa: F401
    import mmpose.models  # noqa: F401
    import pycocotools.coco  # noqa: F401
    import xtcocotools.coco  # noqa: F401
    from mmdet.registry import MODELS as DET_MODELS
    assert DET_MODELS.get('mmattn.AttentionBackbone') is not None


def run_script(name):
    start = time.perf_counter()
    result = subprocess.run(['bash', f'tools/misc/{name}'],
                            cwd=REPO_ROOT,
                            capture_output=True,
                            text=True)
    assert result.returncode == 0, (
        result.stdout[-3000:] + result.stderr[-3000:])
    return result.stdout + result.stderr, time.perf_counter() - start


def test_core_setup_keeps_full_mmcv_and_downstream_setup_only_checks():
    log, _ = run_script('setup_env.sh')
    assert 'keeping it, not installing mmcv-lite' in log
    probe = subprocess.run([
        sys.executable, '-c', 'import importlib.metadata as m; '
        'print(m.version("mmcv")); from mmcv.ops import nms'
    ],
                           capture_output=True,
                           text=True)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == ['2.1.0']
    log, seconds = run_script('setup_downstream.sh')
    # Nothing to build or install: the import check alone.
    assert log.strip().splitlines() == [
        '[setup_downstream] ok: mmcv 2.1.0 with ops, mmdet 3.3.0 mmpose 1.3.2'
    ]
    assert seconds < 120
