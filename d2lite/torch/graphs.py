"""Graph convolution in PyTorch: the twin of d2lite.scratch.graphs, and a small GCN for molecules.

The same recipe and names as the scratch version: Â = D^-1/2 (A + I) D^-1/2 kept as an edge list,
Â h as a segment sum over edges (`index_add_`), then `@ weight + bias`. Autograd does the
backward; tensors live on `device`. `GCN` stacks the layers, averages each graph's nodes and
maps that vector to one number per graph.
"""
from typing import NamedTuple

import torch
from torch import nn


def segment_sum(values, segment, n_segments):
    """out[g] = Σ_{i: segment[i] = g} values[i]."""
    out = values.new_zeros((n_segments,) + tuple(values.shape[1:]))
    return out.index_add_(0, segment, values)


class Adjacency(NamedTuple):
    """Â as an edge list: Â[target, source] = weight; `n_nodes` rows and columns."""
    source: torch.Tensor
    target: torch.Tensor
    weight: torch.Tensor
    n_nodes: int


def normalized_adjacency(edges, n_nodes, device=None, dtype=torch.float32):
    """Â = D^-1/2 (A + I) D^-1/2 from directed `edges` (E, 2), with a self-loop on every node."""
    edges = torch.as_tensor(edges, dtype=torch.long, device=device).reshape(-1, 2)
    loops = torch.arange(n_nodes, device=edges.device)
    source, target = torch.cat([edges[:, 0], loops]), torch.cat([edges[:, 1], loops])
    degree = torch.bincount(target, minlength=n_nodes).to(dtype)
    return Adjacency(source, target, (degree[source] * degree[target]).rsqrt(), n_nodes)


def propagate(adjacency, h):
    """Â h: each node gathers its neighbours' rows (and its own), weighted by Â."""
    return segment_sum(adjacency.weight[:, None] * h[adjacency.source], adjacency.target, adjacency.n_nodes)


class GCNLayer(nn.Module):
    """y = Â h @ weight + bias, weight of shape (in_features, out_features), uniform in ±1/sqrt(in_features)."""

    def __init__(self, in_features, out_features, device=None, dtype=None):
        super().__init__()
        bound = 1.0 / in_features ** 0.5
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(in_features, out_features, **factory).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_features, **factory).uniform_(-bound, bound))

    def forward(self, h, adjacency):
        return propagate(adjacency, h) @ self.weight + self.bias


def mean_readout(h, segment, n_graphs):
    """One row per graph: the mean of its nodes' rows."""
    counts = torch.bincount(segment, minlength=n_graphs).clamp(min=1).to(h.dtype)
    return segment_sum(h, segment, n_graphs) / counts[:, None]


class GCN(nn.Module):
    """GCN layers with ReLU, a read-out per graph, then an MLP head to `out_features` numbers.

    `hidden` lists the GCN widths; `head` the widths of the MLP after the read-out; `readout` is
    "mean" (the graph's average node) or "sum" (which also tells the head how big the graph is).
    """

    def __init__(self, in_features, hidden=(64, 64), head=(64,), out_features=1, dropout=0.0, readout="mean",
                 device=None, dtype=None):
        super().__init__()
        if readout not in ("mean", "sum"):
            raise ValueError(f"readout must be 'mean' or 'sum', not {readout!r}")
        self.readout = mean_readout if readout == "mean" else segment_sum
        factory = {"device": device, "dtype": dtype}
        widths = (in_features, *hidden)
        self.convs = nn.ModuleList(GCNLayer(a, b, **factory) for a, b in zip(widths, widths[1:]))
        layers, width = [], widths[-1]
        for h in head:
            layers += [nn.Linear(width, h, **factory), nn.ReLU(), nn.Dropout(dropout)]
            width = h
        self.head = nn.Sequential(*layers, nn.Linear(width, out_features, **factory))

    def forward(self, x, adjacency, segment, n_graphs):
        for conv in self.convs:
            x = torch.relu(conv(x, adjacency))
        return self.head(self.readout(x, segment, n_graphs))
