import json

import pytest
import torch
from torch.func import functional_call
from torch.utils._python_dispatch import TorchDispatchMode

from mmattn.models.attentions import (ChannelWindowAttention, DCSAttention,
                                      FixedChannelWindowAttention,
                                      MultiWindowAttention, NonLocalAttention,
                                      merge_windows)
from mmattn.registry import MODELS


def hard_window_f(x, channels):
    """Plain reference of paper eq. 1-3: f = X_w X_w^T X / HW, with the
    HW x HW affinity formed explicitly; ``channels`` may repeat a channel
    (circular padding of a window longer than C)."""
    B, C, H, W = x.shape
    tokens = x.flatten(2).transpose(1, 2)  # (B, N, C)
    window = tokens[:, :, channels]
    affinity = window @ window.transpose(1, 2)  # (B, N, N)
    f = affinity @ tokens / (H * W)
    return f.transpose(1, 2).reshape(B, C, H, W)


def window(start, length, num_channels):
    return [(start + k) % num_channels for k in range(length)]


def bilinear_reference(x, s_int, l_int, s_dec, l_dec):
    """Paper eq. 4-5: interpolate the four integer windows' results."""
    C = x.shape[1]
    return (
        (1 - s_dec) * (1 - l_dec) * hard_window_f(x, window(s_int, l_int, C)) +
        s_dec * (1 - l_dec) * hard_window_f(x, window(s_int + 1, l_int, C)) +
        (1 - s_dec) * l_dec * hard_window_f(x, window(s_int, l_int + 1, C)) +
        s_dec * l_dec * hard_window_f(x, window(s_int + 1, l_int + 1, C)))


def make_transparent(module):
    """Make out_proj the identity (delta depth-wise kernel, BN eval with
    weight 1), so ``module(x) - x`` is the aggregated feature f."""
    proj = module.out_proj
    with torch.no_grad():
        proj.conv.weight.zero_()
        proj.conv.weight[:, 0, 1, 1] = 1
        proj.norm.weight.fill_(1)
        proj.norm.bias.zero_()
    proj.norm.reset_running_stats()
    proj.norm.eps = 0.0
    module.eval()
    return module


def randomize_output(module, seed=0):
    gen = torch.Generator().manual_seed(seed)
    proj = module.out_proj
    with torch.no_grad():
        proj.conv.weight.copy_(
            torch.randn(proj.conv.weight.shape, generator=gen))
        proj.norm.weight.copy_(
            torch.rand(proj.norm.weight.shape, generator=gen) + 0.5)
        proj.norm.bias.copy_(torch.randn(proj.norm.bias.shape, generator=gen))
    module.eval()
    return module


def set_windows(module, starts, lengths):
    """Set (fractional) windows directly."""
    starts = torch.tensor(starts, dtype=torch.float64)
    lengths = torch.tensor(lengths, dtype=torch.float64)
    with torch.no_grad():
        module.s_int.copy_(torch.floor(starts).long())
        module.l_int.copy_(torch.floor(lengths).long())
        module.s_dec.copy_(starts - torch.floor(starts))
        module.l_dec.copy_(lengths - torch.floor(lengths))
    return module


@pytest.fixture
def x():
    return torch.randn(2, 8, 3, 4, generator=torch.Generator().manual_seed(1))


def test_starts_as_identity_and_default_window(x):
    module = ChannelWindowAttention(8)
    assert module.searched_windows() == [(0.0, 4.5)]
    assert module.min_length == 2 and module.max_length == 7
    for mode in (True, False):
        module.train(mode)
        assert torch.equal(module(x), x)


def test_arch_parameters_are_the_window_parameters():
    module = MultiWindowAttention(20)
    params = module.arch_parameters()
    assert params[0] is module.s_dec and params[1] is module.l_dec
    assert all(isinstance(p, torch.nn.Parameter) for p in params)
    assert params[0].shape == (3, )
    names = {name for name, _ in module.named_parameters()}
    assert {'s_dec', 'l_dec'} <= names
    # the integer parts are buffers, saved but not optimised
    assert {'s_int', 'l_int'} <= set(module.state_dict())


