"""Tiny procedural data sets in the COCO annotation format.

Two generators write what mmdet's and mmpose's ``CocoDataset`` read, so the
stock detection and top-down keypoint pipelines run on a CPU in seconds:

* :func:`make_coco_detection` draws 1-4 filled shapes per image (a red-ish
  circle, a green-ish square, a blue-ish triangle; rotated, sized and shaded
  at random) and annotates each with its polygon, the polygon's exact
  bounding box and area.
* :func:`make_coco_keypoints` draws 1-2 stick figures per image with the 17
  COCO body keypoints at the joint centres. The person's left and right
  limbs have different colours (so a horizontal flip is learnable), the head
  turns so that the far ear is sometimes hidden (``v=0``), and a grey box
  sometimes covers a wrist or an ankle (``v=1``, labelled but occluded).

Both write the COCO release layout::

    <root>/annotations/instances_train2017.json        (detection)
    <root>/annotations/person_keypoints_val2017.json   (keypoints)
    <root>/train2017/000000000001.jpg
    <root>/val2017/000000000001.jpg

Backgrounds are textured but unsaturated while everything annotated is
strongly saturated, which makes the annotations checkable from the pixels.
Every image draws from its own ``numpy.random.Generator`` keyed by
``(seed, stream, split, index)`` and the JPEGs are written with a fixed
quality, so equal arguments give byte-identical files.
"""
import json
import math
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

#: Detection categories, in category-id order (ids start at 1).
COCO_DETECTION_CLASSES = ('circle', 'square', 'triangle')

#: The 17 COCO body keypoints, in annotation order.
COCO_KEYPOINT_NAMES = ('nose', 'left_eye', 'right_eye', 'left_ear',
                       'right_ear', 'left_shoulder', 'right_shoulder',
                       'left_elbow', 'right_elbow', 'left_wrist',
                       'right_wrist', 'left_hip', 'right_hip', 'left_knee',
                       'right_knee', 'left_ankle', 'right_ankle')

#: The COCO person skeleton (1-based keypoint indices, as in the release).
COCO_SKELETON = ((16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12),
                 (7, 13), (6, 7), (6, 8), (7, 9), (8, 10), (9, 11), (2, 3),
                 (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7))

_TRAIN_STREAM, _VAL_STREAM = 1, 2
_DETECTION_TASK, _KEYPOINT_TASK = 1, 2
_JPEG_QUALITY = 92
# cv2 draws polygons with fixed-point vertices: 4 fractional bits keep the
# drawn outline within 1/16 px of the annotated float polygon.
_SHIFT = 4
_MAX_SATURATION_BACKGROUND = 50  # HSV saturation (0..255) of the scene

# Mean hue (OpenCV's 0..179 scale) of each detection category.
_CATEGORY_HUES = dict(circle=0, square=60, triangle=115)

_NOSE, _LEYE, _REYE, _LEAR, _REAR = 0, 1, 2, 3, 4
_LSHO, _RSHO, _LELB, _RELB, _LWRI, _RWRI = 5, 6, 7, 8, 9, 10
_LHIP, _RHIP, _LKNE, _RKNE, _LANK, _RANK = 11, 12, 13, 14, 15, 16
# Limbs as (from, to) keypoint pairs; the side decides the colour.
_LEFT_LIMBS = ((_LSHO, _LELB), (_LELB, _LWRI), (_LHIP, _LKNE), (_LKNE, _LANK))
_RIGHT_LIMBS = ((_RSHO, _RELB), (_RELB, _RWRI), (_RHIP, _RKNE), (_RKNE, _RANK))


def _rng(seed: int, *index: int) -> np.random.Generator:
    return np.random.default_rng([seed, *index])


def _hsv_colour(hue: float, saturation: float,
                value: float) -> Tuple[float, float, float]:
    """A BGR colour (floats in [0, 255]) from OpenCV-scale HSV values."""
    hsv = np.array([[[hue % 180, saturation, value]]], dtype=np.uint8)
    return tuple(float(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])


def _fixed(points: np.ndarray) -> np.ndarray:
    """Float (N, 2) points as the int32 fixed-point array cv2 expects."""
    return np.round(np.asarray(points) * (1 << _SHIFT)).astype(np.int32)


