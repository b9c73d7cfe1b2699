"""Numerical gradients: the check that every hand-written backward must pass."""
import numpy as np


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of the scalar function `f` at array `x`.

    Each entry of `x` is nudged by ±eps in turn and restored afterwards, so `x`
    is left as it was found. The error of a central difference shrinks like eps².
    """
    x = np.asarray(x)
    grad = np.zeros(x.shape, dtype=np.float64)
    for idx in np.ndindex(*x.shape):
        original = x[idx]
        x[idx] = original + eps
        f_plus = f(x)
        x[idx] = original - eps
        f_minus = f(x)
        x[idx] = original
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a, b):
    """max |a - b| / max(|a| + |b|), robust when both are near zero."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = np.maximum(np.abs(a) + np.abs(b), 1e-12)
    return float(np.max(np.abs(a - b) / scale)) if a.size else 0.0


def check_module_gradients(module, x, eps=1e-6, seed=0):
    """Compare a module's backward with numerical gradients, in float64.

    Uses the scalar loss sum(out * r) for a fixed random r, whose gradient with
    respect to the output is r. Returns {name: relative error} for the input
    ("x") and for each parameter ("param0", "param1", ...).
    """
    rng = np.random.default_rng(seed)
    x = np.array(x, dtype=np.float64)
    r = rng.standard_normal(module.forward(x).shape)

    def loss(_):
        return float(np.sum(module.forward(x) * r))

    params = module.parameters()
    for p in params:
        p.zero_grad()
    module.forward(x)
    dx = module.backward(r)
    analytic = {"x": dx, **{f"param{i}": p.grad.copy() for i, p in enumerate(params)}}
    numeric = {"x": numerical_gradient(loss, x, eps)}
    for i, p in enumerate(params):
        numeric[f"param{i}"] = numerical_gradient(loss, p.data, eps)
    return {name: relative_error(analytic[name], numeric[name]) for name in analytic}
