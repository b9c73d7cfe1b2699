"""The graded exercises of chapter 4 (solutions/04_training.ipynb).

References come from d2lite.scratch. Optimizer exercises are driven over several
steps of a small quadratic problem whose gradient depends on the current
weights, with the optimizer's state handed from one call to the next, so an
update that ignores or resets its state (or gets the step count wrong) fails.
Random exercises follow a stated contract for drawing from `rng`, so the
reference and the reader draw the same numbers.
"""
import functools

import numpy as np

from d2lite import scratch
from d2lite.data import load_digits
from d2lite.grading.budget import Recipe
from d2lite.grading.exercise import Case, Exercise, Mistake, Part, layer_gradients, register
from d2lite.scratch import augment, init

CHAPTER = "04_training"


def _rng(seed):
    return np.random.default_rng(seed)


# ---- driving an optimizer step over several steps ----------------------------------------------

def _problem(shape, steps, seed, scale=1.0):
    """A quadratic (curvatures h, minimum c) plus per-step noise: g = h·(w − c) + noise[t]."""
    r = _rng(seed)
    h = scale * np.exp(r.uniform(-2, 2, shape))         # curvatures over two orders of magnitude
    c = r.normal(size=shape)
    noise = 0.3 * r.normal(size=(steps,) + tuple(shape))
    w0 = r.normal(size=shape)
    return w0, h, c, noise


def _run_steps(step, w0, h, c, noise, n_state, call):
    """Call `step` once per row of `noise`, feeding back the weights and the `n_state` state arrays.

    `call(step, w, g, state, t)` returns the step's outputs (w, *state). Returns the
    weights after every step (stacked) and the final state arrays.
    """
    w = np.array(w0)
    state = [np.zeros_like(w) for _ in range(n_state)]
    history = []
    for t, eps_t in enumerate(noise, start=1):
        g = h * (w - c) + eps_t
        out = call(step, w.copy(), g, [s.copy() for s in state], t)
        if not isinstance(out, tuple) or len(out) != 1 + n_state:
            return out  # let the comparison explain the wrong return value
        w, state = np.asarray(out[0], dtype=np.float64), [np.asarray(s, dtype=np.float64) for s in out[1:]]
        history.append(w.copy())
    return (np.stack(history), *state)


def _optimizer_step(opt_class, state_names, w, g, state, t=None, **kwargs):
    """One step of a d2lite.scratch optimizer from explicit state; returns (w, *state)."""
    p = scratch.Parameter(np.array(w, dtype=np.float64))
    p.grad = np.array(g, dtype=np.float64)
    opt = opt_class([p], **kwargs)
    opt.state[0].update({name: np.array(s, dtype=np.float64) for name, s in zip(state_names, state)})
    if t is not None:
        opt.t = t - 1  # step() counts it up to t
    opt.step()
    return (p.data, *(opt.state[0][name] for name in state_names))


# 4.1 SGD with momentum (and Nesterov) ------------------------------------------------------------

def sgd_momentum_step(w, g, v, lr, momentum, weight_decay, nesterov):
    return _optimizer_step(scratch.SGD, ["velocity"], w, g, [v], lr=lr, momentum=momentum,
                           weight_decay=weight_decay, nesterov=nesterov)


def _drive_sgd(fn, problem, lr, momentum, weight_decay, nesterov):
    return _run_steps(fn, *problem, 1, lambda f, w, g, s, t: f(w, g, s[0], lr, momentum, weight_decay, nesterov))


def _sgd_cases():
    return [
        Case("5 steps on a vector, momentum 0.9", (_problem((6,), 5, 1), 0.05, 0.9, 0.0, False)),
        Case("8 steps on a 3×4 matrix, Nesterov, weight decay 0.01", (_problem((3, 4), 8, 2), 0.02, 0.8, 0.01, True)),
        Case("a single step on one weight", (_problem((1,), 1, 3), 0.1, 0.5, 0.1, False),
             hint="on the first step v is zero, so v = g."),
        Case("6 steps, Nesterov, momentum 0.3, weight decay 0.2", (_problem((2, 5), 6, 4, scale=3.0), 0.01, 0.3, 0.2, True)),
        Case("the same shapes as case 2, other values", (_problem((3, 4), 8, 5), 0.03, 0.6, 0.05, False)),
    ]


def _sgd_no_state(w, g, v, lr, momentum, weight_decay, nesterov):
    return sgd_momentum_step(w, g, np.zeros_like(v), lr, momentum, weight_decay, nesterov)


def _sgd_dampened(w, g, v, lr, momentum, weight_decay, nesterov):
    g = g + weight_decay * w
    v = momentum * v + (1 - momentum) * g
    step = g + momentum * v if nesterov else v
    return w - lr * step, v


def _sgd_decay_after(w, g, v, lr, momentum, weight_decay, nesterov):
    v = momentum * v + g
    step = g + momentum * v if nesterov else v
    return w - lr * step - lr * weight_decay * w, v


def _sgd_nesterov_ignored(w, g, v, lr, momentum, weight_decay, nesterov):
    return sgd_momentum_step(w, g, v, lr, momentum, weight_decay, False)


def _sgd_nesterov_velocity(w, g, v, lr, momentum, weight_decay, nesterov):
    g = g + weight_decay * w
    v_new = momentum * v + g
    step = v + momentum * v_new if nesterov else v_new
    return w - lr * step, v_new


