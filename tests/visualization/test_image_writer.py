import glob
import os.path as osp

import cv2
import numpy as np
import pytest
from matplotlib.figure import Figure

from mmattn.visualization import ImageWriter


def test_writes_png_and_logs_to_the_visualiser(tmp_path):
    writer = ImageWriter(
        str(tmp_path),
        visualizer_cfg=dict(
            type='UniversalVisualizer',
            vis_backends=[dict(type='LocalVisBackend')]))
    image = np.zeros((6, 5, 3), np.uint8)
    image[..., 0] = 200  # red
    path = writer.write('red', image)
    saved = cv2.imread(path)[..., ::-1]
    assert (saved == image).all()
    logged = glob.glob(osp.join(tmp_path, 'vis_data', 'vis_image', 'red*'))
    assert len(logged) == 1 and (cv2.imread(logged[0])[..., ::-1]
                                 == image).all()


def test_refuses_to_overwrite(tmp_path):
    writer = ImageWriter(str(tmp_path))
    writer.write('a', np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(FileExistsError, match='--overwrite'):
        writer.check_free(['b', 'a'])
    with pytest.raises(FileExistsError):
        writer.write('a', np.zeros((2, 2, 3), np.uint8))
    ImageWriter(
        str(tmp_path), overwrite=True).write('a', np.ones((2, 2, 3), np.uint8))
    assert cv2.imread(str(tmp_path / 'a.png')).max() == 1


def test_write_figure_and_bad_input(tmp_path):
    writer = ImageWriter(str(tmp_path))
    fig = Figure(figsize=(2, 1), dpi=50)
    fig.add_subplot().plot([0, 1])
    assert cv2.imread(writer.write_figure('fig', fig)).shape == (50, 100, 3)
    with pytest.raises(TypeError, match='uint8 RGB'):
        writer.write('x', np.zeros((2, 2)))
    with pytest.raises(ValueError, match='plain file name'):
        writer.path('../x')
