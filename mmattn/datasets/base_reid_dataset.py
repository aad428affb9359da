"""The base of every Re-ID dataset: parse a release layout into train /
query / gallery."""
import contextlib
import multiprocessing
import os
import os.path as osp
import random
import re
import warnings
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dataset import BaseDataset

from mmattn.registry import DATASETS

#: (image path, person id, camera id) as parsed from the release files.
Record = Tuple[str, int, int]

SPLITS = ('train', 'query', 'gallery', 'test')

#: Extensions of image files: one of these that is not the release's own
#: (a ``.png`` among Market-1501's ``.jpg``) is passed over with a warning.
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp',
                    '.ppm', '.pgm')


def check_camera(dataset: str, cam: int, source: str) -> int:
    """The 0-based camera of a 1-based camera number read from ``source``.

    Raises:
        ValueError: camera 0, naming the file (or list line): the releases
            number their cameras from 1, so 0 would become camera -1.
    """
    if cam < 1:
        raise ValueError(
            f'{dataset}: {source!r} has camera {cam}; the cameras of this '
            'release are numbered from 1 (c1, c2, ...). Rename the file '
            'with its real camera')
    return cam - 1


class _SharedEpochSeed:
    """``(seed, epoch)`` in shared memory, readable by DataLoader workers.

    Persistent workers keep the dataset object they were started with, so
    a plain attribute set in the main process at an epoch start never
    reaches them; this array does (it is inherited by forked workers and
    passed to spawned ones). A deep copy of the dataset shares it.
    """

    def __init__(self):
        # [is set, seed, epoch]
        self.values = multiprocessing.RawArray('q', 3)

    def set(self, seed: int, epoch: int) -> None:
        self.values[1], self.values[2], self.values[0] = seed, epoch, 1

    def get(self) -> Optional[Tuple[int, int]]:
        if not self.values[0]:
            return None
        return self.values[1], self.values[2]

    def __deepcopy__(self, memo):
        return self


@contextlib.contextmanager
def _seeded(seed: int, restore: bool):
    """Seed python, numpy and torch; put the previous states back after if
    ``restore`` (in the main process, where the model draws from them)."""
    if restore:
        states = (random.getstate(), np.random.get_state(),
                  torch.get_rng_state())
    random.seed(seed)
    np.random.seed(seed)
    # The CPU generator only (what transforms draw from): torch.manual_seed
    # would also reseed the CUDA generators the model draws from.
    torch.default_generator.manual_seed(seed)
    try:
        yield
    finally:
        if restore:
            random.setstate(states[0])
            np.random.set_state(states[1])
            torch.set_rng_state(states[2])


class EpochSeededSampling:
    """Mixin for an mmengine dataset: the random draws of its pipeline are
    a function of ``(seed, epoch, sample index)`` once
    :meth:`set_epoch_seed` was called (by :class:`EpochSeedHook` at every
    epoch start).

    Then it does not matter which process loads a sample, whether the
    loader workers are persistent or restarted, or whether the training
    was resumed: the same epoch gives the same augmented samples, which is
    what makes a resumed training repeat an uninterrupted one exactly.
    """

    def set_epoch_seed(self, seed: int, epoch: int) -> None:
        """Make the augmentations of ``epoch`` depend on ``seed`` only."""
        self._epoch_seed.set(int(seed), int(epoch))

    def sample_seed(self, idx: int) -> Optional[int]:
        """The seed of sample ``idx`` in the current epoch (None before
        :meth:`set_epoch_seed`)."""
        current = self._epoch_seed.get()
        if current is None:
            return None
        seed, epoch = current
        return int(
            np.random.SeedSequence([seed % 2**63, epoch,
                                    int(idx)]).generate_state(1)[0])

    def __getitem__(self, idx: int):
        seed = self.sample_seed(idx)
        if seed is None:
            return super().__getitem__(idx)
        in_main = torch.utils.data.get_worker_info() is None
        with _seeded(seed, restore=in_main):
            return super().__getitem__(idx)