EX_4_1 = Exercise("4.1", "SGD with momentum, Nesterov and weight decay", [Part(
    "sgd_momentum_step", sgd_momentum_step, _sgd_cases, points=2, driver=_drive_sgd,
    output_names=("weights after each step", "final velocity"),
    mistakes=[
        Mistake(_sgd_no_state, "the velocity must carry over: start from the v you are given, v ← μ·v + g."),
        Mistake(_sgd_dampened, "PyTorch's momentum adds the whole gradient, v ← μ·v + g, with no (1 − μ) factor."),
        Mistake(_sgd_decay_after, "weight decay goes into the gradient before the velocity: g ← g + λ·w, then v ← μ·v + g."),
        Mistake(_sgd_nesterov_ignored, "with nesterov=True the step is g + μ·v (the gradient plus the new velocity)."),
        Mistake(_sgd_nesterov_velocity, "Nesterov's step is g + μ·v_new: the gradient, not the old velocity."),
    ])])


# 4.2 RMSprop --------------------------------------------------------------------------------------

def rmsprop_step(w, g, s, lr, alpha, eps):
    return _optimizer_step(scratch.RMSprop, ["square_avg"], w, g, [s], lr=lr, alpha=alpha, eps=eps)


def _drive_rmsprop(fn, problem, lr, alpha, eps):
    return _run_steps(fn, *problem, 1, lambda f, w, g, s, t: f(w, g, s[0], lr, alpha, eps))


def _rmsprop_cases():
    return [
        Case("5 steps on a vector", (_problem((7,), 5, 11), 0.01, 0.99, 1e-8)),
        Case("8 steps on a 4×3 matrix, α = 0.9", (_problem((4, 3), 8, 12), 0.02, 0.9, 1e-6)),
        Case("one step on one weight, a large eps", (_problem((1,), 1, 13), 0.1, 0.5, 0.1),
             hint="eps is added after the square root: g / (√s + eps)."),
        Case("6 steps, tiny gradients (scale 1e-4), eps = 1e-3", (_problem((2, 3), 6, 14, scale=1e-4), 0.05, 0.8, 1e-3)),
        Case("the same shapes as case 2, other values", (_problem((4, 3), 8, 15), 0.005, 0.95, 1e-8)),
    ]


def _rms_no_state(w, g, s, lr, alpha, eps):
    return rmsprop_step(w, g, np.zeros_like(s), lr, alpha, eps)


def _rms_eps_inside(w, g, s, lr, alpha, eps):
    s = alpha * s + (1 - alpha) * g * g
    return w - lr * g / np.sqrt(s + eps), s


def _rms_alpha_swapped(w, g, s, lr, alpha, eps):
    s = (1 - alpha) * s + alpha * g * g
    return w - lr * g / (np.sqrt(s) + eps), s


def _rms_no_sqrt(w, g, s, lr, alpha, eps):
    s = alpha * s + (1 - alpha) * g * g
    return w - lr * g / (s + eps), s


def _rms_old_average(w, g, s, lr, alpha, eps):
    new = alpha * s + (1 - alpha) * g * g
    return w - lr * g / (np.sqrt(s) + eps), new


EX_4_2 = Exercise("4.2", "RMSprop", [Part(
    "rmsprop_step", rmsprop_step, _rmsprop_cases, points=2, driver=_drive_rmsprop,
    output_names=("weights after each step", "final average of g²"),
    mistakes=[
        Mistake(_rms_no_state, "the running average s must carry over between steps: s ← α·s + (1 − α)·g², from the s you are given."),
        Mistake(_rms_eps_inside, "eps goes outside the square root: g / (√s + eps)."),
        Mistake(_rms_alpha_swapped, "α weighs the old average: s ← α·s + (1 − α)·g² (you swapped α and 1 − α)."),
        Mistake(_rms_no_sqrt, "divide by the square root of the average, √s + eps, not by s itself."),
        Mistake(_rms_old_average, "update s first, then divide the gradient by √s of the updated average."),
    ])])


# 4.3 Adam and 4.4 AdamW ---------------------------------------------------------------------------

def adam_step(w, g, m, v, t, lr, beta1, beta2, eps):
    return _optimizer_step(scratch.Adam, ["m", "v"], w, g, [m, v], t=t, lr=lr, betas=(beta1, beta2), eps=eps)


