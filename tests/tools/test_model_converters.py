"""tools/model_converters/imagenet_to_mmattn.py: randomly initialised timm /
torchvision models saved to disk, converted, loaded into mmattn's backbones
through ``init_cfg=dict(type='Pretrained')``; the features stay the same."""
import importlib.util
import os.path as osp
import subprocess
import sys

import pytest
import torch
import torchvision
from mmpretrain.models.backbones import ResNet, VisionTransformer
from mmpretrain.models.utils import resize_pos_embed

from mmattn.registry import MODELS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(REPO_ROOT, 'tools/model_converters/imagenet_to_mmattn.py')
timm = pytest.importorskip('timm', reason='requirements/tests.txt pins timm')


def load_tool():
    spec = importlib.util.spec_from_file_location('imagenet_to_mmattn', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def randomise_bn_stats(model):
    """Non-trivial running statistics, so a BN loaded into the wrong place
    changes the output."""
    gen = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen))
            m.running_var.copy_(
                torch.rand(m.num_features, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen))
            m.bias.data.copy_(torch.randn(m.num_features, generator=gen))
    return model


def convert_file(tmp_path, model, arch, *extra):
    name = '_'.join((arch, ) + extra).replace('-', '')
    src, dst = tmp_path / f'{name}_src.pth', tmp_path / f'{name}_mmattn.pth'
    torch.save(model.state_dict(), src)
    subprocess.run(
        [sys.executable, SCRIPT,
         str(src),
         str(dst), '--arch', arch, *extra],
        check=True,
        cwd=REPO_ROOT,
        capture_output=True)
    return str(dst)


def pretrained(path):
    return dict(type='Pretrained', checkpoint=path, prefix='backbone.')


@torch.no_grad()
def test_torchvision_resnet50(tmp_path):
    source = randomise_bn_stats(torchvision.models.resnet50()).eval()
    path = convert_file(tmp_path, source, 'resnet')
    ckpt = torch.load(path, weights_only=True)
    assert not any(k.startswith('backbone.fc.') for k in ckpt['state_dict'])
    # The Re-ID ResNet-50 of configs/_base_/models/reid_resnet50.py (the
    # last stride changes no weights; compare at the stock strides).
    target = ResNet(depth=50, out_indices=(3, ), init_cfg=pretrained(path))
    target.init_weights()
    target.eval()
    x = torch.randn(1, 3, 64, 32)
    stem = source.maxpool(source.relu(source.bn1(source.conv1(x))))
    expected = source.layer4(source.layer3(source.layer2(source.layer1(stem))))
    torch.testing.assert_close(target(x)[0], expected)


@torch.no_grad()
def test_torchvision_mobilenet_v2(tmp_path):
    source = randomise_bn_stats(torchvision.models.mobilenet_v2()).eval()
    path = convert_file(tmp_path, source, 'mobilenet_v2')
    target = MODELS.build(
        dict(type='MobileNetV2ReID', init_cfg=pretrained(path)))
    target.init_weights()
    target.eval()
    x = torch.randn(1, 3, 64, 32)
    torch.testing.assert_close(target(x)[0], source.features(x))


@torch.no_grad()
def test_timm_hrnet_w32(tmp_path):
    source = randomise_bn_stats(
        timm.create_model('hrnet_w32', pretrained=False)).eval()
    path = convert_file(tmp_path, source, 'hrnet')
    target = MODELS.build(
        dict(type='HRNetReID', arch='w32', init_cfg=pretrained(path)))
    target.init_weights()
    target.eval()
    x = torch.randn(1, 3, 64, 64)
    # timm's stem + four stages give the four branch maps HRNetReID fuses.
    y = source.act2(
        source.bn2(source.conv2(source.act1(source.bn1(source.conv1(x))))))
    expected = source.stages(y)
    branches = []
    target.fusion.register_forward_hook(
        lambda m, inputs, out: branches.extend(inputs[0]))
    target(x)
    assert len(branches) == len(expected) == 4
    for got, want in zip(branches, expected):
        torch.testing.assert_close(got, want)


def tiny_timm_vit():
    return timm.create_model(
        'vit_base_patch16_224',
        pretrained=False,
        depth=3,
        embed_dim=64,
        num_heads=2,
        img_size=224).eval()


TINY_ARCH = dict(
    embed_dims=64, num_layers=3, num_heads=2, feedforward_channels=256)


