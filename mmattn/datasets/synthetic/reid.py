"""A procedural person Re-ID data set in the Market-1501 release layout.

The generator draws cartoon pedestrians whose identity lives in their clothing
(colours from a palette plus a per-identity shade, a stripe / check / logo
pattern on the upper garment, trousers / shorts / skirt), their build (height,
width, head size), hair and accessories (hat, backpack, shoulder bag). Each
camera adds its own nuisances: a textured background, illumination (gain,
gamma, colour cast, side light), scale and framing, blur, sensor noise and the
chance of a partial occlusion; every image adds a walking pose, a view (front,
back, side), a mirror flip and a small affine jitter. Identity is therefore
learnable by a small CNN while simple colour statistics stay imperfect.

The files land exactly where a Market-1501 parser expects them::

    <root>/bounding_box_train/0002_c1s1_000451_03.jpg  training identities
    <root>/query/0005_c2s3_104180_01.jpg                one per test id, camera
    <root>/bounding_box_test/0005_c4s2_044920_02.jpg    more of the test ids
    <root>/bounding_box_test/0000_c3s1_000735_05.jpg    distractors (id 0000)
    <root>/bounding_box_test/-1_c1s1_000212_00.jpg      junk (id -1)

Everything is a pure function of ``seed``: each camera, identity and image
draws from its own ``numpy.random.Generator`` keyed by
``(seed, stream, index)`` and the JPEGs are written with a fixed quality, so
the same arguments give byte-identical files.
"""
import math
import os
import os.path as osp
import re
import shutil
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

#: File name of a Market-1501 image: person id (4 digits, or -1 for junk),
#: camera, sequence, 6-digit frame and 2-digit box index.
MARKET1501_FILENAME = re.compile(
    r'^(?P<pid>-1|\d{4})_c(?P<cam>\d)s(?P<seq>\d)_(?P<frame>\d{6})_'
    r'(?P<box>\d{2})\.jpg$')

#: The three image folders of the Market-1501 release.
SPLIT_DIRS = dict(
    train='bounding_box_train', query='query', gallery='bounding_box_test')

#: Arguments of a ~2,100 image set that a 2-core CPU trains on in minutes.
DEMO_PRESET = dict(
    num_train_ids=100,
    num_test_ids=60,
    num_cameras=6,
    cameras_per_id=(2, 4),
    images_per_id_per_camera=4,
    queries_per_id_per_camera=1,
    num_distractors=100,
    num_junk=20)

#: Arguments of a ~100 image set for unit tests.
TINY_PRESET = dict(
    num_train_ids=8,
    num_test_ids=6,
    num_cameras=4,
    cameras_per_id=(2, 3),
    images_per_id_per_camera=2,
    queries_per_id_per_camera=1,
    num_distractors=4,
    num_junk=2)

# Random streams: every entity draws from default_rng((seed, stream, index)),
# so adding images of one kind never changes the images of another.
_CAMERA_STREAM, _IDENTITY_STREAM, _LAYOUT_STREAM = 1, 2, 3
_IMAGE_STREAM, _DISTRACTOR_STREAM, _JUNK_STREAM = 4, 5, 6

_JPEG_QUALITY = 92
# Drawing at twice the output size and area-resizing gives anti-aliased edges
# at the cost of ~2x time, which the small images easily afford.
_SUPERSAMPLE = 2
_NUM_SEQUENCES = 6  # Market-1501 has sequences s1..s6 per camera.

# Clothing colours (BGR). Several pairs are deliberately close (navy / blue,
# red / dark red, beige / white ...) so colour alone is not a perfect key.
_CLOTH_PALETTE = np.array(
    [
        (25, 25, 25),  # black
        (235, 235, 235),  # white
        (128, 128, 128),  # grey
        (70, 70, 70),  # charcoal
        (40, 40, 200),  # red
        (30, 20, 120),  # dark red
        (200, 90, 30),  # blue
        (90, 30, 20),  # navy
        (230, 180, 120),  # light blue
        (60, 160, 40),  # green
        (30, 80, 20),  # dark green
        (40, 210, 230),  # yellow
        (30, 130, 240),  # orange
        (140, 40, 120),  # purple
        (180, 130, 240),  # pink
        (40, 70, 120),  # brown
        (150, 190, 210),  # beige
        (150, 140, 20),  # teal
    ],
    dtype=np.float32)
_SKIN_TONES = np.array([(190, 210, 240), (150, 180, 225), (110, 150, 200),
                        (70, 100, 150), (50, 70, 110)],
                       dtype=np.float32)
_HAIR_COLOURS = np.array([(20, 20, 20), (30, 45, 70), (40, 80, 130),
                          (100, 170, 210), (150, 150, 150), (30, 50, 140)],
                         dtype=np.float32)

