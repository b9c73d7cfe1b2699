"""The graded exercises of chapter 5 (solutions/05_applications.ipynb).

Each asks for a variant of what the chapter uses, not a copy of it: ranking metrics with the
held-out item in any column, quantization to any bit width, distillation in NumPy, a functional
matrix-factorization step without biases, integrated gradients of any differentiable function,
global magnitude pruning of a list of NumPy weights, (5.7) a graph convolution on a dense
adjacency matrix with a mean read-out per graph, (5.8) one step of the kinematic bicycle model, and
(5.9) prototypical-network logits with the classes' order given.
"""
import numpy as np

from d2lite import ranking
from d2lite.grading.exercise import Case, Exercise, Mistake, Part, register

CHAPTER = "05_applications"


def _rng(seed):
    return np.random.default_rng(seed)


# 5.1 Ranking metrics ---------------------------------------------------------------------------------

def _held_out_first(scores, positive):
    """The same scores with each row's held-out column moved to the front."""
    scores, positive = np.asarray(scores), np.asarray(positive)
    rows = np.arange(len(scores))
    others = np.ones(scores.shape, dtype=bool)
    others[rows, positive] = False
    return np.concatenate([scores[rows, positive][:, None], scores[others].reshape(len(scores), -1)], axis=1)


def hit_rate_at_k(scores, positive, k):
    return ranking.hit_rate_at_k(_held_out_first(scores, positive), k)


def ndcg_at_k(scores, positive, k):
    return ranking.ndcg_at_k(_held_out_first(scores, positive), k)


def _rank(scores, positive, strict=False, count_self=False):
    rows = np.arange(len(scores))
    own = scores[rows, positive][:, None]
    above = (scores > own) if strict else (scores >= own)
    return above.sum(axis=1) - (0 if (strict or count_self) else 1)


def _ranking_cases():
    r = _rng(51)
    ties = np.array([[0.5, 0.5, 0.1, 0.2, 0.9], [0.3, 0.1, 0.3, 0.3, 0.0], [0.7, 0.2, 0.1, 0.7, 0.4]])
    return [
        Case("6 users, 8 candidates, held-out item in various columns, k = 3",
             (r.normal(size=(6, 8)), np.array([0, 3, 7, 2, 5, 1]), 3)),
        Case("ties with the held-out item's score, k = 2", (ties, np.array([1, 0, 3]), 2),
             hint="ties count against the held-out item: count the other candidates scoring >= it."),
        Case("a single user, 11 candidates, k = 10", (r.normal(size=(1, 11)), np.array([4]), 10)),
        Case("held-out item exactly at rank k = 4", (np.array([[9.0, 8, 7, 6, 5, 4, 3], [1, 2, 3, 4, 5, 6, 7]]),
                                                    np.array([4, 2]), 4),
             hint="rank counts from 0: the item is in the top k when fewer than k candidates beat it."),
        Case("the same shapes as the first case, other values, k = 5",
             (100 * r.normal(size=(6, 8)), np.array([6, 6, 0, 1, 4, 2]), 5)),
    ]


def _hr(rank, k):
    return float((rank < k).mean())


def _ndcg(rank, k, log=np.log2, plus=2):
    with np.errstate(divide="ignore"):
        return float(np.where(rank < k, 1.0 / log(rank + plus), 0.0).mean())


EX_5_1 = Exercise("5.1", "Ranking metrics: hit rate and NDCG at k", [
    Part("hit_rate_at_k", hit_rate_at_k, _ranking_cases, mistakes=[
        Mistake(lambda s, p, k: _hr(_rank(s, p, strict=True), k),
                "ties count against the held-out item: count the other candidates scoring >= it, not > it."),
        Mistake(lambda s, p, k: _hr(_rank(s, p), k + 1), "off by one: with ranks counted from 0, a hit is rank < k."),
        Mistake(lambda s, p, k: _hr(_rank(s, np.zeros_like(p)), k),
                "the held-out item of row i is in column positive[i], not always column 0."),
        Mistake(lambda s, p, k: _hr(_rank(s, p, count_self=True), k),
                "the held-out item was counted against itself: leave its own column out of the count."),
    ]),
    Part("ndcg_at_k", ndcg_at_k, _ranking_cases, mistakes=[
        Mistake(lambda s, p, k: _ndcg(_rank(s, p), k, plus=1),
                "the discount is 1 / log2(rank + 2) with ranks from 0: first place earns 1, not 1 / log2(1)."),
        Mistake(lambda s, p, k: _ndcg(_rank(s, p), k, log=np.log),
                "use the base-2 logarithm: 1 / log2(rank + 2)."),
        Mistake(lambda s, p, k: _ndcg(_rank(s, p, strict=True), k),
                "ties count against the held-out item: count the other candidates scoring >= it, not > it."),
        Mistake(lambda s, p, k: _ndcg(_rank(s, p), 10 ** 9),
                "items ranked k or lower earn 0: apply the cut-off k."),
        Mistake(lambda s, p, k: _ndcg(_rank(s, np.zeros_like(p)), k),
                "the held-out item of row i is in column positive[i], not always column 0."),
    ]),
])