def adamw_step(w, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    return _optimizer_step(scratch.AdamW, ["m", "v"], w, g, [m, v], t=t, lr=lr, betas=(beta1, beta2), eps=eps,
                           weight_decay=weight_decay)


def _drive_adam(fn, problem, lr, beta1, beta2, eps):
    return _run_steps(fn, *problem, 2, lambda f, w, g, s, t: f(w, g, s[0], s[1], t, lr, beta1, beta2, eps))


def _drive_adamw(fn, problem, lr, beta1, beta2, eps, weight_decay):
    return _run_steps(fn, *problem, 2,
                      lambda f, w, g, s, t: f(w, g, s[0], s[1], t, lr, beta1, beta2, eps, weight_decay))


def _adam_cases():
    return [
        Case("6 steps on a vector", (_problem((5,), 6, 21), 0.01, 0.9, 0.999, 1e-8)),
        Case("10 steps on a 3×2 matrix, β = (0.8, 0.95)", (_problem((3, 2), 10, 22), 0.05, 0.8, 0.95, 1e-7)),
        Case("one step on one weight", (_problem((1,), 1, 23), 0.1, 0.5, 0.9, 1e-8),
             hint="with bias correction the first step moves each weight by about lr."),
        Case("4 steps, tiny gradients (scale 1e-6), eps = 1e-4", (_problem((4,), 4, 24, scale=1e-6), 0.02, 0.7, 0.99, 1e-4)),
        Case("the same shapes as case 2, other values", (_problem((3, 2), 10, 25), 0.003, 0.95, 0.9, 1e-8)),
    ]


def _adamw_cases():
    return [Case(c.name + f", weight decay {wd}", c.args + (wd,))
            for c, wd in zip(_adam_cases(), (0.1, 0.5, 2.0, 0.3, 0.05))]


def _adam_parts(w, g, m, v, t, lr, beta1, beta2, eps, correct=True, t_used=None, eps_inside=False):
    """Adam written out, with switches for the usual mistakes."""
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    t_used = t if t_used is None else t_used
    m_hat = m / (1 - beta1 ** t_used) if correct else m
    v_hat = v / (1 - beta2 ** t_used) if correct else v
    denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
    return w - lr * m_hat / denom, m, v


def _adam_no_correction(w, g, m, v, t, lr, beta1, beta2, eps):
    return _adam_parts(w, g, m, v, t, lr, beta1, beta2, eps, correct=False)


def _adam_t_plus_one(w, g, m, v, t, lr, beta1, beta2, eps):
    return _adam_parts(w, g, m, v, t, lr, beta1, beta2, eps, t_used=t + 1)


def _adam_eps_inside(w, g, m, v, t, lr, beta1, beta2, eps):
    return _adam_parts(w, g, m, v, t, lr, beta1, beta2, eps, eps_inside=True)


def _adam_no_state(w, g, m, v, t, lr, beta1, beta2, eps):
    return _adam_parts(w, g, np.zeros_like(m), np.zeros_like(v), t, lr, beta1, beta2, eps)


def _adam_first_step_always(w, g, m, v, t, lr, beta1, beta2, eps):
    return _adam_parts(w, g, m, v, t, lr, beta1, beta2, eps, t_used=1)


def _adam_beta1_for_v(w, g, m, v, t, lr, beta1, beta2, eps):
    return _adam_parts(w, g, m, v, t, lr, beta1, beta1, eps)


ADAM_MISTAKES = [
    Mistake(_adam_no_correction, "divide m by (1 − β₁ᵗ) and v by (1 − β₂ᵗ): without bias correction the first steps are far too small."),
    Mistake(_adam_t_plus_one, "t is already the number of this step (1 on the first call): use β₁ᵗ, not β₁ᵗ⁺¹."),
    Mistake(_adam_first_step_always, "the bias correction uses this step's t, not 1: (1 − β₁ᵗ) shrinks towards 1 as t grows."),
    Mistake(_adam_eps_inside, "eps goes outside the square root: m̂ / (√v̂ + eps)."),
    Mistake(_adam_no_state, "m and v must carry over between steps: update the m and v you are given."),
    Mistake(_adam_beta1_for_v, "the average of g² uses β₂, not β₁."),
]

EX_4_3 = Exercise("4.3", "Adam with bias correction", [Part(
    "adam_step", adam_step, _adam_cases, points=3, driver=_drive_adam,
    output_names=("weights after each step", "final m", "final v"), mistakes=ADAM_MISTAKES)])


def _adamw_as_l2(w, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    return _adam_parts(w, g + weight_decay * w, m, v, t, lr, beta1, beta2, eps)


def _adamw_decay_without_lr(w, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    return _adam_parts(w * (1 - weight_decay), g, m, v, t, lr, beta1, beta2, eps)


def _adamw_decay_after(w, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    w, m, v = _adam_parts(w, g, m, v, t, lr, beta1, beta2, eps)
    return w * (1 - lr * weight_decay), m, v


def _adamw_no_decay(w, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    return _adam_parts(w, g, m, v, t, lr, beta1, beta2, eps)


EX_4_4 = Exercise("4.4", "AdamW: decoupled weight decay", [Part(
    "adamw_step", adamw_step, _adamw_cases, points=2, driver=_drive_adamw,
    output_names=("weights after each step", "final m", "final v"),
    mistakes=[
        Mistake(_adamw_as_l2, "that is Adam with L2 (decay added to the gradient, then rescaled by 1/√v̂); AdamW "
                              "decouples it: w ← w·(1 − lr·λ), and m, v see only the plain gradient."),
        Mistake(_adamw_decay_without_lr, "the decoupled decay is scaled by the learning rate: w ← w·(1 − lr·λ)."),
        Mistake(_adamw_decay_after, "decay the weights before Adam's step (as PyTorch does), not the updated ones."),
        Mistake(_adamw_no_decay, "the weight decay is missing: shrink w by (1 − lr·λ) before the Adam step."),
    ])])


# 4.5 Cosine schedule with linear warm-up -----------------------------------------------------------

def _drive_schedule(fn, lr, warmup, total, min_lr):
    return np.array([fn(t, lr, warmup, total, min_lr) for t in range(total + 4)], dtype=np.float64)


def _cosine_cases():
    return [
        Case("lr 0.1, 5 warm-up steps of 30", (0.1, 5, 30, 0.0)),
        Case("lr 3e-4, 10 warm-up steps of 25, floor 1e-5", (3e-4, 10, 25, 1e-5)),
        Case("no warm-up (warmup = 0), 12 steps, floor 0.01", (0.5, 0, 12, 0.01)),
        Case("one warm-up step of 4", (1.0, 1, 4, 0.2)),
        Case("the same lengths as case 1, other rates", (0.02, 5, 30, 0.005)),
    ]


def _cos_warmup_from_zero(t, lr, warmup, total, min_lr):
    if t < warmup:
        return lr * t / warmup
    return scratch.cosine_warmup_lr(t, lr, warmup, total, min_lr)


def _cos_over_total(t, lr, warmup, total, min_lr):
    if t < warmup:
        return lr * (t + 1) / warmup
    return min_lr + (lr - min_lr) * (1 + np.cos(np.pi * min(t - warmup, total) / total)) / 2


def _cos_no_floor(t, lr, warmup, total, min_lr):
    if t < warmup:
        return lr * (t + 1) / warmup
    return lr * (1 + np.cos(np.pi * min(t - warmup, total - warmup) / (total - warmup))) / 2


def _cos_no_clamp(t, lr, warmup, total, min_lr):
    if t < warmup:
        return lr * (t + 1) / warmup
    return min_lr + (lr - min_lr) * (1 + np.cos(np.pi * (t - warmup) / (total - warmup))) / 2


EX_4_5 = Exercise("4.5", "Cosine schedule with linear warm-up", [Part(
    "cosine_warmup_lr", scratch.cosine_warmup_lr, _cosine_cases, points=2, driver=_drive_schedule,
    mistakes=[
        Mistake(_cos_warmup_from_zero, "the warm-up is lr·(t + 1)/warmup, so that step warmup − 1 already uses the full lr."),
        Mistake(_cos_over_total, "the cosine runs over the steps after the warm-up: progress (t − warmup)/(total − warmup)."),
        Mistake(_cos_no_floor, "the cosine ends at min_lr: min_lr + (lr − min_lr)·(1 + cos(π·progress))/2."),
        Mistake(_cos_no_clamp, "after `total` steps stay at min_lr: cap the progress at 1 (the cosine would climb again)."),
    ])])


# 4.6 He initialisation -----------------------------------------------------------------------------

def _drive_init(fn, shape, seed):
    return fn(shape, np.random.default_rng(seed))


def _init_cases():
    return [
        Case("a dense weight (inputs 30, outputs 7)", ((30, 7), 1)),
        Case("a dense weight (inputs 5, outputs 400)", ((5, 400), 2),
             hint="a dense weight is (inputs, outputs) in this book: fan_in = shape[0]."),
        Case("a convolution weight (C_out 8, C_in 3, 5×3 kernel)", ((8, 3, 5, 3), 3),
             hint="a convolution's fan_in counts every input it reads: C_in · kh · kw."),
        Case("a 1-D convolution weight (C_out 4, C_in 6, k 7)", ((4, 6, 7), 4)),
        Case("the same shape as case 1, another seed", ((30, 7), 5)),
    ]


def _he_fan_out(shape, rng):
    return init.he_normal(shape, rng, mode="fan_out")


def _he_variance_as_std(shape, rng):
    return rng.normal(0.0, 2.0 / init.fans(shape)[0], shape)


def _he_xavier(shape, rng):
    return init.xavier_normal(shape, rng)


def _he_channels_only(shape, rng):
    fan_in = shape[0] if len(shape) == 2 else shape[1]
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)


EX_4_6 = Exercise("4.6", "He initialisation", [Part(
    "he_normal", init.he_normal, _init_cases, points=2, driver=_drive_init,
    mistakes=[
        Mistake(_he_fan_out, "He's forward rule divides by fan_in (the inputs each output sums), not fan_out; a dense "
                             "weight here is (inputs, outputs), so fan_in = shape[0] (torch.nn.Linear stores the transpose)."),
        Mistake(_he_variance_as_std, "2/fan_in is the variance: the standard deviation is √(2/fan_in)."),
        Mistake(_he_xavier, "that is Xavier's 2/(fan_in + fan_out); He's rule for ReLU is 2/fan_in."),
        Mistake(_he_channels_only, "a convolution's fan_in is C_in · kh · kw: every weight of the kernel reads an input."),
    ])])


# 4.7 Dropout forward and backward ------------------------------------------------------------------

def dropout_forward(x, p, rng, training):
    if not training:
        return x.copy(), np.ones_like(x)
    mask = scratch.dropout_mask(x.shape, p, rng)
    return x * mask, mask


def dropout_backward(dout, mask):
    return dout * mask


def _drive_dropout(fn, x, p, seed, training):
    return fn(x, p, np.random.default_rng(seed), training)


def _dropout_cases():
    r = _rng(47)
    return [
        Case("p = 0.5 on a 6×4 batch", (r.normal(size=(6, 4)), 0.5, 1, True)),
        Case("p = 0.2 on feature maps (3, 2, 4, 5)", (r.normal(size=(3, 2, 4, 5)), 0.2, 2, True)),
        Case("p = 0.8 on a batch of one row", (r.normal(size=(1, 9)), 0.8, 3, True)),
        Case("eval mode (training=False), p = 0.3", (r.normal(size=(4, 3)), 0.3, 4, False),
             hint="in eval mode inverted dropout is the identity: y = x and a mask of ones."),
        Case("the same shape as case 1, p = 0.5, other values", (10 * r.normal(size=(6, 4)), 0.5, 5, True)),
    ]


def _dropout_backward_cases():
    r = _rng(48)
    cases = []
    for name, shape, p in [("a 5×3 gradient, p = 0.4", (5, 3), 0.4), ("feature maps (2, 3, 4, 2), p = 0.25", (2, 3, 4, 2), 0.25),
                           ("a batch of one row, p = 0.9", (1, 6), 0.9),
                           ("the shape of the first case, p = 0.6, other values", (5, 3), 0.6)]:
        cases.append(Case(name, (r.normal(size=shape), scratch.dropout_mask(shape, p, r))))
    return cases


def _do_keep_below(x, p, rng, training):
    if not training:
        return x.copy(), np.ones_like(x)
    mask = (rng.random(x.shape) < p) / (1 - p)
    return x * mask, mask


def _do_unscaled(x, p, rng, training):
    if not training:
        return x.copy(), np.ones_like(x)
    mask = (rng.random(x.shape) >= p).astype(float)
    return x * mask, mask


def _do_eval_scaled(x, p, rng, training):
    if not training:
        return x * (1 - p), np.full_like(x, 1 - p)
    return dropout_forward(x, p, rng, training)


def _do_scale_by_p(x, p, rng, training):
    if not training:
        return x.copy(), np.ones_like(x)
    mask = (rng.random(x.shape) >= p) / p
    return x * mask, mask


def _dob_unscaled(dout, mask):
    return dout * (mask > 0)


def _dob_identity(dout, mask):
    return dout.copy()


def _dob_divide(dout, mask):
    return np.where(mask > 0, dout / np.where(mask > 0, mask, 1), 0.0)


EX_4_7 = Exercise("4.7", "Inverted dropout", [
    Part("dropout_forward", dropout_forward, _dropout_cases, points=2, driver=_drive_dropout,
         output_names=("y", "mask"), mistakes=[
             Mistake(_do_keep_below, "keep the entries where rng.random(...) ≥ p: with < p you keep a fraction p "
                                     "and drop the rest."),
             Mistake(_do_unscaled, "inverted dropout scales the kept entries by 1/(1 − p), so that E[y] = x "
                                   "and evaluation needs no change."),
             Mistake(_do_scale_by_p, "scale by 1/(1 − p), the probability of keeping, not 1/p."),
             Mistake(_do_eval_scaled, "with inverted dropout the scaling happened during training: in eval mode "
                                      "return x unchanged (a mask of ones)."),
         ]),
    Part("dropout_backward", dropout_backward, _dropout_backward_cases, points=1, mistakes=[
        Mistake(_dob_unscaled, "the forward pass multiplied by the scaled mask, so the gradient is dout · mask "
                               "(including the 1/(1 − p))."),
        Mistake(_dob_identity, "dropped entries did not reach the output: their gradient is 0 (multiply by the mask)."),
        Mistake(_dob_divide, "y = x · mask, so dx = dout · mask: multiply, do not divide."),
    ]),
])


# 4.8 Batch normalization forward and 4.9 backward ------------------------------------------------------

def _batchnorm(x, momentum, eps):
    layer = (scratch.BatchNorm1d if x.ndim == 2 else scratch.BatchNorm2d)(x.shape[1], eps=eps, momentum=momentum)
    return layer


def batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum, eps, training):
    layer = _batchnorm(x, momentum, eps)
    layer.weight.data[...], layer.bias.data[...] = gamma, beta
    layer.running_mean[...], layer.running_var[...] = running_mean, running_var
    layer.train(training)
    y = layer.forward(x)
    return y, layer.running_mean, layer.running_var


def batchnorm_backward(dout, x, gamma, eps):
    layer = _batchnorm(x, 0.0, eps)
    layer.weight.data[...] = gamma
    return layer_gradients(layer, x, dout)


def _bn_inputs(r, shape, loc=2.0, scale=3.0):
    c = shape[1]
    return (r.normal(loc, scale, size=shape), r.uniform(0.5, 2.0, c), r.normal(size=c),
            r.normal(size=c), r.uniform(0.5, 2.0, c))


def _bn_forward_cases():
    r = _rng(48)
    return [
        Case("(N, C) = (8, 3), training", (*_bn_inputs(r, (8, 3)), 0.1, 1e-5, True)),
        Case("feature maps (4, 2, 3, 5), training, momentum 0.3", (*_bn_inputs(r, (4, 2, 3, 5)), 0.3, 1e-3, True),
             hint="for (N, C, H, W) each channel's statistics pool N, H and W: axis=(0, 2, 3)."),
        Case("eval mode: the running statistics normalise", (*_bn_inputs(r, (5, 4)), 0.1, 1e-5, False)),
        Case("2 rows, a large eps (0.5)", (*_bn_inputs(r, (2, 6), loc=-1.0, scale=0.1), 0.5, 0.5, True)),
        Case("the same shape as case 1, other values", (*_bn_inputs(r, (8, 3), loc=100.0, scale=0.01), 0.05, 1e-5, True)),
        Case("eval mode on feature maps, a batch of one", (*_bn_inputs(r, (1, 3, 2, 4)), 0.2, 1e-4, False)),
        Case("a square batch: 5 rows, 5 features", (*_bn_inputs(r, (5, 5)), 0.1, 1e-5, True),
             hint="with as many rows as features a wrong axis keeps the right shape: average over axis 0."),
    ]


def _bn_forward_generic(x, gamma, beta, running_mean, running_var, momentum, eps, training, axes=None,
                        unbiased_norm=False, biased_running=False, swapped=False, batch_in_eval=False,
                        eps_outside=False):
    """Batch-norm forward written out, with switches for the usual mistakes."""
    axes = ((0,) + tuple(range(2, x.ndim))) if axes is None else axes
    shape = (1, -1) + (1,) * (x.ndim - 2)
    m = x.size // x.shape[1]
    running_mean, running_var = running_mean.copy(), running_var.copy()
    if training or batch_in_eval:
        mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True, ddof=1 if unbiased_norm else 0)
        if training:
            batch_var = var.reshape(-1) if (biased_running or unbiased_norm) else var.reshape(-1) * m / (m - 1)
            keep, new = (momentum, 1 - momentum) if swapped else (1 - momentum, momentum)
            running_mean = keep * running_mean + new * mean.reshape(-1)
            running_var = keep * running_var + new * batch_var
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    x_hat = (x - mean) / (np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps))
    return x_hat * gamma.reshape(shape) + beta.reshape(shape), running_mean, running_var


def _bnf_per_row(*args):
    x = args[0]
    return _bn_forward_generic(*args, axes=tuple(range(1, x.ndim)))


def _bnf_biased_running(*args):
    return _bn_forward_generic(*args, biased_running=True)


def _bnf_unbiased_norm(*args):
    return _bn_forward_generic(*args, unbiased_norm=True)


def _bnf_swapped(*args):
    return _bn_forward_generic(*args, swapped=True)


def _bnf_batch_in_eval(*args):
    return _bn_forward_generic(*args, batch_in_eval=True)


def _bnf_eps_outside(*args):
    return _bn_forward_generic(*args, eps_outside=True)


EX_4_8 = Exercise("4.8", "Batch normalization: forward, train and eval", [Part(
    "batchnorm_forward", batchnorm_forward, _bn_forward_cases, points=3, mutates=(3, 4),
    output_names=("y", "running_mean", "running_var"),
    mistakes=[
        Mistake(_bnf_per_row, "batch norm averages over the batch (axis 0, and H, W for images), one mean per "
                              "channel; averaging each row over its features is layer norm."),
        Mistake(_bnf_biased_running, "the running variance stores the unbiased estimate: var · m/(m − 1), "
                                     "m values per channel (normalise with the biased one)."),
        Mistake(_bnf_unbiased_norm, "normalise with the biased batch variance (np.var's default, ddof=0); only the "
                                    "running estimate is unbiased."),
        Mistake(_bnf_swapped, "running ← (1 − momentum)·running + momentum·batch: momentum weighs the new batch."),
        Mistake(_bnf_batch_in_eval, "in eval mode normalise with the running statistics, not the batch's."),
        Mistake(_bnf_eps_outside, "eps goes inside the square root: (x − μ)/√(σ² + eps)."),
    ])])


def _bn_backward_cases():
    r = _rng(49)
    cases = []
    for name, shape in [("(N, C) = (6, 4)", (6, 4)), ("feature maps (3, 2, 4, 5)", (3, 2, 4, 5)),
                        ("two rows, three features", (2, 3)), ("the same shape as case 1, other values", (6, 4))]:
        x, gamma, *_ = _bn_inputs(r, shape, loc=r.normal(), scale=r.uniform(0.1, 10))
        cases.append(Case(name, (r.normal(size=shape), x, gamma, 10 ** r.uniform(-5, -2))))
    return cases


def _bnb_generic(dout, x, gamma, eps, axes=None, constant_stats=False, no_xhat_term=False, dbeta_mean=False,
                 dgamma_x=False):
    axes = ((0,) + tuple(range(2, x.ndim))) if axes is None else axes
    shape = (1, -1) + (1,) * (x.ndim - 2)
    m = np.prod([x.shape[a] for a in axes])
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    g = dout * gamma.reshape(shape)
    if constant_stats:
        dx = g * inv_std
    elif no_xhat_term:
        dx = (m * g - g.sum(axis=axes, keepdims=True)) * inv_std / m
    else:
        dx = (m * g - g.sum(axis=axes, keepdims=True) - x_hat * (g * x_hat).sum(axis=axes, keepdims=True)) * inv_std / m
    dgamma = (dout * (x if dgamma_x else x_hat)).sum(axis=axes).reshape(-1)
    dbeta = (dout.mean(axis=axes) if dbeta_mean else dout.sum(axis=axes)).reshape(-1)
    return dx, dgamma, dbeta


def _bnb_constant(*args):
    return _bnb_generic(*args, constant_stats=True)


def _bnb_no_xhat(*args):
    return _bnb_generic(*args, no_xhat_term=True)


def _bnb_dbeta_mean(*args):
    return _bnb_generic(*args, dbeta_mean=True)


def _bnb_dgamma_x(*args):
    return _bnb_generic(*args, dgamma_x=True)


def _bnb_axis0(*args):
    return _bnb_generic(*args, axes=(0,))


EX_4_9 = Exercise("4.9", "Batch normalization: backward", [Part(
    "batchnorm_backward", batchnorm_backward, _bn_backward_cases, points=3, output_names=("dx", "dgamma", "dbeta"),
    mistakes=[
        Mistake(_bnb_constant, "the batch mean and variance depend on x too: dx = (m·g − Σg − x̂·Σ(g·x̂)) / (m·√(σ² + eps)), "
                               "with g = dout·γ."),
        Mistake(_bnb_no_xhat, "the variance's path is missing: subtract x̂·Σ(g·x̂) as well as Σg."),
        Mistake(_bnb_dbeta_mean, "dbeta sums dout over the batch (every example used the same β): sum, not mean."),
        Mistake(_bnb_dgamma_x, "γ multiplies the normalised x̂, so dgamma = Σ dout·x̂, not Σ dout·x."),
        Mistake(_bnb_axis0, "for (N, C, H, W) the sums run over N, H and W, like the statistics: axis=(0, 2, 3)."),
    ])])


# 4.10 Random crop with padding -------------------------------------------------------------------------

def _drive_crop(fn, x, pad, seed):
    return fn(x, pad, np.random.default_rng(seed))


def _crop_cases():
    r = _rng(410)
    return [
        Case("4 grey images 6×9, pad 2", (r.normal(size=(4, 1, 6, 9)), 2, 1)),
        Case("3 colour images 5×7, pad 1", (r.normal(size=(3, 3, 5, 7)), 1, 2)),
        Case("a batch of one 8×4 image, pad 3", (r.normal(size=(1, 2, 8, 4)), 3, 3)),
        Case("the same shape as case 1, other values and seed", (r.uniform(1, 2, size=(4, 1, 6, 9)), 2, 4),
             hint="pad with zeros (np.pad's default), not with the edge values."),
    ]


def _crop_exclusive(x, pad, rng):
    top, left = rng.integers(0, 2 * pad, len(x)), rng.integers(0, 2 * pad, len(x))
    return augment.pad_crop(x, pad, top, left)


def _crop_swapped(x, pad, rng):
    left, top = rng.integers(0, 2 * pad + 1, len(x)), rng.integers(0, 2 * pad + 1, len(x))
    return augment.pad_crop(x, pad, top, left)


def _crop_one_offset(x, pad, rng):
    top, left = rng.integers(0, 2 * pad + 1), rng.integers(0, 2 * pad + 1)
    return augment.pad_crop(x, pad, [top] * len(x), [left] * len(x))


def _crop_edge(x, pad, rng):
    top, left = rng.integers(0, 2 * pad + 1, len(x)), rng.integers(0, 2 * pad + 1, len(x))
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="edge")
    h, w = x.shape[2:]
    return np.stack([padded[i, :, t:t + h, l:l + w] for i, (t, l) in enumerate(zip(top, left))])


