"""The graded exercises of chapter 3 (solutions/03_sequences.ipynb).

References come from d2lite (scratch, text, metrics) or are written here where the exercise asks
for a variant the library does not hold (time-major sequences, the coupled-gate LSTM, the
original GRU, the shift matrix of positional encodings); 3.12 is a budget exercise, judged by
d2lite.grading.budget on a validation loss. Each Mistake is a wrong implementation
readers often write, so that a matching output gets a precise hint.
"""
import math
from collections import Counter

import numpy as np

from d2lite import metrics, scratch, text
from d2lite.data.shakespeare import char_windows
from d2lite.grading.budget import Budget, Recipe, budget_part
from d2lite.grading.exercise import Case, Exercise, Mistake, Part, register

CHAPTER = "03_sequences"


def _rng(seed):
    return np.random.default_rng(seed)


def _weights(r, gates, n_in, hidden, scale=0.5):
    """Weights in torch.nn's layout: w_ih (G·H, I), w_hh (G·H, H), b_ih and b_hh (G·H,)."""
    g = gates * hidden
    return (r.normal(size=(g, n_in)) * scale, r.normal(size=(g, hidden)) * scale,
            r.normal(size=g) * scale, r.normal(size=g) * scale)


def _sigmoid(x):
    return scratch.sigmoid(x)


# 3.1 A BPE merge step --------------------------------------------------------------------------------

def _judge_int_list(got, expected):
    if not isinstance(got, (list, tuple)):
        return f"returned a {type(got).__name__}; expected a list of token ids."
    if any(not isinstance(v, (int, np.integer)) or isinstance(v, bool) for v in got):
        bad = next(v for v in got if not isinstance(v, (int, np.integer)) or isinstance(v, bool))
        return f"the list holds {bad!r} of type {type(bad).__name__}; token ids are integers."
    if list(got) != list(expected):
        where = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
        return (f"expected {list(expected)}, got {list(got)} (length {len(expected)} vs {len(got)}; "
                f"first difference at position {where}).")
    return None


def _merge_cases():
    r = _rng(31)
    long = [int(v) for v in r.integers(0, 4, 30)]
    return [
        Case("a pair that occurs twice", ([5, 6, 7, 5, 6], (5, 6), 300)),
        Case("a run of three equal tokens", ([1, 1, 1, 2], (1, 1), 256),
             hint="scan left to right and skip both tokens of a merged pair: [1, 1, 1] becomes [new, 1]."),
        Case("the pair at the very end", ([9, 3, 4], (3, 4), 257)),
        Case("a single token", ([42], (42, 42), 258)),
        Case("a pair that does not occur", ([1, 2, 3], (3, 1), 259)),
        Case("30 random tokens from 4 symbols", (long, (2, 2), 300)),
        Case("the same tokens, another pair", (long, (0, 3), 261)),
    ]


def _merge_first_only(ids, pair, new_id):
    for i in range(len(ids) - 1):
        if (ids[i], ids[i + 1]) == tuple(pair):
            return ids[:i] + [new_id] + ids[i + 2:]
    return list(ids)


def _merge_from_right(ids, pair, new_id):
    return text.merge_pair(ids[::-1], tuple(pair)[::-1], new_id)[::-1]


def _merge_drops_last(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids) - 1:
        if (ids[i], ids[i + 1]) == tuple(pair):
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def _merge_overlapping(ids, pair, new_id):
    out = []
    for i in range(len(ids)):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == tuple(pair):
            out.append(new_id)
        elif not (i > 0 and (ids[i - 1], ids[i]) == tuple(pair)):
            out.append(ids[i])
    return out


EX_3_1 = Exercise("3.1", "A byte-pair merge step", [Part(
    "merge_pair", text.merge_pair, _merge_cases, points=1, judge=_judge_int_list,
    mistakes=[
        Mistake(_merge_first_only, "replace every occurrence of the pair, not only the first."),
        Mistake(_merge_from_right, "scan from the left: in a run like [1, 1, 1] the first two tokens merge."),
        Mistake(_merge_drops_last, "the last token went missing: when the loop stops one short of the end, "
                                   "append the final token if it was not part of a merge."),
        Mistake(_merge_overlapping, "pairs must not overlap: after a merge, skip both of its tokens "
                                    "(advance by 2), so [1, 1, 1] gives [new, 1], not [new, new]."),
    ])])


# 3.2 RNN forward, time-major -------------------------------------------------------------------------

