"""The graded exercises of chapter 1 (solutions/01_fundamentals.ipynb).

References come from d2lite.scratch; each Mistake is a wrong implementation
that readers often write, so that a matching output gets a precise hint.
"""

import numpy as np

from d2lite import scratch
from d2lite.grading.exercise import Case, Exercise, Mistake, Part, layer_gradients, register

CHAPTER = "01_fundamentals"


def _rng(seed):
    return np.random.default_rng(seed)


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
        Case("square weights (4 inputs, 4 outputs)", (r.normal(size=(6, 4)), r.normal(size=(4, 4)), r.normal(size=4)),
             hint="with a square W a transposed product has the right shape but the wrong values."),
        Case("large values (±1e6)", (1e6 * r.normal(size=(3, 2)), r.normal(size=(2, 2)), r.normal(size=2))),
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
        Case("extreme inputs ±1000", (np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0]),),
             hint="for large |x| compute with exp(-|x|), which never overflows."),
        Case("a single number in a 1-element array", (np.array([0.3]),)),
    ]


def _relu_sign_bug(x):
    return np.maximum(-x, 0.0)


EX_1_2 = Exercise("1.2", "Activation functions", [
    Part("relu", scratch.relu, _activation_cases, mistakes=[
        Mistake(_relu_sign_bug, "you kept the negative part: ReLU keeps max(x, 0)."),
        Mistake(lambda x: np.abs(x), "abs(x) is not ReLU: negative inputs must become 0."),
    ]),
    Part("sigmoid", scratch.sigmoid, _activation_cases, strict_float=True, mistakes=[
        Mistake(lambda x: 1 / (1 + np.exp(x)), "the sign in the exponent is flipped: sigmoid(x) = 1 / (1 + exp(-x))."),
        Mistake(lambda x: np.exp(x) / (1 + np.exp(x)),
                "exp(x) / (1 + exp(x)) overflows for large x: use exp(-|x|) and pick the form by the sign of x."),
    ]),
    Part("tanh", scratch.tanh, _activation_cases, strict_float=True, mistakes=[
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
    Part("sigmoid_grad", scratch.sigmoid_grad, _activation_cases, strict_float=True, mistakes=[
        Mistake(lambda x: scratch.sigmoid(x) * (1 + scratch.sigmoid(x)), "sigmoid'(x) = s(1 − s), with a minus sign."),
        Mistake(lambda x: x * (1 - x), "x(1 − x) uses the input where the sigmoid's output belongs: s = sigmoid(x), then s(1 − s)."),
    ]),
    Part("tanh_grad", scratch.tanh_grad, _activation_cases, strict_float=True, mistakes=[
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
        Case("huge logits (±1e4)", (np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, 1e4]]), np.array([0, 2, 1])),
             hint="subtract each row's maximum before exponentiating."),
        Case("10 classes, 16 rows", (3 * r.normal(size=(16, 10)), r.integers(0, 10, 16))),
    ]


def _ce_naive(logits, labels):
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    n = len(labels)
    grad = p.copy()
    grad[np.arange(n), labels] -= 1
    return -np.log(p[np.arange(n), labels]).mean(), grad / n


def _ce_no_mean_in_grad(logits, labels):
    loss, grad = softmax_cross_entropy(logits, labels)
    return loss, grad * len(labels)


def _ce_sum(logits, labels):
    loss, grad = softmax_cross_entropy(logits, labels)
    return loss * len(labels), grad * len(labels)


def _ce_global_max(logits, labels):
    shifted = logits - logits.max()
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    n = len(labels)
    grad = p.copy()
    grad[np.arange(n), labels] -= 1
    return -np.log(p[np.arange(n), labels]).mean(), grad / n


EX_1_4 = Exercise("1.4", "Stable softmax cross-entropy and its gradient", [Part(
    "softmax_cross_entropy", softmax_cross_entropy, _ce_cases, points=3, strict_float=True,
    output_names=("loss", "dlogits"),
    mistakes=[
        Mistake(_ce_naive, "exp(logits) overflows for large logits: subtract each row's maximum first (log-sum-exp)."),
        Mistake(_ce_no_mean_in_grad, "the loss is a mean over the batch, so its gradient needs the same 1/N."),
        Mistake(_ce_sum, "average over the batch (mean), do not sum."),
        Mistake(_ce_global_max, "subtract each row's own maximum (axis=1, keepdims=True), not the maximum of the whole array."),
    ])])


# 1.5 Dense layer backward ----------------------------------------------------------------------

def linear_backward(x, W, dout):
    layer = scratch.Linear(*W.shape)
    layer.weight.data = W
    return layer_gradients(layer, x, dout)


def _linear_backward_cases():
    r = _rng(15)
    return [
        Case("a batch of 5 rows, 3 inputs, 2 outputs", (r.normal(size=(5, 3)), r.normal(size=(3, 2)), r.normal(size=(5, 2)))),
        Case("a batch of one row", (r.normal(size=(1, 4)), r.normal(size=(4, 3)), r.normal(size=(1, 3)))),
        Case("square weights", (r.normal(size=(6, 4)), r.normal(size=(4, 4)), r.normal(size=(6, 4))),
             hint="with square W, a missing transpose gives the right shape and the wrong values."),
    ]


def _lb_db_mean(x, W, dout):
    dx, dW, db = linear_backward(x, W, dout)
    return dx, dW, dout.mean(axis=0)


def _lb_dx_no_transpose(x, W, dout):
    dx, dW, db = linear_backward(x, W, dout)
    return dout @ W, dW, db


def _lb_dW_transposed(x, W, dout):
    dx, dW, db = linear_backward(x, W, dout)
    return dx, dout.T @ x, db


EX_1_5 = Exercise("1.5", "Dense layer: backward", [Part(
    "linear_backward", linear_backward, _linear_backward_cases, points=3, output_names=("dx", "dW", "db"),
    mistakes=[
        Mistake(_lb_db_mean, "db sums dout over the batch (every row used the same bias): sum, not mean."),
        Mistake(_lb_dx_no_transpose, "dx = dout @ W.T: the gradient flows back through the transpose of W."),
        Mistake(_lb_dW_transposed, "dW must have W's shape (inputs, outputs): x.T @ dout, not dout.T @ x."),
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
        Case("sum of cubes, 5 values", (_cubic, r.normal(size=5), 1e-4)),
        Case("log-sum-exp of a 2×3 matrix", (_log_sum_exp, r.normal(size=(2, 3)), 1e-4)),
        Case("cross-entropy of 4×3 logits", (_ce_of_logits, r.normal(size=(4, 3)), 1e-5)),
        Case("a single value", (_cubic, np.array([1.5]), 1e-4)),
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
        Mistake(_ng_no_restore, "restore each entry after perturbing it: every later entry is measured at a shifted point."),
    ])])


# 1.7 One training step of an MLP ---------------------------------------------------------------------

def train_step(model, X, y, lr):
    loss_fn = scratch.SoftmaxCrossEntropy()
    model.zero_grad()
    loss = loss_fn.forward(model.forward(X), y)
    model.backward(loss_fn.backward())
    for p in model.parameters():
        p.data -= lr * p.grad
    return loss


def _three_steps(step, model, X, y, lr):
    """Run three steps on the same model; return the losses and the final parameters."""
    losses = [step(model, X, y, lr) for _ in range(3)]
    return tuple(losses) + tuple(p.data.copy() for p in model.parameters())


def _train_step_cases():
    r = _rng(17)
    cases = []
    for name, sizes, n in [("a 4-8-3 MLP, batch of 6", [4, 8, 3], 6),
                           ("a 5-3 linear model, batch of 1", [5, 3], 1),
                           ("a 64-16-10 MLP on 20 digits-sized rows", [64, 16, 10], 20)]:
        model = scratch.mlp(sizes, rng=_rng(len(sizes) * 100 + n))
        cases.append(Case(name, (model, r.normal(size=(n, sizes[0])), r.integers(0, sizes[-1], n), 0.1)))
    return cases


def _ts_no_zero_grad(model, X, y, lr):
    loss_fn = scratch.SoftmaxCrossEntropy()
    loss = loss_fn.forward(model.forward(X), y)
    model.backward(loss_fn.backward())
    for p in model.parameters():
        p.data -= lr * p.grad
    return loss


def _ts_ascent(model, X, y, lr):
    loss_fn = scratch.SoftmaxCrossEntropy()
    model.zero_grad()
    loss = loss_fn.forward(model.forward(X), y)
    model.backward(loss_fn.backward())
    for p in model.parameters():
        p.data += lr * p.grad
    return loss


def _ts_loss_after(model, X, y, lr):
    train_step(model, X, y, lr)
    return scratch.cross_entropy(model.forward(X), y)


EX_1_7 = Exercise("1.7", "One SGD training step of an MLP", [Part(
    "train_step", train_step, _train_step_cases, points=3, driver=_three_steps, mutates=(0,),
    output_names=("loss 1", "loss 2", "loss 3") + tuple(f"parameter {i} after 3 steps" for i in range(6)),
    mistakes=[
        Mistake(_ts_no_zero_grad, "gradients accumulate in p.grad: call model.zero_grad() before each backward."),
        Mistake(_ts_ascent, "step against the gradient: p.data -= lr * p.grad (you added it)."),
        Mistake(_ts_loss_after, "return the loss computed in this step's forward pass, before the update."),
    ])])

register(CHAPTER, EX_1_1, EX_1_2, EX_1_3, EX_1_4, EX_1_5, EX_1_6, EX_1_7)
