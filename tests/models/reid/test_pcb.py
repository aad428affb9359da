"""PCBReID: part features, RPP, and CSA deep supervision (an auxiliary
loss)."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmattn.registry import MODELS

# A narrow last-stride-1 ResNet-18: a 96x32 input gives a 6x2 map (6 parts).
BACKBONE = dict(
    type='ResNet',
    depth=18,
    stem_channels=8,
    base_channels=8,
    strides=(1, 2, 2, 1),
    out_indices=(3, ))
CSA = dict(
    cfg=dict(type='CompressedSelfAttention', num_bases=4, groups=2),
    after=['layer1', 'layer2', 'layer3'])

DS = dict(head=dict(type='CSADeepSupervisionHead', num_classes=4))


def build(rpp=False, ds=DS, attentions=(CSA, ), **kwargs):
    neck = dict(
        type='RefinedPartPooling', in_channels=64) if rpp else dict(
            type='PartPooling')
    cfg = dict(
        type='PCBReID',
        backbone=dict(
            type='AttentionBackbone',
            backbone=BACKBONE,
            attentions=list(attentions)),
        neck=neck,
        head=dict(
            type='PCBHead', num_classes=4, in_channels=64,
            reduced_channels=16))
    if ds is not None:
        cfg['auxiliary_losses'] = [dict(type='AttentionDeepSupervision', **ds)]
    cfg.update(kwargs)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def samples(labels):
    return [DataSample().set_gt_label(int(i)) for i in labels]


def supervision(model):
    return model.auxiliary_losses[0]


def csa_modules(model):
    return [model.get_submodule(p) for p in supervision(model).paths]


def test_deep_supervision_losses_match_heads_on_the_csa_outputs():
    model = build()
    assert supervision(model).paths == [
        f'backbone.backbone.layer{i}.attention' for i in (1, 2, 3)
    ]
    assert [h.in_channels for h in supervision(model).heads] == [8, 16, 32]
    x = torch.randn(4, 3, 96, 32)
    labels = [0, 1, 2, 3]
    # Independent capture of the CSA outputs.
    seen = []
    handles = [
        m.register_forward_hook(lambda m, a, o: seen.append(o))
        for m in csa_modules(model)
    ]
    losses = model(x, samples(labels), mode='loss')
    for handle in handles:
        handle.remove()
    assert set(losses) == {'loss_pcb', 'loss_ds1', 'loss_ds2', 'loss_ds3'}
    for i, (head, out) in enumerate(
            zip(supervision(model).heads, seen), start=1):
        expected = F.cross_entropy(
            head.fc(out.mean(dim=(2, 3))), torch.tensor(labels))
        torch.testing.assert_close(losses[f'loss_ds{i}'], expected)


def test_deep_supervision_backpropagates_into_the_csa_modules():
    model = build()
    for module in csa_modules(model):
        # alpha starts at 0 (identity), which zeroes the gradient of the
        # attention convs; move it away to see them.
        module.alpha.data.fill_(0.5)
    losses = model(
        torch.randn(4, 3, 96, 32), samples([0, 1, 2, 3]), mode='loss')
    # The first auxiliary loss alone reaches the first CSA module.
    losses['loss_ds1'].backward()
    first = csa_modules(model)[0]
    assert first.base_conv.weight.grad.abs().sum() > 0
    assert first.alpha.grad.abs().sum() > 0
    assert supervision(model).heads[0].fc.weight.grad.abs().sum() > 0
    assert csa_modules(model)[2].alpha.grad is None


def test_lambda_scales_the_auxiliary_losses():
    x, labels = torch.randn(2, 3, 96, 32), samples([0, 1])
    one = build()(x, labels, mode='loss')
    half = build(
        ds=dict(
            head=dict(
                type='CSADeepSupervisionHead', num_classes=4,
                loss_weight=0.5)))(
                    x, labels, mode='loss')
    torch.testing.assert_close(half['loss_ds2'], 0.5 * one['loss_ds2'])
    torch.testing.assert_close(half['loss_pcb'], one['loss_pcb'])


def test_predict_gives_normalised_part_features_and_keeps_no_outputs():
    model = build(rpp=True).eval()
    x = torch.randn(3, 3, 96, 32)
    with torch.no_grad():
        out = model(x, mode='predict')
    feats = torch.stack([s.pred_feature for s in out])
    assert feats.shape == (3, 6 * 16)
    torch.testing.assert_close(feats.norm(dim=1), torch.ones(3))
    assert supervision(model)._captured is None
    with torch.no_grad():
        expected = model.head.test_features(model.neck(model.backbone(x)))
    torch.testing.assert_close(feats, F.normalize(expected, dim=1))


def test_rpp_model_trains_the_part_classifier():
    model = build(rpp=True, ds=None)
    losses = model(torch.randn(2, 3, 96, 32), samples([0, 1]), mode='loss')
    assert set(losses) == {'loss_pcb'}
    losses['loss_pcb'].backward()
    assert model.neck.part_classifier.weight.grad.abs().sum() > 0


def test_a_deep_copy_collects_its_own_outputs():
    model = build()
    clone = copy.deepcopy(model)
    losses = clone(torch.randn(2, 3, 96, 32), samples([0, 1]), mode='loss')
    assert 'loss_ds3' in losses
    assert supervision(model)._captured is None


def test_deep_supervision_paths_and_errors():
    head = DS['head']
    model = build(
        ds=dict(paths='backbone.backbone.layer2.attention', head=head))
    assert supervision(model).paths == ['backbone.backbone.layer2.attention']
    with pytest.raises(ValueError, match='match no module'):
        build(ds=dict(paths='backbone.layer9', head=head))
    with pytest.raises(ValueError, match='none of the modules'):
        build(attentions=())
    with pytest.raises(TypeError, match='lam'):
        build(ds=dict(head=head, lam=1.0))
    with pytest.raises(ValueError, match='head config'):
        build(ds=dict(head=dict(num_classes=4)))
    with pytest.raises(ValueError, match='infer the channels'):
        build(
            ds=dict(
                paths='backbone.backbone.layer1.wrapped.0.relu', head=head))
    with pytest.raises(TypeError, match='PCBHead'):
        build(
            ds=None, head=dict(type='ReIDHead', num_classes=4, in_channels=64))