class BaseReIDDataset(EpochSeededSampling, BaseDataset):
    """A person Re-ID dataset in a standard release layout.

    Subclasses say where each split lives and how a file name encodes the
    person id and camera: their ``parse_split(split)`` returns the records
    (path, pid, 0-based camera) of ``'train'``, ``'query'`` or
    ``'gallery'``. This class validates the result, relabels training
    identities contiguously and builds mmengine data infos with the keys
    ``img_path``, ``gt_label`` (person id), ``camera_id`` (0-based) and
    ``is_query``. Its augmentations are a
    function of (seed, epoch, sample index) during training
    (:class:`EpochSeededSampling`).

    Args:
        data_root (str): Root folder of the release (e.g. ``data/market1501``).
        split (str): ``'train'``, ``'query'``, ``'gallery'`` or ``'test'``
            (query followed by gallery, what :class:`ReIDMetric` evaluates).
        relabel (bool, optional): Map person ids to ``0..num_ids-1``.
            Defaults to True for ``'train'`` and False otherwise.
        pipeline (Sequence[dict]): Data transforms.
        **kwargs: Other arguments of :class:`mmengine.dataset.BaseDataset`.
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 relabel: Optional[bool] = None,
                 pipeline: Sequence = (),
                 **kwargs):
        if split not in SPLITS:
            raise ValueError(f'{type(self).__name__}: split must be one of '
                             f'{SPLITS}, got {split!r}')
        if not osp.isdir(data_root):
            raise FileNotFoundError(
                f'{type(self).__name__}: data_root {data_root!r} is not a '
                'directory; expected the root of the dataset release')
        self.split = split
        self.relabel = split == 'train' if relabel is None else relabel
        self._epoch_seed = _SharedEpochSeed()
        kwargs.setdefault('test_mode', split != 'train')
        super().__init__(
            data_root=data_root, pipeline=list(pipeline), **kwargs)

    def load_data_list(self) -> List[dict]:
        parts = ['query', 'gallery'] if self.split == 'test' else [self.split]
        data_list = []
        for part in parts:
            records = self.parse_split(part)
            if not records:
                raise ValueError(
                    f'{type(self).__name__}: the {part!r} split under '
                    f'{self.data_root!r} has no images')
            data_list += [
                dict(
                    img_path=path,
                    gt_label=pid,
                    camera_id=cam,
                    is_query=part == 'query') for path, pid, cam in records
            ]
        if self.relabel:
            pids = sorted({info['gt_label'] for info in data_list})
            label_of = {pid: label for label, pid in enumerate(pids)}
            for info in data_list:
                info['gt_label'] = label_of[info['gt_label']]
        self._metainfo.update(
            num_ids=len({info['gt_label']
                         for info in data_list}),
            num_cameras=len({info['camera_id']
                             for info in data_list}))
        return data_list

    def prepare_data(self, idx: int):
        """Run the pipeline on sample ``idx``; a failure (an unreadable or
        truncated image, a transform error) names the image file."""
        try:
            return super().prepare_data(idx)
        except Exception as error:
            path = self.get_data_info(idx)['img_path']
            raise RuntimeError(
                f'{type(self).__name__}: sample {idx} ({path!r}) could not '
                f'be loaded or transformed: {type(error).__name__}: {error}. '
                'If the image is corrupt or truncated, restore it from the '
                'dataset release') from error

    def get_identities(self) -> List[int]:
        """Person id of every sample, in index order (identity samplers)."""
        return [self.get_data_info(i)['gt_label'] for i in range(len(self))]

    def check_dir(self, path: str) -> str:
        """Return ``path`` or raise an error naming the missing folder."""
        if not osp.isdir(path):
            raise FileNotFoundError(
                f'{type(self).__name__}: expected folder {path!r} (the '
                f'{self.split!r} split of the release under '
                f'{self.data_root!r}) does not exist')
        return path

    def parse_folder(
        self,
        folder: str,
        pattern: str,
        extensions: Tuple[str, ...] = ('.jpg', )) -> List[Record]:
        """Parse every image file of ``folder`` with a file-name regex.

        ``pattern`` must have the groups ``pid`` and ``cam`` (1-based camera).
        Files that are not images (``Thumbs.db``) are passed over; images of
        another format than the release's (``.png`` / ``.jpeg`` among
        Market-1501's ``.jpg``) are passed over with a warning naming them;
        an image whose name does not match is an error, and so is camera 0.
        Person id -1 marks junk images (Market-1501 protocol) and is dropped.
        """
        folder = self.check_dir(osp.join(self.data_root, folder))
        regex = re.compile(pattern)
        records, other_images = [], []
        for name in sorted(os.listdir(folder)):
            if not name.lower().endswith(extensions):
                if name.lower().endswith(IMAGE_EXTENSIONS):
                    other_images.append(name)
                continue
            match = regex.fullmatch(name)
            if match is None:
                raise ValueError(
                    f'{type(self).__name__}: file name '
                    f'{osp.join(folder, name)!r} does not match the expected '
                    f'pattern {pattern!r}')
            pid = int(match['pid'])
            cam = check_camera(
                type(self).__name__, int(match['cam']), osp.join(folder, name))
            if pid == -1:
                continue
            records.append((osp.join(folder, name), pid, cam))
        if other_images:
            shown = ', '.join(
                other_images[:5]) + (f' and {len(other_images) - 5} more'
                                     if len(other_images) > 5 else '')
            warnings.warn(
                f'{type(self).__name__}: skipping {len(other_images)} '
                f'image(s) in {folder!r} that are not {"/".join(extensions)}'
                f' files as the release has them: {shown}. Convert them if '
                'they belong to the dataset', UserWarning)
        return records


@DATASETS.register_module()
class Market1501(BaseReIDDataset):
    """Market-1501: ``bounding_box_train``, ``query``, ``bounding_box_test``
    with names like ``0002_c1s1_000451_03.jpg``.

    Identity ``-1`` (junk) is dropped; identity ``0000`` (distractors) stays
    in the gallery, as in the dataset's evaluation protocol.
    """
    FOLDERS = dict(
        train='bounding_box_train', query='query', gallery='bounding_box_test')
    PATTERN = r'(?P<pid>-1|\d{4})_c(?P<cam>\d)s\d+_\d{6}_\d{2}\.jpg'

    def parse_split(self, split: str) -> List[Record]:
        return self.parse_folder(self.FOLDERS[split], self.PATTERN)


@DATASETS.register_module()
class DukeMTMCReID(Market1501):
    """DukeMTMC-reID: Market-1501 folders, names like
    ``0001_c2_f0046182.jpg``."""
    PATTERN = r'(?P<pid>\d{4})_c(?P<cam>\d)_f\d{7}\.jpg'


@DATASETS.register_module()
class CUHK03NP(Market1501):
    """CUHK03 new protocol (767 / 700 identities).

    Args:
        subset (str): ``'detected'`` or ``'labeled'`` boxes; each is a folder
            of ``data_root`` in Market-1501 layout with names like
            ``0001_c1_1.png``.
    """
    PATTERN = r'(?P<pid>\d{4})_c(?P<cam>\d)_\d+\.png'

    def __init__(self, data_root: str, subset: str = 'detected', **kwargs):
        if subset not in ('detected', 'labeled'):
            raise ValueError("CUHK03NP: subset must be 'detected' or "
                             f"'labeled', got {subset!r}")
        self.subset = subset
        super().__init__(data_root=data_root, **kwargs)

    def parse_split(self, split: str) -> List[Record]:
        return self.parse_folder(
            osp.join(self.subset, self.FOLDERS[split]),
            self.PATTERN,
            extensions=('.png', ))


@DATASETS.register_module()
class MSMT17(BaseReIDDataset):
    """MSMT17 (V1 or V2) read through its list files.

    Layout: ``train/`` and ``test/`` image folders and ``list_train.txt``,
    ``list_val.txt``, ``list_query.txt``, ``list_gallery.txt`` whose lines are
    ``<pid folder>/<name>.jpg <pid>``; the camera is the third ``_`` field of
    the name (``0000_000_01_0303morning_0015_0.jpg`` is camera 1).

    Args:
        use_val_in_train (bool): Train on ``list_train`` + ``list_val`` (the
            common practice, the default) or on ``list_train`` only.
    """
    LISTS = dict(
        train=('train', ['list_train.txt', 'list_val.txt']),
        query=('test', ['list_query.txt']),
        gallery=('test', ['list_gallery.txt']))
    LINE = re.compile(
        r'(?P<path>\d+/\d+_\d+_(?P<cam>\d+)_\S+\.jpg)\s+(?P<pid>\d+)')

    def __init__(self,
                 data_root: str,
                 use_val_in_train: bool = True,
                 **kwargs):
        self.use_val_in_train = use_val_in_train
        super().__init__(data_root=data_root, **kwargs)

    def parse_split(self, split: str) -> List[Record]:
        folder, lists = self.LISTS[split]
        if split == 'train' and not self.use_val_in_train:
            lists = lists[:1]
        folder = self.check_dir(osp.join(self.data_root, folder))
        records = []
        for list_name in lists:
            list_file = osp.join(self.data_root, list_name)
            if not osp.isfile(list_file):
                raise FileNotFoundError(
                    f'MSMT17: list file {list_file!r} is missing')
            with open(list_file) as f:
                for line_no, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    match = self.LINE.fullmatch(line.strip())
                    if match is None:
                        raise ValueError(
                            f'MSMT17: {list_file}:{line_no}: expected '
                            '"<pid>/<pid>_<index>_<camera>_<...>.jpg <pid>", '
                            'got '
                            f'{line.strip()!r}')
                    path = osp.join(folder, match['path'])
                    cam = check_camera('MSMT17', int(match['cam']),
                                       f'{list_file}:{line_no}')
                    records.append((path, int(match['pid']), cam))
        return records