def _crop_roll(x, pad, rng):
    top, left = rng.integers(0, 2 * pad + 1, len(x)), rng.integers(0, 2 * pad + 1, len(x))
    return np.stack([np.roll(xi, (pad - t, pad - l), axis=(1, 2)) for xi, t, l in zip(x, top, left)])


EX_4_10 = Exercise("4.10", "Random crop with padding", [Part(
    "random_crop", augment.random_crop, _crop_cases, points=2, driver=_drive_crop,
    mistakes=[
        Mistake(_crop_exclusive, "offsets run from 0 to 2·pad inclusive: rng.integers(0, 2 * pad + 1, N) "
                                 "(the upper bound of rng.integers is excluded)."),
        Mistake(_crop_swapped, "draw the tops (rows) first, then the lefts (columns)."),
        Mistake(_crop_one_offset, "draw one offset per image (size N), not one for the whole batch."),
        Mistake(_crop_edge, "pad with zeros (np.pad's default mode), not by repeating the edge pixels."),
        Mistake(_crop_roll, "np.roll wraps the pixels that leave one side around to the other; pad with zeros "
                            "and cut a window instead."),
    ])])

# 4.11 Diagnose a training run ---------------------------------------------------------------------------
# The reader returns a fix (a learning rate; a rule for the starting weights' spread) as plain numbers; the
# grader draws the weights, trains and evaluates itself, so nothing from the notebook runs where the verdict
# is computed. The judges say which symptom the fix still shows (overshoot, slow descent, a vanishing
# signal, saturated units) before quoting the accuracy.

