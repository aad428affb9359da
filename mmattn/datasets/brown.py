"""Brown / UBC Phototour patches (Brown and Lowe 2007) in the release format.

A sequence folder (``liberty``, ``notredame``, ``yosemite``) of the release
holds:

- ``patches0000.bmp``, ``patches0001.bmp``, ...: 1024x1024 grayscale
  bitmaps, each a 16x16 grid of 64x64 patches in row-major order; patch
  ``k`` is cell ``k % 256`` of bitmap ``k // 256`` (the last bitmap is only
  partly filled);
- ``info.txt``: one line per patch, in patch order, ``3DpointID unused``
  (two integers); patches with the same 3D point id show the same scene
  point, i.e. they match;
- ``m50_<n>_<n>_0.txt`` (e.g. ``m50_100000_100000_0.txt``, the standard
  test set of 50,000 matching and 50,000 non-matching pairs): one pair per
  line, seven integers ``patchID1 3DpointID1 unused1 patchID2 3DpointID2
  unused2 unused3``; a pair matches when the two 3D point ids are equal.
  (The release's ``interest.txt`` is not needed.)

Training pairs are drawn from ``info.txt`` (two different patches of one 3D
point, as HardNet); test pairs are read from the m50 file.
"""
import glob
import os.path as osp
import re
from typing import Dict, List, Sequence, Tuple, Union

import cv2
import numpy as np
from mmengine.dataset import BaseDataset

from mmattn.registry import DATASETS

#: Side of a patch in the release bitmaps.
RELEASE_PATCH_SIZE = 64
#: Standard test pairs file of every sequence.
DEFAULT_PAIRS_FILE = 'm50_100000_100000_0.txt'
_BITMAP_NAME = re.compile(r'^patches(\d+)\.bmp$')


def _parse_int_fields(path: str, line_no: int, line: str, expected: int,
                      layout: str) -> List[int]:
    fields = line.split()
    if len(fields) != expected:
        raise ValueError(f'{path}:{line_no}: expected {expected} integers '
                         f'({layout}), got {line.strip()!r}')
    try:
        return [int(field) for field in fields]
    except ValueError:
        raise ValueError(f'{path}:{line_no}: expected {expected} integers '
                         f'({layout}), got {line.strip()!r}') from None


def read_info_file(path: str) -> np.ndarray:
    """3D point id of every patch, from a release ``info.txt``.

    Returns:
        np.ndarray: (N, ) int64; blank lines are not allowed.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'Brown: {path!r} not found; every sequence '
                                'folder of the release has an info.txt')
    point_ids = []
    with open(path) as f:
        for line_no, line in enumerate(f, start=1):
            point_id, _ = _parse_int_fields(path, line_no, line, 2,
                                            '3DpointID unused')
            if point_id < 0:
                raise ValueError(f'{path}:{line_no}: negative 3D point id '
                                 f'{point_id}')
            point_ids.append(point_id)
    if not point_ids:
        raise ValueError(f'{path}: no patches listed')
    return np.asarray(point_ids, dtype=np.int64)


def read_pairs_file(path: str, point_ids: np.ndarray) -> np.ndarray:
    """Pairs of a release ``m50_*.txt`` file, checked against ``info.txt``.

    Args:
        path (str): The pairs file.
        point_ids (np.ndarray): 3D point id of every patch (``info.txt``).

    Returns:
        np.ndarray: (M, 2) int64 patch ids.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'Brown: pairs file {path!r} not found')
    layout = ('patchID1 3DpointID1 unused1 patchID2 3DpointID2 unused2 '
              'unused3')
    pairs = []
    with open(path) as f:
        for line_no, line in enumerate(f, start=1):
            fields = _parse_int_fields(path, line_no, line, 7, layout)
            for patch, point in ((fields[0], fields[1]), (fields[3],
                                                          fields[4])):
                if not 0 <= patch < len(point_ids):
                    raise ValueError(
                        f'{path}:{line_no}: patch id {patch} out of range; '
                        f'info.txt lists {len(point_ids)} patches')
                if point_ids[patch] != point:
                    raise ValueError(
                        f'{path}:{line_no}: patch {patch} has 3D point '
                        f'{point} here but {point_ids[patch]} in info.txt')
            pairs.append((fields[0], fields[3]))
    if not pairs:
        raise ValueError(f'{path}: no pairs listed')
    return np.asarray(pairs, dtype=np.int64)