# 5.2 Symmetric quantization to any bit width ---------------------------------------------------------

def fake_quantize(w, bits, axis):
    qmax = 2 ** (bits - 1) - 1
    if axis is None:
        peak = np.abs(w).max()
    else:
        others = tuple(d for d in range(w.ndim) if d != axis % w.ndim)
        peak = np.abs(w).max(axis=others, keepdims=True)
    scale = np.where(peak > 0, peak / qmax, 1.0)
    return np.clip(np.rint(w / scale), -qmax, qmax) * scale


def _quantize_with(w, bits, axis, qmax_of=lambda b: 2 ** (b - 1) - 1, rounding=np.rint, reduce_axis=False):
    qmax = qmax_of(bits)
    if axis is None:
        peak = np.abs(w).max()
    elif reduce_axis:
        peak = np.abs(w).max(axis=axis, keepdims=True)
    else:
        others = tuple(d for d in range(w.ndim) if d != axis % w.ndim)
        peak = np.abs(w).max(axis=others, keepdims=True)
    scale = np.where(peak > 0, peak / qmax, 1.0)
    return np.clip(rounding(w / scale), -qmax, qmax) * scale


def _quantize_cases():
    r = _rng(52)
    scales = np.array([[1.0], [0.01], [30.0], [0.5]])
    zero_row = r.normal(size=(3, 5))
    zero_row[1] = 0.0
    return [
        Case("per tensor, 8 bits, a 5×3 matrix", (r.normal(size=(5, 3)), 8, None)),
        Case("per row (axis 0), 4 bits, rows at very different scales", (r.normal(size=(4, 6)) * scales, 4, 0),
             hint="one scale per index of `axis`: the maximum over all the other axes."),
        Case("per column (axis 1), 3 bits, a 4×6 matrix", (r.normal(size=(4, 6)) * scales, 3, 1)),
        Case("an all-zero row, per row, 8 bits", (zero_row, 8, 0),
             hint="an all-zero slice has maximum 0: keep it at 0 (for example with scale 1) instead of dividing by zero."),
        Case("a 4-D kernel per output channel (axis 0), 5 bits", (r.normal(size=(2, 3, 2, 2)), 5, 0)),
        Case("axis -1 on a single row, 6 bits", (r.normal(size=(1, 7)), 6, -1)),
        Case("per tensor, 2 bits (levels −1, 0, 1)", (r.normal(size=(3, 4)), 2, None)),
    ]


EX_5_2 = Exercise("5.2", "Symmetric quantization to b bits", [Part(
    "fake_quantize", fake_quantize, _quantize_cases, points=2, mistakes=[
        Mistake(lambda w, b, a: _quantize_with(w, b, a, qmax_of=lambda b: 2 ** b - 1),
                "2^b − 1 is the largest unsigned value; symmetric signed levels go up to 2^(b−1) − 1."),
        Mistake(lambda w, b, a: _quantize_with(w, b, a, qmax_of=lambda b: 2 ** (b - 1)),
                "2^(b−1) does not fit: the symmetric range is −(2^(b−1) − 1) .. 2^(b−1) − 1."),
        Mistake(lambda w, b, a: _quantize_with(w, b, a, rounding=np.trunc),
                "round to the nearest level (np.rint); converting to int truncates towards zero."),
        Mistake(lambda w, b, a: _quantize_with(w, b, None),
                "one scale for the whole tensor: when `axis` is given, each slice along it needs its own scale."),
        Mistake(lambda w, b, a: _quantize_with(w, b, a, reduce_axis=True),
                "the maximum was taken along `axis`: take it over all the *other* axes, one per index of `axis`."),
    ])])


# 5.3 Knowledge distillation in NumPy --------------------------------------------------------------

def distillation_loss(student_logits, teacher_logits, labels, temperature, alpha):
    import torch   # the reference is the library's PyTorch loss; imported here so that other chapters' checks don't load torch

    from d2lite.torch import compress

    loss = compress.distillation_loss(torch.from_numpy(student_logits), torch.from_numpy(teacher_logits),
                                      torch.from_numpy(labels), temperature, alpha)
    return float(loss)


