"""Grad-CAM heat maps of any layer of any config, optionally side by side
for a second checkpoint (e.g. a baseline and its attention variant, as in
seed 000 figure 1, seed 001 figures 3-4 and seed 004 figure 4).

The default target is the norm of the un-normalised test feature (its
similarity to its own direction), so Re-ID models need no class; ``--target
logit`` explains the top identity / class logit instead.

Example:
    python tools/analysis_tools/vis_cam.py \
        configs/reid/demo_dcs_mobilenetv2_synthetic.py \
        work_dirs/demo/epoch_55.pth --layer backbone.backbone.layer5 \
        --checkpoint2 work_dirs/baseline/epoch_55.pth \
        --config2 configs/reid/mobilenetv2_b64_market1501.py \
        --out-dir work_dirs/demo/vis
"""
import argparse

import cv2
import numpy as np
from mmengine.config import DictAction
from mmengine.dataset import Compose

from mmattn.apis import (build_dataset, display_image, init_model, load_config,
                         preprocess)
from mmattn.visualization import (TARGETS, GradCAM, ImageWriter,
                                  add_tool_arguments, overlay_heatmap)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_tool_arguments(parser)
    parser.add_argument(
        '--layer',
        default='backbone',
        help="module path of the explained layer, e.g. "
        "'backbone.backbone.layer5' (default: the backbone's last output)")
    parser.add_argument('--target', choices=TARGETS, default='norm')
    parser.add_argument(
        '--checkpoint2', help='second checkpoint, drawn in '
        'a second column')
    parser.add_argument(
        '--config2', help='config of --checkpoint2 '
        '(default: CONFIG)')
    parser.add_argument(
        '--layer2', help='layer of the second model '
        '(default: --layer)')
    parser.add_argument(
        '--cfg-options2',
        nargs='+',
        action=DictAction,
        help='overrides of the second config')
    parser.add_argument(
        '--images',
        nargs='+',
        help='image files (default: '
        'images of the test set)')
    parser.add_argument('--num-images', type=int, default=6)
    parser.add_argument('--split', default='test', choices=['train', 'test'])
    parser.add_argument('--name', default='grad_cam')
    return parser.parse_args()


def test_pipeline(cfg):
    loader = cfg.get('test_dataloader')
    if loader is None:
        raise SystemExit('the config has no test_dataloader: its test '
                         'pipeline is needed to read --images')
    return loader['dataset']['pipeline']


def load_samples(cfg, args):
    if args.images:
        pipeline = Compose(test_pipeline(cfg))
        return [pipeline(dict(img_path=p)) for p in args.images]
    dataset = build_dataset(cfg, args.split, pipeline=test_pipeline(cfg))
    count = min(args.num_images, len(dataset))
    picks = np.linspace(0, len(dataset) - 1, count).round().astype(int)
    return [dataset[int(i)] for i in sorted(set(picks.tolist()))]


def heat_maps(model, layer, target, samples):
    cams = GradCAM(model, layer, target)(preprocess(model, samples))
    return [c.numpy() for c in cams]


def label(image, text):
    """The image with a white caption band on top."""
    band = np.full((14, image.shape[1], 3), 255, np.uint8)
    cv2.putText(band, text, (2, 10), cv2.FONT_HERSHEY_SIMPLEX, 0.33, (0, 0, 0),
                1, cv2.LINE_AA)
    return np.concatenate([band, image])


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    writer = ImageWriter.for_tool(args, cfg)
    writer.check_free([args.name])
    samples = load_samples(cfg, args)
    columns = [('image', [display_image(s) for s in samples])]
    models = [(cfg, args.checkpoint, args.layer, '1')]
    if args.checkpoint2:
        # Without --config2 the second model shares the first config and
        # its --cfg-options.
        cfg2 = load_config(args.config2, args.cfg_options2) \
            if args.config2 else load_config(cfg.copy(), args.cfg_options2)
        models.append((cfg2, args.checkpoint2, args.layer2 or args.layer, '2'))
    for model_cfg, checkpoint, layer, title in models:
        model = init_model(model_cfg, checkpoint, device=args.device)
        cams = heat_maps(model, layer, args.target, samples)
        columns.append((f'{title}: {layer.split(".")[-1]}', [
            overlay_heatmap(img, cam) for img, cam in zip(columns[0][1], cams)
        ]))
    gap = np.full((columns[0][1][0].shape[0], 4, 3), 255, np.uint8)
    rows = []
    for r in range(len(samples)):
        parts = []
        for _, images in columns:
            parts += [images[r], gap]
        rows.append(np.concatenate(parts[:-1], axis=1))
    grid = np.concatenate([
        r for row in rows
        for r in (row, np.full((4, ) + row.shape[1:], 255, np.uint8))
    ][:-1])
    width = columns[0][1][0].shape[1] + 4
    header = np.concatenate([
        label(np.full((0, width, 3), 255, np.uint8), title[:width // 5])
        for title, _ in columns
    ],
                            axis=1)[:, :grid.shape[1]]
    print(writer.write(args.name, np.concatenate([header, grid])))


if __name__ == '__main__':
    main()