def read_patches(folder: str,
                 num_patches: int,
                 patch_size: int = 32) -> np.ndarray:
    """The first ``num_patches`` patches of a sequence's bitmaps.

    Args:
        folder (str): Sequence folder holding ``patches*.bmp``.
        num_patches (int): Patches to read (the length of ``info.txt``).
        patch_size (int): Output side; the 64x64 patches are area-resized.

    Returns:
        np.ndarray: (num_patches, patch_size, patch_size) uint8.
    """
    found = {}
    for path in glob.glob(osp.join(folder, 'patches*.bmp')):
        match = _BITMAP_NAME.match(osp.basename(path))
        if match:
            found[int(match.group(1))] = path
    out = np.empty((num_patches, patch_size, patch_size), dtype=np.uint8)
    size = RELEASE_PATCH_SIZE
    start = 0
    index = 0
    while start < num_patches:
        if index not in found:
            raise FileNotFoundError(
                f'Brown: bitmap patches{index:04d}.bmp is missing in '
                f'{folder!r}; info.txt lists {num_patches} patches, which '
                f'need {-(-num_patches // 256)} bitmaps of 256')
        image = cv2.imread(found[index], cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise ValueError(f'Brown: cannot read bitmap {found[index]!r}')
        height, width = image.shape
        if height % size or width % size:
            raise ValueError(
                f'Brown: bitmap {found[index]!r} is {width}x{height}; '
                f'expected a grid of {size}x{size} patches (1024x1024)')
        rows, cols = height // size, width // size
        # (rows, size, cols, size) -> row-major list of patches.
        grid = image.reshape(rows, size, cols, size).transpose(0, 2, 1, 3)
        grid = grid.reshape(rows * cols, size, size)
        count = min(rows * cols, num_patches - start)
        out[start:start + count] = resize_patches(grid[:count], patch_size)
        start += count
        index += 1
    return out


def resize_patches(patches: np.ndarray, patch_size: int) -> np.ndarray:
    """Area-resize (N, S, S) uint8 patches to (N, patch_size, patch_size)."""
    size = patches.shape[1]
    if size == patch_size:
        return patches
    if size % patch_size == 0:
        # An integer factor: area resizing is a block mean.
        f = size // patch_size
        blocks = patches.reshape(-1, patch_size, f, patch_size, f)
        return np.rint(blocks.mean(axis=(2, 4))).astype(np.uint8)
    return np.stack([
        cv2.resize(p, (patch_size, patch_size), interpolation=cv2.INTER_AREA)
        for p in patches
    ]) if len(patches) else np.empty((0, patch_size, patch_size), np.uint8)


def sample_training_pairs(point_ids: np.ndarray, num_pairs: int,
                          chunk_size: int, seed: int) -> np.ndarray:
    """HardNet's positive pairs: two different patches of one 3D point.

    Points with at least two patches are drawn uniformly, without
    repetition inside each run of ``chunk_size`` consecutive pairs (so a
    sequential batch of that size holds distinct points, every off-diagonal
    pair in the HardNet loss being a true non-match).

    Returns:
        np.ndarray: (num_pairs, 2) int64 patch ids.
    """
    order = np.argsort(point_ids, kind='stable')
    points, starts, counts = np.unique(
        point_ids[order], return_index=True, return_counts=True)
    usable = counts >= 2
    if usable.sum() < chunk_size:
        raise ValueError(
            f'Brown: {int(usable.sum())} 3D points have two or more patches, '
            f'fewer than chunk_size={chunk_size} distinct points per batch')
    starts, counts = starts[usable], counts[usable]
    rng = np.random.default_rng(seed)
    chosen = np.concatenate([
        rng.choice(
            len(starts),
            size=min(chunk_size, num_pairs - begin),
            replace=False) for begin in range(0, num_pairs, chunk_size)
    ])
    count = counts[chosen]
    first = rng.integers(0, count)
    # A different second patch: shift by 1..count-1 (mod count).
    second = (first + 1 + rng.integers(0, count - 1)) % count
    base = starts[chosen]
    return np.stack([order[base + first], order[base + second]], axis=1)


@DATASETS.register_module()
class BrownDataset(BaseDataset):
    """Patch pairs of one or more Brown sequences.

    Each sample is a pair: ``img`` (2, patch_size, patch_size) uint8, with
    ``patch_ids``, ``point_ids``, ``is_match`` and ``sequence``. For
    training, ``num_pairs`` positive pairs are drawn once from ``info.txt``
    (deterministically from ``seed``; HardNet draws 5M); for testing, the
    pairs of ``pairs_file`` are read. With several training sequences the
    point ids of the later ones are offset so that they never collide.

    Args:
        data_root (str): Folder holding the sequence folders.
        sequences (str | Sequence[str]): Sequence folder names, e.g.
            ``'liberty'`` or ``['notredame', 'yosemite']``.
        split (str): ``'train'`` (pairs from info.txt) or ``'test'`` (pairs
            from ``pairs_file``).
        num_pairs (int): Training pairs. Defaults to 5,000,000.
        chunk_size (int): Runs of this many consecutive training pairs have
            distinct 3D points; set it to the batch size with a
            non-shuffling sampler (HardNet). Defaults to 1024.
        pairs_file (str): Test pairs file inside each sequence folder.
        patch_size (int): Side the 64x64 patches are resized to.
            Defaults to 32.
        seed (int): Seed of the training pairs. Defaults to 0.
        pipeline (Sequence[dict]): Data transforms.
        **kwargs: Other :class:`mmengine.dataset.BaseDataset` arguments
            (``indices`` is not supported).
    """

    METAINFO = dict(dataset='Brown')

    def __init__(self,
                 data_root: str,
                 sequences: Union[str, Sequence[str]] = 'liberty',
                 split: str = 'train',
                 num_pairs: int = 5_000_000,
                 chunk_size: int = 1024,
                 pairs_file: str = DEFAULT_PAIRS_FILE,
                 patch_size: int = 32,
                 seed: int = 0,
                 pipeline: Sequence = (),
                 **kwargs):
        if split not in ('train', 'test'):
            raise ValueError(f"BrownDataset: split must be 'train' or 'test',"
                             f' got {split!r}')
        if isinstance(sequences, str):
            sequences = [sequences]
        if not sequences or not all(
                isinstance(s, str) and s for s in sequences):
            raise ValueError('BrownDataset: sequences must be a non-empty '
                             f'str or list of str, got {sequences!r}')
        for name, value in (('num_pairs', num_pairs),
                            ('chunk_size', chunk_size), ('patch_size',
                                                         patch_size)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'BrownDataset: {name} must be a positive '
                                 f'int, got {value!r}')
        if kwargs.get('indices') is not None:
            raise ValueError('BrownDataset: indices is not supported; use '
                             'num_pairs to limit the training pairs')
        if not osp.isdir(data_root):
            raise FileNotFoundError(
                f'BrownDataset: data_root {data_root!r} is not a directory; '
                'expected the folder holding the sequence folders')
        self.sequences = list(sequences)
        self.split = split
        self.num_pairs = num_pairs
        self.chunk_size = chunk_size
        self.pairs_file = pairs_file
        self.patch_size = patch_size
        self.seed = seed
        kwargs.setdefault('test_mode', split == 'test')
        kwargs['serialize_data'] = False
        super().__init__(
            data_root=data_root, pipeline=list(pipeline), **kwargs)

    def full_init(self):
        """Read the sequences into arrays; the pairs are never turned into a
        list of dicts (millions of training pairs)."""
        if self._fully_initialized:
            return
        # Text files first (cheap, and the pair checks fail fast), then
        # the bitmaps.
        folders, point_ids, pairs, seq_of_pair = [], [], [], []
        patch_offset = point_offset = 0
        for seq_index, name in enumerate(self.sequences):
            folder = osp.join(self.data_root, name)
            if not osp.isdir(folder):
                raise FileNotFoundError(
                    f'BrownDataset: sequence folder {folder!r} not found')
            points = read_info_file(osp.join(folder, 'info.txt'))
            if self.split == 'test':
                seq_pairs = read_pairs_file(
                    osp.join(folder, self.pairs_file), points)
                pairs.append(seq_pairs + patch_offset)
                seq_of_pair.append(np.full(len(seq_pairs), seq_index))
            folders.append((folder, len(points)))
            point_ids.append(points + point_offset)
            patch_offset += len(points)
            point_offset += int(points.max()) + 1
        self.point_ids = np.concatenate(point_ids)
        if self.split == 'train':
            self.pairs = sample_training_pairs(self.point_ids, self.num_pairs,
                                               self.chunk_size, self.seed)
            # Which sequence a training pair comes from.
            bounds = np.cumsum([count for _, count in folders])
            self.pair_sequence = np.searchsorted(
                bounds, self.pairs[:, 0], side='right')
        else:
            self.pairs = np.concatenate(pairs)
            self.pair_sequence = np.concatenate(seq_of_pair)
        self.patches = np.concatenate([
            read_patches(folder, count, self.patch_size)
            for folder, count in folders
        ])
        self.data_list = []
        self._metainfo.update(
            sequences=list(self.sequences),
            num_patches=len(self.patches),
            num_points=len(np.unique(self.point_ids)),
            num_pairs=len(self.pairs),
            num_matching_pairs=int(self._is_match().sum()))
        self._fully_initialized = True

    def _is_match(self) -> np.ndarray:
        return self.point_ids[self.pairs[:,
                                         0]] == self.point_ids[self.pairs[:,
                                                                          1]]

    def load_data_list(self) -> List[dict]:
        # full_init reads the release files into arrays itself.
        return []

    def __len__(self) -> int:
        if not self._fully_initialized:
            self.full_init()
        return len(self.pairs)

    def get_data_info(self, idx: int) -> Dict:
        first, second = (int(i) for i in self.pairs[idx])
        point_ids = (int(self.point_ids[first]), int(self.point_ids[second]))
        return dict(
            img=np.stack([self.patches[first], self.patches[second]]),
            patch_ids=(first, second),
            point_ids=point_ids,
            is_match=point_ids[0] == point_ids[1],
            sequence=self.sequences[int(self.pair_sequence[idx])],
            sample_idx=idx)

    def pair_labels(self) -> Tuple[np.ndarray, np.ndarray]:
        """``(pairs (M, 2), is_match (M, ))`` without loading images."""
        if not self._fully_initialized:
            self.full_init()
        return self.pairs, self._is_match()