def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _kd(s, t, y, T, a, t_scale=True, square=True, reverse=False, swap=False):
    ls, lt = _log_softmax(s / T), _log_softmax(t / T if t_scale else t)
    kl = (np.exp(ls) * (ls - lt)).sum(1).mean() if reverse else (np.exp(lt) * (lt - ls)).sum(1).mean()
    ce = -_log_softmax(s)[np.arange(len(y)), y].mean()
    soft = (T ** 2 if square else 1.0) * kl
    return float((1 - a) * soft + a * ce) if swap else float(a * soft + (1 - a) * ce)


def _naive_kd(s, t, y, T, a):
    ps = np.exp(s / T) / np.exp(s / T).sum(1, keepdims=True)
    pt = np.exp(t / T) / np.exp(t / T).sum(1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(1, keepdims=True)
    return float(a * T ** 2 * (pt * np.log(pt / ps)).sum(1).mean() - (1 - a) * np.log(p[np.arange(len(y)), y]).mean())


def _kd_cases():
    r = _rng(53)
    return [
        Case("5 images, 4 classes, T = 4, alpha = 0.9",
             (r.normal(size=(5, 4)), 3 * r.normal(size=(5, 4)), np.array([0, 3, 1, 1, 2]), 4.0, 0.9)),
        Case("one image, 10 classes, T = 2, alpha = 0.3",
             (r.normal(size=(1, 10)), 5 * r.normal(size=(1, 10)), np.array([7]), 2.0, 0.3)),
        Case("T = 1, alpha = 0.5: soft and hard terms weighted equally",
             (r.normal(size=(3, 6)), r.normal(size=(3, 6)), np.array([5, 0, 2]), 1.0, 0.5)),
        Case("large logits (±500), T = 3, alpha = 0.75",
             (500 * r.normal(size=(4, 3)), 400 * r.normal(size=(4, 3)), np.array([2, 2, 0, 1]), 3.0, 0.75),
             hint="work with log-softmax after subtracting each row's maximum: exp(500) overflows."),
        Case("the first case's shapes, other values, T = 6.5, alpha = 0.2",
             (2 * r.normal(size=(5, 4)), r.normal(size=(5, 4)), np.array([1, 1, 3, 0, 2]), 6.5, 0.2)),
    ]


EX_5_3 = Exercise("5.3", "Knowledge distillation loss in NumPy", [Part(
    "distillation_loss", distillation_loss, _kd_cases, points=2, strict_float=True, mistakes=[
        Mistake(lambda s, t, y, T, a: _kd(s, t, y, T, a, square=False),
                "the soft term is multiplied by T², which keeps its gradients the same size as T changes."),
        Mistake(lambda s, t, y, T, a: _kd(s, t, y, T, a, reverse=True),
                "the KL divergence is the wrong way round: KL(teacher ‖ student) = Σ p_teacher (log p_teacher − log p_student)."),
        Mistake(lambda s, t, y, T, a: _kd(s, t, y, T, a, t_scale=False),
                "divide the teacher's logits by T too: both distributions are softened at the same temperature."),
        Mistake(lambda s, t, y, T, a: _kd(s, t, y, T, a, swap=True),
                "alpha weights the teacher's soft term and 1 − alpha the cross-entropy with the labels, not the other way round."),
        Mistake(_naive_kd, "exp of large logits overflows: subtract each row's maximum and work with log-softmax."),
    ])])



# 5.4 One SGD step of matrix factorization without biases ----------------------------------------------

def mf_sgd_step(P, Q, users, items, ratings, lr, reg):
    P, Q = P.copy(), Q.copy()
    p, q = P[users], Q[items]
    e = (p * q).sum(axis=1) - ratings
    np.add.at(P, users, -lr * (e[:, None] * q + reg * p))
    np.add.at(Q, items, -lr * (e[:, None] * p + reg * q))
    return P, Q


def _mf_variant(P, Q, users, items, ratings, lr, reg, sequential=False, assign=False, sign=1.0, use_reg=True):
    P, Q = P.copy(), Q.copy()
    p, q = P[users], Q[items]
    e = sign * ((p * q).sum(axis=1) - ratings)
    r = reg if use_reg else 0.0
    dp = -lr * (e[:, None] * q + r * p)
    if assign:
        P[users] += dp
    else:
        np.add.at(P, users, dp)
    p_used = P[users] if sequential else p
    dq = -lr * (e[:, None] * p_used + r * q)
    if assign:
        Q[items] += dq
    else:
        np.add.at(Q, items, dq)
    return P, Q


def _mf_cases():
    r = _rng(54)
    return [
        Case("5 users, 7 items, k = 3, a user and an item repeated",
             (r.normal(size=(5, 3)), r.normal(size=(7, 3)), np.array([0, 4, 4, 2]), np.array([6, 1, 1, 3]),
              np.array([4.0, 1.5, 3.0, 5.0]), 0.1, 0.05),
             hint="a row used twice in the batch gets both updates: add them (np.add.at), don't assign."),
        Case("a single rating, k = 2", (r.normal(size=(3, 2)), r.normal(size=(4, 2)), np.array([1]), np.array([3]),
                                        np.array([2.5]), 0.05, 0.2)),
        Case("8 ratings, larger lr and reg, k = 4",
             (r.normal(size=(4, 4)), r.normal(size=(6, 4)), np.array([3, 0, 1, 3, 2, 0, 0, 1]),
              np.array([5, 5, 0, 2, 4, 1, 3, 5]), r.uniform(0.5, 5, size=8), 0.3, 0.7)),
        Case("the first case's shapes, other values, no regularisation",
             (r.normal(size=(5, 3)), r.normal(size=(7, 3)), np.array([3, 3, 1, 0]), np.array([2, 0, 2, 6]),
              np.array([1.0, 2.0, 3.5, 0.5]), 0.02, 0.0)),
    ]


EX_5_4 = Exercise("5.4", "One SGD step of matrix factorization", [Part(
    "mf_sgd_step", mf_sgd_step, _mf_cases, points=2, output_names=("P", "Q"), mistakes=[
        Mistake(lambda *a: _mf_variant(*a, sequential=True),
                "Q's update used the already-updated P: compute both updates from the old rows, then apply them."),
        Mistake(lambda *a: _mf_variant(*a, assign=True),
                "P[users] += ... keeps only one update of a row that appears twice: use np.add.at to add them all."),
        Mistake(lambda *a: _mf_variant(*a, sign=-1.0),
                "the error's sign is flipped: with e = p·q − r, step against the gradient, p −= lr (e q + reg p)."),
        Mistake(lambda *a: _mf_variant(*a, use_reg=False), "the regulariser is missing: add reg · p_u (and reg · q_i) to the gradient."),
    ])])


# 5.5 Integrated gradients of any function ---------------------------------------------------------

class TanhLayerGradient:
    """The gradient of f(x) = Σ tanh(x @ A) for a batch of points: (1 − tanh²(x @ A)) @ Aᵀ."""

    def __init__(self, A):
        self.A = A

    def __call__(self, points):
        return (1 - np.tanh(points @ self.A) ** 2) @ self.A.T


def integrated_gradients(grad_fn, x, baseline, steps):
    alphas = (np.arange(steps) + 0.5) / steps
    path = baseline + alphas[:, None] * (x - baseline)
    return (x - baseline) * grad_fn(path).mean(axis=0)


def _ig_variant(grad_fn, x, baseline, steps, alphas=None, times=None, reduce=np.mean):
    alphas = (np.arange(steps) + 0.5) / steps if alphas is None else alphas(steps)
    path = baseline + alphas[:, None] * (x - baseline)
    factor = x - baseline if times is None else times(x, baseline)
    return factor * reduce(grad_fn(path), axis=0)


def _ig_cases():
    r = _rng(55)
    return [
        Case("4 inputs, 50 steps, baseline 0", (TanhLayerGradient(r.normal(size=(4, 3))), r.normal(size=4), np.zeros(4), 50)),
        Case("6 inputs, 7 steps, a non-zero baseline",
             (TanhLayerGradient(r.normal(size=(6, 2))), r.normal(size=6), r.normal(size=6), 7),
             hint="the path starts at the baseline: x' + α (x − x'), and the factor is x − x', not x."),
        Case("one step (the midpoint only)", (TanhLayerGradient(r.normal(size=(3, 5))), r.normal(size=3), np.full(3, 0.5), 1),
             hint="α runs over the midpoints (j + ½) / steps; with one step that is α = ½."),
        Case("2 inputs, 20 steps, large inputs", (TanhLayerGradient(r.normal(size=(2, 2))), 5 * r.normal(size=2), np.zeros(2), 20)),
        Case("the first case's shapes, other values, 30 steps",
             (TanhLayerGradient(r.normal(size=(4, 3))), r.normal(size=4), 0.3 * r.normal(size=4), 30)),
    ]


EX_5_5 = Exercise("5.5", "Integrated gradients of any function", [Part(
    "integrated_gradients", integrated_gradients, _ig_cases, points=2, mistakes=[
        Mistake(lambda g, x, b, s: _ig_variant(g, x, b, s, alphas=lambda n: np.arange(n) / n),
                "α = j / steps is a left Riemann sum: use the midpoints (j + ½) / steps."),
        Mistake(lambda g, x, b, s: _ig_variant(g, x, b, s, alphas=lambda n: np.linspace(0, 1, n)),
                "α = linspace(0, 1, steps) puts points on both ends: use the midpoints (j + ½) / steps."),
        Mistake(lambda g, x, b, s: _ig_variant(g, x, b, s, times=lambda x, b: x),
                "multiply by x − x' (the distance from the baseline), not by x."),
        Mistake(lambda g, x, b, s: _ig_variant(g, x, b, s, times=lambda x, b: 1.0),
                "the average gradient must be multiplied by x − x' to become an attribution."),
        Mistake(lambda g, x, b, s: _ig_variant(g, x, b, s, reduce=np.sum),
                "average the gradients over the steps (the integral over α in [0, 1]), don't sum them."),
    ])])


# 5.6 Global magnitude pruning of NumPy weights -------------------------------------------------------

def magnitude_prune(weights, sparsity):
    sizes = [w.size for w in weights]
    everything = np.concatenate([np.abs(w).ravel() for w in weights])
    n_pruned = int(round(sparsity * everything.size))
    keep = np.ones(everything.size, dtype=bool)
    keep[np.argsort(everything, kind="stable")[:n_pruned]] = False
    masks = np.split(keep, np.cumsum(sizes)[:-1])
    return [w * m.reshape(w.shape) for w, m in zip(weights, masks)]


def _prune_per_layer(weights, sparsity):
    return [magnitude_prune([w], sparsity)[0] for w in weights]


def _prune_signed(weights, sparsity):
    sizes = [w.size for w in weights]
    everything = np.concatenate([w.ravel() for w in weights])
    keep = np.ones(everything.size, dtype=bool)
    keep[np.argsort(everything, kind="stable")[:int(round(sparsity * everything.size))]] = False
    return [w * m.reshape(w.shape) for w, m in zip(weights, np.split(keep, np.cumsum(sizes)[:-1]))]


def _prune_inverted(weights, sparsity):
    return magnitude_prune(weights, 1 - sparsity)


def _prune_cases():
    r = _rng(56)
    return [
        Case("two layers at very different scales, 80% sparsity",
             ([r.normal(size=(6, 4)), 0.01 * r.normal(size=(4, 3))], 0.8),
             hint="rank the weights of all layers together: one threshold for the whole model, not one per layer."),
        Case("three layers including a 4-D kernel, 50%",
             ([r.normal(size=(2, 1, 3, 3)), 3 * r.normal(size=(18, 5)), r.normal(size=(5, 2))], 0.5)),
        Case("one layer, 30%", ([r.normal(size=(3, 7))], 0.3)),
        Case("no pruning (sparsity 0)", ([r.normal(size=(2, 5)), r.normal(size=(5, 1))], 0.0)),
        Case("the first case's shapes, other values, 65%", ([0.1 * r.normal(size=(6, 4)), r.normal(size=(4, 3))], 0.65)),
    ]


EX_5_6 = Exercise("5.6", "Global magnitude pruning", [Part(
    "magnitude_prune", magnitude_prune, _prune_cases, points=2, mistakes=[
        Mistake(_prune_per_layer, "each layer was pruned to the same sparsity: rank all layers' |w| together (global pruning)."),
        Mistake(_prune_signed, "rank by magnitude |w|: the most negative weights are large, not small."),
        Mistake(_prune_inverted, "sparsity is the fraction set to zero: keep the 1 − sparsity largest weights."),
    ])])


register(CHAPTER, EX_5_1, EX_5_2, EX_5_3, EX_5_4, EX_5_5, EX_5_6)


# 5.7 A graph convolution with a dense adjacency matrix, and a mean read-out -------------------------

def gcn_layer(A, H, W, b):
    from d2lite.scratch import graphs

    adjacency = graphs.normalized_adjacency(np.argwhere(A.T > 0), len(A))   # rows (source, target)
    return graphs.propagate(adjacency, H) @ W + b


def _gcn_variant(A, H, W, b, loops_in_a=True, loops_in_degree=True, power=-0.5, both_sides=True,
                 loops_after=False, bias_inside=False):
    eye = np.eye(len(A))
    degree = (A + eye if loops_in_degree else A).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = degree ** power
        a = d[:, None] * (A + eye if loops_in_a else A) * (d[None, :] if both_sides else 1.0)
    if loops_after:
        a = a + eye
    return a @ (H @ W + b) if bias_inside else a @ H @ W + b


def _path(n):
    A = np.zeros((n, n))
    A[np.arange(n - 1), np.arange(1, n)] = A[np.arange(1, n), np.arange(n - 1)] = 1.0
    return A


def _gcn_cases():
    r = _rng(57)
    two_molecules = np.zeros((6, 6))                                   # a triangle, a pair, an atom alone
    for s, t in [(0, 1), (1, 2), (2, 0), (3, 4)]:
        two_molecules[s, t] = two_molecules[t, s] = 1.0
    star = np.zeros((7, 7))
    star[0, 1:] = star[1:, 0] = 1.0
    ring = _path(5)
    ring[0, 4] = ring[4, 0] = 1.0
    return [
        Case("a path of 5 nodes, 3 features in, 2 out", (_path(5), r.normal(size=(5, 3)), r.normal(size=(3, 2)),
                                                         r.normal(size=2))),
        Case("two molecules in one block-diagonal A and a node with no edges, 4 → 3 features",
             (two_molecules, r.normal(size=(6, 4)), r.normal(size=(4, 3)), r.normal(size=3)),
             hint="a node without edges has degree 1 in A + I: it keeps its own features, nothing divides by 0."),
        Case("a single node, 4 → 5 features", (np.zeros((1, 1)), r.normal(size=(1, 4)), r.normal(size=(4, 5)),
                                               r.normal(size=5))),
        Case("a star (a hub with 6 neighbours), features at very different scales",
             (star, r.normal(size=(7, 3)) * np.array([1.0, 100.0, 0.01]), r.normal(size=(3, 4)), r.normal(size=4))),
        Case("the first case's shapes, other values (a ring)",
             (ring, r.normal(size=(5, 3)), r.normal(size=(3, 2)), r.normal(size=2))),
    ]


def graph_mean_readout(H, segment, n_graphs):
    from d2lite.scratch import graphs

    return graphs.MeanReadout().forward(H, segment, n_graphs)


def _readout_variant(H, segment, n_graphs, mean=True, contiguous=False, clamp=True):
    counts = np.bincount(segment, minlength=n_graphs).astype(float)
    if contiguous:
        pieces = np.split(H, np.cumsum(counts)[:-1].astype(int))
        sums = np.array([p.sum(axis=0) for p in pieces])
    else:
        sums = np.zeros((n_graphs, H.shape[1]))
        np.add.at(sums, segment, H)
    if not mean:
        return sums
    with np.errstate(divide="ignore", invalid="ignore"):
        return sums / (np.maximum(counts, 1) if clamp else counts)[:, None]


def _readout_cases():
    r = _rng(570)
    return [
        Case("7 nodes in 3 graphs of 3, 1 and 3 nodes, 2 features", (r.normal(size=(7, 2)), np.array([0, 0, 0, 1, 2, 2, 2]), 3)),
        Case("nodes not sorted by graph", (r.normal(size=(5, 3)), np.array([1, 0, 1, 2, 0]), 3),
             hint="the rows need not be grouped by graph: add each row to the graph `segment` names."),
        Case("one graph of one node", (r.normal(size=(1, 4)), np.array([0]), 1)),
        Case("graphs 1 and 3 of 4 have no nodes", (r.normal(size=(5, 2)), np.array([0, 0, 2, 2, 2]), 4),
             hint="a graph with no nodes gets a row of zeros (divide by max(count, 1)); the output has n_graphs rows."),
        Case("the first case's shapes, other values, rows at very different scales",
             (r.normal(size=(7, 2)) * np.array([[1.0], [1e3], [1e-3], [1.0], [50.0], [0.1], [2.0]]),
              np.array([0, 1, 1, 1, 1, 2, 2]), 3)),
    ]


EX_5_7 = Exercise("5.7", "A graph convolution layer and a mean read-out", [
    Part("gcn_layer", gcn_layer, _gcn_cases, points=2, mistakes=[
        Mistake(lambda A, H, W, b: _gcn_variant(A, H, W, b, loops_in_a=False, loops_in_degree=False),
                "the self-loops are missing: normalise A + I, so that each node keeps its own features."),
        Mistake(lambda A, H, W, b: _gcn_variant(A, H, W, b, loops_in_degree=False),
                "the degrees come from A: take them from A + I (the self-loop counts), D_ii = 1 + Σ_j A_ij."),
        Mistake(lambda A, H, W, b: _gcn_variant(A, H, W, b, power=-1.0, both_sides=False),
                "D^-1 (A + I) averages each row but is not symmetric: scale by D^-1/2 on both sides."),
        Mistake(lambda A, H, W, b: _gcn_variant(A, H, W, b, both_sides=False),
                "D^-1/2 is applied on the left only: Â = D^-1/2 (A + I) D^-1/2 scales rows and columns."),
        Mistake(lambda A, H, W, b: _gcn_variant(A, H, W, b, loops_in_a=False, loops_in_degree=False, loops_after=True),
                "the identity was added after normalising: add the self-loops first, then normalise A + I."),
        Mistake(lambda A, H, W, b: _gcn_variant(A, H, W, b, bias_inside=True),
                "the bias went through Â: add b after mixing the neighbours, Â H W + b."),
    ]),
    Part("graph_mean_readout", graph_mean_readout, _readout_cases, mistakes=[
        Mistake(lambda H, s, n: _readout_variant(H, s, n, mean=False),
                "that is the sum of each graph's rows: divide by the graph's number of nodes for the mean."),
        Mistake(lambda H, s, n: _readout_variant(H, s, n, contiguous=True),
                "the rows were split into consecutive blocks: rows need not be grouped by graph, use `segment`."),
        Mistake(lambda H, s, n: _readout_variant(H, s, n, clamp=False),
                "0 / 0 for a graph with no nodes: divide by max(count, 1) so that it gets zeros."),
    ]),
])


register(CHAPTER, EX_5_7)


# 5.8 One step of the kinematic bicycle model ---------------------------------------------------------

def bicycle_model_step(state, steer, accel, dt, wheelbase, max_steer):
    from d2lite import driving   # the simulator of section 5.3

    return driving.bicycle_step(state, steer, accel, dt, wheelbase, max_steer)


def _bicycle_variant(state, steer, accel, dt, wheelbase, max_steer, turn=np.tan, heading_first=False,
                     speed_first=False, accel_dt=True, degrees=False, clip=True, floor=True, times_wheelbase=False):
    x, y, heading, v = (state[:, i] for i in range(4))
    delta = np.clip(steer, -max_steer, max_steer) if clip else steer
    rate = v * turn(np.deg2rad(delta) if degrees else delta) * (wheelbase if times_wheelbase else 1 / wheelbase)
    new_heading = heading + rate * dt
    new_v = v + accel * (dt if accel_dt else 1.0)
    new_v = np.maximum(new_v, 0.0) if floor else new_v
    angle = new_heading if heading_first else heading
    angle = np.deg2rad(angle) if degrees else angle
    speed = new_v if speed_first else v
    return np.stack([x + speed * np.cos(angle) * dt, y + speed * np.sin(angle) * dt, new_heading, new_v], axis=1)


def _bicycle_cases():
    r = _rng(58)

    def cars(n, speed=(2.0, 15.0)):
        return np.column_stack([r.normal(0, 20, n), r.normal(0, 20, n), r.uniform(-np.pi, np.pi, n), r.uniform(*speed, n)])

    return [
        Case("5 cars steering within the limit, dt = 0.1 s, wheelbase 2.5 m",
             (cars(5), r.uniform(-0.4, 0.4, 5), r.normal(0, 2, 5), 0.1, 2.5, 0.5)),
        Case("a batch of one car steering past the limit, dt = 0.05 s, wheelbase 4 m, limit 0.6 rad",
             (cars(1), np.array([0.9]), np.array([1.0]), 0.05, 4.0, 0.6),
             hint="clip the steering angle to [-max_steer, max_steer] before using it."),
        Case("3 cars steering past both limits, dt = 0.2 s, wheelbase 1.8 m, limit 0.3 rad",
             (cars(3), np.array([1.2, -0.7, 0.1]), np.array([0.5, -0.5, 0.0]), 0.2, 1.8, 0.3)),
        Case("hard braking: speeds that would fall below zero, dt = 0.5 s, wheelbase 3.2 m",
             (cars(4, speed=(0.5, 3.0)), r.uniform(-0.2, 0.2, 4), np.array([-4.0, -1.0, -2.0, 0.5]), 0.5, 3.2, 0.4),
             hint="the car does not reverse: a speed that would fall below 0 becomes 0."),
        Case("headings beyond ±π (not wrapped), dt = 0.07 s, wheelbase 2.9 m",
             (np.column_stack([r.normal(0, 5, 3), r.normal(0, 5, 3), [4.0, -7.5, 3.1], [5.0, 9.0, 12.0]]),
              np.array([0.2, -0.1, 0.35]), np.array([0.0, 3.0, -1.0]), 0.07, 2.9, 0.35),
             hint="keep the heading as it comes: add v·tan(δ)/L·dt to it without wrapping it into [-π, π)."),
        Case("the first case's shapes with other values, dt = 0.03 s, wheelbase 2.1 m, limit 0.45 rad",
             (cars(5), r.uniform(-0.45, 0.45, 5), r.normal(0, 3, 5), 0.03, 2.1, 0.45)),
    ]


EX_5_8 = Exercise("5.8", "One step of the kinematic bicycle model", [Part(
    "bicycle_model_step", bicycle_model_step, _bicycle_cases, points=2, mistakes=[
        Mistake(lambda *a: _bicycle_variant(*a, turn=np.sin),
                "the heading turns at v·tan(δ)/L: you used sin(δ) where tan(δ) belongs."),
        Mistake(lambda *a: _bicycle_variant(*a, heading_first=True),
                "the position moved along the new heading: in an explicit Euler step every update uses the old state."),
        Mistake(lambda *a: _bicycle_variant(*a, speed_first=True),
                "the position moved with the new speed: in an explicit Euler step every update uses the old state."),
        Mistake(lambda *a: _bicycle_variant(*a, accel_dt=False),
                "the speed changes by a·dt in one step, not by a: multiply the acceleration by dt."),
        Mistake(lambda *a: _bicycle_variant(*a, degrees=True),
                "the angles are in radians already: don't convert them with deg2rad / radians."),
        Mistake(lambda *a: _bicycle_variant(*a, clip=False),
                "clip the steering angle to [-max_steer, max_steer] before using it."),
        Mistake(lambda *a: _bicycle_variant(*a, floor=False),
                "the car does not reverse: a speed that would fall below 0 becomes 0."),
        Mistake(lambda *a: _bicycle_variant(*a, times_wheelbase=True),
                "divide by the wheelbase: the turn rate is v·tan(δ)/L, tighter for a shorter car."),
    ])])


register(CHAPTER, EX_5_8)


# 5.9 Prototypical logits -----------------------------------------------------------------------------

def prototypical_logits(support, labels, query, classes):
    from d2lite.scratch import fewshot

    return fewshot.prototypical_logits(support, labels, query, classes)


def _proto_variant(support, labels, query, classes, center=np.mean, power=2, sign=-1.0, order=None):
    classes = classes if order is None else order(labels, classes)
    c = np.stack([center(support[labels == k], axis=0) for k in classes])
    dist = np.sqrt(((query[:, None, :] - c[None, :, :]) ** 2).sum(-1)) ** power
    return sign * dist


def _first(x, axis):
    return np.take(x, 0, axis=axis)


def _first_seen(labels, classes):
    _, where = np.unique(labels, return_index=True)
    return labels[np.sort(where)]


def _proto_cases():
    r = _rng(59)
    return [
        Case("3 classes 0, 1, 2, two shots each, 4 queries of width 5",
             (r.normal(size=(6, 5)), np.array([0, 0, 1, 1, 2, 2]), r.normal(size=(4, 5)), np.array([0, 1, 2]))),
        Case("labels 7, 3, 12 (not 0 … K−1), classes given in the order 12, 3, 7",
             (r.normal(size=(7, 3)), np.array([7, 3, 12, 3, 7, 12, 12]), r.normal(size=(5, 3)), np.array([12, 3, 7])),
             hint="column k belongs to classes[k], in the order given: not to the sorted labels or to label k."),
        Case("a single query, 4 classes with 3, 1, 2 and 2 shots, width 6",
             (r.normal(size=(8, 6)), np.array([2, 0, 2, 1, 3, 2, 0, 3]), r.normal(size=(1, 6)), np.array([0, 1, 2, 3])),
             hint="a prototype is the mean of all its class's support embeddings, whatever their number."),
        Case("2 classes of 4 shots at very different scales, 3 queries of width 2",
             (np.concatenate([100 * r.normal(size=(4, 2)), 0.01 * r.normal(size=(4, 2))]), np.array([5, 5, 5, 5, 1, 1, 1, 1]),
              r.normal(size=(3, 2)), np.array([1, 5]))),
        Case("the first case's shapes with other values, classes in the order 2, 0, 1",
             (3 * r.normal(size=(6, 5)), np.array([1, 2, 0, 2, 1, 0]), r.normal(size=(4, 5)) + 1, np.array([2, 0, 1]))),
    ]


EX_5_9 = Exercise("5.9", "Prototypical logits", [Part(
    "prototypical_logits", prototypical_logits, _proto_cases, points=2, mistakes=[
        Mistake(lambda s, y, q, c: _proto_variant(s, y, q, c, power=1),
                "the Euclidean distance was not squared: the logits are −‖q − c_k‖², the negative *squared* distance."),
        Mistake(lambda s, y, q, c: _proto_variant(s, y, q, c, sign=1.0),
                "the logits are the *negative* squared distances: a nearer prototype must get a larger logit."),
        Mistake(lambda s, y, q, c: _proto_variant(s, y, q, c, center=_first),
                "a prototype is the mean of all its class's support embeddings, not its first example."),
        Mistake(lambda s, y, q, c: _proto_variant(s, y, q, c, order=lambda y, c: np.unique(y)),
                "the columns follow the sorted labels: column k belongs to classes[k], in the order given."),
        Mistake(lambda s, y, q, c: _proto_variant(s, y, q, c, order=_first_seen),
                "the columns follow the labels' first appearance: column k belongs to classes[k], in the order given."),
    ])])


register(CHAPTER, EX_5_9)
