"""Ranked retrieval lists of a Re-ID model: per query, its top-k gallery
images, true matches framed green and wrong identities red (same-identity
same-camera images are junk and left out, as in the metric).

Example:
    python tools/analysis_tools/vis_rank.py \
        configs/reid/demo_dcs_mobilenetv2_synthetic.py \
        work_dirs/demo/epoch_55.pth --out-dir work_dirs/demo/vis \
        --num-queries 6 --topk 8
"""
import argparse

import mmcv
import numpy as np

from mmattn.apis import (build_dataset, extract_features, init_model,
                         load_config, reid_labels)
from mmattn.evaluation.functional import DISTANCE_METRICS
from mmattn.visualization import (ImageWriter, add_tool_arguments,
                                  draw_rank_grid, rank_gallery, rank_grid_rows)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_tool_arguments(parser)
    parser.add_argument(
        '--num-queries',
        type=int,
        default=8,
        help='queries shown, spread evenly over the query '
        'set')
    parser.add_argument(
        '--query-indices',
        type=int,
        nargs='+',
        help='query positions (0-based, within the query '
        'set) to show instead')
    parser.add_argument('--topk', type=int, default=10)
    parser.add_argument(
        '--metric', choices=DISTANCE_METRICS, default='euclidean')
    parser.add_argument(
        '--cell-size',
        type=int,
        nargs=2,
        default=[128, 64],
        metavar=('H', 'W'),
        help='size of each image')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument(
        '--name', default='rank_list', help='output file name (without .png)')
    return parser.parse_args()


def load_rgb(path, cell):
    return mmcv.imresize(
        mmcv.imread(path, channel_order='rgb'), (cell[1], cell[0]))


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    writer = ImageWriter.for_tool(args, cfg)
    writer.check_free([args.name])
    model = init_model(cfg, args.checkpoint, device=args.device)
    dataset = build_dataset(cfg, 'test')
    labels = reid_labels(dataset)
    feats = extract_features(model, dataset, batch_size=args.batch_size)
    query, gallery = labels['is_query'], ~labels['is_query']
    if not query.any() or not gallery.any():
        raise SystemExit('the test set needs query and gallery images '
                         "(split='test')")
    ranks = rank_gallery(
        feats[query],
        feats[gallery],
        labels['pids'][query],
        labels['pids'][gallery],
        labels['camids'][query],
        labels['camids'][gallery],
        topk=args.topk,
        metric=args.metric)
    num_query = int(query.sum())
    if args.query_indices:
        bad = [i for i in args.query_indices if not 0 <= i < num_query]
        if bad:
            raise SystemExit(f'--query-indices {bad} outside [0, '
                             f'{num_query})')
        rows = args.query_indices
    else:
        count = min(args.num_queries, num_query)
        rows = np.linspace(0, num_query - 1, count).round().astype(int)
        rows = sorted(set(rows.tolist()))
    query_idx = query.nonzero().squeeze(1).tolist()
    gallery_idx = gallery.nonzero().squeeze(1).tolist()
    cell = tuple(args.cell_size)

    def image(index):
        return load_rgb(dataset.get_data_info(index)['img_path'], cell)

    gallery_images, matches = rank_grid_rows(ranks, rows,
                                             lambda g: image(gallery_idx[g]))
    captions = []
    for r in rows:
        q = query_idx[r]
        hits = sum(matches[len(captions)])
        captions.append(f'query id {int(labels["pids"][q])} cam '
                        f'{int(labels["camids"][q]) + 1}: {hits}/'
                        f'{args.topk} correct')
    grid = draw_rank_grid([image(query_idx[r]) for r in rows],
                          gallery_images,
                          matches,
                          captions=captions,
                          cell=cell)
    print(writer.write(args.name, grid))


if __name__ == '__main__':
    main()
