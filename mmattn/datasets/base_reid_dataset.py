"""The base of every Re-ID dataset: parse a release layout into train / query / gallery."""
import os
import os.path as osp
import re
from typing import List, Optional, Sequence, Tuple

from mmengine.dataset import BaseDataset

from mmattn.registry import DATASETS

#: (image path, person id, camera id) as parsed from the release files.
Record = Tuple[str, int, int]

SPLITS = ('train', 'query', 'gallery', 'test')


class BaseReIDDataset(BaseDataset):
    """A person Re-ID dataset in a standard release layout.

    Subclasses say where each split lives and how a file name encodes the
    person id and camera: their ``parse_split(split)`` returns the records
    (path, pid, 0-based camera) of ``'train'``, ``'query'`` or ``'gallery'``. This class validates the
    result, relabels training identities contiguously and builds mmengine
    data infos with the keys ``img_path``, ``gt_label`` (person id),
    ``camera_id`` (0-based) and ``is_query``.

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
                dict(img_path=path, gt_label=pid, camera_id=cam,
                     is_query=part == 'query') for path, pid, cam in records
            ]
        if self.relabel:
            pids = sorted({info['gt_label'] for info in data_list})
            label_of = {pid: label for label, pid in enumerate(pids)}
            for info in data_list:
                info['gt_label'] = label_of[info['gt_label']]
        self._metainfo.update(
            num_ids=len({info['gt_label'] for info in data_list}),
            num_cameras=len({info['camera_id'] for info in data_list}))
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
        """Person id of every sample, in index order (for identity samplers)."""
        return [self.get_data_info(i)['gt_label'] for i in range(len(self))]

    def check_dir(self, path: str) -> str:
        """Return ``path`` or raise an error naming the missing folder."""
        if not osp.isdir(path):
            raise FileNotFoundError(
                f'{type(self).__name__}: expected folder {path!r} (the '
                f'{self.split!r} split of the release under '
                f'{self.data_root!r}) does not exist')
        return path

    def parse_folder(self, folder: str, pattern: str,
                     extensions: Tuple[str, ...] = ('.jpg', )) -> List[Record]:
        """Parse every image file of ``folder`` with a file-name regex.

        ``pattern`` must have the groups ``pid`` and ``cam`` (1-based camera).
        Files with other extensions (``Thumbs.db``) are not images and are
        passed over; an image whose name does not match is an error. Person
        id -1 marks junk images (Market-1501 protocol) and is dropped.
        """
        folder = self.check_dir(osp.join(self.data_root, folder))
        regex = re.compile(pattern)
        records = []
        for name in sorted(os.listdir(folder)):
            if not name.lower().endswith(extensions):
                continue
            match = regex.fullmatch(name)
            if match is None:
                raise ValueError(
                    f'{type(self).__name__}: file name '
                    f'{osp.join(folder, name)!r} does not match the expected '
                    f'pattern {pattern!r}')
            pid, cam = int(match['pid']), int(match['cam'])
            if pid == -1:
                continue
            records.append((osp.join(folder, name), pid, cam - 1))
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
            osp.join(self.subset, self.FOLDERS[split]), self.PATTERN,
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
    LISTS = dict(train=('train', ['list_train.txt', 'list_val.txt']),
                 query=('test', ['list_query.txt']),
                 gallery=('test', ['list_gallery.txt']))
    LINE = re.compile(
        r'(?P<path>\d+/\d+_\d+_(?P<cam>\d+)_\S+\.jpg)\s+(?P<pid>\d+)')

    def __init__(self, data_root: str, use_val_in_train: bool = True,
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
                            '"<pid>/<pid>_<index>_<camera>_<...>.jpg <pid>", got '
                            f'{line.strip()!r}')
                    path = osp.join(folder, match['path'])
                    records.append(
                        (path, int(match['pid']), int(match['cam']) - 1))
        return records
