"""Write synthetic patch correspondences in the Brown and HPatches layouts.

Example::

    python tools/misc/make_synthetic_patches.py data/synthetic_patches \\
        --preset demo --seed 0

writes ``data/synthetic_patches/brown/{liberty,notredame,yosemite}/``
(``patches*.bmp``, ``info.txt``, ``m50_<n>_<n>_0.txt``) and
``data/synthetic_patches/hpatches-release/<i_|v_>*/`` (16 patch stacks per
sequence); the folders can be used wherever the real releases are expected
(with ``pairs_file='m50_<n>_<n>_0.txt'``).
"""
import argparse
import json

from mmattn.datasets.synthetic import (DEMO_PATCHES_PRESET,
                                       TINY_PATCHES_PRESET,
                                       make_synthetic_patches)

PRESETS = dict(demo=DEMO_PATCHES_PRESET, tiny=TINY_PATCHES_PRESET)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate procedural local-descriptor patches as Brown '
        'sequences and an hpatches-release folder.')
    parser.add_argument('out_root', help='output folder (new or empty)')
    parser.add_argument(
        '--preset',
        choices=sorted(PRESETS),
        default='demo',
        help='default sizes: "demo" (1,000 points per Brown sequence) or '
        '"tiny" (48, for tests); the options below override it')
    parser.add_argument(
        '--brown-sequences', nargs='+', help='Brown sequence folder names')
    parser.add_argument(
        '--num-points', type=int, help='3D points per Brown sequence')
    parser.add_argument(
        '--patches-per-point',
        type=int,
        nargs=2,
        metavar=('MIN', 'MAX'),
        help='inclusive range of patches per point (>= 2)')
    parser.add_argument(
        '--num-test-pairs',
        type=int,
        help='lines of each m50 pairs file (half matching)')
    parser.add_argument(
        '--num-hpatches-sequences',
        type=int,
        help='HPatches sequences (alternately i_ and v_)')
    parser.add_argument(
        '--hpatches-patches-per-sequence',
        type=int,
        help='patches per HPatches image')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    kwargs = dict(PRESETS[args.preset])
    for key in kwargs:
        value = getattr(args, key)
        if value is not None:
            kwargs[key] = tuple(value) if isinstance(value, list) else value
    summary = make_synthetic_patches(args.out_root, seed=args.seed, **kwargs)
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == '__main__':
    main()