def _render_background(rng: np.random.Generator,
                       image_hw: Tuple[int, int]) -> np.ndarray:
    """A textured, unsaturated scene: a tinted gradient, soft blobs, faint
    stripes and sensor noise.

    Returns:
        np.ndarray: ``uint8`` BGR image of shape ``(H, W, 3)``.
    """
    h, w = image_hw
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    ramp = (xs * math.cos(angle) + ys * math.sin(angle)) / max(h, w)
    grey = rng.uniform(80, 170) + rng.uniform(20, 50) * ramp
    img = np.repeat(grey[..., None], 3, axis=2)
    img += rng.uniform(-12, 12, 3).astype(np.float32)  # colour cast
    for _ in range(rng.integers(3, 7)):  # soft blobs of light and shade
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        radius = rng.uniform(0.1, 0.35) * max(h, w)
        blob = np.exp(-((xs - cx)**2 + (ys - cy)**2) / (2 * radius**2))
        img += rng.uniform(-30, 30) * blob[..., None]
    period = rng.uniform(6, 18)
    direction = rng.uniform(0, 2 * math.pi)
    phase = (xs * math.cos(direction) + ys * math.sin(direction)) / period
    img += rng.uniform(3, 8) * np.sin(2 * math.pi * phase)[..., None]
    img += rng.normal(0, 4, img.shape).astype(np.float32)
    # No near-black: JPEG noise on dark pixels reads as strong saturation.
    img = np.clip(img, 60, 235).astype(np.uint8)
    # Pull the chroma in so that only annotated things look saturated.
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
    hsv[..., 1] = np.minimum(hsv[..., 1], _MAX_SATURATION_BACKGROUND)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


# --------------------------------------------------------------- detection


def _shape_polygon(category: str, centre: Tuple[float, float], size: float,
                   angle: float) -> np.ndarray:
    """The outline of one shape as float ``(N, 2)`` xy vertices.

    ``size`` is the circle's diameter, the square's side and the
    equilateral triangle's side.
    """
    if category == 'circle':
        t = np.linspace(0, 2 * math.pi, 32, endpoint=False)
        unit = np.stack([np.cos(t), np.sin(t)], axis=1) * (size / 2)
    elif category == 'square':
        unit = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1)]) * (size / 2)
    else:  # triangle, centred on its centroid
        t = np.array([-90, 30, 150]) * math.pi / 180
        unit = np.stack([np.cos(t), np.sin(t)], axis=1) * (size / math.sqrt(3))
    rotation = np.array([[math.cos(angle), -math.sin(angle)],
                         [math.sin(angle), math.cos(angle)]])
    return unit @ rotation.T + np.asarray(centre)


def _polygon_area(points: np.ndarray) -> float:
    """Shoelace area of a simple polygon given as ``(N, 2)`` xy vertices."""
    x, y = points[:, 0], points[:, 1]
    cross = np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))
    return float(abs(cross) / 2)


def _boxes_apart(box: Sequence[float], others: List[Sequence[float]],
                 gap: float) -> bool:
    """Whether xyxy ``box`` keeps ``gap`` pixels from every box in others."""
    return all(box[0] > o[2] + gap or o[0] > box[2] + gap or box[1] > o[3] +
               gap or o[1] > box[3] + gap for o in others)


