"""Chapter 1's checks reject realistic wrong answers, accept a differently written right one, and survive bad code.

Each wrong implementation is what a reader plausibly writes; the expected
fragment is a piece of the feedback that must name the problem.
"""
import numpy as np
import pytest

from d2lite.grading import ExerciseFailed, check, get_exercise, grade_exercise
from grader_cases import assert_a_cache_is_caught, assert_accepted, assert_rejected, wrong_params

# ---- 1.1 dense forward -------------------------------------------------------------------------


def lf_no_bias(x, W, b):
    return x @ W


def lf_transposed(x, W, b):
    return x @ W.T + b


def lf_bias_per_row(x, W, b):
    return x @ W + b.reshape(-1, 1)[: len(x)] if len(b) >= len(x) else x @ W + b.mean()


def lf_int_cast(x, W, b):
    return (x @ W + b).astype(int)


_SEEN = {}


def lf_cached_by_shape(x, W, b):
    """Remembers the first answer for each shape: the same shapes with other values must catch it."""
    key = (x.shape, W.shape)
    if key not in _SEEN:
        _SEEN[key] = x @ W + b
    return _SEEN[key]


def lf_correct(x, W, b):
    out = np.empty((x.shape[0], W.shape[1]))
    for j in range(W.shape[1]):
        out[:, j] = np.dot(x, W[:, j]) + b[j]
    return out


# ---- 1.2 / 1.3 activations ---------------------------------------------------------------------
def relu_ok(x):
    return x * (x > 0)


def sigmoid_ok(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # an identity, written differently from the solution


def tanh_ok(x):
    e = np.exp(-2.0 * np.abs(x))
    return np.sign(x) * (1.0 - e) / (1.0 + e)


def relu_abs(x):
    return np.abs(x)


def relu_clip_top(x):
    return np.clip(x, 0, 1)


def relu_inplace(x):
    x[x < 0] = 0
    return x


def sigmoid_naive(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_sign(x):
    return 1 / (1 + np.exp(np.clip(x, -500, 500)))


def sigmoid_list(x):
    return [1 / (1 + np.exp(-v)) if v > -500 else 0.0 for v in np.ravel(x)]


def sigmoid_where(x):
    return np.where(x >= 0, 1.0 / (1.0 + np.exp(-x)), np.exp(x) / (1.0 + np.exp(x)))


def tanh_formula(x):
    return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))


def tanh_half(x):
    return 2 * sigmoid_ok(x) - 1


def tanh_none(x):
    np.tanh(x)


def relu_grad_ok(x):
    return np.heaviside(x, 0.0)


def sigmoid_grad_ok(x):
    return np.exp(-np.abs(x)) / (1.0 + np.exp(-np.abs(x))) ** 2


def tanh_grad_ok(x):
    return 1.0 / np.cosh(np.clip(x, -300, 300)) ** 2


def relu_grad_ge(x):
    return (x >= 0).astype(float)


def relu_grad_bool(x):
    return np.where(x > 0, x, 0)


def relu_grad_scalar(x):
    return 1.0


def sigmoid_grad_input(x):
    return x * (1 - x)


def sigmoid_grad_plus(x):
    s = sigmoid_ok(x)
    return s * (1 + s)


def sigmoid_grad_naive(x):
    return np.exp(-x) / (1 + np.exp(-x)) ** 2


def tanh_grad_unsquared(x):
    return 1 - np.tanh(x)


def tanh_grad_input(x):
    return 1 - x ** 2


def tanh_grad_sign(x):
    return np.tanh(x) ** 2 - 1


# ---- 1.4 softmax cross-entropy -----------------------------------------------------------------
def ce_correct(logits, labels):
    n, k = logits.shape
    lse = np.logaddexp.reduce(logits, axis=1)
    onehot = np.eye(k)[labels]
    loss = float(np.mean(lse - np.sum(onehot * logits, axis=1)))
    return loss, (np.exp(logits - lse[:, None]) - onehot) / n


def ce_naive(logits, labels):
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    n = len(labels)
    g = p.copy()
    g[np.arange(n), labels] -= 1
    return -np.log(p[np.arange(n), labels]).mean(), g / n


def ce_grad_not_averaged(logits, labels):
    loss, g = ce_correct(logits, labels)
    return loss, g * len(labels)


def ce_sum(logits, labels):
    loss, g = ce_correct(logits, labels)
    return loss * len(labels), g * len(labels)


def ce_axis0(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=0, keepdims=True)
    n = len(labels)
    g = p.copy()
    g[np.arange(n), labels] -= 1
    return -np.log(p[np.arange(n), labels]).mean(), g / n


