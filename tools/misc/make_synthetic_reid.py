"""Write a synthetic person Re-ID set in the Market-1501 release layout.

Example::

    python tools/misc/make_synthetic_reid.py data/synthetic_reid \\
        --num-train-ids 100 --num-test-ids 60 --seed 0 --size 128 64

The folder can then be used wherever a Market-1501 root is expected.
"""
import argparse
import json

from mmattn.datasets.synthetic import (DEMO_PRESET, TINY_PRESET,
                                       make_synthetic_reid)

PRESETS = dict(demo=DEMO_PRESET, tiny=TINY_PRESET)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate a procedural person Re-ID data set with '
        'Market-1501 folders (bounding_box_train, query, bounding_box_test) '
        'and file names.')
    parser.add_argument('out_root', help='output folder (new or empty)')
    parser.add_argument(
        '--preset',
        choices=sorted(PRESETS),
        default='demo',
        help='default sizes: "demo" (~2,100 images, trains on a CPU in '
        'minutes) or "tiny" (~100 images, for tests); the options below '
        'override it')
    parser.add_argument(
        '--num-train-ids', type=int, help='training identities')
    parser.add_argument('--num-test-ids', type=int, help='test identities')
    parser.add_argument('--num-cameras', type=int, help='cameras (2..9)')
    parser.add_argument(
        '--cameras-per-id',
        type=int,
        nargs=2,
        metavar=('MIN', 'MAX'),
        help='inclusive range of cameras that see one identity (>= 2)')
    parser.add_argument(
        '--images-per-id-per-camera',
        type=int,
        help='images of one identity in one camera')
    parser.add_argument(
        '--queries-per-id-per-camera',
        type=int,
        help='of those, how many test images go to query/')
    parser.add_argument(
        '--num-distractors', type=int, help='gallery images with id 0000')
    parser.add_argument(
        '--num-junk', type=int, help='gallery images with id -1')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=[128, 64],
        metavar=('HEIGHT', 'WIDTH'),
        help='image size, e.g. 128 64 or 256 128')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace the image folders of a non-empty OUT_ROOT')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    kwargs = dict(PRESETS[args.preset])
    for key in kwargs:
        value = getattr(args, key)
        if value is not None:
            kwargs[key] = tuple(value) if isinstance(value, list) else value
    counts = make_synthetic_reid(
        args.out_root,
        image_size=tuple(args.size),
        seed=args.seed,
        overwrite=args.overwrite,
        **kwargs)
    print(json.dumps(counts, indent=2))
    return counts


if __name__ == '__main__':
    main()
