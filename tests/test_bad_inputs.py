"""The bad-input suite: each wrong input a user can give fails with an error
that names the file, key or path and says what was expected.

One test per case; the README's "Bad input" table lists them. The deeper
tests of each component live next to it (tests/datasets, tests/models, ...).
"""
import logging
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from mmattn.datasets import Market1501
from mmattn.engine import check_cfg_options
from mmattn.evaluation.metrics import ReIDMetric
from mmattn.models import inject_attention
from mmattn.models.attentions import (ChannelWindowAttention,
                                      FixedChannelWindowAttention)
from mmattn.models.search import build_searched_backbone, save_architecture
from mmattn.registry import MODELS

QUERY_NAME = '0002_c1s1_000451_03.jpg'


def write_image(folder, name, data=None):
    """A valid 16x8 JPEG, or the given bytes, at ``folder/name``."""
    os.makedirs(folder, exist_ok=True)
    if data is None:
        data = cv2.imencode('.jpg', np.full((16, 8, 3), 127, np.uint8))[1]
        data = data.tobytes()
    with open(osp.join(folder, name), 'wb') as f:
        f.write(data)


def cifar_backbone(after=('layer1', 'layer2'), base_channels=8, **cfg):
    """A tiny CIFAR ResNet with attention after the given stages."""
    return dict(
        type='AttentionBackbone',
        backbone=dict(
            type='CifarResNet', depth=20, base_channels=base_channels),
        attentions=[
            dict(
                cfg=dict(type='ChannelWindowAttention', **cfg),
                after=list(after))
        ],
        dummy_input_shape=(1, 3, 16, 16))


def reid_samples(records):
    """Metric inputs from (person id, camera, is_query) triples."""
    torch.manual_seed(0)
    return [
        dict(
            pred_feature=torch.rand(4),
            gt_label=torch.tensor([pid]),
            camera_id=cam,
            is_query=is_query) for pid, cam, is_query in records
    ]


def evaluate(samples):
    metric = ReIDMetric(topk=1)
    metric.process(None, samples)
    return metric.compute_metrics(metric.results)


# 1. ------------------------------------------------------------------------
def test_missing_dataset_root(tmp_path):
    with pytest.raises(
            FileNotFoundError,
            match=r"data_root '.*nowhere' is not a directory"):
        Market1501(str(tmp_path / 'nowhere'))
    # The root exists but the split's folder does not.
    with pytest.raises(
            FileNotFoundError,
            match=r"expected folder '.*bounding_box_train'"):
        Market1501(str(tmp_path))


# 2. ------------------------------------------------------------------------
def test_file_name_not_matching_the_dataset_pattern(tmp_path):
    folder = osp.join(tmp_path, 'bounding_box_train')
    write_image(folder, QUERY_NAME)
    write_image(folder, 'person7.jpg')
    with pytest.raises(
            ValueError,
            match=r"'.*person7\.jpg' does not match the expected "
            r"pattern '\(\?P<pid>"):
        Market1501(str(tmp_path))


