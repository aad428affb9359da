"""Write a synthetic face recognition set: an identity image folder for
training, an LFW-format verification set (pairs.txt) and a CFP-FP-like
two-column pair list.

Example::

    python tools/misc/make_synthetic_faces.py data/synthetic_faces --seed 0

Then train with ``configs/face/demo_stra-resnet18_arcface_synthetic.py``
(see docs/user_guides/face_recognition.md).
"""
import argparse
import json

from mmattn.datasets.synthetic import (DEMO_FACE_PRESET, TINY_FACE_PRESET,
                                       make_synthetic_faces)

PRESETS = dict(demo=DEMO_FACE_PRESET, tiny=TINY_FACE_PRESET)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate procedural faces: <root>/train/<id>/*.jpg, '
        '<root>/lfw (LFW pairs.txt format) and <root>/pose_pairs '
        '(path1 path2 label list).')
    parser.add_argument('out_root', help='output folder (new or empty)')
    parser.add_argument(
        '--preset',
        choices=sorted(PRESETS),
        default='demo',
        help='default sizes: "demo" (~1,800 images) or "tiny" (~100 '
        'images, for tests); the options below override it')
    parser.add_argument('--num-train-ids', type=int)
    parser.add_argument('--images-per-train-id', type=int)
    parser.add_argument(
        '--num-test-ids',
        type=int,
        help='verification identities (>= 2 x folds)')
    parser.add_argument('--images-per-test-id', type=int)
    parser.add_argument(
        '--pairs-per-fold',
        type=int,
        help='same-person pairs per fold (as many '
        'different-person pairs)')
    parser.add_argument('--num-folds', type=int)
    parser.add_argument(
        '--size', type=int, default=112, help='image side in pixels')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    kwargs = dict(PRESETS[args.preset])
    for key in kwargs:
        value = getattr(args, key)
        if value is not None:
            kwargs[key] = value
    try:
        counts = make_synthetic_faces(
            args.out_root, image_size=args.size, seed=args.seed, **kwargs)
    except FileExistsError as error:
        raise SystemExit(str(error))
    print(json.dumps(counts, indent=2))
    return counts


if __name__ == '__main__':
    main()
