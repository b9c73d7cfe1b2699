"""Chapter 5's checks reject realistic wrong answers and accept differently written right ones."""
import math

import numpy as np
import pytest
from scipy.special import log_softmax

from d2lite.exercises import applications as A
from d2lite.grading import ExerciseFailed, check
from grader_cases import assert_a_cache_is_caught, assert_accepted, assert_rejected, wrong_params


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


# ---- 5.4 matrix factorization step -------------------------------------------------------------
def mf_loop(P, Q, users, items, ratings, lr, reg):
    newP, newQ = P.copy(), Q.copy()
    for u, i, r in zip(users, items, ratings):
        e = P[u] @ Q[i] - r
        newP[u] -= lr * (e * Q[i] + reg * P[u])
        newQ[i] -= lr * (e * P[u] + reg * Q[i])
    return newP, newQ


def mf_sequential(P, Q, users, items, ratings, lr, reg):
    P, Q = P.copy(), Q.copy()
    e = (P[users] * Q[items]).sum(1) - ratings
    np.add.at(P, users, -lr * (e[:, None] * Q[items] + reg * P[users]))
    np.add.at(Q, items, -lr * (e[:, None] * P[users] + reg * Q[items]))   # P already updated
    return P, Q


def mf_assign(P, Q, users, items, ratings, lr, reg):
    P, Q = P.copy(), Q.copy()
    p, q = P[users].copy(), Q[items].copy()
    e = (p * q).sum(1) - ratings
    P[users] -= lr * (e[:, None] * q + reg * p)
    Q[items] -= lr * (e[:, None] * p + reg * q)
    return P, Q


def mf_error_flipped(P, Q, users, items, ratings, lr, reg):
    return mf_loop(P, Q, users, items, 2 * (P[users] * Q[items]).sum(1) - ratings, lr, reg)


def mf_no_reg(P, Q, users, items, ratings, lr, reg):
    newP, newQ = mf_loop(P, Q, users, items, ratings, lr, 0.0)
    return newP, newQ


def mf_in_place(P, Q, users, items, ratings, lr, reg):
    p, q = P[users], Q[items]
    e = (p * q).sum(1) - ratings
    np.add.at(P, users, -lr * (e[:, None] * q + reg * p))
    np.add.at(Q, items, -lr * (e[:, None] * p + reg * q))
    return P, Q


# ---- 5.5 integrated gradients -------------------------------------------------------------------
def ig_loop(grad_fn, x, baseline, steps):
    total = np.zeros_like(x)
    for j in range(steps):
        alpha = (2 * j + 1) / (2 * steps)
        total += grad_fn((baseline + alpha * (x - baseline))[None])[0]
    return (x - baseline) * total / steps


def ig_left(grad_fn, x, baseline, steps):
    alphas = np.arange(steps) / steps
    return (x - baseline) * grad_fn(baseline + alphas[:, None] * (x - baseline)).mean(0)


def ig_times_x(grad_fn, x, baseline, steps):
    return x * ig_loop(grad_fn, x, baseline, steps) / np.where(x - baseline == 0, 1, x - baseline)


def ig_path_from_zero(grad_fn, x, baseline, steps):
    alphas = (np.arange(steps) + 0.5) / steps
    return (x - baseline) * grad_fn(alphas[:, None] * x).mean(0)


def ig_sum(grad_fn, x, baseline, steps):
    return steps * ig_loop(grad_fn, x, baseline, steps)


# ---- 5.6 magnitude pruning ----------------------------------------------------------------------
def prune_threshold(weights, sparsity):
    flat = np.sort(np.concatenate([np.abs(w).ravel() for w in weights]))
    n = int(round(sparsity * flat.size))
    if n == 0:
        return [w.copy() for w in weights]
    threshold = flat[n - 1]
    return [np.where(np.abs(w) > threshold, w, 0.0) for w in weights]


def prune_each_layer(weights, sparsity):
    return [prune_threshold([w], sparsity)[0] for w in weights]


def prune_smallest_signed(weights, sparsity):
    flat = np.sort(np.concatenate([w.ravel() for w in weights]))
    n = int(round(sparsity * flat.size))
    if n == 0:
        return [w.copy() for w in weights]
    return [np.where(w > flat[n - 1], w, 0.0) for w in weights]


def prune_keeps_fraction(weights, sparsity):
    return prune_threshold(weights, 1 - sparsity)


