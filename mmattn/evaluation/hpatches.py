"""HPatches (Balntas et al. 2017) evaluation from the hpatches-release layout.

The release holds one folder per sequence, ``i_*`` (illumination changes)
or ``v_*`` (viewpoint changes), each with 16 images ``ref``, ``e1..e5``,
``h1..h5``, ``t1..t5``: a vertical stack of N 65x65 grayscale patches
(height 65 * N). Patch i of every image of a sequence shows the same scene
point; ``e`` / ``h`` / ``t`` (easy, hard, tough) add increasing geometric
noise to the detections.

The official benchmark (the ``hpatches-benchmark`` code) reads predefined
pair and split files that the release does not contain, so this module
generates its pairs deterministically from ``seed`` and computes the three
tasks in a simplified form, averaged like the papers of seed 002 (Xu et al.
2019: "the average performance of all different factors"):

- **Verification** (per difficulty d): positives are ``(ref[i], d_k[i])``
  for k in 1..5; negatives are ``(ref[i], d_k[j])`` with j != i of the same
  sequence (*intra*) or of another sequence (*inter*), as many as the
  positives (the official task also has an imbalanced 1:10 variant and uses
  its own fixed pair lists). Pairs are ranked by descriptor distance;
  the score of d is the mean of the intra and inter average precisions.
- **Matching** (per difficulty d): for every sequence and k, each ``ref``
  patch is matched to its nearest neighbour among the patches of ``d_k``;
  the N matches are ranked by distance, a match is correct when it picks
  the same index, and AP is computed with all N patches as the relevant
  set (as the official matching task); the score is the mean over
  sequences and images.
- **Retrieval** (per difficulty d): every (sampled) ``ref`` patch is a
  query; the gallery holds the patches of ``d_1..d_5`` at the query
  indices (5 relevant items per query) plus ``max_distractors`` patches
  of ``d_1..d_5`` at other indices, from all sequences (the official task
  uses fixed distractor pools of several sizes); the score is the mean AP
  over the queries.

The overall score of each task is the mean over e / h / t, in percent.
"""
import os
import os.path as osp
from collections import OrderedDict
from typing import Callable, Dict, Optional, Sequence

import cv2
import numpy as np

#: Side of an HPatches patch.
PATCH_SIZE = 65
#: The 16 images of a sequence, reference first.
IMAGE_NAMES = ('ref', *(f'{d}{k}' for d in 'eht' for k in range(1, 6)))
#: Difficulty name of each image prefix.
DIFFICULTIES = OrderedDict(e='easy', h='hard', t='tough')
TASKS = ('verification', 'matching', 'retrieval')


def load_hpatches_sequence(folder: str) -> Dict[str, np.ndarray]:
    """The 16 patch stacks of one sequence folder.

    Returns:
        dict[str, np.ndarray]: image name -> (N, 65, 65) uint8.
    """
    stacks = {}
    for name in IMAGE_NAMES:
        path = osp.join(folder, f'{name}.png')
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'HPatches: {path!r} is missing; every sequence folder of '
                f'the release holds {", ".join(IMAGE_NAMES)} (.png)')
        image = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise ValueError(f'HPatches: cannot read image {path!r}')
        height, width = image.shape
        if width != PATCH_SIZE or height % PATCH_SIZE or not height:
            raise ValueError(
                f'HPatches: {path!r} is {width}x{height}; expected a '
                f'vertical stack of {PATCH_SIZE}x{PATCH_SIZE} patches '
                f'({PATCH_SIZE} wide, a multiple of {PATCH_SIZE} high)')
        stacks[name] = image.reshape(-1, PATCH_SIZE, PATCH_SIZE)
    counts = {name: len(stack) for name, stack in stacks.items()}
    if len(set(counts.values())) != 1:
        raise ValueError(f'HPatches: the images of {folder!r} hold different '
                         f'numbers of patches: {counts}')
    return stacks


