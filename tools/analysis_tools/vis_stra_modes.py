"""StRA local-only activations and mode masks M^g (seed 003 fig. 4).

For each image and each chosen StRA block (default: every one), one figure
row per view, one column per mode g (a group of C/G channels):

* ``local``: the mean absolute activation of mode g's channels after the
  local attention unit alone (the paper's "local attention only" volume);
* ``mask``: the mode attention's spatial soft mask M^g (its "attention
  coefficients of the mode operation"); absent for a block without mode
  attention (``use_mode_attention=False``, the local-only config);
* ``output``: the activation of mode g after the whole block.

Each map is upsampled to the input and scaled to [0, 1] (min-max per map).
The JSON gives, per image and block, each mask's sum (1), its peak position
and the mean pairwise cosine similarity of the G maps of each view (the
paper: the local-only maps differ marginally between heads, the mode
masks diversify them).

Example:
    python tools/analysis_tools/vis_stra_modes.py \
        configs/reid/stra-resnet50_b32_market1501.py \
        work_dirs/stra/epoch_90.pth --out-dir work_dirs/stra/vis
"""
import argparse

import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from mmattn.apis import display_image, init_model, load_config, preprocess
from mmattn.models.attentions import StructureRegularizedAttention
from mmattn.visualization import ImageWriter, add_tool_arguments
from mmattn.visualization.attention_maps import (capture_inputs, find_modules,
                                                 pick_samples, stra_mode_maps,
                                                 upsample_maps)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_tool_arguments(parser, checkpoint='optional')
    parser.add_argument(
        '--modules',
        nargs='+',
        default=(),
        help='module paths of the StRA blocks (default: all)')
    parser.add_argument(
        '--images',
        nargs='+',
        help='image files (default: '
        'images of the --split set)')
    parser.add_argument('--num-images', type=int, default=1)
    parser.add_argument('--split', default='test', choices=['train', 'test'])
    parser.add_argument(
        '--dpi', type=int, default=72, help='resolution of the figure')
    parser.add_argument('--name', default='stra_modes')
    return parser.parse_args(argv)


def mean_pairwise_similarity(maps: torch.Tensor) -> float:
    """Mean cosine similarity of the G maps (G, H, W) over pairs g != h
    (1: every mode sees the same pattern)."""
    flat = F.normalize(maps.flatten(1).float(), dim=1)
    sim = flat @ flat.T
    g = sim.shape[0]
    if g < 2:
        return 1.0
    return float((sim.sum() - sim.diagonal().sum()) / (g * (g - 1)))


def draw(rows, image_size, dpi=72):
    height, width = image_size
    columns = 1 + max(len(r['maps']) for r in rows)
    scale = 1.6 / max(height, width)
    fig = Figure(
        figsize=(columns * width * scale + 0.2,
                 len(rows) * height * scale + 0.4),
        dpi=dpi)
    for r, row in enumerate(rows):
        ax = fig.add_subplot(len(rows), columns, r * columns + 1)
        ax.imshow(row['image'])
        ax.set_title(row['label'], fontsize=6)
        ax.axis('off')
        for g, heat in enumerate(row['maps']):
            ax = fig.add_subplot(len(rows), columns, r * columns + g + 2)
            ax.imshow(row['image'])
            ax.imshow(heat, cmap='jet', alpha=0.5, vmin=0, vmax=1)
            ax.set_title(f'{row["view"]} g={g}', fontsize=6)
            ax.axis('off')
    fig.tight_layout(pad=0.3)
    return fig


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    writer = ImageWriter.for_tool(args, cfg)
    writer.check_free([args.name], [args.name])
    model = init_model(cfg, args.checkpoint, device=args.device)
    modules = find_modules(model, StructureRegularizedAttention, args.modules)
    samples = pick_samples(cfg, args.split, args.num_images, args.images)
    inputs = preprocess(model, samples)
    feats = capture_inputs(model, modules, lambda: model.extract_feat(inputs))
    size = tuple(inputs.shape[-2:])
    rows, report = [], dict(
        config=args.config, checkpoint=args.checkpoint, images=[])
    for b, sample in enumerate(samples):
        image = display_image(sample)
        entry = dict(
            image=sample['data_samples'].metainfo.get('img_path', b),
            blocks={})
        for name, module in modules.items():
            maps = stra_mode_maps(module, feats[name][b:b + 1])
            h, w = maps['local'].shape[-2:]
            block = dict(map_size=[h, w], groups=maps['local'].shape[1])
            for view in ('local', 'masks', 'output'):
                if maps[view] is None:
                    block[view] = None
                    continue
                views = maps[view][0]
                block[view] = dict(
                    mean_pairwise_similarity=mean_pairwise_similarity(views))
                if view == 'masks':
                    flat = views.flatten(1)
                    block[view]['sums'] = flat.sum(1).tolist()
                    peak = flat.argmax(1)
                    block[view]['peaks'] = [[int(p) // w,
                                             int(p) % w] for p in peak]
                rows.append(
                    dict(
                        image=image,
                        view=view.rstrip('s'),
                        label='.'.join(name.split('.')[-3:]),
                        maps=list(upsample_maps(views, size, 'minmax'))))
            entry['blocks'][name] = block
        report['images'].append(entry)
    print(writer.write_figure(args.name, draw(rows, size, args.dpi)))
    print(writer.write_json(args.name, report))
    return report


if __name__ == '__main__':
    torch.set_grad_enabled(False)
    main()
