"""Procedural patch correspondences in the Brown and HPatches release layouts.

Every synthetic "3D point" is a procedurally textured surface (low-frequency
noise, oriented gratings, blobs and strokes); a patch of it is a view under a
geometric jitter (rotation, anisotropic scale, shear, sub-patch shift) and a
photometric one (gain, bias, gamma, blur, sensor noise). Patches of one point
therefore match under the same nuisances as the real data sets, and a small
L2Net learns to tell them apart from other points in a few iterations.

Two layouts are written (see :func:`make_synthetic_patches`)::

    <root>/brown/<sequence>/patches0000.bmp ...   1024x1024, 16x16 of 64x64
    <root>/brown/<sequence>/info.txt              "3DpointID 0" per patch
    <root>/brown/<sequence>/m50_<n>_<n>_0.txt     n pairs, half matching
    <root>/hpatches-release/<i_|v_><name>/{ref,e1..e5,h1..h5,t1..t5}.png

Everything is a pure function of ``seed``: each point and patch draws from
its own ``numpy.random.Generator`` keyed by ``(seed, stream, indices)``.
"""
import os
import os.path as osp
from typing import Dict, Sequence, Tuple, Union

import cv2
import numpy as np

from ..brown import RELEASE_PATCH_SIZE

#: Side of an HPatches patch.
HPATCHES_PATCH_SIZE = 65
#: The 16 images of an hpatches-release sequence.
HPATCHES_IMAGES = ('ref', *(f'{d}{k}' for d in 'eht' for k in range(1, 6)))
#: Per-patch geometric / photometric jitter of the easy, hard, tough images.
HPATCHES_LEVELS = dict(e=1.0, h=2.0, t=3.0)

#: Arguments of a tiny set for unit tests (three one-bitmap sequences).
TINY_PATCHES_PRESET = dict(
    brown_sequences=('liberty', 'notredame', 'yosemite'),
    num_points=48,
    patches_per_point=(2, 3),
    num_test_pairs=100,
    num_hpatches_sequences=4,
    hpatches_patches_per_sequence=12)

#: Arguments of a demo set a 2-core CPU trains on in minutes.
DEMO_PATCHES_PRESET = dict(
    brown_sequences=('liberty', 'notredame', 'yosemite'),
    num_points=1000,
    patches_per_point=(2, 4),
    num_test_pairs=2000,
    num_hpatches_sequences=8,
    hpatches_patches_per_sequence=100)

_TEXTURE_STREAM, _VIEW_STREAM, _PAIR_STREAM = 11, 12, 13
_HP_TEXTURE_STREAM, _HP_IMAGE_STREAM, _HP_PATCH_STREAM = 14, 15, 16
_TEXTURE_SIZE = 128


