"""Attention from scratch: masks, masked softmax, additive and scaled dot-product attention,
multi-head attention and sinusoidal positional encodings, each with its backward.

Shapes: queries (..., T_q, d_k), keys (..., T_k, d_k), values (..., T_k, d_v), where "..." is the
batch axis and, for multi-head attention, the head axis after it. A mask is boolean and broadcasts
against the scores (..., T_q, T_k): True marks a key that a query may attend to. A query whose
keys are all masked gets weights of zero (and so an output of zero), not NaN.
"""
import math

import numpy as np

from d2lite.scratch.layers import Linear, Module, Parameter


def causal_mask(t_q, t_k=None):
    """(T_q, T_k) booleans: query i may see keys 0 … i + T_k − T_q (the last T_q positions of T_k)."""
    t_k = t_q if t_k is None else t_k
    return np.tril(np.ones((t_q, t_k), dtype=bool), k=t_k - t_q)


def lengths_mask(valid_lens, t_k):
    """Booleans of shape valid_lens.shape + (1, T_k) for lengths per sequence (N,), or
    valid_lens.shape + (T_k,) for lengths per query (N, T_q): key j is kept when j < length.

    Either way the result broadcasts against scores (N, T_q, T_k)."""
    valid_lens = np.asarray(valid_lens)
    keep = np.arange(t_k) < valid_lens[..., None]
    return keep[:, None, :] if valid_lens.ndim == 1 else keep