_UPPER_PATTERNS = ('plain', 'hstripes', 'vstripes', 'checks', 'logo')
_LOWER_STYLES = ('trousers', 'shorts', 'skirt')
_BAGS = ('none', 'backpack', 'shoulder')
_VIEWS = ('front', 'back', 'side')
_BACKGROUNDS = ('corridor', 'street', 'foliage', 'plaza')


def _shade(rng: np.random.Generator, palette: np.ndarray,
           spread: float) -> Tuple[float, float, float]:
    """A palette colour moved by a per-identity random offset."""
    base = palette[rng.integers(len(palette))]
    colour = np.clip(base + rng.normal(0, spread, 3), 0, 255)
    return tuple(float(c) for c in colour)


def _muted(rng: np.random.Generator) -> Tuple[float, float, float]:
    """A scene colour: a shaded palette colour mixed with a random grey."""
    colour = np.array(_shade(rng, _CLOTH_PALETTE, 30))
    grey = rng.uniform(60, 190)
    mix = rng.uniform(0.15, 0.45)
    return tuple(float(c) for c in mix * colour + (1 - mix) * grey)


@dataclass(frozen=True)
class PersonAppearance:
    """What makes one identity recognisable; fixed across all its images.

    Colours are BGR floats in ``[0, 255]``; sizes are fractions of the
    person's height.
    """
    upper: Tuple[float, float, float]
    upper_second: Tuple[float, float, float]
    upper_pattern: str
    pattern_period: float
    long_sleeves: bool
    lower: Tuple[float, float, float]
    lower_style: str
    skin: Tuple[float, float, float]
    hair: Tuple[float, float, float]
    long_hair: bool
    shoes: Tuple[float, float, float]
    hat: Optional[Tuple[float, float, float]]
    bag: str
    bag_colour: Tuple[float, float, float]
    height: float
    build: float
    head_scale: float
    torso_end: float

    @classmethod
    def sample(cls, rng: np.random.Generator) -> 'PersonAppearance':
        upper = _shade(rng, _CLOTH_PALETTE, 14)
        upper_second = _shade(rng, _CLOTH_PALETTE, 14)
        # A pattern drawn in (almost) its own colour would be invisible.
        while np.abs(np.subtract(upper, upper_second)).sum() < 150:
            upper_second = _shade(rng, _CLOTH_PALETTE, 14)
        return cls(
            upper=upper,
            upper_second=upper_second,
            upper_pattern=_UPPER_PATTERNS[rng.choice(
                len(_UPPER_PATTERNS), p=(0.4, 0.15, 0.15, 0.15, 0.15))],
            pattern_period=float(rng.uniform(0.035, 0.07)),
            long_sleeves=bool(rng.random() < 0.6),
            lower=_shade(rng, _CLOTH_PALETTE, 14),
            lower_style=_LOWER_STYLES[rng.choice(3, p=(0.6, 0.25, 0.15))],
            skin=_shade(rng, _SKIN_TONES, 8),
            hair=_shade(rng, _HAIR_COLOURS, 10),
            long_hair=bool(rng.random() < 0.35),
            shoes=_shade(rng, _CLOTH_PALETTE[[0, 1, 2, 3, 15, 16]], 10),
            hat=(_shade(rng, _CLOTH_PALETTE, 14)
                 if rng.random() < 0.2 else None),
            bag=_BAGS[rng.choice(3, p=(0.5, 0.3, 0.2))],
            bag_colour=_shade(rng, _CLOTH_PALETTE, 14),
            height=float(rng.uniform(0.88, 1.0)),
            build=float(rng.uniform(0.8, 1.25)),
            head_scale=float(rng.uniform(0.85, 1.15)),
            torso_end=float(rng.uniform(0.5, 0.56)))


@dataclass(frozen=True)
class CameraStyle:
    """The nuisances one camera puts on every image it takes.

    Attributes:
        background (np.ndarray): A BGR panorama of shape
            ``(height + height // 8, 3 * width, 3)`` that each image crops.
        gain (np.ndarray): Per-channel multiplicative colour cast, ``(3,)``.
        gamma (float): Tone curve exponent.
        side_light (float): Brightness difference from one image side to
            the other (-0.3..0.3).
        scale (float): Person height as a fraction of the image height.
        occlusion_prob (float): Chance that an image has an occluder.
        blur (float): Gaussian blur sigma in output pixels (0 = sharp).
        noise_field (np.ndarray): Zero-mean Gaussian sensor noise (std 2..8
            grey levels) of the background's shape, cropped per image.
    """
    background: np.ndarray
    gain: np.ndarray
    gamma: float
    side_light: float
    scale: float
    occlusion_prob: float
    blur: float
    noise_field: np.ndarray

    @classmethod
    def sample(cls, rng: np.random.Generator,
               image_hw: Tuple[int, int]) -> 'CameraStyle':
        brightness = rng.uniform(0.8, 1.15)
        background = _render_background(rng, image_hw)
        return cls(
            background=background,
            gain=(brightness * rng.uniform(0.88, 1.12, 3)).astype(np.float32),
            gamma=float(rng.uniform(0.8, 1.25)),
            side_light=float(rng.uniform(-0.3, 0.3)),
            scale=float(rng.uniform(0.78, 0.92)),
            occlusion_prob=float(rng.uniform(0.05, 0.3)),
            blur=float(rng.choice([0.0, 0.0, 0.5, 0.9])),
            noise_field=rng.standard_normal(
                background.shape, dtype=np.float32) *
            np.float32(rng.uniform(2, 8)))


