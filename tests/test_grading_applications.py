"""Chapter 5's checks reject realistic wrong answers and accept differently written right ones."""
import math

import numpy as np
from scipy.special import log_softmax

from d2lite.exercises import applications as A
from grader_cases import assert_accepted, assert_rejected, wrong_params


# ---- 5.1 ranking metrics ----------------------------------------------------------------------
def ranks_loop(scores, positive):
    out = []
    for row, p in zip(scores, positive):
        out.append(sum(1 for j, v in enumerate(row) if j != p and v >= row[p]))
    return out


def hr_loop(scores, positive, k):
    ranks = ranks_loop(scores, positive)
    return sum(r < k for r in ranks) / len(ranks)


def ndcg_loop(scores, positive, k):
    ranks = ranks_loop(scores, positive)
    return sum(1 / math.log2(r + 2) for r in ranks if r < k) / len(ranks)


def hr_strict(scores, positive, k):
    rows = np.arange(len(scores))
    return float(((scores > scores[rows, positive][:, None]).sum(1) < k).mean())


def hr_le(scores, positive, k):
    return hr_loop(scores, positive, k + 1)


def hr_column0(scores, positive, k):
    return hr_loop(scores, np.zeros(len(scores), dtype=int), k)


def ndcg_log1(scores, positive, k):
    ranks = np.array(ranks_loop(scores, positive))
    with np.errstate(divide="ignore"):
        return float(np.where(ranks < k, 1 / np.log2(ranks + 1), 0).mean())


def ndcg_no_cutoff(scores, positive, k):
    return ndcg_loop(scores, positive, 10 ** 6)


def ndcg_ln(scores, positive, k):
    ranks = ranks_loop(scores, positive)
    return sum(1 / math.log(r + 2) for r in ranks if r < k) / len(ranks)


# ---- 5.2 quantization -------------------------------------------------------------------------
def quantize_moveaxis(w, bits, axis):
    levels = 2 ** (bits - 1) - 1
    if axis is None:
        flat = w.reshape(1, -1)
        moved = flat
    else:
        moved = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)
    peak = np.abs(moved).max(axis=1, keepdims=True)
    step = np.divide(peak, levels, out=np.ones_like(peak), where=peak != 0)
    q = np.clip(np.round(moved / step), -levels, levels) * step
    if axis is None:
        return q.reshape(w.shape)
    return np.moveaxis(q.reshape(np.moveaxis(w, axis, 0).shape), 0, axis)


def quantize_unsigned_range(w, bits, axis):
    return A._quantize_with(w, bits, axis, qmax_of=lambda b: 2 ** b - 1)


def quantize_truncate(w, bits, axis):
    return A._quantize_with(w, bits, axis, rounding=lambda v: v.astype(int))


def quantize_ignores_axis(w, bits, axis):
    return quantize_moveaxis(w, bits, None)


def quantize_nan_on_zero(w, bits, axis):
    levels = 2 ** (bits - 1) - 1
    others = tuple(d for d in range(w.ndim) if axis is not None and d != axis % w.ndim) if axis is not None else None
    peak = np.abs(w).max(axis=others, keepdims=True) if axis is not None else np.abs(w).max()
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(np.rint(w / (peak / levels)), -levels, levels) * (peak / levels)


# ---- 5.3 distillation -------------------------------------------------------------------------
def kd_scipy(s, t, y, T, a):
    ls, lt = log_softmax(s / T, axis=1), log_softmax(t / T, axis=1)
    soft = np.sum(np.exp(lt) * (lt - ls)) / len(s) * T * T
    hard = -np.mean(np.take_along_axis(log_softmax(s, axis=1), y[:, None], axis=1))
    return a * soft + (1 - a) * hard


def kd_no_square(s, t, y, T, a):
    return A._kd(s, t, y, T, a, square=False)


def kd_reversed(s, t, y, T, a):
    ls, lt = log_softmax(s / T, axis=1), log_softmax(t / T, axis=1)
    soft = np.sum(np.exp(ls) * (ls - lt)) / len(s) * T * T
    hard = -np.mean(np.take_along_axis(log_softmax(s, axis=1), y[:, None], axis=1))
    return a * soft + (1 - a) * hard


def kd_swapped(s, t, y, T, a):
    return kd_scipy(s, t, y, T, 1 - a)


def kd_teacher_unscaled(s, t, y, T, a):
    return A._kd(s, t, y, T, a, t_scale=False)


def test_right_answers_written_differently_pass():
    assert_accepted("5.1", [hr_loop, ndcg_loop])
    assert_accepted("5.2", [quantize_moveaxis])
    assert_accepted("5.3", [kd_scipy])


@wrong_params({
    "5.1": [([hr_strict, ndcg_loop], ">= it, not > it"),
            ([hr_le, ndcg_loop], "a hit is rank < k"),
            ([hr_column0, ndcg_loop], "column positive[i]"),
            ([hr_loop, ndcg_log1], "log2(rank + 2)"),
            ([hr_loop, ndcg_no_cutoff], "cut-off k"),
            ([hr_loop, ndcg_ln], "base-2 logarithm")],
    "5.2": [([quantize_unsigned_range], "unsigned"),
            ([quantize_truncate], "truncates"),
            ([quantize_ignores_axis], "each slice along it needs its own scale"),
            ([quantize_nan_on_zero], "all-zero slice")],
    "5.3": [([kd_no_square], "T²"),
            ([kd_reversed], "wrong way round"),
            ([kd_swapped], "alpha weights the teacher"),
            ([kd_teacher_unscaled], "teacher's logits by T"),
            ([A._naive_kd], "overflow")],
})
def test_wrong_answers_are_rejected_with_their_hint(exercise_id, funcs, fragment):
    assert_rejected(exercise_id, funcs, fragment)
