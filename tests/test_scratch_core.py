"""d2lite.scratch: every backward agrees with numerical gradients; losses are stable."""
import warnings

import numpy as np
import pytest

from d2lite import scratch


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("make", [
    lambda r: scratch.Linear(4, 3, rng=r),
    lambda r: scratch.Linear(4, 3, bias=False, rng=r),
    lambda r: scratch.ReLU(),
    lambda r: scratch.Sigmoid(),
    lambda r: scratch.Tanh(),
    lambda r: scratch.mlp([4, 6, 5, 3], rng=r),
    lambda r: scratch.mlp([4, 6, 3], activation=scratch.Tanh, rng=r),
], ids=["linear", "linear-nobias", "relu", "sigmoid", "tanh", "mlp-relu", "mlp-tanh"])
@pytest.mark.parametrize("batch", [1, 5])
def test_module_gradients_match_numerical(make, batch, rng):
    module = make(rng)
    x = rng.normal(size=(batch, 4))
    if isinstance(module, scratch.ReLU):
        x[np.abs(x) < 1e-3] = 0.5  # keep away from the kink, where the derivative is undefined
    errors = scratch.check_module_gradients(module, x)
    assert max(errors.values()) < 1e-6, errors


def test_gradient_checker_catches_a_wrong_backward(rng):
    class Broken(scratch.Linear):
        def backward(self, dout):
            return super().backward(dout) * 1.01

    errors = scratch.check_module_gradients(Broken(3, 2, rng=rng), rng.normal(size=(2, 3)))
    assert errors["x"] > 1e-3


@pytest.mark.parametrize("batch,classes", [(1, 3), (7, 10)])
def test_softmax_cross_entropy_gradient(batch, classes, rng):
    logits = rng.normal(size=(batch, classes))
    labels = rng.integers(0, classes, batch)
    loss = scratch.SoftmaxCrossEntropy()
    loss.forward(logits, labels)
    numeric = scratch.numerical_gradient(lambda z: scratch.cross_entropy(z, labels), logits.copy())
    assert scratch.relative_error(loss.backward(), numeric) < 1e-6


def test_mse_gradient(rng):
    pred, target = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    loss = scratch.MSELoss()
    loss.forward(pred, target)
    numeric = scratch.numerical_gradient(lambda p: np.mean((p - target) ** 2), pred.copy())
    assert scratch.relative_error(loss.backward(), numeric) < 1e-6


def test_softmax_and_cross_entropy_do_not_overflow():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        probs = scratch.softmax(logits)
        loss = scratch.cross_entropy(logits, np.array([0, 2]))
        s = scratch.sigmoid(np.array([-1e4, 0.0, 1e4]))
    assert np.allclose(probs, [[1, 0, 0], [0, 0.5, 0.5]])
    assert np.isclose(loss, np.log(2) / 2)
    assert np.allclose(s, [0, 0.5, 1])


def test_sgd_with_momentum_and_weight_decay_by_hand():
    p = scratch.Parameter(np.array([1.0, -2.0]))
    opt = scratch.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    p.grad[:] = [0.5, 0.5]
    opt.step()
    v1 = np.array([0.5, 0.5]) + 0.01 * np.array([1.0, -2.0])
    assert np.allclose(p.data, np.array([1.0, -2.0]) - 0.1 * v1)
    before = p.data.copy()
    opt.step()
    v2 = 0.9 * v1 + np.array([0.5, 0.5]) + 0.01 * before
    assert np.allclose(p.data, before - 0.1 * v2)


def test_parameters_and_zero_grad_reach_nested_layers(rng):
    model = scratch.Sequential(scratch.Linear(2, 2, rng=rng), scratch.Sequential(scratch.ReLU(), scratch.Linear(2, 1, rng=rng)))
    assert len(model.parameters()) == 4
    model.forward(rng.normal(size=(3, 2)))
    model.backward(np.ones((3, 1)))
    assert any(np.abs(p.grad).sum() > 0 for p in model.parameters())
    model.zero_grad()
    assert all(np.abs(p.grad).sum() == 0 for p in model.parameters())


def test_tiny_autograd_matches_the_chain_rule():
    x, w, b = scratch.Value(0.7), scratch.Value(-1.3), scratch.Value(0.2)
    out = ((x * w + b).tanh() * 2 - x / w).exp() + (x ** 2).log() + (w.relu() + x.sigmoid())
    out.backward()

    def f(xv, wv, bv):
        sig = 1 / (1 + np.exp(-xv))
        return np.exp(2 * np.tanh(xv * wv + bv) - xv / wv) + np.log(xv ** 2) + max(wv, 0) + sig

    eps = 1e-6
    numeric = [(f(*(v + eps * (i == j) for j, v in enumerate((0.7, -1.3, 0.2)))) -
                f(*(v - eps * (i == j) for j, v in enumerate((0.7, -1.3, 0.2))))) / (2 * eps) for i in range(3)]
    assert np.allclose([x.grad, w.grad, b.grad], numeric, rtol=1e-6)
    assert np.isclose(out.data, f(0.7, -1.3, 0.2))


def test_numerical_gradient_leaves_input_unchanged(rng):
    x = rng.normal(size=(3, 2))
    before = x.copy()
    g = scratch.numerical_gradient(lambda a: float(np.sum(a ** 2)), x)
    assert np.array_equal(x, before)
    assert np.allclose(g, 2 * x)
