"""Auxiliary losses: one mechanism that hands losses computed inside the
network (StRA mode diversity, CSA deep supervision) to any embedding model."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmattn.models.attentions.stra import ModeAttention
from mmattn.models.losses import DiversityLoss
from mmattn.registry import MODELS

STRA = dict(
    cfg=dict(type='StructureRegularizedAttention', groups=4),
    replace='layer4.*.conv2')
CSA = dict(
    cfg=dict(type='CompressedSelfAttention', num_bases=4, groups=2),
    after=['layer1', 'layer2'])


def reid(attentions, auxiliary_losses):
    """A plain ReID model on a narrow last-stride-1 ResNet-18."""
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='ReID',
            backbone=dict(
                type='AttentionBackbone',
                backbone=dict(
                    type='ResNet',
                    depth=18,
                    stem_channels=8,
                    base_channels=8,
                    strides=(1, 2, 2, 1)),
                attentions=attentions,
                dummy_input_shape=(1, 3, 64, 32)),
            neck=dict(type='BNNeck', in_channels=64),
            head=dict(type='ReIDHead', num_classes=4, in_channels=64),
            auxiliary_losses=auxiliary_losses))
    model.init_weights()
    return model


def samples(labels):
    return [DataSample().set_gt_label(y) for y in labels]


def test_stra_mode_diversity_on_a_reid_model():
    model = reid([STRA], [dict(type='StRAModeDiversity')])
    aux = model.auxiliary_losses[0]
    assert aux.paths == [
        f'backbone.backbone.layer4.{i}.conv2.mode_attention' for i in (0, 1)
    ]
    # Independent capture of the mode masks of this forward.
    masks = []
    handles = [
        model.get_submodule(p).register_forward_hook(
            lambda m, a, o: masks.append(m.last_mode_masks)) for p in aux.paths
    ]
    losses = model(
        torch.randn(4, 3, 64, 32), samples([0, 0, 1, 1]), mode='loss')
    for handle in handles:
        handle.remove()
    assert {'loss_id', 'loss_triplet', 'loss_diversity'} <= set(losses)
    torch.testing.assert_close(losses['loss_diversity'],
                               DiversityLoss()(masks))
    assert 0 <= losses['loss_diversity'].item() <= 2 * (4 - 1)
    losses['loss_diversity'].backward()
    mode = model.get_submodule(aux.paths[0])
    assert mode.mask_net[0].weight.grad.abs().sum() > 0
    # Nothing is kept after the step (no graph held between iterations).
    assert aux._captured is None


def test_deep_supervision_on_a_reid_model_and_both_losses_together():
    model = reid([CSA, STRA], [
        dict(
            type='AttentionDeepSupervision',
            head=dict(type='CSADeepSupervisionHead', num_classes=4),
            paths='backbone.backbone.layer*.attention'),
        dict(
            type='StRAModeDiversity',
            loss=dict(type='DiversityLoss', loss_weight=0.5)),
    ])
    supervision = model.auxiliary_losses[0]
    assert supervision.paths == [
        'backbone.backbone.layer1.attention',
        'backbone.backbone.layer2.attention'
    ]
    assert [h.in_channels for h in supervision.heads] == [8, 16]
    outputs = []
    handles = [
        model.get_submodule(p).register_forward_hook(
            lambda m, a, o: outputs.append(o)) for p in supervision.paths
    ]
    labels = [0, 0, 1, 1]
    losses = model(torch.randn(4, 3, 64, 32), samples(labels), mode='loss')
    for handle in handles:
        handle.remove()
    assert {'loss_ds1', 'loss_ds2', 'loss_diversity'} <= set(losses)
    for i, (head, out) in enumerate(zip(supervision.heads, outputs), 1):
        expected = F.cross_entropy(
            head.fc(out.mean(dim=(2, 3))), torch.tensor(labels))
        torch.testing.assert_close(losses[f'loss_ds{i}'], expected)


def test_nothing_is_recorded_outside_training():
    model = reid([STRA], [dict(type='StRAModeDiversity')]).eval()
    with torch.no_grad():
        feats = model(torch.randn(2, 3, 64, 32), mode='predict')
    assert len(feats) == 2
    aux = model.auxiliary_losses[0]
    assert aux._captured is None
    with pytest.raises(RuntimeError, match='inside capture'):
        aux.loss(samples([0, 0]))


def test_a_deep_copy_records_its_own_forward():
    model = reid([STRA], [dict(type='StRAModeDiversity')])
    clone = copy.deepcopy(model)
    losses = clone(
        torch.randn(4, 3, 64, 32), samples([0, 0, 1, 1]), mode='loss')
    assert 'loss_diversity' in losses
    assert model.auxiliary_losses[0]._captured is None


def test_errors_name_the_loss_and_what_was_expected():
    with pytest.raises(
            ValueError,
            match='StRAModeDiversity: the model has '
            'none of the modules'):
        reid([], [dict(type='StRAModeDiversity')])
    with pytest.raises(ValueError, match='are not ModeAttention'):
        reid([STRA], [
            dict(
                type='StRAModeDiversity',
                paths='backbone.backbone.layer4.0.conv2')
        ])
    with pytest.raises(ValueError, match=r"paths \['layer9'\] match no"):
        reid([STRA], [dict(type='StRAModeDiversity', paths='layer9')])
    with pytest.raises(TypeError, match='is not an AuxiliaryLoss'):
        reid([], [dict(type='DiversityLoss')])
    with pytest.raises(TypeError, match='must be a list'):
        reid([STRA], dict(type='StRAModeDiversity'))
    # Two losses under one name would silently add up in the log.
    model = reid([STRA], [dict(type='StRAModeDiversity')] * 2)
    with pytest.raises(KeyError, match='loss_diversity'):
        model(torch.randn(4, 3, 64, 32), samples([0, 0, 1, 1]), mode='loss')


def test_a_module_that_did_not_run_is_reported():
    model = reid([STRA], [dict(type='StRAModeDiversity')])
    aux = model.auxiliary_losses[0]
    with aux.capture():
        with pytest.raises(RuntimeError, match='did not run'):
            aux.loss(samples([0]))
    assert isinstance(model.get_submodule(aux.paths[1]), ModeAttention)
