"""The graded exercises of chapter 5 (solutions/05_applications.ipynb).

Each asks for a variant of what the chapter uses, not a copy of it: ranking metrics with the
held-out item in any column, quantization to any bit width, distillation in NumPy.
"""
import numpy as np
import torch

from d2lite import ranking
from d2lite.grading.exercise import Case, Exercise, Mistake, Part, register
from d2lite.torch import compress

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


register(CHAPTER, EX_5_1, EX_5_2, EX_5_3)