LR_RUN = {"sizes": (64, 128, 10), "broken_lr": 3.0, "recipe": Recipe(epochs=3, lr=3.0, momentum=0.0, batch_size=50),
          "min_accuracy": 0.90}
INIT_NETS = [(64, 96, 80, 72, 64, 56, 48, 40, 10), (64, 120, 100, 90, 70, 50, 10)]  # depths must differ
INIT_RUN = {"broken_std": 0.01, "recipe": Recipe(epochs=3, lr=0.05, momentum=0.9, batch_size=50),
            "min_accuracy": 0.85}
CHANCE_LOSS = float(np.log(10))


@functools.lru_cache(maxsize=1)
def _digits_tensors():
    import torch

    split = load_digits()
    return [torch.from_numpy(np.ascontiguousarray(a)) for a in (split.X_train, split.y_train, split.X_test,
                                                                split.y_test)]


def _mlp_forward(x, layers, activation):
    for i, (weight, bias) in enumerate(layers):
        x = x @ weight + bias
        if i < len(layers) - 1:
            x = activation(x)
    return x


def train_mlp(sizes, stds, recipe, seed, activation="relu"):
    """The grader's run: an MLP with weights drawn N(0, stds[i]²) for `seed`, zero biases, trained with
    `recipe` (SGD) on the digits. Returns (batch losses, test accuracy); training stops at a non-finite loss."""
    import torch
    import torch.nn.functional as F

    act = {"relu": torch.relu, "tanh": torch.tanh}[activation]
    X, y, X_test, y_test = _digits_tensors()
    gen = torch.Generator().manual_seed(seed)
    layers = [((torch.randn(a, b, generator=gen) * std).requires_grad_(), torch.zeros(b, requires_grad=True))
              for (a, b), std in zip(zip(sizes[:-1], sizes[1:]), stds)]
    optimizer = torch.optim.SGD([t for layer in layers for t in layer], lr=recipe.lr, momentum=recipe.momentum)
    losses = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is fastest, and graders run several at once
    try:
        for _ in range(recipe.epochs):
            order = torch.randperm(len(X), generator=gen)
            for start in range(0, len(X) - recipe.batch_size + 1, recipe.batch_size):
                batch = order[start:start + recipe.batch_size]
                loss = F.cross_entropy(_mlp_forward(X[batch], layers, act), y[batch])
                losses.append(loss.item())
                if not np.isfinite(losses[-1]):
                    return np.array(losses), 0.0
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        with torch.no_grad():
            accuracy = (_mlp_forward(X_test, layers, act).argmax(1) == y_test).double().mean().item()
    finally:
        torch.set_num_threads(threads)
    return np.array(losses), accuracy


