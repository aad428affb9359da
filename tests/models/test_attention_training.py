"""End to end: every example attention config trains inside the Re-ID model.

Each ResNet-50 config of configs/attentions (and the MobileNetV2 DCS one, the
backbone of seed 001) is turned into a small Re-ID model: the same attention
specs on a ResNet-18 (or MobileNetV2), BNNeck and the ID + triplet head, and
runs two optimiser steps through ``model.train_step`` as mmengine's loop
would.
"""
import copy
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from mmattn.models.attentions import bind_shared_architecture
from mmattn.registry import MODELS

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'attentions')
CASES = [
    osp.basename(path)[:-3]
    for path in sorted(glob.glob(osp.join(CONFIG_DIR, '*_resnet50.py')))
] + ['dcs_mobilenet-v2', 'hoga-search_resnet50']

# The attention parameters that a model cannot train (see
# tests/models/attentions/test_all_attentions.py): the key bias and value
# bias of the non-local block, the BN bias before StRA's spatial softmax, and
# the tiled windows' lengths of Multi-Window DA at init.
NOT_TRAINABLE_SUFFIXES = ('phi.bias', 'g.bias', 'mask_net.4.bias', 'l_dec')


def build_model(case):
    name, backbone_name = case.split('_')
    search = name == 'hoga-search'
    cfg = Config.fromfile(
        osp.join(CONFIG_DIR, f"{'hoga' if search else name}_"
                 f'{backbone_name}.py'))
    backbone = copy.deepcopy(cfg.model.backbone)
    if backbone_name == 'resnet50':
        # The same attention positions on a ResNet-18.
        backbone.backbone.depth = 18
        channels = 512
    else:
        channels = 1280
    if search:
        # The search form (every edge mixes the 9 primitives) in the first
        # block of each stage only, to keep the test fast.
        backbone.attentions[0] = dict(
            cfg=dict(type='HOGAttention', search=True), in_blocks='layer*.0')
    model = MODELS.build(
        dict(
            type='ReID',
            backbone=backbone,
            neck=dict(type='BNNeck', in_channels=channels),
            head=dict(type='ReIDHead', num_classes=4, in_channels=channels)))
    if search:
        # What a search model does: one alpha, registered once.
        model.hoga_architecture = bind_shared_architecture(model.backbone)
    model.init_weights()
    return model


def batch():
    gen = torch.Generator().manual_seed(0)
    inputs = [
        torch.randint(0, 256, (3, 64, 32), dtype=torch.uint8, generator=gen)
        for _ in range(4)
    ]
    # two identities with two images each: the triplet loss has positives
    samples = [DataSample().set_gt_label(label) for label in (0, 0, 3, 3)]
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('case', CASES)
def test_attention_config_trains_in_reid_model(case):
    torch.manual_seed(0)
    model = build_model(case)
    attentions = model.backbone.injected_attentions()
    assert attentions
    params = {
        f'{path}.{name}': param
        for path, module in attentions.items()
        for name, param in module.named_parameters()
    }
    if case.startswith('hoga-search'):
        params['alpha'] = model.hoga_architecture.alpha
    before = {key: param.detach().clone() for key, param in params.items()}
    optim_wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
    model.train()
    for _ in range(2):
        log_vars = model.train_step(batch(), optim_wrapper)
        assert {'loss', 'loss_id', 'loss_triplet'} <= set(log_vars)
        assert torch.isfinite(log_vars['loss'])
    changed = {
        key: not torch.equal(param.detach(), before[key])
        for key, param in params.items()
    }
    # every injected module learns
    for path in attentions:
        assert any(changed[key] for key in params
                   if key.startswith(f'{path}.')), path
    unchanged = [
        key for key, moved in changed.items()
        if not moved and not key.endswith(NOT_TRAINABLE_SUFFIXES)
    ]
    if 'hog' in case:
        # HOGA's small ReLU MLPs (4 hidden units on a 16-channel group) can
        # start with every hidden unit inactive on a 4-image batch.
        assert len(unchanged) <= 0.05 * len(params)
    else:
        assert unchanged == []
    # the architecture parameters (windows, masks, alpha) are among them
    if case.startswith('hoga-search'):
        arch = [model.hoga_architecture.alpha]
    else:
        arch = [
            param for module in attentions.values()
            if hasattr(module, 'arch_parameters')
            and getattr(module, 'search', True)
            for param in module.arch_parameters()
        ]
    arch_ids = {id(param) for param in arch}
    assert len(arch_ids) == sum(id(p) in arch_ids for p in params.values())
    assert all(changed[key] for key, param in params.items()
               if id(param) in arch_ids and not key.endswith('l_dec'))