def test_right_answers_written_differently_pass():
    assert_accepted("5.4", [mf_loop])
    assert_accepted("5.5", [ig_loop])
    assert_accepted("5.6", [prune_threshold])
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
    "5.4": [([mf_sequential], "already-updated P"),
            ([mf_assign], "np.add.at"),
            ([mf_error_flipped], "sign is flipped"),
            ([mf_no_reg], "regulariser is missing"),
            ([mf_in_place], "changed its input")],
    "5.5": [([ig_left], "midpoints"),
            ([ig_times_x], "not by x"),
            ([ig_path_from_zero], "the path starts at the baseline"),
            ([ig_sum], "don't sum them")],
    "5.6": [([prune_each_layer], "global pruning"),
            ([prune_smallest_signed], "magnitude |w|"),
            ([prune_keeps_fraction], "fraction set to zero")],
})
def test_wrong_answers_are_rejected_with_their_hint(exercise_id, funcs, fragment):
    assert_rejected(exercise_id, funcs, fragment)


# ---- 5.7 graph convolution and mean read-out ------------------------------------------------------
def gcn_loops(A, H, W, b):
    n = len(A)
    degree = [1 + sum(A[i]) for i in range(n)]
    A_hat = np.array([[(A[i, j] + (i == j)) / math.sqrt(degree[i] * degree[j]) for j in range(n)] for i in range(n)])
    return A_hat @ H @ W + b


def readout_loops(H, segment, n_graphs):
    out = np.zeros((n_graphs, H.shape[1]))
    for g in range(n_graphs):
        rows = [H[i] for i in range(len(H)) if segment[i] == g]
        if rows:
            out[g] = np.mean(rows, axis=0)
    return out


def readout_right(H, segment, n_graphs):
    counts = np.bincount(segment, minlength=n_graphs)
    sums = np.stack([np.bincount(segment, weights=H[:, f], minlength=n_graphs) for f in range(H.shape[1])], axis=1)
    return sums / np.maximum(counts, 1)[:, None]


def gcn_no_self_loops(A, H, W, b):
    d = np.diag(A.sum(1) ** -0.5)
    return d @ A @ d @ H @ W + b


def gcn_degree_from_a(A, H, W, b):
    d = np.diag(A.sum(1) ** -0.5)
    return d @ (A + np.eye(len(A))) @ d @ H @ W + b


def gcn_row_normalised(A, H, W, b):
    A_loops = A + np.eye(len(A))
    return (A_loops / A_loops.sum(1, keepdims=True)) @ H @ W + b


def gcn_bias_through_a(A, H, W, b):
    A_loops = A + np.eye(len(A))
    d = np.diag(A_loops.sum(1) ** -0.5)
    return d @ A_loops @ d @ (H @ W + b)


def readout_sum(H, segment, n_graphs):
    out = np.zeros((n_graphs, H.shape[1]))
    np.add.at(out, segment, H)
    return out


def readout_blocks(H, segment, n_graphs):
    counts = np.bincount(segment, minlength=n_graphs)
    blocks = np.split(H, np.cumsum(counts)[:-1])
    return np.array([blk.mean(0) if len(blk) else np.zeros(H.shape[1]) for blk in blocks])


def readout_nan_when_empty(H, segment, n_graphs):
    with np.errstate(invalid="ignore"):
        return readout_sum(H, segment, n_graphs) / np.bincount(segment, minlength=n_graphs)[:, None]


def test_5_7_accepts_right_answers_written_differently():
    assert_accepted("5.7", [gcn_loops, readout_loops])
    assert_accepted("5.7", [gcn_loops, readout_right])


@wrong_params({
    "5.7": [([gcn_no_self_loops, readout_loops], "self-loops are missing"),
            ([gcn_degree_from_a, readout_loops], "degrees come from A"),
            ([gcn_row_normalised, readout_loops], "not symmetric"),
            ([gcn_bias_through_a, readout_loops], "bias went through"),
            ([gcn_loops, readout_sum], "sum of each graph's rows"),
            ([gcn_loops, readout_blocks], "consecutive blocks"),
            ([gcn_loops, readout_nan_when_empty], "max(count, 1)")],
})
def test_5_7_rejects_wrong_answers_with_their_hint(exercise_id, funcs, fragment):
    assert_rejected(exercise_id, funcs, fragment)


def test_5_7_gives_credit_per_function():
    with pytest.raises(ExerciseFailed, match="2/3 points"):
        check("5.7", gcn_loops, readout_sum, quiet=True)


# ---- 5.8 kinematic bicycle step ----------------------------------------------------------------------
def bicycle_loop(state, steer, accel, dt, wheelbase, max_steer):
    out = []
    for (x, y, heading, v), delta, a in zip(state, steer, accel):
        delta = min(max(delta, -max_steer), max_steer)
        out.append([x + v * math.cos(heading) * dt, y + v * math.sin(heading) * dt,
                    heading + v / wheelbase * math.tan(delta) * dt, max(0.0, v + a * dt)])
    return np.array(out)