def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh):
    """x (T, N, I) time-major, h0 (N, H) -> every hidden state (T, N, H)."""
    layer = scratch.RNN(x.shape[2], h0.shape[1])
    layer.load_state_dict({"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "bias_ih_l0": b_ih, "bias_hh_l0": b_hh})
    return layer.forward(x.transpose(1, 0, 2), h0)[0].transpose(1, 0, 2)


def _rnn_cases():
    r = _rng(32)

    def case(name, t, n, i, h, hint="", scale=0.5):
        return Case(name, (r.normal(size=(t, n, i)), r.normal(size=(n, h)), *_weights(r, 1, i, h, scale)), hint)

    return [
        case("T=5 steps, N=3, I=4, H=2", 5, 3, 4, 2,
             hint="x is time-major: x[t] is the batch at step t, shape (N, I)."),
        case("a batch of one, T=4", 4, 1, 3, 5),
        case("a sequence of length one", 1, 2, 3, 4),
        case("T=3, N=3, I=3, H=3 (every size equal)", 3, 3, 3, 3,
             hint="with every size equal, transposed weights keep the shape but change the values: "
                  "w_ih is (H, I), so the input part is x[t] @ w_ih.T."),
        case("the same shapes, other values", 3, 3, 3, 3),
        case("large weights (tanh saturates)", 6, 2, 2, 3, scale=3.0),
    ]


def _rnn_batch_first(x, h0, w_ih, w_hh, b_ih, b_hh):
    """Loops over axis 1 as if x were (N, T, I): only runs when T == N."""
    if x.shape[0] != x.shape[1]:
        raise ValueError("shapes do not fit this mistake")
    out, h = [], h0
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
        out.append(h)
    return np.stack(out)


def _rnn_zero_start(x, h0, w_ih, w_hh, b_ih, b_hh):
    return rnn_forward(x, np.zeros_like(h0), w_ih, w_hh, b_ih, b_hh)


def _rnn_no_recurrence(x, h0, w_ih, w_hh, b_ih, b_hh):
    return np.tanh(x @ w_ih.T + b_ih + h0 @ w_hh.T + b_hh)


def _rnn_transposed(x, h0, w_ih, w_hh, b_ih, b_hh):
    return rnn_forward(x, h0, w_ih, w_hh.T, b_ih, b_hh)


def _rnn_pre_activation(x, h0, w_ih, w_hh, b_ih, b_hh):
    out, h = [], h0
    for xt in x:
        a = xt @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        h = np.tanh(a)
        out.append(a)
    return np.stack(out)


EX_3_2 = Exercise("3.2", "An RNN over a time-major sequence", [Part(
    "rnn_forward", rnn_forward, _rnn_cases, points=2,
    mistakes=[
        Mistake(_rnn_zero_start, "the first step must start from h0, not from zeros."),
        Mistake(_rnn_no_recurrence, "every step used h0: carry the new hidden state into the next step (h = ...)."),
        Mistake(_rnn_transposed, "w_hh is applied transposed: the recurrent part is h @ w_hh.T (w_hh is (H, H) "
                                 "in torch.nn's layout, output rows first)."),
        Mistake(_rnn_pre_activation, "store tanh of the sum, the hidden state, not the sum itself."),
        Mistake(_rnn_batch_first, "x is time-major, (T, N, I): loop over axis 0 as time."),
    ])])


# 3.3 Backpropagation through time ----------------------------------------------------------------

def rnn_backward(x, h0, w_ih, w_hh, b_ih, b_hh, dout):
    """Gradients of sum(out * dout) for out = rnn_forward(...): (dx, dh0, dw_ih, dw_hh, db)."""
    layer = scratch.RNN(x.shape[2], h0.shape[1])
    layer.load_state_dict({"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "bias_ih_l0": b_ih, "bias_hh_l0": b_hh})
    layer.zero_grad()
    layer.forward(x.transpose(1, 0, 2), h0)
    dx = layer.backward(dout.transpose(1, 0, 2)).transpose(1, 0, 2)
    return dx, layer.dstate0, layer.weight_ih_l0.grad, layer.weight_hh_l0.grad, layer.bias_ih_l0.grad


def _bptt_cases():
    r = _rng(33)

    def case(name, t, n, i, h, hint=""):
        return Case(name, (r.normal(size=(t, n, i)), r.normal(size=(n, h)), *_weights(r, 1, i, h),
                           r.normal(size=(t, n, h))), hint)

    return [
        case("T=4, N=3, I=2, H=5", 4, 3, 2, 5,
             hint="at step t the hidden state's gradient is dout[t] plus what flows back from step t + 1."),
        case("a batch of one, T=6", 6, 1, 3, 2),
        case("a sequence of length one", 1, 2, 4, 3),
        case("T=3, N=3, I=3, H=3", 3, 3, 3, 3),
        case("the same shapes, other values", 3, 3, 3, 3),
    ]


def _bptt_manual(x, h0, w_ih, w_hh, b_ih, b_hh, dout, carry=True, use_a=False, overwrite=False, dh0_raw=False):
    hs, h = [h0], h0
    pre = []
    for xt in x:
        a = xt @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        pre.append(a)
        h = np.tanh(a)
        hs.append(h)
    dx, dw_ih, dw_hh, db = np.zeros_like(x), np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros_like(b_ih)
    dh_next = np.zeros_like(h0)
    da = None
    for t in reversed(range(len(x))):
        dh = dout[t] + (dh_next if carry else 0)
        deriv = 1 - np.tanh(pre[t]) ** 2 if not use_a else 1 - pre[t] ** 2
        da = dh * deriv
        dx[t] = da @ w_ih
        if overwrite:       # `=` where `+=` belongs: the loop runs backwards, so step 0's part is left
            dw_ih, dw_hh, db = da.T @ x[t], da.T @ hs[t], da.sum(axis=0)
        else:
            dw_ih += da.T @ x[t]
            dw_hh += da.T @ hs[t]
            db += da.sum(axis=0)
        dh_next = da @ w_hh
    dh0 = dh_next if not dh0_raw else dout[0] + 0 * dh_next
    return dx, dh0, dw_ih, dw_hh, db


EX_3_3 = Exercise("3.3", "Backpropagation through time", [Part(
    "rnn_backward", rnn_backward, _bptt_cases, points=3, output_names=("dx", "dh0", "dw_ih", "dw_hh", "db"),
    mistakes=[
        Mistake(lambda *a: _bptt_manual(*a, carry=False),
                "the gradient must flow back through time: add da @ w_hh from step t + 1 to dout[t] before using it."),
        Mistake(lambda *a: _bptt_manual(*a, use_a=True),
                "tanh's derivative is 1 − h², with h = tanh(a) the hidden state, not 1 − a² of the pre-activation."),
        Mistake(lambda *a: _bptt_manual(*a, overwrite=True),
                "the weights are shared by every step: add each step's contribution to dw_ih, dw_hh and db (+=)."),
        Mistake(lambda *a: _bptt_manual(*a, dh0_raw=True),
                "dh0 is what flows out of the first step, da₀ @ w_hh, not dout[0]."),
    ])])


# 3.4 Gradient clipping -------------------------------------------------------------------------------

def clip_by_global_norm(grads, max_norm):
    """(clipped copies, the norm before clipping): one factor min(1, max_norm / norm) for all arrays."""
    params = [scratch.Parameter(np.array(g, dtype=np.float64)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = np.array(g, dtype=np.float64)
    norm = scratch.clip_grad_norm(params, max_norm, eps=0.0)
    return [p.grad for p in params], norm


def _clip_cases():
    r = _rng(34)
    return [
        Case("two arrays above the limit", ([r.normal(size=(3, 2)) * 4, r.normal(size=5)], 1.0)),
        Case("below the limit: unchanged", ([r.normal(size=(2, 2)) * 0.1, r.normal(size=3) * 0.1], 5.0),
             hint="below max_norm the gradients are returned unchanged."),
        Case("one large array and one tiny one", ([r.normal(size=4) * 100, r.normal(size=(2, 3)) * 1e-3], 2.5)),
        Case("a single array", ([r.normal(size=(1, 6)) * 3], 0.5)),
        Case("the same shapes as the first case, other values", ([r.normal(size=(3, 2)) * 4, r.normal(size=5)], 3.0)),
    ]


def _clip_each(grads, max_norm):
    out = [g * min(1.0, max_norm / np.linalg.norm(g)) for g in grads]
    return out, math.sqrt(sum(float(np.sum(g ** 2)) for g in grads))


def _clip_values(grads, max_norm):
    return [np.clip(g, -max_norm, max_norm) for g in grads], math.sqrt(sum(float(np.sum(g ** 2)) for g in grads))


def _clip_always(grads, max_norm):
    norm = math.sqrt(sum(float(np.sum(g ** 2)) for g in grads))
    return [g * max_norm / norm for g in grads], norm


def _clip_sum_of_norms(grads, max_norm):
    norm = sum(float(np.linalg.norm(g)) for g in grads)
    return [g * min(1.0, max_norm / norm) for g in grads], norm


EX_3_4 = Exercise("3.4", "Clipping gradients by their global norm", [Part(
    "clip_by_global_norm", clip_by_global_norm, _clip_cases, points=1, output_names=("clipped", "norm"),
    mistakes=[
        Mistake(_clip_each, "clip all arrays by one factor, from the norm of all of them together: clipping each "
                            "array on its own changes the direction of the update."),
        Mistake(_clip_values, "that clips each entry to ±max_norm (value clipping); scale every array by "
                              "max_norm / global norm instead."),
        Mistake(_clip_always, "scale only when the norm is above max_norm; smaller gradients stay as they are."),
        Mistake(_clip_sum_of_norms, "the global norm is sqrt(sum of every squared entry), not the sum of the "
                                    "arrays' norms."),
    ])])


# 3.5 The coupled-gate LSTM -----------------------------------------------------------------------------

def cifg_lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """Gates (f, g, o) by rows; c' = f·c + (1 − f)·g, h' = o·tanh(c')."""
    f, g, o = np.split(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 3, axis=-1)
    f, g, o = _sigmoid(f), np.tanh(g), _sigmoid(o)
    c_new = f * c + (1 - f) * g
    return o * np.tanh(c_new), c_new


def _cell_cases(gates, seed, with_c):
    r = _rng(seed)

    def case(name, n, i, h, hint="", scale=0.7):
        state = (r.normal(size=(n, h)),) + ((r.normal(size=(n, h)),) if with_c else ())
        return Case(name, (r.normal(size=(n, i)), *state, *_weights(r, gates, i, h, scale)), hint)

    return [
        case("N=4, I=3, H=2", 4, 3, 2),
        case("a batch of one, H=5", 1, 2, 5),
        case("N=3, I=3, H=3", 3, 3, 3),
        case("the same shapes, other values", 3, 3, 3),
        case("large pre-activations", 2, 4, 3, scale=4.0),
    ]


def _cifg_swapped(x, h, c, w_ih, w_hh, b_ih, b_hh):
    f, g, o = np.split(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 3, axis=-1)
    f, g, o = _sigmoid(f), np.tanh(g), _sigmoid(o)
    c_new = (1 - f) * c + f * g
    return o * np.tanh(c_new), c_new


def _cifg_order(x, h, c, w_ih, w_hh, b_ih, b_hh):
    f, o, g = np.split(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 3, axis=-1)
    f, g, o = _sigmoid(f), np.tanh(g), _sigmoid(o)
    c_new = f * c + (1 - f) * g
    return o * np.tanh(c_new), c_new


def _cifg_no_tanh(x, h, c, w_ih, w_hh, b_ih, b_hh):
    _, c_new = cifg_lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh)
    o = np.split(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 3, axis=-1)[2]
    return _sigmoid(o) * c_new, c_new


def _cifg_sigmoid_g(x, h, c, w_ih, w_hh, b_ih, b_hh):
    f, g, o = np.split(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 3, axis=-1)
    f, g, o = _sigmoid(f), _sigmoid(g), _sigmoid(o)
    c_new = f * c + (1 - f) * g
    return o * np.tanh(c_new), c_new


EX_3_5 = Exercise("3.5", "An LSTM with coupled gates", [Part(
    "cifg_lstm_cell", cifg_lstm_cell, lambda: _cell_cases(3, 35, True), points=2, output_names=("h", "c"),
    mistakes=[
        Mistake(_cifg_swapped, "the forget gate keeps the old cell: c' = f·c + (1 − f)·g, not (1 − f)·c + f·g."),
        Mistake(_cifg_order, "the rows of the weights are (f, g, o) in that order: split the pre-activation "
                             "into thirds f, g, o."),
        Mistake(_cifg_no_tanh, "the hidden state is o·tanh(c'), with tanh: without it h is unbounded."),
        Mistake(_cifg_sigmoid_g, "the candidate g goes through tanh (values in (−1, 1)), the gates through sigmoid."),
    ])])


# 3.6 The original GRU --------------------------------------------------------------------------------

def _gru_variant(x, h, w_ih, w_hh, b_ih, b_hh, candidate="before", z_keeps_old=True):
    """The GRU step with the candidate's recurrent term written in one of several ways (right or wrong)."""
    hidden = h.shape[1]
    w_hn, b_hn = w_hh[2 * hidden:], b_hh[2 * hidden:]
    xr, xz, xn = np.split(x @ w_ih.T + b_ih, 3, axis=-1)
    hr, hz, _ = np.split(h @ w_hh.T + b_hh, 3, axis=-1)
    r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
    inner = {"before": lambda: (r * h) @ w_hn.T + b_hn,           # Cho et al. (2014): the exercise
             "none": lambda: h @ w_hn.T + b_hn,                    # the reset gate forgotten
             "twice": lambda: r * ((r * h) @ w_hn.T + b_hn)}[candidate]()
    n = np.tanh(xn + inner)
    return (1 - z) * n + z * h if z_keeps_old else z * n + (1 - z) * h


def gru_cell_reset_before(x, h, w_ih, w_hh, b_ih, b_hh):
    """Cho et al. (2014): n = tanh(x_n + (r·h) @ w_hn.T + b_hn), reset applied before the product."""
    return _gru_variant(x, h, w_ih, w_hh, b_ih, b_hh)


def _gru_after(x, h, w_ih, w_hh, b_ih, b_hh):
    return scratch.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh)


EX_3_6 = Exercise("3.6", "The original GRU", [Part(
    "gru_cell_reset_before", gru_cell_reset_before, lambda: _cell_cases(3, 36, False), points=2,
    mistakes=[
        Mistake(_gru_after, "that is PyTorch's variant, r·(h @ w_hn.T + b_hn): here the reset gate multiplies h "
                            "before the product, (r·h) @ w_hn.T + b_hn."),
        Mistake(lambda *a: _gru_variant(*a, z_keeps_old=False), "z weighs the old state: h' = (1 − z)·n + z·h."),
        Mistake(lambda *a: _gru_variant(*a, candidate="none"),
                "the reset gate r is computed but never used: it multiplies h inside the candidate."),
        Mistake(lambda *a: _gru_variant(*a, candidate="twice"),
                "apply r once, to h, before the product; the result is not multiplied by r again."),
    ])])


# 3.7 Masked softmax with valid lengths -----------------------------------------------------------------

def masked_softmax_lengths(scores, valid_lens):
    """Softmax over the last axis of (N, T_q, T_k) scores, keeping keys j < valid_lens; empty rows are 0."""
    return scratch.masked_softmax(scores, scratch.lengths_mask(valid_lens, scores.shape[-1]))


def _msm_cases():
    r = _rng(37)
    return [
        Case("N=2, T_q=3, T_k=4, one length per sequence", (r.normal(size=(2, 3, 4)), np.array([2, 4]))),
        Case("lengths per query, (N, T_q)", (r.normal(size=(2, 2, 5)), np.array([[1, 3], [5, 2]])),
             hint="valid_lens of shape (N, T_q) gives each query its own length."),
        Case("a batch of one, a single query", (r.normal(size=(1, 1, 3)), np.array([2]))),
        Case("a length of zero: that row attends to nothing",
             (r.normal(size=(2, 2, 3)), np.array([0, 3])),
             hint="a row with no valid key gets weights of zero everywhere (not NaN, not uniform)."),
        Case("large scores (±800), rows at different scales",
             (np.array([[[800.0, 790.0, -800.0], [1e-3, 2e-3, 0.0]]]), np.array([3])),
             hint="subtract each row's maximum (over the kept keys) before exp."),
        Case("the first case's shapes, other values", (r.normal(size=(2, 3, 4)) * 3, np.array([3, 1]))),
    ]


def _msm_zero_fill(scores, valid_lens):
    keep = scratch.lengths_mask(valid_lens, scores.shape[-1])
    return scratch.masked_softmax(np.where(keep, scores, 0.0))


def _msm_after(scores, valid_lens):
    keep = scratch.lengths_mask(valid_lens, scores.shape[-1])
    return scratch.masked_softmax(scores) * keep


def _msm_big_negative(scores, valid_lens):
    keep = scratch.lengths_mask(valid_lens, scores.shape[-1])
    return scratch.masked_softmax(np.where(keep, scores, -1e6))


def _msm_first_length(scores, valid_lens):
    lens = valid_lens if valid_lens.ndim == 1 else valid_lens[:, 0]
    return masked_softmax_lengths(scores, lens)


EX_3_7 = Exercise("3.7", "Masked softmax with valid lengths", [Part(
    "masked_softmax_lengths", masked_softmax_lengths, _msm_cases, points=2, strict_float=True,
    mistakes=[
        Mistake(_msm_big_negative, "with a large negative fill a row with no valid key becomes uniform; "
                                   "such rows must be all zeros."),
        Mistake(_msm_zero_fill, "a score of 0 still gets weight: give masked keys −inf (or drop them) before exp."),
        Mistake(_msm_after, "zeroing weights after the softmax leaves rows that no longer sum to 1: mask before "
                            "normalising."),
        Mistake(_msm_first_length, "valid_lens of shape (N, T_q) holds one length per query: use valid_lens[n, i] "
                                   "for row i."),
    ])])


# 3.8 Attention: backward -------------------------------------------------------------------------------

def attention_backward(q, k, v, mask, dout):
    """(dq, dk, dv) of softmax(q kᵀ / sqrt(d_k), mask) v."""
    att = scratch.DotProductAttention()
    att.forward(q, k, v, mask)
    return att.backward(dout)


def _att_cases():
    r = _rng(38)

    def case(name, n, tq, tk, dk, dv, mask, hint=""):
        return Case(name, (r.normal(size=(n, tq, dk)), r.normal(size=(n, tk, dk)), r.normal(size=(n, tk, dv)),
                           mask, r.normal(size=(n, tq, dv))), hint)

    return [
        case("N=2, T_q=3, T_k=4, d_k=5, d_v=2, no mask", 2, 3, 4, 5, 2, np.ones((3, 4), bool)),
        case("a causal mask, T_q=T_k=4", 2, 4, 4, 3, 3, scratch.causal_mask(4)),
        case("padding: a mask per sequence (N, 1, T_k)", 2, 2, 5, 4, 6, scratch.lengths_mask(np.array([2, 5]), 5)),
        case("a batch of one, one query, one key", 1, 1, 1, 2, 3, np.ones((1, 1), bool)),
        case("d_k=8, d_v=1 (the scale uses d_k)", 1, 2, 3, 8, 1, np.ones((2, 3), bool)),
        case("the first case's shapes, other values", 2, 3, 4, 5, 2, np.array([[1, 1, 0, 0]] * 3, bool)),
    ]


def _att_no_scale(q, k, v, mask, dout):
    dq, dk, dv = attention_backward(q, k, v, mask, dout)
    return dq * math.sqrt(q.shape[-1]), dk * math.sqrt(q.shape[-1]), dv


def _att_diag_softmax(q, k, v, mask, dout):
    att = scratch.DotProductAttention()
    att.forward(q, k, v, mask)
    p = att.weights
    dv = np.swapaxes(p, -1, -2) @ dout
    ds = p * (1 - p) * (dout @ np.swapaxes(v, -1, -2)) / math.sqrt(q.shape[-1])
    return ds @ k, np.swapaxes(ds, -1, -2) @ q, dv


def _att_ignores_mask(q, k, v, mask, dout):
    return attention_backward(q, k, v, None, dout)


def _att_dk_untransposed(q, k, v, mask, dout):
    dq, _, dv = attention_backward(q, k, v, mask, dout)
    att = scratch.DotProductAttention()
    att.forward(q, k, v, mask)
    ds = scratch.softmax_backward(att.weights, dout @ np.swapaxes(v, -1, -2)) / math.sqrt(q.shape[-1])
    return dq, ds @ q, dv


EX_3_8 = Exercise("3.8", "Attention: backward", [Part(
    "attention_backward", attention_backward, _att_cases, points=3, output_names=("dq", "dk", "dv"),
    mistakes=[
        Mistake(_att_no_scale, "the scores were divided by sqrt(d_k) in the forward pass: dq and dk carry the "
                               "same factor 1/sqrt(d_k)."),
        Mistake(_att_diag_softmax, "softmax's Jacobian is not diagonal: ds = p·(dp − Σ_j p_j dp_j), "
                                   "not p·(1 − p)·dp."),
        Mistake(_att_ignores_mask, "use the mask in the forward pass you differentiate: masked keys have weight 0 "
                                   "and receive no gradient."),
        Mistake(_att_dk_untransposed, "scores are q kᵀ, so dk = dsᵀ q (one row per key), not ds q."),
    ])])


# 3.9 Splitting and merging heads ---------------------------------------------------------------------

def _heads_cases():
    r = _rng(39)
    return [
        Case("N=2, T=3, d=8, 4 heads", (r.normal(size=(2, 3, 8)), 4)),
        Case("N=1, T=5, d=6, 2 heads", (r.normal(size=(1, 5, 6)), 2),
             hint="head h holds features h·d_h … (h + 1)·d_h − 1 of every position."),
        Case("T=1, d=6, 3 heads", (r.normal(size=(3, 1, 6)), 3)),
        Case("N=2, T=4, d=4, 4 heads (one feature each)", (r.normal(size=(2, 4, 4)), 4)),
        Case("N=2, T=3, d=8, 2 heads (the first case's shapes, other heads)", (r.normal(size=(2, 3, 8)), 2)),
        Case("N=2, T=3, d=8, 4 heads (the first case again, other values)", (10 * r.normal(size=(2, 3, 8)), 4)),
    ]


def _merge_cases_heads():
    return [Case(c.name, (scratch.split_heads(*c.args),), c.hint) for c in _heads_cases()]


def _split_no_transpose(x, heads):
    n, t, d = x.shape
    return x.reshape(n, heads, t, d // heads)


def _split_interleaved(x, heads):
    n, t, d = x.shape
    return x.reshape(n, t, d // heads, heads).transpose(0, 3, 1, 2)


def _split_time_first(x, heads):
    n, t, d = x.shape
    return x.reshape(n, t, heads, d // heads).transpose(2, 0, 1, 3)


def _merge_no_transpose(x):
    n, h, t, dh = x.shape
    return x.reshape(n, t, h * dh)


def _merge_interleaved(x):
    n, h, t, dh = x.shape
    return x.transpose(0, 2, 3, 1).reshape(n, t, h * dh)


def _merge_mean(x):
    return x.mean(axis=1)


EX_3_9 = Exercise("3.9", "Splitting and merging heads", [
    Part("split_heads", scratch.split_heads, _heads_cases, points=1, mistakes=[
        Mistake(_split_no_transpose, "reshaping straight to (N, heads, T, d_h) mixes positions into heads: reshape "
                                     "to (N, T, heads, d_h) first, then swap the T and heads axes."),
        Mistake(_split_interleaved, "each head takes a contiguous block of d_h features (reshape to (N, T, heads, d_h)), "
                                    "not every heads-th feature."),
        Mistake(_split_time_first, "the batch axis stays first: the result is (N, heads, T, d_h)."),
    ]),
    Part("merge_heads", scratch.merge_heads, _merge_cases_heads, points=1, mistakes=[
        Mistake(_merge_no_transpose, "move the heads axis next to d_h before reshaping: transpose to "
                                     "(N, T, heads, d_h), then reshape to (N, T, d)."),
        Mistake(_merge_interleaved, "put the heads' blocks side by side, head 0's d_h features first: transpose to "
                                    "(N, T, heads, d_h), not (N, T, d_h, heads)."),
        Mistake(_merge_mean, "merging concatenates the heads' outputs side by side (width heads·d_h); "
                             "averaging them throws most of the features away."),
    ]),
])


# 3.10 Moving a positional encoding by k steps --------------------------------------------------------

def shift_matrix(k, dim, base):
    """M (d, d) with P[t + k] = P[t] @ M for the sinusoidal encodings P of d2lite.scratch.positional_encoding."""
    omega = 1.0 / base ** (np.arange(0, dim, 2) / dim)
    m = np.zeros((dim, dim))
    c, s = np.cos(omega * k), np.sin(omega * k)
    m[0::2, 0::2] = np.diag(c)
    m[1::2, 1::2] = np.diag(c)
    m[1::2, 0::2] = np.diag(s)
    m[0::2, 1::2] = np.diag(-s)
    return m


def _shift_cases():
    return [
        Case("k=1, d=4, base 10000", (1, 4, 10000.0)),
        Case("k=3, d=6, base 100", (3, 6, 100.0),
             hint="pair i turns at ω_i = base^(−2i/d): column pair (2i, 2i + 1) is a 2×2 rotation by k·ω_i."),
        Case("k=0: no move", (0, 4, 50.0)),
        Case("k=−2 (backwards), d=8, base 10", (-2, 8, 10.0)),
        Case("k=5, d=2, base 10000", (5, 2, 10000.0)),
        Case("k=3, d=6, base 1000 (the second case with another base)", (3, 6, 1000.0)),
    ]


def _shift_transposed(k, dim, base):
    return shift_matrix(k, dim, base).T


def _shift_freq_i(k, dim, base):
    omega = 1.0 / base ** (np.arange(dim // 2) / dim)
    m = np.zeros((dim, dim))
    c, s = np.cos(omega * k), np.sin(omega * k)
    m[0::2, 0::2], m[1::2, 1::2], m[1::2, 0::2], m[0::2, 1::2] = np.diag(c), np.diag(c), np.diag(s), np.diag(-s)
    return m


def _shift_halves(k, dim, base):
    """The rotation for encodings laid out [all sines | all cosines] instead of interleaved."""
    half = dim // 2
    omega = 1.0 / base ** (np.arange(0, dim, 2) / dim)
    c, s = np.diag(np.cos(omega * k)), np.diag(np.sin(omega * k))
    return np.block([[c, -s], [s, c]]) if half else np.zeros((dim, dim))


EX_3_10 = Exercise("3.10", "Moving a positional encoding by k steps", [Part(
    "shift_matrix", shift_matrix, _shift_cases, points=2, atol=1e-9,
    mistakes=[
        Mistake(_shift_transposed, "your matrix moves the encoding by −k: with row vectors, P[t + k] = P[t] @ M, "
                                   "the sine column of M is (cos kω, sin kω) and the cosine column (−sin kω, cos kω)."),
        Mistake(_shift_freq_i, "the frequency of pair i is base^(−2i/d) (the exponent counts even columns), "
                               "not base^(−i/d)."),
        Mistake(_shift_halves, "the encoding interleaves sin and cos (columns 2i and 2i + 1 form a pair), "
                               "it does not put all sines first."),
    ])])


# 3.11 BLEU of one sentence ----------------------------------------------------------------------------

def sentence_bleu(candidate, reference, max_n):
    """BLEU of one candidate against one reference, no smoothing, in [0, 1]."""
    return metrics.bleu([candidate], [reference], max_n)


def _bleu_cases():
    s = str.split
    return [
        Case("a close translation, max_n=4", (s("the cat sat on the mat today"), s("the cat is on the mat today"), 4)),
        Case("a short candidate (brevity penalty), max_n=2", (s("the cat is"), s("the cat is on the mat"), 2),
             hint="a candidate shorter than the reference is penalised: BP = exp(1 − r/c)."),
        Case("repeated words (clipping), max_n=1", (s("the the the the cat"), s("the cat sat on a mat"), 1),
             hint="an n-gram counts at most as often as it occurs in the reference."),
        Case("a longer candidate (no penalty), max_n=3",
             (s("so the quick brown fox jumps over the lazy dog now"), s("the quick brown fox jumped over the lazy dog"), 3)),
        Case("no 3-gram in common, max_n=3", (s("a b c d"), s("a b x c d"), 3)),
        Case("identical sentences, max_n=4", (s("one two three four five"), s("one two three four five"), 4)),
        Case("the first case with max_n=2", (s("the cat sat on the mat today"), s("the cat is on the mat today"), 2)),
    ]


def _bleu_parts(candidate, reference, max_n, clip=True):
    ps = []
    for n in range(1, max_n + 1):
        cand = Counter(tuple(candidate[i:i + n]) for i in range(len(candidate) - n + 1))
        ref = Counter(tuple(reference[i:i + n]) for i in range(len(reference) - n + 1))
        hits = sum(min(c, ref[g]) if clip else (c if g in ref else 0) for g, c in cand.items())
        ps.append(hits / max(sum(cand.values()), 1))
    return ps


def _bleu_unclipped(candidate, reference, max_n):
    ps = _bleu_parts(candidate, reference, max_n, clip=False)
    if min(ps) == 0:
        return 0.0
    bp = min(1.0, math.exp(1 - len(reference) / len(candidate)))
    return bp * math.exp(sum(math.log(p) for p in ps) / max_n)


def _bleu_no_bp(candidate, reference, max_n):
    ps = _bleu_parts(candidate, reference, max_n)
    return 0.0 if min(ps) == 0 else math.exp(sum(math.log(p) for p in ps) / max_n)


def _bleu_arithmetic(candidate, reference, max_n):
    ps = _bleu_parts(candidate, reference, max_n)
    bp = min(1.0, math.exp(1 - len(reference) / len(candidate)))
    return bp * sum(ps) / max_n


def _bleu_bp_always(candidate, reference, max_n):
    ps = _bleu_parts(candidate, reference, max_n)
    if min(ps) == 0:
        return 0.0
    return math.exp(1 - len(reference) / len(candidate)) * math.exp(sum(math.log(p) for p in ps) / max_n)


EX_3_11 = Exercise("3.11", "BLEU of one sentence", [Part(
    "sentence_bleu", sentence_bleu, _bleu_cases, points=2, rtol=1e-9,
    mistakes=[
        Mistake(_bleu_unclipped, "clip the counts: an n-gram of the candidate counts at most as often as it occurs "
                                 "in the reference (min of the two counts)."),
        Mistake(_bleu_no_bp, "the brevity penalty is missing: multiply by exp(1 − r/c) when the candidate is shorter."),
        Mistake(_bleu_arithmetic, "BLEU is the geometric mean of the precisions, exp(mean of log p_n), "
                                  "not their arithmetic mean."),
        Mistake(_bleu_bp_always, "the brevity penalty is 1 when the candidate is at least as long as the reference: "
                                 "exp(1 − r/c) > 1 would reward padding."),
    ])])



# 3.12 A character model within a budget ----------------------------------------------------------------
# The model is handed over untrained and measured, trained and evaluated by the grader (d2lite.grading.budget):
# the next character of Tiny Shakespeare from the 8 before it, one-hot; the verdict is a validation loss.

BUDGET_3_12 = Budget(
    input_shape=(8, 65), classes=65, max_values=40_000, max_mult_adds=100_000, max_activations=20_000,
    min_accuracy=0.0, max_loss=2.40, recipe=Recipe(epochs=3, lr=0.1, momentum=0.9, batch_size=32),
    data=char_windows)

EX_3_12 = Exercise("3.12", "A character model within a budget", [budget_part("build_char_model", BUDGET_3_12,
                                                                              points=3)])

register(CHAPTER, EX_3_1, EX_3_2, EX_3_3, EX_3_4, EX_3_5, EX_3_6, EX_3_7, EX_3_8, EX_3_9, EX_3_10, EX_3_11, EX_3_12)
