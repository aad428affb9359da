import pytest
import torch
from mmpretrain.structures import DataSample

from mmattn.models.losses.hardnet_loss import HardNetLoss
from mmattn.registry import MODELS


def build():
    torch.manual_seed(0)
    model = MODELS.build(
        dict(type='PatchDescriptor', backbone=dict(type='L2Net')))
    model.init_weights()
    return model


def batch(n, p=2):
    inputs = [
        torch.randint(0, 256, (p, 1, 32, 32), dtype=torch.uint8)
        for _ in range(n)
    ]
    samples = []
    for i in range(n):
        sample = DataSample()
        sample.set_field(torch.tensor([i, i]), 'point_ids')
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def test_preprocessor_stacks_and_scales():
    model = build()
    data = batch(3)
    out = model.data_preprocessor(data, True)
    assert out['inputs'].shape == (3, 2, 1, 32, 32)
    assert out['inputs'].dtype == torch.float32
    assert torch.allclose(out['inputs'][1], data['inputs'][1].float() / 255)
    with pytest.raises(ValueError, match='same'):
        model.data_preprocessor(
            dict(inputs=[torch.zeros(2, 1, 32, 32),
                         torch.zeros(1, 1, 32, 32)]), False)


def test_loss_is_the_hardnet_loss_of_the_descriptors():
    model = build()
    data = model.data_preprocessor(batch(4), True)
    losses = model(**data, mode='loss')
    model.eval()
    with torch.no_grad():
        desc = model(data['inputs'], mode='tensor')
    assert desc.shape == (4, 2, 128)
    # In eval mode (no dropout, BN running stats) the loss is the HardNet
    # loss of the test descriptors, with the point ids as labels.
    with torch.no_grad():
        eval_loss = model(**data, mode='loss')['loss']
    expected = HardNetLoss()(desc[:, 0], desc[:, 1], torch.arange(4))
    assert torch.allclose(eval_loss, expected, atol=1e-6)
    assert losses['loss'].requires_grad


def test_predict_sets_descriptors_and_pair_distances():
    model = build().eval()
    data = model.data_preprocessor(batch(3), False)
    with torch.no_grad():
        samples = model(**data, mode='predict')
    for sample in samples:
        desc = sample.pred_descriptor
        assert desc.shape == (2, 128)
        assert torch.allclose(sample.pred_distance, (desc[0] - desc[1]).norm())
    single = model.data_preprocessor(batch(2, p=1), False)
    with torch.no_grad():
        samples = model(single['inputs'], mode='predict')
    assert samples[0].pred_descriptor.shape == (1, 128)
    assert 'pred_distance' not in samples[0]


def test_training_requires_pairs():
    model = build()
    data = model.data_preprocessor(batch(2, p=1), True)
    with pytest.raises(ValueError, match='pairs'):
        model(**data, mode='loss')
    with pytest.raises(ValueError, match='invalid mode'):
        model(data['inputs'], mode='features')
