import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmattn.models.heads.deep_supervision_head import CSADeepSupervisionHead
from mmattn.registry import MODELS


def test_csa_deep_supervision_head_loss():
    torch.manual_seed(0)
    head = MODELS.build(
        dict(
            type='CSADeepSupervisionHead',
            in_channels=8,
            num_classes=5,
            loss_weight=0.5))
    assert isinstance(head, CSADeepSupervisionHead)
    feats = torch.randn(4, 8, 6, 2)
    labels = torch.tensor([0, 4, 2, 2])
    logits = head(feats)
    assert logits.shape == (4, 5)
    expected = head.fc(feats.mean(dim=(2, 3)))
    assert torch.allclose(logits, expected)
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    loss = head.loss((feats, ), samples)['loss_ds']
    assert torch.allclose(loss, 0.5 * F.cross_entropy(expected, labels))
    assert torch.allclose(head.loss(feats, labels)['loss_ds'], loss)


def test_csa_deep_supervision_head_errors():
    head = CSADeepSupervisionHead(8, num_classes=3)
    with pytest.raises(ValueError, match='num_classes'):
        head.loss(torch.randn(2, 8, 2, 2), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match='8 channels'):
        head(torch.randn(2, 4, 2, 2))
