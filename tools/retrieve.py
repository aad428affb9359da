"""Retrieve images with a trained model: rank a gallery folder for each
query image (or folder of queries), write the top-k with distances as JSON
and the ranked-results picture.

Images go through the config's test pipeline; no dataset or annotation is
needed. Where file names follow Market-1501's (``0002_c1s1_000451_03.jpg``)
the JSON names identities and the picture frames same-identity results
green and others red; otherwise results are framed grey.

Example:
    python tools/retrieve.py configs/reid/demo_dcs_mobilenetv2_synthetic.py \\
        work_dirs/demo/epoch_55.pth \\
        --query data/synthetic_reid/query/0001_c1s1_000000_00.jpg \\
        --gallery data/synthetic_reid/bounding_box_test \\
        --topk 8 --rerank --out-dir work_dirs/demo/retrieval
"""
import argparse
import json
import os
import os.path as osp

from mmattn.apis import init_model, load_config, retrieval_grid, retrieve
from mmattn.evaluation.functional import DISTANCE_METRICS
from mmattn.visualization import ImageWriter, add_tool_arguments


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    add_tool_arguments(parser)
    parser.add_argument(
        '--query',
        nargs='+',
        required=True,
        help='query image(s) and / or folder(s)')
    parser.add_argument(
        '--gallery',
        nargs='+',
        required=True,
        help='gallery image(s) and / or folder(s)')
    parser.add_argument('--topk', type=int, default=10)
    parser.add_argument(
        '--metric', choices=DISTANCE_METRICS, default='euclidean')
    parser.add_argument(
        '--rerank',
        action='store_true',
        help='k-reciprocal re-ranking of the distances')
    parser.add_argument('--k1', type=int, default=20)
    parser.add_argument('--k2', type=int, default=6)
    parser.add_argument('--lambda-value', type=float, default=0.3)
    parser.add_argument(
        '--keep-same-file',
        action='store_true',
        help='rank a query file that is also in the gallery '
        'against itself')
    parser.add_argument(
        '--max-rows',
        type=int,
        default=20,
        help='queries drawn in the picture (the first ones); '
        'the JSON has all')
    parser.add_argument(
        '--cell-size',
        type=int,
        nargs=2,
        default=[128, 64],
        metavar=('H', 'W'),
        help='size of each image')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument(
        '--name',
        default='retrieval',
        help='output file names (<name>.json, <name>.png)')
    return parser.parse_args()


def main():
    args = parse_args()
    if args.max_rows < 1:
        raise SystemExit(f'--max-rows must be >= 1, got {args.max_rows}')
    cfg = load_config(args.config, args.cfg_options)
    writer = ImageWriter.for_tool(args, cfg)
    writer.check_free([args.name])
    json_path = osp.join(args.out_dir, args.name + '.json')
    if osp.exists(json_path) and not args.overwrite:
        raise SystemExit(f'{json_path} exists; pass --overwrite to replace '
                         'it, or choose another --out-dir')
    model = init_model(cfg, args.checkpoint, device=args.device)
    result = retrieve(
        model,
        args.query,
        args.gallery,
        topk=args.topk,
        metric=args.metric,
        rerank=args.rerank,
        k1=args.k1,
        k2=args.k2,
        lambda_value=args.lambda_value,
        exclude_same_file=not args.keep_same_file,
        batch_size=args.batch_size)
    record = result.to_dict()
    record.update(
        config=args.config,
        checkpoint=args.checkpoint,
        metric=args.metric,
        rerank=dict(k1=args.k1, k2=args.k2, lambda_value=args.lambda_value)
        if args.rerank else None)
    tmp = json_path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(record, f, indent=2)
    os.replace(tmp, json_path)
    rows = range(min(args.max_rows, len(result.query_paths)))
    picture = writer.write(
        args.name, retrieval_grid(result, tuple(args.cell_size), queries=rows))
    print(f'{len(result.query_paths)} queries x {len(result.gallery_paths)} '
          f'gallery images: {json_path}, {picture}')


if __name__ == '__main__':
    main()
