"""Inverted dropout in PyTorch, mirroring d2lite.scratch.dropout (same mask rule, autograd does the backward).

The mask is drawn with torch.rand on the input's device, so it differs from the
NumPy one; torch.nn.Dropout uses the same scaling.
"""
import torch
from torch import nn


def dropout(x, p, training=True, generator=None):
    """x · mask / (1 − p) with mask = rand ≥ p while training; x itself otherwise."""
    if not 0 <= p < 1:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    if not training or p == 0:
        return x
    keep = torch.rand(x.shape, device=x.device, generator=generator) >= p
    return x * keep / (1.0 - p)


class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x):
        return dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"
