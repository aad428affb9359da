"""Write a tiny COCO-format detection or person keypoint set.

Example::

    python tools/misc/make_synthetic_coco.py data/synthetic_coco_pose \\
        --task pose --num-train 64 --num-val 16 --seed 0

The folder has the COCO release layout (``annotations/``, ``train2017/``,
``val2017/``) and can be used as ``data_root`` of mmdet's or mmpose's
``CocoDataset`` (see ``configs/pose/`` and ``configs/detection/``).
"""
import argparse
import json

from mmattn.datasets.synthetic import make_coco_detection, make_coco_keypoints

GENERATORS = dict(det=make_coco_detection, pose=make_coco_keypoints)
DEFAULT_SIZES = dict(det=(160, 160), pose=(192, 192))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate drawn shapes with boxes (--task det) or drawn '
        'stick figures with the 17 COCO keypoints (--task pose) in the COCO '
        'layout: annotations/*_{train,val}2017.json, train2017/, val2017/.')
    parser.add_argument('out_root', help='output folder (new or empty)')
    parser.add_argument(
        '--task',
        choices=sorted(GENERATORS),
        required=True,
        help='"det": instances_*.json of circles, squares '
        'and triangles; "pose": person_keypoints_*.json')
    parser.add_argument(
        '--num-train', type=int, default=16, help='training images')
    parser.add_argument(
        '--num-val', type=int, default=8, help='validation images')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        metavar=('HEIGHT', 'WIDTH'),
        help='image size (default 160 160 for det, '
        '192 192 for pose)')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    size = tuple(args.size) if args.size else DEFAULT_SIZES[args.task]
    try:
        counts = GENERATORS[args.task](
            args.out_root,
            num_train=args.num_train,
            num_val=args.num_val,
            image_size=size,
            seed=args.seed)
    except (FileExistsError, ValueError) as error:
        raise SystemExit(str(error))
    print(json.dumps(counts, indent=2))
    return counts


if __name__ == '__main__':
    main()
