"""Symmetric int8 quantization from scratch: w ≈ scale · q with q an integer in [−127, 127].

scale = max|w| / 127, per tensor or per slice along `axis` (per output channel for a weight);
q = round(w / scale). Zero stays exactly zero and the error of each entry is at most scale / 2.
"""
import numpy as np

QMAX = 127


def quantize_int8(w, axis=None):
    """(q int8, scale float32): one scale per tensor, or one per index of `axis` (shaped to broadcast)."""
    w = np.asarray(w, dtype=np.float32)
    if axis is None:
        peak = np.abs(w).max()
    else:
        others = tuple(d for d in range(w.ndim) if d != axis % w.ndim)
        peak = np.abs(w).max(axis=others, keepdims=True)
    scale = np.where(peak > 0, peak / QMAX, 1.0).astype(np.float32)   # an all-zero slice keeps scale 1
    q = np.clip(np.rint(w / scale), -QMAX, QMAX).astype(np.int8)
    return q, scale


def dequantize(q, scale):
    """float32 scale · q."""
    return q.astype(np.float32) * scale


def int8_linear(x, q_weight, w_scale, bias=None):
    """x @ W + b with W given as int8 (in, out) and per-output scales: x is quantized per row,
    the product accumulates in int32 (as int8 hardware does), and one multiply rescales it."""
    q_x, x_scale = quantize_int8(x, axis=0)
    acc = q_x.astype(np.int32) @ q_weight.astype(np.int32)
    out = acc.astype(np.float32) * x_scale * np.reshape(w_scale, (1, -1))
    return out if bias is None else out + bias
