"""d2lite.torch agrees with d2lite.scratch and with torch.nn (float64, tight tolerance)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import d2lite.torch as dt
from d2lite import scratch

TOL = dict(rtol=1e-10, atol=1e-12)


def t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def scratch_and_torch_linear(rng, n_in=5, n_out=3):
    s = scratch.Linear(n_in, n_out, rng=rng)
    m = dt.Linear(n_in, n_out, dtype=torch.float64)
    with torch.no_grad():
        m.weight.copy_(torch.from_numpy(s.weight.data))
        m.bias.copy_(torch.from_numpy(s.bias.data))
    return s, m


@pytest.mark.parametrize("batch", [1, 4])
def test_linear_matches_scratch_and_nn_linear(batch):
    rng = np.random.default_rng(1)
    s, m = scratch_and_torch_linear(rng)
    x = rng.normal(size=(batch, 5))
    dout = rng.normal(size=(batch, 3))
    xt = t(x, grad=True)
    out = m(xt)
    out.backward(t(dout))
    s_out = s.forward(x)
    s_dx = s.backward(dout)
    np.testing.assert_allclose(out.detach().numpy(), s_out, **TOL)
    np.testing.assert_allclose(xt.grad.numpy(), s_dx, **TOL)
    np.testing.assert_allclose(m.weight.grad.numpy(), s.weight.grad, **TOL)
    np.testing.assert_allclose(m.bias.grad.numpy(), s.bias.grad, **TOL)
    ref = nn.Linear(5, 3).double()
    with torch.no_grad():
        ref.weight.copy_(m.weight.T)  # torch.nn.Linear stores (out, in)
        ref.bias.copy_(m.bias)
    np.testing.assert_allclose(ref(t(x)).detach().numpy(), s_out, **TOL)


@pytest.mark.parametrize("name,builtin", [("ReLU", nn.ReLU()), ("Sigmoid", nn.Sigmoid()), ("Tanh", nn.Tanh())])
def test_activations_match_scratch_and_builtins(name, builtin):
    x = np.array([[-1e3, -3.0, -0.5, 0.0], [0.25, 1.0, 4.0, 1e3]])
    dout = np.random.default_rng(2).normal(size=x.shape)
    xt = t(x, grad=True)
    out = getattr(dt, name)()(xt)
    out.backward(t(dout))
    s = getattr(scratch, name)()
    np.testing.assert_allclose(out.detach().numpy(), s.forward(x), **TOL)
    np.testing.assert_allclose(xt.grad.numpy(), s.backward(dout), **TOL)
    xb = t(x, grad=True)
    builtin(xb).backward(t(dout))
    np.testing.assert_allclose(out.detach().numpy(), builtin(t(x)).numpy(), **TOL)
    np.testing.assert_allclose(xt.grad.numpy(), xb.grad.numpy(), **TOL)


@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_cross_entropy_matches_scratch_and_builtin(scale):
    rng = np.random.default_rng(3)
    logits = scale * rng.normal(size=(6, 4))
    labels = rng.integers(0, 4, 6)
    z = t(logits, grad=True)
    loss = dt.SoftmaxCrossEntropy()(z, torch.from_numpy(labels))
    loss.backward()
    s = scratch.SoftmaxCrossEntropy()
    assert np.isclose(loss.item(), s.forward(logits, labels), rtol=1e-10)
    np.testing.assert_allclose(z.grad.numpy(), s.backward(), **TOL)
    zb = t(logits, grad=True)
    ref = F.cross_entropy(zb, torch.from_numpy(labels))
    ref.backward()
    assert np.isclose(loss.item(), ref.item(), rtol=1e-10)
    np.testing.assert_allclose(z.grad.numpy(), zb.grad.numpy(), **TOL)
    assert torch.isfinite(loss)


def test_mse_matches_scratch_and_builtin():
    rng = np.random.default_rng(4)
    pred, target = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    p = t(pred, grad=True)
    dt.MSELoss()(p, t(target)).backward()
    s = scratch.MSELoss()
    s.forward(pred, target)
    np.testing.assert_allclose(p.grad.numpy(), s.backward(), **TOL)
    assert np.isclose(nn.MSELoss()(t(pred), t(target)).item(), s.forward(pred, target))


def test_mlp_and_sgd_steps_match_scratch():
    rng = np.random.default_rng(5)
    s_model = scratch.mlp([6, 8, 3], rng=rng)
    t_model = dt.mlp([6, 8, 3], device="cpu").double()
    with torch.no_grad():
        for tp, sp in zip(t_model.parameters(), s_model.parameters()):
            tp.copy_(torch.from_numpy(sp.data))
    s_opt = scratch.SGD(s_model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    t_opt = dt.SGD(t_model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    ref_model = dt.mlp([6, 8, 3], device="cpu").double()
    ref_model.load_state_dict(t_model.state_dict())
    ref_opt = torch.optim.SGD(ref_model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    loss_fn = scratch.SoftmaxCrossEntropy()
    for _ in range(3):
        X, y = rng.normal(size=(4, 6)), rng.integers(0, 3, 4)
        s_opt.zero_grad()
        loss_fn.forward(s_model.forward(X), y)
        s_model.backward(loss_fn.backward())
        s_opt.step()
        for model, opt in ((t_model, t_opt), (ref_model, ref_opt)):
            opt.zero_grad()
            dt.cross_entropy(model(t(X)), torch.from_numpy(y)).backward()
            opt.step()
    for sp, tp, rp in zip(s_model.parameters(), t_model.parameters(), ref_model.parameters()):
        np.testing.assert_allclose(tp.detach().numpy(), sp.data, **TOL)
        np.testing.assert_allclose(rp.detach().numpy(), sp.data, **TOL)


def test_mlp_goes_to_the_requested_device():
    model = dt.mlp([3, 2], device="cpu")
    assert all(p.device.type == "cpu" for p in model.parameters())