def bicycle_sin(state, steer, accel, dt, wheelbase, max_steer):
    new = bicycle_loop(state, steer, accel, dt, wheelbase, max_steer)
    delta = np.clip(steer, -max_steer, max_steer)
    new[:, 2] = state[:, 2] + state[:, 3] * np.sin(delta) / wheelbase * dt
    return new


def bicycle_heading_first(state, steer, accel, dt, wheelbase, max_steer):
    x, y, heading, v = state.T
    heading = heading + v * np.tan(np.clip(steer, -max_steer, max_steer)) / wheelbase * dt
    return np.column_stack([x + v * np.cos(heading) * dt, y + v * np.sin(heading) * dt, heading,
                            np.maximum(v + accel * dt, 0)])


def bicycle_no_dt_in_speed(state, steer, accel, dt, wheelbase, max_steer):
    new = bicycle_loop(state, steer, accel, dt, wheelbase, max_steer)
    new[:, 3] = np.maximum(state[:, 3] + accel, 0)
    return new


def bicycle_degrees(state, steer, accel, dt, wheelbase, max_steer):
    out = []
    for (x, y, heading, v), delta, a in zip(state, steer, accel):
        delta = min(max(delta, -max_steer), max_steer)
        out.append([x + v * math.cos(math.radians(heading)) * dt, y + v * math.sin(math.radians(heading)) * dt,
                    heading + v / wheelbase * math.tan(math.radians(delta)) * dt, max(0.0, v + a * dt)])
    return np.array(out)


def bicycle_unclipped(state, steer, accel, dt, wheelbase, max_steer):
    return bicycle_loop(state, steer, accel, dt, wheelbase, np.inf)


def bicycle_in_place(state, steer, accel, dt, wheelbase, max_steer):
    state[:] = bicycle_loop(state, steer, accel, dt, wheelbase, max_steer)
    return state


def test_bicycle_step_accepts_a_loop_and_rejects_known_mistakes():
    assert_accepted("5.8", [bicycle_loop])
    assert_a_cache_is_caught("5.8", [bicycle_loop])
    for wrong, fragment in [(bicycle_sin, "sin(δ) where tan(δ) belongs"),
                            (bicycle_heading_first, "along the new heading"),
                            (bicycle_no_dt_in_speed, "multiply the acceleration by dt"),
                            (bicycle_degrees, "radians already"),
                            (bicycle_unclipped, "clip the steering angle"),
                            (bicycle_in_place, "changed its input")]:
        assert_rejected("5.8", [wrong], fragment)


# ---- 5.9 prototypical logits --------------------------------------------------------------------
def proto_loop(support, labels, query, classes):
    out = np.empty((len(query), len(classes)))
    for j, k in enumerate(classes):
        members = [s for s, y in zip(support, labels) if y == k]
        centre = sum(members) / len(members)
        for i, q in enumerate(query):
            out[i, j] = -float(np.dot(q - centre, q - centre))
    return out


def proto_euclidean(support, labels, query, classes):
    return -np.sqrt(-proto_loop(support, labels, query, classes))


def proto_positive(support, labels, query, classes):
    c = np.stack([support[labels == k].mean(0) for k in classes])
    return ((query[:, None] - c[None]) ** 2).sum(-1)


def proto_first_example(support, labels, query, classes):
    c = np.stack([support[np.flatnonzero(labels == k)[0]] for k in classes])
    return -((query[:, None] - c[None]) ** 2).sum(-1)


def proto_sorted_labels(support, labels, query, classes):
    return proto_loop(support, labels, query, sorted(set(labels.tolist())))


def proto_label_as_column(support, labels, query, classes):
    return proto_loop(support, labels, query, range(len(classes)))


def test_prototypical_logits_right_answer_written_differently_passes():
    assert_accepted("5.9", [proto_loop])


@wrong_params({"5.9": [([proto_euclidean], "not squared"),
                       ([proto_positive], "*negative* squared"),
                       ([proto_first_example], "not its first example"),
                       ([proto_sorted_labels], "in the order given"),
                       ([proto_label_as_column], "in the order given")]})
def test_prototypical_logits_wrong_answers_are_rejected_with_their_hint(exercise_id, funcs, fragment):
    assert_rejected(exercise_id, funcs, fragment)


def test_prototypical_logits_cases_catch_a_cache_by_shape():
    assert_a_cache_is_caught("5.9", [proto_loop])
