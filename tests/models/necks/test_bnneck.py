import pytest
import torch

from mmattn.models.necks import BNNeck, PoolingNeck


@pytest.mark.parametrize('pooling', ['avg', 'max', 'gem'])
def test_pooling_and_bn(pooling):
    neck = BNNeck(6, pooling=pooling)
    neck.init_weights()
    x = torch.rand(4, 6, 5, 3, generator=torch.Generator().manual_seed(0))
    pre, post = neck((torch.zeros(1), x))
    expected = dict(
        avg=x.mean((2, 3)),
        max=x.amax((2, 3)),
        gem=x.clamp(min=1e-6).pow(3).mean((2, 3)).pow(1 / 3))[pooling]
    torch.testing.assert_close(pre, expected)
    assert post.shape == (4, 6)
    torch.testing.assert_close(post.mean(0), torch.zeros(6), atol=1e-4, rtol=0)
    assert not neck.bn.bias.requires_grad


def test_bad_pooling():
    with pytest.raises(ValueError, match='pooling'):
        BNNeck(4, pooling='mean')
    with pytest.raises(ValueError, match='BNNeck: pooling'):
        BNNeck(4, pooling='sum')


def test_pooling_neck_has_no_bottleneck():
    neck = PoolingNeck(pooling='max')
    x = torch.rand(2, 6, 4, 3)
    pre, post = neck([x])
    assert pre is post
    torch.testing.assert_close(pre, x.amax((2, 3)))
    assert not list(neck.parameters())
    with pytest.raises(ValueError, match="PoolingNeck: pooling"):
        PoolingNeck(pooling='sum')