def load_hpatches(
    root: str,
    sequences: Optional[Sequence[str]] = None
) -> 'OrderedDict[str, Dict[str, np.ndarray]]':
    """All (or the named) sequences of an hpatches-release folder, sorted."""
    if not osp.isdir(root):
        raise FileNotFoundError(f'HPatches: root {root!r} is not a '
                                'directory; expected hpatches-release')
    if sequences is None:
        sequences = sorted(
            name for name in os.listdir(root)
            if osp.isdir(osp.join(root, name)) and name[:2] in ('i_', 'v_'))
    if not sequences:
        raise ValueError(f'HPatches: no i_* or v_* sequence folders in '
                         f'{root!r}')
    return OrderedDict((name, load_hpatches_sequence(osp.join(root, name)))
                       for name in sequences)


def compute_hpatches_descriptors(
        data: Dict[str, Dict[str, np.ndarray]],
        describe: Callable[[np.ndarray], np.ndarray],
        patch_size: int = 32,
        batch_size: int = 512) -> Dict[str, Dict[str, np.ndarray]]:
    """Descriptors of every patch, resized to ``patch_size`` (area).

    Args:
        data: Output of :func:`load_hpatches`.
        describe: Maps a (B, patch_size, patch_size) uint8 batch to (B, D)
            descriptors.

    Returns:
        Same nesting as ``data`` with (N, D) float32 arrays.
    """
    out = OrderedDict()
    for seq, stacks in data.items():
        out[seq] = {}
        for name, stack in stacks.items():
            resized = np.stack([
                cv2.resize(
                    p, (patch_size, patch_size), interpolation=cv2.INTER_AREA)
                for p in stack
            ])
            out[seq][name] = np.concatenate([
                np.asarray(describe(resized[i:i + batch_size]), np.float32)
                for i in range(0, len(resized), batch_size)
            ])
    return out


def average_precision(distances: np.ndarray,
                      labels: np.ndarray,
                      num_relevant: Optional[int] = None) -> float:
    """AP of items ranked by increasing distance (stable for ties).

    ``AP = (1 / R) * sum over relevant ranks k of precision@k`` with R
    ``num_relevant`` (defaults to the number of true labels; a larger R
    counts relevant items that were never retrieved as misses).
    """
    labels = np.asarray(labels, dtype=bool)
    relevant = int(labels.sum()) if num_relevant is None else num_relevant
    if relevant <= 0:
        raise ValueError('average_precision: no relevant item')
    order = np.argsort(np.asarray(distances), kind='stable')
    hits = labels[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / relevant)


class _Stacked:
    """Descriptors of all sequences as one (16, total, D) array."""

    def __init__(self, descriptors):
        self.sequences = list(descriptors)
        counts = [len(descriptors[s]['ref']) for s in self.sequences]
        self.offsets = np.concatenate([[0], np.cumsum(counts)])
        self.seq_of = np.repeat(np.arange(len(counts)), counts)
        self.array = np.stack([
            np.concatenate([descriptors[s][name] for s in self.sequences])
            for name in IMAGE_NAMES
        ])
        self.total = self.offsets[-1]

    def image(self, prefix: str, k: int) -> int:
        return IMAGE_NAMES.index(f'{prefix}{k}')


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(a - b, axis=-1)


def _redraw_until(rng, draw, bad, max_rounds=1000):
    """Vectorised rejection sampling: redraw the entries where ``bad``."""
    values = draw(None)
    for _ in range(max_rounds):
        mask = bad(values)
        if not mask.any():
            return values
        values[mask] = draw(int(mask.sum()))
    raise RuntimeError('HPatches: could not sample valid negatives')