# 3. ------------------------------------------------------------------------
@pytest.mark.parametrize('kind', ['truncated', 'not an image', 'empty'])
def test_corrupt_image(tmp_path, kind):
    jpeg = cv2.imencode(
        '.jpg',
        np.random.RandomState(0).randint(0, 255, (64, 32, 3),
                                         dtype=np.uint8))[1].tobytes()
    data = {
        'truncated': jpeg[:len(jpeg) // 2],
        'not an image': b'plain text',
        'empty': b''
    }[kind]
    write_image(osp.join(tmp_path, 'bounding_box_train'), QUERY_NAME, data)
    dataset = Market1501(
        str(tmp_path), pipeline=[dict(type='LoadImageFromFile')])
    with pytest.raises(
            RuntimeError,
            match=r"Market1501: sample 0 \('.*0002_c1s1_000451_03"
            r"\.jpg'\) could not be loaded"):
        dataset[0]


# 4. ------------------------------------------------------------------------
@pytest.mark.parametrize('empty', ['query', 'gallery'])
def test_empty_query_or_gallery_split(tmp_path, empty):
    folders = dict(query='query', gallery='bounding_box_test')
    for split, folder in folders.items():
        os.makedirs(osp.join(tmp_path, folder))
        if split != empty:
            write_image(osp.join(tmp_path, folder), QUERY_NAME)
    with pytest.raises(
            ValueError, match=f"the '{empty}' split under .* has no images"):
        Market1501(str(tmp_path), split='test')
    # The metric, given only one side, says which side is missing.
    is_query = empty == 'gallery'
    with pytest.raises(ValueError, match=f'no {empty} samples'):
        evaluate(reid_samples([(1, 0, is_query), (2, 1, is_query)]))


# 5. ------------------------------------------------------------------------
def test_query_identity_absent_from_the_gallery():
    # One of two queries has no gallery image of its identity: it is
    # skipped, and a warning counts it and names the identity.
    messages = []
    handler = logging.Handler(level=logging.WARNING)
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        result = evaluate(
            reid_samples([(1, 0, True), (7, 0, True), (1, 1, False),
                          (2, 1, False)]))
    finally:
        logger.removeHandler(handler)
    assert set(result) == {'mAP', 'rank1', 'mINP'}
    assert any('1 of 2 queries have no valid gallery match' in m
               and 'identity absent from the gallery (ids [7])' in m
               for m in messages), messages
    # No query identity in the gallery at all: an error, not a silent 0.
    with pytest.raises(
            ValueError,
            match=r'none of the 2 queries has its identity in the '
            r'gallery \(query ids \[7, 8\]'):
        evaluate(reid_samples([(7, 0, True), (8, 0, True), (1, 1, False)]))
    # Identities present but only under the query's own camera: every
    # query is skipped, which is an error too.
    with pytest.raises(ValueError, match='no query has a valid gallery'):
        evaluate(reid_samples([(1, 0, True), (1, 0, False), (2, 1, False)]))


# 6. ------------------------------------------------------------------------
def test_unknown_registry_type():
    with pytest.raises(
            KeyError,
            match='NoSuchBackbone is not in the mmattn::model '
            'registry'):
        MODELS.build(dict(type='NoSuchBackbone'))
    with pytest.raises(
            ValueError, match="'NoSuchAttention' is not in the "
            'mmattn MODELS'):
        MODELS.build(cifar_backbone() | dict(attentions=[
            dict(cfg=dict(type='NoSuchAttention'), after='layer1')
        ]))


# 7. ------------------------------------------------------------------------
def test_attention_path_matching_nothing():
    with pytest.raises(
            ValueError,
            match=r"after: pattern 'stage9' matches no module of "
            r'CifarResNet .* Valid module paths: conv1, bn1, '
            r'relu, layer1, layer2, layer3'):
        MODELS.build(cifar_backbone(after=['layer1', 'stage9']))


# 8. ------------------------------------------------------------------------
def test_channel_mismatch():
    backbone = MODELS.build(cifar_backbone())
    with pytest.raises(
            ValueError,
            match=r"in_channels=64, but the module at 'layer2' "
            'has 16 channels'):
        inject_attention(
            backbone.backbone,
            dict(type='SEAttention', in_channels=64),
            after='layer2')
    # A module fed a tensor of the wrong width says both widths.
    with pytest.raises(ValueError, match='in_channels=8'):
        ChannelWindowAttention(8)(torch.randn(1, 6, 2, 2))


# 9. ------------------------------------------------------------------------
def test_config_key_typo():
    cfg = Config(dict(train_dataloader=dict(batch_size=4)))
    with pytest.raises(
            KeyError,
            match=r"train_dataloder.batch_size: the config has no "
            r"key 'train_dataloder'; did you mean "
            r"\['train_dataloader'"):
        check_cfg_options(cfg, {'train_dataloder.batch_size': 8})
    # A typo inside a component's config names the class and the argument.
    with pytest.raises(
            TypeError,
            match=r"ResNet.__init__\(\) got an unexpected "
            "keyword argument 'deph'"):
        MODELS.build(dict(type='CifarResNet', depth=20, deph=20))


# 10. -----------------------------------------------------------------------
def test_architecture_json_not_fitting_the_model(tmp_path):
    classifier = dict(
        type='ImageClassifier',
        backbone=cifar_backbone(),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=3, in_channels=32))
    arch_file = str(tmp_path / 'arch.json')
    save_architecture(MODELS.build(classifier), arch_file)
    # The JSON has windows for 'layer2', the config no DA module there.
    with pytest.raises(
            ValueError,
            match=r".*arch\.json: architecture: 'backbone\."
            r"backbone\.layer2\.attention' should be a DA module "
            r'with 16 channels, the built network has no module'):
        build_searched_backbone(
            cifar_backbone(after=['layer1']), arch_file=arch_file)
    # Twice the widths: the module is there, its width is not.
    with pytest.raises(
            ValueError,
            match=r"arch\.json: .*'backbone\.backbone\.layer1\."
            r"attention' should be a DA module with 8 channels, "
            r'the built network has ChannelWindowAttention with '
            r'16 channels'):
        build_searched_backbone(
            cifar_backbone(base_channels=16), arch_file=arch_file)


