"""Scratch and torch optimizers take the same steps as torch.optim over many steps (float64)."""
import copy

import numpy as np
import pytest
import torch

import d2lite.torch as dt
from d2lite import scratch

TOL = dict(rtol=1e-10, atol=1e-12)

# (scratch class, d2lite.torch class, torch.optim class, kwargs for all three)
CONFIGS = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.03, momentum=0.9)),
    ("SGD", dict(lr=0.02, momentum=0.8, weight_decay=0.01, nesterov=True)),
    ("AdaGrad", dict(lr=0.1, eps=1e-10, weight_decay=0.02)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6)),
    ("RMSprop", dict(lr=0.005, alpha=0.99, eps=1e-8, momentum=0.7, weight_decay=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-7)),
    ("Adam", dict(lr=0.003, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05)),
    ("AdamW", dict(lr=0.01, betas=(0.85, 0.99), eps=1e-8, weight_decay=0.1)),
]
TORCH_NAME = {"AdaGrad": "Adagrad"}


def gradients(w, step):
    """The gradient of a quadratic whose curvatures span three orders of magnitude, plus a drift that
    changes with the step (so the optimizers' running averages matter)."""
    curvature = np.logspace(-2, 1, w.size).reshape(w.shape)
    return curvature * (w - 1.0) + 0.3 * np.sin(step + np.arange(w.size).reshape(w.shape))


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=lambda v: v if isinstance(v, str) else None)
def test_scratch_and_torch_optimizers_match_torch_optim_for_50_steps(name, kwargs):
    w0 = np.random.default_rng(0).normal(size=(3, 4))
    sp = scratch.Parameter(w0.copy())
    s_opt = getattr(scratch, name)([sp], **kwargs)
    tp, rp = torch.tensor(w0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    t_opt = getattr(dt, name)([tp], **kwargs)
    ref_kwargs = dict(kwargs, foreach=False)
    r_opt = getattr(torch.optim, TORCH_NAME.get(name, name))([rp], **ref_kwargs)
    for step in range(50):
        sp.grad[...] = gradients(sp.data, step)
        s_opt.step()
        for p, opt in ((tp, t_opt), (rp, r_opt)):
            p.grad = torch.from_numpy(gradients(p.detach().numpy(), step))
            opt.step()
    np.testing.assert_allclose(rp.detach().numpy(), sp.data, **TOL)
    np.testing.assert_allclose(tp.detach().numpy(), sp.data, **TOL)
    assert not np.allclose(sp.data, w0)


def test_adam_l2_and_adamw_decoupled_decay_differ():
    """With the same decay, Adam rescales the L2 term by 1/√v̂ and AdamW does not: different weights."""
    w0 = np.random.default_rng(1).normal(size=5)
    results = {}
    for name in ("Adam", "AdamW"):
        p = scratch.Parameter(w0.copy())
        opt = getattr(scratch, name)([p], lr=0.01, weight_decay=0.1)
        for step in range(20):
            p.grad[...] = gradients(p.data, step)
            opt.step()
        results[name] = p.data
    assert not np.allclose(results["Adam"], results["AdamW"], rtol=1e-4)


def test_adamw_with_zero_gradient_only_decays():
    p = scratch.Parameter(np.array([2.0, -4.0]))
    opt = scratch.AdamW([p], lr=0.1, weight_decay=0.5)
    opt.step()  # g = 0: m = v = 0, Adam's step is 0; only the decay acts
    np.testing.assert_allclose(p.data, [2.0 * 0.95, -4.0 * 0.95])


def test_optimizer_state_round_trips_through_state_dict():
    torch.manual_seed(0)
    w = torch.randn(4, requires_grad=True)
    opt = dt.Adam([w], lr=0.1)
    for _ in range(3):
        w.grad = torch.randn(4)
        opt.step()
    w2 = w.detach().clone().requires_grad_()
    opt2 = dt.Adam([w2], lr=0.1)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))  # as through a checkpoint file
    g = torch.randn(4)
    w.grad, w2.grad = g, g.clone()
    opt.step()
    opt2.step()
    assert torch.equal(w, w2)


def test_bad_settings_are_explained():
    p = scratch.Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="momentum > 0"):
        scratch.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="model.parameters"):
        scratch.Adam([])
