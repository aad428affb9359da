"""FaceRecognizer: margin-head losses + StRA diversity loss in training,
flip-concatenated L2-normalised features in testing."""
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmattn.models.attentions.stra import collect_mode_masks
from mmattn.models.losses import DiversityLoss
from mmattn.registry import MODELS


def tiny_cfg(head='ArcFaceHead', stra=True, diversity=True):
    attentions = [
        dict(
            cfg=dict(type='StructureRegularizedAttention', groups=8),
            replace='layer4.*.conv2')
    ]
    return dict(
        type='FaceRecognizer',
        backbone=dict(
            type='AttentionBackbone',
            backbone=dict(
                type='ResNet',
                depth=18,
                stem_channels=8,
                base_channels=8,
                strides=(1, 2, 2, 1)),
            attentions=attentions if stra else [],
            dummy_input_shape=(1, 3, 32, 32)),
        neck=dict(
            type='FaceEmbeddingNeck',
            in_channels=64,
            feature_size=(2, 2),
            embed_dim=16),
        head=dict(type=head, num_classes=3, in_channels=16),
        auxiliary_losses=([
            dict(
                type='StRAModeDiversity',
                loss=dict(type='DiversityLoss', loss_weight=0.1))
        ] if diversity else None))


def samples(labels):
    return [DataSample().set_gt_label(y) for y in labels]


@pytest.mark.parametrize('head',
                         ['SoftmaxFaceHead', 'CosFaceHead', 'ArcFaceHead'])
def test_training_losses(head):
    torch.manual_seed(0)
    model = MODELS.build(tiny_cfg(head))
    inputs = torch.randn(4, 3, 32, 32)
    losses = model(inputs, samples([0, 1, 2, 0]), mode='loss')
    assert set(losses) == {'loss_cls', 'accuracy_top1', 'loss_diversity'}
    masks = collect_mode_masks(model.backbone)
    assert len(masks) == 2  # the two layer4 blocks of ResNet-18
    torch.testing.assert_close(losses['loss_diversity'],
                               DiversityLoss(0.1)(masks))
    (losses['loss_cls'] + losses['loss_diversity']).backward()
    mask_net = model.backbone.backbone.layer4[0].conv2.mode_attention
    assert mask_net.mask_net[0].weight.grad.abs().sum() > 0


def test_test_features_concatenate_image_and_flip():
    torch.manual_seed(0)
    model = MODELS.build(tiny_cfg()).eval()
    inputs = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        out = model(inputs, mode='predict')
        plain = model.extract_feat(inputs)
        flipped = model.extract_feat(inputs.flip(3))
    feats = torch.stack([s.pred_feature for s in out])
    assert feats.shape == (3, 32)
    torch.testing.assert_close(
        feats, F.normalize(torch.cat([plain, flipped], 1), dim=1))
    model.flip_test = False
    with torch.no_grad():
        assert model(inputs).shape == (3, 16)


def test_diversity_loss_needs_stra():
    with pytest.raises(
            ValueError,
            match='StRAModeDiversity: the model has '
            'none of the modules'):
        MODELS.build(tiny_cfg(stra=False))
    baseline = MODELS.build(tiny_cfg(stra=False, diversity=False))
    losses = baseline(torch.randn(2, 3, 32, 32), samples([0, 1]), mode='loss')
    assert 'loss_diversity' not in losses
    with pytest.raises(ValueError, match='invalid mode'):
        baseline(torch.randn(2, 3, 32, 32), mode='nope')
