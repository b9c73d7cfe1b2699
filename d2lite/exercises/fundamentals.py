"""The graded exercises of chapter 1 (solutions/01_fundamentals.ipynb).

References come from d2lite.scratch; each Mistake is a wrong implementation
that readers often write, so that a matching output gets a precise hint.
"""

import copy

import numpy as np

from d2lite import scratch
from d2lite.grading.compare import mismatch
from d2lite.grading.exercise import Case, Exercise, Mistake, Part, register

CHAPTER = "01_fundamentals"


def _rng(seed):
    return np.random.default_rng(seed)


def _float_errors(fn, *args):
    """Driver: (fn's output, 1.0 if computing it overflowed, divided by zero or made NaN, else 0.0).

    After such an error the call is repeated with the errors silenced, so that the
    values themselves can still be compared and a known mistake recognised.
    """
    saved = copy.deepcopy(args)
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            return fn(*args), 0.0
    except FloatingPointError:
        with np.errstate(all="ignore"):
            return fn(*saved), 1.0


FLOAT_ERROR = ("the values are right, but computing them overflowed (NumPy warns 'overflow encountered in exp', "
               "or divided by zero in a log): they come out right only by luck, as 1 / (1 + inf) = 0 does. "
               "Rewrite the formula so that no exponent is positive.")


def _judge_float_errors(names=()):
    """Compare the values first; then refuse right values that were computed through an overflow."""
    def judge(got, expected):
        values, raised = got
        problem = mismatch(values, expected[0], names=names)
        if problem:
            return problem
        return FLOAT_ERROR if raised else None
    return judge


def _careful(part_name, reference, cases, mistakes, names=(), points=1.0):
    """A part whose check also refuses a floating-point error on the way to right values."""
    return Part(part_name, reference, cases, points=points, mistakes=mistakes, driver=_float_errors,
                judge=_judge_float_errors(names))


# 1.1 Dense layer forward ---------------------------------------------------------------------

def linear_forward(x, W, b):
    layer = scratch.Linear(*W.shape)
    layer.weight.data, layer.bias.data = W, b
    return layer.forward(x)


def _linear_forward_cases():
    r = _rng(11)
    return [
        Case("a batch of 4 rows, 3 inputs, 2 outputs", (r.normal(size=(4, 3)), r.normal(size=(3, 2)), r.normal(size=2))),
        Case("a batch of one row", (r.normal(size=(1, 5)), r.normal(size=(5, 3)), r.normal(size=3))),
        Case("square weights (4 inputs, 4 outputs)", (r.normal(size=(6, 4)), r.normal(size=(4, 4)), r.normal(size=4))),
        Case("large values (±1e6)", (1e6 * r.normal(size=(3, 2)), r.normal(size=(2, 2)), r.normal(size=2))),
        Case("the first case's shapes with other values", (r.normal(size=(4, 3)), r.normal(size=(3, 2)), r.normal(size=2))),
    ]


EX_1_1 = Exercise("1.1", "Dense layer: forward", [Part(
    "linear_forward", linear_forward, _linear_forward_cases, points=2,
    mistakes=[
        Mistake(lambda x, W, b: x @ W, "the bias b is missing: add it to every row (x @ W + b)."),
        Mistake(lambda x, W, b: x @ W.T + b, "you multiplied by W transposed: W has shape (inputs, outputs), so use x @ W."),
        Mistake(lambda x, W, b: x @ W + b[:, None] if len(b) == len(x) else x @ W + b.sum(),
                "the bias is added along the wrong axis: b has one entry per output column."),
    ])])


# 1.2 Activations and 1.3 their derivatives -----------------------------------------------------

def _activation_cases():
    r = _rng(12)
    return [
        Case("a vector of small values", (r.normal(size=7),)),
        Case("a matrix with exact zeros", (np.array([[0.0, -1.5, 2.0], [3.0, 0.0, -0.25]]),)),
        Case("extreme inputs ±1000", (np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0]),)),
        Case("a single number in a 1-element array", (np.array([0.3]),)),
        Case("the first case's shape with other values", (3 * r.normal(size=7),)),
    ]


def _relu_sign_bug(x):
    return np.maximum(-x, 0.0)


def _sigmoid_where(x):
    """Both branches of np.where are computed for every entry: exp(x) runs on x = 1000 too."""
    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


SIGMOID_WHERE = ("if you wrote np.where(x >= 0, A, B): NumPy computes both A and B for every entry before choosing, "
                 "so the branch meant for x < 0 still evaluates exp(x) at x = 1000. Either way, compute "
                 "e = np.exp(-np.abs(x)) once (it never exceeds 1) and build both forms from it: "
                 "np.where(x >= 0, 1 / (1 + e), e / (1 + e)).")


