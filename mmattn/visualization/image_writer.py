"""Where the analysis tools' figures go: PNG files, and the config's
visualiser backends (``LocalVisBackend``, ``TensorboardVisBackend`` ...)."""
import json
import os
import os.path as osp
from typing import Iterable, Optional

import cv2
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mmattn.registry import VISUALIZERS, register_all_modules


def figure_to_image(fig: Figure) -> np.ndarray:
    """Render a matplotlib figure (no pyplot, no global backend) to RGB.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB image.
    """
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _check_rgb(image, name):
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 \
            or image.ndim != 3 or image.shape[2] != 3:
        raise TypeError(f'image {name!r} must be an (H, W, 3) uint8 RGB '
                        f'array, got {type(image).__name__} '
                        f'{getattr(image, "shape", "")} '
                        f'{getattr(image, "dtype", "")}')


class ImageWriter:
    """Write named RGB images as ``<out_dir>/<name>.png`` and log them.

    Existing files are never replaced unless ``overwrite`` is set: a tool
    calls :meth:`check_free` with the names it is going to write before it
    does any work, so a refusal costs nothing.

    Args:
        out_dir (str): Output folder; created if missing.
        overwrite (bool): Replace existing PNG files. Defaults to False.
        visualizer_cfg (dict, optional): The config's ``visualizer``; its
            backends receive every image through ``add_image`` (a
            ``LocalVisBackend`` writes under ``<out_dir>/vis_data``).
            None: PNG files only.
    """

    def __init__(self,
                 out_dir: str,
                 overwrite: bool = False,
                 visualizer_cfg: Optional[dict] = None):
        if not isinstance(out_dir, str) or not out_dir:
            raise ValueError(f'out_dir must be a folder path, got {out_dir!r}')
        self.out_dir = out_dir
        self.overwrite = overwrite
        self.written = []
        os.makedirs(out_dir, exist_ok=True)
        self.visualizer = None
        if visualizer_cfg is not None:
            # Stock visualisers and backends live in mmpretrain / mmengine.
            register_all_modules(init_default_scope=False)
            cfg = dict(visualizer_cfg)
            # Visualizers are named global instances: a fresh name per
            # writer avoids picking up (or clashing with) another one.
            cfg['name'] = f'mmattn_image_writer_{id(self)}'
            cfg['save_dir'] = out_dir
            cfg['vis_backends'] = [
                dict(b) for b in cfg.get('vis_backends') or []
            ]
            self.visualizer = VISUALIZERS.build(cfg)

    def path(self, name: str) -> str:
        """The PNG path of ``name`` (a file name without extension)."""
        if not isinstance(name, str) or not name or '/' in name \
                or name.startswith('.'):
            raise ValueError(f'image name must be a plain file name, got '
                             f'{name!r}')
        return osp.join(self.out_dir, name + '.png')

    @classmethod
    def for_tool(cls, args, cfg) -> 'ImageWriter':
        """The writer of an analysis tool's parsed arguments (those of
        :func:`add_tool_arguments`): ``--out-dir``, ``--overwrite`` and,
        unless ``--no-visualizer``, the config's ``visualizer``."""
        return cls(args.out_dir, args.overwrite,
                   None if args.no_visualizer else cfg.get('visualizer'))

    def json_path(self, name: str) -> str:
        """The JSON path of ``name`` (a file name without extension)."""
        return osp.splitext(self.path(name))[0] + '.json'

    def check_free(
        self, names: Iterable[str], json_names: Iterable[str] = ()) -> None:
        """Raise ``FileExistsError`` if any of the PNG files of ``names`` or
        the JSON files of ``json_names`` already exists (and ``overwrite`` is
        off)."""
        if self.overwrite:
            return
        paths = [self.path(n) for n in names]
        paths += [self.json_path(n) for n in json_names]
        taken = [p for p in paths if osp.exists(p)]
        if taken:
            raise FileExistsError(
                f'{", ".join(taken)} already exist(s); pass --overwrite to '
                'replace, or choose another --out-dir')

    def write(self, name: str, image: np.ndarray) -> str:
        """Save an (H, W, 3) uint8 RGB image and log it to the visualiser.

        Returns:
            str: The written path.
        """
        _check_rgb(image, name)
        self.check_free([name])
        path = self.path(name)
        # Maximum zlib compression keeps the figures small for the docs.
        if not cv2.imwrite(path, np.ascontiguousarray(image[..., ::-1]),
                           [cv2.IMWRITE_PNG_COMPRESSION, 9]):
            raise OSError(f'could not write {path!r}')
        if self.visualizer is not None:
            self.visualizer.add_image(name, image)
        self.written.append(path)
        return path

    def write_figure(self, name: str, fig: Figure) -> str:
        """Render a matplotlib figure and :meth:`write` it."""
        return self.write(name, figure_to_image(fig))

    def write_json(self, name: str, data, indent: int = 1) -> str:
        """Save ``data`` as ``<out_dir>/<name>.json`` (the numbers behind a
        figure), under the same no-overwrite rule.

        Returns:
            str: The written path.
        """
        self.check_free((), [name])
        path = self.json_path(name)
        with open(path, 'w') as f:
            json.dump(data, f, indent=indent)
        self.written.append(path)
        return path


def add_tool_arguments(parser, checkpoint: str = 'required') -> None:
    """The arguments every analysis tool shares: ``config``,
    ``checkpoint`` (``'required'``, ``'optional'`` or ``'none'``),
    ``--out-dir``, ``--overwrite``, ``--cfg-options``, ``--device`` and
    ``--no-visualizer``."""
    from mmengine.config import DictAction
    parser.add_argument('config', help='config file')
    if checkpoint == 'required':
        parser.add_argument('checkpoint', help='checkpoint file')
    elif checkpoint == 'optional':
        parser.add_argument(
            'checkpoint',
            nargs='?',
            default=None,
            help='checkpoint file (default: the initial weights)')
    parser.add_argument(
        '--out-dir', required=True, help='folder of the PNG files')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace existing output files')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. model.head.num_classes=8')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument(
        '--no-visualizer',
        action='store_true',
        help="write the PNG files only, not to the config's visualiser "
        'backends')
