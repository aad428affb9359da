"""Convert an ImageNet checkpoint of timm or torchvision into mmattn's key
names, for ``init_cfg=dict(type='Pretrained', checkpoint=OUT,
prefix='backbone.')``.

mmattn's backbones are mmpretrain's (``ResNet``, ``MobileNetV2``, ``HRNet``,
``VisionTransformer``) or subclasses with the same names (``HRNetReID``,
``MobileNetV2ReID``, ``TransReID``); the output holds their keys under
``backbone.``, as an mmpretrain ``ImageClassifier`` checkpoint does, so a
config swaps only ``checkpoint``. The classifier is dropped.

Archs (``--arch``) and the checkpoints they read:

- ``vit``: timm ``VisionTransformer`` (``vit_base_patch16_224`` and others
  without layer scale / extra tokens; TransReID's ``jx_vit_base_p16_224``).
  The position embedding is resized bilinearly to the patch grid of
  ``--img-size`` / ``--patch-size`` / ``--stride`` (default TransReID's
  256 x 128, 16, 12: 21 x 10), as mmpretrain resizes it when loading.
  TransReID copies the last block into its JPM branches when it loads.
- ``hrnet``: timm (= the official HRNet) ``hrnet_w18`` ... ``hrnet_w64``;
  the classification head (``incre_modules``, ``downsamp_modules``,
  ``final_layer``, ``classifier``) is dropped.
- ``resnet``: torchvision (or timm) ResNet-18 ... 152; only ``fc`` goes.
- ``mobilenet_v2``: torchvision ``mobilenet_v2`` (``features.*``).

The converted keys are checked against a freshly built mmpretrain backbone
(names and shapes, all of them present) for ``hrnet``, ``resnet`` and
``mobilenet_v2``; ``vit`` checks its key pattern.

Example:
    python tools/model_converters/imagenet_to_mmattn.py \\
        ~/Downloads/jx_vit_base_p16_224-80ecf9dd.pth \\
        data/pretrained/vit-base-p16_timm_transreid.pth --arch vit
"""
import argparse
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, Optional, Sequence, Tuple

import torch
from torch import Tensor

ARCHS = ('vit', 'hrnet', 'resnet', 'mobilenet_v2')


