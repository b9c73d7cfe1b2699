"""Chapter 4's checks reject realistic wrong answers with the right hint and accept correct ones written differently.

The wrong implementations here are written independently of the bank's Mistakes
(in place, with other names and orders), as a reader would write them.
"""
import math

import numpy as np
import pytest

from d2lite.grading import get_exercise
from grader_cases import assert_accepted, assert_rejected, wrong_params

# ---- 4.1 SGD with momentum -------------------------------------------------------------------------


def sgd_ok(w, g, v, lr, momentum, weight_decay, nesterov):
    w = w.copy()
    d = g + weight_decay * w
    v = v * momentum + d
    w -= lr * (d + momentum * v) if nesterov else lr * v
    return w, v


def sgd_fresh_velocity(w, g, v, lr, momentum, weight_decay, nesterov):
    v = np.zeros_like(w)
    return sgd_ok(w, g, v, lr, momentum, weight_decay, nesterov)


def sgd_ema(w, g, v, lr, momentum, weight_decay, nesterov):
    g = g + weight_decay * w
    v = momentum * v + (1 - momentum) * g
    return w - lr * ((g + momentum * v) if nesterov else v), v


def sgd_decoupled(w, g, v, lr, momentum, weight_decay, nesterov):
    v = momentum * v + g
    w = w * (1 - lr * weight_decay)
    return w - lr * ((g + momentum * v) if nesterov else v), v


def sgd_no_nesterov(w, g, v, lr, momentum, weight_decay, nesterov):
    v = momentum * v + g + weight_decay * w
    return w - lr * v, v


def sgd_without_lr(w, g, v, lr, momentum, weight_decay, nesterov):
    g = g + weight_decay * w
    v = momentum * v + g
    return w - 0.01 * ((g + momentum * v) if nesterov else v), v


# ---- 4.2 RMSprop ----------------------------------------------------------------------------------------

def rms_ok(w, g, s, lr, alpha, eps):
    s = s + (1 - alpha) * (g ** 2 - s)
    return w - lr * g / (s ** 0.5 + eps), s


def rms_reset(w, g, s, lr, alpha, eps):
    s = (1 - alpha) * g ** 2
    return w - lr * g / (np.sqrt(s) + eps), s


def rms_sqrt_eps(w, g, s, lr, alpha, eps):
    s = alpha * s + (1 - alpha) * g ** 2
    return w - lr * g / np.sqrt(s + eps), s


def rms_swapped(w, g, s, lr, alpha, eps):
    s = (1 - alpha) * s + alpha * g ** 2
    return w - lr * g / (np.sqrt(s) + eps), s


def rms_no_root(w, g, s, lr, alpha, eps):
    s = alpha * s + (1 - alpha) * g ** 2
    return w - lr * g / (s + eps), s


# ---- 4.3 Adam and 4.4 AdamW --------------------------------------------------------------------------

def adam_ok(w, g, m, v, t, lr, beta1, beta2, eps):
    m = m + (1 - beta1) * (g - m)
    v = v + (1 - beta2) * (g * g - v)
    step = lr / (1 - beta1 ** t)
    denom = np.sqrt(v) / np.sqrt(1 - beta2 ** t) + eps
    return w - step * m / denom, m, v