def _render_background(rng: np.random.Generator,
                       image_hw: Tuple[int, int]) -> np.ndarray:
    """A textured camera scene wider than one image, so crops vary."""
    h, w = image_hw
    h, w = h + h // 8, 3 * w
    kind = _BACKGROUNDS[rng.integers(len(_BACKGROUNDS))]
    # Scenes are duller than clothes: palette colours pulled towards grey.
    top, bottom, accent = (_muted(rng) for _ in range(3))
    img = np.empty((h, w, 3), np.float32)
    horizon = int(h * rng.uniform(0.55, 0.8))
    img[:horizon] = top
    img[horizon:] = bottom
    if kind == 'corridor':
        # Pillars / doors on a wall and floor tiles running to the horizon.
        step = int(rng.uniform(0.3, 0.6) * w / 3)
        for x in range(int(rng.integers(step)), w, step):
            cv2.rectangle(img, (x, int(h * 0.05)), (x + step // 3, horizon),
                          accent, -1)
        for y in range(horizon, h, max(2, h // 20)):
            cv2.line(img, (0, y), (w, y), tuple(0.8 * c for c in bottom), 1)
    elif kind == 'street':
        # A facade with a window grid above a paved sidewalk.
        cell = max(8, int(rng.uniform(0.08, 0.16) * h))
        for y in range(cell // 2, horizon - cell // 2, cell):
            for x in range(cell // 2, w, cell):
                cv2.rectangle(img, (x, y), (x + cell // 2, y + cell // 2),
                              accent, -1)
        for x in range(0, w, cell):
            cv2.line(img, (x, horizon), (x - cell, h), (0, 0, 0), 1)
    elif kind == 'foliage':
        # Bushes: many overlapping blobs of related greens.
        for _ in range(int(w * h / 400)):
            green = np.clip(np.array(accent) + rng.normal(0, 25, 3), 0, 255)
            centre = (int(rng.integers(w)), int(rng.integers(horizon + 1)))
            cv2.circle(img, centre, int(rng.integers(3, max(4, h // 10))),
                       tuple(float(c) for c in green), -1)
    else:
        # Open plaza: a smooth vertical gradient with scattered objects.
        ramp = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        img[:] = (1 - ramp) * np.array(top) + ramp * np.array(bottom)
        for _ in range(int(rng.integers(3, 9))):
            x, y = int(rng.integers(w)), int(rng.integers(h))
            cv2.ellipse(
                img, (x, y),
                (int(rng.integers(4, w // 8)), int(rng.integers(3, h // 10))),
                0, 0, 360, _muted(rng), -1)
    img += rng.standard_normal(img.shape, dtype=np.float32) * 6
    return np.clip(img, 0, 255)


def _pt(x: float, y: float) -> Tuple[int, int]:
    return int(round(x)), int(round(y))


class _Layer:
    """A person being drawn: a BGR image plus its coverage mask."""

    def __init__(self, hw: Tuple[int, int]):
        self.img = np.zeros((*hw, 3), np.float32)
        self.mask = np.zeros(hw, np.uint8)

    def line(self, p, q, colour, thickness):
        thickness = max(1, int(round(thickness)))
        cv2.line(self.img, _pt(*p), _pt(*q), colour, thickness, cv2.LINE_AA)
        cv2.line(self.mask, _pt(*p), _pt(*q), 255, thickness, cv2.LINE_AA)

    def poly(self, points, colour):
        pts = np.round(np.array(points)).astype(np.int32)
        cv2.fillPoly(self.img, [pts], colour, cv2.LINE_AA)
        cv2.fillPoly(self.mask, [pts], 255, cv2.LINE_AA)

    def ellipse(self, centre, axes, colour, start=0, end=360):
        axes = (max(1, int(round(axes[0]))), max(1, int(round(axes[1]))))
        cv2.ellipse(self.img, _pt(*centre), axes, 0, start, end, colour, -1,
                    cv2.LINE_AA)
        cv2.ellipse(self.mask, _pt(*centre), axes, 0, start, end, 255, -1,
                    cv2.LINE_AA)

    def rect(self, p, q, colour):
        self.poly([p, (q[0], p[1]), q, (p[0], q[1])], colour)


def _draw_pattern(layer: _Layer, torso: np.ndarray, app: PersonAppearance,
                  size: float):
    """Paint the upper-garment pattern inside the torso polygon only."""
    if app.upper_pattern == 'plain':
        return
    h, w = layer.mask.shape
    x0, y0 = np.clip(torso.min(0).astype(int), 0, (w, h))
    x1, y1 = np.clip(torso.max(0).astype(int) + 1, 0, (w, h))
    if x1 <= x0 or y1 <= y0:  # the torso is outside a partial crop
        return
    region = np.zeros((y1 - y0, x1 - x0), np.uint8)
    period = max(3, int(round(app.pattern_period * size)))
    half = max(1, period // 2)
    if app.upper_pattern in ('hstripes', 'checks'):
        for y in range(0, y1 - y0, period):
            region[y:y + half] ^= 1
    if app.upper_pattern in ('vstripes', 'checks'):
        for x in range(0, x1 - x0, period):
            region[:, x:x + half] ^= 1
    if app.upper_pattern == 'logo':
        cy, cx, r = (y1 - y0) // 3, (x1 - x0) // 2, max(2, (x1 - x0) // 5)
        cv2.circle(region, (cx, cy), r, 1, -1)
    inside = np.zeros_like(layer.mask)
    cv2.fillPoly(inside, [np.round(torso).astype(np.int32)], 1)
    paint = inside[y0:y1, x0:x1].astype(bool) & region.astype(bool)
    layer.img[y0:y1, x0:x1][paint] = app.upper_second


def _draw_person(layer: _Layer, app: PersonAppearance, cx: float, top: float,
                 size: float, view: str, phase: float, facing: int):
    """Draw one pedestrian, back to front, into ``layer``.

    Args:
        layer (_Layer): Canvas to draw into.
        app (PersonAppearance): The identity's appearance.
        cx, top (float): Horizontal centre and head top in canvas pixels.
        size (float): Person height in canvas pixels.
        view (str): ``'front'``, ``'back'`` or ``'side'``.
        phase (float): Walking gait phase in radians.
        facing (int): +1 / -1, the direction a side view walks to.
    """
    s = size
    narrow = 0.62 if view == 'side' else 1.0
    wf = app.build * narrow
    head_r = 0.062 * s * app.head_scale
    head = (cx, top + head_r)
    shoulder_y = top + 2 * head_r + 0.03 * s
    hip_y = top + app.torso_end * s
    feet_y = top + s - 0.02 * s
    sh_w, hip_w = 0.14 * s * wf, 0.11 * s * wf
    arm_t, leg_t = 0.06 * s * app.build, 0.08 * s * app.build
    stride = (0.12 if view == 'side' else 0.03) * s * math.sin(phase)
    swing = (0.5 if view == 'side' else 0.15) * math.sin(phase)
    back_x = cx - facing * sh_w  # where a backpack hangs in a side view

    if app.bag == 'backpack' and view == 'side':
        layer.rect((back_x - facing * 0.09 * s, shoulder_y + 0.02 * s),
                   (back_x + facing * 0.02 * s, hip_y - 0.05 * s),
                   app.bag_colour)
    if app.long_hair:
        layer.rect((cx - head_r * 0.95, head[1]),
                   (cx + head_r * 0.95, shoulder_y + 0.06 * s), app.hair)

    # Legs: the lower garment covers them fully (trousers), to the knee
    # (shorts) or not at all (a skirt is drawn over bare legs).
    knee_y = (hip_y + feet_y) / 2
    hip_dx = 0.045 * s * wf
    for side, step in ((-1, stride), (1, -stride)):
        hip = (cx + side * hip_dx, hip_y)
        foot = (cx + side * hip_dx * (0.6 if view != 'side' else 0.3) + step,
                feet_y)
        knee = ((hip[0] + foot[0]) / 2, knee_y)
        colour_top = app.skin if app.lower_style == 'skirt' else app.lower
        colour_low = app.lower if app.lower_style == 'trousers' else app.skin
        layer.line(hip, knee, colour_top, leg_t)
        layer.line(knee, foot, colour_low, leg_t * 0.9)
        layer.ellipse(
            (foot[0] + facing * (0.02 * s if view == 'side' else 0), foot[1]),
            (leg_t * 0.75, leg_t * 0.4), app.shoes)
    if app.lower_style == 'skirt':
        skirt_y = hip_y + 0.22 * s
        layer.poly([(cx - hip_w, hip_y - 0.02 * s),
                    (cx + hip_w, hip_y - 0.02 * s),
                    (cx + 1.5 * hip_w, skirt_y), (cx - 1.5 * hip_w, skirt_y)],
                   app.lower)
    else:
        layer.poly([(cx - hip_w, hip_y - 0.02 * s),
                    (cx + hip_w, hip_y - 0.02 * s),
                    (cx + hip_w, hip_y + 0.06 * s),
                    (cx - hip_w, hip_y + 0.06 * s)], app.lower)

    def arm(side: int, phase_sign: float):
        shoulder = (cx + side * (sh_w - arm_t * 0.4), shoulder_y + arm_t / 2)
        angle = phase_sign * swing
        length = 0.17 * s
        splay = side * (0.1 if view != 'side' else 0.0)
        elbow = (shoulder[0] + length * math.sin(angle + splay),
                 shoulder[1] + length * math.cos(angle + splay))
        hand = (elbow[0] + length * math.sin(1.3 * angle + splay / 2),
                elbow[1] + length * math.cos(1.3 * angle + splay / 2))
        layer.line(shoulder, elbow, app.upper, arm_t)
        layer.line(elbow, hand, app.upper if app.long_sleeves else app.skin,
                   arm_t * 0.85)
        layer.ellipse(hand, (arm_t * 0.5, arm_t * 0.55), app.skin)

    if view == 'side':
        arm(0, -1.0)  # the far arm, behind the torso
    torso = np.array([(cx - sh_w, shoulder_y), (cx + sh_w, shoulder_y),
                      (cx + hip_w, hip_y + 0.03 * s),
                      (cx - hip_w, hip_y + 0.03 * s)], np.float32)
    layer.poly(torso, app.upper)
    for side in (-1, 1):
        layer.ellipse(
            (cx + side * (sh_w - arm_t * 0.4), shoulder_y + arm_t / 2),
            (arm_t * 0.6, arm_t * 0.6), app.upper)
    _draw_pattern(layer, torso, app, s)
    if app.bag == 'backpack' and view == 'back':
        layer.rect((cx - 0.75 * sh_w, shoulder_y + 0.03 * s),
                   (cx + 0.75 * sh_w, hip_y - 0.04 * s), app.bag_colour)
    elif app.bag == 'backpack' and view == 'front':
        for side in (-1, 1):
            layer.line((cx + side * 0.6 * sh_w, shoulder_y),
                       (cx + side * 0.55 * sh_w, shoulder_y + 0.14 * s),
                       app.bag_colour, arm_t * 0.4)
    if view == 'side':
        arm(0, 1.0)
    else:
        arm(-1, 1.0)
        arm(1, -1.0)
    if app.bag == 'shoulder':
        bag_x = cx + (facing if view == 'side' else 1) * sh_w * 0.9
        layer.line((cx - 0.7 * sh_w, shoulder_y), (bag_x, hip_y - 0.02 * s),
                   app.bag_colour, max(1.0, arm_t * 0.3))
        layer.rect((bag_x - 0.06 * s, hip_y - 0.04 * s),
                   (bag_x + 0.06 * s, hip_y + 0.07 * s), app.bag_colour)

    # Neck, head and hair (a back view shows only hair).
    layer.line((cx, shoulder_y - 0.03 * s), (cx, shoulder_y + 0.01 * s),
               app.skin, head_r * 0.8)
    face = app.hair if view == 'back' else app.skin
    layer.ellipse(head, (head_r * 0.85, head_r), face)
    if view == 'front':
        layer.ellipse((head[0], head[1] - head_r * 0.15),
                      (head_r * 0.9, head_r * 0.9), app.hair, 180, 360)
    elif view == 'side':
        layer.ellipse(
            (head[0] - facing * head_r * 0.2, head[1] - head_r * 0.1),
            (head_r * 0.8, head_r * 0.95), app.hair, 150, 390)
    if app.hat is not None:
        layer.rect((cx - head_r * 0.85, top - head_r * 0.25),
                   (cx + head_r * 0.85, top + head_r * 0.55), app.hat)
        layer.line((cx - head_r * 1.2, top + head_r * 0.55),
                   (cx + head_r * 1.2, top + head_r * 0.55), app.hat,
                   head_r * 0.3)


def render_person_image(app: Optional[PersonAppearance],
                        camera: CameraStyle,
                        rng: np.random.Generator,
                        image_size: Tuple[int, int],
                        framing: str = 'normal') -> np.ndarray:
    """Render one camera image of a person.

    Args:
        app (PersonAppearance, optional): Who to draw; None draws an empty
            scene.
        camera (CameraStyle): The camera's background and nuisances.
        rng (np.random.Generator): Source of the per-image randomness (pose,
            view, crop, jitter, occlusion, noise).
        image_size (tuple[int, int]): Output ``(height, width)``.
        framing (str): ``'normal'`` for a detector-quality crop,
            ``'partial'`` for a badly placed box (Market's distractors) or
            ``'fragment'`` for a tiny off-centre piece (Market's junk).

    Returns:
        np.ndarray: uint8 BGR image of shape ``(height, width, 3)``.
    """
    h, w = image_size
    bg_h, bg_w = camera.background.shape[:2]
    oy, ox = int(rng.integers(bg_h - h + 1)), int(rng.integers(bg_w - w + 1))
    # The scene's own light changes from image to image (time of day,
    # passing clouds), so a camera's background is not a constant.
    img = camera.background[oy:oy + h, ox:ox + w] * rng.uniform(
        0.75, 1.25, 3).astype(np.float32)

    if app is not None:
        # The person is drawn at _SUPERSAMPLE x resolution and area-resized,
        # which anti-aliases the thin parts (stripes, arms) cheaply.
        ss = _SUPERSAMPLE
        layer = _Layer((h * ss, w * ss))
        size = h * ss * camera.scale * app.height * rng.uniform(0.93, 1.07)
        top = (h * ss - size) * rng.uniform(0.3, 0.7)
        cx = w * ss / 2
        if framing == 'partial':
            size *= rng.uniform(1.2, 1.8)
            top += rng.uniform(-0.5, 0.2) * size
            cx += rng.choice([-1, 1]) * rng.uniform(0.25, 0.5) * w * ss
        elif framing == 'fragment':
            size *= rng.uniform(2.0, 3.0)
            top -= rng.uniform(0.1, 0.7) * size
            cx += rng.uniform(-0.5, 0.5) * w * ss
        view = _VIEWS[rng.choice(3, p=(0.4, 0.35, 0.25))]
        _draw_person(
            layer,
            app,
            cx,
            top,
            size,
            view,
            phase=rng.uniform(0, 2 * math.pi),
            facing=int(rng.choice([-1, 1])))
        person = cv2.resize(layer.img, (w, h), interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(layer.mask, (w, h), interpolation=cv2.INTER_AREA)
        # Viewpoint jitter: small rotation, scale, shear and shift.
        affine = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-5, 5),
                                         rng.uniform(0.95, 1.05))
        affine[0, 1] += rng.uniform(-0.06, 0.06)
        affine[:, 2] += (rng.uniform(-0.08, 0.08) * w,
                         rng.uniform(-0.04, 0.04) * h)
        person = cv2.warpAffine(person, affine, (w, h))
        alpha = cv2.warpAffine(alpha, affine, (w, h))
        alpha = (alpha.astype(np.float32) * (1 / 255))[..., None]
        img = img + (person - img) * alpha
    if rng.random() < 0.5:
        img = img[:, ::-1]
    if rng.random() < camera.occlusion_prob:
        _occlude(img, rng)

    # Illumination: tone curve, colour cast, side light, per-image flicker.
    light = np.linspace(
        1 - camera.side_light, 1 + camera.side_light, w,
        dtype=np.float32)[None, :, None]
    gain = camera.gain * rng.uniform(0.9, 1.1) * rng.uniform(0.96, 1.04, 3)
    img = np.clip(img, 0, 255) * (1 / 255)
    img = 255 * np.power(img, camera.gamma, dtype=np.float32)
    img *= gain.astype(np.float32) * light
    if camera.blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), camera.blur)
    # Sensor noise: a random crop of the camera's noise field, which costs a
    # fraction of drawing fresh normals for every pixel.
    oy, ox = int(rng.integers(bg_h - h + 1)), int(rng.integers(bg_w - w + 1))
    img += camera.noise_field[oy:oy + h, ox:ox + w]
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def _occlude(canvas: np.ndarray, rng: np.random.Generator):
    """Cover part of the image: a pole, a passer-by or an object in front."""
    h, w = canvas.shape[:2]
    kind = rng.integers(3)
    colour = _shade(rng, _CLOTH_PALETTE, 30)
    if kind == 0:  # a vertical pole / another person's edge
        width = int(w * rng.uniform(0.15, 0.35))
        x = int(rng.integers(-width // 2, w - width // 2))
        canvas[:, max(0, x):x + width] = colour
    elif kind == 1:  # an object at the bottom (car, bench, bike)
        height = int(h * rng.uniform(0.2, 0.4))
        x0 = int(rng.integers(-w // 2, w // 2))
        canvas[h - height:, max(0, x0):x0 + int(w * rng.uniform(0.6, 1.2))] = \
            colour
    else:  # a box held or carried through the view
        bh = int(h * rng.uniform(0.15, 0.3))
        bw = int(w * rng.uniform(0.3, 0.6))
        y, x = int(rng.integers(h - bh)), int(rng.integers(w - bw))
        canvas[y:y + bh, x:x + bw] = colour


def _check_int(name: str, value, low: int, high: Optional[int] = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f'make_synthetic_reid: {name} must be an int, got '
                        f'{type(value).__name__}')
    if value < low or (high is not None and value > high):
        bound = f'in [{low}, {high}]' if high is not None else f'>= {low}'
        raise ValueError(
            f'make_synthetic_reid: {name} must be {bound}, got {value}')
    return int(value)


def _prepare_root(root: str, overwrite: bool):
    """Refuse to mix into existing data unless asked to replace it."""
    if osp.exists(root) and not osp.isdir(root):
        raise NotADirectoryError(
            f'make_synthetic_reid: root {root!r} exists and is not a '
            'directory')
    if osp.isdir(root) and os.listdir(root):
        if not overwrite:
            raise FileExistsError(
                f'make_synthetic_reid: root {root!r} is not empty; choose an '
                'empty or new directory, or pass overwrite=True (CLI: '
                '--overwrite) to replace the generated folders')
        # Only the folders this generator writes are replaced, so an
        # accidental overwrite=True cannot wipe unrelated files in root.
        for folder in SPLIT_DIRS.values():
            path = osp.join(root, folder)
            if osp.isdir(path):
                shutil.rmtree(path)
            elif osp.exists(path):
                os.remove(path)
    for folder in SPLIT_DIRS.values():
        os.makedirs(osp.join(root, folder), exist_ok=True)


class _NameBook:
    """Hands out unique Market-1501 names (``PPPP_cCsS_FFFFFF_NN.jpg``)."""

    def __init__(self):
        self.used = set()

    def track(self, rng: np.random.Generator, pid: int, cam: int,
              count: int) -> List[str]:
        """``count`` names of one person seen in one camera sequence."""
        seq = int(rng.integers(1, _NUM_SEQUENCES + 1))
        # Frames advance by at most 59, so the last one keeps 6 digits.
        frame = int(rng.integers(0, 999999 - 60 * count))
        names = []
        for _ in range(count):
            frame += int(rng.integers(5, 60))
            names.append(self.single(rng, pid, cam, seq, frame))
        return names

    def single(self,
               rng: np.random.Generator,
               pid: int,
               cam: int,
               seq: Optional[int] = None,
               frame: Optional[int] = None) -> str:
        seq = seq or int(rng.integers(1, _NUM_SEQUENCES + 1))
        frame = int(rng.integers(0, 999999)) if frame is None else frame
        pid_str = '-1' if pid == -1 else f'{pid:04d}'
        while True:
            name = (f'{pid_str}_c{cam}s{seq}_{frame:06d}_'
                    f'{int(rng.integers(0, 10)):02d}.jpg')
            if name not in self.used:
                self.used.add(name)
                return name
            frame = (frame + 1) % 1000000


def make_synthetic_reid(root: str,
                        num_train_ids: int = 100,
                        num_test_ids: int = 60,
                        num_cameras: int = 6,
                        cameras_per_id: Union[int, Sequence[int]] = (2, 4),
                        images_per_id_per_camera: int = 4,
                        queries_per_id_per_camera: int = 1,
                        num_distractors: int = 100,
                        num_junk: int = 20,
                        image_size: Sequence[int] = (128, 64),
                        seed: int = 0,
                        overwrite: bool = False) -> Dict[str, int]:
    """Write a synthetic person Re-ID set in the Market-1501 layout.

    Every identity is seen by a random subset of ``cameras_per_id`` cameras,
    with ``images_per_id_per_camera`` images from each. Training identities
    go to ``bounding_box_train``. For a test identity,
    ``queries_per_id_per_camera`` images of each of its cameras go to
    ``query`` and the rest to ``bounding_box_test``; since a test identity
    has at least two cameras, each with a gallery image, every query has a
    cross-camera match (the Market protocol ignores same-camera matches).
    The gallery also holds ``num_distractors`` images with id ``0000``
    (badly framed people not among the test ids, empty scenes) and
    ``num_junk`` images with id ``-1`` (tiny fragments). The defaults are
    :data:`DEMO_PRESET` (about 2,100 images); :data:`TINY_PRESET` makes about
    100 for tests.

    Args:
        root (str): Output folder; created if missing.
        num_train_ids (int): Training identities (ids drawn from 0001..9999,
            disjoint from the test ids).
        num_test_ids (int): Test identities.
        num_cameras (int): Cameras, 2..9 (named c1..c9).
        cameras_per_id (int | tuple[int, int]): Number of cameras per
            identity, fixed or an inclusive ``(min, max)`` range; at least 2.
        images_per_id_per_camera (int): Images of one identity per camera.
        queries_per_id_per_camera (int): Of those, how many test images go
            to ``query``; must leave at least one for the gallery.
        num_distractors (int): Gallery images with id ``0000``.
        num_junk (int): Gallery images with id ``-1``.
        image_size (tuple[int, int]): ``(height, width)`` of every image,
            e.g. ``(128, 64)`` or ``(256, 128)``.
        seed (int): Seed of everything; equal seeds give equal bytes.
        overwrite (bool): Replace the three image folders of a non-empty
            ``root``; without it a non-empty ``root`` raises
            ``FileExistsError``.

    Returns:
        dict[str, int]: Counts ``train_ids``, ``train_images``, ``test_ids``,
        ``query_images``, ``gallery_images`` (all files in
        ``bounding_box_test``), ``distractor_images``, ``junk_images`` and
        ``cameras``.
    """
    num_train_ids = _check_int('num_train_ids', num_train_ids, 1)
    num_test_ids = _check_int('num_test_ids', num_test_ids, 1)
    num_cameras = _check_int('num_cameras', num_cameras, 2, 9)
    if num_train_ids + num_test_ids > 9999:
        raise ValueError(
            'make_synthetic_reid: num_train_ids + num_test_ids must be <= '
            f'9999 (4-digit Market ids), got {num_train_ids + num_test_ids}')
    if isinstance(cameras_per_id, (int, np.integer)):
        cameras_per_id = (cameras_per_id, cameras_per_id)
    if (not isinstance(cameras_per_id, (tuple, list))
            or len(cameras_per_id) != 2):
        raise TypeError('make_synthetic_reid: cameras_per_id must be an int '
                        f'or a (min, max) pair, got {cameras_per_id!r}')
    cam_lo = _check_int('cameras_per_id[0]', cameras_per_id[0], 2, num_cameras)
    cam_hi = _check_int('cameras_per_id[1]', cameras_per_id[1], cam_lo,
                        num_cameras)
    per_cam = _check_int('images_per_id_per_camera', images_per_id_per_camera,
                         2, 10000)
    queries = _check_int('queries_per_id_per_camera',
                         queries_per_id_per_camera, 1, per_cam - 1)
    num_distractors = _check_int('num_distractors', num_distractors, 0)
    num_junk = _check_int('num_junk', num_junk, 0)
    if (not isinstance(image_size, (tuple, list)) or len(image_size) != 2
            or not all(isinstance(v, (int, np.integer)) for v in image_size)
            or image_size[0] < 32 or image_size[1] < 16):
        raise ValueError('make_synthetic_reid: image_size must be (height, '
                         'width) ints of at least (32, 16), got '
                         f'{image_size!r}')
    image_size = (int(image_size[0]), int(image_size[1]))
    seed = _check_int('seed', seed, 0)
    _prepare_root(root, overwrite)

    cameras = [
        CameraStyle.sample(
            np.random.default_rng((seed, _CAMERA_STREAM, c)), image_size)
        for c in range(num_cameras)
    ]
    layout = np.random.default_rng((seed, _LAYOUT_STREAM))
    pids = layout.permutation(np.arange(1, num_train_ids + num_test_ids + 1))
    train_pids = sorted(int(p) for p in pids[:num_train_ids])
    test_pids = sorted(int(p) for p in pids[num_train_ids:])
    names = _NameBook()
    counts = dict(
        train_ids=num_train_ids,
        train_images=0,
        test_ids=num_test_ids,
        query_images=0,
        gallery_images=0,
        distractor_images=0,
        junk_images=0,
        cameras=num_cameras)
    image_index = 0

    def write(split: str, name: str, img: np.ndarray):
        path = osp.join(root, SPLIT_DIRS[split], name)
        if not cv2.imwrite(path, img,
                           [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY]):
            raise OSError(f'make_synthetic_reid: could not write {path!r}')

    train_set = set(train_pids)
    for pid in train_pids + test_pids:
        is_train = pid in train_set
        app = PersonAppearance.sample(
            np.random.default_rng((seed, _IDENTITY_STREAM, pid)))
        id_rng = np.random.default_rng((seed, _LAYOUT_STREAM, pid))
        num_cams = int(id_rng.integers(cam_lo, cam_hi + 1))
        for cam in sorted(id_rng.choice(num_cameras, num_cams, replace=False)):
            cam = int(cam)
            track = names.track(id_rng, pid, cam + 1, per_cam)
            query_slots = set(id_rng.choice(per_cam, queries, replace=False))
            for k, name in enumerate(track):
                img = render_person_image(
                    app, cameras[cam],
                    np.random.default_rng((seed, _IMAGE_STREAM, image_index)),
                    image_size)
                image_index += 1
                if is_train:
                    split = 'train'
                elif k in query_slots:
                    split = 'query'
                else:
                    split = 'gallery'
                write(split, name, img)
                counts[f'{split}_images'] += 1

    # Distractors (0000): people outside every split, badly framed, and
    # empty scenes; junk (-1): fragments Market's protocol ignores.
    for kind, pid, count, stream in (('distractor', 0, num_distractors,
                                      _DISTRACTOR_STREAM),
                                     ('junk', -1, num_junk, _JUNK_STREAM)):
        for i in range(count):
            rng = np.random.default_rng((seed, stream, i))
            cam = int(rng.integers(num_cameras))
            if kind == 'junk':
                app, framing = PersonAppearance.sample(rng), 'fragment'
            elif rng.random() < 0.25:
                app, framing = None, 'normal'
            else:
                app, framing = PersonAppearance.sample(rng), 'partial'
            img = render_person_image(app, cameras[cam], rng, image_size,
                                      framing)
            write('gallery', names.single(rng, pid, cam + 1), img)
            counts['gallery_images'] += 1
            counts[f'{kind}_images'] += 1
    return counts
