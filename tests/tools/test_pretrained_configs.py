"""The configs whose paper rows start from ImageNet name an mmpretrain
checkpoint URL, and that checkpoint fills every backbone weight it has a
place for, attention injected or not: the URL is swapped for a local file of
a randomly initialised stock mmpretrain backbone (no download)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmattn.registry import MODELS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
URL = 'https://download.openmmlab.com/mmclassification/v0/'
RESNET50 = URL + 'resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth'
HRNET = URL + 'hrnet/hrnet-w32_3rdparty_8xb32_in1k_20220120-c394f1ab.pth'
MOBILENET = URL + ('mobilenet_v2/mobilenet_v2_batch256_imagenet_20200708-'
                   '3b2dc3af.pth')
VIT = URL + ('vit/finetune/vit-base-p16_in21k-pre-3rdparty_ft-64xb64_in1k-'
             '384_20210928-98e8652b.pth')
TINY_VIT = dict(
    embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)

# config: (path of the backbone holding init_cfg, URL, stock backbone,
# stock keys with no place in the config's backbone).
CASES = {
    'reid/resnet50_b64_market1501.py': ('backbone', RESNET50, 'resnet', 0),
    'reid/resnet50_b64_msmt17.py': ('backbone', RESNET50, 'resnet', 0),
    'reid/pcb_resnet50_market1501.py': ('backbone', RESNET50, 'resnet', 0),
    'reid/csa-pcb_resnet50_market1501.py':
    ('backbone.backbone', RESNET50, 'resnet', 0),
    # StRA replaces the 3x3 conv of the three layer4 bottlenecks.
    'reid/stra-resnet50_b32_market1501.py':
    ('backbone.backbone', RESNET50, 'resnet', 3),
    'search/dcs-fb_resnet50_market1501.py':
    ('backbone.backbone', RESNET50, 'resnet', 0),
    'search/dcs-fb_hrnet-w32_market1501.py': ('backbone.backbone', HRNET,
                                              'hrnet', 0),
    'search/dcs-fb_mobilenet-v2_market1501.py': ('backbone.backbone',
                                                 MOBILENET, 'mobilenet_v2', 0),
    'search/ablation_mobilenet-v2_market1501.py': ('backbone', MOBILENET,
                                                   'mobilenet_v2', 0),
    'search/ablation_mobilenet-v2-self-attention_market1501.py':
    ('backbone.backbone', MOBILENET, 'mobilenet_v2', 0),
    'search/dcs-fb_transreid_market1501.py': ('backbone.backbone', VIT, 'vit',
                                              0),
}
FROM_SCRATCH = [
    'reid/demo_dcs_mobilenetv2_synthetic.py',
    'reid/mobilenetv2_b64_market1501.py',
    'search/dcs-fb_mobilenet-v2-200_market1501.py',
    'search/dcs-fb_osnet_market1501.py',
    'search/da-fb-single_mobilenet-v2_search_market1501.py',
]


def get_path(cfg, path):
    for name in path.split('.'):
        cfg = cfg[name]
    return cfg


def stock_backbone(kind):
    from mmpretrain.models.backbones import (HRNet, MobileNetV2, ResNet,
                                             VisionTransformer)
    if kind == 'resnet':
        return ResNet(depth=50)
    if kind == 'hrnet':
        return HRNet(arch='w32', multiscale_output=True)
    if kind == 'mobilenet_v2':
        return MobileNetV2()
    return VisionTransformer(arch=TINY_VIT, img_size=224, patch_size=16)


def randomised(module):
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for tensor in module.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand(tensor.shape, generator=gen) + 0.5)
    return module


@pytest.mark.parametrize('name', sorted(CASES))
def test_imagenet_checkpoint_fills_the_backbone(name, tmp_path):
    path, url, kind, unplaced = CASES[name]
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', name))
    backbone_cfg = get_path(cfg.model, path)
    init_cfg = backbone_cfg.init_cfg
    assert (init_cfg.type, init_cfg.checkpoint, init_cfg.prefix) == \
        ('Pretrained', url, 'backbone.')
    if kind == 'vit':
        backbone_cfg.update(arch=TINY_VIT, img_size=(64, 32))
        cfg.model.head.in_channels = TINY_VIT['embed_dims']
    stock = randomised(stock_backbone(kind))
    ckpt = str(tmp_path / 'imagenet.pth')
    torch.save(
        dict(state_dict={
            f'backbone.{k}': v
            for k, v in stock.state_dict().items()
        }), ckpt)
    init_cfg.checkpoint = ckpt
    model = MODELS.build(cfg.model)
    model.init_weights()
    target = model
    for attr in path.split('.'):
        target = getattr(target, attr)
    # Attribute access reaches modules inside attention wrappers
    # (ModuleWithAttention forwards to the wrapped module), so the stock
    # names resolve in the injected backbone.
    missing = []
    for key, value in stock.state_dict().items():
        if kind == 'vit' and key == 'pos_embed':
            continue  # resized to the 5 x 2 grid of 64 x 32 (stride 12)
        if kind == 'vit' and key.startswith(('layers.1.', 'ln1.')):
            # TransReID's last block and final norm: copied into both JPM
            # branches.
            rest = key.split('.', 2)[2] if key.startswith('layers') else \
                key.split('.', 1)[1]
            branches = ('jpm_global',
                        'jpm_local') if key.startswith('layers') else (
                            'jpm_global_norm', 'jpm_local_norm')
            for branch in branches:
                got = target.get_parameter(f'{branch}.{rest}')
                assert torch.equal(got, value), (name, branch, rest)
            continue
        obj = target
        try:
            for attr in key.split('.'):
                obj = getattr(obj, attr)
        except AttributeError:
            missing.append(key)
            continue
        if obj.shape != value.shape:
            missing.append(key)
            continue
        assert torch.equal(obj, value), (name, key)
    assert len(missing) == unplaced, missing[:5]


@pytest.mark.parametrize('name', FROM_SCRATCH)
def test_rows_trained_from_scratch_name_no_checkpoint(name):
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', name))

    def pretrained(node):
        if isinstance(node, dict):
            init = node.get('init_cfg')
            if isinstance(init, dict) and init.get('type') == 'Pretrained':
                return True
            return any(pretrained(v) for v in node.values())
        if isinstance(node, (list, tuple)):
            return any(pretrained(v) for v in node)
        return False

    assert not pretrained(cfg.model)
