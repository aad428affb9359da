"""Face recognition datasets: an identity image folder for training and
pair lists for verification (LFW ``pairs.txt`` and a two-column list).

Verification datasets hold each distinct image once (what the model
embeds) and describe the pairs in their metainfo under ``'verification'``:
``dict(name, pairs, labels, folds, num_folds)`` with ``pairs`` a list of
``(index1, index2)`` into the dataset, ``labels`` 1 for the same person and
0 otherwise, and ``folds`` the 0-based cross-validation fold of each pair.
:class:`mmattn.evaluation.FaceVerificationMetric` reads it from there.
"""
import os
import os.path as osp
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.dataset import BaseDataset

from mmattn.registry import DATASETS

#: File extensions read as images (lower case).
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')

#: (path1, path2, same person, fold, line number) parsed from a pairs file.
PairRecord = Tuple[str, str, bool, int, int]


@DATASETS.register_module()
class FaceImageFolder(BaseDataset):
    """Face training set: one sub-folder of images per identity.

    Layout: ``<data_root>/<identity>/<image>.jpg`` (any of
    :data:`IMAGE_EXTENSIONS`; e.g. CASIA-WebFace or an extracted
    MS1M). Identities are the sorted folder names, relabelled ``0..N-1``
    (``metainfo['classes']`` keeps the names). Files directly under
    ``data_root`` and non-image files are ignored.

    Args:
        data_root (str): The folder of identity folders.
        pipeline (Sequence[dict]): Data transforms.
        allow_empty_identity (bool): Skip identity folders without images
            instead of raising. Defaults to False.
        **kwargs: Other arguments of :class:`mmengine.dataset.BaseDataset`.

    Raises:
        FileNotFoundError: ``data_root`` is not a folder.
        ValueError: No identity folder, or an identity folder without
            images (unless ``allow_empty_identity``).
    """

    def __init__(self,
                 data_root: str,
                 pipeline: Sequence = (),
                 allow_empty_identity: bool = False,
                 **kwargs):
        if not osp.isdir(data_root):
            raise FileNotFoundError(
                f'FaceImageFolder: data_root {data_root!r} is not a '
                'directory; expected <data_root>/<identity>/<image>.jpg')
        self.allow_empty_identity = allow_empty_identity
        super().__init__(
            data_root=data_root, pipeline=list(pipeline), **kwargs)

    def load_data_list(self) -> List[dict]:
        identities = sorted(
            d for d in os.listdir(self.data_root)
            if osp.isdir(osp.join(self.data_root, d)))
        if not identities:
            raise ValueError(
                f'FaceImageFolder: no identity folders under '
                f'{self.data_root!r}; expected <data_root>/<identity>/'
                '<image>.jpg')
        classes, data_list = [], []
        for identity in identities:
            folder = osp.join(self.data_root, identity)
            images = sorted(
                f for f in os.listdir(folder)
                if f.lower().endswith(IMAGE_EXTENSIONS))
            if not images:
                if self.allow_empty_identity:
                    continue
                raise ValueError(
                    f'FaceImageFolder: identity folder {folder!r} has no '
                    f'images ({", ".join(IMAGE_EXTENSIONS)}); remove it or '
                    'set allow_empty_identity=True')
            label = len(classes)
            classes.append(identity)
            data_list += [
                dict(img_path=osp.join(folder, f), gt_label=label)
                for f in images
            ]
        self._metainfo.update(classes=tuple(classes), num_ids=len(classes))
        return data_list


