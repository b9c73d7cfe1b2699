"""Chapter 3's checks reject realistic wrong answers and accept differently written right ones."""
import math
from collections import Counter

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grader_cases import assert_accepted, assert_rejected, wrong_params


def sig(x):
    return 0.5 * (1 + np.tanh(x / 2))


# ---- 3.1 merge_pair ------------------------------------------------------------------------------
def merge_ok(ids, pair, new_id):
    out = []
    for t in ids:
        if out and out[-1] == pair[0] and t == pair[1] and not getattr(out, "_just", False):
            out[-1] = new_id
            out = _Marked(out, True)
        else:
            out = _Marked(out + [t], False)
    return [int(v) for v in out]


class _Marked(list):
    """A list that remembers whether its last element came from a merge (so merges do not chain)."""

    def __init__(self, items, just):
        super().__init__(items)
        self._just = just


def merge_first_only(ids, pair, new_id):
    s = ",".join(map(str, ids)) + ","
    a = f"{pair[0]},{pair[1]},"
    return [int(v) for v in s.replace(a, f"{new_id},", 1).rstrip(",").split(",")]


def merge_short_loop(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids) - 1:
        if ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def merge_every_position(ids, pair, new_id):
    out, skip = [], False
    for i, t in enumerate(ids):
        nxt = ids[i + 1] if i + 1 < len(ids) else None
        if (t, nxt) == tuple(pair):
            out.append(new_id)
            skip = True
        elif skip:
            skip = False
        else:
            out.append(t)
    return out


def merge_floats(ids, pair, new_id):
    return [float(v) for v in merge_ok(ids, pair, new_id)]


# ---- 3.2 rnn_forward -----------------------------------------------------------------------------
def rnn_ok(x, h0, w_ih, w_hh, b_ih, b_hh):
    layer = torch.nn.RNN(x.shape[2], h0.shape[1]).double()   # time-major is torch.nn's default
    with torch.no_grad():
        for name, value in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), (w_ih, w_hh, b_ih, b_hh)):
            getattr(layer, name).copy_(torch.from_numpy(value))
        return layer(torch.from_numpy(x), torch.from_numpy(h0)[None])[0].numpy()


def rnn_from_zeros(x, h0, w_ih, w_hh, b_ih, b_hh):
    return rnn_ok(x, h0 * 0, w_ih, w_hh, b_ih, b_hh)


def rnn_always_h0(x, h0, w_ih, w_hh, b_ih, b_hh):
    return np.stack([np.tanh(xt @ w_ih.T + h0 @ w_hh.T + b_ih + b_hh) for xt in x])


def rnn_wrong_layout(x, h0, w_ih, w_hh, b_ih, b_hh):
    out, h = [], h0
    for t in range(len(x)):
        h = np.tanh(x[t] @ w_ih.T + h @ w_hh + b_ih + b_hh)
        out.append(h)
    return np.array(out)


def rnn_stores_sum(x, h0, w_ih, w_hh, b_ih, b_hh):
    out, h = [], h0
    for t in range(len(x)):
        a = x[t] @ w_ih.T + h @ w_hh.T + b_ih + b_hh
        out.append(a.copy())
        h = np.tanh(a)
    return np.array(out)


# ---- 3.3 rnn_backward ----------------------------------------------------------------------------
def bptt_ok(x, h0, w_ih, w_hh, b_ih, b_hh, dout):
    t = [torch.tensor(a, requires_grad=True) for a in (x, h0, w_ih, w_hh, b_ih)]
    xt, h, wi, wh, b = t
    loss = 0
    for s in range(len(x)):
        h = torch.tanh(xt[s] @ wi.T + b + h @ wh.T + torch.from_numpy(b_hh))
        loss = loss + (h * torch.from_numpy(dout[s])).sum()
    loss.backward()
    return tuple(a.grad.numpy() for a in t)


