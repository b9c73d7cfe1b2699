"""Normalization layers in PyTorch, mirroring d2lite.scratch.normalization: LayerNorm from tensor ops.

Parameters are named like torch.nn.LayerNorm's (weight, bias), so state dicts interchange.
"""
import torch
from torch import nn


class LayerNorm(nn.Module):
    """y = (x − mean) / sqrt(var + eps) · weight + bias over the last axis; autograd does the backward."""

    def __init__(self, dim, eps=1e-5, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.ones(dim, **factory))
        self.bias = nn.Parameter(torch.zeros(dim, **factory))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(dim=-1, keepdim=True)
        var = x.var(dim=-1, unbiased=False, keepdim=True)
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias

    def extra_repr(self):
        return f"{self.weight.shape[0]}, eps={self.eps}"
