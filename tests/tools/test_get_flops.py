import importlib.util
import os.path as osp
import re

import pytest
import torch
import torch.nn as nn
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config

from mmattn.models.attentions import FixedChannelWindowAttention
from mmattn.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(ROOT, 'tools', 'analysis_tools', 'get_flops.py')
DCS_MNV2 = osp.join(ROOT, 'configs', 'attentions', 'dcs_mobilenet-v2.py')
RESNET20 = osp.join(ROOT, 'configs', '_base_', 'models', 'resnet20_cifar.py')


@pytest.fixture(scope='module')
def get_flops():
    spec = importlib.util.spec_from_file_location('get_flops', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(get_flops, capsys, argv):
    get_flops.main(argv)
    out = capsys.readouterr().out
    flops = re.search(r'^Flops: \S+ \((\d+)\)$', out, re.M)
    params = re.search(r'^Params: \S+ \((\d+)\)$', out, re.M)
    assert flops and params, out
    return int(flops.group(1)), int(params.group(1))


def num_params(cfg_path, **overrides):
    cfg = Config.fromfile(cfg_path)
    cfg.merge_from_dict(overrides)
    return sum(p.numel() for p in MODELS.build(cfg.model).parameters())


def reference_flops(model, x):
    """FLOPs as mmengine counts them, from forward hooks: multiply-adds of
    convs and linears, per element of an (eval-mode) BatchNorm output one
    for the normalisation and one for the affine part, and one per element
    of the global-average-pooling input."""
    total = [0]

    def hook(module, args, out):
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total[0] += out.numel() * kh * kw * (
                module.in_channels // module.groups)
        elif isinstance(module, nn.Linear):
            total[0] += out.numel() * module.in_features
        elif isinstance(module, nn.BatchNorm2d):
            total[0] += out.numel() * (2 if module.affine else 1)
        else:
            total[0] += args[0].numel()

    handles = [
        m.register_forward_hook(hook) for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear, nn.BatchNorm2d,
                          nn.AdaptiveAvgPool2d))
    ]
    with torch.no_grad():
        model(x, mode='tensor')
    for handle in handles:
        handle.remove()
    return total[0]


def test_plain_config_counts(get_flops, capsys):
    flops, params = run(get_flops, capsys, [RESNET20, '--shape', '32'])
    assert params == num_params(RESNET20) == 269722
    cfg = Config.fromfile(RESNET20)
    model = MODELS.build(cfg.model)
    model.eval()
    assert flops == reference_flops(model, torch.zeros(1, 3, 32, 32))
    # Seed 004 table 1: 0.04 GFLOPs.
    assert round(flops / 1e9, 2) == 0.04


def test_attention_config_counts_the_attention(get_flops, capsys):
    flops, params = run(get_flops, capsys, [DCS_MNV2, '--shape', '64', '64'])
    assert params == num_params(DCS_MNV2)
    plain_flops, plain_params = run(get_flops, capsys, [
        DCS_MNV2, '--shape', '64', '64', '--cfg-options',
        'model.backbone.attentions=[]'
    ])
    assert plain_params == num_params(
        DCS_MNV2, **{'model.backbone.attentions': []})
    assert plain_params < params
    assert plain_flops < flops


def test_shape_changes_flops(get_flops, capsys):
    small, _ = run(get_flops, capsys, [RESNET20, '--shape', '32', '32'])
    large, _ = run(get_flops, capsys, [RESNET20, '--shape', '64', '64'])
    # Convs scale with the area; only the linear head does not.
    assert 3.9 * small < large < 4 * small


@pytest.mark.parametrize('backbone,shape,gflops', [
    (dict(type='ResNet', depth=18), (224, 224), 1.81),  # seed 004 table 4
    (dict(type='OSNet'), (256, 128), 0.979),  # OSNet paper: 978.9M
])
def test_paper_flops(get_flops, backbone, shape, gflops):
    model = MODELS.build(backbone)
    model.eval()  # (mmpretrain backbones return None from train())
    result = get_flops.count_complexity(model, shape)
    assert result['params'] == sum(p.numel() for p in model.parameters())
    assert abs(result['flops'] / (gflops * 1e9) - 1) < 0.02


def test_pruned_da_windows_cut_the_flops(get_flops):
    """Seed 000 B.3: after the search, DA computes its affinity on the
    selected channels only, so narrower windows cost fewer FLOPs. Counted
    like get_flops.py counts (its TensorPath and mmengine's analysis) on a
    (1, 64, 32, 16) feature map."""
    flops = []
    for length in (8, 32, 64):
        module = FixedChannelWindowAttention(64, windows=[(0, length)])
        module.eval()
        with torch.no_grad():
            result = get_model_complexity_info(
                get_flops.TensorPath(module),
                inputs=(torch.zeros(1, 64, 32, 16), ),
                show_table=False,
                show_arch=False)
        flops.append(result['flops'])
    assert flops[0] < flops[1] < flops[2]
    assert [round(f / 1e6, 2) for f in flops] == [0.88, 2.46, 4.55]
    # Only the affinity depends on the window: linear in the channel count.
    assert (flops[1] - flops[0]) * 32 == (flops[2] - flops[1]) * 24


def test_bad_shape(get_flops):
    with pytest.raises(SystemExit):
        get_flops.parse_args([RESNET20, '--shape', '1', '2', '3'])