def load_source(path: str) -> Dict[str, Tensor]:
    """The state dict of a timm / torchvision checkpoint: a bare state dict,
    or one under ``state_dict`` / ``model``; ``.safetensors`` files too."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path!r} does not exist')
    if path.endswith('.safetensors'):
        try:
            from safetensors.torch import load_file
        except ImportError as err:
            raise ImportError('reading .safetensors needs the safetensors '
                              'package (pip install safetensors)') from err
        return dict(load_file(path))
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    for key in ('state_dict', 'model'):
        if isinstance(ckpt, dict) and isinstance(ckpt.get(key), dict):
            ckpt = ckpt[key]
    if not isinstance(ckpt, dict) or not all(
            isinstance(v, Tensor) for v in ckpt.values()):
        raise ValueError(f'{path!r} holds no state dict of tensors')
    # DataParallel checkpoints prefix every key with "module.".
    return {re.sub(r'^module\.', '', k): v for k, v in ckpt.items()}


def patch_grid(img_size: Sequence[int], patch_size: int,
               stride: int) -> Tuple[int, int]:
    """Patches (rows, cols) of a conv patch embedding without padding."""
    return tuple((s - patch_size) // stride + 1 for s in img_size)


def convert_vit(
        state: Dict[str, Tensor],
        grid: Optional[Tuple[int, int]] = None) -> 'OrderedDict[str, Tensor]':
    """timm ViT keys -> mmpretrain ``VisionTransformer`` keys.

    Args:
        state (dict): timm state dict.
        grid (tuple, optional): (rows, cols) of the target patch grid; the
            square grid of the checkpoint's position embedding is resized
            to it (bilinear, cls token kept). None keeps it.

    Returns:
        OrderedDict: The backbone state dict (no ``backbone.`` prefix).
    """
    from mmpretrain.models.utils import resize_pos_embed

    block = {
        'norm1': 'ln1',
        'norm2': 'ln2',
        'attn.qkv': 'attn.qkv',
        'attn.proj': 'attn.proj',
        'mlp.fc1': 'ffn.layers.0.0',
        'mlp.fc2': 'ffn.layers.1',
    }
    plain = {
        'cls_token': 'cls_token',
        'pos_embed': 'pos_embed',
        'patch_embed.proj.weight': 'patch_embed.projection.weight',
        'patch_embed.proj.bias': 'patch_embed.projection.bias',
        'norm.weight': 'ln1.weight',
        'norm.bias': 'ln1.bias',
    }
    out, unknown = OrderedDict(), []
    for key, value in state.items():
        # The classifier, and the representation layer of some
        # ImageNet-21k checkpoints.
        if key.startswith(('head.', 'pre_logits.')):
            continue
        found = re.fullmatch(r'blocks\.(\d+)\.(.+)\.(weight|bias)', key)
        if key in plain:
            out[plain[key]] = value
        elif found and found.group(2) in block:
            index, name, kind = found.groups()
            out[f'layers.{index}.{block[name]}.{kind}'] = value
        else:
            unknown.append(key)
    if unknown:
        raise ValueError(
            f'not a plain timm ViT checkpoint: no mmpretrain name for '
            f'{unknown[:8]}{" ..." if len(unknown) > 8 else ""} (layer '
            'scale, distillation / register tokens and fc_norm are not '
            'supported)')
    if 'pos_embed' not in out or 'cls_token' not in out:
        raise ValueError('not a timm ViT checkpoint: it has no pos_embed / '
                         'cls_token')
    if grid is not None:
        pos = out['pos_embed']
        side = int(round((pos.shape[1] - 1)**0.5))
        if side * side != pos.shape[1] - 1:
            raise ValueError(f'pos_embed of {pos.shape[1] - 1} patch tokens '
                             '(+ cls) is not a square grid')
        out['pos_embed'] = resize_pos_embed(
            pos, (side, side),
            tuple(grid),
            mode='bilinear',
            num_extra_tokens=1)
    return out


def convert_hrnet(state: Dict[str, Tensor]) -> 'OrderedDict[str, Tensor]':
    """timm / official HRNet keys -> mmpretrain ``HRNet`` keys (the same
    names; the classification head is dropped)."""
    head = ('incre_modules.', 'downsamp_modules.', 'final_layer.',
            'classifier.')
    return OrderedDict(
        (k, v) for k, v in state.items() if not k.startswith(head))


def convert_resnet(state: Dict[str, Tensor]) -> 'OrderedDict[str, Tensor]':
    """torchvision / timm ResNet keys -> mmpretrain ``ResNet`` keys (the
    same names; ``fc`` is dropped)."""
    return OrderedDict(
        (k, v) for k, v in state.items() if not k.startswith('fc.'))


#: torchvision MobileNetV2 ``features`` index -> mmpretrain stage, for the
#: stock repeats 1, 2, 3, 4, 3, 3, 1.
_MBV2_REPEATS = (1, 2, 3, 4, 3, 3, 1)


def convert_mobilenet_v2(
        state: Dict[str, Tensor]) -> 'OrderedDict[str, Tensor]':
    """torchvision ``mobilenet_v2`` keys -> mmpretrain ``MobileNetV2``.

    ``features.0`` (stem conv-BN) is ``conv1``, ``features.1..17`` the
    inverted residuals ``layer{1..7}.{j}``, ``features.18`` ``conv2``.
    Inside a block, torchvision's ``conv`` holds conv-BN-ReLU6 modules then
    a bare conv and BN; mmpretrain's holds one ``ConvModule`` (``conv``,
    ``bn``) per conv.
    """
    blocks = [(stage, j) for stage, n in enumerate(_MBV2_REPEATS, 1)
              for j in range(n)]
    last = len(blocks) + 1
    out, unknown = OrderedDict(), []
    for key, value in state.items():
        if key.startswith('classifier.'):
            continue
        found = re.fullmatch(r'features\.(\d+)\.(.+)', key)
        if not found:
            unknown.append(key)
            continue
        index, rest = int(found.group(1)), found.group(2)
        if index in (0, last):
            sub = re.fullmatch(r'([01])\.(.+)', rest)
            if not sub:
                unknown.append(key)
                continue
            layer = 'conv1' if index == 0 else 'conv2'
            part = 'conv' if sub.group(1) == '0' else 'bn'
            out[f'{layer}.{part}.{sub.group(2)}'] = value
            continue
        if not 1 <= index < last:
            unknown.append(key)
            continue
        stage, j = blocks[index - 1]
        # Expansion ratio 1 (the first block) has no expand conv.
        num_convs = 2 if stage == 1 else 3
        sub = re.fullmatch(r'conv\.(\d+)\.(?:(\d)\.)?(.+)', rest)
        if not sub:
            unknown.append(key)
            continue
        pos, inner, param = int(sub.group(1)), sub.group(2), sub.group(3)
        if pos < num_convs - 1:  # conv-BN-ReLU6 Sequential
            conv, part = pos, 'conv' if inner == '0' else 'bn'
        else:  # the linear projection: bare conv, then BN
            conv, part = num_convs - 1, 'conv' if pos == num_convs - 1 \
                else 'bn'
            if inner is not None:
                param = f'{inner}.{param}'
        out[f'layer{stage}.{j}.conv.{conv}.{part}.{param}'] = value
    if unknown:
        raise ValueError('not a torchvision mobilenet_v2 checkpoint: no '
                         f'mmpretrain name for {unknown[:8]}')
    return out


def reference_backbone(arch: str, state: Dict[str, Tensor]):
    """The stock mmpretrain backbone the converted keys must fill."""
    from mmpretrain.models.backbones import HRNet, MobileNetV2, ResNet
    if arch == 'resnet':
        bottleneck = 'layer1.0.conv3.weight' in state
        blocks = sum(1 for k in state
                     if re.fullmatch(r'layer3\.\d+\.conv1\.weight', k))
        depths = {
            (False, 2): 18,
            (False, 6): 34,
            (True, 6): 50,
            (True, 23): 101,
            (True, 36): 152
        }
        if (bottleneck, blocks) not in depths:
            raise ValueError('unrecognised ResNet: layer3 has '
                             f'{blocks} blocks')
        return ResNet(depth=depths[(bottleneck, blocks)])
    if arch == 'mobilenet_v2':
        width = state['conv1.conv.weight'].shape[0] / 32
        return MobileNetV2(widen_factor=width)
    if arch == 'hrnet':
        width = state['stage2.0.branches.0.0.conv1.weight'].shape[0]
        return HRNet(arch=f'w{width}', multiscale_output=True)
    return None


def check_keys(converted: Dict[str, Tensor], model) -> None:
    """Every converted key exists in ``model`` with the same shape and
    every key of ``model`` is converted."""
    target = model.state_dict()
    missing = sorted(set(target) - set(converted))
    extra = sorted(set(converted) - set(target))
    shapes = [
        f'{k}: {tuple(converted[k].shape)} vs {tuple(target[k].shape)}'
        for k in set(converted) & set(target)
        if converted[k].shape != target[k].shape
    ]
    if missing or extra or shapes:
        raise ValueError(
            f'the converted keys do not fit mmpretrain\'s '
            f'{type(model).__name__}: missing {missing[:5]}, unexpected '
            f'{extra[:5]}, shape mismatches {shapes[:5]}')


def convert(
        state: Dict[str, Tensor],
        arch: str,
        grid: Optional[Tuple[int, int]] = None) -> 'OrderedDict[str, Tensor]':
    """Convert a timm / torchvision state dict (see the module docstring);
    ``grid`` is used by ``'vit'`` only."""
    if arch not in ARCHS:
        raise ValueError(f'arch must be one of {ARCHS}, got {arch!r}')
    if arch == 'vit':
        return convert_vit(state, grid)
    out = dict(
        hrnet=convert_hrnet,
        resnet=convert_resnet,
        mobilenet_v2=convert_mobilenet_v2)[arch](
            state)
    check_keys(out, reference_backbone(arch, out))
    return out


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='timm / torchvision checkpoint')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    parser.add_argument('--arch', choices=ARCHS, required=True)
    parser.add_argument(
        '--img-size',
        type=int,
        nargs=2,
        default=[256, 128],
        metavar=('H', 'W'),
        help='vit: training image size (TransReID)')
    parser.add_argument(
        '--patch-size', type=int, default=16, help='vit: patch size')
    parser.add_argument(
        '--stride',
        type=int,
        default=12,
        help='vit: patch stride (TransReID overlaps, 12)')
    parser.add_argument(
        '--keep-pos-embed',
        action='store_true',
        help='vit: keep the square position embedding')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace an existing output file')
    return parser.parse_args()


def main():
    args = parse_args()
    if osp.exists(args.dst) and not args.overwrite:
        raise SystemExit(f'{args.dst} exists; pass --overwrite to replace '
                         'it')
    grid = None if args.keep_pos_embed else patch_grid(
        args.img_size, args.patch_size, args.stride)
    state = convert(load_source(args.src), args.arch, grid)
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    torch.save(
        dict(
            state_dict=OrderedDict(
                (f'backbone.{k}', v) for k, v in state.items()),
            meta=dict(
                converted_from=osp.basename(args.src),
                arch=args.arch,
                pos_embed_grid=list(grid)
                if args.arch == 'vit' and grid else None)), args.dst)
    print(f'{len(state)} tensors ({args.arch}) -> {args.dst}')


if __name__ == '__main__':
    main()
