"""FaceEmbeddingNeck: BN-Dropout-FC-BN on the flattened (or pooled) map."""
import pytest
import torch

from mmattn.models.necks import FaceEmbeddingNeck


def test_flattened_embedding_matches_manual_computation():
    torch.manual_seed(0)
    neck = FaceEmbeddingNeck(
        in_channels=4, feature_size=(3, 2), embed_dim=5, dropout=0.3).eval()
    x = torch.randn(6, 4, 3, 2)
    (out, ) = neck((torch.randn(6, 2, 3, 3), x))  # the last output is used
    assert out.shape == (6, 5)
    normed = neck.bn_in(x).flatten(1)  # eval: dropout is the identity
    torch.testing.assert_close(out, neck.bn_out(neck.fc(normed)))
    assert neck.fc.in_features == 4 * 3 * 2
    assert not neck.bn_out.weight.requires_grad


def test_pooled_embedding_and_dropout_in_training():
    torch.manual_seed(0)
    neck = FaceEmbeddingNeck(
        in_channels=4, feature_size=None, embed_dim=3, dropout=0.5)
    (out, ) = neck(torch.randn(8, 4, 5, 7))
    assert out.shape == (8, 3) and neck.fc.in_features == 4
    out.sum().backward()
    assert neck.fc.weight.grad is not None


def test_bad_configuration_and_input():
    with pytest.raises(ValueError, match='feature_size'):
        FaceEmbeddingNeck(in_channels=4, feature_size=(3, ))
    with pytest.raises(ValueError, match='dropout'):
        FaceEmbeddingNeck(in_channels=4, dropout=1.0)
    neck = FaceEmbeddingNeck(in_channels=4, feature_size=(7, 7))
    with pytest.raises(ValueError, match=r'feature_size is \(7, 7\)'):
        neck(torch.randn(2, 4, 4, 4))
    with pytest.raises(ValueError, match='expected a'):
        neck(torch.randn(2, 3, 7, 7))