def render_detection_image(
        rng: np.random.Generator,
        image_hw: Tuple[int, int]) -> Tuple[np.ndarray, List[dict]]:
    """Draw one detection image.

    Objects never touch (their boxes keep a 3 px gap), so every box holds
    exactly one shape and the annotations are the complete truth.

    Args:
        rng (np.random.Generator): Source of all randomness of the image.
        image_hw (tuple[int, int]): ``(height, width)`` of the image.

    Returns:
        tuple[np.ndarray, list[dict]]: The ``uint8`` BGR image of shape
        ``(H, W, 3)`` and one dict per object with ``category`` (a name of
        :data:`COCO_DETECTION_CLASSES`), ``polygon`` (float ``(N, 2)`` xy)
        and ``bbox`` (xyxy floats).
    """
    h, w = image_hw
    img = _render_background(rng, image_hw)
    objects = []
    boxes = []
    for _ in range(int(rng.integers(1, 5))):
        category = COCO_DETECTION_CLASSES[rng.integers(
            len(COCO_DETECTION_CLASSES))]
        for _attempt in range(30):  # rejection-sample a free spot
            size = rng.uniform(0.15, 0.4) * min(h, w)
            polygon = _shape_polygon(category,
                                     (rng.uniform(0, w), rng.uniform(0, h)),
                                     size, rng.uniform(0, 2 * math.pi))
            box = (*polygon.min(axis=0), *polygon.max(axis=0))
            inside = (
                box[0] >= 1 and box[1] >= 1 and box[2] <= w - 2
                and box[3] <= h - 2)
            if inside and _boxes_apart(box, boxes, 3):
                break
        else:
            continue
        hue = _CATEGORY_HUES[category] + rng.uniform(-8, 8)
        colour = _hsv_colour(hue, rng.uniform(170, 255), rng.uniform(150, 250))
        cv2.fillPoly(img, [_fixed(polygon)], colour, cv2.LINE_AA, _SHIFT)
        boxes.append(box)
        objects.append(dict(category=category, polygon=polygon, bbox=box))
    return img, objects


def _detection_annotations(objects: List[dict], image_id: int,
                           first_id: int) -> List[dict]:
    anns = []
    for k, obj in enumerate(objects):
        x0, y0, x1, y1 = (round(float(v), 2) for v in obj['bbox'])
        anns.append(
            dict(
                id=first_id + k,
                image_id=image_id,
                category_id=COCO_DETECTION_CLASSES.index(obj['category']) + 1,
                segmentation=[[
                    round(float(v), 2) for v in obj['polygon'].reshape(-1)
                ]],
                area=round(_polygon_area(obj['polygon']), 2),
                bbox=[x0, y0, round(x1 - x0, 2),
                      round(y1 - y0, 2)],
                iscrowd=0))
    return anns


# --------------------------------------------------------------- keypoints

_HEAD_RADIUS = 0.075  # of the figure's unit height
_LIMB_WIDTH = 0.05
_FIGURE_PARTS = ('left', 'right', 'torso', 'head', 'eye', 'nose')


def _two_segments(root: np.ndarray, angle: float, bend: float,
                  lengths: Tuple[float, float],
                  outward: int) -> Tuple[np.ndarray, np.ndarray]:
    """The middle joint and the tip of a limb hanging from ``root``.

    Angles are in radians from straight down, positive away from the body's
    centre line (``outward`` is +1 for the image-right side, -1 otherwise).
    """
    d1 = np.array([outward * math.sin(angle), math.cos(angle)])
    joint = root + lengths[0] * d1
    d2 = np.array([outward * math.sin(angle + bend), math.cos(angle + bend)])
    return joint, joint + lengths[1] * d2


def _figure_pose(rng: np.random.Generator) -> Tuple[np.ndarray, float]:
    """Keypoints of a figure about 1 unit tall facing the camera.

    The person's left is the image's right, as in COCO.

    Returns:
        tuple[np.ndarray, float]: ``(17, 2)`` xy keypoints with the head
        top at y=0, and the head turn in ``[-1, 1]`` (positive: the face
        moves to the image's right, hiding the left ear).
    """
    r = _HEAD_RADIUS
    kpts = np.zeros((17, 2))
    yaw = float(rng.uniform(-1, 1))
    head = np.array([rng.normal(0, 0.01), r])
    face = head + (0.45 * yaw * r, 0)
    kpts[_NOSE] = face + (0, 0.25 * r)
    kpts[_LEYE] = face + (0.38 * r, -0.2 * r)
    kpts[_REYE] = face + (-0.38 * r, -0.2 * r)
    kpts[_LEAR] = head + (0.95 * r, 0)
    kpts[_REAR] = head + (-0.95 * r, 0)
    neck_y = 2 * r + 0.04
    half_shoulder = rng.uniform(0.1, 0.13)
    kpts[_LSHO] = (half_shoulder, neck_y)
    kpts[_RSHO] = (-half_shoulder, neck_y)
    hip_y = neck_y + rng.uniform(0.3, 0.34)
    half_hip = rng.uniform(0.06, 0.08)
    kpts[_LHIP] = (half_hip, hip_y)
    kpts[_RHIP] = (-half_hip, hip_y)
    for side, (sho, elb, wri) in ((1, (_LSHO, _LELB, _LWRI)),
                                  (-1, (_RSHO, _RELB, _RWRI))):
        kpts[elb], kpts[wri] = _two_segments(kpts[sho], rng.uniform(-0.3, 2.4),
                                             rng.uniform(-1.5, 1.5),
                                             (0.17, 0.15), side)
    for side, (hip, kne, ank) in ((1, (_LHIP, _LKNE, _LANK)),
                                  (-1, (_RHIP, _RKNE, _RANK))):
        kpts[kne], kpts[ank] = _two_segments(kpts[hip],
                                             rng.uniform(-0.1, 0.45),
                                             rng.uniform(-0.5, 0.3),
                                             (0.25, 0.24), side)
    return kpts, yaw