def render_texture(rng: np.random.Generator,
                   size: int = _TEXTURE_SIZE) -> np.ndarray:
    """A random surface texture, (size, size) float32 in [0, 1]."""
    coarse = rng.normal(size=(int(rng.integers(3, 7)), ) * 2)
    tex = cv2.resize(
        coarse.astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    for _ in range(int(rng.integers(1, 4))):
        angle = rng.uniform(0, np.pi)
        freq = rng.uniform(2.0, 9.0)
        phase = rng.uniform(0, 2 * np.pi)
        tex += rng.uniform(
            0.3,
            1.0) * np.sin(2 * np.pi * freq *
                          (np.cos(angle) * xx + np.sin(angle) * yy) + phase)
    canvas = np.zeros((size, size), np.float32)
    for _ in range(int(rng.integers(2, 6))):
        center = tuple(int(v) for v in rng.integers(0, size, 2))
        axes = tuple(int(v) for v in rng.integers(4, size // 4, 2))
        cv2.ellipse(canvas, center, axes, float(rng.uniform(0, 180)), 0, 360,
                    float(rng.uniform(-2, 2)), -1)
    for _ in range(int(rng.integers(1, 4))):
        p1 = tuple(int(v) for v in rng.integers(0, size, 2))
        p2 = tuple(int(v) for v in rng.integers(0, size, 2))
        cv2.line(canvas, p1, p2, float(rng.uniform(-2, 2)),
                 int(rng.integers(1, 4)))
    tex += cv2.GaussianBlur(canvas, (0, 0), 1.0)
    tex -= tex.min()
    return tex / max(float(tex.max()), 1e-6)


def render_view(
    texture: np.ndarray,
    rng: np.random.Generator,
    out_size: int,
    geometric: float = 1.0,
    photometric: float = 1.0,
    base_affine: np.ndarray = None,
    base_photo: Tuple[float, float, float] = (1.0, 0.0, 1.0)
) -> np.ndarray:
    """One uint8 (out_size, out_size) view of a texture.

    Args:
        texture (np.ndarray): (S, S) float texture in [0, 1].
        rng (np.random.Generator): Source of this view's jitter.
        out_size (int): Patch side (64 for Brown, 65 for HPatches).
        geometric (float): Scale of the rotation / scale / shear / shift
            jitter (0 = the canonical view).
        photometric (float): Scale of the gain / bias / gamma / noise jitter.
        base_affine (np.ndarray, optional): 2x2 matrix applied before the
            jitter (an image-wide viewpoint change).
        base_photo (tuple): Image-wide ``(gain, bias, gamma)``.
    """
    size = texture.shape[0]
    angle = rng.normal(0, 0.12 * geometric)
    scale = np.exp(rng.normal(0, 0.08 * geometric, 2))
    shear = rng.normal(0, 0.06 * geometric)
    rot = np.array([[np.cos(angle), -np.sin(angle)],
                    [np.sin(angle), np.cos(angle)]])
    linear = rot @ np.array([[scale[0], shear], [0, scale[1]]])
    if base_affine is not None:
        linear = linear @ base_affine
    # The patch covers the central out_size window of the texture at unit
    # scale; dst = A (src - c_src) + c_dst + shift.
    shift = rng.normal(0, 1.0 * geometric, 2)
    c_src = np.array([size / 2.0, size / 2.0])
    c_dst = np.array([out_size / 2.0, out_size / 2.0])
    matrix = np.hstack([linear, (c_dst + shift - linear @ c_src)[:, None]])
    view = cv2.warpAffine(
        texture,
        matrix.astype(np.float32), (out_size, out_size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT)
    gain, bias, gamma = base_photo
    gain *= np.exp(rng.normal(0, 0.15 * photometric))
    bias += rng.normal(0, 0.05 * photometric)
    gamma *= np.exp(rng.normal(0, 0.15 * photometric))
    view = np.clip(view, 0, 1)**gamma * gain + bias
    sigma = abs(rng.normal(0, 0.4 * photometric))
    if sigma > 0.05:
        view = cv2.GaussianBlur(view, (0, 0), sigma)
    view = view + rng.normal(0, 0.02 * photometric, view.shape)
    return np.clip(np.rint(view * 255), 0, 255).astype(np.uint8)


def _check_positive(name: str, value: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(
            value, bool) or value < 1:
        raise ValueError(f'make_synthetic_patches: {name} must be a positive '
                         f'int, got {value!r}')
    return int(value)


def write_brown_sequence(folder: str,
                         num_points: int,
                         patches_per_point: Union[int, Sequence[int]],
                         num_test_pairs: int,
                         seed: int,
                         sequence_index: int = 0) -> Dict[str, int]:
    """Write one Brown-format sequence folder (bitmaps, info, m50 pairs).

    Patches of a point are consecutive (as in the release). The pairs file
    ``m50_<n>_<n>_0.txt`` holds ``n = num_test_pairs`` lines, the first half
    (rounded up) matching, in the release's seven-column format with the
    unused columns written as 0.

    Returns:
        dict: ``num_patches``, ``num_points``, ``num_pairs``, ``pairs_file``
        (the file name).
    """
    if isinstance(patches_per_point, (int, np.integer)):
        patches_per_point = (int(patches_per_point), ) * 2
    low, high = (int(v) for v in patches_per_point)
    if not 2 <= low <= high:
        raise ValueError('make_synthetic_patches: patches_per_point must be '
                         '>= 2 (an int or a (min, max) range), got '
                         f'{patches_per_point!r}')
    os.makedirs(folder, exist_ok=True)
    patches, point_ids = [], []
    for point in range(num_points):
        rng = np.random.default_rng(
            (seed, _TEXTURE_STREAM, sequence_index, point))
        texture = render_texture(rng)
        count = int(rng.integers(low, high + 1))
        for view in range(count):
            view_rng = np.random.default_rng(
                (seed, _VIEW_STREAM, sequence_index, point, view))
            patches.append(render_view(texture, view_rng, RELEASE_PATCH_SIZE))
            point_ids.append(point)
    size = RELEASE_PATCH_SIZE
    grid = 1024 // size
    per_bitmap = grid * grid
    for index, start in enumerate(range(0, len(patches), per_bitmap)):
        bitmap = np.zeros((1024, 1024), np.uint8)
        for k, patch in enumerate(patches[start:start + per_bitmap]):
            row, col = divmod(k, grid)
            bitmap[row * size:(row + 1) * size,
                   col * size:(col + 1) * size] = patch
        cv2.imwrite(osp.join(folder, f'patches{index:04d}.bmp'), bitmap)
    with open(osp.join(folder, 'info.txt'), 'w') as f:
        f.writelines(f'{point} 0\n' for point in point_ids)
    point_ids = np.asarray(point_ids)
    rng = np.random.default_rng((seed, _PAIR_STREAM, sequence_index))
    starts = np.searchsorted(point_ids, np.arange(num_points))
    counts = np.bincount(point_ids, minlength=num_points)
    lines = []
    num_match = (num_test_pairs + 1) // 2
    for i in range(num_test_pairs):
        if i < num_match:
            point = int(rng.integers(num_points))
            a, b = rng.choice(counts[point], 2, replace=False)
            first, second = starts[point] + a, starts[point] + b
        else:
            first, second = rng.choice(len(point_ids), 2, replace=False)
            while point_ids[first] == point_ids[second]:
                first, second = rng.choice(len(point_ids), 2, replace=False)
        lines.append(f'{first} {point_ids[first]} 0 {second} '
                     f'{point_ids[second]} 0 0\n')
    pairs_file = f'm50_{num_test_pairs}_{num_test_pairs}_0.txt'
    with open(osp.join(folder, pairs_file), 'w') as f:
        f.writelines(lines)
    return dict(
        num_patches=len(patches),
        num_points=num_points,
        num_pairs=num_test_pairs,
        pairs_file=pairs_file)


def write_hpatches_sequence(folder: str, num_patches: int, seed: int,
                            sequence_index: int) -> None:
    """Write one hpatches-release sequence: 16 stacks of 65x65 patches.

    Even sequences are illumination (``i_``) sequences: each image has its
    own global gain / bias / gamma; odd ones are viewpoint (``v_``)
    sequences: each image has its own global affine distortion. On top,
    every patch of image ``e*`` / ``h*`` / ``t*`` gets a per-patch jitter of
    increasing strength (:data:`HPATCHES_LEVELS`); ``ref`` is the canonical
    view.
    """
    os.makedirs(folder, exist_ok=True)
    illumination = sequence_index % 2 == 0
    textures = [
        render_texture(
            np.random.default_rng(
                (seed, _HP_TEXTURE_STREAM, sequence_index, k)))
        for k in range(num_patches)
    ]
    for image_index, name in enumerate(HPATCHES_IMAGES):
        image_rng = np.random.default_rng(
            (seed, _HP_IMAGE_STREAM, sequence_index, image_index))
        level = 0.0 if name == 'ref' else HPATCHES_LEVELS[name[0]]
        base_affine, base_photo = None, (1.0, 0.0, 1.0)
        if name != 'ref':
            if illumination:
                base_photo = (float(np.exp(image_rng.normal(0, 0.3))),
                              float(image_rng.normal(0, 0.08)),
                              float(np.exp(image_rng.normal(0, 0.3))))
            else:
                base_affine = np.eye(2) + image_rng.normal(0, 0.12, (2, 2))
        stack = [
            render_view(
                textures[k],
                np.random.default_rng(
                    (seed, _HP_PATCH_STREAM, sequence_index, image_index, k)),
                HPATCHES_PATCH_SIZE,
                geometric=level,
                photometric=0.5 * level,
                base_affine=base_affine,
                base_photo=base_photo) for k in range(num_patches)
        ]
        cv2.imwrite(osp.join(folder, f'{name}.png'), np.concatenate(stack))


def make_synthetic_patches(root: str,
                           brown_sequences: Sequence[str] = ('liberty',
                                                             'notredame',
                                                             'yosemite'),
                           num_points: int = 1000,
                           patches_per_point: Union[int,
                                                    Sequence[int]] = (2, 4),
                           num_test_pairs: int = 2000,
                           num_hpatches_sequences: int = 8,
                           hpatches_patches_per_sequence: int = 100,
                           seed: int = 0) -> Dict[str, Dict]:
    """Write synthetic Brown sequences and an hpatches-release folder.

    The defaults are :data:`DEMO_PATCHES_PRESET`;
    :data:`TINY_PATCHES_PRESET` makes a set for unit tests.

    Args:
        root (str): Output folder; must be missing or empty.
        brown_sequences (Sequence[str]): Names of the Brown sequence folders
            under ``<root>/brown`` (each with its own points).
        num_points (int): 3D points per Brown sequence.
        patches_per_point (int | tuple[int, int]): Patches per point, fixed
            or an inclusive ``(min, max)`` range; at least 2.
        num_test_pairs (int): Lines of each ``m50_<n>_<n>_0.txt``.
        num_hpatches_sequences (int): Sequences under
            ``<root>/hpatches-release``, alternately ``i_`` and ``v_``; 0
            writes none.
        hpatches_patches_per_sequence (int): Patches per HPatches image.
        seed (int): Seed of everything; equal seeds give equal files.

    Returns:
        dict: ``brown``: sequence -> counts (see
        :func:`write_brown_sequence`); ``hpatches``: the sequence names.
    """
    if osp.exists(root) and (not osp.isdir(root) or os.listdir(root)):
        raise FileExistsError(
            f'make_synthetic_patches: {root!r} exists and is not an empty '
            'folder; choose a new root')
    if isinstance(brown_sequences, str):
        brown_sequences = [brown_sequences]
    num_points = _check_positive('num_points', num_points)
    num_test_pairs = _check_positive('num_test_pairs', num_test_pairs)
    if num_points < 2:
        raise ValueError('make_synthetic_patches: num_points must be >= 2 '
                         'for non-matching pairs')
    if not isinstance(num_hpatches_sequences, int) or \
            num_hpatches_sequences < 0:
        raise ValueError('make_synthetic_patches: num_hpatches_sequences '
                         'must be an int >= 0, got '
                         f'{num_hpatches_sequences!r}')
    hp_patches = _check_positive('hpatches_patches_per_sequence',
                                 hpatches_patches_per_sequence)
    summary = dict(brown={}, hpatches=[])
    for index, name in enumerate(brown_sequences):
        summary['brown'][name] = write_brown_sequence(
            osp.join(root, 'brown', name),
            num_points,
            patches_per_point,
            num_test_pairs,
            seed,
            sequence_index=index)
    for index in range(num_hpatches_sequences):
        name = f"{'i' if index % 2 == 0 else 'v'}_synthetic{index:02d}"
        write_hpatches_sequence(
            osp.join(root, 'hpatches-release', name), hp_patches, seed, index)
        summary['hpatches'].append(name)
    return summary
