"""Pooling and Flatten: scratch and d2lite.torch both match torch.nn.functional (values and gradients)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import d2lite.torch as dt
from d2lite import scratch

TOL = dict(rtol=1e-10, atol=1e-12)
KINDS = {
    "max": (scratch.MaxPool2d, scratch.max_pool2d, dt.MaxPool2d, dt.max_pool2d, F.max_pool2d),
    "avg": (scratch.AvgPool2d, scratch.avg_pool2d, dt.AvgPool2d, dt.avg_pool2d, F.avg_pool2d),
}
# (N, C, H, W, kernel, stride): default stride, overlapping windows (stride < kernel), odd sizes
# with leftover rows and columns, batch 1.
CASES = [(2, 3, 8, 8, 2, None), (1, 2, 7, 9, 3, 2), (2, 1, 6, 5, 3, 1), (1, 4, 5, 7, 2, None), (3, 2, 9, 6, 4, 3)]
IDS = [f"n{c[0]}-c{c[1]}-{c[2]}x{c[3]}-k{c[4]}-s{c[5]}" for c in CASES]


def t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_pooling_matches_torch_functional(kind, case):
    Scratch, scratch_fn, Torch, torch_fn, reference = KINDS[kind]
    *shape, k, stride = case
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape)
    tx = t(x, True)
    expected = reference(tx, k, stride)
    dout = rng.normal(size=expected.shape)
    (expected * t(dout)).sum().backward()

    layer = Scratch(k, stride)
    np.testing.assert_allclose(layer.forward(x), expected.detach().numpy(), **TOL)
    np.testing.assert_allclose(layer.backward(dout), tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(scratch_fn(x, k, stride), expected.detach().numpy(), **TOL)

    ours = t(x, True)
    out = Torch(k, stride)(ours)
    (out * t(dout)).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), **TOL)
    np.testing.assert_allclose(ours.grad.numpy(), tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(torch_fn(t(x), k, stride).numpy(), expected.detach().numpy(), **TOL)

    spelled = t(x, True)  # the unfold version that teaches: same values, same gradient
    out = Torch(k, stride, fused=False)(spelled)
    (out * t(dout)).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), **TOL)
    np.testing.assert_allclose(spelled.grad.numpy(), tx.grad.numpy(), **TOL)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("k, stride", [(2, None), (3, 2), (2, 1)])
def test_scratch_pooling_gradients_match_numerical(kind, k, stride):
    x = np.random.default_rng(1).normal(size=(2, 2, 5, 6))  # distinct values: no ties for max
    errors = scratch.check_module_gradients(KINDS[kind][0](k, stride), x)
    assert errors["x"] < 1e-6, errors


def test_max_pool_ties_send_the_gradient_to_the_first_maximum():
    x = np.array([[[[1.0, 1.0, 0.0, 2.0],
                    [1.0, 1.0, 2.0, 2.0],
                    [3.0, 3.0, 0.0, 0.0],
                    [3.0, 3.0, 0.0, 0.0]]]])
    expected = np.array([[[[1.0, 0, 0, 1], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]]])
    layer = scratch.MaxPool2d(2)
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(np.ones((1, 1, 2, 2))), expected)
    for pool in (dt.max_pool2d, dt.max_pool2d_unfold):
        tx = t(x, True)
        pool(tx, 2).sum().backward()
        np.testing.assert_array_equal(tx.grad.numpy(), expected)
    ref = t(x, True)
    F.max_pool2d(ref, 2).sum().backward()
    np.testing.assert_array_equal(ref.grad.numpy(), expected)


def test_overlapping_windows_add_their_gradients():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0  # the maximum of all four 2×2 windows
    layer = scratch.MaxPool2d(2, stride=1)
    layer.forward(x)
    assert layer.backward(np.ones((1, 1, 2, 2)))[0, 0, 1, 1] == 4.0


def test_stride_defaults_to_kernel_size():
    assert scratch.MaxPool2d(3).stride == 3 and dt.AvgPool2d(3).stride == 3
    assert scratch.avg_pool2d(np.ones((1, 1, 6, 6)), 3).shape == (1, 1, 2, 2)


def test_flatten_forward_backward_and_gradients():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 2, 4, 5))
    layer = scratch.Flatten()
    out = layer.forward(x)
    assert out.shape == (3, 40)
    np.testing.assert_array_equal(out, dt.Flatten()(t(x)).numpy())
    assert layer.backward(out).shape == x.shape
    assert scratch.check_module_gradients(scratch.Flatten(), x)["x"] < 1e-8
    assert scratch.Flatten().forward(np.zeros((1, 7))).shape == (1, 7)