def _draw_figure(layer: np.ndarray, kpts: np.ndarray,
                 visible_ears: Tuple[bool, bool], scale: float,
                 colours: Dict[str, object], line_type: int) -> None:
    """Draw a figure whose keypoints are already in pixels.

    Called twice: into the image with the figure's colours (anti-aliased)
    and into a binary mask with every colour 1 (``cv2.LINE_8``).
    """
    limb = max(2, int(round(_LIMB_WIDTH * scale)))
    sub = 1 << _SHIFT
    head = (kpts[_LEAR] + kpts[_REAR]) / 2
    torso = _fixed(kpts[[_LSHO, _RSHO, _RHIP, _LHIP]])
    cv2.fillPoly(layer, [torso], colours['torso'], line_type, _SHIFT)
    cv2.polylines(layer, [torso], True, colours['torso'], limb, line_type,
                  _SHIFT)
    neck = (kpts[_LSHO] + kpts[_RSHO]) / 2
    cv2.line(layer, tuple(_fixed(head)), tuple(_fixed(neck)), colours['torso'],
             limb, line_type, _SHIFT)
    # Limbs after the torso, so a hand in front of the body stays visible.
    for limbs, colour in ((_LEFT_LIMBS, colours['left']), (_RIGHT_LIMBS,
                                                           colours['right'])):
        for a, b in limbs:
            cv2.line(layer, tuple(_fixed(kpts[a])), tuple(_fixed(kpts[b])),
                     colour, limb, line_type, _SHIFT)
    head_r = _HEAD_RADIUS * scale
    cv2.circle(layer, tuple(_fixed(head)), int(round(head_r * sub)),
               colours['head'], -1, line_type, _SHIFT)
    for ear, shown in zip((_LEAR, _REAR), visible_ears):
        if shown:
            cv2.circle(layer, tuple(_fixed(kpts[ear])),
                       int(round(0.3 * head_r * sub)), colours['head'], -1,
                       line_type, _SHIFT)
    dot = int(round(max(1.0, 0.18 * head_r) * sub))
    for part, index in (('eye', _LEYE), ('eye', _REYE), ('nose', _NOSE)):
        cv2.circle(layer, tuple(_fixed(kpts[index])), dot, colours[part], -1,
                   line_type, _SHIFT)


def _figure_colours(rng: np.random.Generator) -> Dict[str, tuple]:
    """Saturated colours of one figure; left limbs orange to yellow, right
    limbs cyan to blue, so the two sides never look alike."""
    return dict(
        left=_hsv_colour(rng.uniform(12, 35), rng.uniform(190, 255), 235),
        right=_hsv_colour(rng.uniform(85, 105), rng.uniform(190, 255), 225),
        torso=_hsv_colour(
            rng.uniform(135, 165), rng.uniform(160, 255),
            rng.uniform(150, 230)),
        head=_hsv_colour(rng.uniform(0, 8), rng.uniform(150, 200), 235),
        eye=_hsv_colour(120, 255, 150),
        nose=_hsv_colour(60, 255, 160))