EX_1_2 = Exercise("1.2", "Activation functions", [
    Part("relu", scratch.relu, _activation_cases, mistakes=[
        Mistake(_relu_sign_bug, "you kept the negative part: ReLU keeps max(x, 0)."),
        Mistake(lambda x: np.abs(x), "abs(x) is not ReLU: negative inputs must become 0."),
    ]),
    _careful("sigmoid", scratch.sigmoid, _activation_cases, mistakes=[
        Mistake(lambda x: 1 / (1 + np.exp(x)), "the sign in the exponent is flipped: sigmoid(x) = 1 / (1 + exp(-x))."),
        Mistake(_sigmoid_where, SIGMOID_WHERE),
        Mistake(lambda x: np.exp(x) / (1 + np.exp(x)),
                "exp(x) / (1 + exp(x)) overflows for large x (inf / inf is NaN): compute e = exp(-|x|) and "
                "use 1 / (1 + e) where x >= 0 and e / (1 + e) where x < 0."),
    ]),
    _careful("tanh", scratch.tanh, _activation_cases, mistakes=[
        Mistake(lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)),
                "the textbook formula overflows for |x| > ~710: use np.tanh or a rewriting with exp(-2|x|)."),
        Mistake(lambda x: 2 * scratch.sigmoid(x) - 1, "2·sigmoid(x) − 1 is tanh(x/2), not tanh(x): use 2·sigmoid(2x) − 1."),
    ]),
])

EX_1_3 = Exercise("1.3", "Derivatives of the activations", [
    Part("relu_grad", scratch.relu_grad, _activation_cases, mistakes=[
        Mistake(lambda x: (x >= 0).astype(float), "at exactly x = 0 use derivative 0 (as PyTorch does): test x > 0, not x >= 0."),
        Mistake(scratch.relu, "you returned relu(x) itself: the derivative is 1 where x > 0 and 0 elsewhere."),
    ]),
    _careful("sigmoid_grad", scratch.sigmoid_grad, _activation_cases, mistakes=[
        Mistake(lambda x: scratch.sigmoid(x) * (1 + scratch.sigmoid(x)), "sigmoid'(x) = s(1 − s), with a minus sign."),
        Mistake(lambda x: x * (1 - x), "x(1 − x) uses the input where the sigmoid's output belongs: s = sigmoid(x), then s(1 − s)."),
    ]),
    _careful("tanh_grad", scratch.tanh_grad, _activation_cases, mistakes=[
        Mistake(lambda x: 1 - np.tanh(x), "the derivative is 1 − tanh(x)², squared."),
        Mistake(lambda x: 1 - x ** 2, "1 − x² uses the input where tanh(x) belongs: 1 − tanh(x)²."),
    ]),
])


# 1.4 Stable softmax cross-entropy and its gradient ---------------------------------------------

def softmax_cross_entropy(logits, labels):
    loss_fn = scratch.SoftmaxCrossEntropy()
    loss = loss_fn.forward(logits, labels)
    return loss, loss_fn.backward()


def _ce_cases():
    r = _rng(14)
    return [
        Case("4 rows, 3 classes", (r.normal(size=(4, 3)), np.array([0, 2, 1, 2]))),
        Case("a batch of one row", (r.normal(size=(1, 5)), np.array([3]))),
        Case("huge logits (±1e4)", (np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, 1e4]]), np.array([0, 2, 1]))),
        Case("rows at very different scales (maxima 1e4, 2 and −1e4)",
             (np.array([[1e4, 1e4 - 1, 1e4 - 3], [-3.0, 0.5, 2.0], [-1e4, -1e4 + 2, -1e4 + 1]]), np.array([1, 0, 2]))),
        Case("10 classes, 16 rows", (3 * r.normal(size=(16, 10)), r.integers(0, 10, 16))),
        Case("the first case's shapes with other values", (r.normal(size=(4, 3)), np.array([2, 2, 0, 1]))),
    ]


def _ce_from_probabilities(p, labels):
    """Loss and gradient computed from the softmax probabilities themselves (the log taken last)."""
    rows = np.arange(len(labels))
    grad = p.copy()
    grad[rows, labels] -= 1
    return -np.log(p[rows, labels]).mean(), grad / len(labels)


def _softmax(logits, shift):
    e = np.exp(logits - shift)
    return e / e.sum(axis=1, keepdims=True)


def _ce_naive(logits, labels):
    return _ce_from_probabilities(_softmax(logits, 0.0), labels)