@torch.no_grad()
def test_timm_vit_b16_same_grid(tmp_path):
    """At the checkpoint's own 14 x 14 grid the mmpretrain ViT and TransReID
    (no SIE; its JPM global branch is the last block) give timm's normed cls
    token."""
    source = tiny_timm_vit()
    path = convert_file(tmp_path, source, 'vit', '--img-size', '224', '224',
                        '--stride', '16')
    x = torch.randn(2, 3, 224, 224)
    expected = source.forward_features(x)[:, 0]
    vit = VisionTransformer(
        arch=TINY_ARCH,
        img_size=224,
        patch_size=16,
        out_type='cls_token',
        init_cfg=pretrained(path))
    vit.init_weights()
    vit.eval()
    torch.testing.assert_close(vit(x)[0], expected)
    reid = MODELS.build(
        dict(
            type='TransReID',
            arch=TINY_ARCH,
            img_size=(224, 224),
            stride=16,
            drop_path_rate=0.0,
            init_cfg=pretrained(path)))
    reid.init_weights()
    reid.eval()
    torch.testing.assert_close(reid(x)[0], expected)


@torch.no_grad()
def test_timm_vit_b16_resized_to_transreid_grid(tmp_path):
    """The default output is for TransReID's 256 x 128 input with stride 12:
    the position embedding is the 14 x 14 one resized to 21 x 10, and
    TransReID features equal those from loading the square embedding
    (which mmpretrain resizes while loading)."""
    source = tiny_timm_vit()
    square = convert_file(tmp_path, source, 'vit', '--keep-pos-embed')
    resized = convert_file(tmp_path, source, 'vit')
    pos = torch.load(
        resized, weights_only=True)['state_dict']['backbone.pos_embed']
    assert pos.shape == (1, 1 + 21 * 10, 64)
    torch.testing.assert_close(
        pos,
        resize_pos_embed(
            source.pos_embed, (14, 14), (21, 10),
            mode='bilinear',
            num_extra_tokens=1))
    x = torch.randn(2, 3, 256, 128)
    feats = []
    for path in (square, resized):
        reid = MODELS.build(
            dict(
                type='TransReID',
                arch=TINY_ARCH,
                drop_path_rate=0.0,
                init_cfg=pretrained(path)))
        reid.init_weights()
        reid.eval()
        feats.append(torch.cat(reid(x), 1))
    torch.testing.assert_close(feats[0], feats[1])


def test_converter_rejects_foreign_checkpoints(tmp_path):
    tool = load_tool()
    with pytest.raises(ValueError, match='not a plain timm ViT'):
        tool.convert(
            {
                'blocks.0.ls1.gamma': torch.zeros(4),
                'cls_token': torch.zeros(1, 1, 4),
                'pos_embed': torch.zeros(1, 5, 4)
            }, 'vit')
    # The classifier and the in21k representation layer are dropped.
    assert set(
        tool.convert(
            {
                'cls_token': torch.zeros(1, 1, 4),
                'pos_embed': torch.zeros(1, 5, 4),
                'pre_logits.fc.weight': torch.zeros(4, 4),
                'head.weight': torch.zeros(3, 4)
            }, 'vit')) == {'cls_token', 'pos_embed'}
    with pytest.raises(ValueError, match='do not fit'):
        state = torchvision.models.resnet50().state_dict()
        del state['layer4.2.conv3.weight']
        tool.convert(state, 'resnet')
    with pytest.raises(ValueError, match='arch must be one of'):
        tool.convert({}, 'swin')
    with pytest.raises(FileNotFoundError, match='does not exist'):
        tool.load_source(str(tmp_path / 'missing.pth'))
    dst = tmp_path / 'out.pth'
    dst.write_bytes(b'keep')
    src = tmp_path / 'src.pth'
    torch.save(torchvision.models.resnet18().state_dict(), src)
    result = subprocess.run(
        [sys.executable, SCRIPT,
         str(src),
         str(dst), '--arch', 'resnet'],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True)
    assert result.returncode != 0 and '--overwrite' in result.stderr
    assert dst.read_bytes() == b'keep'


def test_reads_safetensors_and_wrapped_checkpoints(tmp_path):
    """timm's hub files are .safetensors; training scripts wrap the state
    dict in 'state_dict' / 'model' with DataParallel's 'module.' prefix."""
    from safetensors.torch import save_file

    tool = load_tool()
    state = {
        k: v.contiguous()
        for k, v in tiny_timm_vit().state_dict().items()
    }
    save_file(state, str(tmp_path / 'vit.safetensors'))
    loaded = tool.load_source(str(tmp_path / 'vit.safetensors'))
    assert loaded.keys() == state.keys()
    assert all(torch.equal(loaded[k], state[k]) for k in state)
    torch.save({'model': {
        f'module.{k}': v
        for k, v in state.items()
    }}, tmp_path / 'wrapped.pth')
    assert tool.load_source(str(tmp_path / 'wrapped.pth')).keys() == \
        state.keys()
    torch.save([1, 2], tmp_path / 'bad.pth')
    with pytest.raises(ValueError, match='no state dict'):
        tool.load_source(str(tmp_path / 'bad.pth'))