def _occluder(rng: np.random.Generator, hw: Tuple[int, int]) -> np.ndarray:
    """An unsaturated, noisy grey patch of size ``hw``."""
    patch = np.full((*hw, 3), rng.uniform(60, 200), np.float32)
    patch += rng.normal(0, 6, patch.shape).astype(np.float32)
    return np.clip(patch, 0, 255).astype(np.uint8)


def render_keypoint_image(
        rng: np.random.Generator,
        image_hw: Tuple[int, int]) -> Tuple[np.ndarray, List[dict]]:
    """Draw one image with 1-2 stick figures side by side.

    Args:
        rng (np.random.Generator): Source of all randomness of the image.
        image_hw (tuple[int, int]): ``(height, width)`` of the image.

    Returns:
        tuple[np.ndarray, list[dict]]: The ``uint8`` BGR image of shape
        ``(H, W, 3)`` and one dict per figure with ``keypoints`` (float
        ``(17, 3)``: x, y, COCO visibility; ``0, 0, 0`` when unlabelled) and
        ``mask`` (``uint8`` ``(H, W)`` silhouette, occluded parts included).
    """
    h, w = image_hw
    img = _render_background(rng, image_hw)
    num_figures = int(rng.integers(1, 3))
    slot_w = w / num_figures
    figures = []
    for slot in range(num_figures):
        kpts, yaw = _figure_pose(rng)
        # The silhouette's extent around the joints: limbs and head.
        pad = _LIMB_WIDTH / 2 + 0.02
        lo = kpts.min(axis=0) - pad
        lo[1] = min(lo[1], -0.01)  # the head's top is at y=0
        hi = kpts.max(axis=0) + pad
        extent = hi - lo
        scale = min(
            rng.uniform(0.55, 0.92) * (h - 4) / extent[1],
            (slot_w - 4) / extent[0])
        size = extent * scale
        x0 = slot * slot_w + 2 + rng.uniform(0, max(slot_w - 4 - size[0], 0))
        y0 = 2 + rng.uniform(0, max(h - 4 - size[1], 0))
        kpts = (kpts - lo) * scale + (x0, y0)
        ears = (yaw < 0.6, yaw > -0.6)
        mask = np.zeros(image_hw, np.uint8)
        _draw_figure(mask, kpts, ears, scale, dict.fromkeys(_FIGURE_PARTS, 1),
                     cv2.LINE_8)
        _draw_figure(img, kpts, ears, scale, _figure_colours(rng), cv2.LINE_AA)
        visibility = np.full(17, 2.0)
        visibility[[_LEAR, _REAR]] = np.where(ears, 2.0, 0.0)
        if rng.uniform() < 0.35:
            # A grey box over one wrist or ankle, kept inside the slot.
            target = kpts[rng.choice([_LWRI, _RWRI, _LANK, _RANK])]
            half = max(4.0, rng.uniform(0.05, 0.09) * scale)
            box = np.concatenate([target - half, target + half])
            # Grow the box until no keypoint lies within 2 px of its edge,
            # so every keypoint is clearly either covered or not.
            for _ in range(3):
                near = kpts[((kpts > box[:2] - 2) &
                             (kpts < box[2:] + 2)).all(axis=1)]
                box = np.concatenate([
                    np.minimum(box[:2],
                               near.min(axis=0) - 2.5),
                    np.maximum(box[2:],
                               near.max(axis=0) + 2.5)
                ])
            box = np.concatenate([
                np.floor(np.maximum(box[:2], (slot * slot_w, 0))),
                np.ceil(np.minimum(box[2:], ((slot + 1) * slot_w, h)))
            ]).astype(int)
            img[box[1]:box[3],
                box[0]:box[2]] = _occluder(rng,
                                           (box[3] - box[1], box[2] - box[0]))
            covered = ((kpts >= box[:2]) & (kpts < box[2:])).all(axis=1)
            visibility[covered & (visibility > 0)] = 1.0
        keypoints = np.concatenate([kpts, visibility[:, None]], axis=1)
        keypoints[visibility == 0] = 0
        figures.append(dict(keypoints=keypoints, mask=mask))
    return img, figures


