import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models.backbones import VisionTransformer

from mmattn.models.attentions.dcs import DCSViTAttention
from mmattn.models.backbones.transreid import TransReID, jigsaw_rearrange
from mmattn.registry import MODELS

ARCH = dict(embed_dims=64, num_layers=2, num_heads=4, feedforward_channels=128)


def build(**kwargs):
    cfg = dict(arch=ARCH, img_size=(64, 32), num_cameras=3, drop_path_rate=0.)
    cfg.update(kwargs)
    model = TransReID(**cfg)
    model.init_weights()
    return model


def test_overlapping_patch_grid():
    # 16x16 patches with stride 12: 21 x 10 on 256 x 128, 5 x 2 on 64 x 32.
    model = TransReID(arch=ARCH, img_size=(256, 128))
    assert model.patch_resolution == (21, 10)
    assert model.pos_embed.shape == (1, 211, 64)
    conv = model.patch_embed.projection
    assert conv.kernel_size == (16, 16) and conv.stride == (12, 12)
    assert build().patch_resolution == (5, 2)


def test_jigsaw_rearrange_matches_index_formula():
    for n, shift, groups in [(10, 5, 2), (210, 5, 2), (9, 5, 2), (12, 1, 3)]:
        tokens = torch.arange(n, dtype=torch.float).view(1, n, 1)
        got = jigsaw_rearrange(tokens, shift, groups).view(-1).long()
        shifted = [(i + shift) % n for i in range(n)]
        size = -(-n // groups)
        shifted += [shifted[-1]] * (size * groups - n)
        expected = [
            shifted[g * size + k] for k in range(size) for g in range(groups)
        ]
        assert got.tolist() == expected


def test_forward_returns_global_and_local_cls_features():
    model = build().eval()
    x = torch.randn(2, 3, 64, 32)
    cams = torch.tensor([0, 2])
    feats = model(x, camera_ids=cams)
    assert len(feats) == 5 and all(f.shape == (2, 64) for f in feats)

    # Reference with the blocks called one by one.
    with torch.no_grad():
        tokens, _ = model.patch_embed(x)
        tokens = torch.cat([model.cls_token.expand(2, -1, -1), tokens], 1)
        tokens = tokens + model.pos_embed + 3.0 * model.sie_embed[cams]
        for layer in model.layers:
            tokens = layer(tokens)
        glob = model.jpm_global_norm(model.jpm_global(tokens))[:, 0]
        patches = tokens[:, 1:]  # 10 tokens
        order = [(i + 5) % 10 for i in range(10)]
        order = [order[g * 5 + k] for k in range(5) for g in range(2)]
        patches = patches[:, order]
        locals_ = []
        for p in range(4):  # 10 // 4 = 2 tokens per part
            part = torch.cat([tokens[:, :1], patches[:, 2 * p:2 * p + 2]], 1)
            locals_.append(model.jpm_local_norm(model.jpm_local(part))[:, 0])
    torch.testing.assert_close(feats[0], glob)
    for got, expected in zip(feats[1:], locals_):
        torch.testing.assert_close(got, expected)


def test_backward_and_camera_embedding():
    model = build()
    x = torch.randn(2, 3, 64, 32)
    feats = model(x, camera_ids=torch.tensor([1, 1]))
    sum(f.pow(2).sum() for f in feats).backward()
    assert model.sie_embed.grad[1].abs().sum() > 0
    assert model.sie_embed.grad[0].abs().sum() == 0
    assert model.patch_embed.projection.weight.grad.abs().sum() > 0
    assert model.jpm_local.attn.qkv.weight.grad.abs().sum() > 0

    # SIE adds 3 * sie[c] to every token: the same as moving pos_embed.
    model.eval()
    with torch.no_grad():
        with_cam = model(x, camera_ids=torch.tensor([2, 2]))
        without = model(x)
        model.pos_embed += 3.0 * model.sie_embed[2]
        shifted = model(x)
    torch.testing.assert_close(with_cam[0], shifted[0])
    assert not torch.allclose(with_cam[0], without[0])
    # set_camera_ids serves wrappers whose forward takes only the image.
    with torch.no_grad():
        model.pos_embed -= 3.0 * model.sie_embed[2]
        model.set_camera_ids(torch.tensor([2, 2]))
        torch.testing.assert_close(model(x)[0], with_cam[0])
        model.set_camera_ids(None)

    with pytest.raises(ValueError, match='num_cameras'):
        model(x, camera_ids=torch.tensor([0, 3]))
    with pytest.raises(ValueError, match='camera ids for a batch'):
        model(x, camera_ids=torch.tensor([0]))


def test_without_jpm():
    model = build(jpm=False, num_cameras=0).eval()
    feats = model(torch.randn(2, 3, 64, 32))
    assert len(feats) == 1 and feats[0].shape == (2, 64)
    assert len(model.layers) == 2 and not hasattr(model, 'jpm_local')


@pytest.mark.parametrize('prefix', [None, 'backbone.'])
def test_loads_imagenet_vit_checkpoint(tmp_path, prefix):
    vit = VisionTransformer(arch=ARCH, img_size=224, patch_size=16)
    with torch.no_grad():
        for p in vit.parameters():
            p.normal_()
    state = vit.state_dict()
    if prefix:
        state = {prefix + k: v for k, v in state.items()}
        state['head.layers.head.weight'] = torch.zeros(10, 64)
    path = tmp_path / 'vit.pth'
    torch.save({'state_dict': state}, path)
    init_cfg = dict(type='Pretrained', checkpoint=str(path))
    if prefix:
        init_cfg['prefix'] = prefix
    model = build(init_cfg=init_cfg)

    # Position embedding: 14 x 14 grid resized bilinearly to 5 x 2.
    grid = vit.pos_embed[:, 1:].reshape(1, 14, 14, 64).permute(0, 3, 1, 2)
    expected = F.interpolate(
        grid, size=(5, 2), mode='bilinear',
        align_corners=False).flatten(2).transpose(1, 2)
    torch.testing.assert_close(model.pos_embed[:, 1:], expected)
    torch.testing.assert_close(model.pos_embed[:, :1], vit.pos_embed[:, :1])
    assert torch.equal(model.patch_embed.projection.weight,
                       vit.patch_embed.projection.weight)
    assert torch.equal(model.layers[0].attn.qkv.weight,
                       vit.layers[0].attn.qkv.weight)
    # The last block and final norm seed both JPM branches.
    for branch in (model.jpm_global, model.jpm_local):
        for name, value in vit.layers[1].state_dict().items():
            assert torch.equal(branch.state_dict()[name], value), name
    for norm in (model.jpm_global_norm, model.jpm_local_norm):
        assert torch.equal(norm.weight, vit.ln1.weight)
    # Its own state dict loads back unchanged (no second mapping).
    clone = build()
    clone.load_state_dict(model.state_dict())
    x = torch.randn(1, 3, 64, 32)
    model.eval(), clone.eval()
    torch.testing.assert_close(clone(x)[3], model(x)[3])


def test_dcs_replaces_every_self_attention():
    model = MODELS.build(
        dict(
            type='AttentionBackbone',
            backbone=dict(
                type='TransReID', arch=ARCH, img_size=(64, 32), num_cameras=2),
            attentions=[
                dict(
                    cfg=dict(type='DCSViTAttention'),
                    replace=['layers.*.attn', 'jpm_*.attn'])
            ]))
    model.init_weights()
    assert list(model.injected_attentions()) == [
        'layers.0.attn', 'jpm_global.attn', 'jpm_local.attn'
    ]
    assert all(
        isinstance(m, DCSViTAttention)
        for m in model.injected_attentions().values())
    model.backbone.set_camera_ids(torch.tensor([0, 1]))
    feats = model(torch.randn(2, 3, 64, 32))
    model.backbone.set_camera_ids(None)
    assert len(feats) == 5
    sum(f.sum() for f in feats).backward()
    assert all(p.grad is not None for p in model.arch_parameters())


def test_bad_arguments():
    with pytest.raises(ValueError, match='fixes'):
        TransReID(arch=ARCH, img_size=(64, 32), out_type='featmap')
    with pytest.raises(ValueError, match='num_cameras'):
        TransReID(arch=ARCH, img_size=(64, 32), num_cameras=-1)
    with pytest.raises(ValueError, match='num_parts'):
        TransReID(arch=ARCH, img_size=(64, 32), num_parts=11)
