"""A procedural face recognition set: training folders and verification
pairs in the real formats.

Identity lives in the face itself: the head shape (width, length, chin),
skin tone, hair colour and style, eye colour, size and spacing, eyebrows,
nose, mouth, and optional beard, glasses and a mole. Every image adds a
pose (yaw moves the features sideways and foreshortens the far side, roll
tilts the head), scale and position jitter, an expression (smile, eye
opening), lighting (gain, colour cast, a side light), a background, blur
and sensor noise. The files land where the readers of
:mod:`mmattn.datasets.face` expect them::

    <root>/train/id_0001/id_0001_0001.jpg     FaceImageFolder (train)
    <root>/lfw/Face_0001/Face_0001_0001.jpg    LFWPairs (data_root=<root>/lfw)
    <root>/lfw/pairs.txt                       header "<folds> <n>", then
                                               per fold n same + n different
    <root>/pose_pairs/images/Face_0001/frontal_01.jpg   FacePairList
    <root>/pose_pairs/images/Face_0001/profile_01.jpg   (CFP-FP-like:
    <root>/pose_pairs/pairs_list.txt           frontal vs profile pairs)

Test identities are disjoint from the training ones and assigned to the
folds round-robin, so that, as in LFW, no person appears in two folds.
Everything is a pure function of ``seed``: each identity and image draws
from its own ``numpy.random.Generator`` keyed by ``(seed, stream, index)``
and JPEGs are written with a fixed quality, so equal arguments give
byte-identical files.
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import cv2
import numpy as np

#: Arguments of a ~2,500 image set that a 2-core CPU trains on in minutes.
DEMO_FACE_PRESET = dict(
    num_train_ids=100,
    images_per_train_id=16,
    num_test_ids=40,
    images_per_test_id=4,
    pairs_per_fold=20,
    num_folds=10)

#: Arguments of a ~100 image set for unit tests.
TINY_FACE_PRESET = dict(
    num_train_ids=6,
    images_per_train_id=4,
    num_test_ids=20,
    images_per_test_id=2,
    pairs_per_fold=2,
    num_folds=10)

_IDENTITY_STREAM, _TRAIN_STREAM, _TEST_STREAM, _PAIR_STREAM = 1, 2, 3, 4
_POSE_STREAM = 5
_JPEG_QUALITY = 92
_SUPERSAMPLE = 2

# BGR colours.
_SKIN_TONES = np.array([(200, 215, 245), (160, 190, 230), (120, 160, 210),
                        (80, 115, 170), (55, 80, 120)], np.float32)
_HAIR_COLOURS = np.array([(20, 20, 20), (30, 45, 70), (40, 80, 130),
                          (110, 175, 215), (160, 160, 160), (35, 55, 150)],
                         np.float32)
_EYE_COLOURS = np.array([(40, 60, 90), (140, 100, 40), (80, 120, 60),
                         (30, 30, 30)], np.float32)
_HAIR_STYLES = ('short', 'long', 'fringe', 'bald', 'parted')


def _shade(rng, palette, spread) -> Tuple[float, float, float]:
    base = palette[rng.integers(len(palette))]
    return tuple(
        float(c) for c in np.clip(base + rng.normal(0, spread, 3), 0, 255))


@dataclass(frozen=True)
class FaceIdentity:
    """What makes one synthetic person recognisable; sizes are fractions
    of the image size, colours BGR floats."""
    width: float
    length: float
    chin: float
    skin: Tuple[float, float, float]
    hair: Tuple[float, float, float]
    hair_style: str
    eye_colour: Tuple[float, float, float]
    eye_size: float
    eye_spacing: float
    eye_height: float
    brow_thickness: float
    brow_tilt: float
    nose_length: float
    nose_width: float
    mouth_width: float
    lip: Tuple[float, float, float]
    beard: bool
    glasses: Optional[Tuple[float, float, float]]
    mole: Optional[Tuple[float, float]]

    @classmethod
    def sample(cls, rng: np.random.Generator) -> 'FaceIdentity':
        skin = _shade(rng, _SKIN_TONES, 10)
        return cls(
            width=float(rng.uniform(0.27, 0.35)),
            length=float(rng.uniform(1.15, 1.45)),
            chin=float(rng.uniform(0.0, 0.35)),
            skin=skin,
            hair=_shade(rng, _HAIR_COLOURS, 12),
            hair_style=_HAIR_STYLES[rng.integers(len(_HAIR_STYLES))],
            eye_colour=_shade(rng, _EYE_COLOURS, 15),
            eye_size=float(rng.uniform(0.035, 0.055)),
            eye_spacing=float(rng.uniform(0.30, 0.42)),
            eye_height=float(rng.uniform(-0.12, 0.0)),
            brow_thickness=float(rng.uniform(0.008, 0.022)),
            brow_tilt=float(rng.uniform(-0.25, 0.25)),
            nose_length=float(rng.uniform(0.18, 0.32)),
            nose_width=float(rng.uniform(0.10, 0.2)),
            mouth_width=float(rng.uniform(0.28, 0.48)),
            lip=tuple(
                float(c) for c in np.clip(
                    np.array(skin) * rng.uniform(0.55, 0.8) +
                    np.array((0., 0., 40.)), 0, 255)),
            beard=bool(rng.random() < 0.2),
            glasses=(_shade(rng, _HAIR_COLOURS, 20)
                     if rng.random() < 0.2 else None),
            mole=((float(rng.uniform(-0.5, 0.5)), float(rng.uniform(0.1, 0.5)))
                  if rng.random() < 0.3 else None))


def _pt(x, y):
    return int(round(x)), int(round(y))


def render_face(identity: FaceIdentity,
                rng: np.random.Generator,
                size: int = 112,
                yaw: Optional[float] = None) -> np.ndarray:
    """Draw one image of ``identity``; returns a (size, size, 3) BGR uint8.

    Args:
        identity (FaceIdentity): Who to draw.
        rng (np.random.Generator): Source of the per-image nuisances.
        size (int): Image side in pixels.
        yaw (float, optional): Head turn in [-1, 1] (0 frontal, +-1
            profile); drawn from a near-frontal range when None.
    """
    s = size * _SUPERSAMPLE
    if yaw is None:
        yaw = float(rng.uniform(-0.35, 0.35))
    roll = float(rng.uniform(-12, 12))
    scale = float(rng.uniform(0.92, 1.08)) * s
    cx = s / 2 + rng.uniform(-0.04, 0.04) * s
    cy = s / 2 + rng.uniform(-0.04, 0.04) * s + 0.04 * s
    smile = float(rng.uniform(-0.3, 1.0))
    eye_open = float(rng.uniform(0.5, 1.0))

    # Background: a random gradient, independent of the identity.
    top, bottom = rng.uniform(40, 220, 3), rng.uniform(40, 220, 3)
    ramp = np.linspace(0, 1, s, dtype=np.float32)[:, None, None]
    img = ((1 - ramp) * top + ramp * bottom).repeat(
        s, axis=1).astype(np.float32)

    fw = identity.width * scale * (1 - 0.25 * abs(yaw))
    fh = fw / (1 - 0.25 * abs(yaw)) * identity.length
    shift = yaw * fw * 0.55  # where the facial midline moves with the yaw

    def at(u, v):
        """Face coordinates (u across in face widths, v down in face
        heights, origin at the centre) -> pixels, with yaw foreshortening
        on the side turned away."""
        squeeze = 1 - 0.6 * max(0.0, u * np.sign(yaw)) * abs(yaw) \
            if yaw else 1.0
        return cx + shift * (1 - u * u) + u * fw * squeeze, cy + v * fh

    hair = identity.hair
    if identity.hair_style == 'long':
        cv2.ellipse(img, _pt(cx, cy + 0.15 * fh), _pt(fw * 1.25, fh * 1.05), 0,
                    180, 360, hair, -1, cv2.LINE_AA)
        cv2.rectangle(img, _pt(cx - fw * 1.25, cy + 0.15 * fh),
                      _pt(cx + fw * 1.25, cy + 0.9 * fh), hair, -1)
    # Head: an ellipse plus a chin triangle whose depth is per identity.
    cv2.ellipse(img, _pt(cx + shift * 0.3, cy), _pt(fw, fh), 0, 0, 360,
                identity.skin, -1, cv2.LINE_AA)
    chin = np.array(
        [at(-0.6, 0.7),
         at(0.6, 0.7),
         at(0, 1.0 + identity.chin * 0.5)], np.float32)
    cv2.fillPoly(img, [np.round(chin).astype(np.int32)], identity.skin,
                 cv2.LINE_AA)
    # Ears on the visible sides.
    for side in (-1, 1):
        if yaw * side < 0.5:
            ex, ey = at(side * 1.02, 0.0)
            cv2.ellipse(img, _pt(ex, ey), _pt(fw * 0.12, fh * 0.16), 0, 0, 360,
                        identity.skin, -1, cv2.LINE_AA)
    if identity.hair_style != 'bald':
        cv2.ellipse(img, _pt(cx + shift * 0.3, cy - 0.2 * fh),
                    _pt(fw * 1.05, fh * 0.85), 0, 180, 360, hair, -1,
                    cv2.LINE_AA)
        if identity.hair_style == 'fringe':
            cv2.rectangle(img, _pt(*at(-0.85, -0.55)), _pt(*at(0.85, -0.38)),
                          hair, -1)
        elif identity.hair_style == 'parted':
            cv2.line(img, _pt(*at(-0.3, -0.95)), _pt(*at(-0.25, -0.6)),
                     identity.skin, max(1, int(0.02 * s)), cv2.LINE_AA)
    if identity.beard:
        beard = np.array([
            at(-0.8, 0.35),
            at(0.8, 0.35),
            at(0.4, 0.95),
            at(0, 1.0 + identity.chin * 0.5),
            at(-0.4, 0.95)
        ], np.float32)
        cv2.fillPoly(img, [np.round(beard).astype(np.int32)], hair,
                     cv2.LINE_AA)

    ev = identity.eye_height
    eye_r = identity.eye_size * scale
    for side in (-1, 1):
        u = side * identity.eye_spacing / 0.55 * 0.5
        ex, ey = at(u, ev)
        visible = 1 - 0.7 * max(0.0, side * yaw)
        cv2.ellipse(img, _pt(ex, ey),
                    _pt(eye_r * 1.5 * visible, eye_r * eye_open), 0, 0, 360,
                    (235, 235, 235), -1, cv2.LINE_AA)
        cv2.circle(img, _pt(ex + yaw * eye_r * 0.5, ey),
                   max(1, int(eye_r * 0.8 * min(1.0, eye_open + 0.2))),
                   identity.eye_colour, -1, cv2.LINE_AA)
        bx0, by0 = at(u - 0.22, ev - 0.14 - side * identity.brow_tilt * 0.1)
        bx1, by1 = at(u + 0.22, ev - 0.14 + side * identity.brow_tilt * 0.1)
        cv2.line(img, _pt(bx0, by0), _pt(bx1, by1), hair,
                 max(1, int(identity.brow_thickness * scale)), cv2.LINE_AA)
        if identity.glasses is not None:
            cv2.circle(img, _pt(ex, ey), int(eye_r * 2.3), identity.glasses,
                       max(1, int(0.012 * s)), cv2.LINE_AA)
    if identity.glasses is not None:
        cv2.line(img, _pt(*at(-0.12, ev)), _pt(*at(0.12, ev)),
                 identity.glasses, max(1, int(0.012 * s)), cv2.LINE_AA)

    nose_dark = tuple(0.75 * c for c in identity.skin)
    tip = at(yaw * 0.25, ev + identity.nose_length)
    nose = np.array([
        at(-0.04, ev + 0.05),
        (tip[0] - identity.nose_width * fw * 0.5, tip[1]),
        (tip[0] + identity.nose_width * fw * 0.5, tip[1])
    ], np.float32)
    cv2.polylines(img, [np.round(nose).astype(np.int32)], False, nose_dark,
                  max(1, int(0.01 * s)), cv2.LINE_AA)
    mouth_y = ev + identity.nose_length + 0.18
    half = identity.mouth_width * 0.5 * (1 - 0.3 * abs(yaw))
    left, right = at(-half, mouth_y), at(half, mouth_y)
    middle = at(0, mouth_y + 0.06 * smile)
    lips = np.array([left, middle, right], np.float32)
    cv2.polylines(img, [np.round(lips).astype(np.int32)], False, identity.lip,
                  max(1, int(0.02 * s)), cv2.LINE_AA)
    if identity.mole is not None:
        mx, my = at(*identity.mole)
        cv2.circle(img, _pt(mx, my), max(1, int(0.012 * s)),
                   tuple(0.5 * c for c in identity.skin), -1, cv2.LINE_AA)

    # Roll about the face centre, then the nuisances of the shot.
    rot = cv2.getRotationMatrix2D((cx, cy), roll, 1.0)
    img = cv2.warpAffine(img, rot, (s, s), borderMode=cv2.BORDER_REFLECT)
    gain = rng.uniform(0.7, 1.25) * rng.uniform(0.9, 1.1, 3)
    side_light = 1 + rng.uniform(-0.3, 0.3) * np.linspace(
        -1, 1, s, dtype=np.float32)[None, :, None]
    img = img * gain.astype(np.float32) * side_light
    img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    sigma = float(rng.choice([0.0, 0.0, 0.6, 1.0]))
    if sigma:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    img = img + rng.normal(0, rng.uniform(1, 6), img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _rng(seed: int, stream: int, *index: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream, *index])


def _write(path: str, img: np.ndarray) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, img, [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY]):
        raise OSError(f'make_synthetic_faces: could not write {path!r}')


def _check_int(name: str, value, minimum: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) \
            or value < minimum:
        raise ValueError(f'make_synthetic_faces: {name} must be an int >= '
                         f'{minimum}, got {value!r}')
    return int(value)


def make_synthetic_faces(root: str,
                         num_train_ids: int = 100,
                         images_per_train_id: int = 16,
                         num_test_ids: int = 40,
                         images_per_test_id: int = 4,
                         pairs_per_fold: int = 20,
                         num_folds: int = 10,
                         image_size: int = 112,
                         seed: int = 0) -> Dict[str, int]:
    """Write a synthetic face recognition set (layout in the module doc).

    The LFW-format set ``<root>/lfw`` has ``num_folds`` folds, each with
    ``pairs_per_fold`` same-person and as many different-person pairs drawn
    among the fold's identities (test identity i belongs to fold
    ``i % num_folds``). The CFP-FP-like ``<root>/pose_pairs`` set has one
    frontal and one profile image per test identity and lists, per fold,
    ``pairs_per_fold`` frontal-profile pairs of one person and as many of
    two people, as ``path1 path2 label`` lines (no fold column: the folds
    are the file's 10 contiguous blocks).

    Args:
        root (str): Output folder; must be missing or empty.
        num_train_ids (int): Training identities (``<root>/train``).
        images_per_train_id (int): Images per training identity.
        num_test_ids (int): Verification identities, at least
            ``2 * num_folds`` (each fold needs two people).
        images_per_test_id (int): LFW-format images per test identity (>= 2).
        pairs_per_fold (int): Same-person pairs per fold (and as many
            different-person pairs).
        num_folds (int): Cross-validation folds (10 in LFW).
        image_size (int): Side of the square images (112 for the usual
            aligned face crops).
        seed (int): Seed of everything; equal seeds give equal bytes.

    Returns:
        dict[str, int]: ``train_ids``, ``train_images``, ``test_ids``,
        ``lfw_images``, ``lfw_pairs``, ``pose_images``, ``pose_pairs``.

    Raises:
        FileExistsError: ``root`` exists and is not empty.
    """
    num_train_ids = _check_int('num_train_ids', num_train_ids, 1)
    images_per_train_id = _check_int('images_per_train_id',
                                     images_per_train_id, 1)
    num_folds = _check_int('num_folds', num_folds, 2)
    num_test_ids = _check_int('num_test_ids', num_test_ids, 2 * num_folds)
    images_per_test_id = _check_int('images_per_test_id', images_per_test_id,
                                    2)
    pairs_per_fold = _check_int('pairs_per_fold', pairs_per_fold, 1)
    image_size = _check_int('image_size', image_size, 16)
    if osp.exists(root) and (not osp.isdir(root) or os.listdir(root)):
        raise FileExistsError(
            f'make_synthetic_faces: {root!r} exists and is not an empty '
            'folder; choose a new root (nothing is overwritten)')

    identities = [
        FaceIdentity.sample(_rng(seed, _IDENTITY_STREAM, i))
        for i in range(num_train_ids + num_test_ids)
    ]
    for i in range(num_train_ids):
        name = f'id_{i + 1:04d}'
        for k in range(images_per_train_id):
            img = render_face(identities[i], _rng(seed, _TRAIN_STREAM, i, k),
                              image_size)
            _write(
                osp.join(root, 'train', name, f'{name}_{k + 1:04d}.jpg'), img)

    lfw_root = osp.join(root, 'lfw')
    pose_root = osp.join(root, 'pose_pairs')
    test = identities[num_train_ids:]
    names = [f'Face_{i + 1:04d}' for i in range(num_test_ids)]
    for i, identity in enumerate(test):
        for k in range(images_per_test_id):
            img = render_face(identity, _rng(seed, _TEST_STREAM, i, k),
                              image_size)
            _write(
                osp.join(lfw_root, names[i], f'{names[i]}_{k + 1:04d}.jpg'),
                img)
        for k, (kind, yaw) in enumerate((('frontal', 0.0), ('profile', None))):
            rng = _rng(seed, _POSE_STREAM, i, k)
            if yaw is None:
                yaw = float(rng.choice([-1, 1]) * rng.uniform(0.7, 0.95))
            _write(
                osp.join(pose_root, 'images', names[i], f'{kind}_01.jpg'),
                render_face(identity, rng, image_size, yaw=yaw))

    rng = _rng(seed, _PAIR_STREAM, 0)
    lfw_lines = [f'{num_folds}\t{pairs_per_fold}']
    pose_lines = []
    for fold in range(num_folds):
        members = list(range(fold, num_test_ids, num_folds))
        for _ in range(pairs_per_fold):
            person = int(rng.choice(members))
            k1, k2 = rng.choice(images_per_test_id, 2, replace=False) + 1
            lfw_lines.append(f'{names[person]}\t{k1}\t{k2}')
            pose_lines.append(f'images/{names[person]}/frontal_01.jpg '
                              f'images/{names[person]}/profile_01.jpg 1')
        for _ in range(pairs_per_fold):
            a, b = (int(x) for x in rng.choice(members, 2, replace=False))
            k1, k2 = rng.integers(1, images_per_test_id + 1, 2)
            lfw_lines.append(f'{names[a]}\t{k1}\t{names[b]}\t{k2}')
            pose_lines.append(f'images/{names[a]}/frontal_01.jpg '
                              f'images/{names[b]}/profile_01.jpg 0')
    with open(osp.join(lfw_root, 'pairs.txt'), 'w') as f:
        f.write('\n'.join(lfw_lines) + '\n')
    with open(osp.join(pose_root, 'pairs_list.txt'), 'w') as f:
        f.write('\n'.join(pose_lines) + '\n')
    return dict(
        train_ids=num_train_ids,
        train_images=num_train_ids * images_per_train_id,
        test_ids=num_test_ids,
        lfw_images=num_test_ids * images_per_test_id,
        lfw_pairs=len(lfw_lines) - 1,
        pose_images=2 * num_test_ids,
        pose_pairs=len(pose_lines))
