import argparse
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from matplotlib.figure import Figure

from mmattn.visualization import ImageWriter, add_tool_arguments


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


def test_json_files_follow_the_same_no_overwrite_rule(tmp_path):
    writer = ImageWriter(str(tmp_path))
    writer.check_free(['fig'], ['fig'])
    path = writer.write_json('fig', dict(a=[1, 2]))
    assert path == str(tmp_path / 'fig.json')
    assert json.loads((tmp_path / 'fig.json').read_text()) == dict(a=[1, 2])
    # The PNG of the same name is still free; the JSON is not.
    writer.check_free(['fig'])
    with pytest.raises(FileExistsError, match='fig.json.*--overwrite'):
        writer.check_free(['fig'], ['fig'])
    with pytest.raises(FileExistsError):
        writer.write_json('fig', {})
    ImageWriter(str(tmp_path), overwrite=True).write_json('fig', [3])
    assert json.loads((tmp_path / 'fig.json').read_text()) == [3]


def test_for_tool_takes_the_parsed_tool_arguments(tmp_path):
    parser = argparse.ArgumentParser()
    add_tool_arguments(parser, checkpoint='none')
    args = parser.parse_args(['cfg.py', '--out-dir', str(tmp_path)])
    cfg = dict(
        visualizer=dict(
            type='Visualizer', vis_backends=[dict(type='LocalVisBackend')]))
    assert ImageWriter.for_tool(args, cfg).visualizer is not None
    args = parser.parse_args([
        'cfg.py', '--out-dir',
        str(tmp_path), '--no-visualizer', '--overwrite'
    ])
    writer = ImageWriter.for_tool(args, cfg)
    assert writer.visualizer is None and writer.overwrite