def ce_global_max(logits, labels):
    z = logits - np.max(logits)
    log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    n = len(labels)
    grad = np.exp(log_p)
    grad[np.arange(n), labels] -= 1
    return -np.mean(log_p[np.arange(n), labels]), grad / n


def ce_log_of_softmax(logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    picked = np.take_along_axis(probs, labels[:, None], axis=1)[:, 0]
    grad = probs - np.eye(logits.shape[1])[labels]
    return float(np.mean(-np.log(picked))), grad / len(labels)


def ce_mutates(logits, labels):
    logits -= logits.max(axis=1, keepdims=True)
    return ce_correct(logits, labels)


def ce_only_loss(logits, labels):
    return ce_correct(logits, labels)[0]


# ---- 1.5 dense backward over any leading axes ---------------------------------------------------
def lb_correct(x, W, dout):
    dx = np.einsum("...o,io->...i", dout, W)
    dW = np.tensordot(x, dout, axes=(list(range(x.ndim - 1)), list(range(x.ndim - 1))))
    db = dout.sum(axis=tuple(range(dout.ndim - 1)))
    return dx, dW, db


def lb_chapter_2d(x, W, dout):
    """The chapter's 2-D formulas copied as they are."""
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def lb_db_axis0(x, W, dout):
    d_in, d_out = W.shape
    return dout @ W.T, x.reshape(-1, d_in).T @ dout.reshape(-1, d_out), dout.sum(axis=0)


def lb_db_mean(x, W, dout):
    d_in, d_out = W.shape
    return dout @ W.T, x.reshape(-1, d_in).T @ dout.reshape(-1, d_out), dout.reshape(-1, d_out).mean(axis=0)


def lb_dx_no_T(x, W, dout):
    d_in, d_out = W.shape
    return dout @ W, x.reshape(-1, d_in).T @ dout.reshape(-1, d_out), dout.reshape(-1, d_out).sum(axis=0)


def lb_reshape_not_T(x, W, dout):
    d_in, d_out = W.shape
    return dout @ W.T, x.reshape(d_in, -1) @ dout.reshape(-1, d_out), dout.reshape(-1, d_out).sum(axis=0)


def lb_batch_loop(x, W, dout):
    """Sums x[n].T @ dout[n] over the first axis only: right for 2-D and 3-D, not for 4-D inputs."""
    if x.ndim == 2:
        return lb_correct(x, W, dout)
    dW = sum(np.swapaxes(x[n], -1, -2) @ dout[n] for n in range(len(x)))
    return dout @ W.T, dW, dout.reshape(-1, W.shape[1]).sum(axis=0)


def lb_two_outputs(x, W, dout):
    return lb_correct(x, W, dout)[:2]


# ---- 1.6 numerical gradient --------------------------------------------------------------------
def ng_correct(f, x, eps):
    flat = x.reshape(-1)  # a view: writes reach x
    grad = np.empty(flat.size)
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + eps
        hi = f(x)
        flat[i] = keep - eps
        lo = f(x)
        flat[i] = keep
        grad[i] = (hi - lo) / (2 * eps)
    return grad.reshape(x.shape)


def ng_forward(f, x, eps):
    x = x.copy()
    g = np.zeros_like(x)
    base = f(x)
    for i in np.ndindex(*x.shape):
        x[i] += eps
        g[i] = (f(x) - base) / eps
        x[i] -= eps
    return g


def ng_divide_eps(f, x, eps):
    return ng_correct(f, x.copy(), eps) * 2


def ng_fixed_eps(f, x, eps):
    return ng_correct(f, x, 1e-6)


def ng_no_restore(f, x, eps):
    g = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        x[i] += eps
        hi = f(x)
        x[i] -= 2 * eps
        g[i] = (hi - f(x)) / (2 * eps)
    return g


def ng_first_axis_only(f, x, eps):
    g = np.zeros_like(x)
    for i in range(x.shape[0]):
        idx = (i,) + (0,) * (x.ndim - 1)
        keep = x[idx]
        x[idx] = keep + eps
        hi = f(x)
        x[idx] = keep - eps
        lo = f(x)
        x[idx] = keep
        g[idx] = (hi - lo) / (2 * eps)
    return g


# ---- 1.7 training step with momentum -------------------------------------------------------------
def _backward(model, X, y):
    model.zero_grad()
    loss, d = ce_correct(model.forward(X), y)
    model.backward(d)
    return loss


def ts_correct(model, X, y, lr, beta, velocity):
    from d2lite import scratch

    assert isinstance(model, scratch.Module)
    logits = model.forward(X)
    loss, dlogits = ce_correct(logits, y)
    for p in model.parameters():
        p.grad.fill(0.0)
    model.backward(dlogits)
    for i, p in enumerate(model.parameters()):
        velocity[i][...] = beta * velocity[i] + p.grad
        p.data[...] = p.data - lr * velocity[i]
    return loss


def ts_rebinds(model, X, y, lr, beta, velocity):
    loss = _backward(model, X, y)
    for p, v in zip(model.parameters(), velocity):
        v = beta * v + p.grad
        p.data -= lr * v
    return loss


def ts_no_zero(model, X, y, lr, beta, velocity):
    loss, d = ce_correct(model.forward(X), y)
    model.backward(d)
    for p, v in zip(model.parameters(), velocity):
        v *= beta
        v += p.grad
        p.data -= lr * v
    return loss


def ts_fixed_lr(model, X, y, lr, beta, velocity):
    loss = _backward(model, X, y)
    for p, v in zip(model.parameters(), velocity):
        v *= beta
        v += p.grad
        p.data -= 0.1 * v
    return loss


def ts_fixed_beta(model, X, y, lr, beta, velocity):
    loss = _backward(model, X, y)
    for p, v in zip(model.parameters(), velocity):
        v *= 0.9
        v += p.grad
        p.data -= lr * v
    return loss


def ts_dampened(model, X, y, lr, beta, velocity):
    loss = _backward(model, X, y)
    for p, v in zip(model.parameters(), velocity):
        v[...] = beta * v + (1 - beta) * p.grad
        p.data -= lr * v
    return loss


def ts_plus(model, X, y, lr, beta, velocity):
    loss = _backward(model, X, y)
    for p, v in zip(model.parameters(), velocity):
        v *= beta
        v += p.grad
        p.data += lr * v
    return loss


WRONG = {
    "1.1": [((lf_no_bias,), "bias"), ((lf_transposed,), "W transposed"), ((lf_bias_per_row,), ""),
            ((lf_int_cast,), "integers"), ((lf_cached_by_shape,), "the first case's shapes with other values")],
    "1.2": [((relu_abs, sigmoid_ok, tanh_ok), "abs(x) is not ReLU"),
            ((relu_clip_top, sigmoid_ok, tanh_ok), "relu"),
            ((relu_inplace, sigmoid_ok, tanh_ok), "in place"),
            ((relu_ok, sigmoid_naive, tanh_ok), "the values are right, but computing them overflowed"),
            ((relu_ok, sigmoid_where, tanh_ok), "NumPy computes both A and B for every entry"),
            ((relu_ok, sigmoid_sign, tanh_ok), "sign in the exponent"),
            ((relu_ok, sigmoid_list, tanh_ok), "list"),
            ((relu_ok, sigmoid_ok, tanh_formula), "overflow"),
            ((relu_ok, sigmoid_ok, tanh_half), "tanh(x/2)"),
            ((relu_ok, sigmoid_ok, tanh_none), "forget the `return`")],
    "1.3": [((relu_grad_ge, sigmoid_grad_ok, tanh_grad_ok), "x > 0, not x >= 0"),
            ((relu_grad_bool, sigmoid_grad_ok, tanh_grad_ok), "relu(x) itself"),
            ((relu_grad_scalar, sigmoid_grad_ok, tanh_grad_ok), "single number"),
            ((relu_grad_ok, sigmoid_grad_input, tanh_grad_ok), "uses the input"),
            ((relu_grad_ok, sigmoid_grad_plus, tanh_grad_ok), "minus sign"),
            ((relu_grad_ok, sigmoid_grad_naive, tanh_grad_ok), "overflow"),
            ((relu_grad_ok, sigmoid_grad_ok, tanh_grad_unsquared), "squared"),
            ((relu_grad_ok, sigmoid_grad_ok, tanh_grad_input), "uses the input"),
            ((relu_grad_ok, sigmoid_grad_ok, tanh_grad_sign), "opposite sign")],
    "1.4": [((ce_naive,), "overflow"), ((ce_grad_not_averaged,), "1/N"), ((ce_sum,), "mean"),
            ((ce_axis0,), "loss"), ((ce_mutates,), "in place"), ((ce_only_loss,), "tuple"),
            ((ce_global_max,), "each row's own maximum"), ((ce_log_of_softmax,), "take the log before exponentiating")],
    "1.5": [((lb_chapter_2d,), "sequences"), ((lb_db_axis0,), "not only axis 0"), ((lb_db_mean,), "sum, not mean"),
            ((lb_dx_no_T,), "transpose of W"), ((lb_reshape_not_T,), "scrambles the entries"),
            ((lb_batch_loop,), "dW"), ((lb_two_outputs,), "returned 2 values")],
    "1.6": [((ng_forward,), "central difference"), ((ng_divide_eps,), "2·eps"),
            ((ng_no_restore,), "in place"), ((ng_first_axis_only,), "values differ"),
            ((ng_fixed_eps,), "use the `eps` you are given")],
    "1.7": [((ts_no_zero,), "zero_grad"), ((ts_plus,), "you added it"), ((ts_rebinds,), "plain SGD"),
            ((ts_fixed_lr,), "lr 0.3"), ((ts_fixed_beta,), "beta 0.5"), ((ts_dampened,), "(1 − beta)")],
}

CORRECT = {
    "1.1": (lf_correct,),
    "1.2": (relu_ok, sigmoid_ok, tanh_ok),
    "1.3": (relu_grad_ok, sigmoid_grad_ok, tanh_grad_ok),
    "1.4": (ce_correct,),
    "1.5": (lb_correct,),
    "1.6": (ng_correct,),
    "1.7": (ts_correct,),
}


@pytest.mark.parametrize("exercise_id", sorted(CORRECT))
def test_every_exercise_has_three_wrong_answers_and_one_right(exercise_id):
    assert len(WRONG[exercise_id]) >= 3


@pytest.mark.parametrize("exercise_id", sorted(CORRECT))
def test_a_differently_written_correct_answer_passes(exercise_id):
    assert_accepted(exercise_id, CORRECT[exercise_id])


@wrong_params(WRONG)
def test_wrong_answer_is_rejected_with_useful_feedback(exercise_id, funcs, fragment):
    assert_rejected(exercise_id, funcs, fragment)


@pytest.mark.parametrize("exercise_id", ["1.2", "1.3", "1.4", "1.5", "1.6"])
def test_repeated_shapes_with_other_values_defeat_a_cache(exercise_id):
    assert_a_cache_is_caught(exercise_id, CORRECT[exercise_id])


def test_partial_credit_counts_each_passing_part():
    result = grade_exercise(get_exercise("1.2"), {"relu": relu_ok, "sigmoid": sigmoid_naive, "tanh": tanh_ok})
    assert (result.earned, result.points) == (2, 3)
    assert [p.passed for p in result.parts] == [True, False, True]


# ---- bad code never crashes a check ------------------------------------------------------------

def raises_key_error(x, W, b):
    return {}["missing"]


def exits(x, W, b):
    raise SystemExit(3)


def returns_string(x, W, b):
    return "42"


def returns_nan(x, W, b):
    return np.full((x.shape[0], W.shape[1]), np.nan)


def wrong_signature(x):
    return x


def loops_forever(x, W, b):
    while True:
        pass


def catches_the_first_timeout(x, W, b):
    try:
        while True:
            pass
    except BaseException:
        while True:
            pass


@pytest.mark.parametrize("fn,fragment", [
    (raises_key_error, "raised KeyError"),
    (exits, "SystemExit"),
    (returns_string, "returned a str"),
    (returns_nan, "NaN"),
    (wrong_signature, "signature"),
    (None, "not defined"),
    (42, "not a function"),
])
def test_bad_code_gives_a_message_not_a_crash(fn, fragment):
    with pytest.raises(ExerciseFailed, match=fragment):
        check("1.1", fn, quiet=True)


@pytest.mark.parametrize("fn", [loops_forever, catches_the_first_timeout])
def test_endless_loops_are_stopped(fn, monkeypatch):
    part = get_exercise("1.1").parts[0]
    monkeypatch.setattr(part, "timeout", 0.3)
    with pytest.raises(ExerciseFailed, match="did not finish within 0.3 s"):
        check("1.1", fn, quiet=True)


def test_wrong_number_of_functions_is_explained():
    with pytest.raises(ExerciseFailed, match=r"check\('1.2', relu, sigmoid, tanh\)"):
        check("1.2", relu_ok, quiet=True)


def test_unknown_exercise_lists_the_known_ones():
    with pytest.raises(KeyError, match="known exercises: 1.1, 1.2"):
        get_exercise("9.9")


def test_failure_renders_as_one_line_in_ipython():
    with pytest.raises(ExerciseFailed) as info:
        check("1.1", lf_no_bias, quiet=True)
    lines = info.value._render_traceback_()
    assert len(lines) == 1 and lines[0].startswith("ExerciseFailed: Exercise 1.1")


def ts_velocity_on_the_side(model, X, y, lr, beta, velocity):
    """Right steps, but the velocity lives on the parameters: the list handed in is never touched."""
    loss = _backward(model, X, y)
    for p in model.parameters():
        p.v = beta * getattr(p, "v", 0.0) + p.grad
        p.data -= lr * p.v
    return loss


def test_the_velocity_must_live_in_the_list_handed_in():
    assert_rejected("1.7", (ts_velocity_on_the_side,), "the list `velocity` you were given still holds zeros")
