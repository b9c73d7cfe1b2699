"""Attention in PyTorch, mirroring d2lite.scratch.attention; autograd does the backward.

The same shapes and mask convention (boolean, True = may attend, broadcast against the scores
(..., T_q, T_k)). `scaled_dot_product_attention` spells the formula out; MultiHeadAttention
runs torch.nn.functional.scaled_dot_product_attention (a fused, flash-attention kernel on a
GPU) unless the weights are asked for, and a parity test binds the two paths. Projections are
d2lite.torch.Linear (x @ W + b, weight (in, out)) like the scratch layer's; `load_torch_mha`
copies weights from torch.nn.MultiheadAttention, which stores them transposed.
"""
import torch
from torch import nn
from torch.nn import functional as F

from d2lite.scratch.attention import positional_encoding as _positional_encoding_np
from d2lite.torch.layers import Linear

__all__ = ["AdditiveAttention", "MultiHeadAttention", "causal_mask", "lengths_mask", "load_torch_mha",
           "masked_softmax", "merge_heads", "positional_encoding", "scaled_dot_product_attention", "split_heads"]


def causal_mask(t_q, t_k=None, device=None):
    """(T_q, T_k) booleans: query i may see keys 0 … i + T_k − T_q."""
    t_k = t_q if t_k is None else t_k
    return torch.ones(t_q, t_k, dtype=torch.bool, device=device).tril(diagonal=t_k - t_q)


def lengths_mask(valid_lens, t_k):
    """(N, 1, T_k) from lengths per sequence (N,), or (N, T_q, T_k) from lengths per query (N, T_q)."""
    keep = torch.arange(t_k, device=valid_lens.device) < valid_lens[..., None]
    return keep[:, None, :] if valid_lens.dim() == 1 else keep


def masked_softmax(scores, mask=None):
    """Softmax over the last axis among the kept keys; rows with no kept key are zeros."""
    if mask is None:
        return torch.softmax(scores, dim=-1)
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
    return weights.nan_to_num(0.0)   # an all −inf row gives NaN: it attends to nothing


def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q @ kᵀ / sqrt(d_k)) @ v, spelled out; returns (output, weights)."""
    weights = masked_softmax(q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5, mask)
    return weights @ v, weights


def split_heads(x, heads):
    """(N, T, d) -> (N, heads, T, d / heads)."""
    n, t, d = x.shape
    return x.reshape(n, t, heads, d // heads).transpose(1, 2)


def merge_heads(x):
    """(N, heads, T, d_h) -> (N, T, heads·d_h)."""
    n, h, t, dh = x.shape
    return x.transpose(1, 2).reshape(n, t, h * dh)


def positional_encoding(length, dim, base=10000.0, device=None, dtype=torch.float32):
    """The sinusoidal encodings of d2lite.scratch.attention.positional_encoding, as a (T, d) tensor."""
    return torch.as_tensor(_positional_encoding_np(length, dim, base), dtype=dtype, device=device)


class AdditiveAttention(nn.Module):
    """score(q_i, k_j) = tanh(q_i @ w_q + k_j @ w_k) @ w_v, as in d2lite.scratch.attention.AdditiveAttention."""

    def __init__(self, query_size, key_size, hidden, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.w_q = nn.Parameter(torch.empty(query_size, hidden, **factory).uniform_(-1, 1) / query_size ** 0.5)
        self.w_k = nn.Parameter(torch.empty(key_size, hidden, **factory).uniform_(-1, 1) / key_size ** 0.5)
        self.w_v = nn.Parameter(torch.empty(hidden, **factory).uniform_(-1, 1) / hidden ** 0.5)

    def forward(self, q, k, v, mask=None):
        feat = torch.tanh((q @ self.w_q).unsqueeze(-2) + (k @ self.w_k).unsqueeze(-3))
        self.weights = masked_softmax(feat @ self.w_v, mask)
        return self.weights @ v


class MultiHeadAttention(nn.Module):
    """merge(attention(split(q W_q), split(k W_k), split(v W_v))) W_o, with dropout on the weights.

    forward(q, k, v, mask=None, causal=False, need_weights=False). With need_weights the spelled-out
    path runs and keeps `self.weights` (N, heads, T_q, T_k) for plots; otherwise the fused kernel runs.
    `bias=False` leaves the four projections without bias, as GPT-2's descendants such as nanoGPT do.
    """

    def __init__(self, dim, heads, dropout=0.0, bias=True, device=None, dtype=None):
        super().__init__()
        if dim % heads:
            raise ValueError(f"the width {dim} does not split into {heads} heads: choose heads that divide it.")
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (
            Linear(dim, dim, bias=bias, device=device, dtype=dtype) for _ in range(4))
        self.heads, self.dropout = heads, dropout

    def forward(self, q, k, v, mask=None, causal=False, need_weights=False):
        q, k, v = (split_heads(p(x), self.heads) for p, x in ((self.q_proj, q), (self.k_proj, k), (self.v_proj, v)))
        p_drop = self.dropout if self.training else 0.0
        if causal and mask is None and not need_weights and q.shape[2] == k.shape[2]:
            # the fused kernel builds the causal mask itself, and skips the masked blocks
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=p_drop, is_causal=True)
            return self.out_proj(merge_heads(out))
        if causal:
            keep = causal_mask(q.shape[2], k.shape[2], device=q.device)
            mask = keep if mask is None else mask & keep
        if need_weights:
            out, weights = scaled_dot_product_attention(q, k, v, mask)
            self.weights = weights.detach()
            if p_drop:
                out = F.dropout(weights, p_drop) @ v
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p_drop)
        return self.out_proj(merge_heads(out))


@torch.no_grad()
def load_torch_mha(ours, theirs):
    """Copy a torch.nn.MultiheadAttention's weights into ours (they store (out, in) and one stacked in_proj)."""
    wq, wk, wv = theirs.in_proj_weight.chunk(3)
    bq, bk, bv = theirs.in_proj_bias.chunk(3)
    for proj, w, b in ((ours.q_proj, wq, bq), (ours.k_proj, wk, bk), (ours.v_proj, wv, bv),
                       (ours.out_proj, theirs.out_proj.weight, theirs.out_proj.bias)):
        proj.weight.copy_(w.T)
        proj.bias.copy_(b)
    return ours
