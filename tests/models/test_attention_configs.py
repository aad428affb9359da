"""Every example model config under configs/attentions builds and runs."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmattn.registry import MODELS

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'attentions')
CONFIGS = sorted(glob.glob(osp.join(CONFIG_DIR, '*.py')))

# config name prefix -> class of the injected modules
EXPECTED = {
    'non-local': 'NonLocalAttention',
    'se': 'SEAttention',
    'cbam': 'CBAMAttention',
    'da-single': 'ChannelWindowAttention',
    'da-multi': 'MultiWindowAttention',
    'dcs': 'DCSAttention',
    'csa': 'CompressedSelfAttention',
    'stra': 'StructureRegularizedAttention',
    'hoga': 'HOGAttention',
    'hog-se': 'HOGSEAttention',
    'hog-cbam': 'HOGCBAMAttention',
}
IN_BLOCKS = ('se', 'cbam', 'hoga', 'hog-se', 'hog-cbam')
# StRA replaces a dense 3x3 conv; MobileNetV2 has none that fits (its 3x3
# convs are depth-wise), see the comment in stra_resnet50.py.
RESNET50_ONLY = ('stra', )

# Channels of the modules injected after stages.
AFTER_STAGE_CHANNELS = {
    ('csa', 'resnet50'): [256, 512, 1024],
    ('stra', 'resnet50'): [512, 512, 512],
}
DEFAULT_AFTER_STAGE_CHANNELS = {
    'resnet50': [256, 512, 1024, 2048],
    'mobilenet-v2': [24, 32, 96, 320],
}


def test_every_attention_has_its_backbones():
    names = {osp.basename(path)[:-3] for path in CONFIGS}
    assert names == {
        f'{attention}_{backbone}'
        for attention in EXPECTED
        for backbone in ('resnet50', 'mobilenet-v2')
        if not (attention in RESNET50_ONLY and backbone == 'mobilenet-v2')
    }


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_and_runs(path):
    cfg = Config.fromfile(path)
    # Model snippets: no default_scope, so they compose with the runtime.
    assert 'default_scope' not in cfg
    cfg.model.head.num_classes = 7
    with DefaultScope.overwrite_default_scope('mmattn'):
        model = MODELS.build(cfg.model)
    attention, backbone = osp.basename(path)[:-3].split('_')
    injected = model.backbone.injected_attentions()
    assert {type(m).__name__
            for m in injected.values()} == {EXPECTED[attention]}
    if attention in IN_BLOCKS:
        assert len(injected) == (16 if backbone == 'resnet50' else 17)
    else:
        channels = [m.in_channels for m in injected.values()]
        assert channels == AFTER_STAGE_CHANNELS.get(
            (attention, backbone), DEFAULT_AFTER_STAGE_CHANNELS[backbone])
    if attention == 'stra':
        assert list(injected) == [f'layer4.{i}.conv2' for i in range(3)]
        assert model.backbone.backbone.strides == (1, 2, 2, 1)
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 64, 64))
    assert out.shape == (1, 7)