def _ce_no_mean_in_grad(logits, labels):
    loss, grad = softmax_cross_entropy(logits, labels)
    return loss, grad * len(labels)


def _ce_sum(logits, labels):
    loss, grad = softmax_cross_entropy(logits, labels)
    return loss * len(labels), grad * len(labels)


def _ce_log_of_probability(logits, labels):
    return _ce_from_probabilities(_softmax(logits, logits.max(axis=1, keepdims=True)), labels)


def _ce_global_max(logits, labels):
    return _ce_from_probabilities(_softmax(logits, logits.max()), labels)


def _ce_global_max_log(logits, labels):
    shifted = logits - logits.max()
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = len(labels)
    grad = np.exp(log_p)
    grad[np.arange(n), labels] -= 1
    return -log_p[np.arange(n), labels].mean(), grad / n


GLOBAL_MAX = ("subtract each row's own maximum (axis=1, keepdims=True), not the maximum of the whole array: "
              "a row far below the global maximum then underflows to exp(...) = 0 in every entry.")


EX_1_4 = Exercise("1.4", "Stable softmax cross-entropy and its gradient", [_careful(
    "softmax_cross_entropy", softmax_cross_entropy, _ce_cases, points=3, names=("loss", "dlogits"),
    mistakes=[
        Mistake(_ce_naive, "exp(logits) overflows for large logits: subtract each row's maximum first (log-sum-exp)."),
        Mistake(_ce_no_mean_in_grad, "the loss is a mean over the batch, so its gradient needs the same 1/N."),
        Mistake(_ce_sum, "average over the batch (mean), do not sum."),
        Mistake(_ce_log_of_probability, "the probability of the right class underflowed to 0 and its log is −inf: "
                                        "take the log before exponentiating, log p = shifted − log(sum(exp(shifted)))."),
        Mistake(_ce_global_max, GLOBAL_MAX),
        Mistake(_ce_global_max_log, GLOBAL_MAX),
    ])])


# 1.5 Dense layer backward over any leading axes -------------------------------------------------

def linear_backward(x, W, dout):
    """y = x @ W + b on inputs (..., d_in): every leading axis is one more batch axis."""
    rows, grads = x.reshape(-1, W.shape[0]), dout.reshape(-1, W.shape[1])
    return dout @ W.T, np.einsum("ri,ro->io", rows, grads), grads.sum(axis=0)


def _linear_backward_cases():
    r = _rng(15)

    def case(name, lead, d_in, d_out):
        return Case(name, (r.normal(size=lead + (d_in,)), r.normal(size=(d_in, d_out)), r.normal(size=lead + (d_out,))))

    return [
        case("a batch of 5 rows, 3 inputs, 2 outputs", (5,), 3, 2),
        case("a batch of one row", (1,), 4, 3),
        case("sequences: x of shape (2, 4, 3) (N, T, d_in), 5 outputs", (2, 4), 3, 5),
        case("x of shape (3, 2, 2, 4) and square weights", (3, 2, 2), 4, 4),
        case("one sequence of one step: x of shape (1, 1, 2)", (1, 1), 2, 3),
        case("the sequence case's shapes with other values", (2, 4), 3, 5),
    ]