def verification_map(descriptors,
                     seed: int = 0,
                     max_positives: int = 50000) -> Dict[str, float]:
    """Verification AP per difficulty (see the module docstring)."""
    st = _Stacked(descriptors)
    if len(st.sequences) < 2:
        raise ValueError('HPatches verification: inter-sequence negatives '
                         'need at least 2 sequences')
    if np.diff(st.offsets).min() < 2:
        raise ValueError('HPatches verification: every sequence needs at '
                         'least 2 patches')
    scores = {}
    for d_index, prefix in enumerate(DIFFICULTIES):
        rng = np.random.default_rng((seed, 1, d_index))
        total = st.total * 5
        pick = np.arange(total) if total <= max_positives else rng.choice(
            total, max_positives, replace=False)
        g, k = pick // 5, pick % 5 + 1
        images = np.array([st.image(prefix, int(v)) for v in k])
        ref = st.array[0, g]
        positive = _distance(ref, st.array[images, g])
        seq = st.seq_of[g]
        size = np.diff(st.offsets)[seq]
        local = g - st.offsets[seq]
        intra = st.offsets[seq] + (local + 1 +
                                   rng.integers(0, size - 1)) % size
        inter = _redraw_until(
            rng, lambda n: rng.integers(0, st.total,
                                        len(g) if n is None else n),
            lambda v: st.seq_of[v] == seq)
        aps = []
        for other in (intra, inter):
            negative = _distance(ref, st.array[images, other])
            aps.append(
                average_precision(
                    np.concatenate([positive, negative]),
                    np.r_[np.ones(len(positive), bool),
                          np.zeros(len(negative), bool)]))
        scores[DIFFICULTIES[prefix]] = 100.0 * float(np.mean(aps))
    return scores


def matching_map(descriptors) -> Dict[str, float]:
    """Matching AP per difficulty (see the module docstring)."""
    scores = {}
    for prefix in DIFFICULTIES:
        aps = []
        for stacks in descriptors.values():
            ref = stacks['ref']
            for k in range(1, 6):
                target = stacks[f'{prefix}{k}']
                dist = _distance(ref[:, None], target[None])
                nearest = dist.argmin(axis=1)
                rows = np.arange(len(ref))
                aps.append(
                    average_precision(
                        dist[rows, nearest],
                        nearest == rows,
                        num_relevant=len(ref)))
        scores[DIFFICULTIES[prefix]] = 100.0 * float(np.mean(aps))
    return scores


def retrieval_map(descriptors,
                  seed: int = 0,
                  max_queries: int = 1000,
                  max_distractors: int = 20000) -> Dict[str, float]:
    """Retrieval mAP per difficulty (see the module docstring)."""
    st = _Stacked(descriptors)
    scores = {}
    for d_index, prefix in enumerate(DIFFICULTIES):
        rng = np.random.default_rng((seed, 3, d_index))
        queries = np.arange(st.total) if st.total <= max_queries else \
            np.sort(rng.choice(st.total, max_queries, replace=False))
        images = np.array([st.image(prefix, k) for k in range(1, 6)])
        others = np.setdiff1d(np.arange(st.total), queries)
        candidates = len(others) * 5
        pick = np.arange(candidates) if candidates <= max_distractors else \
            rng.choice(candidates, max_distractors, replace=False)
        gallery_index = np.concatenate(
            [np.repeat(queries, 5), others[pick // 5]])
        gallery_image = np.concatenate(
            [np.tile(images, len(queries)), images[pick % 5]])
        gallery = st.array[gallery_image, gallery_index]
        aps = []
        for start in range(0, len(queries), 256):
            chunk = queries[start:start + 256]
            dist = _distance(st.array[0, chunk][:, None], gallery[None])
            for row, query in zip(dist, chunk):
                aps.append(average_precision(row, gallery_index == query))
        scores[DIFFICULTIES[prefix]] = 100.0 * float(np.mean(aps))
    return scores


def evaluate_hpatches(descriptors,
                      seed: int = 0,
                      max_positives: int = 50000,
                      max_queries: int = 1000,
                      max_distractors: int = 20000) -> Dict[str, float]:
    """All three tasks: ``<task>_<difficulty>`` and ``<task>`` (the mean
    over difficulties), in percent.

    Args:
        descriptors: Output of :func:`compute_hpatches_descriptors`.
        seed (int): Seed of the generated pairs, queries and distractors.
        max_positives (int): Positive verification pairs per difficulty.
        max_queries (int): Retrieval queries per difficulty.
        max_distractors (int): Retrieval distractors per difficulty.
    """
    results = OrderedDict()
    per_task = OrderedDict(
        verification=verification_map(descriptors, seed, max_positives),
        matching=matching_map(descriptors),
        retrieval=retrieval_map(descriptors, seed, max_queries,
                                max_distractors))
    for task, scores in per_task.items():
        for difficulty, value in scores.items():
            results[f'{task}_{difficulty}'] = value
        results[task] = float(np.mean(list(scores.values())))
    return results
