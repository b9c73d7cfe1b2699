"""Symmetric int8 quantization in PyTorch, the twin of d2lite.scratch.quantize (same formulas, tensors)."""
import torch

QMAX = 127


def quantize_int8(w, axis=None):
    """(q int8, scale float32) with w ≈ scale · q, q in [−127, 127]; one scale per tensor or per index of `axis`."""
    w = w.detach().float()
    if axis is None:
        peak = w.abs().max()
    else:
        others = tuple(d for d in range(w.ndim) if d != axis % w.ndim)
        peak = w.abs().amax(dim=others, keepdim=True)
    scale = torch.where(peak > 0, peak / QMAX, torch.ones_like(peak))
    q = torch.clamp(torch.round(w / scale), -QMAX, QMAX).to(torch.int8)
    return q, scale


def dequantize(q, scale):
    """float32 scale · q."""
    return q.float() * scale