@pytest.mark.parametrize('start,length', [(3, 5), (6, 5), (7, 7)])
def test_integer_window_equals_hard_window(x, start, length):
    module = make_transparent(
        set_windows(ChannelWindowAttention(8), [start], [length]))
    expected = hard_window_f(x, window(start, length, 8))
    torch.testing.assert_close(module(x) - x, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('start,length', [(2.3, 3.6), (5.7, 4.2), (6.5, 7.9)])
def test_fractional_window_matches_bilinear_reference(x, start, length):
    """Eq. 4-5 with circular padding, against the four explicit windows."""
    module = make_transparent(
        set_windows(ChannelWindowAttention(8), [start], [length]))
    s_int, l_int = int(start), int(length)
    expected = bilinear_reference(x, s_int, l_int, start - s_int,
                                  length - l_int)
    torch.testing.assert_close(module(x) - x, expected, rtol=1e-4, atol=1e-5)


def test_channel_weights_formula():
    module = set_windows(ChannelWindowAttention(8), [2.3], [3.6])
    s, l = 0.3, 0.6  # noqa: E741
    expected = torch.tensor([0, 0, 1 - s, 1, 1, s + l - s * l, s * l, 0],
                            dtype=torch.float32)
    torch.testing.assert_close(module.channel_weights().detach(), expected)
    assert module.support().tolist() == [2, 3, 4, 5, 6]


def test_feature_interpolation_mode(x):
    """'feature' mode: the authors' interpolation of the windowed features,
    against a plain reference with cat(X, X) padding."""
    start, length = 5.7, 4.2
    module = make_transparent(
        set_windows(
            ChannelWindowAttention(8, interpolation='feature'), [start],
            [length]))
    s_int, l_int, s, l = 5, 4, 0.7, 0.2  # noqa: E741
    padded = torch.cat([x, x], dim=1)
    theta_l = (1 - s) * padded[:, s_int:s_int + l_int] + \
        s * padded[:, s_int + 1:s_int + l_int + 1]
    theta_l = torch.cat([theta_l, torch.zeros_like(theta_l[:, :1])], dim=1)
    theta_l1 = (1 - s) * padded[:, s_int:s_int + l_int + 1] + \
        s * padded[:, s_int + 1:s_int + l_int + 2]
    theta = ((1 - l) * theta_l + l * theta_l1).flatten(2).transpose(1, 2)
    tokens = x.flatten(2).transpose(1, 2)
    expected = (theta @ theta.transpose(1, 2) @ tokens / 12).transpose(
        1, 2).reshape(x.shape)
    torch.testing.assert_close(module(x) - x, expected, rtol=1e-4, atol=1e-5)
    # It is not eq. 4-5 at a fractional window, but is at an integer one.
    affinity = make_transparent(
        set_windows(ChannelWindowAttention(8), [start], [length]))
    assert not torch.allclose(affinity(x), module(x), atol=1e-4)
    set_windows(module, [5], [4])
    set_windows(affinity, [5], [4])
    torch.testing.assert_close(module(x), affinity(x))


def test_gradient_matches_paper_eq8_eq9(x):
    start, length = 2.3, 3.6
    module = make_transparent(
        set_windows(ChannelWindowAttention(8), [start], [length]))
    weight = torch.randn(x.shape, generator=torch.Generator().manual_seed(3))
    ((module(x) - x) * weight).sum().backward()
    s_int, l_int, s, l = 2, 3, 0.3, 0.6  # noqa: E741

    def contract(s0, l0):
        return (hard_window_f(x, window(s0, l0, 8)) * weight).sum()

    grad_s = (1 - l) * (
        contract(s_int + 1, l_int) - contract(s_int, l_int)) + l * (
            contract(s_int + 1, l_int + 1) - contract(s_int, l_int + 1))
    grad_l = (1 - s) * (
        contract(s_int, l_int + 1) - contract(s_int, l_int)) + s * (
            contract(s_int + 1, l_int + 1) - contract(s_int + 1, l_int))
    torch.testing.assert_close(
        module.s_dec.grad[0], grad_s, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(
        module.l_dec.grad[0], grad_l, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('build', [
    lambda: set_windows(ChannelWindowAttention(6), [4.3], [3.6]),
    lambda: set_windows(
        ChannelWindowAttention(6, interpolation='feature'), [1.2], [2.7]),
    lambda: set_windows(
        MultiWindowAttention(6, window_length=2), [0.2, 2.6, 4.1],
        [1.7, 1.4, 1.3]),
])
def test_gradcheck_window_and_input(build):
    module = randomize_output(build()).double()
    inputs = (torch.randn(1, 6, 2, 3, dtype=torch.float64, requires_grad=True),
              module.s_dec.detach().clone().requires_grad_(True),
              module.l_dec.detach().clone().requires_grad_(True))

    def run(x, s_dec, l_dec):
        return functional_call(module, {'s_dec': s_dec, 'l_dec': l_dec}, (x, ))

    assert torch.autograd.gradcheck(run, inputs)
    out = run(*inputs)
    s_grad, l_grad = torch.autograd.grad(out.square().sum(), inputs[1:])
    assert s_grad.abs().min() > 0 and l_grad.abs().min() > 0


def test_carry_rule_cases():
    module = ChannelWindowAttention(
        8, init_windows=[(0.0, 4.0)] * 6, min_length=2, max_length=6)
    with torch.no_grad():
        module.s_int.copy_(torch.tensor([3, 0, 7, 2, 5, 1]))
        module.s_dec.copy_(torch.tensor([1.25, -0.5, 2.5, 0.4, -3.75, 0.0]))
        module.l_int.copy_(torch.tensor([4, 4, 2, 6, 3, 4]))
        module.l_dec.copy_(torch.tensor([1.5, -0.25, -1.5, 1.2, 0.3, -2.5]))
    module.carry_()
    # s: 4.25 -> (4, .25); -0.5 wraps to (7, .5); 9.5 wraps to (1, .5);
    # in range untouched; 1.25 = 5 - 3.75 -> (1, .25); 1 -> unchanged
    assert module.s_int.tolist() == [4, 7, 1, 2, 1, 1]
    torch.testing.assert_close(module.s_dec.data,
                               torch.tensor([.25, .5, .5, .4, .25, 0.]))
    # l: 5.5 -> (5, .5); 3.75 -> (3, .75); 0.5 clamps to min 2 (dec 0);
    # 7.2 clamps to max 6 (dec 0); untouched; 1.5 clamps to 2
    assert module.l_int.tolist() == [5, 3, 2, 6, 3, 2]
    torch.testing.assert_close(module.l_dec.data,
                               torch.tensor([.5, .75, 0., 0., .3, 0.]))
    # default bounds are the authors' [floor(0.25 C), C - 1]
    default = ChannelWindowAttention(32)
    with torch.no_grad():
        default.l_dec.fill_(-20.0)
    default.carry_()
    assert default.l_int.item() == 8 and default.l_dec.item() == 0
    with torch.no_grad():
        default.l_dec.fill_(40.0)
    default.carry_()
    assert default.l_int.item() == 31


def test_carry_keeps_decimal_below_one():
    module = ChannelWindowAttention(8)
    with torch.no_grad():
        module.s_dec.fill_(-1e-9)
    module.carry_()
    assert 0 <= module.s_dec.item() < 1
    assert module.s_int.item() in (7, 0)


def _weighted_loss(module, x, weight):
    return (module(x) * weight).sum()


@pytest.mark.parametrize('build', [
    lambda: ChannelWindowAttention(6, init_windows=[(0.0, 3.0)]),
    lambda: ChannelWindowAttention(
        6, init_windows=[(0.0, 3.0)], interpolation='feature'),
    lambda: MultiWindowAttention(6, window_length=2),
])
@pytest.mark.parametrize(
    'start,length,crossing',
    [
        (2, 3, 's'),  # s: 2 - eps -> 2 + eps
        (6, 3, 's'),  # s wraps: 6 - eps == C - eps -> 0 + eps
        (1, 4, 'l'),  # l: 4 - eps -> 4 + eps
        (3, 3, 'sl'),  # both at once
    ])
def test_loss_is_continuous_across_an_integer_carry(build, start, length,
                                                    crossing):
    """Moving s (or l) across an integer, where carry_ moves a whole step
    from the decimal to the integer part, does not make the loss jump."""
    module = randomize_output(build()).double()
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(2, 6, 3, 2, dtype=torch.float64, generator=gen)
    weight = torch.randn(2, 6, 3, 2, dtype=torch.float64, generator=gen)
    num = module.num_windows
    # window 0 crosses; the others keep their initial (integer) windows
    starts = [start - 1 if 's' in crossing else start] + \
        module.s_int[1:].tolist()
    lengths = [length - 1 if 'l' in crossing else length] + \
        module.l_int[1:].tolist()

    def loss_and_grad():
        module.zero_grad()
        loss = _weighted_loss(module, x, weight)
        loss.backward()
        grads = [p.grad[0].abs().item() for p in module.arch_parameters()]
        return loss.item(), max(grads)

    def set_decimals(value):
        set_windows(module, starts, lengths)
        with torch.no_grad():
            if 's' in crossing:
                module.s_dec[0] = value
            if 'l' in crossing:
                module.l_dec[0] = value

    eps = 1e-6
    set_decimals(1 - eps)
    before, slope_before = loss_and_grad()
    set_decimals(1.0)
    at_one = _weighted_loss(module, x, weight).item()
    module.carry_()
    assert module.s_int[0].item() == start % 6
    assert module.l_int[0].item() == length
    assert module.s_dec[0].item() == 0 and module.l_dec[0].item() == 0
    # at the integer itself, carrying does not change the output at all
    at_zero = _weighted_loss(module, x, weight).item()
    assert at_zero == pytest.approx(at_one, rel=1e-12, abs=1e-12)
    set_decimals(1 + eps)
    module.carry_()
    assert module.s_int[0].item() == start % 6
    assert module.s_dec[0].item() == pytest.approx(
        eps if 's' in crossing else 0, abs=1e-9)
    after, slope_after = loss_and_grad()
    # a jump would be of the order of one channel's contribution (~1); a
    # continuous loss moves by about 2 eps times its slope
    assert abs(after - before) <= 4 * eps * (slope_before + slope_after) \
        + 1e-9
    assert abs(at_one) > 1e-3  # the loss is not trivially zero
    assert module.num_windows == num


def test_merge_windows_eq10():
    # overlapping: s_O = min s, l_O = max(s + l) - s_O
    assert merge_windows([(0, 8), (4, 8)], 32) == [(0, 12)]
    # touching windows form one window too
    assert merge_windows([(0, 8), (8, 8)], 32) == [(0, 16)]
    assert merge_windows([(10, 3), (0, 4)], 32) == [(0, 4), (10, 3)]
    # a nested window disappears; wrapping windows merge across C - 1 -> 0
    assert merge_windows([(2, 10), (4, 2), (30, 4), (1, 1)], 32) == [(30, 14)]
    assert merge_windows([(0, 20), (16, 20)], 32) == [(0, 32)]
    with pytest.raises(ValueError, match='length'):
        merge_windows([(0, 0)], 8)


def test_multi_window_init_and_stats():
    module = MultiWindowAttention(20)
    assert module.rounded_windows() == [(0, 8), (8, 8), (16, 4)]
    torch.testing.assert_close(module.channel_weights().detach(),
                               torch.ones(20))
    stats = module.window_stats()
    assert stats['num_windows_before'] == 3
    assert stats['num_windows_after'] == 1
    assert stats['sum_length'] == 20 and stats['windows'] == [(0, 20)]

    module = set_windows(
        MultiWindowAttention(32), [0, 3, 16, 26], [5, 6, 4, 4])
    stats = module.window_stats()
    assert stats['windows'] == [(0, 9), (16, 4), (26, 4)]
    assert stats['num_windows_before'] == 4
    assert stats['num_windows_after'] == 3
    assert stats['sum_length'] == 17
    json.dumps(stats)


def test_multi_window_counts_shared_channels_once(x):
    module = make_transparent(
        set_windows(
            MultiWindowAttention(8, window_length=3), [0, 1, 6], [3, 2, 1]))
    # windows {0,1,2} and {1,2} overlap; eq. 11-12 concatenates the merged
    # windows [0, 3) and [6, 7)
    expected = hard_window_f(x, [0, 1, 2, 6])
    torch.testing.assert_close(module(x) - x, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('build', [
    lambda: set_windows(ChannelWindowAttention(8), [6], [5]),
    lambda: set_windows(
        MultiWindowAttention(8, window_length=3), [0, 1, 6], [3, 2, 1]),
])
def test_fixed_form_equals_searched_form_at_integer_windows(x, build):
    searched = randomize_output(build())
    fixed = searched.fix_windows()
    assert isinstance(fixed, FixedChannelWindowAttention)
    assert not fixed.training
    torch.testing.assert_close(fixed(x), searched(x))
    # the exported architecture is JSON and rebuilds the same module
    arch = json.loads(json.dumps(searched.export_arch()))
    rebuilt = MODELS.build(arch)
    rebuilt.load_state_dict(fixed.state_dict())
    rebuilt.eval()
    torch.testing.assert_close(rebuilt(x), searched(x))


def test_fixed_form_prunes_the_affinity_channels(x):
    fixed = FixedChannelWindowAttention(8, windows=[(6, 3), (2, 1)])
    assert fixed.channel_indices.tolist() == [0, 2, 6, 7]
    assert fixed.windows == [(2, 1), (6, 3)]
    by_index = FixedChannelWindowAttention(8, channel_indices=[7, 0, 2, 6])
    assert by_index.windows == [(2, 1), (6, 3)]
    make_transparent(fixed)
    torch.testing.assert_close(
        fixed(x) - x, hard_window_f(x, [0, 2, 6, 7]), rtol=1e-4, atol=1e-5)
    assert 'channel_indices' not in fixed.state_dict()


def test_fix_windows_rounds_to_nearest():
    module = set_windows(ChannelWindowAttention(16), [3.6], [5.4])
    assert module.rounded_windows() == [(4, 5)]
    assert module.rounded_windows('floor') == [(3, 5)]
    assert module.export_arch()['windows'] == [[4, 5]]
    assert module.fix_windows().channel_indices.tolist() == [4, 5, 6, 7, 8]
    with pytest.raises(ValueError, match='rounding'):
        module.rounded_windows('up')


class _LargestTensor(TorchDispatchMode):
    """Records the largest tensor any operator produces."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for item in out if isinstance(out, (tuple, list)) else [out]:
            if isinstance(item, torch.Tensor):
                self.largest = max(self.largest, item.numel())
        return out


def _largest_tensor(module, x):
    x = x.clone().requires_grad_(True)
    with _LargestTensor() as recorder:
        module(x).sum().backward()
    return recorder.largest


def _explicit_softmax_attention(x):
    tokens = x.flatten(2)  # (B, C, N)
    weights = (tokens.transpose(1, 2) @ tokens).softmax(-1)  # (B, N, N)
    return tokens @ weights.transpose(1, 2)


@pytest.mark.parametrize('build', [
    lambda: randomize_output(NonLocalAttention(4)),
    lambda: randomize_output(DCSAttention(4)),
])
def test_fused_softmax_attention_keeps_no_hw_by_hw_tensor_on_cpu(build):
    """The softmax attentions hand contiguous tokens to the fused kernel
    (``feature_tokens``): on a transposed view PyTorch's CPU
    ``scaled_dot_product_attention`` falls back to the math path, which
    forms the HW x HW weights and is ~3.6x slower (issue 16)."""
    x = torch.randn(2, 4, 16, 16)
    hw = 16 * 16
    assert _largest_tensor(build().train(), x) < hw * hw


@pytest.mark.parametrize('build', [
    lambda: set_windows(ChannelWindowAttention(4), [1.5], [2.5]),
    lambda: ChannelWindowAttention(4, interpolation='feature'),
    lambda: set_windows(
        MultiWindowAttention(4, window_length=2), [0.5, 2.5], [1.5, 1.5]),
    lambda: FixedChannelWindowAttention(4, windows=[(1, 2)]),
    lambda: DCSAttention(4, affinity='dot'),
])
def test_no_hw_by_hw_tensor(build):
    """Forward and backward never create an (HW x HW)-sized tensor."""
    x = torch.randn(1, 4, 16, 16)
    hw = 16 * 16
    # the recorder does see an HW x HW affinity where one exists
    assert _largest_tensor(_explicit_softmax_attention, x) >= hw * hw
    module = randomize_output(build()).train()
    assert _largest_tensor(module, x) < hw * hw


def test_invalid_arguments(x):
    with pytest.raises(ValueError, match='in_channels'):
        ChannelWindowAttention(1)
    with pytest.raises(ValueError, match='interpolation'):
        ChannelWindowAttention(8, interpolation='cubic')
    with pytest.raises(ValueError, match='init window'):
        ChannelWindowAttention(8, init_windows=[(0, 8.5)])
    with pytest.raises(ValueError, match='one window'):
        ChannelWindowAttention(
            8, init_windows=[(0, 3), (4, 3)], interpolation='feature')
    with pytest.raises(ValueError, match='min_length'):
        ChannelWindowAttention(8, min_length=5, max_length=3)
    with pytest.raises(ValueError, match='window_length'):
        MultiWindowAttention(8, window_length=8)
    with pytest.raises(ValueError, match='exactly one'):
        FixedChannelWindowAttention(8)
    with pytest.raises(ValueError, match='channel_indices'):
        FixedChannelWindowAttention(8, channel_indices=[1, 1, 9])
    with pytest.raises(ValueError, match='in_channels=8'):
        ChannelWindowAttention(8)(torch.randn(1, 6, 2, 2))
