import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmattn.registry import MODELS


def build(**kwargs):
    cfg = dict(
        type='ReID',
        backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
        neck=dict(type='BNNeck', in_channels=512),
        head=dict(type='ReIDHead', num_classes=4, in_channels=512))
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def samples(labels):
    return [DataSample().set_gt_label(int(i)) for i in labels]


def test_loss_mode_returns_id_and_triplet_and_backpropagates():
    model = build()
    x = torch.randn(8, 3, 64, 32)
    losses = model(x, samples([0, 0, 1, 1, 2, 2, 3, 3]), mode='loss')
    assert set(losses) == {'loss_id', 'loss_triplet'}
    sum(losses.values()).backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    assert model.head.classifier.bias is None


def test_loss_weights_and_disabling():
    model = build(
        head=dict(
            type='ReIDHead',
            num_classes=4,
            in_channels=512,
            loss_triplet=dict(
                type='TripletLoss', margin=None, loss_weight=0.5),
            loss_id=None))
    losses = model(
        torch.randn(4, 3, 64, 32), samples([0, 0, 1, 1]), mode='loss')
    assert set(losses) == {'loss_triplet'}
    with pytest.raises(ValueError, match='at least one loss'):
        build(
            head=dict(
                type='ReIDHead',
                num_classes=4,
                in_channels=512,
                loss_id=None,
                loss_triplet=None))


def test_label_out_of_range_names_config_key():
    model = build()
    with pytest.raises(ValueError, match='model.head.num_classes'):
        model(torch.randn(4, 3, 64, 32), samples([0, 0, 9, 9]), mode='loss')


@pytest.mark.parametrize('test_feature', ['post_bn', 'pre_bn'])
def test_predict_returns_normalised_features(test_feature):
    model = build(test_feature=test_feature).eval()
    x = torch.randn(3, 3, 64, 32)
    with torch.no_grad():
        out = model(x, samples([0, 1, 2]), mode='predict')
        pre, post = model.extract_feat(x)
    expected = F.normalize(post if test_feature == 'post_bn' else pre, dim=1)
    got = torch.stack([s.pred_feature for s in out])
    torch.testing.assert_close(got, expected)
    assert out[1].gt_label.item() == 1


def test_flip_test_averages_image_and_mirror():
    model = build(flip_test=True).eval()
    x = torch.randn(2, 3, 64, 32)
    with torch.no_grad():
        got = model(x, mode='tensor')
        expected = F.normalize(
            model.extract_feat(x)[1] + model.extract_feat(x.flip(3))[1], dim=1)
        # Flip-averaged features are invariant to mirroring the input.
        torch.testing.assert_close(got, model(x.flip(3), mode='tensor'))
    torch.testing.assert_close(got, expected)


def test_bad_mode_and_feature():
    with pytest.raises(ValueError, match='test_feature'):
        build(test_feature='logits')
    with pytest.raises(ValueError, match='invalid mode'):
        build()(torch.randn(1, 3, 32, 16), mode='features')