class BaseFacePairDataset(BaseDataset, metaclass=ABCMeta):
    """A verification set: the distinct images of a list of face pairs.

    Subclasses implement :meth:`parse_pairs`. Images are ordered by first
    appearance in the pairs file.

    Args:
        data_root (str): Root folder of the set.
        ann_file (str): The pairs file, relative to ``data_root`` (or
            absolute).
        name (str): Name of the set in the metric keys (``'<name>/accuracy'``).
        pipeline (Sequence[dict]): Data transforms.
        check_files (bool): Raise if an image of a pair is missing.
            Defaults to True.
        **kwargs: Other arguments of :class:`mmengine.dataset.BaseDataset`.
    """

    def __init__(self,
                 data_root: str,
                 ann_file: str,
                 name: str,
                 pipeline: Sequence = (),
                 check_files: bool = True,
                 **kwargs):
        owner = type(self).__name__
        if not osp.isdir(data_root):
            raise FileNotFoundError(
                f'{owner}: data_root {data_root!r} is not a directory')
        if not isinstance(name, str) or not name or '/' in name:
            raise ValueError(f'{owner}: name must be a non-empty string '
                             f'without "/", got {name!r}')
        self.name = name
        self.check_files = check_files
        kwargs.setdefault('test_mode', True)
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            pipeline=list(pipeline),
            **kwargs)

    def _read_lines(self) -> List[Tuple[int, List[str]]]:
        """(1-based line number, tokens) of the non-blank, non-comment
        lines of ``ann_file``."""
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'{type(self).__name__}: pairs file {self.ann_file!r} not '
                'found')
        with open(self.ann_file) as f:
            lines = [(n, line.split()) for n, line in enumerate(f, 1)]
        return [(n, tokens) for n, tokens in lines
                if tokens and not tokens[0].startswith('#')]

    def error(self, line: int, message: str) -> ValueError:
        """A ValueError naming the pairs file and line."""
        return ValueError(f'{type(self).__name__}: {self.ann_file}, line '
                          f'{line}: {message}')

    @abstractmethod
    def parse_pairs(self) -> Tuple[List[PairRecord], int]:
        """The pairs ``(path1, path2, same, fold, line)`` of ``ann_file``
        and the number of folds."""

    def load_data_list(self) -> List[dict]:
        records, num_folds = self.parse_pairs()
        if not records:
            raise ValueError(f'{type(self).__name__}: {self.ann_file} lists '
                             'no pairs')
        index_of: Dict[str, int] = {}
        pairs, labels, folds = [], [], []
        for path1, path2, same, fold, line in records:
            for path in (path1, path2):
                if path not in index_of:
                    if self.check_files and not osp.isfile(path):
                        raise FileNotFoundError(
                            f'{type(self).__name__}: {self.ann_file}, line '
                            f'{line}: image {path!r} not found')
                    index_of[path] = len(index_of)
            pairs.append((index_of[path1], index_of[path2]))
            labels.append(int(same))
            folds.append(fold)
        self._metainfo.update(
            verification=dict(
                name=self.name,
                pairs=pairs,
                labels=labels,
                folds=folds,
                num_folds=num_folds))
        return [dict(img_path=path) for path in index_of]