def masked_softmax(scores, mask=None):
    """Softmax over the last axis, over the keys the mask keeps; masked keys get weight 0.

    Masked scores become −inf before the row maximum is subtracted, so exp never overflows
    and a masked key contributes exactly nothing. Rows with nothing kept are all zeros.
    """
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = scores.max(axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(scores - top)
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def softmax_backward(p, dp):
    """For p = softmax(s) over the last axis: ds = p · (dp − Σ_j dp_j p_j)."""
    return p * (dp - (dp * p).sum(axis=-1, keepdims=True))


def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q @ kᵀ / sqrt(d_k)) @ v with `mask`; returns (output (..., T_q, d_v), weights (..., T_q, T_k))."""
    scores = q @ np.swapaxes(k, -1, -2) * (1.0 / math.sqrt(q.shape[-1]))   # a Python float keeps float32 float32
    weights = masked_softmax(scores, mask)
    return weights @ v, weights


def split_heads(x, heads):
    """(N, T, d) -> (N, heads, T, d / heads): head h gets features h·d/heads … (h + 1)·d/heads − 1."""
    n, t, d = x.shape
    if d % heads:
        raise ValueError(f"the width {d} does not split into {heads} heads: choose heads that divide it.")
    return x.reshape(n, t, heads, d // heads).transpose(0, 2, 1, 3)


def merge_heads(x):
    """(N, heads, T, d_h) -> (N, T, heads·d_h), the inverse of `split_heads`."""
    n, h, t, dh = x.shape
    return x.transpose(0, 2, 1, 3).reshape(n, t, h * dh)


def positional_encoding(length, dim, base=10000.0):
    """Sinusoidal encodings (T, d): P[t, 2i] = sin(t / base^(2i/d)) and P[t, 2i + 1] = cos(t / base^(2i/d)).

    Each pair of columns turns at its own frequency, from one radian per step down to 1/base;
    for an odd d the last column is a sine.
    """
    t = np.arange(length)[:, None]
    angles = t / base ** (np.arange(0, dim, 2) / dim)     # (T, ceil(d/2))
    out = np.empty((length, dim))
    out[:, 0::2] = np.sin(angles)
    out[:, 1::2] = np.cos(angles[:, :dim // 2])
    return out


class DotProductAttention(Module):
    """Scaled dot-product attention as a module: forward(q, k, v, mask) and backward(dout) -> (dq, dk, dv)."""

    def forward(self, q, k, v, mask=None):
        self.q, self.k, self.v = q, k, v
        self.scale = 1.0 / math.sqrt(q.shape[-1])
        out, self.weights = scaled_dot_product_attention(q, k, v, mask)
        return out

    def backward(self, dout):
        """out = P v: dv = Pᵀ dout, dP = dout vᵀ; then ds by the softmax rule; s = q kᵀ·scale gives dq, dk."""
        p = self.weights
        dv = np.swapaxes(p, -1, -2) @ dout
        ds = softmax_backward(p, dout @ np.swapaxes(self.v, -1, -2)) * self.scale
        return ds @ self.k, np.swapaxes(ds, -1, -2) @ self.q, dv


class AdditiveAttention(Module):
    """Bahdanau's attention: score(q_i, k_j) = tanh(q_i @ w_q + k_j @ w_k) @ w_v, then the masked softmax.

    w_q (d_q, hidden), w_k (d_k, hidden), w_v (hidden,): queries and keys may have different widths.
    """

    def __init__(self, query_size, key_size, hidden, rng=None, dtype=np.float64):
        rng = np.random.default_rng() if rng is None else rng

        def init(*shape):
            return Parameter(rng.uniform(-1, 1, shape).astype(dtype) / np.sqrt(shape[0]))

        self.w_q, self.w_k, self.w_v = init(query_size, hidden), init(key_size, hidden), init(hidden)

    def forward(self, q, k, v, mask=None):
        self.q, self.k, self.v = q, k, v
        self.feat = np.tanh((q @ self.w_q.data)[..., :, None, :] + (k @ self.w_k.data)[..., None, :, :])
        self.weights = masked_softmax(self.feat @ self.w_v.data, mask)   # (..., T_q, T_k)
        return self.weights @ v

    def backward(self, dout):
        """dv = Pᵀ dout; ds by the softmax rule; dfeat = ds ⊗ w_v; through tanh, then the two projections."""
        p = self.weights
        dv = np.swapaxes(p, -1, -2) @ dout
        ds = softmax_backward(p, dout @ np.swapaxes(self.v, -1, -2))
        self.w_v.grad += (ds[..., None] * self.feat).reshape(-1, self.feat.shape[-1]).sum(axis=0)
        da = ds[..., None] * self.w_v.data * (1 - self.feat ** 2)         # (..., T_q, T_k, hidden)
        dqw, dkw = da.sum(axis=-2), da.sum(axis=-3)
        self.w_q.grad += self.q.reshape(-1, self.q.shape[-1]).T @ dqw.reshape(-1, dqw.shape[-1])
        self.w_k.grad += self.k.reshape(-1, self.k.shape[-1]).T @ dkw.reshape(-1, dkw.shape[-1])
        return dqw @ self.w_q.data.T, dkw @ self.w_k.data.T, dv


class MultiHeadAttention(Module):
    """Project queries, keys and values (x @ W + b, width d), split into heads, attend in each head,
    merge, project again: MultiHead(q, k, v) = merge(attention(split(q W_q), split(k W_k), split(v W_v))) W_o.

    forward(q, k, v, mask) takes (N, T_q, d), (N, T_k, d), (N, T_k, d) and a mask that broadcasts against
    (N, heads, T_q, T_k); backward(dout) returns (dq, dk, dv) (for self-attention, add the three).
    """

    def __init__(self, dim, heads, rng=None, dtype=np.float64):
        if dim % heads:
            raise ValueError(f"the width {dim} does not split into {heads} heads: choose heads that divide it.")
        rng = np.random.default_rng() if rng is None else rng
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (
            Linear(dim, dim, rng=rng, dtype=dtype) for _ in range(4))
        self.attention = DotProductAttention()
        self.heads = heads

    @staticmethod
    def _apply(linear, x):      # Linear works on rows: flatten (N, T, d) to (N·T, d) and back
        return linear.forward(x.reshape(-1, x.shape[-1])).reshape(*x.shape[:-1], -1)

    @staticmethod
    def _back(linear, dout):
        return linear.backward(dout.reshape(-1, dout.shape[-1])).reshape(dout.shape)

    def forward(self, q, k, v, mask=None):
        h = self.heads
        q, k, v = (split_heads(self._apply(p, x), h) for p, x in ((self.q_proj, q), (self.k_proj, k), (self.v_proj, v)))
        self.tq = q.shape[2]
        return self._apply(self.out_proj, merge_heads(self.attention.forward(q, k, v, mask)))

    @property
    def weights(self):
        """The last forward's attention weights, (N, heads, T_q, T_k)."""
        return self.attention.weights

    def backward(self, dout):
        dq, dk, dv = self.attention.backward(split_heads(self._back(self.out_proj, dout), self.heads))
        return (self._back(self.q_proj, merge_heads(dq)), self._back(self.k_proj, merge_heads(dk)),
                self._back(self.v_proj, merge_heads(dv)))