def _bptt(x, h0, w_ih, w_hh, b_ih, b_hh, dout, carry=True, deriv_of="h", accumulate=True, dh0="flow"):
    hs, pre, h = [h0], [], h0
    for xt in x:
        pre.append(xt @ w_ih.T + h @ w_hh.T + b_ih + b_hh)
        h = np.tanh(pre[-1])
        hs.append(h)
    grads = [np.zeros_like(a) for a in (x, w_ih, w_hh, b_ih)]
    dx, dwi, dwh, db = grads
    carried = np.zeros_like(h0)
    for s in range(len(x) - 1, -1, -1):
        g = dout[s] + (carried if carry else 0)
        da = g * (1 - (hs[s + 1] ** 2 if deriv_of == "h" else pre[s] ** 2))
        dx[s] = da @ w_ih
        if accumulate:
            dwi, dwh, db = dwi + da.T @ x[s], dwh + da.T @ hs[s], db + da.sum(0)
        else:
            dwi, dwh, db = da.T @ x[s], da.T @ hs[s], da.sum(0)
        carried = da @ w_hh
    return dx, (carried if dh0 == "flow" else dout[0]), dwi, dwh, db


# ---- 3.4 clip ------------------------------------------------------------------------------------
def clip_ok(grads, max_norm):
    total = np.sqrt(np.sum(np.concatenate([g.ravel() for g in grads]) ** 2))
    factor = max_norm / total if total > max_norm else 1.0
    return [g * factor for g in grads], float(total)


def clip_each(grads, max_norm):
    total = float(np.linalg.norm(np.concatenate([g.ravel() for g in grads])))
    return [g if np.linalg.norm(g) <= max_norm else g / np.linalg.norm(g) * max_norm for g in grads], total


def clip_entries(grads, max_norm):
    total = float(np.linalg.norm(np.concatenate([g.ravel() for g in grads])))
    return [np.minimum(np.maximum(g, -max_norm), max_norm) for g in grads], total


def clip_unconditional(grads, max_norm):
    total = float(np.linalg.norm(np.concatenate([g.ravel() for g in grads])))
    return [g / total * max_norm for g in grads], total


def clip_norm_sum(grads, max_norm):
    total = float(sum(np.sqrt((g ** 2).sum()) for g in grads))
    return [g * min(1, max_norm / total) for g in grads], total


# ---- 3.5 cifg -------------------------------------------------------------------------------------
def _cifg(x, h, c, w_ih, w_hh, b_ih, b_hh, order="fgo", keep="f", g_act=np.tanh, h_tanh=True):
    a = x @ w_ih.T + h @ w_hh.T + b_ih + b_hh
    hid = h.shape[1]
    parts = {name: a[:, i * hid:(i + 1) * hid] for i, name in enumerate(order)}
    f, g, o = sig(parts["f"]), g_act(parts["g"]), sig(parts["o"])
    c_new = f * c + (1 - f) * g if keep == "f" else (1 - f) * c + f * g
    return o * (np.tanh(c_new) if h_tanh else c_new), c_new


# ---- 3.6 gru (reset before) ----------------------------------------------------------------------
def _gru(x, h, w_ih, w_hh, b_ih, b_hh, variant="before", z_old=True):
    hid = h.shape[1]
    wr, wz, wn = w_ih[:hid], w_ih[hid:2 * hid], w_ih[2 * hid:]
    ur, uz, un = w_hh[:hid], w_hh[hid:2 * hid], w_hh[2 * hid:]
    br, bz, bn = b_ih[:hid] + b_hh[:hid], b_ih[hid:2 * hid] + b_hh[hid:2 * hid], b_hh[2 * hid:]
    r = sig(x @ wr.T + h @ ur.T + br)
    z = sig(x @ wz.T + h @ uz.T + bz)
    if variant == "before":
        inner = (r * h) @ un.T + bn
    elif variant == "after":
        inner = r * (h @ un.T + bn)
    elif variant == "none":
        inner = h @ un.T + bn
    else:
        inner = r * ((r * h) @ un.T + bn)
    n = np.tanh(x @ wn.T + b_ih[2 * hid:] + inner)
    return (1 - z) * n + z * h if z_old else z * n + (1 - z) * h


# ---- 3.7 masked softmax --------------------------------------------------------------------------
def _keep(scores, valid_lens):
    j = np.arange(scores.shape[-1])
    keep = j < (valid_lens[:, None, None] if valid_lens.ndim == 1 else valid_lens[:, :, None])
    return np.broadcast_to(keep, scores.shape)


def msm_ok(scores, valid_lens):
    keep = _keep(scores, valid_lens)
    out = np.zeros_like(scores)
    for idx in np.ndindex(*scores.shape[:-1]):
        row, k = scores[idx], keep[idx]
        if k.any():
            e = np.exp(row[k] - row[k].max())
            out[idx][k] = e / e.sum()
    return out