def _positive_number(value, what):
    """The float in `value`, or a message saying why it is not a usable positive number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None, f"{what} must be a number (a Python float), got {type(value).__name__}."
    value = float(value)
    if not (np.isfinite(value) and value > 0):
        return None, f"{what} must be a positive, finite number, got {value!r}."
    return value, ""


def _call_lr(fn):
    return fn()


def _judge_lr(got, expected=None):
    lr, problem = _positive_number(got, "the learning rate")
    if problem:
        return problem
    recipe = LR_RUN["recipe"]
    recipe = Recipe(recipe.epochs, lr, recipe.momentum, recipe.batch_size, recipe.seeds)
    runs = [train_mlp(LR_RUN["sizes"], [a ** -0.5 for a in LR_RUN["sizes"][:-1]], recipe, seed)
            for seed in recipe.seeds]
    mean = float(np.mean([acc for _, acc in runs]))
    if mean >= LR_RUN["min_accuracy"]:
        return None
    losses = runs[0][0]
    first, last = losses[:10].mean(), losses[-10:].mean()
    result = (f"with lr {lr:g} the mean test accuracy over seeds {list(recipe.seeds)} is {mean:.3f}; it must reach "
              f"{LR_RUN['min_accuracy']}.")
    if not np.isfinite(last) or np.nanmax(losses) > 1.5 * losses[0] or last >= first:
        return (f"{result} The learning rate is too large: the first steps overshoot (the batch loss reached "
                f"{np.nanmax(losses):.3g} from {losses[0]:.3g} and ends at {last:.3g}, where guessing gives "
                f"ln 10 = {CHANCE_LOSS:.2f}), which for a ReLU network can switch off every hidden unit for good. "
                "Take a smaller one: an LR range test shows where the loss starts to blow up.")
    return (f"{result} The learning rate is too small: the loss falls steadily but slowly (from {first:.2f} to "
            f"{last:.2f} over {recipe.epochs} epochs). Take a larger one, below the point where the loss blows up.")


def _call_init(fn, sizes):
    return tuple(fn(a, b) for a, b in zip(sizes[:-1], sizes[1:]))


def _hidden_spread(sizes, stds, seed=0):
    """Std of the last hidden layer's tanh outputs, and the share of them saturated (|h| > 0.99), at the start."""
    import torch

    X = _digits_tensors()[0]
    gen = torch.Generator().manual_seed(seed)
    h = X
    for (a, b), std in zip(zip(sizes[:-2], sizes[1:-1]), stds):
        h = torch.tanh(h @ (torch.randn(a, b, generator=gen) * std))
    return h.std().item(), (h.abs() > 0.99).double().mean().item()