def _keypoint_annotations(figures: List[dict], image_id: int,
                          first_id: int) -> List[dict]:
    anns = []
    for k, figure in enumerate(figures):
        mask = figure['mask']
        ys, xs = np.nonzero(mask)
        x0, y0 = int(xs.min()), int(ys.min())
        keypoints = figure['keypoints']
        anns.append(
            dict(
                id=first_id + k,
                image_id=image_id,
                category_id=1,
                area=float(mask.sum()),
                bbox=[
                    float(x0),
                    float(y0),
                    float(xs.max() + 1 - x0),
                    float(ys.max() + 1 - y0)
                ],
                iscrowd=0,
                keypoints=[round(float(v), 2) for v in keypoints.reshape(-1)],
                num_keypoints=int((keypoints[:, 2] > 0).sum())))
    return anns


# --------------------------------------------------------------- writers


def _check_int(func: str, name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or value < minimum:
        raise ValueError(f'{func}: {name} must be an int >= {minimum}, '
                         f'got {value!r}')
    return int(value)


def _check_image_size(func: str, image_size, minimum: int) -> Tuple[int, int]:
    if (not isinstance(image_size, (tuple, list)) or len(image_size) != 2
            or any(
                isinstance(v, bool) or not isinstance(v, (int, np.integer))
                or v < minimum for v in image_size)):
        raise ValueError(
            f'{func}: image_size must be (height, width), two ints >= '
            f'{minimum}, got {image_size!r}')
    return int(image_size[0]), int(image_size[1])


def _check_root(func: str, root: str) -> None:
    if osp.exists(root) and (not osp.isdir(root) or os.listdir(root)):
        raise FileExistsError(
            f'{func}: {root!r} exists and is not an empty folder; choose a '
            'new root (nothing is overwritten)')


def _write_split(root: str, split: str, num_images: int, seed: int,
                 stream: int, task: int, image_hw: Tuple[int, int], render,
                 annotate, categories: List[dict], ann_name: str,
                 description: str) -> Tuple[int, int]:
    """Render, write and annotate one split; returns (images, objects)."""
    image_dir = osp.join(root, f'{split}2017')
    os.makedirs(image_dir, exist_ok=True)
    images, annotations = [], []
    for i in range(num_images):
        img, objects = render(_rng(seed, task, stream, i), image_hw)
        image_id = i + 1
        file_name = f'{image_id:012d}.jpg'
        path = osp.join(image_dir, file_name)
        if not cv2.imwrite(path, img,
                           [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY]):
            raise OSError(f'could not write {path!r}')
        images.append(
            dict(
                id=image_id,
                file_name=file_name,
                height=image_hw[0],
                width=image_hw[1],
                license=1))
        annotations += annotate(objects, image_id, len(annotations) + 1)
    coco = dict(
        info=dict(
            description=description,
            version='1.0',
            year=2017,
            contributor='mmattn',
            date_created='2017/01/01'),
        licenses=[dict(id=1, name='procedural data, no restrictions', url='')],
        images=images,
        annotations=annotations,
        categories=categories)
    ann_dir = osp.join(root, 'annotations')
    os.makedirs(ann_dir, exist_ok=True)
    with open(osp.join(ann_dir, f'{ann_name}_{split}2017.json'), 'w') as f:
        json.dump(coco, f)
    return len(images), len(annotations)


def _check_set_arguments(func: str, root: str, num_train: int, num_val: int,
                         image_size: Tuple[int, int], seed: int):
    """The checked ``(num_train, num_val, (h, w), seed)`` of a generator;
    ``root`` must be missing or empty."""
    num_train = _check_int(func, 'num_train', num_train, 1)
    num_val = _check_int(func, 'num_val', num_val, 1)
    image_hw = _check_image_size(func, image_size, 64)
    seed = _check_int(func, 'seed', seed, 0)
    _check_root(func, root)
    return num_train, num_val, image_hw, seed


def make_coco_detection(root: str,
                        num_train: int = 16,
                        num_val: int = 8,
                        image_size: Tuple[int, int] = (160, 160),
                        seed: int = 0) -> Dict[str, int]:
    """Write a tiny COCO-format detection set of drawn shapes.

    Files: ``<root>/annotations/instances_{train,val}2017.json`` and
    ``<root>/{train,val}2017/<12-digit id>.jpg``. Categories are
    :data:`COCO_DETECTION_CLASSES` with ids 1, 2, 3; every annotation has
    the shape's polygon ``segmentation``, its exact ``bbox`` ``[x, y, w, h]``
    and ``area`` and ``iscrowd=0``. Use the classes as the dataset's
    ``metainfo=dict(classes=COCO_DETECTION_CLASSES)`` in an mmdet config.

    Args:
        root (str): Output folder; must be missing or empty.
        num_train (int): Training images (>= 1).
        num_val (int): Validation images (>= 1).
        image_size (tuple[int, int]): ``(height, width)``, each >= 64.
        seed (int): Seed of everything; equal seeds give equal bytes.

    Returns:
        dict[str, int]: ``train_images``, ``train_objects``,
        ``val_images``, ``val_objects``.

    Raises:
        ValueError: An argument is out of range.
        FileExistsError: ``root`` exists and is not empty.
    """
    num_train, num_val, image_hw, seed = _check_set_arguments(
        'make_coco_detection', root, num_train, num_val, image_size, seed)
    categories = [
        dict(id=k + 1, name=name, supercategory='shape')
        for k, name in enumerate(COCO_DETECTION_CLASSES)
    ]
    counts = {}
    for split, num, stream in (('train', num_train, _TRAIN_STREAM),
                               ('val', num_val, _VAL_STREAM)):
        counts[f'{split}_images'], counts[f'{split}_objects'] = _write_split(
            root, split, num, seed, stream, _DETECTION_TASK, image_hw,
            render_detection_image, _detection_annotations, categories,
            'instances', 'mmattn synthetic shapes (COCO detection format)')
    return counts


def make_coco_keypoints(root: str,
                        num_train: int = 16,
                        num_val: int = 8,
                        image_size: Tuple[int, int] = (192, 192),
                        seed: int = 0) -> Dict[str, int]:
    """Write a tiny COCO-format person keypoint set of drawn stick figures.

    Files: ``<root>/annotations/person_keypoints_{train,val}2017.json`` and
    ``<root>/{train,val}2017/<12-digit id>.jpg``. One category (id 1,
    ``'person'``, with :data:`COCO_KEYPOINT_NAMES` and
    :data:`COCO_SKELETON`); every annotation has ``keypoints``
    ``[x, y, v] * 17`` (``v=2`` visible, ``v=1`` under an occluding box,
    ``0, 0, 0`` for a hidden ear), ``num_keypoints``, the figure's
    ``bbox`` (tight around its whole silhouette, occluded parts included),
    ``area`` (silhouette pixels; the object scale of the OKS) and
    ``iscrowd=0`` -- what mmpose's top-down ``CocoDataset`` and
    ``CocoMetric`` read with ground-truth boxes. There is no
    ``segmentation``: a stick figure's thin limbs make polygons a poor
    description and keypoint evaluation does not use it.

    Args:
        root (str): Output folder; must be missing or empty.
        num_train (int): Training images (>= 1).
        num_val (int): Validation images (>= 1).
        image_size (tuple[int, int]): ``(height, width)``, each >= 64.
        seed (int): Seed of everything; equal seeds give equal bytes.

    Returns:
        dict[str, int]: ``train_images``, ``train_persons``,
        ``val_images``, ``val_persons``.

    Raises:
        ValueError: An argument is out of range.
        FileExistsError: ``root`` exists and is not empty.
    """
    num_train, num_val, image_hw, seed = _check_set_arguments(
        'make_coco_keypoints', root, num_train, num_val, image_size, seed)
    categories = [
        dict(
            id=1,
            name='person',
            supercategory='person',
            keypoints=list(COCO_KEYPOINT_NAMES),
            skeleton=[list(pair) for pair in COCO_SKELETON])
    ]
    counts = {}
    for split, num, stream in (('train', num_train, _TRAIN_STREAM),
                               ('val', num_val, _VAL_STREAM)):
        counts[f'{split}_images'], counts[f'{split}_persons'] = _write_split(
            root, split, num, seed, stream, _KEYPOINT_TASK, image_hw,
            render_keypoint_image, _keypoint_annotations, categories,
            'person_keypoints',
            'mmattn synthetic stick figures (COCO keypoint format)')
    return counts
