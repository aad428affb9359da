"""CSA base attention maps and reconstructed attention (seed 002 fig. 5).

For each image and each chosen CSA block (default: every one), the figure
shows the image, the D base attention maps ``B_k`` with the largest total
weight (``--num-bases``) and the reconstructed attention map
``A_i = sum_k W[k, i] B_k`` of each chosen pixel i (``--pixels``, marked
with a cross), all of one channel group (``--group``). The JSON beside it
gives, per image and block, the chosen positions on the block's map, the
largest deviation from 1 of the base maps' sums and the sum of
every A_i (1 by construction), the closest base map of each A_i and
its cosine similarity (the paper: "each reconstructed attention map is
similar to one of the base attention maps").

Example:
    python tools/analysis_tools/vis_csa_maps.py \
        configs/reid/csa-pcb_resnet50_market1501.py work_dirs/csa.pth \
        --out-dir work_dirs/csa/vis --pixels 0.2 0.5 0.5 0.5 0.8 0.5
"""
import argparse

import torch
from matplotlib.figure import Figure

from mmattn.apis import display_image, init_model, load_config, preprocess
from mmattn.models.attentions import CompressedSelfAttention
from mmattn.visualization import ImageWriter, add_tool_arguments
from mmattn.visualization.attention_maps import (capture_inputs,
                                                 csa_reconstructed_attention,
                                                 dominant_base, find_modules,
                                                 pick_samples, pixel_indices,
                                                 upsample_maps)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_tool_arguments(parser, checkpoint='optional')
    parser.add_argument(
        '--modules',
        nargs='+',
        default=(),
        help='module paths of the CSA blocks (default: all)')
    parser.add_argument(
        '--group',
        type=int,
        default=0,
        help='channel group whose maps are drawn')
    parser.add_argument(
        '--num-bases',
        type=int,
        default=2,
        help='base maps drawn per block (the most weighted)')
    parser.add_argument(
        '--pixels',
        nargs='+',
        type=float,
        default=[
            0.15, 0.5, 0.3, 0.3, 0.45, 0.7, 0.6, 0.5, 0.75, 0.3, 0.9, 0.6
        ],
        help='chosen pixels as y x pairs of image fractions in [0, 1] '
        '(default: six points down the body)')
    parser.add_argument(
        '--images',
        nargs='+',
        help='image files (default: '
        'images of the --split set)')
    parser.add_argument('--num-images', type=int, default=2)
    parser.add_argument('--split', default='test', choices=['train', 'test'])
    parser.add_argument(
        '--dpi', type=int, default=72, help='resolution of the figure')
    parser.add_argument('--name', default='csa_maps')
    args = parser.parse_args(argv)
    if len(args.pixels) % 2:
        parser.error('--pixels takes y x pairs (an even count of numbers)')
    return args


def draw(rows, image_size, dpi=72):
    """One figure row per (image, block): image | bases | A_i."""
    height, width = image_size
    columns = max(1 + len(r['bases']) + len(r['attention']) for r in rows)
    scale = 1.1 / max(height, width)
    fig = Figure(
        figsize=(columns * width * scale * 1.6 + 0.2,
                 len(rows) * height * scale * 1.6 + 0.4),
        dpi=dpi)
    for r, row in enumerate(rows):
        panels = [('image', row['image'], None)]
        panels += [(f'B{k}', m, None) for k, m in row['bases']]
        panels += [(f'A{n}', m, p)
                   for n, (m, p) in enumerate(row['attention'])]
        for c, (title, heat, pixel) in enumerate(panels):
            ax = fig.add_subplot(len(rows), columns, r * columns + c + 1)
            ax.imshow(row['image'])
            if heat is not None and title != 'image':
                ax.imshow(heat, cmap='jet', alpha=0.5, vmin=0, vmax=1)
            if pixel is not None:
                ax.plot(pixel[1], pixel[0], 'w+', markersize=7, mew=2)
            ax.set_title(title if c else row['label'], fontsize=6)
            ax.axis('off')
    fig.tight_layout(pad=0.3)
    return fig


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    writer = ImageWriter.for_tool(args, cfg)
    writer.check_free([args.name], [args.name])
    model = init_model(cfg, args.checkpoint, device=args.device)
    modules = find_modules(model, CompressedSelfAttention, args.modules)
    for name, module in modules.items():
        if not 0 <= args.group < module.groups:
            raise SystemExit(f'--group {args.group} is out of range: {name} '
                             f'has {module.groups} groups')
        if not 1 <= args.num_bases <= module.num_bases:
            raise SystemExit(f'--num-bases must be in [1, '
                             f'{module.num_bases}] for {name}')
    samples = pick_samples(cfg, args.split, args.num_images, args.images)
    inputs = preprocess(model, samples)
    feats = capture_inputs(model, modules, lambda: model.extract_feat(inputs))
    images = [display_image(s) for s in samples]
    size = inputs.shape[-2:]
    pixels = list(zip(args.pixels[0::2], args.pixels[1::2]))
    rows, report = [], dict(
        config=args.config,
        checkpoint=args.checkpoint,
        group=args.group,
        pixels=pixels,
        images=[])
    for b, image in enumerate(images):
        entry = dict(
            image=samples[b]['data_samples'].metainfo.get('img_path', b),
            blocks={})
        for name, module in modules.items():
            x = feats[name][b:b + 1]
            h, w = x.shape[-2:]
            indices = pixel_indices(pixels, h, w)
            maps = csa_reconstructed_attention(module, x, indices)
            bases = maps['base_maps'][0, args.group]  # (D, h, w)
            attention = maps['attention'][0, args.group]  # (P, h, w)
            used = maps['weight_totals'][0, args.group]
            shown = used.argsort(descending=True)[:args.num_bases].tolist()
            closest, similarity = dominant_base(
                attention.flatten(1), bases.flatten(1))
            entry['blocks'][name] = dict(
                map_size=[h, w],
                positions=indices,
                shown_bases=shown,
                base_sum_error=float(
                    (bases.flatten(1).sum(1) - 1).abs().max()),
                attention_sums=attention.flatten(1).sum(1).tolist(),
                closest_base=closest.tolist(),
                closest_similarity=similarity.tolist(),
                base_weight_totals=used.tolist())
            points = [((i // w + 0.5) * size[0] / h - 0.5,
                       (i % w + 0.5) * size[1] / w - 0.5) for i in indices]
            rows.append(
                dict(
                    image=image,
                    label='.'.join(name.split('.')[-2:]),
                    bases=list(zip(shown, upsample_maps(bases[shown], size))),
                    attention=list(
                        zip(upsample_maps(attention, size), points))))
        report['images'].append(entry)
    print(writer.write_figure(args.name, draw(rows, tuple(size), args.dpi)))
    print(writer.write_json(args.name, report))
    return report


if __name__ == '__main__':
    torch.set_grad_enabled(False)
    main()
