"""Convolution and its transpose: loops == im2col == unfold == the fused kernels of torch.nn.functional (values and gradients, float64)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import d2lite.torch as dt
from d2lite import scratch

TOL = dict(rtol=1e-10, atol=1e-12)

# (N, C_in, H, W, C_out, kernel, stride, padding): odd sizes, stride 2, padding 1-2, batch 1.
CASES = [
    (2, 3, 7, 9, 4, 3, 1, 0),
    (1, 2, 8, 5, 3, 3, 2, 1),
    (3, 1, 11, 10, 2, 5, 2, 2),
    (2, 4, 6, 7, 5, (2, 3), 1, 1),
    (1, 1, 5, 5, 1, 1, 1, 0),
    (2, 2, 4, 4, 3, 4, 3, 2),
]
IDS = [f"n{c[0]}-c{c[1]}-{c[2]}x{c[3]}-k{c[5]}-s{c[6]}-p{c[7]}" for c in CASES]


def t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def make_case(case, seed=0):
    n, c, h, w, c_out, k, stride, padding = case
    rng = np.random.default_rng(seed)
    layer = scratch.Conv2d(c, c_out, k, stride, padding, rng=rng)
    x = rng.normal(size=(n, c, h, w))
    return layer, x, rng


@pytest.mark.parametrize("size, kernel, stride, padding, expected", [
    (28, 5, 1, 0, 24), (8, 3, 1, 1, 8), (7, 3, 2, 1, 4), (10, 4, 3, 2, 4), (5, 5, 1, 0, 1), (6, 2, 2, 0, 3),
])
def test_output_size_formula(size, kernel, stride, padding, expected):
    assert scratch.conv_output_size(size, kernel, stride, padding) == expected
    assert dt.conv_output_size is scratch.conv_output_size


def test_output_size_rejects_a_kernel_larger_than_the_input():
    with pytest.raises(ValueError, match="does not fit"):
        scratch.conv_output_size(3, 5)


def test_pad2d_pads_only_height_and_width():
    x = np.ones((2, 3, 4, 5))
    p = scratch.pad2d(x, 2)
    assert p.shape == (2, 3, 8, 9)
    assert p.sum() == x.sum() and np.all(p[:, :, 2:-2, 2:-2] == 1)
    assert scratch.pad2d(x, 0) is x


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_im2col_matches_unfold_and_col2im_is_its_adjoint(case):
    layer, x, rng = make_case(case)
    _, _, kh, kw = layer.weight.data.shape
    stride, padding = layer.stride, layer.padding
    cols = scratch.im2col(x, kh, kw, stride, padding)
    unfolded = F.unfold(t(x), (kh, kw), padding=padding, stride=stride).numpy()  # (N, C*kh*kw, L)
    n, k, l = unfolded.shape
    assert cols.shape == (k, l * n)  # the batch last
    np.testing.assert_array_equal(cols.reshape(k, l, n).transpose(2, 0, 1), unfolded)
    # <im2col(x), c> == <x, col2im(c)> for any c: col2im is the transpose of im2col.
    c = rng.normal(size=cols.shape)
    back = scratch.col2im(c, x.shape, kh, kw, stride, padding)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * back), rtol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_loops_fast_and_torch_agree(case):
    layer, x, _ = make_case(case)
    w, b = layer.weight.data, layer.bias.data
    stride, padding = layer.stride, layer.padding
    expected = F.conv2d(t(x), t(w), t(b), stride, padding).numpy()
    np.testing.assert_allclose(scratch.conv2d_loops(x, w, b, stride, padding), expected, **TOL)
    np.testing.assert_allclose(scratch.conv2d(x, w, b, stride, padding), expected, **TOL)
    np.testing.assert_allclose(scratch.conv2d(x, w, None, stride, padding),
                               F.conv2d(t(x), t(w), None, stride, padding).numpy(), **TOL)
    for conv in (dt.conv2d, dt.conv2d_unfold):
        np.testing.assert_allclose(conv(t(x), t(w), t(b), stride, padding).detach().numpy(), expected, **TOL)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_scratch_backward_matches_torch_autograd(case):
    layer, x, rng = make_case(case)
    out = layer.forward(x)
    dout = rng.normal(size=out.shape)
    dx = layer.backward(dout)
    tx, tw, tb = t(x, True), t(layer.weight.data, True), t(layer.bias.data, True)
    (F.conv2d(tx, tw, tb, layer.stride, layer.padding) * t(dout)).sum().backward()
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(layer.weight.grad, tw.grad.numpy(), **TOL)
    np.testing.assert_allclose(layer.bias.grad, tb.grad.numpy(), **TOL)


def assert_torch_layer_matches_functional(m, layer, x, rng, functional):
    """m (a d2lite.torch layer) given layer's weights: values and all gradients equal functional's."""
    with torch.no_grad():
        m.weight.copy_(t(layer.weight.data))
        m.bias.copy_(t(layer.bias.data))
    tx, rx = t(x, True), t(x, True)
    dout = t(rng.normal(size=layer.forward(x).shape))
    (m(tx) * dout).sum().backward()
    w, b = t(layer.weight.data, True), t(layer.bias.data, True)
    (functional(rx, w, b, layer.stride, layer.padding) * dout).sum().backward()
    for ours, ref in [(tx.grad, rx.grad), (m.weight.grad, w.grad), (m.bias.grad, b.grad)]:
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), **TOL)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_torch_conv_gradients_match_torch_functional(case, fused):
    _, c, _, _, c_out, k, stride, padding = case
    layer, x, rng = make_case(case)
    m = dt.Conv2d(c, c_out, k, stride, padding, fused=fused, dtype=torch.float64)
    assert_torch_layer_matches_functional(m, layer, x, rng, F.conv2d)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (1, 2)])
def test_scratch_conv_gradients_match_numerical(bias, stride, padding):
    rng = np.random.default_rng(3)
    layer = scratch.Conv2d(2, 3, 3, stride, padding, bias=bias, rng=rng)
    errors = scratch.check_module_gradients(layer, rng.normal(size=(2, 2, 5, 6)))
    assert len(errors) == (3 if bias else 2)
    assert max(errors.values()) < 1e-6, errors


def test_backward_accumulates_parameter_gradients():
    layer, x, rng = make_case(CASES[0])
    dout = rng.normal(size=layer.forward(x).shape)
    layer.backward(dout)
    once = layer.weight.grad.copy()
    layer.backward(dout)
    np.testing.assert_allclose(layer.weight.grad, 2 * once, **TOL)


def test_conv2d_layers_shapes_and_default_init():
    s = scratch.Conv2d(3, 8, 5, rng=np.random.default_rng(0))
    m = dt.Conv2d(3, 8, 5)
    bound = 1 / np.sqrt(3 * 5 * 5)
    for w, b in [(s.weight.data, s.bias.data), (m.weight.detach().numpy(), m.bias.detach().numpy())]:
        assert w.shape == (8, 3, 5, 5) and b.shape == (8,)
        assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
        assert np.abs(w).max() > 0.8 * bound  # uniform over the whole range, not a narrower one
    assert s.forward(np.zeros((1, 3, 9, 9))).shape == (1, 8, 5, 5)
    assert m(torch.zeros(1, 3, 9, 9)).shape == (1, 8, 5, 5)
    assert scratch.Conv2d(3, 8, 5, bias=False).bias is None and dt.Conv2d(3, 8, 5, bias=False).bias is None


def test_channel_mismatch_is_a_clear_error():
    w = np.zeros((4, 3, 3, 3))
    for conv in (scratch.conv2d, scratch.conv2d_loops):
        with pytest.raises(ValueError, match="2 channels but weight expects 3"):
            conv(np.zeros((1, 2, 5, 5)), w)
    for conv in (dt.conv2d, dt.conv2d_unfold):
        with pytest.raises(ValueError, match="2 channels but weight expects 3"):
            conv(torch.zeros(1, 2, 5, 5), torch.zeros(4, 3, 3, 3))


def test_float32_stays_float32():
    layer = scratch.Conv2d(1, 2, 3, rng=np.random.default_rng(0), dtype=np.float32)
    x = np.ones((2, 1, 5, 5), dtype=np.float32)
    out = layer.forward(x)
    assert out.dtype == np.float32 and layer.backward(np.ones_like(out)).dtype == np.float32


# Transposed convolution. (N, C_in, H, W, C_out, kernel, stride, padding): the upsampling 2×2/stride 2,
# overlapping stamps (kernel 3 > stride 2), non-square images and kernels, padding, batch 1.
T_CASES = [
    (2, 3, 4, 5, 2, 2, 2, 0),
    (1, 2, 3, 6, 4, 3, 2, 1),
    (3, 1, 5, 4, 3, (2, 3), 1, 0),
    (2, 4, 2, 3, 1, 4, 3, 1),
    (1, 1, 6, 6, 2, 3, 1, 1),
]
T_IDS = [f"n{c[0]}-c{c[1]}-{c[2]}x{c[3]}-k{c[5]}-s{c[6]}-p{c[7]}" for c in T_CASES]


def make_transpose_case(case, seed=0):
    n, c, h, w, c_out, k, stride, padding = case
    rng = np.random.default_rng(seed)
    layer = scratch.ConvTranspose2d(c, c_out, k, stride, padding, rng=rng)
    return layer, rng.normal(size=(n, c, h, w)), rng


@pytest.mark.parametrize("case", T_CASES, ids=T_IDS)
def test_conv_transpose_matches_torch_functional(case):
    layer, x, _ = make_transpose_case(case)
    w, b, s, p = layer.weight.data, layer.bias.data, layer.stride, layer.padding
    expected = F.conv_transpose2d(t(x), t(w), t(b), s, p).numpy()
    assert expected.shape[2:] == (scratch.conv_transpose_output_size(x.shape[2], w.shape[2], s, p),
                                  scratch.conv_transpose_output_size(x.shape[3], w.shape[3], s, p))
    np.testing.assert_allclose(scratch.conv_transpose2d(x, w, b, s, p), expected, **TOL)
    np.testing.assert_allclose(layer.forward(x), expected, **TOL)
    for conv in (dt.conv_transpose2d, dt.conv_transpose2d_fold):
        np.testing.assert_allclose(conv(t(x), t(w), t(b), s, p).numpy(), expected, **TOL)
        np.testing.assert_allclose(conv(t(x), t(w), None, s, p).numpy(),
                                   F.conv_transpose2d(t(x), t(w), None, s, p).numpy(), **TOL)


@pytest.mark.parametrize("case", T_CASES, ids=T_IDS)
def test_conv_transpose_scratch_backward_matches_torch_autograd(case):
    layer, x, rng = make_transpose_case(case)
    dout = rng.normal(size=layer.forward(x).shape)
    dx = layer.backward(dout)
    tx, tw, tb = t(x, True), t(layer.weight.data, True), t(layer.bias.data, True)
    (F.conv_transpose2d(tx, tw, tb, layer.stride, layer.padding) * t(dout)).sum().backward()
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(layer.weight.grad, tw.grad.numpy(), **TOL)
    np.testing.assert_allclose(layer.bias.grad, tb.grad.numpy(), **TOL)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("case", T_CASES, ids=T_IDS)
def test_torch_conv_transpose_layer_gradients_match_torch_functional(case, fused):
    _, c, _, _, c_out, k, stride, padding = case
    layer, x, rng = make_transpose_case(case)
    m = dt.ConvTranspose2d(c, c_out, k, stride, padding, fused=fused, dtype=torch.float64)
    assert m.weight.shape == layer.weight.data.shape
    assert_torch_layer_matches_functional(m, layer, x, rng, F.conv_transpose2d)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("stride, padding, kernel", [(2, 0, 2), (2, 1, 3), (1, 1, (3, 2))])
def test_scratch_conv_transpose_gradients_match_numerical(bias, stride, padding, kernel):
    rng = np.random.default_rng(4)
    layer = scratch.ConvTranspose2d(3, 2, kernel, stride, padding, bias=bias, rng=rng)
    errors = scratch.check_module_gradients(layer, rng.normal(size=(2, 3, 3, 4)))
    assert len(errors) == (3 if bias else 2)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("h, w, k, stride, padding", [(6, 8, 3, 2, 1), (5, 7, 2, 1, 0), (9, 6, 3, 3, 0)])
def test_conv_transpose_is_the_input_gradient_of_conv(h, w, k, stride, padding):
    """z -> conv2d(z, W) is linear; its vector-Jacobian product with g is conv_transpose2d(g, W)."""
    rng = np.random.default_rng(5)
    weight = rng.normal(size=(4, 2, k, k))              # conv: 2 channels in, 4 out
    z = rng.normal(size=(3, 2, h, w))
    layer = scratch.Conv2d(2, 4, k, stride, padding, bias=False, rng=rng)
    layer.weight.data[...] = weight
    g = rng.normal(size=layer.forward(z).shape)
    dz = layer.backward(g)
    if scratch.conv_transpose_output_size(g.shape[2], k, stride, padding) == h and \
            scratch.conv_transpose_output_size(g.shape[3], k, stride, padding) == w:
        np.testing.assert_allclose(scratch.conv_transpose2d(g, weight, None, stride, padding), dz, **TOL)
    # and the adjoint identity <conv(z), g> == <z, conv_transpose(g)>, on the sizes the transpose produces
    zt = rng.normal(size=(3, 2, scratch.conv_transpose_output_size(g.shape[2], k, stride, padding),
                          scratch.conv_transpose_output_size(g.shape[3], k, stride, padding)))
    np.testing.assert_allclose(np.sum(scratch.conv2d(zt, weight, None, stride, padding) * g),
                               np.sum(zt * scratch.conv_transpose2d(g, weight, None, stride, padding)), rtol=1e-12)


def test_conv_transpose_layers_shapes_default_init_and_errors():
    s = scratch.ConvTranspose2d(3, 8, 2, stride=2, rng=np.random.default_rng(0))
    m = dt.ConvTranspose2d(3, 8, 2, stride=2)
    bound = 1 / np.sqrt(8 * 2 * 2)
    for w, b in [(s.weight.data, s.bias.data), (m.weight.detach().numpy(), m.bias.detach().numpy())]:
        assert w.shape == (3, 8, 2, 2) and b.shape == (8,)
        assert np.abs(w).max() <= bound and np.abs(b).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert s.forward(np.zeros((1, 3, 4, 5))).shape == (1, 8, 8, 10)
    assert m(torch.zeros(1, 3, 4, 5)).shape == (1, 8, 8, 10)
    with pytest.raises(ValueError, match="2 channels but weight expects 3"):
        scratch.conv_transpose2d(np.zeros((1, 2, 4, 4)), np.zeros((3, 8, 2, 2)))
    for conv in (dt.conv_transpose2d, dt.conv_transpose2d_fold):
        with pytest.raises(ValueError, match="2 channels but weight expects 3"):
            conv(torch.zeros(1, 2, 4, 4), torch.zeros(3, 8, 2, 2))
    with pytest.raises(ValueError, match="too large"):
        scratch.conv_transpose_output_size(1, 2, 1, 1)
    layer = scratch.ConvTranspose2d(1, 2, 3, stride=2, rng=np.random.default_rng(0), dtype=np.float32)
    out = layer.forward(np.ones((2, 1, 3, 3), dtype=np.float32))
    assert out.dtype == np.float32 and layer.backward(np.ones_like(out)).dtype == np.float32