def adam_uncorrected(w, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return w - lr * m / (np.sqrt(v) + eps), m, v


def adam_zero_based_t(w, g, m, v, t, lr, beta1, beta2, eps):
    return adam_ok(w, g, m, v, t + 1, lr, beta1, beta2, eps)


def adam_forgets(w, g, m, v, t, lr, beta1, beta2, eps):
    return adam_ok(w, g, 0 * m, 0 * v, t, lr, beta1, beta2, eps)


def adam_eps_in_root(w, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return w - lr * (m / (1 - beta1 ** t)) / np.sqrt(v / (1 - beta2 ** t) + eps), m, v


def adam_t_fixed(w, g, m, v, t, lr, beta1, beta2, eps):
    return adam_ok(w, g, m, v, 1, lr, beta1, beta2, eps)


def adamw_ok(w, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    w = w - lr * weight_decay * w
    return adam_ok(w, g, m, v, t, lr, beta1, beta2, eps)


def adamw_l2(w, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    return adam_ok(w, g + weight_decay * w, m, v, t, lr, beta1, beta2, eps)


def adamw_no_lr(w, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    return adam_ok(w - weight_decay * w, g, m, v, t, lr, beta1, beta2, eps)


def adamw_after(w, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    w, m, v = adam_ok(w, g, m, v, t, lr, beta1, beta2, eps)
    return w - lr * weight_decay * w, m, v


def adamw_no_decay(w, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    return adam_ok(w, g, m, v, t, lr, beta1, beta2, eps)


def adamw_uncorrected(w, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    return adam_uncorrected(w * (1 - lr * weight_decay), g, m, v, t, lr, beta1, beta2, eps)


# ---- 4.5 cosine schedule ----------------------------------------------------------------------------

def cos_ok(t, lr, warmup, total, min_lr):
    if t < warmup:
        return lr * (t + 1) / warmup
    if t >= total:
        return min_lr
    angle = np.pi * (t - warmup) / (total - warmup)
    return min_lr + 0.5 * (lr - min_lr) * (1 + np.cos(angle))


def cos_from_zero(t, lr, warmup, total, min_lr):
    return lr * t / warmup if t < warmup else cos_ok(t, lr, warmup, total, min_lr)


def cos_whole_run(t, lr, warmup, total, min_lr):
    if t < warmup:
        return lr * (t + 1) / warmup
    return min_lr + (lr - min_lr) * (1 + np.cos(np.pi * min(t - warmup, total) / total)) / 2


def cos_to_zero(t, lr, warmup, total, min_lr):
    if t < warmup:
        return lr * (t + 1) / warmup
    return lr * (1 + np.cos(np.pi * min(1.0, (t - warmup) / (total - warmup)))) / 2


def cos_unclamped(t, lr, warmup, total, min_lr):
    if t < warmup:
        return lr * (t + 1) / warmup
    return min_lr + (lr - min_lr) * (1 + np.cos(np.pi * (t - warmup) / (total - warmup))) / 2


# ---- 4.6 He initialisation ----------------------------------------------------------------------------

def he_ok(shape, rng):
    fan_in = int(np.prod(shape[1:])) if len(shape) > 2 else shape[0]
    return rng.normal(loc=0.0, scale=(2 / fan_in) ** 0.5, size=shape)


def he_fan_out(shape, rng):
    fan_out = shape[1] if len(shape) == 2 else shape[0] * int(np.prod(shape[2:]))
    return rng.normal(0.0, np.sqrt(2 / fan_out), shape)


def he_variance(shape, rng):
    fan_in = int(np.prod(shape[1:])) if len(shape) > 2 else shape[0]
    return rng.normal(0.0, 2 / fan_in, shape)


def he_xavier(shape, rng):
    fan_in = int(np.prod(shape[1:])) if len(shape) > 2 else shape[0]
    fan_out = shape[1] if len(shape) == 2 else shape[0] * int(np.prod(shape[2:]))
    return rng.normal(0.0, np.sqrt(2 / (fan_in + fan_out)), shape)


def he_channels(shape, rng):
    return rng.normal(0.0, np.sqrt(2 / (shape[0] if len(shape) == 2 else shape[1])), shape)


def he_torch(shape, rng):
    return rng.normal(0.0, np.sqrt(2 / int(np.prod(shape[1:]))), shape)


# ---- 4.7 dropout ---------------------------------------------------------------------------------------

def do_ok(x, p, rng, training):
    if not training:
        return x + 0.0, np.ones(x.shape)
    keep = rng.random(size=x.shape) >= p
    mask = np.where(keep, 1.0 / (1.0 - p), 0.0)
    return mask * x, mask


def dob_ok(dout, mask):
    return np.multiply(mask, dout)


def do_keeps_p(x, p, rng, training):
    if not training:
        return x.copy(), np.ones_like(x)
    mask = (rng.random(x.shape) < p) / (1 - p)
    return x * mask, mask


def do_no_scale(x, p, rng, training):
    if not training:
        return x.copy(), np.ones_like(x)
    mask = 1.0 * (rng.random(x.shape) >= p)
    return x * mask, mask


def do_eval_times_keep(x, p, rng, training):
    if training:
        return do_ok(x, p, rng, training)
    return (1 - p) * x, (1 - p) * np.ones_like(x)


def do_over_p(x, p, rng, training):
    if not training:
        return x.copy(), np.ones_like(x)
    mask = (rng.random(x.shape) >= p) / p
    return x * mask, mask


def dob_binary(dout, mask):
    return dout * (mask != 0)


def dob_passthrough(dout, mask):
    return dout


# ---- 4.8 / 4.9 batch normalization --------------------------------------------------------------------

def _axes(x):
    return (0,) if x.ndim == 2 else (0, 2, 3)


def bnf_ok(x, gamma, beta, running_mean, running_var, momentum, eps, training):
    axes, c = _axes(x), x.shape[1]
    bshape = [1] * x.ndim
    bshape[1] = c
    if training:
        mu = np.mean(x, axis=axes)
        var = np.mean((x - mu.reshape(bshape)) ** 2, axis=axes)
        n = x.size / c
        running_mean = running_mean + momentum * (mu - running_mean)
        running_var = running_var + momentum * (var * n / (n - 1) - running_var)
    else:
        mu, var = running_mean, running_var
    y = (x - mu.reshape(bshape)) / np.sqrt(var.reshape(bshape) + eps)
    return gamma.reshape(bshape) * y + beta.reshape(bshape), running_mean, running_var


def bnf_layer_norm(x, gamma, beta, running_mean, running_var, momentum, eps, training):
    if not training:
        return bnf_ok(x, gamma, beta, running_mean, running_var, momentum, eps, training)
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    n = x.shape[0]
    rm = (1 - momentum) * running_mean + momentum * mu.ravel()
    rv = (1 - momentum) * running_var + momentum * var.ravel() * n / (n - 1)
    return (x - mu) / np.sqrt(var + eps) * gamma + beta, rm, rv


def bnf_in_place_momentum_swapped(x, gamma, beta, running_mean, running_var, momentum, eps, training):
    y, _, _ = bnf_ok(x, gamma, beta, running_mean, running_var, momentum, eps, training)
    if training:
        axes = _axes(x)
        n = x.size / x.shape[1]
        running_mean *= momentum
        running_mean += (1 - momentum) * x.mean(axis=axes)
        running_var *= momentum
        running_var += (1 - momentum) * x.var(axis=axes) * n / (n - 1)
    return y, running_mean, running_var


def bnf_eval_uses_batch(x, gamma, beta, running_mean, running_var, momentum, eps, training):
    y, rm, rv = bnf_ok(x, gamma, beta, running_mean, running_var, momentum, eps, True) if len(x) > 1 else \
        bnf_ok(x, gamma, beta, running_mean, running_var, momentum, eps, training)
    return (y, rm, rv) if training else (y, running_mean, running_var)


def bnf_ddof1(x, gamma, beta, running_mean, running_var, momentum, eps, training):
    if not training:
        return bnf_ok(x, gamma, beta, running_mean, running_var, momentum, eps, training)
    axes = _axes(x)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mu, var = x.mean(axis=axes), x.var(axis=axes, ddof=1)
    y = (x - mu.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * gamma.reshape(shape) + beta.reshape(shape)
    return y, (1 - momentum) * running_mean + momentum * mu, (1 - momentum) * running_var + momentum * var


def bnf_biased_running(x, gamma, beta, running_mean, running_var, momentum, eps, training):
    y, rm, _ = bnf_ok(x, gamma, beta, running_mean, running_var, momentum, eps, training)
    if training:
        return y, rm, (1 - momentum) * running_var + momentum * x.var(axis=_axes(x))
    return y, rm, running_var


def bnb_ok(dout, x, gamma, eps):
    axes = _axes(x)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    m = x.size // x.shape[1]
    mu = x.mean(axis=axes, keepdims=True)
    xc = x - mu
    var = (xc ** 2).mean(axis=axes, keepdims=True)
    std = np.sqrt(var + eps)
    x_hat = xc / std
    dx_hat = dout * gamma.reshape(shape)
    dvar = (dx_hat * xc).sum(axis=axes, keepdims=True) * -0.5 * std ** -3
    dmu = -(dx_hat / std).sum(axis=axes, keepdims=True) + dvar * (-2 * xc).mean(axis=axes, keepdims=True)
    dx = dx_hat / std + dvar * 2 * xc / m + dmu / m
    return dx, (dout * x_hat).sum(axis=axes), dout.sum(axis=axes)


def bnb_constant_stats(dout, x, gamma, eps):
    _, dg, db = bnb_ok(dout, x, gamma, eps)
    axes = _axes(x)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return dout * gamma.reshape(shape) / np.sqrt(x.var(axis=axes, keepdims=True) + eps), dg, db


def bnb_mean_beta(dout, x, gamma, eps):
    dx, dg, _ = bnb_ok(dout, x, gamma, eps)
    return dx, dg, dout.mean(axis=_axes(x))


def bnb_gamma_times_x(dout, x, gamma, eps):
    dx, _, db = bnb_ok(dout, x, gamma, eps)
    return dx, (dout * x).sum(axis=_axes(x)), db


def bnb_mean_path_only(dout, x, gamma, eps):
    axes = _axes(x)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    m = x.size // x.shape[1]
    std = np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    g = dout * gamma.reshape(shape)
    _, dg, db = bnb_ok(dout, x, gamma, eps)
    return (g - g.sum(axis=axes, keepdims=True) / m) / std, dg, db


# ---- 4.10 random crop ----------------------------------------------------------------------------------

def crop_ok(x, pad, rng):
    n, c, h, w = x.shape
    tops = rng.integers(0, 2 * pad + 1, size=n)
    lefts = rng.integers(0, 2 * pad + 1, size=n)
    canvas = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=x.dtype)
    canvas[:, :, pad:pad + h, pad:pad + w] = x
    return np.stack([canvas[i, :, tops[i]:tops[i] + h, lefts[i]:lefts[i] + w] for i in range(n)])


def crop_high_excluded(x, pad, rng):
    n, c, h, w = x.shape
    tops, lefts = rng.integers(0, 2 * pad, n), rng.integers(0, 2 * pad, n)
    p = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    return np.stack([p[i, :, tops[i]:tops[i] + h, lefts[i]:lefts[i] + w] for i in range(n)])


def crop_cols_first(x, pad, rng):
    n, c, h, w = x.shape
    lefts, tops = rng.integers(0, 2 * pad + 1, n), rng.integers(0, 2 * pad + 1, n)
    p = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    return np.stack([p[i, :, tops[i]:tops[i] + h, lefts[i]:lefts[i] + w] for i in range(n)])


def crop_whole_batch(x, pad, rng):
    n, c, h, w = x.shape
    top, left = rng.integers(0, 2 * pad + 1), rng.integers(0, 2 * pad + 1)
    p = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    return p[:, :, top:top + h, left:left + w]


def crop_reflect(x, pad, rng):
    n, c, h, w = x.shape
    tops, lefts = rng.integers(0, 2 * pad + 1, n), rng.integers(0, 2 * pad + 1, n)
    p = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="edge")
    return np.stack([p[i, :, tops[i]:tops[i] + h, lefts[i]:lefts[i] + w] for i in range(n)])


# ---- 4.11 Diagnose a training run -----------------------------------------------------------------------

def lr_ok():
    return 4e-1


def lr_broken():
    return 3.0  # the run's own learning rate, handed back unchanged


def lr_far_too_small():
    return 1e-2


def lr_as_text():
    return "0.3"


def init_ok(fan_in, fan_out):
    return math.sqrt(2.0 / (fan_in + fan_out))  # Xavier/Glorot


def init_tiny(fan_in, fan_out):
    return 0.01  # the run's own spread


def init_variance(fan_in, fan_out):
    return 2 / fan_in  # He's variance, returned as a standard deviation


def init_unit(fan_in, fan_out):
    return 1.0


def init_constant(fan_in, fan_out):
    return 0.1


WRONG = {
    "4.1": [((sgd_fresh_velocity,), "carry over"), ((sgd_ema,), "no (1 − μ) factor"),
            ((sgd_decoupled,), "before the velocity"), ((sgd_no_nesterov,), "nesterov=True"),
            ((sgd_without_lr,), "values differ")],
    "4.2": [((rms_reset,), "carry over"), ((rms_sqrt_eps,), "outside the square root"),
            ((rms_swapped,), "swapped"), ((rms_no_root,), "square root of the average")],
    "4.3": [((adam_uncorrected,), "bias correction"), ((adam_zero_based_t,), "β₁ᵗ⁺¹"),
            ((adam_forgets,), "carry over"), ((adam_eps_in_root,), "outside the square root"),
            ((adam_t_fixed,), "this step's t")],
    "4.4": [((adamw_l2,), "decouples"), ((adamw_no_lr,), "scaled by the learning rate"),
            ((adamw_after,), "before Adam's step"), ((adamw_no_decay,), "weight decay is missing"),
            ((adamw_uncorrected,), "values differ")],
    "4.5": [((cos_from_zero,), "(t + 1)/warmup"), ((cos_whole_run,), "after the warm-up"),
            ((cos_to_zero,), "ends at min_lr"), ((cos_unclamped,), "cap the progress")],
    "4.6": [((he_fan_out,), "not fan_out"), ((he_variance,), "is the variance"), ((he_xavier,), "Xavier"),
            ((he_channels,), "C_in · kh · kw"), ((he_torch,), "transpose")],
    "4.7": [((do_keeps_p, dob_ok), "≥ p"), ((do_no_scale, dob_ok), "1/(1 − p)"),
            ((do_eval_times_keep, dob_ok), "eval mode"), ((do_over_p, dob_ok), "not 1/p"),
            ((do_ok, dob_binary), "including the 1/(1 − p)"), ((do_ok, dob_passthrough), "gradient is 0")],
    "4.8": [((bnf_layer_norm,), "layer norm"), ((bnf_in_place_momentum_swapped,), "momentum weighs the new batch"),
            ((bnf_eval_uses_batch,), "running statistics"), ((bnf_ddof1,), "biased batch variance"),
            ((bnf_biased_running,), "unbiased estimate")],
    "4.9": [((bnb_constant_stats,), "depend on x too"), ((bnb_mean_beta,), "sum, not mean"),
            ((bnb_gamma_times_x,), "not Σ dout·x"), ((bnb_mean_path_only,), "variance's path")],
    "4.10": [((crop_high_excluded,), "inclusive"), ((crop_cols_first,), "tops (rows) first"),
             ((crop_whole_batch,), "one offset per image"), ((crop_reflect,), "zeros")],
    "4.11": [((lr_broken, init_ok), "too large"), ((lr_far_too_small, init_ok), "too small"),
             ((lr_as_text, init_ok), "must be a number"), ((lr_ok, init_tiny), "fades layer by layer"),
             ((lr_ok, init_variance), "take its square root"), ((lr_ok, init_unit), "saturated"),
             ((lr_ok, init_constant), "whatever its fan_in")],
}

CORRECT = {
    "4.1": (sgd_ok,), "4.2": (rms_ok,), "4.3": (adam_ok,), "4.4": (adamw_ok,), "4.5": (cos_ok,), "4.6": (he_ok,),
    "4.7": (do_ok, dob_ok), "4.8": (bnf_ok,), "4.9": (bnb_ok,), "4.10": (crop_ok,),
    "4.11": (lr_ok, init_ok),
}


def test_the_chapter_has_at_least_nine_exercises():
    assert len(CORRECT) >= 9 and all(get_exercise(i).chapter == "04_training" for i in CORRECT)


@pytest.mark.parametrize("exercise_id", sorted(CORRECT))
def test_every_exercise_has_three_wrong_answers(exercise_id):
    assert len(WRONG[exercise_id]) >= 3


@pytest.mark.parametrize("exercise_id", sorted(CORRECT))
def test_a_differently_written_correct_answer_passes(exercise_id):
    assert_accepted(exercise_id, CORRECT[exercise_id])


@wrong_params(WRONG)
def test_wrong_answer_is_rejected_with_useful_feedback(exercise_id, funcs, fragment):
    assert_rejected(exercise_id, funcs, fragment)


@pytest.mark.parametrize("exercise_id", ["4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "4.8", "4.9", "4.10"])
def test_every_argument_varies_across_cases(exercise_id):
    """An argument that is the same in every case could be ignored by wrong code."""
    for part in get_exercise(exercise_id).parts:
        cases = part.cases()
        for i in range(len(cases[0].args)):
            values = [repr(c.args[i]) if not isinstance(c.args[i], tuple) else repr([np.asarray(a).tolist() for a in c.args[i]])
                      for c in cases]
            assert len(set(values)) > 1, f"{exercise_id} {part.func}: argument {i} is the same in every case"


def test_an_optimizer_that_ignores_the_step_count_fails_on_later_steps():
    from d2lite.grading import grade_exercise
    result = grade_exercise(get_exercise("4.3"), {"adam_step": adam_t_fixed})
    failed = [c.name for c in result.parts[0].cases if not c.passed]
    assert "one step on one weight" not in failed and len(failed) >= 3  # right at t = 1, wrong afterwards


def test_a_diagnosis_is_measured_on_the_graders_side():
    """4.11 sends numbers, not weights: a function that returns a trained model's weights is refused, and a
    right fix passes on one part while the other part fails on its own."""
    import torch

    from d2lite.grading import grade_exercise
    result = grade_exercise(get_exercise("4.11"), {"fix_learning_rate": lambda: torch.zeros(3),
                                                   "init_std": init_ok})
    lr_part, init_part = result.parts
    assert not lr_part.cases[0].passed and "must be a number" in lr_part.cases[0].message
    assert all(c.passed for c in init_part.cases)