def msm_zeros(scores, valid_lens):
    s = np.where(_keep(scores, valid_lens), scores, 0)
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def msm_mask_after(scores, valid_lens):
    e = np.exp(scores - scores.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True) * _keep(scores, valid_lens)


def msm_minus_big(scores, valid_lens):
    s = np.where(_keep(scores, valid_lens), scores, -1e9)
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def msm_overflow(scores, valid_lens):
    e = np.exp(scores) * _keep(scores, valid_lens)
    s = e.sum(-1, keepdims=True)
    return np.divide(e, s, out=np.zeros_like(e), where=s > 0)


def msm_per_sequence_only(scores, valid_lens):
    lens = valid_lens if valid_lens.ndim == 1 else valid_lens[:, 0]
    return msm_ok(scores, lens)


# ---- 3.8 attention backward ----------------------------------------------------------------------
def att_ok(q, k, v, mask, dout):
    qt, kt, vt = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    s = (qt @ kt.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    p = torch.softmax(s.masked_fill(~torch.from_numpy(np.broadcast_to(mask, s.shape).copy()), -math.inf), -1)
    (p @ vt).backward(torch.from_numpy(dout))
    return qt.grad.numpy(), kt.grad.numpy(), vt.grad.numpy()


def _att(q, k, v, mask, dout, scale=True, jac="full", use_mask=True, dk_t=True):
    d = q.shape[-1]
    s = q @ np.swapaxes(k, 1, 2) / math.sqrt(d)     # `scale` only decides whether backward remembers it
    if use_mask:
        s = np.where(mask, s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    dp = dout @ np.swapaxes(v, 1, 2)
    ds = p * (dp - (p * dp).sum(-1, keepdims=True)) if jac == "full" else p * (1 - p) * dp
    if scale:
        ds = ds / math.sqrt(d)
    dk = np.swapaxes(ds, 1, 2) @ q if dk_t else ds @ q
    return ds @ k, dk, np.swapaxes(p, 1, 2) @ dout


# ---- 3.9 heads -----------------------------------------------------------------------------------
def split_ok(x, heads):
    n, t, d = x.shape
    return np.stack(np.split(x, heads, axis=-1), axis=1)


def merge_ok_heads(x):
    return np.concatenate([x[:, i] for i in range(x.shape[1])], axis=-1)


def split_reshape_only(x, heads):
    return x.reshape(x.shape[0], heads, x.shape[1], -1)


def split_strided(x, heads):
    return np.stack([x[..., i::heads] for i in range(heads)], axis=1)


def split_swapped_batch(x, heads):
    return np.stack(np.split(x, heads, axis=-1), axis=0)


def merge_reshape_only(x):
    return x.reshape(x.shape[0], x.shape[2], -1)


def merge_strided(x):
    n, h, t, dh = x.shape
    out = np.empty((n, t, h * dh))
    for i in range(h):
        out[..., i::h] = x[:, i]
    return out


def merge_average(x):
    return np.mean(x, axis=1)


# ---- 3.10 shift matrix ---------------------------------------------------------------------------
def _shift(k, dim, base, sign=1, exponent="2i", layout="interleaved"):
    m = np.zeros((dim, dim))
    for i in range(dim // 2):
        w = base ** (-(2 * i if exponent == "2i" else i) / dim)
        c, s = math.cos(k * w), sign * math.sin(k * w)
        a, b = (2 * i, 2 * i + 1) if layout == "interleaved" else (i, dim // 2 + i)
        m[a, a], m[b, b], m[b, a], m[a, b] = c, c, s, -s
    return m


def shift_by_solving(k, dim, base):
    """Differently: solve P[t + k] = P[t] @ M by least squares on many positions."""
    t = np.arange(64)[:, None]
    w = base ** (-np.arange(0, dim, 2) / dim)

    def enc(pos):
        p = np.empty((len(pos), dim))
        p[:, 0::2], p[:, 1::2] = np.sin(pos * w), np.cos(pos * w)
        return p

    m = np.linalg.lstsq(enc(t), enc(t + k), rcond=None)[0]
    return np.where(np.abs(m) < 1e-11, 0.0, m)


# ---- 3.11 bleu -----------------------------------------------------------------------------------
def _precisions(c, r, max_n, clip=True):
    out = []
    for n in range(1, max_n + 1):
        cg = Counter(zip(*[c[i:] for i in range(n)]))
        rg = Counter(zip(*[r[i:] for i in range(n)]))
        out.append(sum((cg & rg).values() if clip else [v for g, v in cg.items() if g in rg]) / sum(cg.values()))
    return out


def _bleu(c, r, max_n, clip=True, bp="short", mean="geo"):
    ps = _precisions(c, r, max_n, clip)
    if mean == "geo":
        core = 0.0 if min(ps) == 0 else math.exp(sum(map(math.log, ps)) / max_n)
    else:
        core = sum(ps) / max_n
    if bp == "short":
        pen = 1.0 if len(c) >= len(r) else math.exp(1 - len(r) / len(c))
    elif bp == "always":
        pen = math.exp(1 - len(r) / len(c))
    else:
        pen = 1.0
    return pen * core


def bleu_ok(candidate, reference, max_n):
    return _bleu(candidate, reference, max_n)


# ---- the tables ----------------------------------------------------------------------------------
def gru_before_ok(x, h, w_ih, w_hh, b_ih, b_hh):
    return _gru(x, h, w_ih, w_hh, b_ih, b_hh)


def cifg_ok(x, h, c, w_ih, w_hh, b_ih, b_hh):
    return _cifg(x, h, c, w_ih, w_hh, b_ih, b_hh)



# ---- 3.12 a character model within a budget (the mechanism itself: test_budget.py) ---------------
class CharMLP(nn.Module):
    """A right answer written differently: its own forward, a reshape and GELU, a wider hidden layer."""

    def __init__(self, hidden=56):
        super().__init__()
        self.hidden, self.out = nn.Linear(8 * 65, hidden), nn.Linear(hidden, 65)

    def forward(self, x):                         # (N, 8, 65): time first, one-hot characters last
        return self.out(F.gelu(self.hidden(x.reshape(x.shape[0], -1))))


def char_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(8 * 65, 48), nn.ReLU(), nn.Linear(48, 65))


class LastCharOnly(nn.Module):
    """Reads only the latest character: a bigram model, which cannot reach the loss."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(65, 64), nn.ReLU(), nn.Linear(64, 65))

    def forward(self, x):
        return self.net(x[:, -1])


def char_too_wide():
    return nn.Sequential(nn.Flatten(), nn.Linear(8 * 65, 128), nn.ReLU(), nn.Linear(128, 65))


def char_softmax():
    return nn.Sequential(nn.Flatten(), nn.Linear(8 * 65, 48), nn.ReLU(), nn.Linear(48, 65), nn.Softmax(dim=1))


def char_hidden_out():
    return nn.Sequential(nn.Flatten(), nn.Linear(8 * 65, 48), nn.ReLU())


RIGHT = {
    "3.1": [(merge_ok,)],
    "3.2": [(rnn_ok,)],
    "3.3": [(bptt_ok,), (_bptt,)],
    "3.4": [(clip_ok,)],
    "3.5": [(cifg_ok,)],
    "3.6": [(gru_before_ok,)],
    "3.7": [(msm_ok,)],
    "3.8": [(att_ok,), (_att,)],
    "3.9": [(split_ok, merge_ok_heads)],
    "3.10": [(shift_by_solving,), (_shift,)],
    "3.11": [(bleu_ok,)],
    "3.12": [(CharMLP,), (char_mlp,)],
}

WRONG = {
    "3.1": [((merge_first_only,), "not only the first"),
            ((merge_short_loop,), "the last token went missing"),
            ((merge_every_position,), "must not overlap"),
            ((merge_floats,), "token ids are integers")],
    "3.2": [((rnn_from_zeros,), "start from h0"),
            ((rnn_always_h0,), "carry the new hidden state"),
            ((rnn_wrong_layout,), "h @ w_hh.T"),
            ((rnn_stores_sum,), "store tanh of the sum")],
    "3.3": [((lambda *a: _bptt(*a, carry=False),), "flow back through time"),
            ((lambda *a: _bptt(*a, deriv_of="a"),), "1 − h²"),
            ((lambda *a: _bptt(*a, accumulate=False),), "add each step's contribution"),
            ((lambda *a: _bptt(*a, dh0="dout"),), "dh0 is what flows out of the first step")],
    "3.4": [((clip_each,), "one factor"),
            ((clip_entries,), "value clipping"),
            ((clip_unconditional,), "scale only when the norm is above"),
            ((clip_norm_sum,), "not the sum of the arrays' norms")],
    "3.5": [((lambda *a: _cifg(*a, keep="1-f"),), "the forget gate keeps the old cell"),
            ((lambda *a: _cifg(*a, order="fog"),), "split the pre-activation into thirds f, g, o"),
            ((lambda *a: _cifg(*a, h_tanh=False),), "o·tanh(c')"),
            ((lambda *a: _cifg(*a, g_act=sig),), "goes through tanh")],
    "3.6": [((lambda *a: _gru(*a, variant="after"),), "PyTorch's variant"),
            ((lambda *a: _gru(*a, z_old=False),), "z weighs the old state"),
            ((lambda *a: _gru(*a, variant="none"),), "never used"),
            ((lambda *a: _gru(*a, variant="twice"),), "apply r once")],
    "3.7": [((msm_zeros,), "a score of 0 still gets weight"),
            ((msm_mask_after,), "mask before normalising"),
            ((msm_minus_big,), "must be all zeros"),
            ((msm_overflow,), "overflow"),
            ((msm_per_sequence_only,), "one length per query")],
    "3.8": [((lambda *a: _att(*a, scale=False),), "1/sqrt(d_k)"),
            ((lambda *a: _att(*a, jac="diag"),), "not diagonal"),
            ((lambda *a: _att(*a, use_mask=False),), "use the mask"),
            ((lambda *a: _att(*a, dk_t=False),), "dk = dsᵀ q")],
    "3.9": [((split_reshape_only, merge_ok_heads), "swap the T and heads axes"),
            ((split_strided, merge_ok_heads), "contiguous block"),
            ((split_swapped_batch, merge_ok_heads), "the batch axis stays first"),
            ((split_ok, merge_reshape_only), "move the heads axis next to d_h"),
            ((split_ok, merge_strided), "side by side"),
            ((split_ok, merge_average), "concatenates")],
    "3.10": [((lambda k, d, b: _shift(k, d, b, sign=-1),), "moves the encoding by −k"),
             ((lambda k, d, b: _shift(k, d, b, exponent="i"),), "base^(−2i/d)"),
             ((lambda k, d, b: _shift(k, d, b, layout="halves"),), "interleaves sin and cos")],
    "3.11": [((lambda c, r, n: _bleu(c, r, n, clip=False),), "clip the counts"),
             ((lambda c, r, n: _bleu(c, r, n, bp="none"),), "brevity penalty is missing"),
             ((lambda c, r, n: _bleu(c, r, n, mean="arith"),), "geometric mean"),
             ((lambda c, r, n: _bleu(c, r, n, bp="always"),), "reward padding")],
    "3.12": [((LastCharOnly,), "mean validation loss"), ((char_too_wide,), "the budget is 40,000"),
             ((char_softmax,), "returns probabilities"), ((char_hidden_out,), "it must give (1, 65)")],
}


@pytest.mark.parametrize("exercise_id,funcs", [(k, f) for k, fs in RIGHT.items() for f in fs])
def test_differently_written_right_answers_pass(exercise_id, funcs):
    assert_accepted(exercise_id, funcs)


@wrong_params(WRONG)
def test_wrong_answers_are_told_why(exercise_id, funcs, fragment):
    assert_rejected(exercise_id, funcs, fragment)


def test_every_exercise_has_three_wrong_answers_and_a_right_one():
    from d2lite.grading import exercises_of
    ids = [e.id for e in exercises_of("03_sequences")]
    assert len(ids) >= 9 and set(ids) == set(WRONG) == set(RIGHT)
    assert all(len(WRONG[i]) >= 3 for i in ids)


def test_every_known_mistake_differs_from_the_reference_somewhere():
    from d2lite.grading import exercises_of
    from d2lite.grading.compare import mismatch
    from d2lite.grading.runner import expected_output, mistake_outputs

    for ex in exercises_of("03_sequences"):
        for part in ex.parts:
            cases = part.cases()
            for m in part.mistakes:
                differs = False
                for case in cases:
                    outs = dict(mistake_outputs(type(part)(**{**vars(part), "mistakes": [m]}), case.args))
                    if m.hint in outs and mismatch(outs[m.hint], expected_output(part, case), part.rtol, part.atol):
                        differs = True
                        break
                assert differs, (ex.id, m.hint)
