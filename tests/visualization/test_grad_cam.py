import numpy as np
import pytest
import torch
import torch.nn as nn

from mmattn.visualization import GradCAM, overlay_heatmap


class TinyNet(nn.Module):
    """conv (1x1, fixed weights) -> the sum of channel 0 over a region."""

    def __init__(self, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 1, stride=stride, bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(
                torch.tensor([[1.0, 0.5], [-1.0, 2.0],
                              [0.3, 0.3]]).view(3, 2, 1, 1))

    def forward(self, x):
        return self.conv(x)


def region_target(model, inputs):
    # Only the top-left 2x3 region of channel 0 influences the output.
    return model(inputs)[:, 0, :2, :3].sum(dim=(1, 2))


def test_grad_cam_matches_the_closed_form():
    torch.manual_seed(0)
    model = TinyNet()
    x = torch.randn(2, 2, 4, 6)
    cam = GradCAM(model, 'conv', region_target)(x)
    # d target / d A: 1 on the region of channel 0, else 0, so
    # w_0 = 6 / 24, w_1 = w_2 = 0 and CAM = ReLU(w_0 A_0) / max.
    act = model.conv(x)[:, 0]
    expected = torch.relu(act * 6 / 24)
    expected = expected / expected.flatten(1).amax(1).view(-1, 1, 1)
    torch.testing.assert_close(cam, expected)
    assert cam.min() >= 0 and cam.flatten(1).amax(1).tolist() == [1.0, 1.0]


def test_grad_cam_localises_the_only_informative_region():
    model = TinyNet()
    # Positive input only in the bottom-right corner: the heat sits there.
    x = torch.zeros(1, 2, 8, 8)
    x[:, :, 5:, 5:] = 1.0
    cam = GradCAM(model, 'conv', lambda m, inp: m(inp)[:, 0].sum(dim=(1, 2)))(
        x)
    assert (cam[0, 5:, 5:] == 1).all()
    assert (cam[0, :5] == 0).all() and (cam[0, :, :5] == 0).all()


def test_grad_cam_upsamples_strided_layers_and_leaves_no_grads():
    model = TinyNet(stride=2)
    x = torch.rand(1, 2, 8, 6)
    cam = GradCAM(model, 'conv', lambda m, inp: m(inp).sum(dim=(1, 2, 3)))(x)
    assert cam.shape == (1, 8, 6)
    assert model.conv.weight.grad is None


def test_grad_cam_errors():
    model = TinyNet()
    with pytest.raises(ValueError, match="'fc' is not a module path.*conv"):
        GradCAM(model, 'fc')
    with pytest.raises(ValueError, match='target must be one of'):
        GradCAM(model, 'conv', target='entropy')


def test_overlay_heatmap():
    image = np.full((4, 5, 3), 100, np.uint8)
    cam = np.zeros((4, 5))
    cam[0, 0] = 1.0
    out = overlay_heatmap(image, cam, alpha=0.0)
    assert (out == image).all()
    out = overlay_heatmap(image, cam, alpha=1.0)
    # jet: 1 is dark red, 0 dark blue.
    assert out[0, 0, 0] > 100 and out[0, 0, 2] < 10
    assert out[1, 1, 2] > 100 and out[1, 1, 0] < 10
    with pytest.raises(ValueError, match='same size'):
        overlay_heatmap(image, np.zeros((3, 3)))