# 11. -----------------------------------------------------------------------
class NaNAtThirdBatch(BaseModel):
    """Two loss terms; the third batch holds a NaN."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(1))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return dict(
            loss_cls=(self.weight * inputs).mean(),
            loss_aux=self.weight.sum() * 0 + 0.5)


def test_nan_loss_stops_training(tmp_path):
    inputs = [
        dict(inputs=torch.full((2, ), value))
        for value in (1.0, 2.0, float('nan'), 3.0)
    ]
    runner = Runner(
        model=NaNAtThirdBatch(),
        work_dir=str(tmp_path),
        train_dataloader=DataLoader(inputs, batch_size=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[dict(type='CheckInvalidLossHook')],
        default_scope='mmattn')
    with pytest.raises(
            RuntimeError,
            match=r'non-finite loss at iteration 3 \(epoch 1, '
            r'batch 2\): loss=nan, loss_cls=nan, loss_aux=0\.5'):
        runner.train()


# 12. -----------------------------------------------------------------------
def test_out_of_range_window():
    with pytest.raises(
            ValueError,
            match=r'window \(start, length\)=\(9, 2\) is out of '
            r'range for 8 channels: expected 0 <= start < 8'):
        FixedChannelWindowAttention(8, windows=[(1, 2), (9, 2)])
    with pytest.raises(
            ValueError,
            match=r'\(0, 12\) is out of range .* 1 <= length <= 8'):
        FixedChannelWindowAttention(8, windows=[(0, 12)])
    with pytest.raises(
            ValueError,
            match=r'init window \(-1\.0, 4\.0\): start must lie '
            r'in \[0, 8\)'):
        ChannelWindowAttention(8, init_windows=[(-1.0, 4.0)])
    # In range, a window may wrap past the last channel.
    assert FixedChannelWindowAttention(
        8, windows=[(6, 3), (2, 1)]).windows == [(2, 1), (6, 3)]


# Issue 15: mistakes mmengine passes over without a word. -------------------
# 13. -----------------------------------------------------------------------
def test_top_level_config_key_typo():
    from mmattn.engine.training_options import check_config_keys
    for typo, meant in (('trian_cfg', 'train_cfg'), ('custom_hook',
                                                     'custom_hooks')):
        with pytest.raises(
                KeyError,
                match=rf"cfg.py: top-level key '{typo}' is not "
                rf"read by mmengine's Runner, which would ignore "
                rf"it; did you mean '{meant}'\?"):
            check_config_keys(Config({typo: dict()}), 'cfg.py')


# 14. -----------------------------------------------------------------------
def test_env_cfg_key_typo():
    from mmattn.engine.training_options import check_config_keys
    with pytest.raises(
            KeyError,
            match=r"cfg.py: env_cfg has no key 'cudnn_benchmrk'; "
            r"did you mean 'cudnn_benchmark'\?"):
        check_config_keys(
            Config(dict(env_cfg=dict(cudnn_benchmrk=True))), 'cfg.py')


# 15. -----------------------------------------------------------------------
def test_hook_argument_typo_fails_at_build():
    from mmattn.engine.training_options import check_hook_arguments
    cfg = Config(
        dict(
            default_scope='mmattn',
            default_hooks=dict(
                checkpoint=dict(type='CheckpointHook', interva=1))))
    with pytest.raises(
            TypeError,
            match=r"cfg.py: default_hooks.checkpoint "
            r"\(CheckpointHook\) has no argument 'interva'; "
            r"did you mean 'interval'\?"):
        check_hook_arguments(cfg, 'cfg.py')


# 16. --resume with nothing to resume: a WARNING, training starts from
# scratch (mmengine's auto-resume; a requeued job may always pass --resume),
# a missing --resume PATH is an error: tests/tools/test_train_reliability.py
# ::test_resume_with_nothing_to_resume_says_so and
# ::test_resume_of_a_missing_file_is_refused.


# 17. -----------------------------------------------------------------------
def test_resuming_a_checkpoint_of_another_model():
    from types import SimpleNamespace

    from mmattn.engine.hooks import ResumeCheckHook
    model = torch.nn.Linear(4, 3)
    runner = SimpleNamespace(
        model=model, _resume=True, _load_from='epoch_9.pth', work_dir='w')
    other = dict(state_dict=torch.nn.Linear(4, 7).state_dict())
    with pytest.raises(
            RuntimeError,
            match=r"cannot resume from 'epoch_9.pth': the "
            r"checkpoint is of another model than the config "
            r"builds \(2 of another shape: weight \(7, 4\) in the "
            r"checkpoint, \(3, 4\) in the model, bias"):
        ResumeCheckHook().after_load_checkpoint(runner, other)


# 18. -----------------------------------------------------------------------
def test_other_image_formats_in_a_market_folder(tmp_path):
    folder = osp.join(tmp_path, 'bounding_box_train')
    write_image(folder, QUERY_NAME)
    write_image(folder, '0003_c1s1_000001_00.png')
    write_image(folder, '0004_c1s1_000001_00.jpeg')
    with pytest.warns(
            UserWarning,
            match=r"Market1501: skipping 2 image\(s\) in "
            r"'.*bounding_box_train' that are not \.jpg files as "
            r"the release has them: 0003_c1s1_000001_00\.png, "
            r"0004_c1s1_000001_00\.jpeg"):
        assert len(Market1501(str(tmp_path))) == 1


# 19. -----------------------------------------------------------------------
def test_camera_zero_in_a_market_file_name(tmp_path):
    write_image(
        osp.join(tmp_path, 'bounding_box_train'), '0002_c0s1_000451_03.jpg')
    with pytest.raises(
            ValueError,
            match=r"Market1501: '.*0002_c0s1_000451_03\.jpg' has "
            r"camera 0; the cameras of this release are numbered "
            r"from 1"):
        Market1501(str(tmp_path))