@DATASETS.register_module()
class LFWPairs(BaseFacePairDataset):
    """LFW verification pairs in the release's ``pairs.txt`` format.

    ``pairs.txt``: a header ``<folds> <n>`` (``10 300`` for LFW's view 2; a
    single ``<n>`` means one fold, as in ``pairsDevTest.txt``), then per
    fold 2n lines: ``name idx1 idx2`` (two images of one person) or
    ``name1 idx1 name2 idx2`` (two people). In the release each fold lists
    its n same-person pairs first; only the count per fold is checked here.
    Image ``idx`` of ``name`` is ``<img_dir>/<name>/<name>_<idx:04d>.jpg``.

    Args:
        data_root (str): LFW root.
        ann_file (str): Defaults to ``'pairs.txt'``.
        img_dir (str): Image folder relative to ``data_root`` (e.g.
            ``'lfw'`` or ``'lfw-deepfunneled'``). Defaults to ``''``.
        name (str): Defaults to ``'lfw'``.
        img_suffix (str): Defaults to ``'.jpg'``.
        **kwargs: See :class:`BaseFacePairDataset`.
    """

    def __init__(self,
                 data_root: str,
                 ann_file: str = 'pairs.txt',
                 img_dir: str = '',
                 name: str = 'lfw',
                 img_suffix: str = '.jpg',
                 **kwargs):
        self.img_dir = img_dir
        self.img_suffix = img_suffix
        super().__init__(data_root, ann_file, name, **kwargs)

    def image_path(self, name: str, index: str, line: int) -> str:
        if not index.isdigit() or int(index) < 1:
            raise self.error(
                line, f'image number {index!r} of {name!r} is '
                'not a positive integer')
        return osp.join(self.data_root, self.img_dir, name,
                        f'{name}_{int(index):04d}{self.img_suffix}')

    def parse_pairs(self) -> Tuple[List[PairRecord], int]:
        lines = self._read_lines()
        if not lines:
            raise ValueError(f'LFWPairs: {self.ann_file} is empty')
        header_line, header = lines[0]
        if not 1 <= len(header) <= 2 or not all(t.isdigit() for t in header) \
                or any(int(t) < 1 for t in header):
            raise self.error(
                header_line, 'expected the header "<folds> <pairs per '
                f'class and fold>" (e.g. "10 300"), got {" ".join(header)!r}')
        num_folds, per_class = ((1, int(header[0])) if len(header) == 1 else
                                (int(header[0]), int(header[1])))
        body = lines[1:]
        per_fold = 2 * per_class
        if len(body) != num_folds * per_fold:
            raise ValueError(
                f'LFWPairs: {self.ann_file}: the header (line {header_line})'
                f' promises {num_folds} folds x {per_fold} pairs = '
                f'{num_folds * per_fold} pair lines, found {len(body)}')
        records = []
        for position, (line, tokens) in enumerate(body):
            if len(tokens) == 3:
                name, idx1, idx2 = tokens
                record = (self.image_path(name, idx1, line),
                          self.image_path(name, idx2, line), True)
            elif len(tokens) == 4:
                name1, idx1, name2, idx2 = tokens
                record = (self.image_path(name1, idx1, line),
                          self.image_path(name2, idx2, line), False)
            else:
                raise self.error(
                    line, 'expected "name idx1 idx2" or "name1 idx1 name2 '
                    f'idx2", got {len(tokens)} fields: {" ".join(tokens)!r}')
            records.append((*record, position // per_fold, line))
        return records, num_folds


@DATASETS.register_module()
class FacePairList(BaseFacePairDataset):
    """Verification pairs from a plain list: CFP-FP, AgeDB-30, CPLFW, CALFW.

    Each line of ``ann_file`` is ``path1 path2 label [fold]``, separated by
    white space: two image paths relative to ``data_root`` (or absolute,
    without spaces), ``label`` 1 for the same person and 0 for different
    people, and optionally the pair's 0-based fold. Blank lines and lines
    starting with ``#`` are skipped. Either every line has a fold or none
    does; without folds the pairs are cut, in file order, into
    ``num_folds`` contiguous folds of (almost) equal size (the first
    ``len % num_folds`` folds get one more pair), which reproduces the
    folds of the released lists, stored fold by fold.

    Args:
        data_root (str): Root of the set.
        ann_file (str): Defaults to ``'pairs_list.txt'``.
        name (str): Metric name of the set, e.g. ``'cfp_fp'``,
            ``'agedb_30'``, ``'cplfw'``, ``'calfw'``.
        num_folds (int): Folds when the file has no fold column.
            Defaults to 10.
        **kwargs: See :class:`BaseFacePairDataset`.
    """

    def __init__(self,
                 data_root: str,
                 ann_file: str = 'pairs_list.txt',
                 name: str = 'pairs',
                 num_folds: int = 10,
                 **kwargs):
        if not isinstance(num_folds, int) or num_folds < 1:
            raise ValueError(f'FacePairList: num_folds must be a positive '
                             f'int, got {num_folds!r}')
        self.num_folds = num_folds
        super().__init__(data_root, ann_file, name, **kwargs)

    def parse_pairs(self) -> Tuple[List[PairRecord], int]:
        lines = self._read_lines()
        has_fold: Optional[bool] = None
        records = []
        for line, tokens in lines:
            if len(tokens) not in (3, 4):
                raise self.error(
                    line, 'expected "path1 path2 label [fold]", got '
                    f'{len(tokens)} fields: {" ".join(tokens)!r}')
            if has_fold is None:
                has_fold = len(tokens) == 4
            elif has_fold != (len(tokens) == 4):
                raise self.error(
                    line, 'the fold column must be on every line or on '
                    'none')
            if tokens[2] not in ('0', '1'):
                raise self.error(
                    line, 'label must be 1 (same person) or 0 '
                    f'(different people), got {tokens[2]!r}')
            fold = -1
            if has_fold:
                if not tokens[3].isdigit():
                    raise self.error(
                        line, 'fold must be a non-negative '
                        f'integer, got {tokens[3]!r}')
                fold = int(tokens[3])
            records.append((osp.join(self.data_root, tokens[0]),
                            osp.join(self.data_root,
                                     tokens[1]), tokens[2] == '1', fold, line))
        if not records:
            return records, 0
        if has_fold:
            num_folds = max(r[3] for r in records) + 1
            return records, num_folds
        num_folds = min(self.num_folds, len(records))
        size, extra = divmod(len(records), num_folds)
        folds = [
            f for f in range(num_folds) for _ in range(size + (f < extra))
        ]
        return [(p1, p2, same, fold, line)
                for (p1, p2, same, _, line), fold in zip(records, folds)
                ], num_folds