def xavier_std(fan_in, fan_out):
    """The part's reference: Glorot and Bengio's spread for tanh layers, sqrt(2 / (fan_in + fan_out))."""
    return (2.0 / (fan_in + fan_out)) ** 0.5


def _judge_init(got, expected):
    # `expected` is the reference's answer, computed on the grader's side: its length says which of
    # INIT_NETS (of different depths) this case trains, whatever the kernel's reply claims.
    sizes = next(s for s in INIT_NETS if len(s) - 1 == len(expected))
    if not isinstance(got, tuple) or len(got) != len(sizes) - 1:
        return f"init_std returned a {type(got).__name__}; expected a number."
    stds = []
    for (a, b), value in zip(zip(sizes[:-1], sizes[1:]), got):
        std, problem = _positive_number(value, f"init_std({a}, {b})")
        if problem:
            return problem
        stds.append(std)
    recipe = INIT_RUN["recipe"]
    depth = len(sizes) - 1
    spread, saturated = _hidden_spread(sizes, stds)
    accuracies = [train_mlp(sizes, stds, recipe, seed, "tanh")[1] for seed in recipe.seeds]
    mean = float(np.mean(accuracies))
    if mean >= INIT_RUN["min_accuracy"]:
        return None
    result = (f"the {depth}-layer tanh network reaches a mean test accuracy of {mean:.3f} over seeds "
              f"{list(recipe.seeds)}; it must reach {INIT_RUN['min_accuracy']}.")
    why = []
    if spread < 0.1:
        why.append(f"At the start the signal fades layer by layer: the last hidden layer's outputs have a std of "
                   f"{spread:.2g}, so hardly any gradient reaches the first layers. A layer multiplies the spread by "
                   "about std·√fan_in: make that about 1 (if your formula gives a variance, take its square root).")
    elif saturated > 0.3:
        why.append(f"At the start {saturated:.0%} of the last hidden layer's tanh units are saturated (|h| > 0.99), "
                   "where tanh is flat and passes almost no gradient: the weights are too large. A layer multiplies "
                   "the spread by about std·√fan_in: make that about 1.")
    if len(set(stds)) == 1:
        why.append(f"Your std is {stds[0]:g} for every layer, whatever its fan_in: a layer with more inputs sums more "
                   "terms, so its weights need a smaller spread. Scale the std with the layer's size.")
    return " ".join([result, *why])


def _init_cases():
    return [Case(f"{len(s) - 1} tanh layers {'-'.join(map(str, s))}, SGD momentum 0.9 lr 0.05, 3 epochs, 3 seeds",
                 (s,)) for s in INIT_NETS]


EX_4_11 = Exercise("4.11", "Diagnose a training run", [
    Part("fix_learning_rate", None, lambda: [Case("chapter 1's MLP, plain SGD, 3 epochs, 3 seeds", ())], points=1,
         driver=_call_lr, judge=_judge_lr, timeout=30.0),
    Part("init_std", xavier_std, _init_cases, points=2, driver=_call_init, judge=_judge_init),
])

register(CHAPTER, EX_4_1, EX_4_2, EX_4_3, EX_4_4, EX_4_5, EX_4_6, EX_4_7, EX_4_8, EX_4_9, EX_4_10, EX_4_11)
