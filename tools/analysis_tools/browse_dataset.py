"""The training pipeline's output images of a config (to check the
augmentations): for each sample, the image as read (left) and what the
pipeline makes of it (right), ``--repeats`` draws each.

Example:
    python tools/analysis_tools/browse_dataset.py \
        configs/reid/demo_dcs_mobilenetv2_synthetic.py \
        --out-dir work_dirs/browse --num-images 8 --repeats 3
"""
import argparse

import cv2
import mmcv
import numpy as np

from mmattn.apis import build_dataset, display_image, load_config
from mmattn.visualization import ImageWriter, add_tool_arguments


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_tool_arguments(parser, checkpoint='none')
    parser.add_argument(
        '--split', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--num-images', type=int, default=8)
    parser.add_argument(
        '--repeats', type=int, default=3, help='pipeline draws per sample')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--name', default='pipeline')
    return parser.parse_args()


def main():
    args = parse_args()
    if args.num_images < 1 or args.repeats < 1:
        raise SystemExit('--num-images and --repeats must be >= 1')
    cfg = load_config(args.config, args.cfg_options)
    writer = ImageWriter.for_tool(args, cfg)
    writer.check_free([args.name])
    # The random transforms draw from numpy's global generator.
    np.random.seed(args.seed)
    dataset = build_dataset(cfg, args.split)
    count = min(args.num_images, len(dataset))
    picks = np.linspace(0, len(dataset) - 1, count).round().astype(int)
    rows = []
    for index in picks.tolist():
        draws = [display_image(dataset[index]) for _ in range(args.repeats)]
        h, w = draws[0].shape[:2]
        original = mmcv.imresize(
            mmcv.imread(
                dataset.get_data_info(index)['img_path'], channel_order='rgb'),
            (w, h))
        gap = np.full((h, 4, 3), 255, np.uint8)
        parts = [original, np.full((h, 8, 3), 255, np.uint8)]
        for draw in draws:
            parts += [draw, gap]
        rows.append(np.concatenate(parts[:-1], axis=1))
    # Rows side by side in columns of at most 4 samples keep it compact.
    per_col = 4
    columns = []
    for start in range(0, len(rows), per_col):
        block = rows[start:start + per_col]
        block += [np.full_like(rows[0], 255)] * (per_col - len(block)) \
            if len(rows) > per_col else []
        spaced = []
        for row in block:
            spaced += [row, np.full((4, ) + row.shape[1:], 255, np.uint8)]
        columns.append(np.concatenate(spaced[:-1]))
    sep = np.full((columns[0].shape[0], 16, 3), 255, np.uint8)
    grid = columns[0]
    for column in columns[1:]:
        grid = np.concatenate([grid, sep, column], axis=1)
    band = np.full((16, grid.shape[1], 3), 255, np.uint8)
    cv2.putText(band, f'{args.split} pipeline: original | '
                f'{args.repeats} draws', (4, 12), cv2.FONT_HERSHEY_SIMPLEX,
                0.4, (0, 0, 0), 1, cv2.LINE_AA)
    print(writer.write(args.name, np.concatenate([band, grid])))


if __name__ == '__main__':
    main()
