"""Layers in PyTorch, mirroring d2lite.scratch.layers; autograd does the backward.

Linear keeps weight as (in_features, out_features), like the scratch version,
so the same arrays can be loaded into both. (torch.nn.Linear stores the transpose.)
"""
import math

import torch
from torch import nn

from d2lite.runtime import device as default_device


class Linear(nn.Module):
    """y = x @ weight + bias, initialised uniform in ±1/sqrt(in_features)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)
        kw = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(in_features, out_features, **kw).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_features, **kw).uniform_(-bound, bound)) if bias else None

    def forward(self, x):
        out = x @ self.weight
        return out + self.bias if self.bias is not None else out


Sequential = nn.Sequential  # PyTorch's container does exactly what the scratch one does
Flatten = nn.Flatten  # (N, ...) -> (N, -1), like the scratch Flatten


def mlp(sizes, activation=None, device=None):
    """Linear layers of the given sizes with an activation between them, on `device`
    (default: d2lite.device())."""
    from d2lite.torch.activations import ReLU

    activation = ReLU if activation is None else activation
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(activation())
    return Sequential(*layers).to(default_device() if device is None else device)
