import pytest
import torch
import torch.nn.functional as F

from mmattn.models.attentions.csa import CompressedSelfAttention
from mmattn.registry import MODELS


def full_attention_reference(module, x):
    """CSA written as plain self-attention: materialise the HW x HW map
    A_i(j) = sum_k W[k, i] B_k(j) (paper eq. 4) and apply eq. 1."""
    b, c, h, w = x.shape
    g, d = module.groups, module.num_bases
    cg = c // g
    logits = F.conv2d(x, module.base_conv.weight,
                      module.base_conv.bias).flatten(2)
    values = F.conv2d(x, module.value_conv.weight,
                      module.value_conv.bias).flatten(2)
    out = torch.empty_like(values)
    for n in range(b):
        for k in range(g):
            m = logits[n, k * d:(k + 1) * d]  # (D, HW)
            base = m.softmax(dim=1)  # spatial softmax: base maps
            weight = m.softmax(dim=0)  # softmax over the D maps
            attention = weight.t() @ base  # (HW, HW), row i = A_i
            assert torch.allclose(
                attention.sum(1), torch.ones(h * w, dtype=x.dtype))
            v = values[n, k * cg:(k + 1) * cg]  # (C/G, HW)
            out[n, k * cg:(k + 1) * cg] = v @ attention.t()
    return module.alpha * out.view(b, c, h, w) + x


@pytest.mark.parametrize('groups,num_bases', [(1, 3), (2, 4), (4, 2)])
def test_csa_equals_materialised_self_attention(groups, num_bases):
    torch.manual_seed(0)
    module = CompressedSelfAttention(
        8, num_bases=num_bases, groups=groups).double()
    with torch.no_grad():
        module.alpha.fill_(0.7)
    x = torch.randn(2, 8, 5, 3, dtype=torch.double)
    out = module(x)
    assert out.shape == x.shape
    assert torch.allclose(out, full_attention_reference(module, x))
    # The residual path alone would not pass: the attention output matters.
    assert not torch.allclose(out, x)


def test_csa_starts_as_identity():
    module = CompressedSelfAttention(16)
    assert module.alpha.item() == 0.0 and module.alpha.requires_grad
    x = torch.randn(2, 16, 6, 4)
    assert torch.equal(module(x), x)


def test_csa_fixed_alpha_is_a_buffer():
    module = CompressedSelfAttention(
        8, num_bases=2, alpha_init=0.5, learnable_alpha=False)
    assert 'alpha' not in dict(module.named_parameters())
    assert module.alpha.item() == 0.5


def test_csa_never_forms_the_hw_by_hw_map():
    """No tensor saved for backward has HW x HW elements."""
    torch.manual_seed(0)
    module = CompressedSelfAttention(4, num_bases=4, groups=2)
    x = torch.randn(1, 4, 32, 32, requires_grad=True)
    hw = 32 * 32
    sizes = []

    def pack(t):
        sizes.append(t.numel())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        module(x).sum().backward()
    assert sizes and max(sizes) < hw * hw // 8


def test_csa_gradcheck():
    torch.manual_seed(0)
    module = CompressedSelfAttention(4, num_bases=3, groups=2).double()
    with torch.no_grad():
        module.alpha.fill_(0.9)
    x = torch.randn(2, 4, 3, 3, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(module, (x, ))
    # and with respect to the parameters (alpha, both 1x1 convs)
    params = [module.alpha, module.base_conv.weight, module.value_conv.weight]

    def as_function(alpha, base_w, value_w):
        b = F.conv2d(x, base_w, module.base_conv.bias)
        v = F.conv2d(x, value_w, module.value_conv.bias)
        bb = b.view(2, 2, 3, 9)
        e = v.view(2, 2, 2, 9) @ bb.softmax(-1).transpose(-1, -2)
        return alpha * (e @ bb.softmax(2)).view_as(x) + x

    assert torch.allclose(as_function(*params), module(x))
    assert torch.autograd.gradcheck(
        as_function, [p.detach().clone().requires_grad_() for p in params])


@pytest.mark.parametrize('kwargs,match', [
    (dict(in_channels=10, groups=3), 'divisible by groups'),
    (dict(in_channels=8, num_bases=0), 'num_bases'),
    (dict(in_channels=8, groups=0), 'groups'),
    (dict(in_channels=8, num_bases=2.5), 'num_bases'),
])
def test_csa_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CompressedSelfAttention(**kwargs)


def test_csa_rejects_wrong_input_channels():
    module = CompressedSelfAttention(8, num_bases=2)
    with pytest.raises(ValueError, match='expected 8 input channels'):
        module(torch.randn(1, 6, 4, 4))


def test_csa_builds_from_registry():
    module = MODELS.build(
        dict(type='CompressedSelfAttention', in_channels=8, num_bases=4))
    assert isinstance(module, CompressedSelfAttention)
    assert module.base_conv.out_channels == 8  # D * G = 4 * 2