def _lb_db_mean(x, W, dout):
    dx, dW, db = linear_backward(x, W, dout)
    return dx, dW, db / (dout.size // dout.shape[-1])


def _lb_db_first_axis(x, W, dout):
    dx, dW, _ = linear_backward(x, W, dout)
    return dx, dW, dout.sum(axis=0)


def _lb_dx_no_transpose(x, W, dout):
    _, dW, db = linear_backward(x, W, dout)
    return dout @ W, dW, db


def _lb_dW_mean(x, W, dout):
    dx, dW, db = linear_backward(x, W, dout)
    return dx, dW / (dout.size // dout.shape[-1]), db


def _lb_dW_reshape_not_transpose(x, W, dout):
    dx, _, db = linear_backward(x, W, dout)
    return dx, x.reshape(W.shape[0], -1) @ dout.reshape(-1, W.shape[1]), db


def _lb_dW_last_step(x, W, dout):
    """dW from the first sequence only (x[0].T @ dout[0]) where every row of every sequence counts."""
    dx, dW, db = linear_backward(x, W, dout)
    if x.ndim < 3:
        return dx, dW, db
    return dx, linear_backward(x[0], W, dout[0])[1], db


EX_1_5 = Exercise("1.5", "Dense layer: backward over any leading axes", [Part(
    "linear_backward", linear_backward, _linear_backward_cases, points=3, output_names=("dx", "dW", "db"),
    mistakes=[
        Mistake(_lb_db_mean, "db sums dout over every row of every leading axis (each row used the same bias): "
                             "sum, not mean."),
        Mistake(_lb_db_first_axis, "db must have b's shape (d_out,): sum dout over every axis but the last, "
                                   "not only axis 0."),
        Mistake(_lb_dx_no_transpose, "dx = dout @ W.T: the gradient flows back through the transpose of W."),
        Mistake(_lb_dW_mean, "dW sums the contributions of all rows (no division by their number)."),
        Mistake(_lb_dW_reshape_not_transpose,
                "x.reshape(d_in, -1) scrambles the entries: flatten the leading axes first, x.reshape(-1, d_in), "
                "then transpose that matrix."),
        Mistake(_lb_dW_last_step, "dW sums over every leading axis: all sequences and all their steps, not one."),
    ])])


# 1.6 Numerical gradient --------------------------------------------------------------------------

def _cubic(x):
    return float(np.sum(x ** 3))


def _log_sum_exp(x):
    m = x.max()
    return float(m + np.log(np.exp(x - m).sum()))


def _ce_of_logits(x):
    return float(scratch.cross_entropy(x, np.arange(x.shape[0]) % x.shape[1]))


def numerical_gradient(f, x, eps):
    return scratch.numerical_gradient(f, x, eps)


def _numgrad_cases():
    r = _rng(16)
    return [
        Case("sum of cubes, 5 values, eps 1e-4", (_cubic, r.normal(size=5), 1e-4)),
        Case("log-sum-exp of a 2×3 matrix, eps 1e-3", (_log_sum_exp, r.normal(size=(2, 3)), 1e-3)),
        Case("cross-entropy of 4×3 logits, eps 1e-5", (_ce_of_logits, r.normal(size=(4, 3)), 1e-5)),
        Case("a single value, eps 1e-4", (_cubic, np.array([1.5]), 1e-4)),
        Case("sum of cubes with a large eps, 0.1 (the central difference adds exactly eps² = 0.01)",
             (_cubic, r.normal(size=(2, 2)), 0.1)),
        Case("log-sum-exp: the second case's shape with other values, eps 0.05", (_log_sum_exp, r.normal(size=(2, 3)), 0.05)),
    ]


def _ng_forward(f, x, eps):
    x = x.copy()
    grad = np.zeros_like(x)
    fx = f(x)
    for i in np.ndindex(*x.shape):
        old = x[i]
        x[i] = old + eps
        grad[i] = (f(x) - fx) / eps
        x[i] = old
    return grad


def _ng_one_eps(f, x, eps):
    return scratch.numerical_gradient(f, x.copy(), eps) * 2


def _ng_fixed_eps(f, x, eps):
    return scratch.numerical_gradient(f, x.copy(), 1e-5)


def _ng_no_restore(f, x, eps):
    x = x.copy()
    grad = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        x[i] += eps
        plus = f(x)
        x[i] -= 2 * eps
        grad[i] = (plus - f(x)) / (2 * eps)
    return grad


EX_1_6 = Exercise("1.6", "A numerical gradient checker", [Part(
    "numerical_gradient", numerical_gradient, _numgrad_cases, points=2, rtol=1e-6, atol=1e-8,
    mistakes=[
        Mistake(_ng_forward, "a forward difference (f(x+eps) − f(x)) / eps is only accurate to O(eps); "
                             "use the central difference (f(x+eps) − f(x−eps)) / (2·eps)."),
        Mistake(_ng_one_eps, "the central difference divides by 2·eps, not eps."),
        Mistake(_ng_fixed_eps, "use the `eps` you are given: with eps = 0.1 the central difference of a cubic "
                               "differs from the derivative by eps², and the check expects exactly that."),
        Mistake(_ng_no_restore, "restore each entry after perturbing it: every later entry is measured at a shifted point."),
    ])])


# 1.7 One training step with momentum -------------------------------------------------------------

def train_step(model, X, y, lr, beta, velocity):
    """SGD with momentum, v <- beta * v + g, then w <- w - lr * v, updating the reader's `velocity` arrays."""
    loss_fn = scratch.SoftmaxCrossEntropy()
    model.zero_grad()
    loss = loss_fn.forward(model.forward(X), y)
    model.backward(loss_fn.backward())
    for p, v in zip(model.parameters(), velocity):
        v *= beta
        v += p.grad
        p.data -= lr * v
    return loss


def _three_steps(step, model, X, y, lr, beta):
    """Run three steps on the same model, velocities starting at zero; return the losses, then the
    parameters and the velocities after the last step."""
    velocity = [np.zeros_like(p.data) for p in model.parameters()]
    losses = [step(model, X, y, lr, beta, velocity) for _ in range(3)]
    return (*losses, tuple(p.data.copy() for p in model.parameters()), tuple(v.copy() for v in velocity))


def _own_velocity(model, X, y, lr, beta, velocity):
    """Right steps, with a velocity kept on the side (on the model): the list handed in stays at zero."""
    own = model.__dict__.setdefault("own_velocity", [np.zeros_like(v) for v in velocity])
    return train_step(model, X, y, lr, beta, own)


def _train_step_cases():
    r = _rng(17)
    cases = []
    for name, sizes, n, lr, beta in [("a 4-8-3 MLP, batch of 6, lr 0.1, beta 0.9", [4, 8, 3], 6, 0.1, 0.9),
                                     ("a 5-3 linear model, batch of 1, lr 0.3, beta 0.5", [5, 3], 1, 0.3, 0.5),
                                     ("a 64-16-10 MLP, 20 rows, lr 0.05, beta 0.8", [64, 16, 10], 20, 0.05, 0.8),
                                     ("the first case's shapes, other values, lr 0.2, beta 0.6", [4, 8, 3], 6, 0.2, 0.6)]:
        model = scratch.mlp(sizes, rng=r)
        cases.append(Case(name, (model, r.normal(size=(n, sizes[0])), r.integers(0, sizes[-1], n), lr, beta)))
    return cases


def _momentum_step(update):
    """A training step whose parameter update is `update(p, v, g, lr, beta)`."""
    def step(model, X, y, lr, beta, velocity):
        loss_fn = scratch.SoftmaxCrossEntropy()
        model.zero_grad()
        loss = loss_fn.forward(model.forward(X), y)
        model.backward(loss_fn.backward())
        for p, v in zip(model.parameters(), velocity):
            update(p, v, p.grad, lr, beta)
        return loss
    return step


def _rebinds_velocity(p, v, g, lr, beta):
    v = beta * v + g  # rebinds the name: the list keeps its zeros
    p.data -= lr * v


def _dampened(p, v, g, lr, beta):
    v *= beta
    v += (1 - beta) * g
    p.data -= lr * v


def _ascent(p, v, g, lr, beta):
    v *= beta
    v += g
    p.data += lr * v


def _velocity_unused(p, v, g, lr, beta):
    v *= beta
    v += g
    p.data -= lr * g


def _ts_no_zero_grad(model, X, y, lr, beta, velocity):
    loss_fn = scratch.SoftmaxCrossEntropy()
    loss = loss_fn.forward(model.forward(X), y)
    model.backward(loss_fn.backward())
    for p, v in zip(model.parameters(), velocity):
        v *= beta
        v += p.grad
        p.data -= lr * v
    return loss


def _ts_loss_after(model, X, y, lr, beta, velocity):
    train_step(model, X, y, lr, beta, velocity)
    return scratch.cross_entropy(model.forward(X), y)


PLAIN_SGD = ("your steps are plain SGD: the velocity never carries over to the next step. `v = beta * v + g` "
             "makes a new array and leaves velocity[i] as it was: update it in place (v *= beta; v += g) "
             "and step with it, p.data -= lr * v.")

EX_1_7 = Exercise("1.7", "One training step of an MLP with momentum", [Part(
    "train_step", train_step, _train_step_cases, points=3, driver=_three_steps, mutates=(0,),
    output_names=("loss 1", "loss 2", "loss 3", "the parameters after 3 steps", "the velocity list after 3 steps"),
    mistakes=[
        Mistake(_ts_no_zero_grad, "gradients accumulate in p.grad: call model.zero_grad() before each backward."),
        Mistake(_momentum_step(_ascent), "step against the velocity: p.data -= lr * v (you added it)."),
        Mistake(_own_velocity, "your steps are right, but the list `velocity` you were given still holds zeros: "
                               "keep the velocity in its arrays (update them in place), not elsewhere."),
        Mistake(_momentum_step(_rebinds_velocity), PLAIN_SGD),
        Mistake(_momentum_step(_velocity_unused), PLAIN_SGD),
        Mistake(_momentum_step(_dampened), "this exercise's velocity is v = beta·v + g, without the factor (1 − beta) "
                                           "on the gradient (that is an exponential average, a different convention)."),
        Mistake(_ts_loss_after, "return the loss computed in this step's forward pass, before the update."),
    ])])

register(CHAPTER, EX_1_1, EX_1_2, EX_1_3, EX_1_4, EX_1_5, EX_1_6, EX_1_7)
